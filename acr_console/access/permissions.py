"""Azure RBAC action matching.

Semantics (docs/reference/acr-access.md §1, §2.2): ``*`` matches any run of characters, case-insensitively; effective
permissions are ``actions − notActions`` and ``dataActions − notDataActions`` of the *same* role
(notActions is not a deny rule); ``actions`` never grant data actions, so the two lists are matched
separately.

Confidence: ACR honours wildcards in custom roles only in tenants with ARM private link, and
Azure/acr#164 shows ``registries/*/read`` failing where ``*/read`` worked. So an ACR action
(``Microsoft.ContainerRegistry/...``) that a *custom* role grants only through a wildcard is
``POSSIBLE``. Built-in roles are ``DIRECT``: Owner's ``*`` and Reader's ``*/read`` are documented to
grant legacy pull. Non-ACR actions (e.g. ``Microsoft.Authorization/roleAssignments/write``) are
enforced by ARM itself, which honours wildcards, so they are ``DIRECT`` either way.

NotActions subtract whether they match literally or by wildcard: that is Azure's documented
semantics, and it can only make the report smaller, never grant more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from acr_console.models import Confidence, RoleDefinition

ACR_NAMESPACE = "microsoft.containerregistry/"


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.IGNORECASE | re.DOTALL)


def is_wildcard(pattern: str) -> bool:
    return "*" in pattern


def action_matches(pattern: str, action: str) -> bool:
    """Whether an RBAC action pattern covers ``action`` (``*`` = any run of characters, any case)."""
    if not is_wildcard(pattern):
        return pattern.casefold() == action.casefold()
    return _compile(pattern).fullmatch(action) is not None


def is_acr_action(action: str) -> bool:
    return action.casefold().startswith(ACR_NAMESPACE)


def match_confidence(allowed: Iterable[str], denied: Iterable[str], action: str, *, custom: bool) -> Confidence | None:
    """How surely ``allowed − denied`` covers ``action``: None if it does not.

    ``DIRECT`` for a literal (case-insensitive) match, for built-in roles and for non-ACR actions;
    ``POSSIBLE`` when a custom role reaches an ACR action only through a wildcard.
    """
    if any(action_matches(p, action) for p in denied):
        return None
    literal = False
    wildcard = False
    for pattern in allowed:
        if not action_matches(pattern, action):
            continue
        if is_wildcard(pattern):
            wildcard = True
        else:
            literal = True
            break
    if literal:
        return Confidence.DIRECT
    if not wildcard:
        return None
    if custom and is_acr_action(action):
        return Confidence.POSSIBLE
    return Confidence.DIRECT


@dataclass(frozen=True, slots=True)
class EffectivePermissions:
    """The four permission lists of one role definition, queried by action."""

    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()
    custom: bool = False

    @classmethod
    def of(cls, definition: RoleDefinition) -> EffectivePermissions:
        return cls(
            actions=definition.actions,
            not_actions=definition.not_actions,
            data_actions=definition.data_actions,
            not_data_actions=definition.not_data_actions,
            custom=definition.custom,
        )

    def action(self, action: str) -> Confidence | None:
        """Confidence that the role grants control-plane ``action``; None if it does not."""
        return match_confidence(self.actions, self.not_actions, action, custom=self.custom)

    def data_action(self, data_action: str) -> Confidence | None:
        """Confidence that the role grants ``data_action``; ``actions`` never count here."""
        return match_confidence(self.data_actions, self.not_data_actions, data_action, custom=self.custom)
