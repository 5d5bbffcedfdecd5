"""What ARM checks in a custom role definition before it stores it: types and documented limits.

MicrosoftDocs/azure-docs articles/role-based-access-control/custom-roles.md, "Custom role properties"
and "Custom role limits": `roleName` at most 512 characters, `description` at most 2048,
`actions`/`notActions`/`dataActions`/`notDataActions` arrays of strings, `assignableScopes` 1 to 2,000
strings, never the root scope `/`, no wildcard, at most one management group; one wildcard per
action string; at most 5,000 custom roles per tenant (RoleDefinitionLimitExceeded, troubleshoot-limits.md).
The codes for the limits other than the last are not documented; they are descriptive ones, and a
value of the wrong JSON type gets the deserialization error every ARM body gets (`arm.json_body`).
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError

MAX_ROLE_NAME = 512
MAX_DESCRIPTION = 2048
MAX_ASSIGNABLE_SCOPES = 2000
MAX_CUSTOM_ROLES = 5000
MAX_ASSIGNMENTS_PER_SUBSCRIPTION = 4000
PERMISSION_KEYS = ("actions", "notActions", "dataActions", "notDataActions")
_MG_PREFIX = "/providers/microsoft.management/managementgroups/"


def _not_deserializable(path: str, want: str) -> ApiError:
    return ApiError(400, "InvalidRequestContent",
                    f"The request content was invalid and could not be deserialized: '{path}' must be {want}.")


def _strings(value: Any, path: str) -> list[str]:
    """A JSON array of strings (null or absent: empty), or the deserialization error."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _not_deserializable(path, "an array of strings")
    return list(value)


def check_definition(props: dict[str, Any]) -> list[str]:
    """Refuse what ARM refuses in `properties`; the assignable scopes as sent."""
    role_name = props.get("roleName")
    if isinstance(role_name, str) and len(role_name) > MAX_ROLE_NAME:
        raise ApiError(400, "InvalidRoleDefinitionName",
                       f"The role definition name is {len(role_name)} characters long; the maximum is "
                       f"{MAX_ROLE_NAME}.")
    description = props.get("description")
    if description is not None and not isinstance(description, str):
        raise _not_deserializable("properties.description", "a string")
    if description and len(description) > MAX_DESCRIPTION:
        raise ApiError(400, "InvalidRoleDefinitionDescription",
                       f"The role definition description is {len(description)} characters long; the maximum "
                       f"is {MAX_DESCRIPTION}.")
    scopes = _strings(props.get("assignableScopes"), "properties.assignableScopes")
    if not scopes:
        raise ApiError(400, "InvalidAssignableScopes", "The role definition must have assignable scopes.")
    if len(scopes) > MAX_ASSIGNABLE_SCOPES:
        raise ApiError(400, "InvalidAssignableScopes",
                       f"The role definition has {len(scopes)} assignable scopes; the maximum is "
                       f"{MAX_ASSIGNABLE_SCOPES}.")
    for scope in scopes:
        if not scope.strip("/"):
            raise ApiError(400, "InvalidAssignableScopes",
                           "The root scope '/' cannot be an assignable scope of a custom role.")
        if "*" in scope:
            raise ApiError(400, "InvalidAssignableScopes",
                           f"The assignable scope '{scope}' is not valid: wildcards are not allowed.")
    if sum(1 for s in scopes if s.lower().startswith(_MG_PREFIX)) > 1:
        raise ApiError(400, "InvalidAssignableScopes",
                       "A custom role can have only one management group in its assignable scopes.")
    permissions_of(props)
    return scopes


def permissions_of(props: dict[str, Any]) -> list[dict[str, list[str]]]:
    """`properties.permissions` as stored: each block with its four lists of strings."""
    blocks = props.get("permissions")
    if blocks is None:
        blocks = [{}]
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise _not_deserializable("properties.permissions", "an array of objects")
    out: list[dict[str, list[str]]] = []
    for i, block in enumerate(blocks):
        perm = {key: _strings(block.get(key), f"properties.permissions[{i}].{key}") for key in PERMISSION_KEYS}
        for key, actions in perm.items():
            for action in actions:
                if not action.strip() or action.count("*") > 1:
                    raise ApiError(400, "InvalidActionOrNotAction",
                                   f"'{action}' in {key} is not a valid action: an action is a non-empty "
                                   "string with at most one wildcard.")
        out.append(perm)
    return out


def check_assignment_room(held: int) -> None:
    """Refuse a new role assignment in a subscription that already holds `held` (its scope and below)."""
    if held >= MAX_ASSIGNMENTS_PER_SUBSCRIPTION:
        # The message is the one troubleshoot-limits.md quotes; its status is ARM's for a request it
        # validates and refuses (400), as for the other assignment errors.
        raise ApiError(400, "RoleAssignmentLimitExceeded", "No more role assignments can be created.")
