"""assign: give an existing principal one data role on one registry, at that registry's scope.

Issue 16: a Repository role (Container Registry Repository Reader, Writer, Contributor) may be limited
to repositories (`repositories`: exact names, or prefixes ending in `/`), on a registry in ABAC mode;
the assignment then carries the documented ABAC condition (access/conditions.py
`repository_condition`), so a "Repository Writer" for `team/` pushes team/x and nothing else.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from ..access.conditions import repository_condition
from ..azure import writes_arm
from ..azure.registry_access import find_registry
from ..errors import InputError
from ..models import Registry, RoleAssignmentMode
from ..roles import builtin_by_name
from .plan import Detail, Plan, RunContext, Step, StepOutput
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
    # Issue 16: limit a Repository role to these repositories ("team/" a prefix, "web" one repository);
    # empty: every repository.
    repositories: tuple[str, ...] = ()


Request = AssignRequest

# The distribution spec's repository name grammar (path components of lower-case alphanumerics joined
# by separators), with an optional trailing "/" or "/*" for a prefix; upper case is folded (the
# condition compares ignoring case).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*(?:/\*?)?")
# The roles a repository condition applies to: Catalog Lister "does not support ABAC conditions"
# (container-registry-rbac-abac-repository-permissions.md).
REPOSITORY_ROLES = ("Container Registry Repository Reader", "Container Registry Repository Writer",
                    "Container Registry Repository Contributor")


def check_repositories(repositories: tuple[str, ...] | list[str], role: str) -> tuple[str, ...]:
    """Repository names and prefixes, lower-cased, for a role that takes them; InputError otherwise."""
    if not repositories:
        return ()
    if role not in REPOSITORY_ROLES:
        raise InputError(f"only {', '.join(REPOSITORY_ROLES)} can be limited to repositories, not {role}",
                         field="repositories")
    out: list[str] = []
    for value in repositories:
        text = (value or "").strip().lower()
        if not _REPOSITORY.fullmatch(text) or len(text) > 256:
            raise InputError(f"{(value or '')[:60]!r} is not a repository name or prefix (e.g. team/ for every "
                             "repository under team/, or team/web for one)", field="repositories")
        out.append(text[:-1] if text.endswith("/*") else text)  # team/* and team/ are one prefix
    return tuple(dict.fromkeys(out))


def condition_for(role: str, repositories: tuple[str, ...]) -> str | None:
    """The ABAC condition limiting `role` to `repositories` (None: no limit)."""
    if not repositories:
        return None
    builtin = builtin_by_name(role)
    assert builtin is not None, role
    return repository_condition(builtin.data_actions, repositories)


def check_repository_mode(repositories: tuple[str, ...], registry: Registry) -> None:
    if repositories and registry.role_assignment_mode is RoleAssignmentMode.LEGACY:
        raise InputError(f"{registry.name} is in RBAC (legacy) mode, which honours no repository condition; "
                         "repositories can be limited only on a registry in ABAC mode", field="repositories")


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
    role = check_role_name(req.role)
    check_repositories(req.repositories, role)
    return role



async def check(req: AssignRequest, reads: Reads) -> CheckedAssign:
    role = validate(req, reads.now)
    registry = await find_registry(reads.az, req.registry)
    check_role_for_mode(role, registry.role_assignment_mode, registry.name)
    check_repository_mode(req.repositories, registry)
    target = await resolve_principal(reads.az, req.principal)
    return CheckedAssign(reads, req, role, registry, target)


def plan(c: CheckedAssign) -> Plan:
    az, role, registry, target = c.reads.az, c.role, c.registry, c.target
    role_def = writes_arm.role_definition_id(registry.subscription_id, role_guid(role))
    name = str(uuid.uuid4())
    timeout = c.request.replication_timeout_s
    repositories = check_repositories(c.request.repositories, role)
    condition = condition_for(role, repositories)

    async def there(ctx: RunContext) -> StepOutput | None:
        found = await writes_arm.find_assignment(az, registry.id, role_def, target.object_id, condition)
        return StepOutput({"assignmentId": found.id}, note="already assigned") if found else None

    async def assign(ctx: RunContext) -> StepOutput:
        ra, receipt = await writes_arm.create_role_assignment(az, registry.id, role_def, target.object_id, name=name,
                                                              replication_timeout_s=timeout, condition=condition)
        return StepOutput({"assignmentId": ra.id}, receipt.correlation_ids,
                          note="already assigned" if receipt.already else None)

    warnings = [] if target.enabled else [f"{target.display_name} is disabled: it cannot sign in to use this role."]
    where = f", limited to repositories {limit_text(repositories)}" if repositories else ""
    target_doc: dict[str, Detail] = {**target.target(), "registry": registry.name, "registryId": registry.id,
                                     "role": role}
    if repositories:
        target_doc["repositories"] = ", ".join(repositories)
        warnings.append(f"The same by hand: az role assignment create --role \"{role}\" --scope {registry.id} "
                        f"--assignee-object-id {target.object_id} --condition-version 2.0 --condition \"{condition}\"")
    return Plan(OPERATION.name, f"Assign {role} to {target.display_name} on {registry.name}{where}", target_doc,
                [Step("assign", f"Assign {role} to {target.display_name} at the scope of registry {registry.name}"
                      f"{where}", assign, there)], warnings, [], RunContext())


def limit_text(repositories: tuple[str, ...]) -> str:
    """"team/* and web": prefixes shown as the access view shows them."""
    return " and ".join(r + "*" if r.endswith("/") else r for r in repositories)
