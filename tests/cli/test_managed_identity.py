"""`--auth managed-identity` as hosts have it: a user-assigned identity named by `--client-id`, or by
`AZURE_CLIENT_ID` as DefaultAzureCredential reads it, asked of the host's IMDS; and a tenant the
mode cannot honour refused before anything is sent.

The host's IMDS is a stand-in: a real HTTP server on loopback started by the test, which
azure-identity's ImdsCredential reaches through `AZURE_POD_IDENTITY_AUTHORITY_HOST` (the authority it
uses instead of http://169.254.169.254, azure/identity/_credentials/imds.py; set, it also skips the
probe). It answers as IMDS does (https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http):
GET /metadata/identity/oauth2/token?api-version=…&resource=…[&client_id=…] with `Metadata: true`,
a JSON token with `expires_in`/`expires_on` as strings, and 400 "Identity not found" for a client id
the host does not have. The tokens it hands out are the sandbox's (its token endpoint, through
azure-identity), so the console's real ARM requests go on to the sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.identity import ClientSecretCredential

from acr_console.sandbox.server import SandboxServer
from tests.support.sandbox import sandbox_fixture

# The user-assigned identity the stand-in host has (any GUID: IMDS knows identities by client id).
USER_ASSIGNED = "6f1c3a52-0d4e-4b8f-9a77-2c5e8d9b1f03"
OTHER = "0b7e9c21-5a3f-4d60-8e12-9f4a6b3c7d58"

mi_sandbox = sandbox_fixture("managed-identity")


class StandInImds(ThreadingHTTPServer):
    """IMDS for a host with a system-assigned identity and USER_ASSIGNED; `asked` records every
    request's query (dict of first values) with its Metadata header."""

    def __init__(self, conn: dict[str, Any]) -> None:
        super().__init__(("127.0.0.1", 0), _ImdsHandler)
        self.conn = conn
        self.asked: list[dict[str, str]] = []

    @property
    def authority(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def sandbox_token(self, resource: str) -> dict[str, Any]:
        # The sandbox's admin principal stands behind every identity of this host: the point is
        # which identity the console asks for, and that the token it gets works.
        admin = self.conn["admin"]
        cred = ClientSecretCredential(self.conn["tenant_id"], admin["client_id"], admin["client_secret"],
                                      authority=self.conn["authority_host"], connection_verify=self.conn["ca_bundle"],
                                      disable_instance_discovery=True)
        try:
            token = cred.get_token(resource.rstrip("/") + "/.default")
        finally:
            cred.close()
        now = int(time.time())
        return {"access_token": token.token, "refresh_token": "", "expires_in": str(token.expires_on - now),
                "expires_on": str(token.expires_on), "not_before": str(now), "resource": resource,
                "token_type": "Bearer"}


class _ImdsHandler(BaseHTTPRequestHandler):
    server: StandInImds

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.asked.append({**query, "path": url.path, "metadata": self.headers.get("Metadata", "")})
        if url.path != "/metadata/identity/oauth2/token" or self.headers.get("Metadata") != "true":
            self._send(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
        elif query.get("client_id", USER_ASSIGNED) != USER_ASSIGNED:
            self._send(400, {"error": "invalid_request", "error_description": "Identity not found"})
        else:
            self._send(200, self.server.sandbox_token(query["resource"]))

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def imds(mi_sandbox: SandboxServer) -> Iterator[StandInImds]:
    assert mi_sandbox.connection is not None
    server = StandInImds(mi_sandbox.connection)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run(server: SandboxServer, imds: StandInImds | None, tmp_path: Path, *args: str,
        env: dict[str, str] | None = None, sandbox: bool = True) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "IDENTITY_ENDPOINT", "MSI_ENDPOINT",
                         "AZURE_FEDERATED_TOKEN_FILE", "AZURE_POD_IDENTITY_AUTHORITY_HOST")}
    base["ACR_CONSOLE_CONFIG"] = os.devnull  # no user configuration: the options alone
    if imds is not None:
        base["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = imds.authority
    where = ["--sandbox-data", str(server.data_dir)] if sandbox else []
    return subprocess.run([sys.executable, "-m", "acr_console", *where, *args], capture_output=True, text=True,
                          timeout=120, env={**base, **(env or {})})


def token_requests(imds: StandInImds) -> list[dict[str, str]]:
    return [a for a in imds.asked if a["path"] == "/metadata/identity/oauth2/token"]


def test_client_id_option_asks_imds_for_that_identity(mi_sandbox: SandboxServer, imds: StandInImds,
                                                      tmp_path: Path) -> None:
    done = run(mi_sandbox, imds, tmp_path, "--auth", "managed-identity", "--client-id", USER_ASSIGNED,
               "registries", "--json")
    assert done.returncode == 0, done.stderr
    asked = token_requests(imds)
    assert asked, "the console never asked IMDS for a token"
    assert {a.get("client_id") for a in asked} == {USER_ASSIGNED}
    assert {a["metadata"] for a in asked} == {"true"}
    # The ARM audience of the cloud, as a resource (IMDS takes a resource, not a scope).
    assert {a["resource"] for a in asked} == {"https://management.azure.com"}
    names = {r["name"] for r in json.loads(done.stdout)}
    assert "contosoprod" in names  # the sandbox's ARM took the token the stand-in IMDS handed out


def test_azure_client_id_asks_imds_for_that_identity(mi_sandbox: SandboxServer, imds: StandInImds,
                                                     tmp_path: Path) -> None:
    done = run(mi_sandbox, imds, tmp_path, "--auth", "managed-identity", "registries", "--json",
               env={"AZURE_CLIENT_ID": USER_ASSIGNED})
    assert done.returncode == 0, done.stderr
    asked = token_requests(imds)
    assert asked and {a.get("client_id") for a in asked} == {USER_ASSIGNED}
    assert "contosoprod" in {r["name"] for r in json.loads(done.stdout)}


def test_client_id_option_wins_over_azure_client_id(mi_sandbox: SandboxServer, imds: StandInImds,
                                                    tmp_path: Path) -> None:
    done = run(mi_sandbox, imds, tmp_path, "--auth", "managed-identity", "--client-id", USER_ASSIGNED,
               "registries", "--json", env={"AZURE_CLIENT_ID": OTHER})
    assert done.returncode == 0, done.stderr
    assert {a.get("client_id") for a in token_requests(imds)} == {USER_ASSIGNED}


def test_without_client_id_the_system_assigned_identity_is_asked_for(mi_sandbox: SandboxServer, imds: StandInImds,
                                                                    tmp_path: Path) -> None:
    done = run(mi_sandbox, imds, tmp_path, "--auth", "managed-identity", "registries", "--json")
    assert done.returncode == 0, done.stderr
    asked = token_requests(imds)
    assert asked and all("client_id" not in a for a in asked)


def test_an_identity_the_host_lacks_is_one_error_line_naming_it(mi_sandbox: SandboxServer, imds: StandInImds,
                                                                tmp_path: Path) -> None:
    done = run(mi_sandbox, imds, tmp_path, "--auth", "managed-identity", "--client-id", OTHER, "registries")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    assert OTHER in lines[0]  # which identity the host lacks
    assert {a.get("client_id") for a in token_requests(imds)} == {OTHER}


@pytest.mark.parametrize(("args", "env", "says"), [
    (("--auth", "managed-identity", "--tenant", "contoso.onmicrosoft.com"), {}, "managed identity signs in to its own"),
    (("--auth", "env", "--tenant", "contoso.onmicrosoft.com"), {"AZURE_TENANT_ID": "fabrikam.onmicrosoft.com"},
     "AZURE_TENANT_ID"),
    (("--auth", "env", "--tenant", "contoso.onmicrosoft.com"), {}, "AZURE_TENANT_ID"),
    (("--auth", "cli", "--client-id", USER_ASSIGNED), {}, "needs --auth managed-identity"),
])
def test_an_option_the_sign_in_would_ignore_is_a_usage_error(mi_sandbox: SandboxServer, imds: StandInImds,
                                                             tmp_path: Path, args: tuple[str, ...],
                                                             env: dict[str, str], says: str) -> None:
    done = run(mi_sandbox, imds, tmp_path, *args, "registries", env=env, sandbox=False)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and says in lines[0], done.stderr
    assert imds.asked == []  # refused before anything was sent
