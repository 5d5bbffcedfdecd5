"""What changed between two tenant access reports (issue 18: ``acr-console diff A.json B.json`` and
``report --diff BEFORE.json``). Pure: two parsed ``report --format json`` documents in, the difference out.

The report's shape (issue 18)::

    {"generatedAt", "cloud", "tenant", "registries": [...],
     "entries": [{"registry", "principal", "pull", "push", "delete", "paths": [...]}]}

``principal`` and each path are shaped as in ``access --json`` (access/report.py). The difference::

    {"gained": [{"registry", "principal", "rights": ["pull" | "push" | "delete", ...]}],
     "lost": [same],
     "pathsAdded": [{"registry", "principal", "path": PATH}],
     "pathsRemoved": [same],
     # additions to the agreed shape: registries that appeared in or left the report (a registry
     # that left takes its entries' rights with it: those are also listed under "lost")
     "registriesAdded": [REGISTRY], "registriesRemoved": [REGISTRY]}

``registry`` and ``principal`` are the values the documents hold: the newer document's for what was
gained or added, the older one's for what was lost or removed.

Identities, decided here:

* A registry is the same registry when its resource id is (lower-cased; ARM ids are case-insensitive,
  https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules). An entry's
  ``registry`` may be the id, the name, the login server, or an object with any of those: each is
  resolved through the ``registries`` list of its own document.
* A principal is the same principal when its ``objectId`` is (a renamed principal has not changed).
  Entries without one: the admin user and "anyone (anonymous pull)" are one per registry (their type
  is their identity); a registry token is its name (``token.name``, unique within its registry); any
  other entry without an object id is its type and display name.
* A path is the same path when its ``assignmentId`` is, together with the groups it comes through
  (``viaGroups``: one assignment to a group reaches a member through each chain of groups; a member
  who leaves one chain loses that path). A role assignment deleted and made again has a new id: that
  is a path removed and one added, as it is in Azure. A path without an assignment id (the admin user,
  a token's scope map, anonymous pull) is its ``kind``, ``role``, ``scope`` (lower-cased),
  ``viaGroups`` and ``repositories``.
* Rights are an entry's ``pull`` / ``push`` / ``delete``; a change in what a path that stayed grants
  shows as a right gained or lost, not as a path change.

A document that is not a report is refused (UsageError, exit 2) with what is wrong and where; two
reports of different tenants or clouds are refused too: every right would differ, and nothing of it
would be a change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from acr_console.access.resource_ids import try_parse_resource_id
from acr_console.access.scopes import normalise_scope, scope_level
from acr_console.errors import UsageError

RIGHTS = ("pull", "push", "delete")
_HOW_TO_MAKE = "make one with `acr-console report --format json`"

# A path's own identity within one registry's entry for one principal (see the module's docstring).
PathKey = tuple[Any, ...]
PrincipalKey = tuple[str, ...]


# -- checking a document ----------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)


def check_report(doc: Any, name: str) -> dict[str, Any]:
    """``doc`` itself when it is a report document; else UsageError naming ``name`` (the file) and the
    first thing wrong, e.g. ``before.json: not an access report: entries[3].push is a string, not
    true/false``."""

    def refuse(what: str) -> UsageError:
        return UsageError(f"{name}: not an access report: {what}; {_HOW_TO_MAKE}")

    if not isinstance(doc, dict):
        raise refuse(f"the document is {_describe(doc)}, not an object")
    if "entries" in doc and "registry" in doc and "registries" not in doc:
        raise UsageError(f"{name}: this is one registry's `access --json`, not a tenant report; {_HOW_TO_MAKE}")
    for key in ("generatedAt", "cloud", "tenant", "registries", "entries"):
        if key not in doc:
            raise refuse(f"it has no \"{key}\"")
    for key in ("registries", "entries"):
        if not isinstance(doc[key], list):
            raise refuse(f"\"{key}\" is {_describe(doc[key])}, not a list")
    for at, registry in enumerate(doc["registries"]):
        if not isinstance(registry, (str, dict)) or not _registry_aliases(registry):
            raise refuse(f"registries[{at}] has no id or name")
    for at, entry in enumerate(doc["entries"]):
        where = f"entries[{at}]"
        if not isinstance(entry, dict):
            raise refuse(f"{where} is {_describe(entry)}, not an object")
        for key in ("registry", "principal", *RIGHTS, "paths"):
            if key not in entry:
                raise refuse(f"{where} has no \"{key}\"")
        if not isinstance(entry["registry"], (str, dict)) or not _registry_aliases(entry["registry"]):
            raise refuse(f"{where}.registry names no registry")
        if not isinstance(entry["principal"], dict):
            raise refuse(f"{where}.principal is {_describe(entry['principal'])}, not an object")
        for right in RIGHTS:
            if not isinstance(entry[right], bool):
                raise refuse(f"{where}.{right} is {_describe(entry[right])}, not true/false")
        if not isinstance(entry["paths"], list) or not all(isinstance(p, dict) for p in entry["paths"]):
            raise refuse(f"{where}.paths is not a list of objects")
    return doc


def _scalar(value: Any) -> str | None:
    """A tenant or cloud as compared: a string lower-cased, an object by its id or name."""
    if value is None:
        return None
    if isinstance(value, dict):
        for key in ("id", "tenantId", "name"):
            if isinstance(value.get(key), str):
                return str(value[key]).lower()
        return json.dumps(value, sort_keys=True)
    return str(value).lower()


def check_comparable(before: dict[str, Any], after: dict[str, Any], before_name: str, after_name: str) -> list[str]:
    """UsageError when the two reports are of different clouds or tenants; else warnings to show (the
    older report given second)."""
    for key, what in (("cloud", "cloud"), ("tenant", "tenant")):
        a, b = _scalar(before.get(key)), _scalar(after.get(key))
        if a is not None and b is not None and a != b:
            raise UsageError(f"{before_name} is of {what} {a} and {after_name} of {what} {b}: a diff compares two "
                             f"reports of one {what}")
    warnings: list[str] = []
    a_time, b_time = before.get("generatedAt"), after.get("generatedAt")
    # ISO 8601 in UTC ("…Z") sorts as text; anything else is not compared.
    if isinstance(a_time, str) and isinstance(b_time, str) and a_time.endswith("Z") and b_time.endswith("Z") \
            and a_time > b_time:
        warnings.append(f"{before_name} ({a_time}) is newer than {after_name} ({b_time}): the first file given is "
                        "read as the earlier one, so what it has and the second lacks is listed as lost")
    return warnings


# -- identities ---------------------------------------------------------------------------------------


def _registry_aliases(value: str | dict[str, Any]) -> list[str]:
    if isinstance(value, str):
        return [value.strip().lower()] if value.strip() else []
    return [str(value[k]).strip().lower() for k in ("id", "name", "loginServer")
            if isinstance(value.get(k), str) and value[k].strip()]


class _Registries:
    """One document's registries: every alias (id, name, login server) to one key (the id when known)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.by_alias: dict[str, str] = {}
        self.listed: dict[str, Any] = {}
        for registry in doc["registries"]:
            aliases = _registry_aliases(registry)
            key = aliases[0]
            self.listed.setdefault(key, registry)
            for alias in aliases:
                self.by_alias.setdefault(alias, key)

    def knows(self, value: str | dict[str, Any]) -> bool:
        return any(alias in self.by_alias for alias in _registry_aliases(value))

    def key(self, value: str | dict[str, Any]) -> str:
        aliases = _registry_aliases(value)
        for alias in aliases:
            if alias in self.by_alias:
                return self.by_alias[alias]
        return aliases[0]


