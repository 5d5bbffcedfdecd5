"""Issue 13 item 4, end to end through the sandbox with the real SDKs: a registry token is an access
path in `access --json` exactly as the issue specifies, the sandbox's own token service agrees with
it, and `disable-token` and `remove-token-password` (plan, confirmation, audit, a second run that
changes nothing) take exactly what they say away, as the token service then shows.

Ground truth is the sandbox's token service (sandbox/registry_plane.py `token_access`), never the
console's report. Tokens change what a registry shows, so the tests use a sandbox of their own.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from azure.identity import ClientSecretCredential
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerregistry._utils.model_base import SdkJSONEncoder
from azure.mgmt.containerregistry.models import (
    GenerateCredentialsParameters,
    ScopeMap,
    Token,
    TokenUpdateParameters,
    TokenUpdateProperties,
)

from acr_console.access import to_json
from acr_console.azure.authorization import RoleDefinitions
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import Auth, AuthMethod, sandbox_connection
from acr_console.azure.registry_access import find_registry, read_registry_access
from acr_console.azure.writes_tokens import disable_body, keep_passwords_body
from acr_console.main import main
from acr_console.operations import AuditLog
from acr_console.sandbox.directory import (
    add_password,
    grant_directory_permissions,
    new_application,
    new_service_principal,
)
from acr_console.sandbox.seed import assign, role_definition_doc, stable_id
from acr_console.sandbox.server import SandboxServer

from ..sandbox.graph_support import ssl_context
from ..support.sandbox import sandbox_fixture

ARM_SCOPE = "https://management.azure.com/.default"
SUB = stable_id("contoso", "sub", "prod")
RG, REGISTRY = "rg-payments-prod", "contosopayments"
REGISTRY_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerRegistry/registries/{REGISTRY}"
LOGIN = f"{REGISTRY}.azurecr.io"

token_sandbox = sandbox_fixture("token-operations")


@pytest.fixture
def server(token_sandbox: SandboxServer) -> SandboxServer:
    return token_sandbox


@pytest.fixture
def acr(server: SandboxServer) -> Iterator[ContainerRegistryManagementClient]:
    conn = server.connection
    assert conn is not None
    cred = ClientSecretCredential(conn["tenant_id"], conn["admin"]["client_id"], conn["admin"]["client_secret"],
                                  authority=conn["authority_host"], disable_instance_discovery=True,
                                  connection_verify=conn["ca_bundle"])
    with ContainerRegistryManagementClient(cred, SUB, base_url=conn["resource_manager"],
                                           credential_scopes=[ARM_SCOPE], connection_verify=conn["ca_bundle"],
                                           retry_total=0) as client:
        yield client


@pytest.fixture(autouse=True)
def _audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(path))
    return path


@dataclasses.dataclass
class Made:
    name: str
    id: str
    scope_map: str
    scope_map_id: str
    passwords: dict[str, str]
    expiry: datetime


def team_pusher(acr: ContainerRegistryManagementClient, days: float = 10) -> Made:
    """A scope map granting push on `team/*` (content/read + content/write, as the doc's push needs),
    and a token on it with both passwords, expiring in `days`."""
    sm = f"team-push-{uuid.uuid4().hex[:6]}"
    made_map = acr.scope_maps.begin_create(RG, REGISTRY, sm, ScopeMap(
        actions=["repositories/team/*/content/read", "repositories/team/*/content/write"])).result()
    name = f"ci-{uuid.uuid4().hex[:8]}"
    token = acr.tokens.begin_create(RG, REGISTRY, name, Token(scope_map_id=made_map.id, status="enabled")).result()
    expiry = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    creds = acr.registries.begin_generate_credentials(RG, REGISTRY, GenerateCredentialsParameters(
        token_id=token.id, expiry=expiry)).result()
    return Made(name, str(token.id), sm, str(made_map.id), {p.name: p.value for p in creds.passwords}, expiry)


def token_service(server: SandboxServer, user: str, password: str, *scopes: str) -> httpx.Response:
    """What docker login and docker push ask the registry's token service (Basic, GET /oauth2/token)."""
    conn = server.connection
    assert conn is not None
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": LOGIN}) as http:
        return http.get(f"{conn['registry_endpoint']}/oauth2/token", headers={"Authorization": f"Basic {auth}"},
                        params=[("service", LOGIN), *(("scope", s) for s in scopes)])


def granted(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    return {a["name"]: a["actions"] for a in claims["access"]}


def cli(server: SandboxServer, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(["--sandbox-data", str(server.data_dir), *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else err)


def entry_of(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in doc["entries"] if e["principal"]["displayName"] == name)


def test_access_json_shows_the_token_as_the_issue_specifies_and_the_token_service_agrees(
        server: SandboxServer, acr: ContainerRegistryManagementClient, capsys: pytest.CaptureFixture[str]) -> None:
    made = team_pusher(acr)
    code, doc = cli(server, capsys, "access", REGISTRY, "--json")
    assert code == 0
    assert entry_of(doc, made.name) == {
        "principal": {"type": "registryToken", "displayName": made.name, "objectId": None, "appId": None,
                      "enabled": True},
        "orphaned": False, "pull": True, "push": True, "delete": False, "latent": [],
        "token": {"name": made.name, "status": "enabled", "scopeMap": made.scope_map,
                  "credentials": [{"name": "password1", "expiry": made.expiry.isoformat().replace("+00:00", "Z")},
                                  {"name": "password2", "expiry": made.expiry.isoformat().replace("+00:00", "Z")}]},
        "paths": [{"kind": "token", "role": made.scope_map, "scope": made.scope_map_id, "inherited": False,
                   "viaGroups": [], "repositories": ["team/*"], "confidence": "direct", "rights": ["pull", "push"],
                   "possible": [], "assignmentId": None}],
    }
    # `--can push` keeps it; the sandbox's token service gives push on team/app and nothing on other/app.
    code, pushers = cli(server, capsys, "access", REGISTRY, "--can", "push", "--json")
    assert made.name in {e["principal"]["displayName"] for e in pushers["entries"]}
    assert granted(token_service(server, made.name, made.passwords["password1"], "repository:team/app:pull,push",
                                 "repository:other/app:pull,push")) == {"team/app": ["pull", "push"]}


def test_disable_token_plans_asks_audits_and_the_token_service_then_refuses_it(
        server: SandboxServer, acr: ContainerRegistryManagementClient, capsys: pytest.CaptureFixture[str],
        _audit: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = team_pusher(acr)
    scope = "repository:team/app:pull,push"
    # Without --yes and without a terminal nothing is sent; --dry-run shows the plan only.
    code, plan = cli(server, capsys, "disable-token", "--registry", REGISTRY, made.name, "--dry-run", "--json")
    assert code == 0 and plan["plan"]["operation"] == "disable-token"
    assert [s["id"] for s in plan["plan"]["steps"]] == ["disable-token"]
    assert any("az acr token update" in s["description"] for s in plan["plan"]["steps"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _ = cli(server, capsys, "disable-token", "--registry", REGISTRY, made.name)
    assert code == 2
    assert acr.tokens.get(RG, REGISTRY, made.name).status == "enabled"

    code, outcome = cli(server, capsys, "disable-token", "--registry", REGISTRY, made.name, "--yes", "--json")
    assert code == 0 and outcome["ok"] and outcome["steps"][0]["status"] == "done"
    assert acr.tokens.get(RG, REGISTRY, made.name).status == "disabled"
    refused = token_service(server, made.name, made.passwords["password1"], scope)
    assert refused.status_code == 401
    code, doc = cli(server, capsys, "access", REGISTRY, "--json")
    entry = entry_of(doc, made.name)
    assert (entry["pull"], entry["push"], entry["token"]["status"]) == (False, False, "disabled")
    assert [p["rights"] for p in entry["paths"]] == [[]]
    # Again: nothing to do, exit 0, nothing sent.
    code, again = cli(server, capsys, "disable-token", "--registry", REGISTRY, made.name, "--yes", "--json")
    assert code == 0 and again["steps"] == [] and "already disabled" in again["warnings"][0]
    records = [r for r in AuditLog(_audit).read() if r["operation"] == "disable-token"]
    assert len(records) == 1 and records[0]["target"]["tokenId"] == made.id
    assert all(v not in _audit.read_text() for v in made.passwords.values())


def test_remove_token_password_takes_only_that_password(server: SandboxServer, acr: ContainerRegistryManagementClient,
                                                        capsys: pytest.CaptureFixture[str], _audit: Path) -> None:
    made = team_pusher(acr)
    scope = "repository:team/app:push"
    code, outcome = cli(server, capsys, "remove-token-password", "--registry", REGISTRY, made.name, "--password",
                        "password1", "--yes", "--json")
    assert code == 0 and outcome["ok"], outcome
    assert token_service(server, made.name, made.passwords["password1"], scope).status_code == 401
    assert granted(token_service(server, made.name, made.passwords["password2"], scope)) == {"team/app": ["push"]}
    assert [p.name for p in acr.tokens.get(RG, REGISTRY, made.name).credentials.passwords] == ["password2"]
    code, doc = cli(server, capsys, "access", REGISTRY, "--json")
    assert [c["name"] for c in entry_of(doc, made.name)["token"]["credentials"]] == ["password2"]
    code, again = cli(server, capsys, "remove-token-password", "--registry", REGISTRY, made.name, "--password",
                      "password1", "--yes", "--json")
    assert code == 0 and again["steps"] == [] and "has no password1" in again["warnings"][0]
    # The last one: said before it goes.
    code, plan = cli(server, capsys, "remove-token-password", "--registry", REGISTRY, made.name, "--password",
                     "password2", "--dry-run", "--json")
    assert any("no password left" in w for w in plan["plan"]["warnings"])
    assert all(v not in _audit.read_text() for v in made.passwords.values())


def test_bad_input_is_refused_before_anything_is_sent(server: SandboxServer,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert server.sandbox is not None
    for argv, words in ((["disable-token", "--registry", REGISTRY, "bad_name"], "not a registry token name"),
                        (["disable-token", "--registry", REGISTRY, "abc"], "not a registry token name"),
                        (["disable-token", "--registry", " ", "ci-team"], "--registry")):
        since = server.sandbox.store.last_request_seq()
        code, err = cli(server, capsys, *argv, "--yes")
        assert code == 2 and words in err, err
        assert server.sandbox.store.request_log(since) == []
    code, err = cli(server, capsys, "disable-token", "--registry", REGISTRY, "no-such-token", "--yes")
    assert code == 3 and "TokenNotFound" in err


def test_the_bodies_sent_are_the_azure_clis() -> None:
    """What `tokens.begin_update` puts on the wire, serialised by the SDK's own encoder as the SDK
    does: `az acr token update --status disabled` and `az acr token credential delete --password1`
    (azure-cli `acr/token.py`)."""

    def wire(body: Any) -> Any:
        return json.loads(json.dumps(body, cls=SdkJSONEncoder, exclude_readonly=True))

    assert wire(disable_body()) == {"properties": {"status": "disabled"}}
    assert wire(keep_passwords_body(["password2"])) == {"properties": {"credentials": {"passwords": [
        {"name": "password2"}]}}}
    assert wire(keep_passwords_body([])) == {"properties": {"credentials": {"passwords": []}}}


def test_token_passwords_are_on_the_expiring_radar_unless_the_token_is_disabled(
        server: SandboxServer, acr: ContainerRegistryManagementClient, capsys: pytest.CaptureFixture[str]) -> None:
    soon, later = team_pusher(acr, days=5), team_pusher(acr, days=200)
    off = team_pusher(acr, days=5)
    acr.tokens.begin_update(RG, REGISTRY, off.name, TokenUpdateParameters(
        properties=TokenUpdateProperties(status="disabled"))).result()
    code, items = cli(server, capsys, "expiring", "--within", "30", "--json")
    assert code == 0
    mine = [(x["principal"]["displayName"], x["credential"]["displayName"]) for x in items
            if x["principal"]["type"] == "registryToken"]
    assert (soon.name, "password1") in mine and (soon.name, "password2") in mine
    assert not {later.name, off.name} & {n for n, _ in mine}
    item = next(x for x in items if x["principal"]["displayName"] == soon.name)
    assert (item["credential"]["on"], item["registries"]) == ("registryToken", [REGISTRY])


def test_tokens_a_caller_may_not_read_are_said_to_be_unread(server: SandboxServer,
                                                            acr: ContainerRegistryManagementClient) -> None:
    """An auditor with registries/read and the role reads but no `tokens/read`: access still answers,
    and says the tokens were not read instead of implying there are none."""
    made = team_pusher(acr)
    assert server.sandbox is not None and server.connection is not None
    store = server.sandbox.store
    guid = str(uuid.uuid4())
    store.put_role_definition(guid, role_definition_doc(
        guid, "Registry auditor (no tokens)", "", ["Microsoft.ContainerRegistry/registries/read",
                                                   "Microsoft.Authorization/roleAssignments/read",
                                                   "Microsoft.Authorization/roleDefinitions/read"], [], [], [],
        custom=True, scope=f"/subscriptions/{SUB}"), custom=True)
    app = new_application(store, f"test-auditor-{uuid.uuid4().hex[:6]}")
    sp = new_service_principal(store, app)
    _, secret = add_password(store, app, "application")
    assign(store, REGISTRY_ID, guid, sp["id"], "ServicePrincipal")
    grant_directory_permissions(store, sp["id"], ["Directory.Read.All"])
    connection = dataclasses.replace(sandbox_connection(server.connection),
                                     auth=Auth(AuthMethod.SECRET, app["appId"], secret))

    async def read() -> Any:
        async with AzureClients(connection) as az:
            registry = await find_registry(az, REGISTRY)
            return await read_registry_access(az, registry, RoleDefinitions(az))

    access = asyncio.run(read())
    assert access.token_read_error is not None and "AuthorizationFailed" in access.token_read_error
    assert made.name not in {e.principal.display_name for e in access.entries}
    assert access.entries  # the role-assignment entries are all there
    assert "tokenReadError" in to_json(access)


def test_scope_maps_are_read_only_for_a_registry_with_tokens(server: SandboxServer,
                                                             acr: ContainerRegistryManagementClient) -> None:
    """A scope map grants nothing by itself: rights reach a client only through a token associated
    with it (MicrosoftDocs/azure-management-docs `articles/container-registry/
    container-registry-token-based-repository-permissions.md`). So a registry with no token costs one
    request (Tokens - List), not two; one with tokens still has its scope maps read, and the token's
    rights from them are what the token service grants."""
    made = team_pusher(acr)
    assert server.sandbox is not None and server.connection is not None
    store = server.sandbox.store
    connection = sandbox_connection(server.connection)

    async def read(name: str) -> tuple[Any, list[str]]:
        async with AzureClients(connection) as az:
            registry = await find_registry(az, name)
            since = store.last_request_seq()
            access = await read_registry_access(az, registry, RoleDefinitions(az))
        return access, [r["path"].rsplit("/", 1)[-1] for r in store.request_log(since)
                        if r["path"].endswith(("/tokens", "/scopeMaps"))]

    plain, asked = asyncio.run(read("contosomirror"))
    assert asked == ["tokens"]
    assert all(e.token is None for e in plain.entries) and plain.token_read_error is None

    with_token, asked = asyncio.run(read(REGISTRY))
    assert sorted(asked) == ["scopeMaps", "tokens"]
    entry = next(e for e in with_token.entries if e.principal.display_name == made.name)
    pushed = granted(token_service(server, made.name, made.passwords["password1"], "repository:team/api:pull,push"))
    assert pushed == {"team/api": ["pull", "push"]}
    assert {(p.repositories, tuple(sorted(r.value for r in p.rights))) for p in entry.paths} == {
        (("team/*",), ("pull", "push"))}
