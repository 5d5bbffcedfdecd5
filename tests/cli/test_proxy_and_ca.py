"""Proxies and CA bundles as the console's processes have them (issue 15).

A real forward proxy (proxy.py, a maintained library: https://github.com/abhinavsingh/proxy.py) is
started on loopback by the test, and the console runs as a process (`python -m acr_console`)
against an in-process sandbox. To show that *every* request goes through the proxy, the console is
pointed at a loopback port where nothing listens (its connection file says so): only the proxy,
through a plugin (tests/support/proxy_route.py), forwards that port to the sandbox. A request that
went direct would be refused, and the command would fail or warn; so a clean run whose ARM, Graph
and token-service requests all reached the sandbox (its request log) went through the proxy, whose
log shows each CONNECT.

CA bundles: the sandbox's connection file normally pins the sandbox's own CA (`ca_bundle`); with it
set to null the console trusts only the system store and the bundles it is given, so the sandbox's
certificate is trusted from `--ca-bundle`, a profile's `ca_bundle`, `REQUESTS_CA_BUNDLE` or
`SSL_CERT_FILE` alone (the variables the Azure CLI and OpenSSL read), and from nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acr_console.sandbox.server import SandboxServer
from tests.support.sandbox import sandbox_fixture

REPO = Path(__file__).resolve().parents[2]
REGISTRY = "contosoprod"
# Every variable that could route or re-trust the console's requests, removed from the ambient
# environment so each test sets exactly what it means.
NETWORK_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE",
                     "SSL_CERT_DIR", "CURL_CA_BUNDLE")

proxy_sandbox = sandbox_fixture("proxy-and-ca")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k.upper() not in NETWORK_VARIABLES and not k.startswith("ACR_CONSOLE_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


class ForwardProxy:
    """proxy.py on an ephemeral loopback port, its access log in a file."""

    def __init__(self, folder: Path, *, route: tuple[int, int] | None = None, basic_auth: str | None = None) -> None:
        self.log = folder / "proxy.log"
        port_file = folder / "proxy.port"
        env = clean_env()
        args = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
                "--num-acceptors", "1", "--num-workers", "1", "--log-file", str(self.log), "--log-level", "INFO"]
        if route is not None:
            env.update(ACR_TEST_PROXY_FROM_PORT=str(route[0]), ACR_TEST_PROXY_TO_PORT=str(route[1]),
                       PYTHONPATH=str(REPO))
            args += ["--plugins", "tests.support.proxy_route.RouteToSandbox"]
        if basic_auth is not None:
            args += ["--basic-auth", basic_auth]
        self.process = subprocess.Popen(args, env=env, cwd=folder, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"proxy.py did not start: {self.log.read_text() if self.log.exists() else ''}")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{int(port_file.read_text().split()[0])}"

    def connects(self) -> list[str]:
        """The `host:port` of each CONNECT in the proxy's access log."""
        text = self.log.read_text() if self.log.exists() else ""
        return re.findall(r" - CONNECT (\S+) - ", text)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def make_proxy(tmp_path: Path) -> Iterator[Any]:
    made: list[ForwardProxy] = []

    def make(**kw: Any) -> ForwardProxy:
        folder = tmp_path / f"proxy{len(made)}"
        folder.mkdir()
        made.append(ForwardProxy(folder, **kw))
        return made[-1]

    yield make
    for proxy in made:
        proxy.stop()


@contextlib.contextmanager
def connection_file(server: SandboxServer, **changes: Any) -> Iterator[dict[str, Any]]:
    """The sandbox's connection file with `changes` (a port nobody listens on, no pinned CA) while the
    block runs; restored after. The sandbox itself keeps serving on its real port."""
    path = server.data_dir / "connection.json"
    original = path.read_text()
    doc = {**json.loads(original), **changes}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    try:
        yield doc
    finally:
        tmp.write_text(original)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


