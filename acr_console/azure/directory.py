"""Reads of the Entra directory: principals in bulk, group trees, one principal's detail."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..models import Credential, CredentialKind, CredentialOwner, Group, Principal, PrincipalType, SignedInIdentity
from .clients import AzureClients
from .errors import AzureCallError
from .graph import batch_error, chunked, graph_batch, graph_get_or_none, graph_json, graph_pages

GET_BY_IDS_LIMIT = 1000
PRINCIPAL_SELECT = "id,displayName,appId,servicePrincipalType,accountEnabled"
# Group members are read from Graph's beta endpoint. v1.0 `GET /groups/{id}/members` does not list
# service principals, managed identities included ("Known issues in Microsoft Graph": GET
# /groups/{id}/members doesn't return service principals in v1.0,
# learn.microsoft.com/graph/known-issues#get-groupsidmembers-doesnt-return-service-principals-in-v10),
# so a pipeline that pushes through a group would be missing from every answer. Of the two ways to
# get them:
# - beta `/groups/{id}/members` is the workaround that page and the List group members page name;
#   one request lists every member type, each with its `@odata.type`, paged like v1.0 ($top ≤ 999,
#   @odata.nextLink). Beta is "subject to change", but this is the call Microsoft points to, and
#   Microsoft's own PowerShell maintainers (msgraph-sdk-powershell#923) and others
#   (ansible-collections/azure PR #2337) moved to it;
# - v1.0 `/members/microsoft.graph.servicePrincipal` with the advanced query parameters returns them
#   only by a third party's measurement: no Microsoft page says the cast escapes the known issue,
#   and it doubles the requests (a second cast per group, whose items carry no @odata.type).
# So beta, for members only; `$expand=members` is no option (at most 20 members, no nextLink).
MEMBERS_VERSION = "beta"
# An OData cast on a transitive list needs both, or Graph answers an empty list or an error
# (learn.microsoft.com/graph/aad-advanced-queries, "Use of OData cast with transitive members list").
ADVANCED_QUERY = {"ConsistencyLevel": "eventual"}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


def _odata_type(doc: dict[str, Any]) -> str:
    return str(doc.get("@odata.type", "")).removeprefix("#microsoft.graph.")


def principal_from_json(doc: dict[str, Any]) -> Principal:
    kind = _odata_type(doc)
    if kind == "servicePrincipal":
        ptype = (PrincipalType.MANAGED_IDENTITY if doc.get("servicePrincipalType") == "ManagedIdentity"
                 else PrincipalType.SERVICE_PRINCIPAL)
    elif kind == "user":
        ptype = PrincipalType.USER
    elif kind == "group":
        ptype = PrincipalType.GROUP
    else:
        ptype = PrincipalType.UNKNOWN
    return Principal(
        object_id=doc["id"],
        display_name=doc.get("displayName") or doc.get("userPrincipalName") or doc["id"],
        type=ptype,
        app_id=doc.get("appId"),
        enabled=bool(doc.get("accountEnabled", True)),
    )


async def get_by_ids(az: AzureClients, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Directory objects by object id, 1000 a request, requests concurrent. Unknown ids are absent."""
    found: dict[str, dict[str, Any]] = {}

    async def one(chunk: list[str]) -> list[dict[str, Any]]:
        answer = await graph_json(az, "POST", "directoryObjects/getByIds",
                                  body={"ids": chunk, "types": ["servicePrincipal", "user", "group"]})
        return answer.get("value", [])

    for docs in await asyncio.gather(*(one(c) for c in chunked(dict.fromkeys(ids), GET_BY_IDS_LIMIT))):
        for doc in docs:
            found[doc["id"].lower()] = doc
    return found


# What group_tree returns: the groups (with their direct members' ids), and every principal met.
Tree = tuple[dict[str, Group], dict[str, Principal]]


