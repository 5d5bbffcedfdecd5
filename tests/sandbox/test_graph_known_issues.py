"""Group membership in the sandbox's Microsoft Graph as a real tenant answers it, known issues included.

Sources, quoted in each test:
- "Known issues in Microsoft Graph" (microsoftgraph/microsoft-graph-docs-contrib, known-issues include;
  learn.microsoft.com/graph/known-issues#get-groupsidmembers-doesnt-return-service-principals-in-v10).
- "List group members", v1.0 (learn.microsoft.com/graph/api/group-list-members?view=graph-rest-1.0) and
  beta (microsoftgraph/microsoft-graph-docs-contrib api-reference/beta/api/group-list-members.md).
- "Advanced query capabilities on Microsoft Entra ID objects" (learn.microsoft.com/graph/aad-advanced-queries).
- Measurements published by third parties where Microsoft documents nothing: Omnicit/Omnicit.EntraRBAC
  (live-verification checklist, §1.1) and microsoftgraph/microsoft-graph-docs#13029, #3410.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from acr_console.sandbox.context import Settings
from acr_console.sandbox.directory import add_member, new_application, new_group, new_service_principal
from acr_console.sandbox.graph_objects import SP_APP_NOT_REPLICATED
from acr_console.sandbox.seed import stable_id
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture
from .graph_support import graph_token, ssl_context, unique

known_issues_sandbox = sandbox_fixture("graph-known-issues", scope="module")

PUSHERS = stable_id("contoso", "group", "acr-pushers")
PAYMENTS = stable_id("contoso", "group", "team-payments-ci")
AKS_PULLERS = stable_id("contoso", "group", "aks-prod-pullers")
PAYMENTS_SPS = {stable_id("contoso", "sp", k) for k in ("github-actions-payments", "payments-release-bot")}
NESTED_TEAMS = {stable_id("contoso", "group", g) for g in ("team-payments-ci", "team-checkout-ci", "team-identity-ci")}
EVENTUAL = {"ConsistencyLevel": "eventual"}
ADVANCED_TAIL = ("is not supported because the required parameters might be missing. Try adding $count=true query "
                 "parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries "
                 "for more information")


@pytest.fixture
def server(known_issues_sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The module's sandbox with its default settings again after each test."""
    assert known_issues_sandbox.sandbox is not None
    yield known_issues_sandbox
    known_issues_sandbox.sandbox.settings = Settings()