def unreachable(server: SandboxServer) -> tuple[int, dict[str, Any]]:
    """A free loopback port, and the connection file's endpoints moved to it."""
    assert server.connection is not None
    real = server.connection["port"]
    dead = free_port()
    moved = {key: server.connection[key].replace(f":{real}", f":{dead}")
             for key in ("authority_host", "resource_manager", "microsoft_graph", "registry_endpoint")}
    return dead, moved


def console(server: SandboxServer, *args: str, env: dict[str, str], pre: tuple[str, ...] = ()
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "acr_console", "--sandbox-data", str(server.data_dir), *pre, *args],
                          capture_output=True, text=True, timeout=180, env=env, cwd=REPO)


def requests_since(server: SandboxServer, seq: int) -> list[dict[str, Any]]:
    assert server.sandbox is not None
    return server.sandbox.store.request_log(seq)


def last_seq(server: SandboxServer) -> int:
    assert server.sandbox is not None
    return server.sandbox.store.last_request_seq()


def kinds(log: list[dict[str, Any]]) -> set[str]:
    """Which services the requests went to: the token service, ARM, Graph."""
    out = set()
    for row in log:
        path = row["path"]
        if "/oauth2/" in path:
            out.add("token")
        elif path.startswith("/subscriptions") or path.startswith("/providers"):
            out.add("arm")
        elif "/v1.0/" in path or "/beta/" in path or path.startswith("/graph"):
            out.add("graph")
    return out


# -- every request through the proxy ---------------------------------------------------------------

