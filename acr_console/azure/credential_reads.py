"""The credentials of many service principals at once: those on each service principal object and on
its application (Graph `passwordCredentials` and `keyCredentials` of both).

Two batched rounds whatever the number: `directoryObjects/getByIds` (1,000 ids a request, concurrent;
its answers carry the service principals' own credentials), then their applications, found by appId
with `GET /applications?$filter=appId in (…)` inside `$batch` (20 requests each, see `graph.graph_batch`).
Graph limits an `in` to 15 values by default ("the request is limited to 15 expressions in the filter
clause by default", learn.microsoft.com/graph/filter-query-parameter, the operators table's note), so
one `$batch` reads 300 applications: 67 requests for 20,000 service principals, where one
`applications(appId='…')` each took 1,000.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlencode

from ..models import Credential, CredentialOwner, Principal
from .clients import AzureClients
from .directory import credentials_of, get_by_ids, principal_from_json
from .graph import batch_error, graph_batch, graph_pages

# Only what the credentials need: an application document is otherwise several KB (manifest, API
# scopes, redirect URIs), and a tenant-wide read asks for thousands.
_APP_SELECT = "id,appId,displayName,passwordCredentials,keyCredentials"
IN_LIMIT = 15  # values in one `in` (module docstring)


@dataclass(frozen=True, slots=True)
class PrincipalCredentials:
    """A service principal as the directory returned it (with its application's object id when the
    application is in this tenant) and every credential that signs in as it, application's first."""

    principal: Principal
    credentials: tuple[Credential, ...]


async def read_credentials(az: AzureClients, object_ids: Iterable[str]) -> dict[str, PrincipalCredentials]:
    """The credentials of the service principals among ``object_ids``, by object id in lower case.

    Ids the directory does not return, and objects that are no service principal (users, groups), are
    absent. An application in another tenant (a multi-tenant app, Graph 404) gives its service
    principal's own credentials only; any other failed application read raises with Graph's code."""
    docs = await get_by_ids(az, [i.lower() for i in object_ids if i])
    sps = {oid: doc for oid, doc in docs.items()
           if str(doc.get("@odata.type", "")).endswith("servicePrincipal")}
    app_ids = sorted({str(doc["appId"]).lower() for doc in sps.values() if doc.get("appId")})
    apps = await _applications(az, app_ids)
    out: dict[str, PrincipalCredentials] = {}
    for oid, doc in sps.items():
        principal = principal_from_json(doc)
        creds = credentials_of(doc, CredentialOwner.SERVICE_PRINCIPAL)
        app = apps.get(str(doc.get("appId") or "").lower())
        if app is not None:
            creds = credentials_of(app, CredentialOwner.APPLICATION) + creds
            principal = replace(principal, application_object_id=app.get("id"))
        out[oid] = PrincipalCredentials(principal, tuple(creds))
    return out


async def _applications(az: AzureClients, app_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The applications with these appIds that this tenant holds, by appId in lower case (one in
    another tenant, a multi-tenant application's home, is simply not in the answer)."""
    chunks = [app_ids[n:n + IN_LIMIT] for n in range(0, len(app_ids), IN_LIMIT)]
    requests = []
    for chunk in chunks:
        values = ",".join(f"'{a}'" for a in chunk)  # appIds are GUIDs: no quote to escape
        query = urlencode({"$filter": f"appId in ({values})", "$select": _APP_SELECT}, quote_via=quote)
        requests.append({"url": f"/applications?{query}"})
    apps: dict[str, dict[str, Any]] = {}
    for chunk, resp in zip(chunks, await graph_batch(az, requests), strict=True):
        if resp["status"] != 200:
            raise batch_error(resp, f"read the applications {', '.join(chunk)}")
        body = resp["body"] or {}
        found = list(body.get("value") or [])
        if body.get("@odata.nextLink"):  # 15 at most, under any page size; followed all the same
            found += await graph_pages(az, body["@odata.nextLink"])
        for app in found:
            if app.get("appId"):
                apps[str(app["appId"]).lower()] = app
    return apps