def principal_key(entry: dict[str, Any]) -> PrincipalKey:
    """Who an entry is about, across two reports (see the module's docstring)."""
    principal = entry["principal"]
    object_id = principal.get("objectId")
    if isinstance(object_id, str) and object_id:
        return ("objectId", object_id.lower())
    kind = str(principal.get("type") or "")
    if kind in ("adminUser", "anonymous"):
        return (kind,)
    if kind == "registryToken":
        token = entry.get("token")
        name = token.get("name") if isinstance(token, dict) else None
        return (kind, str(name or principal.get("displayName") or "").lower())
    return (kind, str(principal.get("displayName") or ""))


def _groups(path: dict[str, Any]) -> tuple[str, ...]:
    groups = path.get("viaGroups")
    return tuple(str(g) for g in groups) if isinstance(groups, list) else ()


def path_key(path: dict[str, Any]) -> PathKey:
    """A path's identity within one entry (see the module's docstring)."""
    assignment = path.get("assignmentId")
    if isinstance(assignment, str) and assignment:
        return ("assignment", assignment.lower(), _groups(path))
    repositories = path.get("repositories")
    return ("path", str(path.get("kind") or ""), str(path.get("role") or ""),
            str(path.get("scope") or "").lower(), _groups(path),
            tuple(str(r) for r in repositories) if isinstance(repositories, list) else None)