async def group_tree(az: AzureClients, group_ids: list[str],
                     known: dict[str, dict[str, Any]] | None = None) -> Tree:
    """Expand groups into their direct members, in two batched rounds whatever the nesting depth.

    Returns the groups (with direct member ids) and every principal met on the way. Direct
    membership (beta, see MEMBERS_VERSION), because the analysis reports the chain a right comes
    through; but the first round also asks each group for the groups nested anywhere below it
    (`transitiveMembers/microsoft.graph.group` with the advanced query parameters), so the second
    round lists every nested group at once instead of one round per level. Groups the answers do
    not foresee (a directory changing meanwhile, or a shortcut Graph answered empty) get further
    rounds, level by level.
    """
    listed_members: dict[str, tuple[str, ...]] = {}  # by group: its direct members' ids
    principals: dict[str, Principal] = {}
    # A group asked for by id alone has no name until some listing names it: one may, when one of the
    # groups asked for is nested in another (so the names are settled once every round is in).
    names = {gid.lower(): (known or {}).get(gid.lower(), {}).get("displayName") for gid in group_ids}
    frontier = [g.lower() for g in dict.fromkeys(group_ids)]
    first = True
    while frontier:
        requests: list[dict[str, Any]] = [{"url": f"/groups/{gid}/members?$select={PRINCIPAL_SELECT}&$top=999"}
                                          for gid in frontier]
        if first:
            requests += [{"url": f"/groups/{gid}/transitiveMembers/microsoft.graph.group?$count=true"
                                 "&$select=id,displayName&$top=999", "headers": ADVANCED_QUERY} for gid in frontier]
        responses = await graph_batch(az, requests, version=MEMBERS_VERSION)
        listed: dict[str, list[dict[str, Any]]] = {}
        more: dict[str, str] = {}
        for gid, resp in zip(frontier, responses, strict=False):
            if resp["status"] == 404:
                listed_members[gid] = ()
                continue
            if resp["status"] >= 400:
                raise batch_error(resp, f"list members of group {gid}")
            body = resp["body"] or {}
            listed[gid] = list(body.get("value", []))
            if body.get("@odata.nextLink"):
                more[f"m:{gid}"] = body["@odata.nextLink"]
        nested: dict[str, list[dict[str, Any]]] = {}
        if first:
            for gid, resp in zip(frontier, responses[len(frontier):], strict=True):
                if resp["status"] >= 400:
                    continue  # only a shortcut: the level-by-level rounds below still find everything
                body = resp["body"] or {}
                nested[gid] = list(body.get("value", []))
                if body.get("@odata.nextLink"):
                    more[f"t:{gid}"] = body["@odata.nextLink"]
        # Big groups: the rest of their pages directly, every group's at once.
        rests = await asyncio.gather(*(_rest_of(az, link, ADVANCED_QUERY if key.startswith("t:") else None)
                                       for key, link in more.items()))
        for key, rest in zip(more, rests, strict=True):
            (listed if key.startswith("m:") else nested)[key[2:]] += rest
        found: dict[str, str] = {}  # groups met, by id: their names
        for gid, members in listed.items():
            for doc in members:
                p = principal_from_json(doc)
                mid = doc["id"].lower()
                if p.type is PrincipalType.GROUP:
                    found.setdefault(mid, p.display_name)
                else:
                    principals[mid] = p
            listed_members[gid] = tuple(d["id"].lower() for d in members)
        for docs in nested.values():
            for doc in docs:
                found.setdefault(doc["id"].lower(), doc.get("displayName") or doc["id"])
        for mid, name in found.items():
            if not names.get(mid):
                names[mid] = name
        frontier = [mid for mid in found if mid not in listed_members]
        first = False
    return {gid: Group(gid, names.get(gid) or gid, members) for gid, members in listed_members.items()}, principals


def merge_trees(trees: Iterable[Tree]) -> Tree:
    """Several group_tree answers as one. A group expanded from its own id (it was asked for) is named
    by its id when no listing in that call named it; another call that lists it nested has its name,
    and that copy is kept, whichever call answered first."""
    groups: dict[str, Group] = {}
    members: dict[str, Principal] = {}
    for tree_groups, tree_members in trees:
        for gid, group in tree_groups.items():
            if gid not in groups or groups[gid].display_name == gid:
                groups[gid] = group
        members.update(tree_members)
    return groups, members


