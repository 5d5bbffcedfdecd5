"""Issue 18: the credentials of many service principals in two batched rounds (azure/credential_reads.py),
through real HTTPS to the sandbox with the SDK clients.

Graph's shapes: `POST /directoryObjects/getByIds` returns each service principal with its own
`passwordCredentials`/`keyCredentials` (learn.microsoft.com/graph/api/directoryobject-getbyids, up to
1,000 ids); their applications are found with `GET /applications?$filter=appId in (…)` inside `$batch`
(json-batching: at most 20 requests each), 15 appIds an `in`: "the request is limited to 15 expressions
in the filter clause by default" (learn.microsoft.com/graph/filter-query-parameter, the note on `in`).
The demo seed's stories: helm-chart-publisher's secret sits on its service principal, jenkins-legacy-builds'
on its application, base-image-builder has a certificate only (DEMO_PASSWORD_OVERRIDES,
CERTIFICATE_PRINCIPALS); a managed identity has no application.
"""

from __future__ import annotations

from typing import Any

from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.credential_reads import read_credentials
from acr_console.azure.graph import graph_get_or_none, graph_json
from acr_console.models import CredentialKind, CredentialOwner
from acr_console.sandbox.seed import DEMO_GROUPS, stable_id
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture

credential_reads_sandbox = sandbox_fixture("credential-reads")

NAMES = ("helm-chart-publisher", "jenkins-legacy-builds", "base-image-builder", "aks-prod-weu-kubelet")


async def object_ids(az: AzureClients) -> dict[str, dict[str, Any]]:
    out = {}
    for name in NAMES:
        found = await graph_json(az, "GET", "servicePrincipals", {"$filter": f"displayName eq '{name}'"})
        out[name] = found["value"][0]
    return out


async def test_credentials_of_application_and_service_principal_in_two_batched_rounds(
        credential_reads_sandbox: SandboxServer) -> None:
    assert credential_reads_sandbox.sandbox is not None
    store = credential_reads_sandbox.sandbox.store
    async with AzureClients(sandbox_connection(credential_reads_sandbox.connection or {})) as az:
        sps = await object_ids(az)
        group = stable_id("contoso", "group", next(iter(DEMO_GROUPS)))
        unknown = "00000000-0000-0000-0000-00000000abcd"
        since = store.last_request_seq()
        read = await read_credentials(az, [sp["id"].upper() for sp in sps.values()] + [group, unknown])
        graph = [r for r in store.request_log(since) if "oauth2" not in r["path"]]
    # One getByIds, one $batch of application reads (the managed identity has no application).
    assert [r["path"].rsplit("/", 1)[-1] for r in graph] == ["getByIds", "$batch"], graph
    assert set(read) == {sp["id"].lower() for sp in sps.values()}  # the group and the unknown id are absent

    helm = read[sps["helm-chart-publisher"]["id"].lower()]
    (on_sp,) = helm.credentials
    assert on_sp.owner is CredentialOwner.SERVICE_PRINCIPAL and on_sp.kind is CredentialKind.PASSWORD
    assert on_sp.key_id == sps["helm-chart-publisher"]["passwordCredentials"][0]["keyId"]
    assert helm.principal.application_object_id is not None

    (jenkins,) = read[sps["jenkins-legacy-builds"]["id"].lower()].credentials
    assert jenkins.owner is CredentialOwner.APPLICATION and jenkins.display_name == "jenkins"
    assert jenkins.end is not None and jenkins.start is not None and (jenkins.end - jenkins.start).days == 365

    certs = read[sps["base-image-builder"]["id"].lower()].credentials
    assert [c.kind for c in certs] == [CredentialKind.CERTIFICATE] and certs[0].thumbprint

    kubelet = read[sps["aks-prod-weu-kubelet"]["id"].lower()]
    assert kubelet.principal.application_object_id is None  # a managed identity: no application to read


async def test_no_ids_is_no_request(credential_reads_sandbox: SandboxServer) -> None:
    assert credential_reads_sandbox.sandbox is not None
    store = credential_reads_sandbox.sandbox.store
    async with AzureClients(sandbox_connection(credential_reads_sandbox.connection or {})) as az:
        since = store.last_request_seq()
        assert await read_credentials(az, []) == {}
        assert store.request_log(since) == []


async def test_every_service_principal_of_the_tenant_gets_its_own_application(
        credential_reads_sandbox: SandboxServer) -> None:
    """More service principals than one `in` takes (15): each gets the application with its appId, as
    the alternate key `applications(appId='…')` reads it one by one (application-get)."""
    assert credential_reads_sandbox.sandbox is not None
    store = credential_reads_sandbox.sandbox.store
    async with AzureClients(sandbox_connection(credential_reads_sandbox.connection or {})) as az:
        sps = (await graph_json(az, "GET", "servicePrincipals", {"$top": "999"}))["value"]
        assert len({sp["appId"] for sp in sps}) > 15
        since = store.last_request_seq()
        read = await read_credentials(az, [sp["id"] for sp in sps])
        graph = [r for r in store.request_log(since) if "oauth2" not in r["path"]]
        expected = {}
        for sp in sps:
            # None: a managed identity, or an application in another tenant (Microsoft Graph's own).
            expected[sp["id"].lower()] = await graph_get_or_none(az, f"applications(appId='{sp['appId']}')")
    assert [r["path"].rsplit("/", 1)[-1] for r in graph] == ["getByIds", "$batch"], graph
    assert set(read) == set(expected)
    for oid, app in expected.items():
        held = read[oid]
        assert held.principal.application_object_id == (app["id"] if app else None), held.principal
        on_app = [c.key_id for c in held.credentials if c.owner is CredentialOwner.APPLICATION]
        assert on_app == ([c["keyId"] for c in app["passwordCredentials"] + app["keyCredentials"]] if app else [])
