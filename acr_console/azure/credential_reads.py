"""The credentials of many service principals at once: those on each service principal object and on
its application (Graph `passwordCredentials` and `keyCredentials` of both).

Two batched rounds whatever the number: `directoryObjects/getByIds` (1,000 ids a request, concurrent;
its answers carry the service principals' own credentials) and one `$batch` of
`GET /applications(appId='…')` (20 a request, see `graph.graph_batch`). The same reads
`principals.read_expiring` does inline; it should call this (left to the integrator, issue 18).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..models import Credential, CredentialOwner, Principal
from .clients import AzureClients
from .directory import credentials_of, get_by_ids, principal_from_json
from .graph import batch_error, graph_batch

# Only what the credentials need: an application document is otherwise several KB (manifest, API
# scopes, redirect URIs), and a tenant-wide read asks for thousands.
_APP_SELECT = "id,appId,displayName,passwordCredentials,keyCredentials"


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
    app_ids = sorted({str(doc["appId"]) for doc in sps.values() if doc.get("appId")})
    responses = await graph_batch(az, [{"url": f"/applications(appId='{a}')?$select={_APP_SELECT}"}
                                       for a in app_ids])
    apps: dict[str, dict[str, Any]] = {}
    for app_id, resp in zip(app_ids, responses, strict=True):
        if resp["status"] == 200:
            apps[app_id] = resp["body"] or {}
        elif resp["status"] != 404:
            raise batch_error(resp, f"read application {app_id}")
    out: dict[str, PrincipalCredentials] = {}
    for oid, doc in sps.items():
        principal = principal_from_json(doc)
        creds = credentials_of(doc, CredentialOwner.SERVICE_PRINCIPAL)
        app = apps.get(str(doc.get("appId") or ""))
        if app is not None:
            creds = credentials_of(app, CredentialOwner.APPLICATION) + creds
            principal = replace(principal, application_object_id=app.get("id"))
        out[oid] = PrincipalCredentials(principal, tuple(creds))
    return out