COMMANDS = {
    "registries": ("registries", "--json"),
    "access": ("access", REGISTRY, "--json"),
    "create-principal": ("create-principal", "--name", "proxied-{}", "--registry", REGISTRY, "--role", "AcrPull",
                         "--yes", "--json"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_request_goes_through_the_proxy_named_by_https_proxy(
        proxy_sandbox: SandboxServer, make_proxy: Any, tmp_path: Path, command: str) -> None:
    assert proxy_sandbox.connection is not None
    dead, moved = unreachable(proxy_sandbox)
    proxy = make_proxy(route=(dead, proxy_sandbox.connection["port"]))
    args = tuple(a.format(uuid.uuid4().hex[:8]) for a in COMMANDS[command])
    # NO_PROXY set, and without loopback: the sandbox is not exempted (unset, loopback would be).
    env = clean_env(HTTPS_PROXY=proxy.url, NO_PROXY="example.invalid",
                    ACR_CONSOLE_AUDIT_LOG=str(tmp_path / "audit.jsonl"))
    with connection_file(proxy_sandbox, **moved):
        before = last_seq(proxy_sandbox)
        done = console(proxy_sandbox, *args, env=env)
        served = requests_since(proxy_sandbox, before)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr.lower(), done.stderr
    json.loads(done.stdout)  # the whole answer, not a partial one
    want = {"token", "arm"} | ({"graph"} if command != "registries" else set())
    assert want <= kinds(served), [r["path"] for r in served]
    # Nothing listens on the port the console was given: each of those requests reached the sandbox
    # through a tunnel the proxy opened to it (several requests share a kept-alive tunnel), and the
    # proxy's log names each tunnel, with the upstream its plugin chose: the sandbox's real port.
    tunnels = proxy.connects()
    assert tunnels and set(tunnels) == {f"127.0.0.1:{proxy_sandbox.connection['port']}"}, proxy.log.read_text()


def test_a_proxy_that_asks_for_credentials_gets_those_of_its_url(
        proxy_sandbox: SandboxServer, make_proxy: Any, tmp_path: Path) -> None:
    """A proxy with Basic authentication (proxy.py `--basic-auth`): the user and password in
    HTTPS_PROXY go on every CONNECT as Proxy-Authorization, from ARM's and the credential's aiohttp
    transport (aiohttp/connector.py, `_update_proxy_auth_header_and_build_proxy_req`: taken from the
    proxy URL) and from Graph's httpx client alike; the password is never shown."""
    assert proxy_sandbox.connection is not None
    dead, moved = unreachable(proxy_sandbox)
    password = uuid.uuid4().hex
    proxy = make_proxy(route=(dead, proxy_sandbox.connection["port"]), basic_auth=f"console:{password}")
    url = proxy.url.replace("http://", f"http://console:{password}@")
    env = clean_env(HTTPS_PROXY=url, NO_PROXY="example.invalid")
    with connection_file(proxy_sandbox, **moved):
        before = last_seq(proxy_sandbox)
        done = console(proxy_sandbox, "access", REGISTRY, "--json", env=env)
        served = requests_since(proxy_sandbox, before)
    assert done.returncode == 0, done.stderr
    assert {"token", "arm", "graph"} <= kinds(served), [r["path"] for r in served]
    assert set(proxy.connects()) == {f"127.0.0.1:{proxy_sandbox.connection['port']}"}, proxy.log.read_text()
    assert password not in done.stdout + done.stderr
    # The control: without credentials this proxy opens no tunnel (407 Proxy Authentication Required).
    host, port = proxy.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"CONNECT 127.0.0.1:{dead} HTTP/1.1\r\nHost: 127.0.0.1:{dead}\r\n\r\n".encode())
        assert s.recv(200).split(b"\r\n")[0].split(b" ")[1] == b"407"


def test_without_the_proxy_the_moved_endpoints_are_unreachable(proxy_sandbox: SandboxServer, tmp_path: Path) -> None:
    """The control for the test above: the port it gives the console really leads nowhere."""
    _, moved = unreachable(proxy_sandbox)
    with connection_file(proxy_sandbox, **moved):
        before = last_seq(proxy_sandbox)
        done = console(proxy_sandbox, "registries", env=clean_env())
        served = requests_since(proxy_sandbox, before)
    assert done.returncode != 0
    assert served == []
    assert "Traceback" not in done.stderr


def test_a_profile_proxy_takes_the_place_of_the_environments(
        proxy_sandbox: SandboxServer, make_proxy: Any, tmp_path: Path) -> None:
    assert proxy_sandbox.connection is not None
    dead, moved = unreachable(proxy_sandbox)
    proxy = make_proxy(route=(dead, proxy_sandbox.connection["port"]))
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.behind]\nsandbox = true\nproxy = "{proxy.url}"\n')
    # HTTPS_PROXY names a port where nothing listens: the profile's proxy must win over it.
    env = clean_env(ACR_CONSOLE_CONFIG=str(config), HTTPS_PROXY=f"http://127.0.0.1:{free_port()}",
                    NO_PROXY="example.invalid")
    with connection_file(proxy_sandbox, **moved):
        done = console(proxy_sandbox, "registries", "--json", env=env, pre=("--profile", "behind"))
    assert done.returncode == 0, done.stderr
    assert proxy.connects(), proxy.log.read_text()


def test_the_sandbox_on_loopback_goes_direct_while_no_proxy_is_unset(
        proxy_sandbox: SandboxServer, make_proxy: Any) -> None:
    proxy = make_proxy()
    done = console(proxy_sandbox, "registries", "--json", env=clean_env(HTTPS_PROXY=proxy.url))
    assert done.returncode == 0, done.stderr
    assert proxy.connects() == []


def test_no_proxy_exempts_a_host(proxy_sandbox: SandboxServer, make_proxy: Any) -> None:
    proxy = make_proxy()
    done = console(proxy_sandbox, "registries", "--json",
                   env=clean_env(HTTPS_PROXY=proxy.url, NO_PROXY="example.invalid,127.0.0.1"))
    assert done.returncode == 0, done.stderr
    assert proxy.connects() == []