async def _rest_of(az: AzureClients, link: str | None, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The pages after the first; an advanced query's pages need its header again."""
    items: list[dict[str, Any]] = []
    while link:
        page = await graph_json(az, "GET", link, headers=headers)
        items.extend(page.get("value", []))
        link = page.get("@odata.nextLink")
    return items


# -- one principal ---------------------------------------------------------------------------


async def find_service_principal(az: AzureClients, ref: str) -> dict[str, Any]:
    """A service principal by appId, object id or exact display name."""
    ref = ref.strip()
    if not ref:
        raise AzureCallError("InvalidPrincipal", "no principal given: name an appId, an object id or a display name",
                             400)
    if is_guid(ref):
        by_app, by_id = await asyncio.gather(
            graph_json(az, "GET", "servicePrincipals", {"$filter": f"appId eq '{ref}'"}),
            graph_get_or_none(az, f"servicePrincipals/{ref}"),
        )
        hits = by_app.get("value", [])
        if hits:
            return hits[0]
        if by_id is not None:
            return by_id
        raise AzureCallError("Request_ResourceNotFound", f"no service principal has appId or object id {ref}", 404)
    escaped = ref.replace("'", "''")
    hits = await graph_pages(az, "servicePrincipals", {"$filter": f"displayName eq '{escaped}'"})
    if not hits:
        raise AzureCallError("Request_ResourceNotFound", f"no service principal is named '{ref}'", 404)
    if len(hits) > 1:
        ids = ", ".join(h["appId"] for h in hits[:5])
        raise AzureCallError("AmbiguousPrincipal",
                         f"{len(hits)} service principals are named '{ref}' (appIds {ids}); name one by appId", 400)
    return hits[0]


async def application_for(az: AzureClients, app_id: str) -> dict[str, Any] | None:
    """The application behind a service principal; None when it lives in another tenant."""
    return await graph_get_or_none(az, f"applications(appId='{app_id}')")


async def member_of(az: AzureClients, object_id: str) -> list[Group]:
    docs = await graph_pages(az, f"servicePrincipals/{object_id}/transitiveMemberOf",
                             {"$select": "id,displayName"})
    return [Group(d["id"].lower(), d.get("displayName") or d["id"]) for d in docs if _odata_type(d) == "group"]


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def credentials_of(doc: dict[str, Any], owner: CredentialOwner) -> list[Credential]:
    out = [
        Credential(
            key_id=c["keyId"], kind=CredentialKind.PASSWORD, owner=owner, display_name=c.get("displayName"),
            hint=c.get("hint"), start=_parse_time(c.get("startDateTime")), end=_parse_time(c.get("endDateTime")),
        )
        for c in doc.get("passwordCredentials") or []
    ]
    for c in doc.get("keyCredentials") or []:
        out.append(Credential(
            key_id=c["keyId"], kind=CredentialKind.CERTIFICATE, owner=owner, display_name=c.get("displayName"),
            start=_parse_time(c.get("startDateTime")), end=_parse_time(c.get("endDateTime")),
            thumbprint=_thumbprint(c.get("customKeyIdentifier")),
        ))
    return out


def _thumbprint(custom_key_identifier: str | None) -> str | None:
    """The SHA-1 thumbprint in hex, as people compare it.

    Graph's default customKeyIdentifier is the thumbprint as 40 hex characters (keyCredential page;
    `concepts/applications-how-to-add-certificate.md`). A value a client chose is base64 of its bytes:
    20 of them are a thumbprint (this console writes base64 of the digest); anything else is shown
    as it came. The hex form is read first: its characters are valid base64 too."""
    if not custom_key_identifier:
        return None
    if re.fullmatch(r"[0-9A-Fa-f]{40}", custom_key_identifier):
        return custom_key_identifier.upper()
    import base64
    import binascii

    try:
        raw = base64.b64decode(custom_key_identifier, validate=True)
    except (binascii.Error, ValueError):
        return custom_key_identifier.upper()
    return raw.hex().upper() if len(raw) == 20 else custom_key_identifier.upper()


async def service_principal_name(az: AzureClients, app_id: str) -> str | None:
    """The display name behind an app-only sign-in (its token names only the appId)."""
    escaped = app_id.replace("'", "''")
    answer = await graph_json(az, "GET", "servicePrincipals",
                              {"$filter": f"appId eq '{escaped}'", "$select": "displayName"})
    hits = answer.get("value", [])
    return hits[0].get("displayName") if hits else None


async def signed_in(az: AzureClients) -> SignedInIdentity:
    """Who the console acts as, with an app-only identity's display name resolved, once a session."""
    if az.identity is None:
        identity = await az.signed_in_identity()
        if not identity.name and identity.app_id:
            # Without directory read rights the appId is all there is to show.
            with contextlib.suppress(AzureCallError):
                identity = dataclasses.replace(identity, name=await service_principal_name(az, identity.app_id))
        az.identity = identity
    return az.identity
