"""Revoke a principal's registry access: the incident path (docs/reference/acr-access.md §6).

Role assignments at registry scope are deleted; assignments above the registry that grant registry
rights are listed and deleted only when asked (they reach beyond registries); group memberships
that still grant access are listed with the command to end each, never changed here (a group is
shared with others). Credentials on both application and service principal, sign-in, and the
application itself are handled when asked. Independent steps run at once; the application is
deleted last and only when everything else succeeded, so a re-run can still find what is left.

After the plan has run, `remaining_access` reads again what the principal can still do on the
registries in scope (issue 14: a revoke must not say "complete" while a group still lets the
principal push): its role assignments and its groups' (`assignedTo()`), the groups' members (the
access view's `group_tree`), the registries as Azure answers now and the principal's sign-in state,
analysed by the access view's own `analyse`. Front ends report it and, from the command line, exit 1
unless nothing remains, or only group access the user asked to keep. Anonymous pull is listed (the
principal's old credentials are not needed to pull) but does not fail the revoke: it is anyone's
access, which no revoke of one principal can take away (anonymous-pull-access.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..access import (
    GroupIndex,
    analyse,
    anonymous_entry,
    assignment_paths,
    is_at_or_above,
    normalise_scope,
    scope_level,
    to_json,
)
from ..azure import writes_graph
from ..azure.authorization import RoleDefinitions, assignments_of
from ..azure.clients import AzureClients
from ..azure.directory import group_tree, member_of, principal_from_json
from ..azure.errors import AzureCallError
from ..azure.registries import MAX_CONCURRENT_SUBSCRIPTIONS, get_registry, list_registries
from ..azure.registry_access import find_registry
from ..errors import InputError
from ..models import (
    AccessEntry,
    AccessPath,
    CredentialKind,
    CredentialOwner,
    Group,
    Latent,
    PathKind,
    Registry,
    RegistryAccess,
    Right,
    RoleAssignment,
    ScopeLevel,
)
from .credentials import remove_credential_step
from .plan import Plan, RunContext, Step, StepOutput, Untouched
from .registry import REVOKE as OPERATION
from .registry import Reads
from .targets import PrincipalTarget, describe_credential, resolve_principal
from .unassign import delete_assignment_step
from .validation import check_reference


@dataclass(frozen=True)
class RevokeRequest:
    principal: str
    registry: str | None = None
    all_registries: bool = False
    include_broader_scopes: bool = False
    remove_credentials: bool = False
    disable: bool = False
    delete_application: bool = False
    # Group memberships are never changed by a revoke (groups are shared); with this the access they
    # still give is reported as kept on purpose, and does not make the command fail.
    keep_group_access: bool = False


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
    rights: frozenset[Right] = frozenset()  # data rights it gives on those registries


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
    definitions: RoleDefinitions | None = None  # read for the plan; reused by remaining_access
    is_self: bool = False  # the principal is the identity the console signs in as


async def _assignments_of(az: AzureClients, registries: list[Registry], sp_id: str) -> list[RoleAssignment]:
    """The principal's assignments, its groups' included: one assignedTo() list per subscription of
    the registries in reach, rather than one atScope() list per registry (500 registries are 500
    requests; their subscriptions a handful)."""
    return await _assignments_in(az, sorted({r.subscription_id.lower() for r in registries}), sp_id)


async def _assignments_in(az: AzureClients, subscriptions: list[str], sp_id: str) -> list[RoleAssignment]:
    """One assignedTo() list per subscription, side by side as the registry lists are."""
    gate = asyncio.Semaphore(MAX_CONCURRENT_SUBSCRIPTIONS)

    async def one(sub: str) -> list[RoleAssignment]:
        async with gate:
            return await assignments_of(az, sub, sp_id)

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
    role_definitions = RoleDefinitions(az)
    definitions = await role_definitions.resolve([a for a, _ in found.values()])

    direct_registry: list[_Found] = []
    broader: list[_Found] = []
    via_group: list[_Found] = []
    for a, regs in found.values():
        d = definitions.get(a.role_guid)
        role = d.role_name if d else a.role_guid
        paths = {r.id: assignment_paths(r, a, d) for r in regs}
        granting = tuple(r for r in regs if any(p.rights or p.latent for p in paths[r.id]) or d is None)
        rights = frozenset(x for r in granting for p in paths[r.id] for x in p.rights)
        item = _Found(a, granting or tuple(regs), role, rights)
        if a.principal_id.lower() != sp_id:
            if granting:
                via_group.append(item)
        elif scope_level(a.scope) is ScopeLevel.REGISTRY:
            direct_registry.append(item)
        elif granting:
            broader.append(item)
    routes = await _group_routes(az, sp_id, {f.assignment.principal_id.lower() for f in via_group}) if via_group else {}
    me = az.identity or await az.signed_in_identity()  # the token's claims: no request
    return CheckedRevoke(reads, req, target, tuple(registries), tuple(warnings), group_names, tuple(direct_registry),
                         tuple(broader), tuple(via_group), routes, role_definitions,
                         is_self=(me.object_id or "").lower() == sp_id)


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
    # What this plan leaves in place that still lets the principal in: said before it runs.
    keeps: list[str] = []
    if not req.include_broader_scopes:
        for f in broader:
            keeps.append(f"{_rights_text(f)} on {', '.join(r.name for r in f.registries)} through {f.role_name} at "
                         f"{_level(f.assignment.scope)} scope (not removed without --include-broader-scopes)")
    if via_group:
        why = ("left alone as asked (--keep-group-access)" if req.keep_group_access
               else "groups are shared; the console does not change their members")
        for f in via_group:
            gid = f.assignment.principal_id.lower()
            gname = group_names.get(gid, gid)
            names = ", ".join(r.name for r in f.registries)
            for d in routes.get(gid) or [{"id": gid, "displayName": gname}]:
                nested = "" if d["id"].lower() == gid else f" (nested in '{gname}')"
                untouched.append(Untouched(
                    f"membership in group '{d.get('displayName') or d['id']}'{nested}: {f.role_name} of '{gname}' "
                    f"at {_level(f.assignment.scope)} scope grants rights on {names}",
                    why, f"az ad group member remove --group {d['id']} --member-id {target.object_id}"))
                if not req.keep_group_access:
                    keeps.append(f"{_rights_text(f)} on {names} through group '{d.get('displayName') or d['id']}'"
                                 f"{nested} ({f.role_name}; groups are not changed here: pass --keep-group-access "
                                 "if that is intended)")

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
        if reg.anonymous_pull_enabled:
            untouched.append(Untouched(
                f"anonymous pull on {reg.name}: anyone who can reach it pulls every repository without signing in",
                "it is not this principal's access, so no revoke removes it",
                f"acr-console disable-anonymous-pull --registry {reg.name}"))
        if reg.admin_user_enabled:
            untouched.append(Untouched(
                f"admin user of {reg.name} (enabled)", "a shared password with full rights, not tied to this principal",
                f"az acr credential renew --name {reg.name} --password-name password"))
    if req.registry:
        untouched.append(Untouched("assignments on other registries", "one registry was named",
                                   f"acr-console revoke {target.app_id} --all-registries"))
    warnings.append("Registry tokens issued before now stay valid until they expire (up to 3 hours), and Azure RBAC "
                    "caches can take up to 30 minutes: verify with 'acr-console test-login' afterwards.")
    if keeps and not (req.disable or req.delete_application):
        warnings.append(f"After this plan {target.display_name} can still " + "; ".join(keeps) + ".")
    tenant_wide = [what for asked, what in ((req.remove_credentials, "remove every credential"),
                                            (req.disable, "disable its sign-in"),
                                            (req.delete_application, "delete its application")) if asked]
    if tenant_wide and checked.is_self:
        warnings.insert(0, f"{target.display_name} is the identity this console signs in as: this plan will "
                        f"{' and '.join(tenant_wide)}, locking out the console and everything else using it.")
    if tenant_wide and target.sp.get("servicePrincipalType") == "ManagedIdentity":
        # Microsoft Graph, servicePrincipal resource type, servicePrincipalType: service principals
        # representing managed identities "can be granted access and permissions, but can't be updated
        # or modified directly"; Azure issues and rotates their credentials.
        warnings.insert(0, f"{target.display_name} is a managed identity: Azure manages its service principal and "
                        "credentials. Disabling it, if Azure accepts, stops the resource it belongs to from signing "
                        "in to anything; to end it, remove the identity from that resource.")
    if not steps:
        warnings.append("Nothing to change: no direct role assignment in reach and no other action asked for.")
    scope_text = registries[0].name if req.registry else f"all {len(registries)} visible registries"
    # The title says what the plan does: "on contosoprod" alone only when it is limited to it.
    title = f"Revoke {target.display_name} on {scope_text}"
    if tenant_wide:
        title = f"Revoke {target.display_name}: its roles on {scope_text}; tenant-wide: {', '.join(tenant_wide)}"
    # Taking access away is typed to confirm: the console asks for the principal's name first.
    return Plan(OPERATION.name, title,
                {**target.target(), "registries": ", ".join(r.name for r in registries),
                 "includeBroaderScopes": req.include_broader_scopes, "removeCredentials": req.remove_credentials,
                 "disable": req.disable, "deleteApplication": req.delete_application,
                 "keepGroupAccess": req.keep_group_access},
                steps, warnings, untouched, _scoped(checked), typed_confirmation=True)


def _rights_text(found: _Found) -> str:
    rights = [r.value for r in (Right.PUSH, Right.PULL, Right.DELETE) if r in found.rights]
    return ", ".join(rights) if rights else f"the rights of {found.role_name}"


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


# -- what remains after the plan ran (issue 14) ----------------------------------------------------

_SCOPE_KEY = "revoke.scope"
_RIGHT_ORDER = (Right.PUSH, Right.DELETE, Right.PULL)


@dataclass(frozen=True)
class RevokeScope:
    """What `remaining_access` reads again after the plan: kept in the plan's context, since the plan
    is all a front end holds once it has run."""

    principal_id: str
    display_name: str
    app_id: str
    registry: Registry | None  # the one registry named; None: every visible registry
    subscriptions: tuple[str, ...]  # of the registries in reach when the plan was made
    keep_group_access: bool
    definitions: RoleDefinitions | None


def _scoped(checked: CheckedRevoke) -> RunContext:
    ctx = RunContext()
    req, target = checked.request, checked.target
    ctx.values[_SCOPE_KEY] = RevokeScope(
        target.object_id.lower(), target.display_name, target.app_id,
        checked.registries[0] if req.registry and checked.registries else None,
        tuple(sorted({r.subscription_id.lower() for r in checked.registries})), req.keep_group_access,
        checked.definitions)
    return ctx


@dataclass(frozen=True)
class RemainingPath:
    """One way the principal (or anyone, for anonymous pull) still gets in, and how to end it."""

    path: AccessPath  # as the access view reports it
    remove: str  # the command that ends it
    how: str  # one line for a person: what the command does, or what to do in Azure
    group: str | None = None  # the group the principal is a member of that grants it (display name)
    group_id: str | None = None
    anyone: bool = False  # anonymous pull: not the principal's own access
    kept: bool = False  # group access the user asked to keep

    @property
    def counts(self) -> bool:
        """Whether it makes the revoke fail: the principal's own access, not kept on purpose."""
        return not (self.anyone or self.kept)