@pytest.mark.parametrize(("variables", "profile", "wanted"), [
    ({"HTTPS_PROXY": "socks5://127.0.0.1:1080"}, None, "HTTPS_PROXY is not an http:// or https:// proxy URL"),
    ({}, "ftp://proxy.example.com", "proxy: the value is not an http:// or https:// proxy URL"),
])
def test_a_proxy_that_is_not_http_is_refused_before_anything_is_sent(
        proxy_sandbox: SandboxServer, tmp_path: Path, variables: dict[str, str], profile: str | None,
        wanted: str) -> None:
    env = clean_env(**variables)
    pre: tuple[str, ...] = ()
    if profile is not None:
        config = tmp_path / "config.toml"
        config.write_text(f'[profiles.p]\nsandbox = true\nproxy = "{profile}"\n')
        env["ACR_CONSOLE_CONFIG"] = str(config)
        pre = ("--profile", "p")
    before = last_seq(proxy_sandbox)
    done = console(proxy_sandbox, "registries", env=env, pre=pre)
    assert done.returncode == 2, done.stderr
    assert wanted in done.stderr
    assert done.stderr.startswith("error:") and "Traceback" not in done.stderr
    assert requests_since(proxy_sandbox, before) == []


# -- a CA bundle added to the system store ---------------------------------------------------------

