"""The sandbox's own evaluation of a caller's Azure role assignments.

Deliberately independent of `acr_console.access`: the sandbox plays Azure, and an independent
implementation is what lets the console's analysis be checked against it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache

from ..roles import builtin_by_guid
from .store import Store


@lru_cache(maxsize=4096)
def _pattern(action: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(p) for p in action.split("*")) + "$", re.IGNORECASE)


def matches(patterns: Iterable[str], action: str) -> bool:
    return any(_pattern(p).match(action) for p in patterns)


def role_permissions(store: Store, role_guid: str) -> dict[str, list[str]]:
    doc = store.role_definition(role_guid)
    if doc is not None:
        blocks = doc.get("properties", {}).get("permissions")
        perms = blocks[0] if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict) else {}
        return {k: _strings(perms.get(k)) for k in ("actions", "notActions", "dataActions", "notDataActions")}
    builtin = builtin_by_guid(role_guid)
    if builtin is None:
        return {"actions": [], "notActions": [], "dataActions": [], "notDataActions": []}
    return {
        "actions": list(builtin.actions), "notActions": list(builtin.not_actions),
        "dataActions": list(builtin.data_actions), "notDataActions": list(builtin.not_data_actions),
    }


def _strings(value: object) -> list[str]:
    """The strings of a stored action list. ARM refuses anything else on write (rbac_limits), but a
    store written by other means may hold it: a number or an object grants nothing, and a bare string
    is not a list of its characters (one of which could be `*`)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def scope_covers(assignment_scope: str, target: str) -> bool:
    """Whether an assignment at `assignment_scope` applies at `target` (same scope or below it)."""
    a = assignment_scope.lower().rstrip("/")
    t = target.lower().rstrip("/")
    if a == "":  # root scope "/"
        return True
    if a.startswith("/providers/microsoft.management/managementgroups/"):
        # The sandbox puts every subscription under every management group it knows (only the tenant
        # root group exists); the root scope "/" lies above them all.
        return t != ""
    return t == a or t.startswith(a + "/")


def effective_assignments(store: Store, principal_id: str) -> list[dict]:
    """The principal's own assignments and those of every group it belongs to, transitively."""
    ids = {principal_id.lower(), *store.group_ids_of(principal_id)}
    return store.role_assignments_for_principals(ids)


class CallerRights:
    """A caller's effective assignments, read once and checked against many scopes: listing 500
    registries must not re-read the caller's groups and assignments 500 times."""

    def __init__(self, store: Store, principal_id: str) -> None:
        self._store = store
        self._assignments = [ra["properties"] for ra in effective_assignments(store, principal_id)]
        self._roles: dict[str, dict[str, list[str]]] = {}

    def _permissions(self, role_definition_id: str) -> dict[str, list[str]]:
        guid = role_definition_id.rsplit("/", 1)[-1]
        if guid not in self._roles:
            self._roles[guid] = role_permissions(self._store, guid)
        return self._roles[guid]

    def permitted(self, scope: str, action: str, *, data: bool = False) -> bool:
        allow, deny = ("dataActions", "notDataActions") if data else ("actions", "notActions")
        for props in self._assignments:
            if not scope_covers(props["scope"], scope):
                continue
            perms = self._permissions(props["roleDefinitionId"])
            if matches(perms[allow], action) and not matches(perms[deny], action):
                return True
        return False

    def any_role_under(self, scope: str) -> bool:
        """A caller sees a subscription when it holds any role at, above or below it."""
        s = scope.lower().rstrip("/")
        for props in self._assignments:
            a = props["scope"].lower().rstrip("/")
            if scope_covers(a, s) or a.startswith(s + "/"):
                return True
        return False


def permitted(store: Store, principal_id: str, scope: str, action: str, *, data: bool = False) -> bool:
    return CallerRights(store, principal_id).permitted(scope, action, data=data)


def has_any_role_under(store: Store, principal_id: str, scope: str) -> bool:
    return CallerRights(store, principal_id).any_role_under(scope)


def dumps(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"))


def ancestors(scope: str) -> list[str]:
    """`scope` and every scope above it, lower-cased, root `/` first: where an inherited assignment can sit.

    Management groups are left to the caller: the sandbox puts every subscription under every one.
    """
    parts = [p for p in scope.lower().split("/") if p]
    return ["/", *("/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1))]


# Actions that conditions can constrain: ACR repository permissions (ABAC), Storage data, and the
# "constrained delegation" conditions on who may write role assignments.
_CONDITION_DATA_ACTIONS = (
    "Microsoft.ContainerRegistry/registries/repositories/content/read",
    "Microsoft.ContainerRegistry/registries/repositories/metadata/read",
    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
)
_CONDITION_ACTIONS = ("Microsoft.Authorization/roleAssignments/write",)


def takes_condition(store: Store, role_guid: str) -> bool:
    """Whether ARM accepts an ABAC condition on an assignment of this role.

    A role whose permissions have no attribute a condition could test (AcrPull, Catalog Lister) is
    refused, as Azure refuses them.
    """
    perms = role_permissions(store, role_guid)
    return any(matches(perms["dataActions"], a) for a in _CONDITION_DATA_ACTIONS) or any(
        matches(perms["actions"], a) for a in _CONDITION_ACTIONS
    )
