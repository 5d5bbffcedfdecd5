"""Scope arithmetic for role assignments.

ARM ids are case-insensitive, so every comparison works on :func:`normalise_scope`. Management
group scopes (``/providers/Microsoft.Management/managementGroups/{id}``) carry no subscription, so
whether one sits above a registry cannot be told from the ids; the ``atScope()`` listing the Azure
layer uses returns only ancestor management groups, so they are taken to be above. Anything deeper
than a resource group is a resource and classifies as :attr:`ScopeLevel.REGISTRY`.
"""

from __future__ import annotations

from acr_console.models import ScopeLevel

_MANAGEMENT_GROUPS = "/providers/microsoft.management/managementgroups/"


def normalise_scope(scope: str) -> str:
    """Lower case, one leading slash, no trailing slash, no empty segments; the root is ``/``."""
    parts = [p for p in scope.strip().lower().split("/") if p]
    return "/" + "/".join(parts)


def scope_level(scope: str) -> ScopeLevel:
    norm = normalise_scope(scope)
    if norm == "/":
        return ScopeLevel.ROOT
    if norm.startswith(_MANAGEMENT_GROUPS):
        return ScopeLevel.MANAGEMENT_GROUP
    parts = norm.strip("/").split("/")
    if parts[0] == "subscriptions":
        if len(parts) <= 2:
            return ScopeLevel.SUBSCRIPTION
        if parts[2] == "resourcegroups" and len(parts) <= 4:
            return ScopeLevel.RESOURCE_GROUP
    return ScopeLevel.REGISTRY


def is_at_or_above(assignment_scope: str, resource_id: str) -> bool:
    """Whether an assignment at ``assignment_scope`` applies to ``resource_id``."""
    scope = normalise_scope(assignment_scope)
    target = normalise_scope(resource_id)
    if scope == "/" or scope == target:
        return True
    if scope.startswith(_MANAGEMENT_GROUPS):
        return not target.startswith(_MANAGEMENT_GROUPS) or target.startswith(scope + "/")
    return target.startswith(scope + "/")


def is_inherited(assignment_scope: str, registry_id: str) -> bool:
    """Whether the assignment comes from above the registry rather than the registry itself."""
    return normalise_scope(assignment_scope) != normalise_scope(registry_id)
