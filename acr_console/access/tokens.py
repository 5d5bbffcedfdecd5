"""Registry tokens as access paths: what a token's scope map lets it do, repository by repository.

Pure functions over :mod:`acr_console.models` (no I/O). The rules are Microsoft's
(MicrosoftDocs/azure-management-docs `articles/container-registry/container-registry-token-based-
repository-permissions.md`; docs/reference/acr-access.md §1, §2.2):

* A scope map action is `repositories/<repository>/<content|metadata>/<read|write|delete>`:
  `content/read` pulls, `content/write` pushes ("Use with `content/read` to push"), `content/delete`
  deletes, `metadata/read` lists tags and manifests, `metadata/write` locks them. Other actions (the
  connected registries' `gateway/...`) give no repository right.
* `<repository>` is a name, a prefix ending in `/*` (every repository under it, including ones that do
  not exist yet) or `*` (every repository: `repositories` is null in the path, as for a role that is not
  narrowed). "The wildcard permissions are additive": a right's repositories are the union of its rules.
  A wildcard elsewhere ("sample/*/teamA") is invalid and is dropped here, as Azure refuses it.
* One path per distinct repository list, holding the rights granted on exactly that list (so push on
  `team/*` and pull on `team/*` and `base/*` are two paths), in the role-assignment paths' manner.
* "The token must have the `Enabled` status": a disabled token's entry has one path with no rights.
  So has a token whose scope map is missing (deleted, or unreadable): it can grant nothing known.
* Tokens are never narrowed by ABAC conditions and never inherited: paths are DIRECT at the registry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from acr_console.access.analysis import _entry_key
from acr_console.models import (
    AccessEntry,
    AccessPath,
    Confidence,
    Credential,
    CredentialKind,
    CredentialOwner,
    PathKind,
    Principal,
    PrincipalType,
    RegistryAccess,
    RegistryToken,
    Right,
    ScopeLevel,
    ScopeMap,
)

ACTION_RIGHTS: Mapping[str, Right] = {
    "content/read": Right.PULL,
    "content/write": Right.PUSH,
    "content/delete": Right.DELETE,
    "metadata/read": Right.METADATA_READ,
    "metadata/write": Right.METADATA_WRITE,
}
EVERY_REPOSITORY = "*"


def parse_action(action: str) -> tuple[str, Right] | None:
    """`repositories/team/*/content/write` -> ("team/*", PUSH); None for anything else."""
    if not action.startswith("repositories/"):
        return None
    parts = action[len("repositories/"):].rsplit("/", 2)
    if len(parts) != 3 or not parts[0]:
        return None
    right = ACTION_RIGHTS.get(f"{parts[1]}/{parts[2]}".lower())
    if right is None or not valid_repository_rule(parts[0]):
        return None
    return parts[0], right


def valid_repository_rule(repository: str) -> bool:
    """A name, `*`, or a prefix ending in `/*` with no other wildcard."""
    if "*" not in repository or repository == EVERY_REPOSITORY:
        return True
    return repository.endswith("/*") and repository.count("*") == 1 and len(repository) > 2


def rule_covers(rule: str, repository: str) -> bool:
    """Whether a scope-map rule covers a repository (ACR names are lower case: compared without case)."""
    r, name = rule.lower(), repository.lower()
    if r == EVERY_REPOSITORY:
        return True
    if r.endswith("/*"):
        return name.startswith(r[:-1])
    return r == name


def rights_by_repository(actions: Iterable[str]) -> dict[Right, tuple[str, ...] | None]:
    """Each right a scope map grants, with the repository rules it holds on (None: every repository)."""
    rules: dict[Right, list[str]] = {}
    for action in actions:
        parsed = parse_action(action)
        if parsed is not None:
            repository, right = parsed
            rules.setdefault(right, [])
            if repository not in rules[right]:
                rules[right].append(repository)
    return {right: None if EVERY_REPOSITORY in repos else tuple(sorted(repos, key=str.lower))
            for right, repos in rules.items()}


def rights_on(actions: Iterable[str], repository: str) -> frozenset[Right]:
    """The rights a scope map gives on one repository (every matching rule adds up)."""
    out: set[Right] = set()
    for action in actions:
        parsed = parse_action(action)
        if parsed is not None and rule_covers(parsed[0], repository):
            out.add(parsed[1])
    return frozenset(out)


def find_scope_map(token: RegistryToken, scope_maps: Iterable[ScopeMap]) -> ScopeMap | None:
    """The token's scope map among the registry's (ARM ids compare without case)."""
    wanted = (token.scope_map_id or "").rstrip("/").lower()
    return next((m for m in scope_maps if m.id.rstrip("/").lower() == wanted), None) if wanted else None


def token_paths(token: RegistryToken, scope_map: ScopeMap | None) -> tuple[AccessPath, ...]:
    base = AccessPath(kind=PathKind.TOKEN, role=token.scope_map_name or (scope_map.name if scope_map else None),
                      scope=token.scope_map_id, scope_level=ScopeLevel.REGISTRY, confidence=Confidence.DIRECT)
    if not token.enabled or scope_map is None:
        return (base,)
    grouped: dict[tuple[str, ...] | None, set[Right]] = {}
    for right, repositories in rights_by_repository(scope_map.actions).items():
        grouped.setdefault(repositories, set()).add(right)
    if not grouped:
        return (base,)
    ordered = sorted(grouped.items(), key=lambda kv: (kv[0] is not None, kv[0] or ()))
    return tuple(dataclasses.replace(base, rights=frozenset(rights), repositories=repos) for repos, rights in ordered)


def token_entry(token: RegistryToken, scope_map: ScopeMap | None) -> AccessEntry:
    principal = Principal(object_id=None, display_name=token.name, type=PrincipalType.REGISTRY_TOKEN,
                          enabled=token.enabled)
    return AccessEntry(principal=principal, paths=token_paths(token, scope_map), token=token)


def with_tokens(access: RegistryAccess, tokens: Iterable[RegistryToken], scope_maps: Iterable[ScopeMap],
                error: str | None = None) -> RegistryAccess:
    """The registry's access with an entry per token, in the analysis's entry order; `error` says why
    the tokens could not be read (the entries then hold none)."""
    maps = list(scope_maps)
    added = [token_entry(t, find_scope_map(t, maps)) for t in tokens]
    if not added and error is None:
        return access
    entries = sorted([*access.entries, *added], key=_entry_key)
    return dataclasses.replace(access, entries=tuple(entries), token_read_error=error)


def token_credentials(token: RegistryToken) -> tuple[Credential, ...]:
    """A token's passwords as credentials (for the expiring radar): named password1/password2, keyed
    by the token's id and the name (a token password has no key id of its own)."""
    return tuple(Credential(key_id=f"{token.id}/{p.name}", kind=CredentialKind.PASSWORD,
                            owner=CredentialOwner.REGISTRY_TOKEN, display_name=p.name, start=p.created, end=p.expiry)
                 for p in token.passwords)