@dataclass(frozen=True)
class RegistryRemaining:
    registry: Registry
    entry: AccessEntry | None  # the principal's entry, as `access` shows it
    anonymous: AccessEntry | None  # "anyone (anonymous pull)"
    paths: tuple[RemainingPath, ...]

    @property
    def rights(self) -> frozenset[Right]:
        return frozenset(r for p in self.paths for r in p.path.rights)

    @property
    def latent(self) -> frozenset[Latent]:
        return frozenset(x for p in self.paths for x in p.path.latent)

    def to_json(self) -> dict[str, Any]:
        doc = to_json(RegistryAccess(self.registry, tuple(e for e in (self.anonymous, self.entry) if e is not None)))
        by_path = {id(p.path): p for p in self.paths}
        for entry_doc, entry in zip(doc["entries"], (e for e in (self.anonymous, self.entry) if e is not None),
                                    strict=True):
            for path_doc, path in zip(entry_doc["paths"], entry.paths, strict=True):
                found = by_path[id(path)]
                path_doc.update({"remove": found.remove, "how": found.how, "counts": found.counts})
                if found.group is not None:
                    path_doc["memberOf"] = {"objectId": found.group_id, "displayName": found.group}
                if found.kept:
                    path_doc["kept"] = True
        rights = self.rights
        return {"registry": doc["registry"], "pull": Right.PULL in rights, "push": Right.PUSH in rights,
                "delete": Right.DELETE in rights, "latent": sorted(x.value for x in self.latent),
                "entries": doc["entries"]}


