"""Capabilities of every built-in role in both modes; the expected tables come from the facts file
(docs/reference/acr-access.md §1, §2.3, §2.4), written out by hand rather than computed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import acr_console.access.capabilities as capabilities_module
from acr_console.access.capabilities import role_capabilities
from acr_console.models import Confidence, Latent, Right, RoleAssignmentMode, RoleDefinition
from acr_console.roles import builtin_by_name, builtin_roles

from .builtin_tables import (
    CAT,
    DELETE,
    GRANT,
    IMPORT,
    LATENT,
    MINT,
    PULL,
    PUSH,
    QR,
    QW,
    RIGHTS,
    SIGN,
    TASKS,
    latent_column,
)
from .factories import ABAC, CATALOG_READ, LEGACY, META_READ, REPO_DELETE, REPO_READ, REPO_WRITE, custom_role


def builtin_definition(name: str) -> RoleDefinition:
    role = builtin_by_name(name)
    assert role is not None
    return RoleDefinition(
        id=f"/providers/Microsoft.Authorization/roleDefinitions/{role.guid}",
        name=role.guid,
        role_name=role.name,
        custom=False,
        actions=role.actions,
        not_actions=role.not_actions,
        data_actions=role.data_actions,
        not_data_actions=role.not_data_actions,
    )


def test_table_covers_all_24_builtin_roles() -> None:
    assert len(builtin_roles()) == 24
    assert set(RIGHTS) == {r.name for r in builtin_roles()}


@pytest.mark.parametrize("mode", [LEGACY, ABAC], ids=["legacy", "abac"])
@pytest.mark.parametrize("admin", [False, True], ids=["admin-off", "admin-on"])
@pytest.mark.parametrize("role", sorted(RIGHTS))
def test_builtin_role(role: str, mode: RoleAssignmentMode, admin: bool) -> None:
    caps = role_capabilities(builtin_definition(role), mode, admin_user_enabled=admin)
    legacy_rights, abac_rights = RIGHTS[role]
    expected_latent = latent_column(LATENT, role, mode is LEGACY, admin)
    assert set(caps.rights) == (legacy_rights if mode is LEGACY else abac_rights)
    assert set(caps.latent) == expected_latent
    # Built-in roles are documented, so wildcard matches are not downgraded.
    items: list[Right | Latent] = [*caps.rights, *caps.latent]
    assert all(caps.confidence(x) is Confidence.DIRECT for x in items)


@pytest.mark.parametrize(
    ("actions", "data_actions", "mode", "expected"),
    [
        (("*",), (), LEGACY, {PULL: Confidence.POSSIBLE, PUSH: Confidence.POSSIBLE}),
        (("Microsoft.ContainerRegistry/registries/*/read",), (), LEGACY, {PULL: Confidence.POSSIBLE}),
        (("*/read",), (), LEGACY, {PULL: Confidence.POSSIBLE}),
        (
            ("Microsoft.ContainerRegistry/registries/*", "Microsoft.ContainerRegistry/registries/pull/read"),
            (),
            LEGACY,
            {PULL: Confidence.DIRECT, PUSH: Confidence.POSSIBLE},
        ),
        (("microsoft.containerregistry/registries/PUSH/WRITE",), (), LEGACY, {PUSH: Confidence.DIRECT}),
        # Actions wildcards never grant data actions.
        (("*",), (), ABAC, {}),
        (
            (),
            ("Microsoft.ContainerRegistry/registries/repositories/*",),
            ABAC,
            {PULL: Confidence.POSSIBLE, PUSH: Confidence.POSSIBLE, DELETE: Confidence.POSSIBLE},
        ),
        ((), (REPO_WRITE.upper(),), ABAC, {PUSH: Confidence.DIRECT}),
        ((), ("*",), ABAC, {PULL: Confidence.POSSIBLE, PUSH: Confidence.POSSIBLE, CAT: Confidence.POSSIBLE}),
    ],
)
def test_custom_role_wildcards(
    actions: tuple[str, ...],
    data_actions: tuple[str, ...],
    mode: RoleAssignmentMode,
    expected: dict[Right, Confidence],
) -> None:
    caps = role_capabilities(custom_role("c0ffee", actions=actions, data_actions=data_actions), mode)
    for right, confidence in expected.items():
        assert caps.confidence(right) is confidence, right
    assert set(expected) <= set(caps.rights)
    if not expected:
        assert not caps.rights


def test_custom_wildcard_on_authorization_is_direct() -> None:
    caps = role_capabilities(custom_role("c1", actions=("Microsoft.Authorization/*",)), LEGACY)
    assert caps.confidence(GRANT) is Confidence.DIRECT


def test_custom_wildcard_on_acr_latent_is_possible() -> None:
    caps = role_capabilities(custom_role("c1", actions=("Microsoft.ContainerRegistry/*",)), ABAC)
    assert caps.confidence(IMPORT) is Confidence.POSSIBLE
    assert caps.confidence(MINT) is Confidence.POSSIBLE


def test_mint_tokens_needs_both_actions() -> None:
    tokens = "Microsoft.ContainerRegistry/registries/tokens/write"
    generate = "Microsoft.ContainerRegistry/registries/generateCredentials/action"
    assert MINT not in role_capabilities(custom_role("c", actions=(tokens,)), LEGACY).latent
    assert MINT not in role_capabilities(custom_role("c", actions=(generate,)), LEGACY).latent
    both = role_capabilities(custom_role("c", actions=(tokens, generate)), LEGACY)
    assert both.confidence(MINT) is Confidence.DIRECT
    mixed = role_capabilities(custom_role("c", actions=(tokens, "Microsoft.ContainerRegistry/*/action")), LEGACY)
    assert mixed.confidence(MINT) is Confidence.POSSIBLE


@pytest.mark.parametrize(
    "action",
    [
        "Microsoft.ContainerRegistry/registries/tasks/write",
        "Microsoft.ContainerRegistry/registries/scheduleRun/action",
    ],
)
def test_run_tasks_either_action_legacy_only(action: str) -> None:
    role = custom_role("c", actions=(action,))
    assert role_capabilities(role, LEGACY).confidence(TASKS) is Confidence.DIRECT
    assert TASKS not in role_capabilities(role, ABAC).latent


@pytest.mark.parametrize(
    ("actions", "not_actions", "mode", "expected"),
    [
        (
            ("*",),
            ("Microsoft.ContainerRegistry/registries/push/write",),
            LEGACY,
            {PULL, DELETE, SIGN, QR, QW},
        ),
        (("*",), ("*/write",), LEGACY, {PULL, DELETE, QR}),
        (("*",), ("Microsoft.ContainerRegistry/*",), LEGACY, set()),
        (
            (
                "Microsoft.ContainerRegistry/registries/pull/read",
                "Microsoft.ContainerRegistry/registries/push/write",
            ),
            ("MICROSOFT.CONTAINERREGISTRY/REGISTRIES/PUSH/WRITE",),
            LEGACY,
            {PULL},
        ),
    ],
)
def test_not_actions_subtract(
    actions: tuple[str, ...], not_actions: tuple[str, ...], mode: RoleAssignmentMode, expected: set[Right]
) -> None:
    assert set(role_capabilities(custom_role("c", actions=actions, not_actions=not_actions), mode).rights) == expected


def test_not_actions_subtract_latent() -> None:
    caps = role_capabilities(custom_role("c", actions=("*",), not_actions=("Microsoft.Authorization/*/Write",)), LEGACY)
    assert GRANT not in caps.latent


@pytest.mark.parametrize(
    ("data_actions", "not_data_actions", "expected"),
    [
        ((REPO_READ, META_READ, REPO_WRITE, REPO_DELETE), (REPO_DELETE,), {PULL, PUSH}),
        ((REPO_READ, REPO_WRITE), ("Microsoft.ContainerRegistry/registries/repositories/content/*",), set()),
        ((REPO_READ, CATALOG_READ), (CATALOG_READ.lower(),), {PULL}),
    ],
)
def test_not_data_actions_subtract(
    data_actions: tuple[str, ...], not_data_actions: tuple[str, ...], expected: set[Right]
) -> None:
    role = custom_role("c", data_actions=data_actions, not_data_actions=not_data_actions)
    assert set(role_capabilities(role, ABAC).rights) == expected


def test_metadata_alone_is_not_pull() -> None:
    assert not role_capabilities(custom_role("c", data_actions=(META_READ,)), ABAC).rights


@pytest.fixture
def legacy_honours_repository_data_actions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    role_capabilities.cache_clear()
    monkeypatch.setattr(capabilities_module, "REPOSITORY_DATA_ACTIONS_HONOURED_IN_LEGACY", True)
    yield
    role_capabilities.cache_clear()


def test_repository_data_actions_do_not_grant_on_legacy() -> None:
    writer = builtin_definition("Container Registry Repository Writer")
    assert not role_capabilities(writer, LEGACY).rights


@pytest.mark.usefixtures("legacy_honours_repository_data_actions")
def test_repository_data_actions_switch_for_legacy() -> None:
    writer = builtin_definition("Container Registry Repository Writer")
    assert set(role_capabilities(writer, LEGACY).rights) == {PULL, PUSH}
    data_importer = builtin_definition("Container Registry Data Importer and Data Reader")
    rights = role_capabilities(data_importer, LEGACY).rights
    assert set(rights) == {PULL, CAT}
    assert len(rights[PULL]) == 2  # pull/read and content/read are alternatives
