"""Assign or remove one data role on one registry for an existing principal."""

from __future__ import annotations

import uuid

from ..access import is_at_or_above, scope_level
from ..azure import writes_arm
from ..azure.authorization import assignments_at
from ..azure.clients import AzureClients
from ..azure.registry_access import find_registry
from ..models import ScopeLevel
from ..roles import builtin_by_name
from .plan import Plan, RunContext, Step, StepOutput, Untouched
from .targets import resolve_principal
from .validation import InputError, all_data_roles, check_reference, check_role_for_mode, check_role_name


def check_any_role(role: str) -> str:
    """Any built-in role by name, for removal: taking away a role the console would not hand out is fine."""
    builtin = builtin_by_name((role or "").strip())
    if builtin is None:
        raise InputError(f"unknown role {role!r}; name a built-in role such as {', '.join(all_data_roles())}")
    return builtin.name


async def plan_assign(az: AzureClients, principal: str, registry_ref: str, role: str, *,
                      replication_timeout_s: float = writes_arm.PRINCIPAL_REPLICATION_TIMEOUT_S) -> Plan:
    check_reference(principal, "principal")
    check_reference(registry_ref, "registry")
    role = check_role_name(role)
    registry = await find_registry(az, registry_ref)
    check_role_for_mode(role, registry.role_assignment_mode, registry.name)
    target = await resolve_principal(az, principal)
    guid = builtin_by_name(role).guid  # type: ignore[union-attr]
    role_def = writes_arm.role_definition_id(registry.subscription_id, guid)
    name = str(uuid.uuid4())

    async def there(ctx: RunContext) -> StepOutput | None:
        found = await writes_arm.find_assignment(az, registry.id, role_def, target.object_id)
        return StepOutput({"assignmentId": found.id}, note="already assigned") if found else None

    async def assign(ctx: RunContext) -> StepOutput:
        ra, receipt = await writes_arm.create_role_assignment(az, registry.id, role_def, target.object_id, name=name,
                                                              replication_timeout_s=replication_timeout_s)
        return StepOutput({"assignmentId": ra.id}, receipt.correlation_ids,
                          note="already assigned" if receipt.already else None)

    warnings = [] if target.enabled else [f"{target.display_name} is disabled: it cannot sign in to use this role."]
    return Plan("assign", f"Assign {role} to {target.display_name} on {registry.name}",
                {**target.target(), "registry": registry.name, "registryId": registry.id, "role": role},
                [Step("assign", f"Assign {role} to {target.display_name} at the scope of registry {registry.name}",
                      assign, there)], warnings, [], RunContext())


async def plan_unassign(az: AzureClients, principal: str, registry_ref: str, role: str) -> Plan:
    check_reference(principal, "principal")
    check_reference(registry_ref, "registry")
    role = check_any_role(role)
    registry = await find_registry(az, registry_ref)
    target = await resolve_principal(az, principal)
    guid = builtin_by_name(role).guid  # type: ignore[union-attr]
    mine = [a for a in await assignments_at(az, registry.id)
            if a.principal_id == target.object_id.lower() and a.role_guid == guid]
    # atScope() lists the registry and everything above it; the registry's own are the ones to delete.
    at_registry = [a for a in mine
                   if scope_level(a.scope) is ScopeLevel.REGISTRY and is_at_or_above(registry.id, a.scope)]
    broader = [a for a in mine if a not in at_registry]
    steps = [_delete_step(az, a.id, f"Remove {role} of {target.display_name} on registry {registry.name}", n)
             for n, a in enumerate(at_registry)]
    untouched = [Untouched(f"{role} at {a.scope}", "assigned above the registry; it reaches beyond it",
                           f"az role assignment delete --ids {a.id}") for a in broader]
    warnings = [] if steps else [f"{target.display_name} holds no {role} assignment on {registry.name} itself; "
                                 "nothing to remove."]
    return Plan("unassign", f"Remove {role} of {target.display_name} on {registry.name}",
                {**target.target(), "registry": registry.name, "registryId": registry.id, "role": role},
                steps, warnings, untouched, RunContext())


def _delete_step(az: AzureClients, assignment_id: str, description: str, n: int) -> Step:
    async def gone(ctx: RunContext) -> StepOutput | None:
        if await writes_arm.assignment_exists(az, assignment_id):
            return None
        return StepOutput({"assignmentId": assignment_id}, note="already removed")

    async def delete(ctx: RunContext) -> StepOutput:
        receipt = await writes_arm.delete_role_assignment(az, assignment_id)
        return StepOutput({"assignmentId": assignment_id}, receipt.correlation_ids,
                          note="already removed" if receipt.already else None, already=receipt.already)

    return Step(f"unassign-{n}", description, delete, gone, idempotent=True)


delete_assignment_step = _delete_step