@dataclass(frozen=True)
class Remaining:
    """What the principal can still do on the registries in scope, read after the plan ran."""

    principal: str  # display name
    principal_id: str
    registries: tuple[RegistryRemaining, ...]  # only those where anything remains
    sign_in: str  # "enabled" | "disabled" | "deleted", as the directory answers now
    dormant: int = 0  # role paths left that grant nothing while sign-in is disabled or the principal is gone
    keep_group_access: bool = False

    def _paths(self) -> list[tuple[Registry, RemainingPath]]:
        return [(r.registry, p) for r in self.registries for p in r.paths]

    @property
    def failing(self) -> list[tuple[Registry, RemainingPath]]:
        """The principal's own access left, not kept on purpose: the revoke did not do its job."""
        return [(reg, p) for reg, p in self._paths() if p.counts]

    @property
    def kept_groups(self) -> list[str]:
        """The groups whose access was left alone as asked, by name."""
        return list(dict.fromkeys(p.group or "?" for _, p in self._paths() if p.kept))

    def summary(self) -> str | None:
        """One line naming the widest access left, or None when nothing counts."""
        failing = self.failing
        if not failing:
            return None

        def rank(item: tuple[Registry, RemainingPath]) -> int:
            rights = item[1].path.rights
            return next((n for n, r in enumerate(_RIGHT_ORDER) if r in rights), len(_RIGHT_ORDER))

        reg, first = min(failing, key=rank)
        text = f"{self.principal} can still {_verb(first.path)} {reg.name} {_why(first)}"
        if len(failing) > 1:
            text += f" (and {len(failing) - 1} more: see 'Still has access')"
        return text

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.registries]


