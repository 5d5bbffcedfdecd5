"""Anonymous pull as an access path: on a registry with ``anonymousPullEnabled`` anyone who can reach
it may pull, with no credential and no directory object behind the request.

MicrosoftDocs/azure-management-docs ``articles/container-registry/anonymous-pull-access.md``:
"Enabling anonymous (unauthenticated) pull access makes all registry content publicly available for
read (pull) actions", it "applies to all repositories in the registry" whatever token or Entra
repository permissions say, and only data-plane reads are offered. So the entry grants pull on
every repository (``repositories`` None), and never push or delete.

The entry comes first in a registry's list: it is the widest grant there is, and the one a reviewer
is least likely to expect among named principals.
"""

from __future__ import annotations

from acr_console.models import AccessEntry, AccessPath, PathKind, Principal, PrincipalType, Registry, Right, ScopeLevel

ANONYMOUS_DISPLAY_NAME = "anyone (anonymous pull)"
ANONYMOUS_RIGHTS = frozenset({Right.PULL})


def anonymous_entry(registry: Registry) -> AccessEntry | None:
    """The entry for anonymous pull on ``registry``, or None when it is off."""
    if not registry.anonymous_pull_enabled:
        return None
    path = AccessPath(
        kind=PathKind.ANONYMOUS_PULL,
        rights=ANONYMOUS_RIGHTS,
        scope=registry.id,
        scope_level=ScopeLevel.REGISTRY,
    )
    principal = Principal(object_id=None, display_name=ANONYMOUS_DISPLAY_NAME, type=PrincipalType.ANONYMOUS)
    return AccessEntry(principal=principal, paths=(path,))


def is_anonymous(entry: AccessEntry) -> bool:
    return entry.principal.type is PrincipalType.ANONYMOUS
