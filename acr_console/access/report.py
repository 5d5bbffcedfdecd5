"""The stable JSON shape of a :class:`RegistryAccess` (``acr-console … --json``).

::

    {"registry": {"id", "name", "loginServer", "mode": "rbac" | "abac", "adminUserEnabled"},
     "entries": [{"principal": {"objectId", "appId", "displayName", "type", "enabled"},
                  "orphaned": bool,
                  "pull": bool, "push": bool, "delete": bool,
                  "latent": [latent values, sorted],
                  "paths": [{"kind": "role-assignment" | "admin-user" | "token" | "anonymous-pull",
                             "role", "scope", "inherited": bool, "viaGroups": [names],
                             "repositories": [...] | null,
                             "confidence": "direct" | "conditional" | "possible",
                             "rights": [rights this path grants, sorted]}]}]}

A registry token's entry (principal type ``registryToken``, null ids) also has ``"token": {"name",
"status": "enabled" | "disabled", "scopeMap", "credentials": [{"name": "password1" | "password2",
"expiry": ISO | null}]}``; its paths are of kind ``token`` (``role`` the scope map's name, ``scope`` its
id). When the tokens could not be read, the document has ``"tokenReadError": "<code: message>"``.

Additions to the agreed shape: ``orphaned`` per entry, ``confidence`` and ``rights`` per path (two
paths from one role, e.g. a condition limiting only reads, differ only in what they grant).
``orphaned`` means the directory (``getByIds``) did not return the assignment's principal: it may
have been deleted, be too new to have replicated, or be of a type the console does not read; it is
not a verdict that the assignment is stale. ``pull`` /
``push`` / ``delete`` are true when any path grants the right, including conditional and possible
paths (the paths say how). Entries and paths keep the analysis order.

Anonymous pull (issue 13): a registry with it on has a first entry ``{"principal": {"type":
"anonymous", "displayName": "anyone (anonymous pull)", "objectId": null, "appId": null}, "pull":
true, "push": false, "delete": false, "paths": [{"kind": "anonymous-pull", "rights": ["pull"],
"scope": <the registry id>, "repositories": null, ...}]}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from acr_console.access.federated import federated_json
from acr_console.access.takeover import TakeoverIndex, federated_credentials, path_json, takeover_paths
from acr_console.models import (
    AccessEntry,
    AccessPath,
    DirectoryFacts,
    PrincipalType,
    RegistryAccess,
    RegistryToken,
    Right,
    TakeoverPath,
)


def _path(path: AccessPath) -> dict[str, Any]:
    return {
        "kind": path.kind.value,
        "role": path.role,
        "scope": path.scope,
        "inherited": path.inherited,
        "viaGroups": list(path.via_groups),
        "repositories": None if path.repositories is None else list(path.repositories),
        "confidence": path.confidence.value,
        "rights": sorted(r.value for r in path.rights),
        # Issue 16: of "rights" and the entry's "latent", those this path grants only possibly (a custom
        # role's wildcard beside its explicit actions); "confidence" is that of the rest.
        "possible": sorted(x.value for x in path.possible),
        # Issue 16: what `unassign --assignment-id` takes (null for paths that are not assignments).
        "assignmentId": path.assignment_id,
    }


def _token(token: RegistryToken) -> dict[str, Any]:
    return {
        "name": token.name,
        "status": token.status,
        "scopeMap": token.scope_map_name,
        "credentials": [{"name": p.name, "expiry": _iso(p.expiry)} for p in token.passwords],
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _entry(entry: AccessEntry) -> dict[str, Any]:
    return entry_json(entry, _path)


def entry_json(entry: AccessEntry, path_json: Callable[[AccessPath], Any], *,
               registry: str | None = None) -> dict[str, Any]:
    """An entry in the shape above, each path rendered by ``path_json`` (the report's own shape, or a
    cache of them: group members share their paths' objects); with ``registry``, a first key
    ``"registry"`` naming it (the report's entries, made without copying 150,000 dicts)."""
    principal = entry.principal
    rights = entry.rights
    doc = {
        "registry": registry,
        "principal": {
            "objectId": principal.object_id,
            "appId": principal.app_id,
            "displayName": principal.display_name,
            "type": principal.type,  # a StrEnum: a str, written as its value
            # accountEnabled: a disabled principal's rights grant nothing now; null when the directory
            # did not return the principal (orphaned): nothing is known of it; null for "anyone
            # (anonymous pull)", which signs in as no one.
            "enabled": None if entry.orphaned or principal.type is PrincipalType.ANONYMOUS else principal.enabled,
        },
        "orphaned": entry.orphaned,
        "pull": Right.PULL in rights,
        "push": Right.PUSH in rights,
        "delete": Right.DELETE in rights,
        "latent": sorted(entry.latent),  # StrEnum members sort and are written as their values
        "paths": [path_json(p) for p in entry.paths],
    }
    if registry is None:
        del doc["registry"]  # the others keep their order
    if entry.token is not None:  # a registry token's entry only (issue 13 item 4)
        doc["token"] = _token(entry.token)
    return doc


def to_json(access: RegistryAccess) -> dict[str, Any]:
    """A JSON-ready dict (only str, bool, None, list, dict) in the shape above."""
    registry = access.registry
    doc = {
        "registry": {
            "id": registry.id,
            "name": registry.name,
            "loginServer": registry.login_server,
            "mode": registry.role_assignment_mode.short,
            "adminUserEnabled": registry.admin_user_enabled,
        },
        "entries": [_entry(e) for e in access.entries],
    }
    if access.token_read_error is not None:  # the registry's tokens could not be read: say so
        doc["tokenReadError"] = access.token_read_error
    return doc


def to_json_with_takeover(access: RegistryAccess, facts: DirectoryFacts) -> dict[str, Any]:
    """:func:`to_json`, each entry with two more keys (issue 17, ``access --include-takeover --json``)::

        "takeover": [{"by": {"objectId", "displayName", "type", "enabled"},
                      "how": "application-owner" | "service-principal-owner" | "directory-role" | "graph-permission",
                      "detail": ROLE_OR_PERMISSION_NAME ("owner" for an owner),
                      # a directory role's directoryScopeId: "/", "/{objectId}", "/administrativeUnits/{id}"
                      "scope": DIRECTORY_SCOPE_ID | null,
                      "target": "application" | "servicePrincipal",   # where the credential would go
                      "viaGroups": [names, outermost first], "steps": 1 | 2,
                      "self": bool}],                            # the principal can add credentials to itself
        "federated": [{"name", "issuer", "subject", "audiences",
                       "reading": {"kind": "github" | "kubernetes" | "other", "issuerHost", "summary",
                                   github: "repository", "refKind", "refName", "claims", "customised";
                                   kubernetes: "namespace", "serviceAccount", "aks"; other: "subject"}}]

    Both lists are empty for anything but a service principal (a managed identity's federated
    credentials are listed when the facts hold them under its object id). No existing key changes.
    """
    index = TakeoverIndex(facts)
    doc = to_json(access)
    # Tenant-wide paths are the same objects in every entry's list: render each once (the dicts are
    # shared, which json.dumps does not mind; a caller that mutates one entry's list must copy it).
    # Keyed by id() with the path kept alive beside its dict, so an id is never reused within the loop.
    rendered: dict[int, tuple[TakeoverPath, dict[str, Any]]] = {}

    def render(path: TakeoverPath) -> dict[str, Any]:
        if id(path) not in rendered:
            rendered[id(path)] = (path, path_json(path))
        return rendered[id(path)][1]

    for entry, out in zip(access.entries, doc["entries"], strict=True):
        out["takeover"] = [render(p) for p in takeover_paths(entry, index)]
        out["federated"] = [federated_json(c) for c in federated_credentials(entry, index)]
    return doc


def to_json_with_shared_takeover(access: RegistryAccess, facts: DirectoryFacts) -> dict[str, Any]:
    """:func:`to_json_with_takeover` with the paths every entry shares said once (``access
    --include-takeover --json``). Tenant-wide directory roles and the Graph permissions that reach every
    application are the same for each service principal; listed in each entry they grow the document
    as entries × holders (2,000 entries and 200 tenant-wide holders: about 600 MB). So::

        "tenantWideTakeover": {"application": [path, ...],        # for a principal with its application
                               "servicePrincipal": [path, ...]},  # for one whose application is elsewhere
        "entries": [{..., "takeover": [paths specific to this entry],
                     "tenantWideTakeover": "application" | "servicePrincipal" | null,
                     "federated": [...]}]

    An entry's full list is its ``takeover`` plus the tenant-wide list its ``tenantWideTakeover``
    names (null for anything but a service principal). A tenant-wide path whose holder is the entry's
    own principal (``"self": true``) is in the entry's list, and also, unmarked, in the shared one."""
    index = TakeoverIndex(facts)
    doc = to_json(access)
    shared: dict[str, list[dict[str, Any]]] = {}
    common_ids: dict[bool, set[int]] = {}
    for has_app, key in ((True, "application"), (False, "servicePrincipal")):
        common = index.common(has_app)[0]
        common_ids[has_app] = {id(p) for p in common}
        shared[key] = [path_json(p) for p in common]
    for entry, out in zip(access.entries, doc["entries"], strict=True):
        paths = takeover_paths(entry, index)
        has_app = entry.principal.application_object_id is not None
        if entry.principal.type is PrincipalType.SERVICE_PRINCIPAL and entry.principal.object_id:
            out["tenantWideTakeover"] = "application" if has_app else "servicePrincipal"
        else:
            out["tenantWideTakeover"] = None
        out["takeover"] = [path_json(p) for p in paths if id(p) not in common_ids[has_app]]
        out["federated"] = [federated_json(c) for c in federated_credentials(entry, index)]
    doc["tenantWideTakeover"] = shared
    return doc
