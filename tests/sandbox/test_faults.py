"""Injected faults: the spec grammar, each kind in each plane's shape, the SDK riding them out, and the
run-time control API. One sandbox for the module (faults are a server-wide setting), reset per test.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import ClientSecretCredential
from azure.mgmt.containerregistry import ContainerRegistryManagementClient

from acr_console.sandbox.directory import add_password, new_application, new_service_principal
from acr_console.sandbox.faults import FaultRule, format_faults, parse_faults
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import running_sandbox, sandbox_fixture

ARM_SCOPE = "https://management.azure.com/.default"
API = "api-version=2022-12-01"


server = sandbox_fixture("sandbox-faults", seed="empty")


@pytest.fixture
def conn(server: SandboxServer) -> Iterator[dict[str, Any]]:
    assert server.connection is not None
    server.settings.faults = []
    yield server.connection
    server.settings.faults = []
    server.settings.latency_ms = 0


def credential(conn: dict[str, Any], **kwargs: Any) -> ClientSecretCredential:
    return ClientSecretCredential(
        conn["tenant_id"], conn["admin"]["client_id"], conn["admin"]["client_secret"],
        authority=conn["authority_host"], disable_instance_discovery=True,
        connection_verify=conn["ca_bundle"], **kwargs,
    )


def acr(conn: dict[str, Any], **kwargs: Any) -> ContainerRegistryManagementClient:
    return ContainerRegistryManagementClient(
        credential(conn), conn["subscriptions"][0], base_url=conn["resource_manager"],
        credential_scopes=[ARM_SCOPE], connection_verify=conn["ca_bundle"], **kwargs,
    )


def http_client(conn: dict[str, Any], token: str | None = None, **kwargs: Any) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    ctx = ssl.create_default_context(cafile=conn["ca_bundle"])
    return httpx.Client(base_url=conn["resource_manager"], verify=ctx, headers=headers, **kwargs)


def faults_logged(server: SandboxServer, since: int) -> list[dict[str, Any]]:
    assert server.sandbox is not None
    return [r for r in server.sandbox.store.request_log(since) if (r["note"] or "").startswith("fault")]


def last_seq(server: SandboxServer) -> int:
    assert server.sandbox is not None
    return server.sandbox.store.last_request_seq()


# -- the grammar ---------------------------------------------------------------------------------


def test_spec_grammar() -> None:
    rules = parse_faults("arm:429:0.3, graph.post:503:n=2:retry_after=5, "
                         "any:drop:0.05,token:timeout:1:timeout=2")
    assert [(r.plane, r.kind, r.method) for r in rules] == [
        ("arm", "429", None), ("graph", "503", "POST"), ("any", "drop", None), ("token", "timeout", None)]
    assert rules[1].remaining == 2 and rules[1].retry_after == 5 and rules[3].timeout_s == 2
    assert format_faults(rules) == (
        "arm:429:0.3,graph.POST:503:n=2:retry_after=5,any:drop:0.05,token:timeout:1:timeout=2")
    assert parse_faults("") == []
    for bad in ("arm:429", "dns:429:0.1", "arm:404:0.1", "arm:429:1.5", "arm:429:n=-1",
                "arm:429:0.1:color=red", "arm:timeout:1:timeout=9999", "seed=x"):
        with pytest.raises(ValueError):
            parse_faults(bad)


def test_seeded_rates_repeat_and_counts_run_out() -> None:
    def draws(spec: str) -> list[bool]:
        [rule] = parse_faults(spec)
        return [rule.fire() for _ in range(50)]

    assert draws("arm:500:0.5,seed=7") == draws("arm:500:0.5,seed=7")
    assert draws("arm:500:0.5,seed=7") != draws("arm:500:0.5,seed=8")
    assert not any(draws("arm:500:0")) and all(draws("arm:500:1"))
    assert draws("arm:500:n=2")[:3] == [True, True, False]
    assert FaultRule("graph", "429", rate=1.0, method="POST").matches("graph", "POST")
    assert not FaultRule("graph", "429", rate=1.0, method="POST").matches("graph", "GET")


# -- each kind, raw --------------------------------------------------------------------------------


def test_arm_429_in_arm_shape(server: SandboxServer, conn: dict[str, Any]) -> None:
    client = acr(conn, retry_total=0)
    since = last_seq(server)
    server.settings.faults = parse_faults("arm:429:n=1:retry_after=7")
    with pytest.raises(HttpResponseError) as info:
        list(client.registries.list())
    exc = info.value
    assert exc.status_code == 429 and exc.error is not None and exc.error.code == "TooManyRequests"
    assert exc.response.headers["Retry-After"] == "7"
    assert exc.response.headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    assert list(client.registries.list()) == []  # the count is spent; the empty seed has no registries
    [logged] = faults_logged(server, since)
    assert logged["status"] == 429 and logged["note"] == "fault arm:429"


@pytest.mark.parametrize(("plane", "path"), [
    ("arm", "/subscriptions?" + API),
    ("graph", "/graph/v1.0/servicePrincipals"),
    ("registry", "/v2/"),
    ("token", "/common/oauth2/v2.0/token"),
])
@pytest.mark.parametrize("kind", ["429", "500", "503"])
def test_error_faults_answer_in_each_planes_shape(
    server: SandboxServer, conn: dict[str, Any], plane: str, path: str, kind: str
) -> None:
    server.settings.faults = parse_faults(f"{plane}:{kind}:n=1")
    # The registry plane is chosen by Host: a login server rather than the loopback address.
    headers = {"Host": "contoso.azurecr.io"} if plane == "registry" else {}
    with http_client(conn) as http:
        r = http.post(path) if plane == "token" else http.get(path, headers=headers)
    assert r.status_code == int(kind)
    body = r.json()
    if plane == "registry":
        assert body["errors"][0]["code"] in {"TOOMANYREQUESTS", "UNKNOWN", "UNAVAILABLE"}
    elif plane == "token":
        assert body["error"] == "temporarily_unavailable" and body["error_description"].startswith("AADSTS")
    else:
        assert body["error"]["code"] and body["error"]["message"]
        assert ("innerError" in body["error"]) == (plane == "graph")
    assert ("Retry-After" in r.headers) == (kind != "500")


def test_drop_closes_the_connection(server: SandboxServer, conn: dict[str, Any]) -> None:
    since = last_seq(server)
    server.settings.faults = parse_faults("any:drop:n=1")
    with http_client(conn) as http, pytest.raises(httpx.RemoteProtocolError):
        http.get("/subscriptions?" + API)
    server.settings.faults = parse_faults("arm:drop:n=1")
    with pytest.raises((ServiceResponseError, ServiceRequestError)):
        list(acr(conn, retry_total=0).registries.list())
    assert [(r["status"], r["note"]) for r in faults_logged(server, since)] == [(0, "fault arm:drop")] * 2


def test_timeout_answers_late(server: SandboxServer, conn: dict[str, Any]) -> None:
    since = last_seq(server)
    server.settings.faults = parse_faults("graph:timeout:n=1:timeout=0.8")
    with http_client(conn, timeout=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.get("/graph/v1.0/servicePrincipals")
        # The rule ran out (n=1): the next request is answered, and not held.
        assert http.get("/graph/v1.0/servicePrincipals", timeout=30).status_code == 401
        assert [rule.remaining for rule in server.settings.faults] == [0]
    deadline = time.monotonic() + 5
    while not faults_logged(server, since) and time.monotonic() < deadline:
        time.sleep(0.05)  # the late request is logged when it finally finishes
    [logged] = faults_logged(server, since)
    assert logged["note"] == "fault graph:timeout" and logged["path"] == "/graph/v1.0/servicePrincipals"


def test_method_filter(server: SandboxServer, conn: dict[str, Any]) -> None:
    server.settings.faults = parse_faults("arm.PUT:503:1")
    with http_client(conn) as http:
        assert http.get("/subscriptions?" + API).status_code == 401  # no token, but no fault either
        sub = conn["subscriptions"][0]
        assert http.put(f"/subscriptions/{sub}/resourceGroups/x?{API}").status_code == 503


def test_token_endpoint_faults(server: SandboxServer, conn: dict[str, Any]) -> None:
    server.settings.faults = parse_faults("token:500:n=10")
    with pytest.raises(ClientAuthenticationError):
        credential(conn, retry_total=0).get_token(ARM_SCOPE)
    server.settings.faults = parse_faults("token:503:n=1:retry_after=0")
    assert credential(conn).get_token(ARM_SCOPE).token  # azure-identity's retry rides it out


# -- the SDK rides faults out --------------------------------------------------------------------


class SleepRecorder(RequestsTransport):
    """The SDK's own transport, noting each wait: azure-core's retry policy waits through its
    transport's `sleep` (azure/core/pipeline/transport/_base.py: "always ask the transport to sleep")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.slept: list[float] = []

    def sleep(self, duration: float) -> None:
        self.slept.append(duration)
        super().sleep(duration)


