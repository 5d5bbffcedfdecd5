"""Issue 13 item 3, accepted through the sandbox: `access R --json` on a registry with anonymous pull
lists "anyone (anonymous pull)"; the sandbox's own token service agrees (anonymous gets pull only,
on any repository); after `disable-anonymous-pull` anonymous gets 401 and `access` no longer lists it.

Ground truth is the sandbox's: its token service and its stored registry, never the console's report.
The switch is flipped here, so the sandbox is this module's own. Documents followed:
MicrosoftDocs/azure-management-docs `articles/container-registry/anonymous-pull-access.md` (`az acr
update --name R --anonymous-pull-enabled false`), distribution/distribution
`docs/content/spec/auth/token.md` (a subset of the requested access is not an error).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import jwt
import pytest

from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import Auth, AuthMethod, sandbox_connection
from acr_console.main import main
from acr_console.operations import AuditLog, DisableAnonymousPullRequest, Reads, prepare, run_plan
from acr_console.operations.plan import StepStatus
from acr_console.roles import builtin_by_name
from acr_console.sandbox.directory import add_password, new_application, new_service_principal
from acr_console.sandbox.seed import assign
from acr_console.sandbox.server import SandboxServer

from ..sandbox.graph_support import ssl_context
from ..support.sandbox import sandbox_fixture

REGISTRY = "contosobase"  # anonymous pull on in the demo seed
LOGIN = f"{REGISTRY}.azurecr.io"
ANONYMOUS = {"objectId": None, "appId": None, "displayName": "anyone (anonymous pull)", "type": "anonymous",
             "enabled": None}

anonymous_op_sandbox = sandbox_fixture("anonymous-op")


def cli(capsys: pytest.CaptureFixture[str], server: SandboxServer, *args: str) -> tuple[int, str, str]:
    code = main(["--sandbox-data", str(server.data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def access_json(capsys: pytest.CaptureFixture[str], server: SandboxServer, *more: str) -> dict[str, Any]:
    code, out, err = cli(capsys, server, "access", REGISTRY, "--json", *more)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def anonymous_token(server: SandboxServer, *scopes: str) -> httpx.Response:
    """What docker pull does first, with no credential: ask the registry's own token service."""
    conn = server.connection or {}
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": LOGIN}) as http:
        return http.get(f"{conn['registry_endpoint']}/oauth2/token",
                        params=[("service", LOGIN), *(("scope", s) for s in scopes)])


def stored_anonymous_pull(server: SandboxServer, registry: str = REGISTRY) -> Any:
    assert server.sandbox is not None
    rows = server.sandbox.store.rows("SELECT doc FROM resources WHERE name_lower = ?", (registry,))
    return json.loads(rows[0]["doc"])["properties"].get("anonymousPullEnabled")


def test_access_lists_anonymous_pull_and_the_token_service_agrees_until_it_is_turned_off(
        capsys: pytest.CaptureFixture[str], anonymous_op_sandbox: SandboxServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = anonymous_op_sandbox
    audit = tmp_path / "audit.jsonl"
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(audit))

    doc = access_json(capsys, server)
    first = doc["entries"][0]
    assert first == {"principal": ANONYMOUS, "orphaned": False, "pull": True, "push": False, "delete": False,
                     "latent": [], "paths": [{"kind": "anonymous-pull", "role": None, "scope": doc["registry"]["id"],
                                              "inherited": False, "viaGroups": [], "repositories": None,
                                              "confidence": "direct", "rights": ["pull"],
                                              "possible": [], "assignmentId": None}]}
    assert [e for e in doc["entries"][1:] if e["principal"]["type"] == "anonymous"] == []
    assert access_json(capsys, server, "--can", "pull")["entries"][0]["principal"] == ANONYMOUS
    for right in ("push", "delete"):
        assert ANONYMOUS not in [e["principal"] for e in access_json(capsys, server, "--can", right)["entries"]]
    # The sandbox's token service: pull on any repository, push asked for and not granted.
    r = anonymous_token(server, "repository:library/alpine:pull", "repository:team/app:pull,push,delete")
    assert r.status_code == 200
    assert jwt.decode(r.json()["access_token"], options={"verify_signature": False})["access"] == [
        {"type": "repository", "name": "library/alpine", "actions": ["pull"]},
        {"type": "repository", "name": "team/app", "actions": ["pull"]}]
    # principal and expiring list principals that can sign in: anonymous pull is no principal there.
    code, out, err = cli(capsys, server, "expiring", "--within", "3650", "--json")
    assert code == 0, err
    assert all(item["principal"].get("type") != "anonymous" for item in json.loads(out))

    # The plan: one step, the by-hand command, nothing sent.
    code, out, err = cli(capsys, server, "disable-anonymous-pull", "--registry", REGISTRY, "--dry-run", "--json")
    assert code == 0, err
    plan = json.loads(out)["plan"]
    assert plan["operation"] == "disable-anonymous-pull" and len(plan["steps"]) == 1
    assert f"az acr update --name {REGISTRY} --anonymous-pull-enabled false" in " ".join(plan["warnings"])
    assert stored_anonymous_pull(server) is True

    # Read-only: refused before anything is sent.
    code, _, err = cli(capsys, server, "--read-only", "disable-anonymous-pull", "--registry", REGISTRY, "--yes")
    assert code == 4 and "read-only" in err
    assert stored_anonymous_pull(server) is True

    code, out, err = cli(capsys, server, "disable-anonymous-pull", "--registry", REGISTRY, "--yes", "--json")
    assert code == 0, err
    assert [s["status"] for s in json.loads(out)["steps"]] == ["done"]
    assert stored_anonymous_pull(server) is False
    r = anonymous_token(server, "repository:library/alpine:pull")
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert all(e["principal"]["type"] != "anonymous" for e in access_json(capsys, server)["entries"])

    # Again: already off, nothing sent, still audited.
    code, out, err = cli(capsys, server, "disable-anonymous-pull", "--registry", REGISTRY, "--yes", "--json")
    assert code == 0, err
    assert [s["status"] for s in json.loads(out)["steps"]] == ["already-done"]
    records = AuditLog(audit).read()
    assert [(r["operation"], r["target"]["registry"]) for r in records] == [("disable-anonymous-pull", REGISTRY)] * 2
    assert [s["status"] for r in records for s in r["steps"]] == ["done", "already-done"]


