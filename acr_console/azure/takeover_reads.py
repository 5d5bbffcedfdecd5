"""The directory facts of issue 17, read from Microsoft Graph for one registry's access: who could add
a credential to a principal that holds a right, and the federated credentials that sign in as one.

Only the entries that hold a right and are service principals are read for (a managed identity takes
no credential, a user or group is not taken over this way). Round trips, all through
:func:`~acr_console.azure.graph.graph_batch` (20 requests a ``$batch``, throttled inner requests
retried after their Retry-After):

1. at once, in one wave of batches: for each such service principal its owners
   (``/servicePrincipals/{id}/owners``), its application by appId (``/applications(appId='…')``,
   learn.microsoft.com/graph/api/application-get: "alternate key" ``appId``) with its
   ``federatedIdentityCredentials`` inline (``$expand``: at most 20 exist per application), and that
   application's owners addressed the same way, so none waits for the object id
   (microsoft-graph-docs-contrib, api-reference/v1.0/api/application-list-owners);
   the tenant's role definitions (one list, about a hundred built-in roles and the custom ones; a
   built-in role read without its permissions is judged from :mod:`acr_console.access.entra_roles`);
   the role assignments of every built-in role that
   can lead to a credential (one ``$filter=roleDefinitionId eq '…'`` each, ``$expand=principal`` so the
   holder comes with its type and name: learn.microsoft.com/graph/api/rbacapplication-list-roleassignments);
   and Microsoft Graph's service principal's ``appRoleAssignedTo`` (the application permissions held,
   each naming its holder: learn.microsoft.com/graph/api/serviceprincipal-list-approleassignedto);
2. the assignments of custom roles that matter (none in most tenants), and the members of the
   role-assignable groups that hold a role (:func:`~acr_console.azure.directory.group_tree`, two
   batched rounds whatever the nesting). Lists longer than a page follow ``@odata.nextLink``, side by
   side. This round needs only the tenant's answers of round 1, so it starts as soon as those arrive,
   while the principals' answers may still be coming.

Owners are listed, not ``$expand``-ed: ``$expand`` on directory objects returns at most 20 and no
nextLink (learn.microsoft.com/graph/known-issues). Role assignments are active ones only (PIM
eligibility is not read, see :mod:`acr_console.access.takeover`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..access.entra_roles import (
    APPLICATION_CREDENTIALS,
    APPLICATION_OWNERS,
    ROLE_ASSIGNMENTS,
    SERVICE_PRINCIPAL_CREDENTIALS,
    SERVICE_PRINCIPAL_OWNERS,
    builtin_directory_roles,
    graph_app_roles,
)
from ..access.takeover import holds
from ..models import (
    AccessEntry,
    AppRoleAssignment,
    DirectoryFacts,
    DirectoryRoleAssignment,
    DirectoryRoleDefinition,
    FederatedIdentityCredential,
    Group,
    Principal,
    PrincipalType,
    RegistryAccess,
)
from .clients import AzureClients
from .directory import group_tree, principal_from_json
from .graph import BATCH_LIMIT, batch_error, graph_batch, graph_json

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"  # Microsoft Graph's appId, the same in every tenant
_WANTED = (APPLICATION_CREDENTIALS, SERVICE_PRINCIPAL_CREDENTIALS, APPLICATION_OWNERS, SERVICE_PRINCIPAL_OWNERS,
           ROLE_ASSIGNMENTS)
_OWNER_SELECT = "id,displayName,appId,servicePrincipalType,accountEnabled,userPrincipalName"


def matters(actions: tuple[str, ...]) -> bool:
    """Whether a role's permissions can lead to a credential on a principal (in one step or two)."""
    return any(holds(actions, wanted) for wanted in _WANTED)


