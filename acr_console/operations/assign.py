"""assign: give an existing principal one data role on one registry, at that registry's scope."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from ..azure import writes_arm
from ..azure.registry_access import find_registry
from ..models import Registry
from .plan import Plan, RunContext, Step, StepOutput
from .registry import ASSIGN as OPERATION
from .registry import Reads
from .targets import PrincipalTarget, resolve_principal
from .validation import check_reference, check_role_for_mode, check_role_name, role_guid


@dataclass(frozen=True)
class AssignRequest:
    principal: str  # appId, object id or exact display name
    registry: str  # name, login server or resource id
    role: str
    replication_timeout_s: float = writes_arm.PRINCIPAL_REPLICATION_TIMEOUT_S


Request = AssignRequest


@dataclass(frozen=True)
class CheckedAssign:
    reads: Reads
    request: AssignRequest
    role: str  # its canonical name
    registry: Registry
    target: PrincipalTarget


def validate(req: AssignRequest, now: datetime) -> str:
    """The role's canonical name, once the request is well-formed."""
    check_reference(req.principal, "principal")
    check_reference(req.registry, "registry")
    return check_role_name(req.role)



async def check(req: AssignRequest, reads: Reads) -> CheckedAssign:
    role = validate(req, reads.now)
    registry = await find_registry(reads.az, req.registry)
    check_role_for_mode(role, registry.role_assignment_mode, registry.name)
    target = await resolve_principal(reads.az, req.principal)
    return CheckedAssign(reads, req, role, registry, target)


def plan(c: CheckedAssign) -> Plan:
    az, role, registry, target = c.reads.az, c.role, c.registry, c.target
    role_def = writes_arm.role_definition_id(registry.subscription_id, role_guid(role))
    name = str(uuid.uuid4())
    timeout = c.request.replication_timeout_s

    async def there(ctx: RunContext) -> StepOutput | None:
        found = await writes_arm.find_assignment(az, registry.id, role_def, target.object_id)
        return StepOutput({"assignmentId": found.id}, note="already assigned") if found else None

    async def assign(ctx: RunContext) -> StepOutput:
        ra, receipt = await writes_arm.create_role_assignment(az, registry.id, role_def, target.object_id, name=name,
                                                              replication_timeout_s=timeout)
        return StepOutput({"assignmentId": ra.id}, receipt.correlation_ids,
                          note="already assigned" if receipt.already else None)

    warnings = [] if target.enabled else [f"{target.display_name} is disabled: it cannot sign in to use this role."]
    return Plan(OPERATION.name, f"Assign {role} to {target.display_name} on {registry.name}",
                {**target.target(), "registry": registry.name, "registryId": registry.id, "role": role},
                [Step("assign", f"Assign {role} to {target.display_name} at the scope of registry {registry.name}",
                      assign, there)], warnings, [], RunContext())
