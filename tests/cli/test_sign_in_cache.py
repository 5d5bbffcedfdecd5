"""A device-code sign-in is kept between commands until `logout` (issue 15), as real processes show it.

Every command runs as `python -m acr_console` in a fresh HOME and fresh XDG folders, against a
sandbox that serves Entra's device authorization grant and refresh tokens; the sandbox's user
approves each code with `acr-console sandbox approve` (a process too), as tests/cli/
test_device_code_once.py does. What is kept is azure-identity's: the persistent MSAL token cache
(`TokenCachePersistenceOptions`) and the `AuthenticationRecord` ("Persist user authentication data",
https://learn.microsoft.com/python/api/overview/azure/identity-readme#persist-user-authentication-record).
A second command signs in silently from the cache: from the cached access token, or, for a scope
not asked for before, through MSAL's refresh-token grant against the sandbox's token endpoint
(`grant_type=refresh_token`, https://learn.microsoft.com/entra/identity-platform/
v2-oauth2-auth-code-flow#refresh-the-access-token, served by acr_console/sandbox/entra_device.py).
This host has no Secret Service (no PyGObject, no D-Bus session), so the cache is azure-identity's
plain-file fallback, mode 0600, which the test checks.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from acr_console.sandbox.context import Settings
from acr_console.sandbox.server import SandboxServer
from tests.cli.test_proxy_and_ca import ForwardProxy, connection_file, unreachable
from tests.support.sandbox import running_sandbox

CODE = re.compile(r"enter the code (\S+)\.")
STORE_LINE = "token cache:"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
REGISTRY = "contosoprod"
REPO = Path(__file__).resolve().parents[2]
NETWORK_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE",
                     "SSL_CERT_DIR", "CURL_CA_BUNDLE")


@pytest.fixture(scope="module")
def device_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Polls every second, not Entra's five: the test waits on the person, not on the interval.
    with running_sandbox(tmp_path_factory.mktemp("sign-in-cache"), settings=Settings(device_code_interval_s=1)) as s:
        yield s


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    codes: list[str]

    @property
    def store_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if STORE_LINE in line]


class User:
    """A person at a fresh account: their own HOME and XDG folders, an audit log."""

    def __init__(self, home: Path, **extra: str) -> None:
        self.home = home
        home.mkdir(exist_ok=True)
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("ACR_CONSOLE_", "XDG_", "DBUS_"))
                and k.upper() not in NETWORK_VARIABLES}
        self.env = {**keep, "HOME": str(home), "XDG_STATE_HOME": str(home / "state"),
                    "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
                    "XDG_CACHE_HOME": str(home / "cache"), "ACR_CONSOLE_AUDIT_LOG": str(home / "audit.jsonl"),
                    "PYTHONUNBUFFERED": "1", **extra}

    def run(self, server: SandboxServer, *args: str, approve: bool = True) -> Run:
        """`acr-console --sandbox-data DIR ARGS`, approving each device code it prints."""
        proc = subprocess.Popen([sys.executable, "-m", "acr_console", "--sandbox-data", str(server.data_dir), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env, cwd=REPO)
        assert proc.stderr is not None and proc.stdout is not None
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.append(proc.stdout.read()))  # type: ignore[union-attr]
        reader.start()
        codes: list[str] = []
        err: list[str] = []
        for line in proc.stderr:
            err.append(line)
            found = CODE.search(line)
            if found:
                codes.append(found.group(1))
                if approve:
                    done = subprocess.run([sys.executable, "-m", "acr_console", "sandbox", "approve", "--data",
                                           str(server.data_dir), found.group(1)],
                                          capture_output=True, text=True, timeout=60, env=self.env)
                    assert done.returncode == 0, done.stderr
        proc.wait(timeout=180)
        reader.join(timeout=30)
        return Run(proc.returncode, out[0] if out else "", "".join(err), codes)

    def kept_files(self) -> list[Path]:
        """Everything the sign-in left on disk: the token cache (~/.IdentityService) and the record."""
        found = []
        for folder in (self.home / ".IdentityService", self.home / "state" / "acr-console"):
            if folder.exists():
                found += [p for p in folder.rglob("*") if p.is_file()]
        return sorted(found)


def test_a_device_code_sign_in_is_kept_until_logout(device_sandbox: SandboxServer, tmp_path: Path) -> None:
    user = User(tmp_path / "home")
    device = ("--auth", "device-code")

    first = user.run(device_sandbox, *device, "access", REGISTRY, "--json")
    assert first.returncode == 0, first.stderr
    assert len(first.codes) == 1, first.stderr
    assert json.loads(first.stdout)["registry"]["name"] == REGISTRY
    # Said once, with the sign-in: which store keeps the tokens (here the 0600 plain file).
    assert len(first.store_lines) == 1, first.stderr
    assert "plain file" in first.store_lines[0] and ".IdentityService" in first.store_lines[0]

    kept = user.kept_files()
    caches = [p for p in kept if p.parent.name == ".IdentityService" and not p.name.endswith(".lockfile")]
    records = [p for p in kept if p.suffix == ".json"]
    assert caches and len(records) == 1, kept
    for path in [*caches, *records]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
    assert str(caches[0]) in first.store_lines[0]
    # The record says who signed in, and holds no token and no secret.
    record = json.loads(records[0].read_text())
    assert set(record) == {"authority", "clientId", "homeAccountId", "tenantId", "username", "version"}, record
    assert record["username"].startswith("admin@")
    assert not JWT.search(records[0].read_text())
    # The cache does hold them (that is what it is for): it is the file the 0600 check above covers.
    assert JWT.search(caches[0].read_text())

    second = user.run(device_sandbox, *device, "access", REGISTRY, "--json")
    assert second.returncode == 0, second.stderr
    assert second.codes == [] and second.store_lines == [], second.stderr
    assert json.loads(second.stdout)["registry"]["name"] == REGISTRY

    out = user.run(device_sandbox, *device, "logout")
    assert out.returncode == 0, out.stderr
    assert "sign-in record" in out.stdout and "token cache" in out.stdout, out.stdout
    assert [p for p in user.kept_files() if not p.name.endswith(".lockfile")] == []
    again = user.run(device_sandbox, *device, "logout", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["removed"] == [], again.stderr

    third = user.run(device_sandbox, *device, "access", REGISTRY, "--json")
    assert third.returncode == 0, third.stderr
    assert len(third.codes) == 1 and len(third.store_lines) == 1, third.stderr

    # Tokens never reach the output, the errors or the audit log.
    for run in (first, second, out, again, third):
        assert not JWT.search(run.stdout + run.stderr)
    audit = user.home / "audit.jsonl"
    assert not audit.exists() or not JWT.search(audit.read_text())


def test_a_sandbox_each_command_starts_keeps_its_address_and_so_the_sign_in(tmp_path: Path) -> None:
    """The acceptance as a new user runs it: no sandbox serving, so each `--sandbox-data DIR` command
    starts one for itself and stops it. The cache and record are keyed by the authority (MSAL
    matches an account's environment, host and port), so a sandbox that moved to a new port at each
    start asked for a code every time; it now takes the port it had last time when that is free."""
    data = tmp_path / "sandbox"
    started_here = SimpleNamespace(data_dir=data)  # what User.run needs: where `sandbox approve` looks
    user = User(tmp_path / "home")
    device = ("--auth", "device-code")

    first = user.run(started_here, *device, "access", REGISTRY, "--json")  # type: ignore[arg-type]
    assert first.returncode == 0, first.stderr
    assert len(first.codes) == 1, first.stderr
    port = json.loads((data / "connection.json").read_text())["port"] if (data / "connection.json").exists() else None
    assert port is None  # the command's own sandbox stopped with it

    second = user.run(started_here, *device, "access", REGISTRY, "--json")  # type: ignore[arg-type]
    assert second.returncode == 0, second.stderr
    assert second.codes == [], second.stderr
    assert json.loads(second.stdout)["registry"]["name"] == REGISTRY

    out = user.run(started_here, *device, "logout")  # type: ignore[arg-type]
    assert out.returncode == 0, out.stderr
    third = user.run(started_here, *device, "access", REGISTRY, "--json")  # type: ignore[arg-type]
    assert third.returncode == 0, third.stderr
    assert len(third.codes) == 1, third.stderr


def test_login_keeps_the_sign_in_and_later_scopes_come_from_the_refresh_token(
        device_sandbox: SandboxServer, tmp_path: Path) -> None:
    """`login` asks for an ARM token only; `access` then needs Graph too, which MSAL gets silently,
    in another process, by redeeming the cached refresh token at the sandbox's token endpoint."""
    assert device_sandbox.sandbox is not None
    user = User(tmp_path / "home")
    login = user.run(device_sandbox, "--auth", "device-code", "login", "--json")
    assert login.returncode == 0, login.stderr
    assert len(login.codes) == 1 and len(login.store_lines) == 1, login.stderr
    doc = json.loads(login.stdout)
    assert doc["signedInAs"].startswith("admin@") and doc["encrypted"] is False
    assert Path(doc["record"]).exists() and Path(doc["tokenCache"]).exists()

    before = device_sandbox.sandbox.store.last_request_seq()
    access = user.run(device_sandbox, "--auth", "device-code", "access", REGISTRY, "--json")
    served = device_sandbox.sandbox.store.request_log(before)
    assert access.returncode == 0, access.stderr
    assert access.codes == [], access.stderr
    token_requests = [r for r in served if r["path"].endswith("/oauth2/v2.0/token")]
    devicecode_requests = [r for r in served if r["path"].endswith("/oauth2/v2.0/devicecode")]
    assert token_requests and not devicecode_requests, [r["path"] for r in served]
    # Signed in already: `login` again says who, without a code.
    again = user.run(device_sandbox, "--auth", "device-code", "login")
    assert again.returncode == 0 and again.codes == [] and "Signed in as admin@" in again.stdout, again.stderr


@pytest.mark.parametrize("damaged", ["cache", "record"])
def test_a_damaged_cache_or_record_means_signing_in_again_not_an_error(
        device_sandbox: SandboxServer, tmp_path: Path, damaged: str) -> None:
    """A cache file MSAL cannot parse would fail every sign-in ("Expecting value…") until removed by
    hand; a record that is not one is as good as none. Either way the person is asked once more."""
    user = User(tmp_path / "home")
    assert user.run(device_sandbox, "--auth", "device-code", "login").returncode == 0
    for path in user.kept_files():
        if path.suffix == {"cache": ".cae", "record": ".json"}[damaged]:
            path.write_text('{"AccessToken": {"trunc')
    run = user.run(device_sandbox, "--auth", "device-code", "registries", "--json")
    assert run.returncode == 0, run.stderr
    assert len(run.codes) == 1, run.stderr
    if damaged == "cache":
        assert "could not be read and was removed" in run.stderr
    again = user.run(device_sandbox, "--auth", "device-code", "registries", "--json")
    assert again.returncode == 0 and again.codes == [], again.stderr


@pytest.mark.parametrize("how", ["--no-token-cache", "profile"])
def test_tokens_in_memory_only_ask_every_time_and_leave_nothing(
        device_sandbox: SandboxServer, tmp_path: Path, how: str) -> None:
    user = User(tmp_path / "home")
    pre: tuple[str, ...] = ("--auth", "device-code")
    if how == "profile":
        config = tmp_path / "config.toml"
        config.write_text('[profiles.p]\nsandbox = true\nauth = "device-code"\ntoken_cache = "memory"\n')
        user.env["ACR_CONSOLE_CONFIG"] = str(config)
        pre += ("--profile", "p")
    else:
        pre += ("--no-token-cache",)
    for _ in range(2):
        run = user.run(device_sandbox, *pre, "registries", "--json")
        assert run.returncode == 0, run.stderr
        assert len(run.codes) == 1 and run.store_lines == [], run.stderr
    assert user.kept_files() == []
    out = user.run(device_sandbox, *pre, "logout")
    assert out.returncode == 0 and "in memory only" in out.stdout, out.stdout + out.stderr


@pytest.mark.parametrize("command", ["login", "logout"])
def test_login_and_logout_with_the_azure_cli_say_to_use_az(
        device_sandbox: SandboxServer, tmp_path: Path, command: str) -> None:
    user = User(tmp_path / "home")
    run = user.run(device_sandbox, "--auth", "cli", command)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error:") and f"az {command}" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_logout_with_a_secret_says_nothing_is_on_disk(device_sandbox: SandboxServer, tmp_path: Path) -> None:
    user = User(tmp_path / "home")
    run = user.run(device_sandbox, "logout")
    assert run.returncode == 0, run.stderr
    assert "caches nothing on disk" in run.stdout
    login = user.run(device_sandbox, "login")
    assert login.returncode == 0, login.stderr
    assert "Signed in as" in login.stdout and "caches nothing on disk" in login.stdout
    assert user.kept_files() == []


def test_the_device_code_sign_in_goes_through_the_proxy_and_trusts_the_added_ca(
        device_sandbox: SandboxServer, tmp_path: Path) -> None:
    """The token service's requests of DeviceCodeCredential (requests, not httpx) go through the
    proxy HTTPS_PROXY names and trust the sandbox's CA from --ca-bundle alone: the connection file
    points at a port where nothing listens and pins no CA (tests/cli/test_proxy_and_ca.py explains)."""
    assert device_sandbox.connection is not None
    dead, moved = unreachable(device_sandbox)
    folder = tmp_path / "proxy"
    folder.mkdir()
    proxy = ForwardProxy(folder, route=(dead, device_sandbox.connection["port"]))
    try:
        user = User(tmp_path / "home", HTTPS_PROXY=proxy.url, NO_PROXY="example.invalid")
        with connection_file(device_sandbox, ca_bundle=None, **moved):
            before = device_sandbox.sandbox.store.last_request_seq()  # type: ignore[union-attr]
            run = user.run(device_sandbox, "--ca-bundle", device_sandbox.connection["ca_bundle"],
                           "--auth", "device-code", "registries", "--json")
            served = device_sandbox.sandbox.store.request_log(before)  # type: ignore[union-attr]
    finally:
        proxy.stop()
    assert run.returncode == 0, run.stderr
    assert len(run.codes) == 1, run.stderr
    paths = [r["path"] for r in served]
    assert any(p.endswith("/oauth2/v2.0/devicecode") for p in paths), paths
    assert any(p.endswith("/oauth2/v2.0/token") for p in paths), paths
    assert set(proxy.connects()) == {f"127.0.0.1:{device_sandbox.connection['port']}"}, proxy.log.read_text()


def test_the_requests_transport_leaves_the_shared_context_as_it_was(device_sandbox: SandboxServer) -> None:
    """requests would point the pool at certifi's bundle and urllib3 would load it into the context
    it is given; the credentials' transport uses the connection's one context unchanged, so the
    sandbox's connection still trusts its own CA alone after a request (real HTTPS to the sandbox)."""
    from azure.core.rest import HttpRequest

    from acr_console.azure.connection import sandbox_connection
    from acr_console.azure.network import ssl_context
    from acr_console.azure.sync_transport import requests_transport

    assert device_sandbox.connection is not None
    conn = sandbox_connection(device_sandbox.connection)
    context = ssl_context(conn.network, conn.ca_bundle)
    conn = dataclasses.replace(conn, ssl_context=context)
    trusted = context.get_ca_certs()
    assert len(trusted) == 1
    url = f"{conn.cloud.authority_host}/{conn.tenant_id}/v2.0/.well-known/openid-configuration"
    with requests_transport(conn) as transport:
        response = transport.send(HttpRequest("GET", url))
    assert response.status_code == 200 and "token_endpoint" in response.text()
    assert context.get_ca_certs() == trusted


@pytest.mark.parametrize(("url", "proxied"), [
    ("https://login.microsoftonline.com/t/oauth2/v2.0/token", True),
    ("https://corp.contoso.com/x", False),       # NO_PROXY=contoso.com covers its subdomains (httpx's rule)
    ("https://contoso.com/x", False),
    ("https://notcontoso.com/x", True),
    ("https://10.0.0.1/x", False),
])
def test_the_credentials_proxy_choice_is_the_async_stacks(url: str, proxied: bool,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The requests session routes each URL as the httpx clients' mounts do (network.py's routes)."""
    import httpx

    from acr_console.azure.network import NetworkSettings, client_kwargs, proxy_routes, ssl_context
    from acr_console.azure.sync_transport import _proxies_for, sorted_routes

    for name in NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.net:3128")
    monkeypatch.setenv("NO_PROXY", "contoso.com,10.0.0.1")
    settings = NetworkSettings(routes=proxy_routes())
    ours = _proxies_for(url, sorted_routes(settings.routes))
    assert ours == ({"https": "http://proxy.example.net:3128"} if proxied else {})
    client = httpx.AsyncClient(**client_kwargs(settings, ssl_context(settings)))
    transport = client._transport_for_url(httpx.URL(url))
    assert (transport is not client._transport) == proxied


def test_a_token_cache_setting_that_is_neither_is_refused(device_sandbox: SandboxServer, tmp_path: Path) -> None:
    user = User(tmp_path / "home")
    config = tmp_path / "config.toml"
    config.write_text('[profiles.p]\nsandbox = true\nauth = "device-code"\ntoken_cache = "disk"\n')
    user.env["ACR_CONSOLE_CONFIG"] = str(config)
    assert device_sandbox.sandbox is not None
    before = device_sandbox.sandbox.store.last_request_seq()
    run = user.run(device_sandbox, "--profile", "p", "registries")
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines() == [
        f"error: invalid configuration ({config}): profiles.p.token_cache: Input should be 'persistent' or 'memory'"]
    assert device_sandbox.sandbox.store.request_log(before) == []