def _verb(path: AccessPath) -> str:
    rights = path.rights
    if Right.PUSH in rights:
        return "push to"
    if Right.DELETE in rights:
        return "delete from"
    if Right.PULL in rights:
        return "pull from"
    if path.latent:
        return f"gain access ({', '.join(sorted(x.value for x in path.latent))}) to"
    return f"act ({path.role}) on"


def _why(item: RemainingPath) -> str:
    path = item.path
    if path.kind is PathKind.ANONYMOUS_PULL:
        return "through anonymous pull"
    if item.group is not None:
        outer = path.via_groups[0] if path.via_groups else item.group
        nested = "" if outer == item.group else f" (nested in '{outer}')"
        return f"through group '{item.group}'{nested}: {path.role} at {_level(path.scope or '')} scope"
    where = "its own" if path.scope_level is ScopeLevel.REGISTRY else f"an inherited ({_level(path.scope or '')})"
    return f"through {where} {path.role} assignment"


def scope_of(plan: Plan) -> RevokeScope:
    scope = plan.context.values.get(_SCOPE_KEY)
    if not isinstance(scope, RevokeScope):
        raise TypeError(f"plan '{plan.title}' is not a revoke plan")
    return scope


async def remaining_access(az: AzureClients, plan: Plan) -> Remaining:
    """Read again what the principal of a revoke plan can do on the registries in its scope.

    Reads (all fresh, none of the plan's): the principal (`GET servicePrincipals/{id}`: deleted,
    disabled?), its groups (`transitiveMemberOf`, for their names), the registries in scope (one `GET`
    for a named registry, the subscription lists otherwise: anonymous pull and mode as they are now),
    its and its groups' role assignments (one `assignedTo()` list per subscription); then only when a
    group's assignment reaches a registry in scope, that group's members (`group_tree`, two batched
    rounds). Role definitions come from the plan's cache (a revoke changes none). Nothing is read per
    registry: 4 requests for a named registry without group access, 6 with it (demo tenant).
    Raises AzureCallError when a read fails: then nothing can be said about what remains.
    """
    scope = scope_of(plan)
    sp_id = scope.principal_id

    async def registries() -> list[Registry]:
        if scope.registry is not None:
            found = await get_registry(az, scope.registry.id)
            return [found] if found is not None else []
        listing = await list_registries(az)
        if listing.errors:  # a subscription that cannot be read cannot be said to hold nothing
            raise next(iter(listing.errors.values()))
        return listing.registries

    async def assignments(subscriptions: list[str]) -> list[RoleAssignment]:
        return await _assignments_in(az, subscriptions, sp_id)

    async def groups() -> list[Group]:
        try:
            return await member_of(az, sp_id)
        except AzureCallError as err:
            if err.not_found:  # deleted (the plan's last step may do that): it is in no group
                return []
            raise

    az.prefetch_graph()
    known_subs = list(scope.subscriptions)
    sp_doc, its_groups, regs, found = await asyncio.gather(
        writes_graph.get_service_principal(az, sp_id), groups(), registries(), assignments(known_subs))
    more = sorted({r.subscription_id.lower() for r in regs} - set(known_subs))
    if more:  # a subscription with registries the plan did not see
        found += await assignments(more)
    sign_in = "deleted" if sp_doc is None else "enabled" if sp_doc.get("accountEnabled", True) else "disabled"
    principal = principal_from_json({"@odata.type": "#microsoft.graph.servicePrincipal", **(sp_doc or {"id": sp_id})})

    # Only assignments that reach a registry in scope matter; of those, the groups' need their tree.
    reaching = [a for a in found if any(is_at_or_above(a.scope, r.id) for r in regs)]
    group_ids = sorted({a.principal_id.lower() for a in reaching if a.principal_id.lower() != sp_id})
    names = {g.object_id.lower(): {"displayName": g.display_name} for g in its_groups}
    definitions = scope.definitions or RoleDefinitions(az)
    defs_task = asyncio.ensure_future(definitions.resolve(reaching))
    try:
        tree: dict[str, Group] = (await group_tree(az, group_ids, names))[0] if group_ids else {}
        defs = await defs_task
    finally:
        if not defs_task.done():
            defs_task.cancel()
        await asyncio.gather(defs_task, return_exceptions=True)
    index = GroupIndex(tree)
    by_assignment = {a.id.lower(): a for a in reaching}

    out: list[RegistryRemaining] = []
    dormant = 0
    for reg in regs:
        access = analyse(reg, reaching, defs, {sp_id: principal}, tree)
        entry = next((e for e in access.entries if (e.principal.object_id or "").lower() == sp_id), None)
        if entry is not None and sign_in != "enabled":
            dormant += len(entry.paths)
            entry = None
        anonymous = anonymous_entry(reg)
        paths = [_remaining_path(p, reg, scope, by_assignment, index, names) for p in entry.paths] if entry else []
        if anonymous is not None:
            paths.insert(0, RemainingPath(
                anonymous.paths[0], f"acr-console disable-anonymous-pull --registry {reg.name}",
                "turns anonymous pull off for everyone (clients without credentials get 401 from then on)",
                anyone=True))
        if paths:
            out.append(RegistryRemaining(reg, entry, anonymous, tuple(paths)))
    return Remaining(scope.display_name, sp_id, tuple(out), sign_in, dormant, scope.keep_group_access)