@pytest.fixture
async def graph(server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTPS with a Graph token, rooted at the sandbox's Graph (paths name their version)."""
    conn = server.connection
    assert conn is not None
    token = await graph_token(conn)
    async with httpx.AsyncClient(base_url=conn["microsoft_graph"], verify=ssl_context(conn), trust_env=False,
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        yield http


def _settings(server: SandboxServer) -> Settings:
    assert server.sandbox is not None
    return server.sandbox.settings


async def _ok(http: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    r = await http.get(url, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _root(http: httpx.AsyncClient) -> str:
    return str(http.base_url).rstrip("/")  # httpx keeps base_url with a trailing slash


def _ids(body: dict[str, Any]) -> set[str]:
    return {v["id"] for v in body["value"]}


async def test_v1_members_omit_service_principals_and_beta_lists_every_type(graph: httpx.AsyncClient) -> None:
    """Known issue: "The List group members API operation on the v1.0 endpoint currently doesn't return
    any service principals that might be members of the queried group. Workaround: Use the List group
    members API operation on the beta endpoint." Beta's page: "A group can have users, contacts, devices,
    service principals, and other groups as members"; each item names its type (`@odata.type`)."""
    v1 = await _ok(graph, f"/v1.0/groups/{PAYMENTS}/members")
    assert v1["value"] == []
    beta = await _ok(graph, f"/beta/groups/{PAYMENTS}/members?$select=id,displayName,servicePrincipalType")
    assert {(v["@odata.type"], v["id"]) for v in beta["value"]} == {
        ("#microsoft.graph.servicePrincipal", sp) for sp in PAYMENTS_SPS}
    assert beta["@odata.context"].startswith(f"{_root(graph)}/beta/$metadata#")
    # Managed identities are service principals too: missing from v1.0, there in beta.
    assert (await _ok(graph, f"/v1.0/groups/{AKS_PULLERS}/members"))["value"] == []
    identities = await _ok(graph, f"/beta/groups/{AKS_PULLERS}/members?$select=id,servicePrincipalType")
    assert {v["servicePrincipalType"] for v in identities["value"]} == {"ManagedIdentity"}
    # Nested groups are listed by both.
    assert _ids(await _ok(graph, f"/v1.0/groups/{PUSHERS}/members")) == NESTED_TEAMS
    nested = await _ok(graph, f"/beta/groups/{PUSHERS}/members")
    assert _ids(nested) == NESTED_TEAMS and {v["@odata.type"] for v in nested["value"]} == {"#microsoft.graph.group"}


async def test_beta_members_page_with_top_and_next_link(graph: httpx.AsyncClient) -> None:
    """List group members: "default page size 100, maximum 999" ($top), later pages by @odata.nextLink,
    which stays on the version asked."""
    first = await _ok(graph, f"/beta/groups/{PAYMENTS}/members?$top=1&$select=id")
    assert len(first["value"]) == 1 and first["@odata.nextLink"].startswith(f"{_root(graph)}/beta/groups/")
    second = await _ok(graph, first["@odata.nextLink"])
    assert "@odata.nextLink" not in second
    assert _ids(first) | _ids(second) == PAYMENTS_SPS
    assert (await graph.get(f"/beta/groups/{PAYMENTS}/members?$top=1000")).status_code == 400
    assert len((await _ok(graph, f"/beta/groups/{PAYMENTS}/members?$top=999"))["value"]) == 2


async def test_v1_service_principal_cast_returns_them_without_odata_type(graph: httpx.AsyncClient) -> None:
    """List group members (v1.0): "OData cast is enabled. For example, /groups/{id}/members/microsoft.graph.user
    retrieves group members that are users." Measured (Omnicit/Omnicit.EntraRBAC, §1.1): the
    servicePrincipal cast returned the service principal the untyped v1.0 read missed, "WITHOUT an
    @odata.type annotation" — the context URL names the type."""
    cast = await _ok(graph, f"/v1.0/groups/{PAYMENTS}/members/microsoft.graph.servicePrincipal?$select=id,appId")
    assert _ids(cast) == PAYMENTS_SPS
    assert all("@odata.type" not in v for v in cast["value"])
    assert cast["@odata.context"].endswith("#servicePrincipals(id,appId)")
    # With the advanced query parameters the page requires for casts, the same, counted.
    counted = await _ok(graph, f"/v1.0/groups/{PAYMENTS}/members/microsoft.graph.servicePrincipal?$count=true",
                        EVENTUAL)
    assert _ids(counted) == PAYMENTS_SPS and counted["@odata.count"] == 2
    groups = await _ok(graph, f"/v1.0/groups/{PUSHERS}/members/microsoft.graph.group")
    assert _ids(groups) == NESTED_TEAMS and all("@odata.type" not in v for v in groups["value"])


@pytest.mark.parametrize("setting", ["omit", "include"])
async def test_v1_transitive_members_and_service_principals_follow_the_setting(
        server: SandboxServer, graph: httpx.AsyncClient, setting: str) -> None:
    """Microsoft documents nothing on v1.0 transitiveMembers and service principals; users report them
    missing (microsoftgraph/microsoft-graph-docs#13029, #3410), so the sandbox omits them by default
    and includes them when told. Beta lists every type either way."""
    _settings(server).transitive_service_principals = setting
    v1 = _ids(await _ok(graph, f"/v1.0/groups/{PUSHERS}/transitiveMembers?$select=id"))
    beta = _ids(await _ok(graph, f"/beta/groups/{PUSHERS}/transitiveMembers?$select=id"))
    assert beta > NESTED_TEAMS and beta > PAYMENTS_SPS
    assert v1 == (beta if setting == "include" else NESTED_TEAMS)


@pytest.mark.parametrize("setting", ["empty", "error"])
async def test_a_transitive_cast_needs_both_advanced_query_parameters(
        server: SandboxServer, graph: httpx.AsyncClient, setting: str) -> None:
    """aad-advanced-queries lists "Use of OData cast with transitive members list" among the queries that
    need the ConsistencyLevel header set to eventual *and* `$count=true`. Without both, a tenant was
    measured answering "200 with an empty collection rather than an error" (the sandbox's default,
    `empty`); Graph documents 400 Request_UnsupportedQuery for other advanced-only queries (`error`)."""
    _settings(server).bare_transitive_cast = setting
    url = f"/v1.0/groups/{PUSHERS}/transitiveMembers/microsoft.graph.servicePrincipal"
    for sent, headers in ((url, None), (url, EVENTUAL), (url + "?$count=true", None)):
        r = await graph.get(sent, headers=headers)
        if setting == "empty":
            assert r.status_code == 200 and r.json()["value"] == [], (sent, headers)
        else:
            assert r.status_code == 400 and r.json()["error"]["code"] == "Request_UnsupportedQuery"
            assert r.json()["error"]["message"].endswith(ADVANCED_TAIL)
    found = await _ok(graph, url + "?$count=true&$select=id", EVENTUAL)
    assert _ids(found) > PAYMENTS_SPS and found["@odata.count"] == len(found["value"])
    assert all("@odata.type" not in v for v in found["value"])
    groups = await _ok(graph, f"/beta/groups/{PUSHERS}/transitiveMembers/microsoft.graph.group?$count=true",
                       EVENTUAL)
    assert _ids(groups) == NESTED_TEAMS
    # The documented example of the rule is the same cast upward: ~/me/transitiveMemberOf/microsoft.graph.group.
    payments_bot = stable_id("contoso", "sp", "payments-release-bot")
    up = f"/v1.0/servicePrincipals/{payments_bot}/transitiveMemberOf/microsoft.graph.group"
    bare = await graph.get(up)
    assert bare.status_code == (200 if setting == "empty" else 400)
    assert _ids(await _ok(graph, up + "?$count=true", EVENTUAL)) == {PAYMENTS, PUSHERS}


async def test_expand_members_stops_at_twenty_without_a_next_link(server: SandboxServer,
                                                                  graph: httpx.AsyncClient) -> None:
    """Known issue's other workaround, `/groups/{id}?$expand=members`, and its limit: "$expand: For
    directory objects, returns a maximum of 20 objects. No support for @odata.nextLink." It lists
    service principals, with their types."""
    assert server.sandbox is not None
    store = server.sandbox.store
    group = new_group(store, unique("big"))
    members = [new_service_principal(store, new_application(store, unique(f"m{i}")))["id"] for i in range(23)]
    for member in members:
        add_member(store, group["id"], member)
    expanded = await _ok(graph, f"/v1.0/groups/{group['id']}?$expand=members")
    assert len(expanded["members"]) == 20 and not any("nextLink" in k for k in expanded)
    assert {m["@odata.type"] for m in expanded["members"]} == {"#microsoft.graph.servicePrincipal"}
    assert {m["id"] for m in expanded["members"]} < set(members)
    small = await _ok(graph, f"/v1.0/groups/{PAYMENTS}?$expand=members&$select=id,displayName")
    assert {m["id"] for m in small["members"]} == PAYMENTS_SPS and small["displayName"] == "team-payments-ci"
    # "No support for nesting other query parameters such as $filter and $select in $expand."
    nested = await graph.get(f"/v1.0/groups/{PAYMENTS}?$expand=members($select=id)")
    assert nested.status_code == 400


async def test_batch_inner_requests_carry_their_own_headers(graph: httpx.AsyncClient) -> None:
    """aad-advanced-queries: "To use advanced query capabilities in batch requests, specify the
    ConsistencyLevel header in the JSON body of the POST request" — per inner request; the outer
    POST's header is not theirs. A beta `$batch` runs its inner URLs against beta."""
    cast = f"/groups/{PUSHERS}/transitiveMembers/microsoft.graph.servicePrincipal?$count=true&$select=id"
    r = await graph.post("/v1.0/$batch", headers=EVENTUAL, json={"requests": [
        {"id": "bare", "method": "GET", "url": cast},
        {"id": "own", "method": "GET", "url": cast, "headers": EVENTUAL},
    ]})
    assert r.status_code == 200
    answers = {a["id"]: a for a in r.json()["responses"]}
    assert answers["bare"]["status"] == 200 and answers["bare"]["body"]["value"] == []
    assert {v["id"] for v in answers["own"]["body"]["value"]} > PAYMENTS_SPS
    beta = await graph.post("/beta/$batch", json={"requests": [
        {"id": "1", "method": "GET", "url": f"/groups/{PAYMENTS}/members?$top=1&$select=id"}]})
    [answer] = beta.json()["responses"]
    assert answer["status"] == 200 and answer["body"]["@odata.nextLink"].startswith(f"{_root(graph)}/beta/")
    assert answer["body"]["value"][0]["@odata.type"] == "#microsoft.graph.servicePrincipal"


async def test_a_service_principal_for_an_application_not_yet_replicated_is_refused_with_403(
        server: SandboxServer, graph: httpx.AsyncClient) -> None:
    """Azure/azure-cli#28009 logged Graph's answer: `Forbidden({"error":{"code":"Authorization_RequestDenied",
    "message":"When using this permission, the backing application of the service principal being created
    must in the local tenant","innerError":{"date":…,"request-id":…,"client-request-id":…}}})` (the same
    code, message and 403 in hashicorp/terraform-provider-azuread#992). With --replication-delay the
    sandbox answers so until the application is that old."""
    app = (await graph.post("/v1.0/applications", json={"displayName": unique("lagging")})).json()
    _settings(server).replication_delay_s = 600
    refused = await graph.post("/v1.0/servicePrincipals", json={"appId": app["appId"]})
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "Authorization_RequestDenied"
    assert error["message"] == SP_APP_NOT_REPLICATED == (
        "When using this permission, the backing application of the service principal being created must in the "
        "local tenant")
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    # In a batch too, with the same body.
    batched = await graph.post("/v1.0/$batch", json={"requests": [
        {"id": "1", "method": "POST", "url": "/servicePrincipals", "body": {"appId": app["appId"]},
         "headers": {"Content-Type": "application/json"}}]})
    [inner] = batched.json()["responses"]
    assert inner["status"] == 403 and inner["body"]["error"]["message"] == SP_APP_NOT_REPLICATED
    _settings(server).replication_delay_s = 0  # replicated now
    created = await graph.post("/v1.0/servicePrincipals", json={"appId": app["appId"]})
    assert created.status_code == 201 and created.json()["appId"] == app["appId"]


def test_the_settings_are_served_by_the_control_api(server: SandboxServer) -> None:
    """Both choices can be turned while serving, like the other knobs (`/_sandbox/settings`)."""
    from azure.identity import ClientSecretCredential

    conn = server.connection
    assert conn is not None
    cred = ClientSecretCredential(conn["tenant_id"], conn["admin"]["client_id"], conn["admin"]["client_secret"],
                                  authority=conn["authority_host"], disable_instance_discovery=True,
                                  connection_verify=conn["ca_bundle"])
    token = cred.get_token("https://management.azure.com/.default").token
    with httpx.Client(base_url=conn["resource_manager"], verify=ssl_context(conn), trust_env=False,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        got = http.get("/_sandbox/settings").json()
        assert (got["transitive_service_principals"], got["bare_transitive_cast"]) == ("omit", "empty")
        put = http.put("/_sandbox/settings", json={"transitive_service_principals": "include",
                                                    "bare_transitive_cast": "error"})
        assert put.status_code == 200
        assert (_settings(server).transitive_service_principals, _settings(server).bare_transitive_cast) == (
            "include", "error")
        bad = http.put("/_sandbox/settings", json={"bare_transitive_cast": "maybe"})
        assert bad.status_code == 400 and "empty, error" in bad.json()["error"]["message"]


async def test_in_takes_at_most_fifteen_values(graph: httpx.AsyncClient, server: SandboxServer) -> None:
    """"When using the in operator, the request is limited to 15 expressions in the filter clause by
    default" (learn.microsoft.com/graph/filter-query-parameter, the note on `in`, and known-issues'
    query parameter limitations). The console reads applications 15 appIds a request
    (azure/credential_reads.py) because of it; the sandbox refuses a sixteenth, so a client that
    sends more fails here as it would against Graph. The error's code and words are not documented:
    Request_UnsupportedQuery, as for Graph's other unsupported filters."""
    assert server.sandbox is not None
    app_ids = [r["app_id"] for r in server.sandbox.store.rows(
        "SELECT app_id FROM directory_objects WHERE type = 'application' ORDER BY seq LIMIT 16")]
    assert len(app_ids) == 16

    def query(ids: list[str]) -> dict[str, str]:
        return {"$filter": "appId in (" + ",".join(f"'{a}'" for a in ids) + ")", "$select": "appId"}

    fifteen = await graph.get("/v1.0/applications", params=query(app_ids[:15]))
    assert fifteen.status_code == 200, fifteen.text
    assert {a["appId"] for a in fifteen.json()["value"]} == set(app_ids[:15])
    sixteen = await graph.get("/v1.0/applications", params=query(app_ids))
    assert sixteen.status_code == 400
    assert sixteen.json()["error"]["code"] == "Request_UnsupportedQuery"
    assert "Max allowed: 15" in sixteen.json()["error"]["message"]
