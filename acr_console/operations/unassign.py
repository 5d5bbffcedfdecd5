"""unassign: remove one role of an existing principal on one registry, at that registry's scope.

Assignments of the role above the registry reach beyond it: they are listed, with the command to
remove each, and left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..access import is_at_or_above, scope_level
from ..azure import writes_arm
from ..azure.authorization import assignments_at
from ..azure.clients import AzureClients
from ..azure.registry_access import find_registry
from ..models import Registry, RoleAssignment, ScopeLevel
from .plan import Plan, RunContext, Step, StepOutput, Untouched
from .registry import UNASSIGN as OPERATION
from .registry import Reads
from .targets import PrincipalTarget, resolve_principal
from .validation import check_any_role, check_reference, role_guid


@dataclass(frozen=True)
class UnassignRequest:
    principal: str  # appId, object id or exact display name
    registry: str  # name, login server or resource id
    role: str  # any built-in role: taking away one the console would not hand out is fine


Request = UnassignRequest


@dataclass(frozen=True)
class CheckedUnassign:
    reads: Reads
    role: str  # its canonical name
    registry: Registry
    target: PrincipalTarget
    at_registry: tuple[RoleAssignment, ...]  # to delete
    broader: tuple[RoleAssignment, ...]  # above the registry: left alone


def validate(req: UnassignRequest, now: datetime) -> str:
    """The role's canonical name, once the request is well-formed."""
    check_reference(req.principal, "principal")
    check_reference(req.registry, "registry")
    return check_any_role(req.role)



async def check(req: UnassignRequest, reads: Reads) -> CheckedUnassign:
    role = validate(req, reads.now)
    az = reads.az
    registry = await find_registry(az, req.registry)
    target = await resolve_principal(az, req.principal)
    guid = role_guid(role)
    mine = [a for a in await assignments_at(az, registry.id)
            if a.principal_id == target.object_id.lower() and a.role_guid == guid]
    # atScope() lists the registry and everything above it; the registry's own are the ones to delete.
    at_registry = tuple(a for a in mine
                        if scope_level(a.scope) is ScopeLevel.REGISTRY and is_at_or_above(registry.id, a.scope))
    broader = tuple(a for a in mine if a not in at_registry)
    return CheckedUnassign(reads, role, registry, target, at_registry, broader)


def plan(c: CheckedUnassign) -> Plan:
    role, registry, target = c.role, c.registry, c.target
    steps = [delete_assignment_step(c.reads.az, a.id, f"Remove {role} of {target.display_name} on registry "
                                    f"{registry.name}", n) for n, a in enumerate(c.at_registry)]
    untouched = [Untouched(f"{role} at {a.scope}", "assigned above the registry; it reaches beyond it",
                           f"az role assignment delete --ids {a.id}") for a in c.broader]
    warnings = [] if steps else [f"{target.display_name} holds no {role} assignment on {registry.name} itself; "
                                 "nothing to remove."]
    return Plan(OPERATION.name, f"Remove {role} of {target.display_name} on {registry.name}",
                {**target.target(), "registry": registry.name, "registryId": registry.id, "role": role},
                steps, warnings, untouched, RunContext())


def delete_assignment_step(az: AzureClients, assignment_id: str, description: str, n: int) -> Step:
    """Delete one role assignment (revoke uses it too); gone already counts as done."""

    async def gone(ctx: RunContext) -> StepOutput | None:
        if await writes_arm.assignment_exists(az, assignment_id):
            return None
        return StepOutput({"assignmentId": assignment_id}, note="already removed")

    async def delete(ctx: RunContext) -> StepOutput:
        receipt = await writes_arm.delete_role_assignment(az, assignment_id)
        return StepOutput({"assignmentId": assignment_id}, receipt.correlation_ids,
                          note="already removed" if receipt.already else None, already=receipt.already)

    return Step(f"unassign-{n}", description, delete, gone, idempotent=True)