def _remaining_path(path: AccessPath, reg: Registry, scope: RevokeScope, assignments: dict[str, RoleAssignment],
                    index: GroupIndex, names: dict[str, dict[str, str]]) -> RemainingPath:
    if path.via_groups:
        # The group to leave is the one the principal is a direct member of on this chain: removing
        # it from the assigned (outer) group would cut off that group's other members too.
        assigned = assignments.get((path.assignment_id or "").lower())
        chains = index.members(assigned.principal_id).get(scope.principal_id, ()) if assigned else ()
        chain = next((c for c in chains if tuple(index.display_name(g) for g in c) == path.via_groups),
                     chains[0] if chains else ())
        gid = chain[-1] if chain else None
        name = index.display_name(gid) if gid else path.via_groups[-1]
        if gid and gid in names:
            name = names[gid]["displayName"]
        return RemainingPath(
            path, f"az ad group member remove --group {gid or name} --member-id {scope.principal_id}",
            f"remove {scope.display_name} from group '{name}' in Microsoft Entra ID (the console does not change "
            "group members; the group is shared)", group=name, group_id=gid, kept=scope.keep_group_access)
    if path.scope_level is ScopeLevel.REGISTRY:
        return RemainingPath(path, f"acr-console revoke {scope.app_id} --registry {reg.name}",
                             "run the revoke again: its role assignment on the registry is still there")
    return RemainingPath(path, f"acr-console revoke {scope.app_id} --registry {reg.name} --include-broader-scopes",
                         f"deletes its {path.role} assignment at {_level(path.scope or '')} scope, which reaches "
                         "beyond this registry")
