"""Effective-access analysis for a registry: pure functions over :mod:`acr_console.models`.

No I/O, SDK, network or UI code: the Azure layer fetches, this package reasons, front ends display.
"""

from __future__ import annotations

from acr_console.access.analysis import (
    ADMIN_USER_NAME,
    analyse,
    assignment_paths,
    condition_not_understood,
    filter_entries,
)
from acr_console.access.capabilities import (
    LATENT_YIELDS,
    REPOSITORY_DATA_ACTIONS_HONOURED_IN_LEGACY,
    Capabilities,
    Grant,
    role_capabilities,
)
from acr_console.access.conditions import ParsedCondition, RepositoryScope, parse_condition, repositories_for
from acr_console.access.groups import GroupIndex, membership_chains
from acr_console.access.permissions import EffectivePermissions, action_matches, match_confidence
from acr_console.access.report import to_json
from acr_console.access.scopes import is_at_or_above, is_inherited, normalise_scope, scope_level

__all__ = [
    "ADMIN_USER_NAME",
    "LATENT_YIELDS",
    "REPOSITORY_DATA_ACTIONS_HONOURED_IN_LEGACY",
    "Capabilities",
    "EffectivePermissions",
    "Grant",
    "GroupIndex",
    "ParsedCondition",
    "RepositoryScope",
    "action_matches",
    "analyse",
    "assignment_paths",
    "condition_not_understood",
    "filter_entries",
    "is_at_or_above",
    "is_inherited",
    "match_confidence",
    "membership_chains",
    "normalise_scope",
    "parse_condition",
    "repositories_for",
    "role_capabilities",
    "scope_level",
    "to_json",
]
