"""What one role definition yields on a registry, by registry mode.

Legacy mode ("RBAC Registry Permissions") reads rights from ``actions``; ABAC mode reads them from
``dataActions`` only, so AcrPull/AcrPush/AcrDelete/AcrImageSigner and Owner/Contributor/Reader yield
no data-plane right there, while the quarantine roles still do through their ``quarantinedArtifacts``
data actions (docs/reference/acr-access.md §1). Catalog listing is an ABAC data action only.

A registry whose mode is unknown (``RoleAssignmentMode.UNKNOWN``) gets both readings: what the two
modes yield alike stays as it is, what only one mode yields (or yields differently) comes with
confidence POSSIBLE.

Latent rights are the paths to push without a push role (docs/reference/acr-access.md §2.3, §2.4 step 4). This module
reports them *raw*: every latent right the role's permissions allow. Hiding a latent right that the
principal already holds in full is an entry-level decision taken in :mod:`.analysis`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from acr_console.access.permissions import EffectivePermissions
from acr_console.models import Confidence, Latent, Right, RoleAssignmentMode, RoleDefinition

_REGISTRY = "Microsoft.ContainerRegistry/registries/"

# Repository dataActions on a legacy-mode registry are documented only for ABAC (docs/reference/acr-access.md §8, open
# question). Flip this to let them grant on legacy registries too (read at call time; results are
# cached, so a run-time change needs role_capabilities.cache_clear()).
REPOSITORY_DATA_ACTIONS_HONOURED_IN_LEGACY = False

LEGACY_RIGHT_ACTIONS: Mapping[Right, str] = MappingProxyType(
    {
        Right.PULL: _REGISTRY + "pull/read",
        Right.PUSH: _REGISTRY + "push/write",
        Right.DELETE: _REGISTRY + "artifacts/delete",
        Right.SIGN: _REGISTRY + "sign/write",
        Right.QUARANTINE_READ: _REGISTRY + "quarantine/read",
        Right.QUARANTINE_WRITE: _REGISTRY + "quarantine/write",
    }
)

# The metadata/* data actions accompany content/* in every built-in role; content/* alone decides.
REPOSITORY_RIGHT_DATA_ACTIONS: Mapping[Right, str] = MappingProxyType(
    {
        Right.PULL: _REGISTRY + "repositories/content/read",
        Right.PUSH: _REGISTRY + "repositories/content/write",
        Right.DELETE: _REGISTRY + "repositories/content/delete",
        Right.CATALOG: _REGISTRY + "catalog/read",
    }
)

ABAC_RIGHT_DATA_ACTIONS: Mapping[Right, str] = MappingProxyType(
    {
        **REPOSITORY_RIGHT_DATA_ACTIONS,
        Right.QUARANTINE_READ: _REGISTRY + "quarantinedArtifacts/read",
        Right.QUARANTINE_WRITE: _REGISTRY + "quarantinedArtifacts/write",
    }
)

# Rights that a repository-name condition can narrow to some repositories. The others have no
# repository in the request, so a repository comparison on them fails (see conditions.py).
REPOSITORY_SCOPED_RIGHTS: frozenset[Right] = frozenset({Right.PULL, Right.PUSH, Right.DELETE})

ROLE_ASSIGNMENTS_WRITE = "Microsoft.Authorization/roleAssignments/write"
LIST_CREDENTIALS = _REGISTRY + "listCredentials/action"
REGISTRY_WRITE = _REGISTRY + "write"
TOKENS_WRITE = _REGISTRY + "tokens/write"
GENERATE_CREDENTIALS = _REGISTRY + "generateCredentials/action"
IMPORT_IMAGE = _REGISTRY + "importImage/action"
TASKS_WRITE = _REGISTRY + "tasks/write"
SCHEDULE_RUN = _REGISTRY + "scheduleRun/action"

# What holding each latent right would give. None: unbounded (role assignment can grant anything,
# including to others), so it is never hidden.
LATENT_YIELDS: Mapping[Latent, frozenset[Right] | None] = MappingProxyType(
    {
        Latent.GRANT_ROLES: None,
        Latent.READ_ADMIN_PASSWORD: frozenset({Right.PULL, Right.PUSH, Right.DELETE}),
        Latent.ENABLE_ADMIN_USER: frozenset({Right.PULL, Right.PUSH, Right.DELETE}),
        Latent.MINT_TOKENS: frozenset({Right.PULL, Right.PUSH, Right.DELETE}),
        Latent.IMPORT_IMAGE: frozenset({Right.PUSH}),
        Latent.RUN_TASKS: frozenset({Right.PULL, Right.PUSH, Right.DELETE}),
    }
)


@dataclass(frozen=True, slots=True)
class Grant:
    """One way a role yields a right: every action in ``actions`` is permitted, with ``confidence``.

    ``actions`` are kept so that ABAC conditions can be evaluated against them.
    """

    confidence: Confidence
    actions: tuple[str, ...]
    data_plane: bool = False


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Rights and latent rights of one role in one registry state; each maps to its alternative grants."""

    rights: Mapping[Right, tuple[Grant, ...]] = field(default_factory=dict)
    latent: Mapping[Latent, tuple[Grant, ...]] = field(default_factory=dict)

    @property
    def right_set(self) -> frozenset[Right]:
        return frozenset(self.rights)

    @property
    def latent_set(self) -> frozenset[Latent]:
        return frozenset(self.latent)

    def confidence(self, item: Right | Latent) -> Confidence | None:
        """Best confidence among the grants for ``item``, ignoring conditions."""
        grants = self.rights.get(item, ()) if isinstance(item, Right) else self.latent.get(item, ())
        if not grants:
            return None
        if any(g.confidence is Confidence.DIRECT for g in grants):
            return Confidence.DIRECT
        return Confidence.POSSIBLE


