from __future__ import annotations

import pytest

from acr_console.access.permissions import EffectivePermissions, action_matches, match_confidence
from acr_console.models import Confidence

from .factories import REPO_READ, REPO_WRITE, custom_role

PULL = "Microsoft.ContainerRegistry/registries/pull/read"
PUSH = "Microsoft.ContainerRegistry/registries/push/write"
ROLE_WRITE = "Microsoft.Authorization/roleAssignments/write"


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("*", PULL, True),
        ("*/read", PULL, True),
        ("*/read", PUSH, False),
        ("*/READ", PULL.upper(), True),
        ("microsoft.containerregistry/registries/pull/read", PULL, True),
        ("Microsoft.ContainerRegistry/*", PUSH, True),
        ("Microsoft.ContainerRegistry/registries/*/read", PULL, True),
        ("Microsoft.ContainerRegistry/registries/*/read", PUSH, False),
        ("Microsoft.Authorization/*/Write", ROLE_WRITE, True),
        ("Microsoft.Authorization/*", ROLE_WRITE, True),
        ("Microsoft.Authorization/*/read", ROLE_WRITE, False),
        ("Microsoft.ContainerRegistry/registries/pull", PULL, False),  # no implicit prefix match
        ("Microsoft.ContainerRegistry/registries/pull/read/x", PULL, False),
        ("*pull*", PULL, True),
        ("Microsoft.ContainerRegistry/registries/p?ll/read", PULL, False),  # ? and [] are literal
        ("Microsoft.ContainerRegistry/registries/[p]ull/read", PULL, False),
        ("Microsoft.ContainerRegistry/registries/pull.read", PULL, False),  # . is literal
        ("", PULL, False),
        ("**", PULL, True),
    ],
)
def test_action_matches(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize(
    ("allowed", "denied", "action", "custom", "expected"),
    [
        ((PULL,), (), PULL, True, Confidence.DIRECT),
        ((PULL.lower(),), (), PULL, True, Confidence.DIRECT),
        (("*",), (), PULL, False, Confidence.DIRECT),  # Owner: documented
        (("*/read",), (), PULL, False, Confidence.DIRECT),  # Reader: documented
        (("*",), (), PULL, True, Confidence.POSSIBLE),
        (("Microsoft.ContainerRegistry/registries/*/read",), (), PULL, True, Confidence.POSSIBLE),
        (("Microsoft.ContainerRegistry/*", PULL), (), PULL, True, Confidence.DIRECT),  # literal wins
        (("Microsoft.Authorization/*",), (), ROLE_WRITE, True, Confidence.DIRECT),  # ARM, not ACR
        (("*",), (PULL,), PULL, False, None),
        (("*",), ("*/read",), PULL, False, None),
        ((PULL,), ("microsoft.containerregistry/*",), PULL, True, None),
        ((PUSH,), (), PULL, False, None),
        ((), (), PULL, False, None),
        ((), (PULL,), PULL, False, None),
    ],
)
def test_match_confidence(
    allowed: tuple[str, ...], denied: tuple[str, ...], action: str, custom: bool, expected: Confidence | None
) -> None:
    assert match_confidence(allowed, denied, action, custom=custom) is expected


def test_actions_never_grant_data_actions() -> None:
    perms = EffectivePermissions.of(custom_role("c1", actions=("*", REPO_READ)))
    assert perms.action(REPO_READ) is Confidence.DIRECT
    assert perms.data_action(REPO_READ) is None


def test_data_actions_never_grant_actions() -> None:
    perms = EffectivePermissions.of(custom_role("c1", data_actions=("*", PULL)))
    assert perms.action(PULL) is None
    assert perms.data_action(PULL) is Confidence.DIRECT


@pytest.mark.parametrize(
    ("data_actions", "not_data_actions", "action", "expected"),
    [
        ((REPO_READ, REPO_WRITE), (REPO_WRITE,), REPO_WRITE, None),
        ((REPO_READ, REPO_WRITE), (REPO_WRITE,), REPO_READ, Confidence.DIRECT),
        (("Microsoft.ContainerRegistry/registries/repositories/*",), (), REPO_WRITE, Confidence.POSSIBLE),
        (
            ("Microsoft.ContainerRegistry/registries/repositories/*",),
            ("Microsoft.ContainerRegistry/registries/repositories/content/write",),
            REPO_WRITE,
            None,
        ),
        (
            ("Microsoft.ContainerRegistry/registries/repositories/*",),
            ("*/write",),
            REPO_READ,
            Confidence.POSSIBLE,
        ),
    ],
)
def test_not_data_actions_subtract(
    data_actions: tuple[str, ...], not_data_actions: tuple[str, ...], action: str, expected: Confidence | None
) -> None:
    perms = EffectivePermissions.of(custom_role("c2", data_actions=data_actions, not_data_actions=not_data_actions))
    assert perms.data_action(action) is expected


def test_not_actions_only_subtract_from_own_role() -> None:
    # notActions is not a deny rule: another role's grant is untouched.
    restricted = EffectivePermissions.of(custom_role("a", actions=("*",), not_actions=(PUSH,), custom=False))
    other = EffectivePermissions.of(custom_role("b", actions=(PUSH,)))
    assert restricted.action(PUSH) is None
    assert other.action(PUSH) is Confidence.DIRECT