# -- the difference ------------------------------------------------------------------------------------


@dataclass
class _Merged:
    """A registry's entry for one principal (two entries for one are merged: their rights and paths)."""

    registry: Any
    principal: dict[str, Any]
    rights: set[str] = field(default_factory=set)
    paths: dict[PathKey, dict[str, Any]] = field(default_factory=dict)


def _index(doc: dict[str, Any]) -> tuple[_Registries, dict[tuple[str, PrincipalKey], _Merged]]:
    registries = _Registries(doc)
    merged: dict[tuple[str, PrincipalKey], _Merged] = {}
    for entry in doc["entries"]:
        key = (registries.key(entry["registry"]), principal_key(entry))
        item = merged.setdefault(key, _Merged(entry["registry"], entry["principal"]))
        item.rights.update(r for r in RIGHTS if entry[r])
        for path in entry["paths"]:
            item.paths.setdefault(path_key(path), path)
    return registries, merged


@dataclass(frozen=True)
class ReportDiff:
    gained: list[dict[str, Any]]
    lost: list[dict[str, Any]]
    paths_added: list[dict[str, Any]]
    paths_removed: list[dict[str, Any]]
    registries_added: list[Any]
    registries_removed: list[Any]
    registries_compared: int  # in either report
    entries_compared: int  # registry × identity pairs in either report

    @property
    def changed(self) -> bool:
        return any((self.gained, self.lost, self.paths_added, self.paths_removed, self.registries_added,
                    self.registries_removed))

    def to_json(self) -> dict[str, Any]:
        return {"gained": self.gained, "lost": self.lost, "pathsAdded": self.paths_added,
                "pathsRemoved": self.paths_removed, "registriesAdded": self.registries_added,
                "registriesRemoved": self.registries_removed}

    def changed_pairs(self) -> list[tuple[Any, dict[str, Any]]]:
        """(registry, principal) of every identity with a change, in the order first met."""
        seen: dict[tuple[str, PrincipalKey], tuple[Any, dict[str, Any]]] = {}
        for item in (*self.gained, *self.lost, *self.paths_added, *self.paths_removed):
            seen.setdefault(pair_key(item), (item["registry"], item["principal"]))
        return list(seen.values())


def pair_key(item: dict[str, Any]) -> tuple[str, PrincipalKey]:
    """The registry and identity an item of the difference is about (one row of the table), whichever
    report its ``registry`` and ``principal`` come from (a renamed principal is one identity)."""
    return registry_label(item["registry"]).lower(), principal_key(item)


def _rights(rights: Iterable[str]) -> list[str]:
    return [r for r in RIGHTS if r in rights]


