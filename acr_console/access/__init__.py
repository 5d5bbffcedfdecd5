"""Effective-access analysis for a registry: pure functions over :mod:`acr_console.models`.

No I/O, SDK, network or UI code: the Azure layer fetches, this package reasons, front ends display.

Names are loaded on first use (PEP 562): the Azure layer parses resource ids with
:mod:`acr_console.access.resource_ids` on the start-up path of every command, and importing the
whole analysis with it (the built-in role table, the condition parser) cost ~45 ms there.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from acr_console.access.analysis import (
        ADMIN_USER_NAME,
        analyse,
        assignment_paths,
        condition_limits,
        condition_not_understood,
        filter_entries,
        groups_of,
        reach,
    )
    from acr_console.access.anonymous import ANONYMOUS_DISPLAY_NAME, anonymous_entry, is_anonymous
    from acr_console.access.capabilities import (
        LATENT_YIELDS,
        REPOSITORY_DATA_ACTIONS_HONOURED_IN_LEGACY,
        Capabilities,
        Grant,
        role_capabilities,
    )
    from acr_console.access.conditions import (
        ParsedCondition,
        RepositoryScope,
        parse_condition,
        repositories_for,
        repository_condition,
    )
    from acr_console.access.federated import (
        FederatedReading,
        federated_json,
        matches_repository,
        read_federated,
        read_subject,
    )
    from acr_console.access.groups import GroupIndex, membership_chains
    from acr_console.access.permissions import EffectivePermissions, action_matches, match_confidence
    from acr_console.access.report import to_json, to_json_with_shared_takeover, to_json_with_takeover
    from acr_console.access.scopes import is_at_or_above, is_inherited, normalise_scope, scope_level
    from acr_console.access.takeover import (
        TakeoverIndex,
        federated_credentials,
        holder_counts,
        path_json,
        takeover_paths,
    )
    from acr_console.access.tokens import (
        rights_by_repository,
        rights_on,
        token_credentials,
        token_entry,
        with_tokens,
    )

# Which submodule holds each public name.
_HOME = {
    "ADMIN_USER_NAME": "analysis",
    "analyse": "analysis",
    "assignment_paths": "analysis",
    "condition_limits": "analysis",
    "condition_not_understood": "analysis",
    "filter_entries": "analysis",
    "groups_of": "analysis",
    "reach": "analysis",
    "ANONYMOUS_DISPLAY_NAME": "anonymous",
    "anonymous_entry": "anonymous",
    "is_anonymous": "anonymous",
    "LATENT_YIELDS": "capabilities",
    "REPOSITORY_DATA_ACTIONS_HONOURED_IN_LEGACY": "capabilities",
    "Capabilities": "capabilities",
    "Grant": "capabilities",
    "role_capabilities": "capabilities",
    "ParsedCondition": "conditions",
    "RepositoryScope": "conditions",
    "parse_condition": "conditions",
    "repository_condition": "conditions",
    "repositories_for": "conditions",
    # issue 17: federated identity credentials read plainly; takeover paths
    "FederatedReading": "federated",
    "federated_json": "federated",
    "matches_repository": "federated",
    "read_federated": "federated",
    "read_subject": "federated",
    "TakeoverIndex": "takeover",
    "federated_credentials": "takeover",
    "holder_counts": "takeover",
    "path_json": "takeover",
    "takeover_paths": "takeover",
    "to_json_with_takeover": "report",
    "to_json_with_shared_takeover": "report",
    "GroupIndex": "groups",
    "membership_chains": "groups",
    "EffectivePermissions": "permissions",
    "action_matches": "permissions",
    "match_confidence": "permissions",
    "to_json": "report",
    "is_at_or_above": "scopes",
    "is_inherited": "scopes",
    "normalise_scope": "scopes",
    "scope_level": "scopes",
    # registry tokens (issue 13 item 4)
    "rights_by_repository": "tokens",
    "rights_on": "tokens",
    "token_credentials": "tokens",
    "token_entry": "tokens",
    "with_tokens": "tokens",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ADMIN_USER_NAME",
    "ANONYMOUS_DISPLAY_NAME",
    "LATENT_YIELDS",
    "REPOSITORY_DATA_ACTIONS_HONOURED_IN_LEGACY",
    "Capabilities",
    "EffectivePermissions",
    "FederatedReading",
    "Grant",
    "GroupIndex",
    "ParsedCondition",
    "RepositoryScope",
    "TakeoverIndex",
    "action_matches",
    "analyse",
    "anonymous_entry",
    "assignment_paths",
    "condition_limits",
    "condition_not_understood",
    "federated_credentials",
    "federated_json",
    "filter_entries",
    "groups_of",
    "holder_counts",
    "is_anonymous",
    "is_at_or_above",
    "is_inherited",
    "match_confidence",
    "matches_repository",
    "membership_chains",
    "normalise_scope",
    "parse_condition",
    "path_json",
    "reach",
    "read_federated",
    "read_subject",
    "repositories_for",
    "repository_condition",
    "rights_by_repository",
    "rights_on",
    "role_capabilities",
    "scope_level",
    "takeover_paths",
    "to_json",
    "to_json_with_shared_takeover",
    "to_json_with_takeover",
    "token_credentials",
    "token_entry",
    "with_tokens",
]
