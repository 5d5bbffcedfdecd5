"""Issue 16: `disable-admin-user` turns a registry's admin user off, and the registry's own token service
then refuses the admin password. Against the sandbox, through the real SDKs; ground truth is the token
service (Basic on `GET /oauth2/token`, as docker sends the admin user's name and password: Azure/acr
`docs/Token-BasicAuth.md`), never the console's report.

The write is `PATCH registries/R {"properties": {"adminUserEnabled": false}}`: Registries_Update in
Azure/azure-rest-api-specs `specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/`
(`RegistryUpdateParameters.properties.adminUserEnabled`; example `RegistryUpdate.json`), what `az acr update
--name R --admin-enabled false` sends. "Disabling the admin account ... cuts off all its users" and the
token service refuses it (MicrosoftDocs/azure-management-docs `articles/container-registry/
container-registry-authentication.md`, "Admin account"); the sandbox honours both (sandbox/arm.py
`update_registry`, sandbox/registry_plane.py `authenticate`).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.main import main
from acr_console.operations import AuditLog, DisableAdminUserRequest, Reads, prepare, run_plan
from acr_console.operations.plan import StepStatus
from acr_console.sandbox.server import SandboxServer

from ..sandbox.graph_support import ssl_context
from ..support.sandbox import sandbox_fixture

REGISTRY = "contosodev"  # admin user on in the demo seed
LOGIN = f"{REGISTRY}.azurecr.io"

admin_op_sandbox = sandbox_fixture("admin-user-op", scope="function")  # each test turns it off


async def admin_password(az: AzureClients) -> str:
    """As `az acr credential show` reads it: POST listCredentials through the management SDK."""
    from acr_console.azure.registry_access import find_registry

    registry = await find_registry(az, REGISTRY)
    await az.load()
    client = az.registry_client(registry.subscription_id)
    credentials = await client.registries.list_credentials(registry.resource_group, registry.name)
    return str(credentials.passwords[0].value)


def token_service(server: SandboxServer, user: str, password: str) -> int:
    conn = server.connection or {}
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": LOGIN}) as http:
        return http.get(f"{conn['registry_endpoint']}/oauth2/token", headers={"Authorization": f"Basic {auth}"},
                        params={"service": LOGIN, "scope": "repository:team/app:pull,push"}).status_code


async def test_disable_admin_user_and_the_token_service_refuses_it(admin_op_sandbox: SandboxServer,
                                                                   tmp_path: Any) -> None:
    server = admin_op_sandbox
    async with AzureClients(sandbox_connection(server.connection or {})) as az:
        password = await admin_password(az)
        assert token_service(server, REGISTRY, password) == 200
        plan = await prepare(DisableAdminUserRequest(REGISTRY), Reads(az))
        assert [s.id for s in plan.steps] == ["disable-admin-user"]
        assert any("az acr update --name contosodev --admin-enabled false" in w for w in plan.warnings)
        outcome = await run_plan(az, plan, audit=AuditLog(tmp_path / "audit.jsonl"))
        assert outcome.ok, outcome.to_json()
        assert token_service(server, REGISTRY, password) == 401
        again = await run_plan(az, await prepare(DisableAdminUserRequest(REGISTRY), Reads(az)),
                               audit=AuditLog(tmp_path / "audit.jsonl"))
        assert again.results["disable-admin-user"].status is StepStatus.ALREADY_DONE


def test_the_access_view_no_longer_lists_the_admin_user(admin_op_sandbox: SandboxServer,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    base = ["--sandbox-data", str(admin_op_sandbox.data_dir)]
    assert main([*base, "disable-admin-user", "--registry", REGISTRY, "--yes", "--json"]) == 0, capsys.readouterr()
    capsys.readouterr()
    assert main([*base, "access", REGISTRY, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["registry"]["adminUserEnabled"] is False
    assert [e for e in doc["entries"] if e["principal"]["type"] == "adminUser"] == []


def test_bad_registry_is_one_error_line(admin_op_sandbox: SandboxServer, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    code = main(["--sandbox-data", str(admin_op_sandbox.data_dir), "disable-admin-user", "--registry", "\x1b[2J",
                 "--yes"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ")