def _only_in(these: dict[Any, Any], others: dict[Any, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What ``these`` entries hold that the matching ``others`` do not: (rights, paths), each naming its
    registry and principal as ``these`` do. Gains and additions one way, losses and removals the other."""
    rights_out: list[dict[str, Any]] = []
    paths_out: list[dict[str, Any]] = []
    for key, item in these.items():
        other = others.get(key)
        rights = _rights(item.rights - (other.rights if other else set()))
        if rights:
            rights_out.append({"registry": item.registry, "principal": item.principal, "rights": rights})
        for pkey, path in item.paths.items():
            if other is None or pkey not in other.paths:
                paths_out.append({"registry": item.registry, "principal": item.principal, "path": path})
    return rights_out, paths_out


def diff_reports(before: dict[str, Any], after: dict[str, Any]) -> ReportDiff:
    """The difference from ``before`` to ``after``, both checked by :func:`check_report`. Lists follow
    ``after``'s entry order for what was gained or added, ``before``'s for what was lost or removed."""
    old_registries, old = _index(before)
    new_registries, new = _index(after)
    gained, added = _only_in(new, old)
    lost, removed = _only_in(old, new)
    # A registry listed in one report and not the other: none of its aliases (id, name, login
    # server) is known to the other report's list.
    registries_added = [v for v in new_registries.listed.values() if not old_registries.knows(v)]
    registries_removed = [v for v in old_registries.listed.values() if not new_registries.knows(v)]
    return ReportDiff(gained, lost, added, removed, registries_added, registries_removed,
                      registries_compared=len(old_registries.listed) + len(registries_added),
                      entries_compared=len(old.keys() | new.keys()))


# -- words for people ---------------------------------------------------------------------------------


def registry_label(value: Any) -> str:
    """A registry as a person reads it: its name (an id's last segment)."""
    if isinstance(value, dict):
        for key in ("name", "loginServer", "id"):
            if isinstance(value.get(key), str) and value[key]:
                return registry_label(value[key])
        return "?"
    text = str(value)
    parsed = try_parse_resource_id(text) if text.startswith("/") else None
    return (parsed.name or text) if parsed is not None and parsed.blocks else text


def principal_label(principal: dict[str, Any]) -> str:
    name = principal.get("displayName") or principal.get("appId") or principal.get("objectId") or "?"
    return str(name)


def path_label(path: dict[str, Any]) -> str:
    """``AcrPush on the resource group rg-platform-prod via platform-team``, ``token scope map
    ci-pull``, ``admin user``, ``anonymous pull``."""
    kind = path.get("kind")
    if kind == "admin-user":
        return "admin user"
    if kind == "anonymous-pull":
        return "anonymous pull"
    role = str(path.get("role") or "?")
    if kind == "token":
        return f"token scope map {role}"
    scope = str(path.get("scope") or "")
    level = path.get("scopeLevel") or (scope_level(scope).value if scope else "")
    parsed = try_parse_resource_id(normalise_scope(scope)) if scope else None
    where = {"registry": "the registry", "root": "the root (/)"}.get(str(level))
    if where is None and parsed is not None:
        if level == "resourceGroup":
            where = f"resource group {parsed.resource_group}"
        elif level == "subscription":
            where = f"subscription {parsed.subscription}"
        elif level == "managementGroup":
            where = f"management group {parsed.management_group}"
    text = f"{role} on {where or scope or '?'}"
    repositories = path.get("repositories")
    if isinstance(repositories, list):
        text += f" (repositories {', '.join(str(r) for r in repositories)})"
    groups = _groups(path)
    if groups:
        text += f" via {' › '.join(groups)}"
    return text


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def summary_line(diff: ReportDiff) -> str:
    """One line: ``No change: 8 registries, 41 registry × identity pairs compared.`` or the counts of
    each kind of change."""
    scale = (f"{_count(diff.registries_compared, 'registry', 'registries')}, "
             f"{_count(diff.entries_compared, 'registry × identity pair', 'registry × identity pairs')}")
    if not diff.changed:
        return f"No change: {scale} compared."
    parts = [_count(len(diff.changed_pairs()), "pair changed", "pairs changed")]
    for items, one, many in ((diff.gained, "gained rights", "gained rights"), (diff.lost, "lost rights", "lost rights"),
                             (diff.paths_added, "path added", "paths added"),
                             (diff.paths_removed, "path removed", "paths removed"),
                             (diff.registries_added, "registry added", "registries added"),
                             (diff.registries_removed, "registry removed", "registries removed")):
        if items:
            parts.append(_count(len(items), one, many))
    return f"{', '.join(parts)} ({scale} compared)."
