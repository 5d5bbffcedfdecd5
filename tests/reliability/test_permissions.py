"""Signed in as a principal without the right: a plain "not permitted" naming the missing permission,
exit 4, never a traceback, for reads (access, principal) and writes (assign, reset-credential).

The principals sign in with their own secret (Auth SECRET): the sandbox answers with the errors
Azure gives, AuthorizationFailed from Resource Manager and Authorization_RequestDenied from Graph.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from acr_console.azure import writes_arm
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import Auth, AuthMethod, sandbox_connection
from acr_console.azure.registry_access import find_registry
from acr_console.main import main
from acr_console.operations import AuditLog, CreatePrincipalRequest, create_result, prepare, run_plan
from acr_console.sandbox.directory import grant_directory_permissions
from acr_console.sandbox.server import SandboxServer
from tests.support.handover import reads_for

from ..support.sandbox import running_sandbox
from .conftest import record

REGISTRY = "contosoprod"


async def _principal(az: AzureClients, audit: AuditLog, registry_reader: str, *, graph: list[str]) -> dict[str, str]:
    """An AcrPull principal that can also see the registry (a custom role of reads), with the Graph
    permissions given: what a CI or an auditing identity typically holds."""
    outcome = await run_plan(az, await prepare(CreatePrincipalRequest(
        f"optest-limited-{uuid.uuid4().hex[:8]}", REGISTRY, "AcrPull"), reads_for(az)), audit=audit)
    assert outcome.ok
    doc = create_result(outcome.plan)
    registry = await find_registry(az, REGISTRY)
    await writes_arm.create_role_assignment(az, registry.id, registry_reader, doc["servicePrincipalObjectId"])
    return {"appId": doc["appId"], "secret": outcome.secrets["password"].reveal(),
            "sp": doc["servicePrincipalObjectId"], "graph": ",".join(graph)}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, dict[str, dict[str, str]]]]:
    audit = AuditLog(tmp_path_factory.mktemp("permissions-audit") / "audit.jsonl")
    with running_sandbox(tmp_path_factory.mktemp("permissions")) as server:
        yield server, _limited_principals(server, audit)


def _limited_principals(server: SandboxServer, audit: AuditLog) -> dict[str, dict[str, str]]:
    """A principal that may list registries only, and one that may also read role assignments and
    the directory."""

    async def setup() -> dict[str, dict[str, str]]:
        async with AzureClients(sandbox_connection(server.connection or {})) as az:
            registry = await find_registry(az, REGISTRY)
            scope = f"/subscriptions/{registry.subscription_id}"

            async def custom_role(name: str, actions: list[str]) -> str:
                guid = str(uuid.uuid4())
                await az.arm_json("PUT", f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
                                  {"api-version": "2022-04-01"}, {"properties": {
                                      "roleName": name, "type": "CustomRole", "assignableScopes": [scope],
                                      "permissions": [{"actions": actions}]}})
                return writes_arm.role_definition_id(registry.subscription_id, guid)

            lister = await custom_role("Registry lister", ["Microsoft.ContainerRegistry/registries/read"])
            # Sees the registry and who holds which role on it, may change neither.
            auditor = await custom_role("Registry auditor", ["Microsoft.ContainerRegistry/registries/read",
                                                              "Microsoft.Authorization/roleAssignments/read",
                                                              "Microsoft.Authorization/roleDefinitions/read"])
            return {"no-graph": await _principal(az, audit, lister, graph=[]),
                    "graph-read": await _principal(az, audit, auditor, graph=["Directory.Read.All"])}

    made = asyncio.run(setup())
    assert server.sandbox is not None
    for who in made.values():
        if who["graph"]:
            grant_directory_permissions(server.sandbox.store, who["sp"], who["graph"].split(","))
    return made


def _as(who: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import acr_console.session as session

    def connection(*args: Any, **kwargs: Any) -> Any:
        return dataclasses.replace(sandbox_connection(*args, **kwargs),
                                   auth=Auth(AuthMethod.SECRET, who["appId"], who["secret"]))

    monkeypatch.setattr(session, "sandbox_connection", connection)


CASES = [
    # who, argv, the words that name what is missing
    ("no-graph", ["access", REGISTRY], "Microsoft.Authorization/roleAssignments/read"),
    ("no-graph", ["principal", "github-actions-payments"], "Application.Read.All"),
    ("graph-read", ["assign", "github-actions-payments", "--registry", REGISTRY, "--role", "AcrPull", "--yes"],
     "Microsoft.Authorization/roleAssignments/write"),
    ("graph-read", ["reset-credential", "github-actions-payments", "--show-secret", "--yes"],
     "Application.ReadWrite.All"),
    ("graph-read", ["assign", "github-actions-payments", "--registry", REGISTRY, "--role", "AcrPull", "--json",
                    "--yes"], "Microsoft.Authorization/roleAssignments/write"),
]


@pytest.mark.parametrize(("who", "argv", "missing"), CASES, ids=[f"{c[1][0]} as {c[0]}" for c in CASES])
def test_not_permitted_is_exit_4_and_names_the_permission(limited: Any, who: str, argv: list[str], missing: str,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    server, made = limited
    _as(made[who], monkeypatch)
    code = main(["--sandbox-data", str(server.data_dir), *argv])
    out, err = capsys.readouterr()
    text = " ".join((out + err).split())
    assert code == 4, text[-600:]
    assert "Traceback" not in text
    assert missing in text, text[-600:]
    assert made[who]["secret"] not in out + err
    record("permissions", " ".join(argv[:1]) + f" as {who}", f"exit {code}")
