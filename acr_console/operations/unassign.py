"""unassign: remove one role of an existing principal on one registry, at that registry's scope; or
one role assignment named by its id.

Assignments of the role above the registry reach beyond it: they are listed, with the command to
remove each, and left alone.

By id (issue 16): the assignment is read by its id and deleted; the principal is not looked up
first, so an assignment whose principal Microsoft Entra ID no longer returns (deleted: the access
view's "not returned by the directory") can be removed, which a lookup by principal cannot
(Graph answers Request_ResourceNotFound). Its principal is named by object id, with its name when
the directory still returns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..access import is_at_or_above, scope_level
from ..access.resource_ids import try_parse_resource_id
from ..azure import writes_arm
from ..azure.authorization import assignments_at
from ..azure.clients import AzureClients
from ..azure.directory import get_by_ids
from ..azure.registry_access import find_registry
from ..errors import InputError
from ..models import Registry, RoleAssignment, ScopeLevel
from ..roles import builtin_by_guid
from .plan import Detail, Plan, RunContext, Step, StepOutput, Untouched
from .registry import UNASSIGN as OPERATION
from .registry import Reads
from .targets import PrincipalTarget, resolve_principal
from .validation import check_any_role, check_reference, role_guid

ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"


@dataclass(frozen=True)
class UnassignRequest:
    principal: str = ""  # appId, object id or exact display name
    registry: str = ""  # name, login server or resource id
    role: str = ""  # any built-in role: taking away one the console would not hand out is fine
    # Or (issue 16) one role assignment by its resource id, instead of the three above.
    assignment_id: str | None = None


Request = UnassignRequest


@dataclass(frozen=True)
class CheckedUnassignById:
    reads: Reads
    assignment: RoleAssignment | None  # None: already gone
    assignment_id: str
    role: str  # its name, or the role definition's GUID when it is not a built-in role
    principal: str  # the principal's display name, or its object id when the directory does not return it
    orphaned: bool  # the directory did not return the principal
    is_self: bool = False  # the principal is the identity the console signs in as


@dataclass(frozen=True)
class CheckedUnassign:
    reads: Reads
    role: str  # its canonical name
    registry: Registry
    target: PrincipalTarget
    at_registry: tuple[RoleAssignment, ...]  # to delete
    broader: tuple[RoleAssignment, ...]  # above the registry: left alone


def validate(req: UnassignRequest, now: datetime) -> str:
    """The role's canonical name (by id: the assignment id), once the request is well-formed."""
    if req.assignment_id is not None:
        if req.principal or req.registry or req.role:
            raise InputError("name either one assignment by its id, or a principal, a registry and a role; "
                             "not both", field="assignment_id")
        return check_assignment_id(req.assignment_id)
    if not (req.principal or req.registry or req.role):
        raise InputError("name the principal, its registry and the role, or one assignment by its id",
                         field="principal")
    check_reference(req.principal, "principal")
    check_reference(req.registry, "registry")
    return check_any_role(req.role)


def check_assignment_id(value: str) -> str:
    """A role assignment's resource id: `{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}`."""
    text = check_reference(value, "assignment_id", "assignment id")
    parsed = try_parse_resource_id(text)
    if parsed is None or not parsed.is_type(ASSIGNMENT_TYPE) or not parsed.name:
        raise InputError(f"{text[:80]!r} is not a role assignment id; it looks like /subscriptions/SUB/.../"
                         "providers/Microsoft.Authorization/roleAssignments/GUID (the access view's detail "
                         "and `az role assignment list` show it)", field="assignment_id")
    return text


async def check(req: UnassignRequest, reads: Reads) -> CheckedUnassign | CheckedUnassignById:
    if req.assignment_id is not None:
        return await _check_by_id(validate(req, reads.now), reads)
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


async def _check_by_id(assignment_id: str, reads: Reads) -> CheckedUnassignById:
    az = reads.az
    found = await writes_arm.read_assignment(az, assignment_id)
    if found is None:
        return CheckedUnassignById(reads, None, assignment_id, "?", "?", orphaned=False)
    builtin = builtin_by_guid(found.role_guid)
    role = builtin.name if builtin is not None else found.role_guid
    # One getByIds for the name: what the access view reads; nothing returned = not in the directory.
    doc = (await get_by_ids(az, [found.principal_id])).get(found.principal_id.lower())
    me = az.identity or await az.signed_in_identity()  # the token's claims: no request
    return CheckedUnassignById(reads, found, assignment_id, role,
                               str(doc.get("displayName") or found.principal_id) if doc else found.principal_id,
                               orphaned=doc is None, is_self=(me.object_id or "").lower() == found.principal_id.lower())


def plan(c: CheckedUnassign | CheckedUnassignById) -> Plan:
    if isinstance(c, CheckedUnassignById):
        return _plan_by_id(c)
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


def _plan_by_id(c: CheckedUnassignById) -> Plan:
    a = c.assignment
    target: dict[str, Detail] = {"assignmentId": c.assignment_id, "role": c.role}
    if a is None:
        target["role"] = None
        return Plan(OPERATION.name, f"Remove role assignment {c.assignment_id}", target, [],
                    [f"role assignment {c.assignment_id} does not exist (already removed); nothing to remove."])
    who = c.principal if not c.orphaned else f"{a.principal_id} (not returned by the directory)"
    target.update({"principal": c.principal, "principalObjectId": a.principal_id, "scope": a.scope,
                   "orphaned": c.orphaned})
    step = delete_assignment_step(c.reads.az, a.id, f"Remove {c.role} of {who} at {a.scope}", 0)
    warnings = []
    if c.is_self:
        # `findings` proposes this for a broad Owner or Contributor, which the console's own identity
        # often holds (the demo's admin does): removing it can take away what the console needs.
        warnings.append(f"{c.principal} is the identity this console signs in as: removing {c.role} at {a.scope} "
                        "takes it away from the console too, and what it alone could do (assign roles there, read "
                        "or change those registries) may not be possible afterwards.")
    if c.orphaned:
        warnings.append(f"Microsoft Entra ID did not return principal {a.principal_id}: it may have been deleted, be "
                        "too new to have replicated, or be of a type the console does not read. Removing the "
                        "assignment takes its access away should it come back.")
    return Plan(OPERATION.name, f"Remove {c.role} of {who}", target, [step], warnings,
                [Untouched("the principal itself", "only this role assignment is removed",
                           f"az role assignment delete --ids {a.id}")])


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
