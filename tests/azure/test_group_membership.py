"""Who can push through groups, as a real tenant answers: the demo tenant's nested-group and
managed-identity stories hold in `access`, `principal` and `expiring` while the sandbox's Graph
behaves as documented — v1.0 `GET /groups/{id}/members` lists no service principals ("Known issues in
Microsoft Graph", learn.microsoft.com/graph/known-issues#get-groupsidmembers-doesnt-return-service-principals-in-v10)
— under each choice Microsoft leaves open (v1.0 transitiveMembers omitting or including them; a bare
transitive cast answered empty or refused; tests/sandbox/test_graph_known_issues.py).

The proof that it matters: walking the same groups with v1.0 `/members` alone finds none of the
principals the console lists. What each principal can do is the sandbox's registry token service's
decision (its `access` claim), never the console's own report.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from acr_console.main import main
from acr_console.sandbox.context import Settings
from acr_console.sandbox.directory import add_password
from acr_console.sandbox.registry_plane import granted_access, parse_scopes, registry_for_host
from acr_console.sandbox.seed import stable_id
from acr_console.sandbox.server import SandboxServer

from ..sandbox.graph_support import GRAPH_SCOPE, ssl_context, sync_secret_credential
from ..support.sandbox import sandbox_fixture

membership_sandbox = sandbox_fixture("group-membership", scope="module")

COMBINATIONS = list(itertools.product(("omit", "include"), ("empty", "error")))
PUSHERS = "acr-pushers"
# acr-pushers ⊃ team-payments-ci, team-checkout-ci, team-identity-ci; their service principals (seed.py).
PUSHERS_CHAINS = {
    "github-actions-payments": [PUSHERS, "team-payments-ci"],
    "payments-release-bot": [PUSHERS, "team-payments-ci"],
    "github-actions-checkout": [PUSHERS, "team-checkout-ci"],
    "github-actions-cart": [PUSHERS, "team-checkout-ci"],
    "github-actions-identity": [PUSHERS, "team-identity-ci"],
}
KUBELETS = ("aks-prod-weu-kubelet", "aks-prod-neu-kubelet", "aks-payments-prod-kubelet")


@pytest.fixture(params=COMBINATIONS, ids=[f"transitive-{t}+cast-{c}" for t, c in COMBINATIONS])
def server(request: pytest.FixtureRequest, membership_sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The module's demo sandbox with one combination of the Graph settings, reset afterwards."""
    assert membership_sandbox.sandbox is not None
    transitive, cast = request.param
    membership_sandbox.sandbox.settings = Settings(transitive_service_principals=transitive,
                                                   bare_transitive_cast=cast)
    yield membership_sandbox
    membership_sandbox.sandbox.settings = Settings()