def test_sdk_retry_rides_out_429_and_count_limited_503(server: SandboxServer, conn: dict[str, Any]) -> None:
    transport = SleepRecorder(connection_verify=conn["ca_bundle"])
    client = acr(conn, retry_backoff_factor=0.01, transport=transport)
    list(client.registries.list())  # token first, so only the listing meets the faults
    since = last_seq(server)
    server.settings.faults = parse_faults("arm:429:n=1:retry_after=1")
    assert list(client.registries.list()) == []
    assert transport.slept == [1]  # it honoured Retry-After
    server.settings.faults = parse_faults("arm:503:n=2:retry_after=0")
    assert list(client.registries.list()) == []
    assert [r["status"] for r in faults_logged(server, since)] == [429, 503, 503]


# -- the control API -----------------------------------------------------------------------------


def test_control_api(server: SandboxServer, conn: dict[str, Any]) -> None:
    token = credential(conn).get_token(ARM_SCOPE).token
    with http_client(conn, token) as http:
        got = http.get("/_sandbox/settings")
        assert got.status_code == 200 and got.json()["faults"] == ""
        put = http.put("/_sandbox/settings",
                       json={"faults": "any:503:1,seed=3", "latency_ms": 0, "page_size": 50})
        assert put.status_code == 200 and put.json()["faults"] == "any:503:1,seed=3"
        assert server.settings.page_size == 50
        assert http.get("/subscriptions?" + API).status_code == 503
        # The control API is never faulted, so faults can always be switched off again.
        assert http.put("/_sandbox/settings", json={"faults": "", "page_size": 100}).status_code == 200
        assert http.get("/subscriptions?" + API).status_code == 200
        bad = http.put("/_sandbox/settings", json={"faults": "arm:418:1"})
        assert bad.status_code == 400 and "kind" in bad.json()["error"]["message"]
        assert http.put("/_sandbox/settings", json={"page_size": 0}).status_code == 400
        assert http.put("/_sandbox/settings", json={"colour": "red"}).status_code == 400
        assert http.put("/_sandbox/settings", json={"latency_ms": 150}).status_code == 200
        since = last_seq(server)
        http.get("/subscriptions?" + API)
        [held] = server.sandbox.store.request_log(since) if server.sandbox else []
        assert held["duration_ms"] >= 150  # the sandbox's own account of the request: held for the latency
        assert http.put("/_sandbox/settings", json={"latency_ms": 0}).status_code == 200
    with http_client(conn) as anonymous:
        assert anonymous.get("/_sandbox/settings").status_code == 401
    assert server.sandbox is not None
    store = server.sandbox.store
    app = new_application(store, "test-not-admin")
    new_service_principal(store, app)
    _, secret = add_password(store, app, "application")
    other = ClientSecretCredential(conn["tenant_id"], app["appId"], secret, authority=conn["authority_host"],
                                   disable_instance_discovery=True, connection_verify=conn["ca_bundle"])
    with http_client(conn, other.get_token(ARM_SCOPE).token) as http:
        assert http.get("/_sandbox/settings").status_code == 403


def test_faults_from_the_command_line_spec_reach_the_server(tmp_path: Path) -> None:
    # What `sandbox serve --faults` does: Settings.faults may also be a spec string.
    from acr_console.sandbox.context import Settings

    settings = Settings(faults="arm:503:n=1")  # type: ignore[arg-type]
    with running_sandbox(tmp_path / "sb", seed="empty", settings=settings) as srv:
        assert srv.connection is not None
        with http_client(srv.connection) as http:
            assert http.get("/subscriptions?" + API).status_code == 503
            assert http.get("/subscriptions?" + API).status_code == 401
