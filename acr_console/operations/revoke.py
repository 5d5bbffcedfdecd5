"""Revoke a principal's registry access: the incident path (docs/reference/acr-access.md §6).

Role assignments at registry scope are deleted; assignments above the registry that grant registry
rights are listed and deleted only when asked (they reach beyond registries); group memberships
that still grant access are listed with the command to end each, never changed here (a group is
shared with others). Credentials on both application and service principal, sign-in, and the
application itself are handled when asked. Independent steps run at once; the application is
deleted last and only when everything else succeeded, so a re-run can still find what is left.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..access import assignment_paths, is_at_or_above, normalise_scope, scope_level
from ..azure import writes_graph
from ..azure.authorization import RoleDefinitions, assignments_of
from ..azure.clients import AzureClients
from ..azure.directory import member_of
from ..azure.errors import AzureCallError
from ..azure.registries import list_registries
from ..azure.registry_access import find_registry
from ..errors import InputError
from ..models import CredentialKind, CredentialOwner, Group, Registry, RoleAssignment, ScopeLevel
from .credentials import remove_credential_step
from .plan import Plan, RunContext, Step, StepOutput, Untouched
from .registry import REVOKE as OPERATION
from .registry import Reads
from .targets import PrincipalTarget, describe_credential, resolve_principal
from .unassign import delete_assignment_step
from .validation import check_reference

MAX_CONCURRENT_READS = 8


@dataclass(frozen=True)
class RevokeRequest:
    principal: str
    registry: str | None = None
    all_registries: bool = False
    include_broader_scopes: bool = False
    remove_credentials: bool = False
    disable: bool = False
    delete_application: bool = False


Request = RevokeRequest


def validate(req: RevokeRequest, now: datetime) -> None:
    check_reference(req.principal, "principal")
    if bool(req.registry) == bool(req.all_registries):
        raise InputError("name one registry, or choose every visible registry", field="registry")
    if req.registry:
        check_reference(req.registry, "registry")


@dataclass(frozen=True)
class _Found:
    assignment: RoleAssignment
    registries: tuple[Registry, ...]  # the registries in reach it grants something on
    role_name: str


@dataclass(frozen=True)
class CheckedRevoke:
    reads: Reads
    request: RevokeRequest
    target: PrincipalTarget
    registries: tuple[Registry, ...]  # in reach
    read_warnings: tuple[str, ...]  # what could not be read (its registries are not covered)
    group_names: dict[str, str]  # object id (lower case) -> display name of the principal's groups
    direct_registry: tuple[_Found, ...]  # its own assignments at registry scope
    broader: tuple[_Found, ...]  # its own assignments above registries that grant rights on one
    via_group: tuple[_Found, ...]  # its groups' assignments that grant rights on one
    # For each granting group, the principal's direct groups through which it is a member.
    routes: dict[str, list[dict[str, Any]]]


async def _assignments_of(az: AzureClients, registries: list[Registry], sp_id: str) -> list[RoleAssignment]:
    """The principal's assignments, its groups' included: one assignedTo() list per subscription of
    the registries in reach, rather than one atScope() list per registry (500 registries are 500
    requests; their subscriptions a handful)."""
    gate = asyncio.Semaphore(MAX_CONCURRENT_READS)

    async def one(sub: str) -> list[RoleAssignment]:
        async with gate:
            return await assignments_of(az, sub, sp_id)

    subscriptions = sorted({r.subscription_id.lower() for r in registries})
    return [a for listed in await asyncio.gather(*(one(s) for s in subscriptions)) for a in listed]


def _in_reach(assignments: list[RoleAssignment], registries: list[Registry],
              principal_ids: set[str]) -> dict[str, tuple[RoleAssignment, list[Registry]]]:
    """Each assignment of these principals with the registries in reach it applies to."""
    by_id = {normalise_scope(r.id): r for r in registries}
    found: dict[str, tuple[RoleAssignment, list[Registry]]] = {}
    for a in assignments:
        if a.principal_id.lower() not in principal_ids or a.id.lower() in found:
            continue
        # Most assignments are on one registry: a lookup, not a scan of every registry in reach.
        exact = by_id.get(normalise_scope(a.scope))
        regs = [exact] if exact is not None else [r for r in registries if is_at_or_above(a.scope, r.id)]
        if regs:
            found[a.id.lower()] = (a, regs)
    return found


async def _group_routes(az: AzureClients, sp_id: str, granting: set[str]) -> dict[str, list[dict[str, Any]]]:
    """For each granting group, the principal's direct groups through which it is a member: the
    membership a person would end (removing it from a nested parent would cut others off too)."""
    routes: dict[str, list[dict[str, Any]]] = {g: [] for g in granting}
    try:
        for d in await writes_graph.groups_of(az, "servicePrincipals", sp_id, transitive=False):
            did = d["id"].lower()
            reach = {did}
            if granting - {did}:
                reach |= {g["id"].lower() for g in await writes_graph.groups_of(az, "groups", did, transitive=True)}
            for g in granting & reach:
                routes[g].append(d)
    except AzureCallError:
        # Only a nicer command is lost: the caller then names the granting group itself.
        return {}
    return routes


async def check(req: RevokeRequest, reads: Reads) -> CheckedRevoke:
    validate(req, reads.now)
    az = reads.az
    az.prefetch_graph()
    az.prefetch_writes()
    warnings: list[str] = []

    async def reach() -> list[Registry]:
        if req.registry:
            return [await find_registry(az, req.registry)]
        listing = await list_registries(az)
        for sub_id, err in listing.errors.items():
            warnings.append(f"Subscription {sub_id} could not be read ({err.code}); its registries are not covered.")
        return listing.registries

    # The principal and the registries do not depend on each other; the principal's groups and
    # assignments need only the principal (and the registries' subscriptions).
    registries_task = asyncio.ensure_future(reach())
    groups_task: asyncio.Future[list[Group]] | None = None
    try:
        target = await resolve_principal(az, req.principal)
        if req.delete_application and target.app is None:
            raise InputError(f"the application of {target.display_name} is registered in another tenant; it "
                             "cannot be deleted from here", field="delete_application")
        groups_task = asyncio.ensure_future(member_of(az, target.object_id))
        registries = await registries_task
        groups, assignments = await asyncio.gather(groups_task, _assignments_of(az, registries, target.object_id))
    finally:
        started = [t for t in (registries_task, groups_task) if t is not None]
        for task in started:
            if not task.done():
                task.cancel()
        # Also collects the error of a task that failed while another was awaited: an exception no
        # one retrieves is reported by asyncio on stderr, beside the one the user is shown.
        await asyncio.gather(*started, return_exceptions=True)
    group_names = {g.object_id.lower(): g.display_name for g in groups}
    sp_id = target.object_id.lower()
    found = _in_reach(assignments, registries, {sp_id, *group_names})
    definitions = await RoleDefinitions(az).resolve([a for a, _ in found.values()])

    direct_registry: list[_Found] = []
    broader: list[_Found] = []
    via_group: list[_Found] = []
    for a, regs in found.values():
        d = definitions.get(a.role_guid)
        role = d.role_name if d else a.role_guid
        granting = tuple(r for r in regs
                         if any(p.rights or p.latent for p in assignment_paths(r, a, d)) or d is None)
        item = _Found(a, granting or tuple(regs), role)
        if a.principal_id.lower() != sp_id:
            if granting:
                via_group.append(item)
        elif scope_level(a.scope) is ScopeLevel.REGISTRY:
            direct_registry.append(item)
        elif granting:
            broader.append(item)
    routes = await _group_routes(az, sp_id, {f.assignment.principal_id.lower() for f in via_group}) if via_group else {}
    return CheckedRevoke(reads, req, target, tuple(registries), tuple(warnings), group_names, tuple(direct_registry),
                         tuple(broader), tuple(via_group), routes)


def plan(checked: CheckedRevoke) -> Plan:
    az, req, target, registries = checked.reads.az, checked.request, checked.target, checked.registries
    group_names, routes = checked.group_names, checked.routes
    direct_registry, broader, via_group = checked.direct_registry, checked.broader, checked.via_group
    warnings = list(checked.read_warnings)
    steps: list[Step] = []
    untouched: list[Untouched] = []
    for n, f in enumerate(direct_registry):
        steps.append(_renamed(delete_assignment_step(
            az, f.assignment.id, f"Delete role assignment {f.role_name} on registry {f.registries[0].name}", n),
            f"assignment-{n}"))
    for n, f in enumerate(broader):
        names = ", ".join(r.name for r in f.registries)
        what = f"{f.role_name} at {_level(f.assignment.scope)} {f.assignment.scope}"
        if req.include_broader_scopes:
            steps.append(_renamed(delete_assignment_step(
                az, f.assignment.id, f"Delete role assignment {what} (reaches {names} and everything else there)",
                n), f"broader-assignment-{n}"))
        else:
            untouched.append(Untouched(f"role assignment {what}, which grants rights on {names}",
                                       "it is above the registry and reaches beyond it; pass --include-broader-scopes "
                                       "to delete it too", f"az role assignment delete --ids {f.assignment.id}"))
    if via_group:
        for f in via_group:
            gid = f.assignment.principal_id.lower()
            gname = group_names.get(gid, gid)
            names = ", ".join(r.name for r in f.registries)
            for d in routes.get(gid) or [{"id": gid, "displayName": gname}]:
                nested = "" if d["id"].lower() == gid else f" (nested in '{gname}')"
                untouched.append(Untouched(
                    f"membership in group '{d.get('displayName') or d['id']}'{nested}: {f.role_name} of '{gname}' "
                    f"at {_level(f.assignment.scope)} scope grants rights on {names}",
                    "groups are shared; the console does not change their members",
                    f"az ad group member remove --group {d['id']} --member-id {target.object_id}"))

    if req.disable:
        steps.append(_disable_step(az, target))
    elif target.enabled:
        untouched.append(Untouched("sign-in stays enabled", "pass --disable to stop new sign-ins"))
    credential_steps: list[str] = []
    creds = target.credentials()
    if req.remove_credentials:
        for c in creds:
            if c.kind is CredentialKind.PASSWORD:
                step = remove_credential_step(az, target, c)
                steps.append(step)
                credential_steps.append(step.id)
        for owner in (CredentialOwner.APPLICATION, CredentialOwner.SERVICE_PRINCIPAL):
            certs = [c for c in creds if c.kind is CredentialKind.CERTIFICATE and c.owner is owner]
            if certs:
                step = _clear_certificates_step(az, target, owner, certs)
                steps.append(step)
                credential_steps.append(step.id)
        steps.append(_sweep_step(az, target, tuple(credential_steps)))
        credential_steps.append("sweep-credentials")
        untouched.append(Untouched("federated identity credentials (workload identity federation)",
                                   "not read by the console; check and delete them by hand",
                                   f"az ad app federated-credential list --id {target.app_id}"))
    elif creds:
        untouched.append(Untouched(f"{len(creds)} credential(s) on the application and service principal",
                                   "pass --remove-credentials to remove every password and certificate"))
    if req.delete_application:
        steps.append(_delete_app_step(az, target, tuple(s.id for s in steps)))
    for reg in registries:
        if reg.admin_user_enabled:
            untouched.append(Untouched(
                f"admin user of {reg.name} (enabled)", "a shared password with full rights, not tied to this principal",
                f"az acr credential renew --name {reg.name} --password-name password"))
    if req.registry:
        untouched.append(Untouched("assignments on other registries", "one registry was named",
                                   f"acr-console revoke {target.app_id} --all-registries"))
    warnings.append("Registry tokens issued before now stay valid until they expire (up to 3 hours), and Azure RBAC "
                    "caches can take up to 30 minutes: verify with 'acr-console test-login' afterwards.")
    if not steps:
        warnings.append("Nothing to change: no direct role assignment in reach and no other action asked for.")
    scope_text = registries[0].name if req.registry else f"all {len(registries)} visible registries"
    # Taking access away is typed to confirm: the console asks for the principal's name first.
    return Plan(OPERATION.name, f"Revoke {target.display_name} on {scope_text}",
                {**target.target(), "registries": ", ".join(r.name for r in registries),
                 "includeBroaderScopes": req.include_broader_scopes, "removeCredentials": req.remove_credentials,
                 "disable": req.disable, "deleteApplication": req.delete_application},
                steps, warnings, untouched, RunContext(), typed_confirmation=True)


def _level(scope: str) -> str:
    return {ScopeLevel.RESOURCE_GROUP: "resource group", ScopeLevel.SUBSCRIPTION: "subscription",
            ScopeLevel.MANAGEMENT_GROUP: "management group", ScopeLevel.ROOT: "root",
            ScopeLevel.REGISTRY: "registry"}[scope_level(scope)]


def _renamed(step: Step, step_id: str) -> Step:
    step.id = step_id
    return step


def _disable_step(az: AzureClients, target: PrincipalTarget) -> Step:
    async def disabled(ctx: RunContext) -> StepOutput | None:
        doc = await writes_graph.get_service_principal(az, target.object_id)
        if doc is None or doc.get("accountEnabled") is False:
            return StepOutput({"servicePrincipalObjectId": target.object_id}, note="already disabled")
        return None

    async def disable(ctx: RunContext) -> StepOutput:
        receipt = await writes_graph.set_account_enabled(az, target.object_id, False)
        return StepOutput({"servicePrincipalObjectId": target.object_id}, receipt.correlation_ids)

    # Planned on an enabled principal, the first execution need not read it again.
    return Step("disable", "Disable sign-in for the service principal (accountEnabled: false)", disable, disabled,
                lock=target.object_id, idempotent=target.enabled)


def _clear_certificates_step(az: AzureClients, target: PrincipalTarget, owner: CredentialOwner,
                             certs: list[Any]) -> Step:
    object_id = target.owner_id(owner)
    assert object_id is not None
    label = "application" if owner is CredentialOwner.APPLICATION else "service principal"

    async def cleared(ctx: RunContext) -> StepOutput | None:
        if not await writes_graph.key_credentials_of(az, owner, object_id):
            return StepOutput({"on": owner.value}, note="no certificate left")
        return None

    async def clear(ctx: RunContext) -> StepOutput:
        # One PATCH with an empty list: also removes a certificate added since the plan was made.
        receipt = await writes_graph.set_key_credentials(az, owner, object_id, [])
        return StepOutput({"on": owner.value, "removed": len(certs)}, receipt.correlation_ids)

    listed = "; ".join(describe_credential(c) for c in certs)
    return Step(f"clear-certificates-{owner.value}", f"Remove every certificate from the {label}: {listed}",
                clear, cleared, lock=object_id, idempotent=True)


def _sweep_step(az: AzureClients, target: PrincipalTarget, after: tuple[str, ...]) -> Step:
    """Catch credentials added between the plan and its execution (an intruder adding a secret)."""
    owners = [(o, target.owner_id(o)) for o in (CredentialOwner.APPLICATION, CredentialOwner.SERVICE_PRINCIPAL)]

    async def leftovers() -> list[tuple[CredentialOwner, str, str, str]]:
        present = [(owner, oid) for owner, oid in owners if oid is not None]
        docs = await asyncio.gather(*(writes_graph.get_credential_owner(az, owner, oid) for owner, oid in present))
        out = []
        for (owner, oid), doc in zip(present, docs, strict=True):
            doc = doc or {}
            out += [(owner, oid, "password", p["keyId"]) for p in doc.get("passwordCredentials") or []]
            out += [(owner, oid, "certificate", k["keyId"]) for k in doc.get("keyCredentials") or []]
        return out

    async def clean(ctx: RunContext) -> StepOutput | None:
        return None if await leftovers() else StepOutput(note="no password or certificate remains")

    async def sweep(ctx: RunContext) -> StepOutput:
        removed: list[str] = []
        ids: list[str] = []
        found = await leftovers()
        if not found:
            return StepOutput(note="no password or certificate remains", already=True)
        for owner, oid, kind, key_id in found:
            if kind == "password":
                receipt = await writes_graph.remove_password(az, owner, oid, key_id)
            else:
                receipt = await writes_graph.set_key_credentials(az, owner, oid, [])
            removed.append(key_id)
            ids += receipt.correlation_ids
        if await leftovers():
            raise AzureCallError("CredentialsRemain", "credentials are still being added to this principal; "
                             "disable it (--disable) and run revoke again", 409)
        return StepOutput({"removedKeyIds": ", ".join(removed)}, tuple(ids),
                          note=f"removed {len(removed)} credential(s) added after the plan was made")

    return Step("sweep-credentials", "Check that no password or certificate remains on either object "
                "(removing any added since this plan was made)", sweep, clean, depends_on=after, idempotent=True)


def _delete_app_step(az: AzureClients, target: PrincipalTarget, after: tuple[str, ...]) -> Step:
    app_object_id = target.app_object_id
    assert app_object_id is not None

    async def gone(ctx: RunContext) -> StepOutput | None:
        if await writes_graph.get_application(az, app_object_id) is None:
            return StepOutput({"applicationObjectId": app_object_id}, note="already deleted")
        return None

    async def delete(ctx: RunContext) -> StepOutput:
        receipt = await writes_graph.delete_application(az, app_object_id)
        return StepOutput({"applicationObjectId": app_object_id}, receipt.correlation_ids,
                          note="already deleted" if receipt.already else None, already=receipt.already)

    return Step("delete-application", f"Delete application '{target.display_name}' and with it the service "
                "principal (soft delete: restorable for 30 days), once every step above succeeded",
                delete, gone, depends_on=after, lock=app_object_id, idempotent=True)