@dataclass
class ReadCount:
    """What the reads sent: Graph requests (inner requests of a ``$batch`` counted one by one, and each
    further page), the HTTP calls they took (a ``$batch`` of up to 20 is one), and the waves: calls
    that had to wait for an earlier answer (the length of the longest chain, pages of long lists aside).
    Throttled inner requests sent again are not counted."""

    requests: int = 0
    http_calls: int = 0
    waves: int = 0

    def add(self, *side_by_side: ReadCount) -> None:
        """Counts of reads that ran side by side: requests and calls add up, waves are the longest."""
        self.requests += sum(c.requests for c in side_by_side)
        self.http_calls += sum(c.http_calls for c in side_by_side)
        self.waves += max((c.waves for c in side_by_side), default=0)


async def _batch(az: AzureClients, requests: list[dict[str, Any]], count: ReadCount) -> list[dict[str, Any]]:
    count.requests += len(requests)
    count.http_calls += -(-len(requests) // BATCH_LIMIT)
    return await graph_batch(az, requests)


async def _rest(az: AzureClients, body: dict[str, Any], count: ReadCount) -> list[dict[str, Any]]:
    """A list's items: the first page's and those of the pages after it."""
    items = list(body.get("value", []))
    link = body.get("@odata.nextLink")
    while link:
        count.requests += 1
        count.http_calls += 1
        page = await graph_json(az, "GET", link)
        items += page.get("value", [])
        link = page.get("@odata.nextLink")
    return items


def _assignments_of(role_id: str) -> str:
    """One role's active assignments, each with its holder (type and name) inline."""
    flt = quote(f"roleDefinitionId eq '{role_id}'")
    return f"/roleManagement/directory/roleAssignments?$filter={flt}&$expand=principal"


def _definition(doc: dict[str, Any], builtin: Any) -> DirectoryRoleDefinition:
    """A role definition as read. A built-in role's permissions are those Graph lists together with those
    Microsoft's permissions reference documents for it (the table in data/entra_roles.json): a path is
    missed only if both leave it out (a tenant may serve a role's definition without its permissions)."""
    template = str(doc.get("templateId") or doc["id"]).lower()
    built_in = bool(doc.get("isBuiltIn", False))
    actions = tuple(a for p in doc.get("rolePermissions") or () for a in p.get("allowedResourceActions") or ())
    if built_in and template in builtin:
        actions += tuple(a for a in builtin[template][1] if a not in actions)
    return DirectoryRoleDefinition(id=str(doc["id"]).lower(), display_name=str(doc.get("displayName") or doc["id"]),
                                   template_id=template, is_built_in=built_in, allowed_resource_actions=actions)


def _takeable(entry: AccessEntry) -> bool:
    return (entry.principal.type is PrincipalType.SERVICE_PRINCIPAL and bool(entry.principal.object_id)
            and bool(entry.rights))


def _credential(doc: dict[str, Any]) -> FederatedIdentityCredential:
    return FederatedIdentityCredential(id=str(doc.get("id") or ""), name=str(doc.get("name") or ""),
                                       issuer=str(doc.get("issuer") or ""), subject=str(doc.get("subject") or ""),
                                       audiences=tuple(doc.get("audiences") or ()),
                                       description=doc.get("description"))


def _assignment(doc: dict[str, Any]) -> DirectoryRoleAssignment:
    return DirectoryRoleAssignment(id=str(doc["id"]), principal_id=str(doc["principalId"]).lower(),
                                   role_definition_id=str(doc["roleDefinitionId"]).lower(),
                                   directory_scope_id=str(doc.get("directoryScopeId") or "/"))


def takeable_principals(access: RegistryAccess) -> list[Principal]:
    """The principals whose owners and federated credentials are read: service principals with a right."""
    return [e.principal for e in access.entries if _takeable(e)]


async def read_takeover_facts(az: AzureClients, access: RegistryAccess,
                              count: ReadCount | None = None) -> tuple[RegistryAccess, DirectoryFacts]:
    """The directory facts for ``access``'s service principals with a right, and ``access`` with those
    principals' ``application_object_id`` filled in (the analysis keys an application's owners and
    federated credentials by it). A principal whose application lives in another tenant (a
    multi-tenant app) has none: only its service principal's owners and the tenant's roles apply.

    Two chains run side by side, so neither waits for the other: the principals' own reads
    (:func:`read_owner_facts`, one round), and the tenant's (:func:`read_tenant_facts`).
    ``count.waves`` is the longer of the two."""
    count = count if count is not None else ReadCount()
    tenant_count, own_count = ReadCount(), ReadCount()
    tenant, own = await asyncio.gather(read_tenant_facts(az, tenant_count),
                                       read_owner_facts(az, takeable_principals(access), own_count))
    count.add(tenant_count, own_count)
    return join_facts(access, tenant, own)


def join_facts(access: RegistryAccess, tenant: DirectoryFacts,
               own: OwnerFacts) -> tuple[RegistryAccess, DirectoryFacts]:
    """The tenant-wide facts and the principals' own, as one :class:`DirectoryFacts` for ``access``."""
    entries = tuple(
        dataclasses.replace(e, principal=dataclasses.replace(
            e.principal, application_object_id=own.application_objects[(e.principal.object_id or "").lower()]))
        if (e.principal.object_id or "").lower() in own.application_objects else e
        for e in access.entries)
    principals: dict[str, Principal] = {}
    for p in (*own.owners, *tenant.principals):
        if p.object_id:
            principals.setdefault(p.object_id.lower(), p)
    facts = dataclasses.replace(
        tenant, principals=tuple(principals.values()), application_owners=own.application_owners,
        service_principal_owners=own.service_principal_owners, federated_credentials=own.federated_credentials)
    return dataclasses.replace(access, entries=entries), facts


async def read_tenant_facts(az: AzureClients, count: ReadCount | None = None) -> DirectoryFacts:
    """The facts that are the same whatever the registry: role definitions, the assignments of the
    roles that can lead to a credential (their holders, and the members of holder groups) and the
    application permissions granted on Microsoft Graph. Round 1 is one ``$batch``; round 2 (custom
    roles' assignments, holder groups' members) only when there are such."""
    count = count if count is not None else ReadCount()
    builtin = builtin_directory_roles()
    wanted_roles = sorted(rid for rid, (_name, actions) in builtin.items() if matters(actions))
    tenant: list[dict[str, Any]] = [
        {"url": "/roleManagement/directory/roleDefinitions"},
        {"url": f"/servicePrincipals(appId='{GRAPH_APP_ID}')/appRoleAssignedTo?$top=999"},
        *({"url": _assignments_of(rid)} for rid in wanted_roles),
    ]
    count.waves += 1

    definitions: list[DirectoryRoleDefinition] = []
    app_role_assignments: list[AppRoleAssignment] = []
    role_docs: list[dict[str, Any]] = []
    role_principals: dict[str, Principal] = {}
    groups: dict[str, Group] = {}

    async def tenant_side() -> None:
        definitions_resp, assigned_to_resp, *role_resps = await _batch(az, tenant, count)
        if definitions_resp["status"] >= 400:
            raise batch_error(definitions_resp, "list the tenant's custom Entra roles")
        if assigned_to_resp["status"] >= 400 and assigned_to_resp["status"] != 404:
            raise batch_error(assigned_to_resp, "list the application permissions granted on Microsoft Graph")
        # 404: no Graph service principal in the tenant, so no permissions held.
        empty: dict[str, Any] = {}
        definition_docs, assigned_to = await asyncio.gather(
            _rest(az, definitions_resp["body"], count),
            _rest(az, empty if assigned_to_resp["status"] == 404 else assigned_to_resp["body"], count))
        definitions.extend(_definition(d, builtin) for d in definition_docs)
        names = graph_app_roles()
        for d in assigned_to:
            app_role_assignments.append(AppRoleAssignment(
                id=str(d["id"]), principal_id=str(d["principalId"]).lower(),
                app_role_id=str(d["appRoleId"]).lower(), resource_id=str(d.get("resourceId") or "").lower(),
                permission=names.get(str(d["appRoleId"]).lower()),
                principal_display_name=d.get("principalDisplayName"), principal_type=d.get("principalType")))
        custom_wanted = [d.id for d in definitions if not d.is_built_in and matters(d.allowed_resource_actions)]

        # -- round 2: custom roles' assignments, then the groups that hold a role -----------------
        custom_resps: list[dict[str, Any]] = []
        if custom_wanted:
            count.waves += 1
            custom_resps = await _batch(az, [{"url": _assignments_of(rid)} for rid in custom_wanted], count)
        role_lists = list(zip([*wanted_roles, *custom_wanted], [*role_resps, *custom_resps], strict=True))
        for rid, resp in role_lists:
            if resp["status"] >= 400:
                raise batch_error(resp, f"list the assignments of Entra role {rid}")
        for docs in await asyncio.gather(*(_rest(az, resp["body"], count) for _, resp in role_lists)):
            role_docs.extend(docs)
        holder_groups: list[str] = []
        for d in role_docs:
            if isinstance(d.get("principal"), dict):
                holder = principal_from_json(d["principal"])
                if holder.object_id:
                    role_principals.setdefault(holder.object_id.lower(), holder)
                    if holder.type is PrincipalType.GROUP:
                        holder_groups.append(holder.object_id.lower())
        if holder_groups:
            roots = list(dict.fromkeys(holder_groups))
            found, members = await group_tree(az, roots, {g: {"displayName": role_principals[g].display_name}
                                                          for g in roots})
            groups.update(found)
            # group_tree's rounds: a members list and a nested-groups list per holder group, then the
            # members of every nested group at once (a tree changing meanwhile may take more; not counted).
            nested = len([g for g in found if g not in roots])
            count.requests += 2 * len(roots) + nested
            count.http_calls += -(-2 * len(roots) // BATCH_LIMIT) + -(-nested // BATCH_LIMIT)
            count.waves += 2 if nested else 1
            for oid, member in members.items():
                role_principals.setdefault(oid, member)

    await tenant_side()
    return DirectoryFacts(
        principals=tuple(role_principals.values()), groups=tuple(groups.values()),
        role_definitions=tuple(definitions), role_assignments=tuple(_assignment(d) for d in role_docs),
        app_role_assignments=tuple(app_role_assignments), federated_credentials={})


@dataclass(frozen=True, slots=True)
class OwnerFacts:
    """The per-principal half of the reads: owners and federated credentials of some service principals.
    ``application_owners`` and ``federated_credentials`` are keyed by the application's object id,
    ``service_principal_owners`` by the service principal's, ``application_objects`` maps a service
    principal's id to its application's object id (absent: an application of another tenant, or none)."""

    service_principal_owners: dict[str, tuple[Principal, ...]]
    application_owners: dict[str, tuple[Principal, ...]]
    federated_credentials: dict[str, tuple[FederatedIdentityCredential, ...]]
    application_objects: dict[str, str]

    def merged(self, other: OwnerFacts) -> OwnerFacts:
        """These facts and ``other``'s (of other principals) together."""
        return OwnerFacts({**self.service_principal_owners, **other.service_principal_owners},
                          {**self.application_owners, **other.application_owners},
                          {**self.federated_credentials, **other.federated_credentials},
                          {**self.application_objects, **other.application_objects})

    def of(self, principals: list[Principal]) -> OwnerFacts:
        """The facts of ``principals`` only (their service principals' and applications')."""
        sps = {(p.object_id or "").lower() for p in principals}
        objects = {sp: self.application_objects[sp] for sp in sps if sp in self.application_objects}
        apps = set(objects.values())

        def pick(facts: dict[str, Any], keys: set[str]) -> dict[str, Any]:
            return {k: facts[k] for k in keys if k in facts}  # by lookup: as big as the registry, not the tenant

        return OwnerFacts(pick(self.service_principal_owners, sps), pick(self.application_owners, apps),
                          pick(self.federated_credentials, apps), objects)

    @property
    def owners(self) -> tuple[Principal, ...]:
        """Every owner named, once each."""
        seen: dict[str, Principal] = {}
        for group in (*self.service_principal_owners.values(), *self.application_owners.values()):
            for owner in group:
                seen.setdefault((owner.object_id or owner.display_name).lower(), owner)
        return tuple(seen.values())


async def read_owner_facts(az: AzureClients, principals: list[Principal],
                           count: ReadCount | None = None) -> OwnerFacts:
    """Owners (of the service principal and of its application) and the application's federated
    credentials, for each service principal in ``principals``: one wave of ``$batch`` (three requests
    a principal with an appId, one without); lists longer than a page then follow their nextLinks side
    by side. For one principal (the console's principal view) that is one ``$batch`` of three.

    An application's federated credentials come inline (``$expand``): at most 20 exist per
    application (graph_federated's LIMIT, workload-identity-federation-considerations), within what
    ``$expand`` returns, and the application resource documents federatedIdentityCredentials as
    "Supports $expand" (learn.microsoft.com/graph/api/resources/application). Owners are listed, not
    expanded (the module docstring)."""
    count = count if count is not None else ReadCount()
    sps = list(dict.fromkeys((p.object_id or "").lower() for p in principals if p.object_id))
    app_ids = {(p.object_id or "").lower(): p.app_id for p in principals if p.object_id and p.app_id}
    requests: list[dict[str, Any]] = []
    for sp in sps:
        requests.append({"url": f"/servicePrincipals/{sp}/owners?$select={_OWNER_SELECT}&$top=999"})
        app_id = app_ids.get(sp)
        if app_id:
            key = f"/applications(appId='{app_id}')"
            requests += [{"url": f"{key}?$select=id,appId,displayName&$expand=federatedIdentityCredentials"},
                         {"url": f"{key}/owners?$select={_OWNER_SELECT}&$top=999"}]
    if not requests:
        return OwnerFacts({}, {}, {}, {})
    count.waves += 1
    answers = await _batch(az, requests, count)
    federated: dict[str, tuple[FederatedIdentityCredential, ...]] = {}
    app_object: dict[str, str] = {}
    lists: list[tuple[str, str, dict[str, Any]]] = []  # (kind, key, first page) to read whole
    at = 0
    for sp in sps:
        owners_resp = answers[at]
        at += 1
        if owners_resp["status"] >= 400 and owners_resp["status"] != 404:
            raise batch_error(owners_resp, f"list owners of service principal {sp}")
        lists.append(("sp", sp, owners_resp["body"] or {}))
        if not app_ids.get(sp):
            continue
        app_resp, app_owner_resp = answers[at:at + 2]
        at += 2
        if app_resp["status"] == 404:  # an application of another tenant: nothing here to own
            continue
        for resp, what in ((app_resp, "read"), (app_owner_resp, "list owners of")):
            if resp["status"] >= 400:
                raise batch_error(resp, f"{what} the application of appId {app_ids[sp]}")
        app_oid = str(app_resp["body"]["id"]).lower()
        app_object[sp] = app_oid
        lists.append(("app", app_oid, app_owner_resp["body"]))
        federated[app_oid] = tuple(_credential(d) for d in app_resp["body"].get("federatedIdentityCredentials") or ())
    # Lists longer than a page: their further pages side by side (none in most tenants).
    sp_owners: dict[str, tuple[Principal, ...]] = {}
    app_owners: dict[str, tuple[Principal, ...]] = {}
    items = await asyncio.gather(*(_rest(az, body, count) for _, _, body in lists))
    for (kind, key, _), docs in zip(lists, items, strict=True):
        (sp_owners if kind == "sp" else app_owners)[key] = tuple(principal_from_json(d) for d in docs)
    return OwnerFacts(service_principal_owners=sp_owners, application_owners=app_owners,
                      federated_credentials=federated, application_objects=app_object)