def test_the_unpinned_sandbox_is_not_trusted_without_its_ca(proxy_sandbox: SandboxServer) -> None:
    """The control: with no pinned CA and no bundle, the sandbox's certificate is refused."""
    with connection_file(proxy_sandbox, ca_bundle=None):
        done = console(proxy_sandbox, "registries", env=clean_env())
    assert done.returncode != 0
    assert "certificate" in done.stderr.lower(), done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("source", ["--ca-bundle", "profile", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_the_sandbox_ca_is_trusted_from_one_source_alone(
        proxy_sandbox: SandboxServer, tmp_path: Path, source: str) -> None:
    assert proxy_sandbox.connection is not None
    ca = proxy_sandbox.connection["ca_bundle"]
    env = clean_env()
    pre: tuple[str, ...] = ()
    if source == "--ca-bundle":
        pre = ("--ca-bundle", ca)
    elif source == "profile":
        config = tmp_path / "config.toml"
        config.write_text(f'[profiles.p]\nsandbox = true\nca_bundle = "{ca}"\n')
        env["ACR_CONSOLE_CONFIG"] = str(config)
        pre = ("--profile", "p")
    else:
        env[source] = ca
    with connection_file(proxy_sandbox, ca_bundle=None):
        done = console(proxy_sandbox, "access", REGISTRY, "--json", env=env, pre=pre)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)


def test_a_bundle_with_a_proxy_both_apply(proxy_sandbox: SandboxServer, make_proxy: Any) -> None:
    """Behind a proxy and with the CA from REQUESTS_CA_BUNDLE, as a corporate network has both."""
    assert proxy_sandbox.connection is not None
    dead, moved = unreachable(proxy_sandbox)
    proxy = make_proxy(route=(dead, proxy_sandbox.connection["port"]))
    env = clean_env(HTTPS_PROXY=proxy.url, NO_PROXY="example.invalid",
                    REQUESTS_CA_BUNDLE=proxy_sandbox.connection["ca_bundle"])
    with connection_file(proxy_sandbox, ca_bundle=None, **moved):
        done = console(proxy_sandbox, "access", REGISTRY, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert proxy.connects()


@pytest.mark.parametrize("where", ["--ca-bundle", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
@pytest.mark.parametrize("bundle", ["missing", "not-pem", "folder"])
def test_a_bad_bundle_is_an_error_before_anything_is_sent(
        proxy_sandbox: SandboxServer, tmp_path: Path, where: str, bundle: str) -> None:
    path = tmp_path / "bundle.pem"
    if bundle == "not-pem":
        path.write_bytes(b"\x30\x82\x01\x0a not a certificate\n")
    elif bundle == "folder":
        path.mkdir()
    env = clean_env()
    pre: tuple[str, ...] = ()
    if where == "--ca-bundle":
        pre = ("--ca-bundle", str(path))
    else:
        env[where] = str(path)
    before = last_seq(proxy_sandbox)
    done = console(proxy_sandbox, "registries", env=env, pre=pre)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {where}: {path}"), done.stderr
    assert requests_since(proxy_sandbox, before) == []


def test_a_pem_file_openssl_cannot_read_is_an_error_before_anything_is_sent(
        proxy_sandbox: SandboxServer, tmp_path: Path) -> None:
    """It has the PEM marker (the quick check passes); OpenSSL refuses it when the one context is built."""
    path = tmp_path / "broken.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    with connection_file(proxy_sandbox, ca_bundle=None):
        before = last_seq(proxy_sandbox)
        done = console(proxy_sandbox, "registries", env=clean_env(), pre=("--ca-bundle", str(path)))
        served = requests_since(proxy_sandbox, before)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: CA bundle {path} cannot be read"), done.stderr
    assert served == []


# -- the routes, as httpx reads NO_PROXY ----------------------------------------------------------

@pytest.mark.parametrize(("no_proxy", "direct"), [
    (None, ["all://localhost", "all://127.0.0.1", "all://[::1]"]),
    ("example.com, 10.1.2.3,::1", ["all://*example.com", "all://10.1.2.3", "all://[::1]"]),
    ("*", None),
])
def test_no_proxy_becomes_httpx_mounts_as_httpx_reads_it(
        monkeypatch: pytest.MonkeyPatch, no_proxy: str | None, direct: list[str] | None) -> None:
    from acr_console.azure.network import proxy_routes

    for name in NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "proxy.example.net:3128")  # no scheme: http://, as curl and httpx take it
    if no_proxy is not None:
        monkeypatch.setenv("NO_PROXY", no_proxy)
    routes = dict(proxy_routes())
    if direct is None:
        assert routes == {}
    else:
        assert routes == {"https://": "http://proxy.example.net:3128", **dict.fromkeys(direct)}


async def test_the_mounts_route_requests_as_httpx_would_with_trust_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same environment, read by httpx itself (trust_env=True, no transport of its own) and by
    network.py: both pick the same transport for each URL, and `proxy_for` (the proxy ARM's aiohttp
    transport sends a URL through) names the same proxy."""
    import httpcore
    import httpx

    from acr_console.azure.network import NetworkSettings, client_kwargs, proxy_for, proxy_routes, ssl_context

    for name in NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.net:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://other.example.net:8080")
    monkeypatch.setenv("NO_PROXY", "contoso.com,10.0.0.1")
    settings = NetworkSettings(routes=proxy_routes())
    ours = httpx.AsyncClient(**client_kwargs(settings, ssl_context(settings)))
    theirs = httpx.AsyncClient(trust_env=True)

    def proxy_of(client: httpx.AsyncClient, url: str) -> str | None:
        transport = client._transport_for_url(httpx.URL(url))  # httpx's own routing
        pool = transport._pool  # type: ignore[attr-defined]
        return str(pool._proxy_url) if hasattr(pool, "_proxy_url") else None

    def chosen(url: str) -> str | None:
        """The proxy `proxy_for` names (what ARM's aiohttp transport is given), as proxy_of shows it."""
        proxy = proxy_for(settings, url)
        if proxy is None:
            return None
        parts = httpx.URL(proxy)
        return str(httpcore.URL(scheme=parts.scheme, host=parts.host, port=parts.port, target="/"))

    for url in ("https://management.azure.com/", "http://169.254.169.254/metadata", "https://graph.contoso.com/",
                "https://contoso.com/", "https://10.0.0.1/", "https://127.0.0.1:8443/"):
        assert proxy_of(ours, url) == proxy_of(theirs, url) == chosen(url), url
    assert proxy_of(ours, "https://management.azure.com/") is not None  # both routes taken, not all None
    assert proxy_of(ours, "https://contoso.com/") is None
    await ours.aclose()
    await theirs.aclose()
