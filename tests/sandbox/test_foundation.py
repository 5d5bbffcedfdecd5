"""The sandbox contract from the foundation issue, exercised with the unmodified SDK clients."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.containerregistry import ContainerRegistryManagementClient

from acr_console.sandbox.seed import DEMO_REGISTRIES

from .graph_support import ssl_context

ARM_SCOPE = "https://management.azure.com/.default"


def admin_credential(conn: dict[str, Any]) -> ClientSecretCredential:
    return ClientSecretCredential(
        conn["tenant_id"], conn["admin"]["client_id"], conn["admin"]["client_secret"],
        authority=conn["authority_host"], disable_instance_discovery=True, connection_verify=conn["ca_bundle"],
    )


def acr_client(conn: dict[str, Any], sub: str, cred: Any = None) -> ContainerRegistryManagementClient:
    return ContainerRegistryManagementClient(
        cred or admin_credential(conn), sub, base_url=conn["resource_manager"],
        credential_scopes=[ARM_SCOPE], connection_verify=conn["ca_bundle"],
    )


def test_unmodified_clients_list_demo_registries(connection: dict[str, Any]) -> None:
    cred = admin_credential(connection)
    names = set()
    for sub in connection["subscriptions"]:
        for reg in acr_client(connection, sub, cred).registries.list():
            names.add(reg.name)
            assert reg.login_server == f"{reg.name}.azurecr.io"
            assert reg.provisioning_state == "Succeeded"
    assert names == {name for _, _, name, *_ in DEMO_REGISTRIES}


def test_get_registry_and_not_found(connection: dict[str, Any]) -> None:
    client = acr_client(connection, connection["subscriptions"][0])
    regs = list(client.registries.list())
    reg = regs[0]
    rg = reg.id.split("/")[4]
    got = client.registries.get(rg, reg.name)
    assert got.id == reg.id
    with pytest.raises(ResourceNotFoundError) as info:
        client.registries.get(rg, "doesnotexist")
    assert info.value.error is not None and info.value.error.code == "ResourceNotFound"


def test_wrong_secret_is_refused_with_aadsts_code(connection: dict[str, Any]) -> None:
    cred = ClientSecretCredential(
        connection["tenant_id"], connection["admin"]["client_id"], "not-the-secret",
        authority=connection["authority_host"], disable_instance_discovery=True,
        connection_verify=connection["ca_bundle"],
    )
    with pytest.raises(ClientAuthenticationError) as info:
        cred.get_token(ARM_SCOPE)
    assert "AADSTS7000215" in str(info.value)
    assert "not-the-secret" not in str(info.value)


def test_token_for_graph_is_refused_by_arm(connection: dict[str, Any]) -> None:
    import httpx

    token = admin_credential(connection).get_token("https://graph.microsoft.com/.default").token
    sub = connection["subscriptions"][0]
    with httpx.Client(verify=ssl_context(connection)) as http:
        r = http.get(f"{connection['resource_manager']}subscriptions/{sub}?api-version=2022-12-01",
                     headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    # ARM's own code for a token of another resource (see test_strict_planes).
    assert r.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    # As ARM does: the challenge names the tenant's authority, so a client can find where to sign in.
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert f'authorization_uri="{connection["authority_host"].rstrip("/")}/{connection["tenant_id"]}"' in challenge


def test_connection_file_is_private_and_complete(sandbox_server: Any) -> None:
    path = Path(sandbox_server.data_dir) / "connection.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    for key in ("tenant_id", "authority_host", "resource_manager", "microsoft_graph", "registry_endpoint",
                "ca_bundle", "subscriptions", "page_size", "admin", "pid"):
        assert key in doc, key
    assert doc["microsoft_graph"].rstrip("/") != doc["resource_manager"].rstrip("/")
    assert doc["authority_host"].startswith("https://127.0.0.1:")
    assert Path(doc["ca_bundle"]).is_absolute()


def test_serve_command_writes_connection_and_stops_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "d"
    env = {k: v for k, v in os.environ.items()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "acr_console", "sandbox", "serve", "--data", str(data), "--port", "0",
         "--seed", "demo"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        conn_path = data / "connection.json"
        deadline = time.monotonic() + 30
        while not conn_path.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "connection.json never appeared"
            time.sleep(0.05)
        conn = json.loads(conn_path.read_text())
        assert conn["pid"] == proc.pid
        names = {r.name for r in acr_client(conn, conn["subscriptions"][0]).registries.list()}
        assert names
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert not conn_path.exists()
        out = proc.stdout.read() if proc.stdout else ""
        assert conn["authority_host"] in out
        assert conn["admin"]["client_secret"] not in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