def _all_of(perms: EffectivePermissions, actions: tuple[str, ...], *, data_plane: bool) -> Grant | None:
    confidence = Confidence.DIRECT
    for action in actions:
        found = perms.data_action(action) if data_plane else perms.action(action)
        if found is None:
            return None
        if found is Confidence.POSSIBLE:
            confidence = Confidence.POSSIBLE
    return Grant(confidence=confidence, actions=actions, data_plane=data_plane)


def _latent_alternatives(mode: RoleAssignmentMode, admin_user_enabled: bool) -> dict[Latent, list[tuple[str, ...]]]:
    table: dict[Latent, list[tuple[str, ...]]] = {
        Latent.GRANT_ROLES: [(ROLE_ASSIGNMENTS_WRITE,)],
        Latent.MINT_TOKENS: [(TOKENS_WRITE, GENERATE_CREDENTIALS)],
        Latent.IMPORT_IMAGE: [(IMPORT_IMAGE,)],
    }
    if admin_user_enabled:
        table[Latent.READ_ADMIN_PASSWORD] = [(LIST_CREDENTIALS,)]
    else:
        table[Latent.ENABLE_ADMIN_USER] = [(REGISTRY_WRITE,)]
    if mode is RoleAssignmentMode.LEGACY:
        # ABAC tasks run as an identity that needs its own Repository roles (docs/reference/acr-access.md §2.3, item 3).
        table[Latent.RUN_TASKS] = [(TASKS_WRITE,), (SCHEDULE_RUN,)]
    return table


@lru_cache(maxsize=2048)
def role_capabilities(
    definition: RoleDefinition, mode: RoleAssignmentMode, *, admin_user_enabled: bool = False
) -> Capabilities:
    """Rights and (raw) latent rights ``definition`` yields on a registry in ``mode``.

    ``admin_user_enabled`` decides between READ_ADMIN_PASSWORD (admin on: listCredentials reads
    the passwords) and ENABLE_ADMIN_USER (admin off: registries/write turns it on).
    """
    if mode is RoleAssignmentMode.UNKNOWN:
        return _either(role_capabilities(definition, RoleAssignmentMode.LEGACY, admin_user_enabled=admin_user_enabled),
                       role_capabilities(definition, RoleAssignmentMode.ABAC, admin_user_enabled=admin_user_enabled))
    perms = EffectivePermissions.of(definition)
    rights: dict[Right, list[Grant]] = {}

    def add(right: Right, grant: Grant | None) -> None:
        if grant is not None:
            rights.setdefault(right, []).append(grant)

    if mode is RoleAssignmentMode.ABAC:
        for right, data_action in ABAC_RIGHT_DATA_ACTIONS.items():
            add(right, _all_of(perms, (data_action,), data_plane=True))
    else:
        for right, action in LEGACY_RIGHT_ACTIONS.items():
            add(right, _all_of(perms, (action,), data_plane=False))
        if REPOSITORY_DATA_ACTIONS_HONOURED_IN_LEGACY:
            for right, data_action in REPOSITORY_RIGHT_DATA_ACTIONS.items():
                add(right, _all_of(perms, (data_action,), data_plane=True))

    latent: dict[Latent, tuple[Grant, ...]] = {}
    for item, alternatives in _latent_alternatives(mode, admin_user_enabled).items():
        grants = tuple(
            g for g in (_all_of(perms, actions, data_plane=False) for actions in alternatives) if g is not None
        )
        if grants:
            latent[item] = grants

    return Capabilities(
        rights=MappingProxyType({r: tuple(g) for r, g in rights.items()}),
        latent=MappingProxyType(latent),
    )


def _possible(grants: tuple[Grant, ...]) -> tuple[Grant, ...]:
    return tuple(dataclasses.replace(g, confidence=Confidence.POSSIBLE) for g in grants)


def _either(legacy: Capabilities, abac: Capabilities) -> Capabilities:
    """Capabilities on a registry that may be in either mode: grants both modes have alike stay;
    otherwise every grant of either mode, only POSSIBLE (order: legacy's, then ABAC's)."""

    def merge(one: Mapping[Any, tuple[Grant, ...]], other: Mapping[Any, tuple[Grant, ...]],
              items: Iterable[Any]) -> dict[Any, tuple[Grant, ...]]:
        out: dict[Any, tuple[Grant, ...]] = {}
        for item in items:
            a, b = one.get(item, ()), other.get(item, ())
            if a or b:
                out[item] = a if a == b else _possible(a + b)
        return out

    return Capabilities(
        rights=MappingProxyType(merge(legacy.rights, abac.rights, Right)),
        latent=MappingProxyType(merge(legacy.latent, abac.latent, Latent)),
    )