def test_a_reader_is_refused_with_not_permitted(anonymous_op_sandbox: SandboxServer, tmp_path: Path) -> None:
    """PATCH registries/R needs Microsoft.ContainerRegistry/registries/write: a Reader's step fails, exit 4."""
    server = anonymous_op_sandbox
    assert server.sandbox is not None and server.connection is not None
    store = server.sandbox.store
    app = new_application(store, "optest-anonymous-reader")
    sp = new_service_principal(store, app)
    _, secret = add_password(store, app, "application")
    reader = builtin_by_name("Reader")
    assert reader is not None
    # contosoprodweu: a registry the other test leaves alone; anonymous pull turned on for this test.
    target = "contosoprodweu"
    rows = store.rows("SELECT doc FROM resources WHERE name_lower = ?", (target,))
    doc = json.loads(rows[0]["doc"])
    doc["properties"]["anonymousPullEnabled"] = True
    store.put_resource(doc)
    assign(store, doc["id"], reader.guid, sp["id"], "ServicePrincipal")
    connection = dataclasses.replace(sandbox_connection(server.connection),
                                     auth=Auth(AuthMethod.SECRET, app["appId"], secret))

    async def attempt() -> Any:
        async with AzureClients(connection) as az:
            plan = await prepare(DisableAnonymousPullRequest(registry=target), Reads(az))
            return await run_plan(az, plan, audit=AuditLog(tmp_path / "audit.jsonl"))

    outcome = asyncio.run(attempt())
    (result,) = outcome.results.values()
    assert result.status is StepStatus.FAILED and result.error is not None
    assert result.error.code == "AuthorizationFailed" and outcome.exit_code == 4
    assert stored_anonymous_pull(server, target) is True


def test_the_request_sent_is_exactly_what_az_acr_update_sends(anonymous_op_sandbox: SandboxServer,
                                                               tmp_path: Path) -> None:
    """`az acr update -n R --anonymous-pull-enabled false` sends `PATCH …/registries/R` with the body
    exactly `{"properties": {"anonymousPullEnabled": false}}` (azure-cli `acr/custom.py`, issue-13
    brief §9). The bytes are read off the console's own HTTP client as they leave."""
    server = anonymous_op_sandbox
    assert server.sandbox is not None and server.connection is not None
    target = "contosodatalab"
    rows = server.sandbox.store.rows("SELECT doc FROM resources WHERE name_lower = ?", (target,))
    doc = json.loads(rows[0]["doc"])
    doc["properties"]["anonymousPullEnabled"] = True
    server.sandbox.store.put_resource(doc)
    sent: list[tuple[str, str, bytes]] = []

    # aiohttp's client tracing (https://docs.aiohttp.org/en/stable/tracing_reference.html): each body
    # chunk as it is written to the connection.
    async def record(session: Any, context: Any, params: aiohttp.TraceRequestChunkSentParams) -> None:
        if params.method == "PATCH":
            sent.append((params.method, params.url.path, params.chunk))

    trace = aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(record)
    trace.freeze()

    async def run() -> Any:
        async with AzureClients(sandbox_connection(server.connection or {})) as az:
            az.transport.session.trace_configs.append(trace)
            plan = await prepare(DisableAnonymousPullRequest(registry=target), Reads(az))
            return await run_plan(az, plan, audit=AuditLog(tmp_path / "audit.jsonl"))

    outcome = asyncio.run(run())
    assert outcome.ok, outcome.summary()
    assert [(m, p.lower(), json.loads(b)) for m, p, b in sent] == [
        ("PATCH", doc["id"].lower(), {"properties": {"anonymousPullEnabled": False}})]
    assert stored_anonymous_pull(server, target) is False