def _cli(server: SandboxServer, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = main(["--sandbox-data", str(server.data_dir), *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def _v1_members_walk(server: SandboxServer, group: str) -> set[str]:
    """Every non-group object found below `group` by v1.0 `GET /groups/{id}/members` alone, level by
    level, following nextLinks: what a client that trusts v1.0 sees (az ad group member list does this)."""
    conn = server.connection
    assert conn is not None
    token = sync_secret_credential(conn, conn["admin"]["client_id"], conn["admin"]["client_secret"]) \
        .get_token(GRAPH_SCOPE).token
    found: set[str] = set()
    seen = {group}
    frontier = [group]
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Authorization": f"Bearer {token}"}) as http:
        while frontier:
            gid = frontier.pop()
            link: str | None = f"{conn['microsoft_graph']}/v1.0/groups/{gid}/members?$select=id&$top=999"
            while link:
                page = http.get(link).json()
                for item in page["value"]:
                    if item["@odata.type"] == "#microsoft.graph.group":
                        if item["id"] not in seen:
                            seen.add(item["id"])
                            frontier.append(item["id"])
                    else:
                        found.add(item["id"])
                link = page.get("@odata.nextLink")
    return found


def _granted(server: SandboxServer, login: str, object_id: str, scope: str) -> list[str]:
    """What the sandbox's registry token service would put in a token for this principal."""
    assert server.sandbox is not None
    registry = registry_for_host(server.sandbox, login)
    assert registry is not None
    access = granted_access(server.sandbox, registry, object_id, parse_scopes([scope]))
    return [a for item in access for a in item["actions"]]


def _by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["principal"]["displayName"]: e for e in doc["entries"]}


def test_v1_members_alone_would_miss_every_pusher_through_acr_pushers(
        server: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    console = _by_name(_cli(server, capsys, "access", "contosoprod"))
    through_pushers = {name: e for name, e in console.items()
                       if any(p["viaGroups"][:1] == [PUSHERS] for p in e["paths"])}
    assert {name: [p["viaGroups"] for p in e["paths"] if p["viaGroups"]] for name, e in through_pushers.items()} \
        == {name: [chain] for name, chain in PUSHERS_CHAINS.items()}
    for name, entry in through_pushers.items():
        assert entry["push"] and entry["principal"]["type"] == "servicePrincipal", name
        assert [p["role"] for p in entry["paths"] if p["viaGroups"]] == ["AcrPush"]
        # The token service agrees: each can push to contosoprod.
        assert _granted(server, "contosoprod.azurecr.io", entry["principal"]["objectId"],
                        "repository:release/app:pull,push") == ["pull", "push"], name
    # Reading v1.0 /members alone, level by level, finds not one of them.
    assert _v1_members_walk(server, stable_id("contoso", "group", PUSHERS)) == set()


def test_the_token_service_lets_a_pusher_through_a_group_push(server: SandboxServer) -> None:
    """The same answer from the token service over HTTPS, as `docker login` asks it (Basic appId:secret)."""
    assert server.sandbox is not None and server.connection is not None
    store = server.sandbox.store
    sp = store.object(stable_id("contoso", "sp", "github-actions-payments"), "servicePrincipal")
    assert sp is not None
    app = store.by_app_id(sp["appId"], "application")
    assert app is not None
    _, secret = add_password(store, app, "application", display_name="test-basic")
    basic = base64.b64encode(f"{sp['appId']}:{secret}".encode()).decode()
    with httpx.Client(verify=ssl_context(server.connection), trust_env=False,
                      headers={"Host": "contosoprod.azurecr.io"}) as http:
        r = http.get(f"{server.connection['registry_endpoint']}/oauth2/token",
                     params={"service": "contosoprod.azurecr.io", "scope": "repository:release/app:pull,push"},
                     headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["access"] == [{"type": "repository", "name": "release/app", "actions": ["pull", "push"]}]


def test_managed_identities_through_nested_groups(server: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    """AKS kubelet identities pull through aks-prod-pullers (AcrPull on rg-platform-prod) and through
    acr-base-image-readers ⊃ aks-prod-pullers (AcrPull on rg-shared-images)."""
    base = _by_name(_cli(server, capsys, "access", "contosobase"))
    prod = _by_name(_cli(server, capsys, "access", "contosoprod"))
    for name in KUBELETS:
        for doc, chain, login in ((base, ["acr-base-image-readers", "aks-prod-pullers"], "contosobase.azurecr.io"),
                                  (prod, ["aks-prod-pullers"], "contosoprod.azurecr.io")):
            entry = doc[name]
            assert entry["principal"]["type"] == "managedIdentity"
            assert (entry["pull"], entry["push"]) == (True, False)
            assert [p["viaGroups"] for p in entry["paths"]] == [chain]
            assert _granted(server, login, entry["principal"]["objectId"], "repository:base/os:pull,push") == ["pull"]
    assert _v1_members_walk(server, stable_id("contoso", "group", "acr-base-image-readers")).isdisjoint(
        {base[name]["principal"]["objectId"] for name in KUBELETS})
    assert _v1_members_walk(server, stable_id("contoso", "group", "aks-prod-pullers")) == set()


def test_principal_and_expiring_keep_their_group_stories(server: SandboxServer,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    payments = _cli(server, capsys, "principal", "github-actions-payments")
    assert {g["displayName"] for g in payments["groups"]} == {PUSHERS, "team-payments-ci"}
    via = [a for a in payments["assignments"] if a["viaGroup"]]
    assert [(a["role"], a["scope"].rsplit("/", 1)[-1]) for a in via] == [("AcrPush", "contosoprod")]
    kubelet = _cli(server, capsys, "principal", "aks-prod-weu-kubelet")
    assert kubelet["principal"]["type"] == "managedIdentity"
    assert {g["displayName"] for g in kubelet["groups"]} == {"aks-prod-pullers", "acr-base-image-readers"}
    # github-actions-payments can push to contosoprod only through acr-pushers ⊃ team-payments-ci: its
    # expiring secret names that registry too.
    expiring = _cli(server, capsys, "expiring", "--within", "30")
    mine = [x for x in expiring if x["principal"]["displayName"] == "github-actions-payments"]
    assert mine and all({"contosoprod", "contosopayments"} <= set(x["registries"]) for x in mine)


async def test_nesting_takes_two_rounds_because_the_cast_carries_its_headers(server: SandboxServer) -> None:
    """Three levels of groups, listed in two batched rounds under every setting: the first round's
    `transitiveMembers/microsoft.graph.group` shortcut finds the groups two levels down only because
    each inner request carries `ConsistencyLevel: eventual` and `$count=true` (aad-advanced-queries:
    "Use of OData cast with transitive members list"); without them Graph answers an empty list or
    400, and each level would cost a round of its own."""
    from acr_console.azure.clients import AzureClients
    from acr_console.azure.connection import sandbox_connection
    from acr_console.azure.directory import group_tree
    from acr_console.sandbox.directory import add_member, new_application, new_group, new_service_principal

    assert server.sandbox is not None and server.connection is not None
    store = server.sandbox.store
    chain = [new_group(store, f"test-level-{n}")["id"] for n in range(3)]
    for outer, inner in itertools.pairwise(chain):
        add_member(store, outer, inner)
    deep = new_service_principal(store, new_application(store, "test-deep-pusher"))["id"]
    add_member(store, chain[-1], deep)
    async with AzureClients(sandbox_connection(server.connection)) as az:
        since = store.last_request_seq()
        groups, principals = await group_tree(az, [chain[0]])
    batches = [r for r in store.request_log(since) if r["path"].endswith("/$batch")]
    assert [r["path"] for r in batches] == ["/graph/beta/$batch"] * 2
    assert set(groups) == set(chain) and groups[chain[-1]].member_ids == (deep,)
    assert principals[deep].display_name == "test-deep-pusher"
