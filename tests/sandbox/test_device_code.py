"""Signing a person in with a device code, as Entra does, through the unmodified clients.

The protocol is Microsoft's "Microsoft identity platform and the OAuth 2.0 device authorization grant
flow" (learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code; MicrosoftDocs/entra-docs
docs/identity-platform/v2-oauth2-device-code.md):

- `POST /{tenant}/oauth2/v2.0/devicecode` with `client_id` and `scope` answers `device_code`,
  `user_code`, `verification_uri`, `expires_in` (int, 900 by default: "the user has 15 minutes"),
  `interval` (int) and `message`; no `verification_uri_complete`.
- `POST /{tenant}/oauth2/v2.0/token` with `grant_type=urn:ietf:params:oauth:grant-type:device_code`,
  `client_id`, `device_code` answers the "Expected errors" `authorization_pending`,
  `authorization_declined`, `bad_verification_code`, `expired_token`, then `token_type`, `scope`,
  `expires_in`, `access_token`, `id_token`, `refresh_token`; the refresh token redeems "using the same
  flow documented in the OAuth Code flow" (`grant_type=refresh_token`).
- `slow_down` is RFC 8628 §3.5's ("the interval MUST be increased by 5 seconds"), which MSAL handles
  (msal/oauth2cli/oauth2.py `_obtain_token_by_device_flow`).
- AADSTS codes: 70016 pending and 70020 expired as login.microsoftonline.com answers them (quoted on
  Microsoft Q&A 981553 and in msal-node's test fixtures); 70018 BadVerificationCode, 65004
  UserDeclinedConsent, 7000218 (a confidential client without a secret), 700016 from Entra's
  error-code reference (learn.microsoft.com/entra/identity-platform/reference-error-codes).

The client is azure-identity's `DeviceCodeCredential` (MSAL Python underneath, its default client the
Azure CLI's first-party app), pointed at the sandbox as the client-secret tests point theirs
(docs/reference/sdk-wiring.md). Codes are approved by `acr-console sandbox approve` run as a process.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import DeviceCodeCredential

from acr_console.sandbox.context import Settings
from acr_console.sandbox.seed import stable_id
from acr_console.sandbox.server import SandboxServer
from tests.support.sandbox import running_sandbox

from .graph_support import ssl_context

ARM_SCOPE = "https://management.azure.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
AZURE_CLI_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # azure-identity's DEVELOPER_SIGN_ON_CLIENT_ID
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SUB_DEV = stable_id("contoso", "sub", "dev")
ERROR_KEYS = {"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    # A 1-second interval keeps MSAL's polling (it sleeps `interval` seconds between polls) short.
    with running_sandbox(tmp_path_factory.mktemp("device-code"),
                         settings=Settings(device_code_interval_s=1)) as server:
        yield server


@pytest.fixture
def conn(sandbox: SandboxServer) -> dict[str, Any]:
    assert sandbox.connection is not None
    return sandbox.connection


@pytest.fixture
def settings(sandbox: SandboxServer) -> Iterator[Settings]:
    """The running sandbox's settings, put back as they were after the test."""
    assert sandbox.sandbox is not None
    s = sandbox.sandbox.settings
    saved = (s.device_code_interval_s, s.device_code_lifetime_s)
    yield s
    s.device_code_interval_s, s.device_code_lifetime_s = saved


def approve(server: SandboxServer, code: str, *extra: str,
            data: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`acr-console sandbox approve` as a process of its own, as a person would run it."""
    return subprocess.run(
        [sys.executable, "-m", "acr_console", "sandbox", "approve", "--data", str(data or server.data_dir), code,
         *extra],
        capture_output=True, text=True, timeout=120, check=False)


def http(conn: dict[str, Any]) -> httpx.Client:
    return httpx.Client(verify=ssl_context(conn), trust_env=False)


def endpoint(conn: dict[str, Any], name: str) -> str:
    return f"{conn['authority_host']}/{conn['tenant_id']}/oauth2/v2.0/{name}"


def start(conn: dict[str, Any], client_id: str = AZURE_CLI_CLIENT, scope: str = ARM_SCOPE) -> httpx.Response:
    with http(conn) as h:
        return h.post(endpoint(conn, "devicecode"), data={"client_id": client_id, "scope": scope})


def redeem(conn: dict[str, Any], device_code: str, client_id: str = AZURE_CLI_CLIENT) -> httpx.Response:
    with http(conn) as h:
        return h.post(endpoint(conn, "token"),
                      data={"grant_type": DEVICE_GRANT, "client_id": client_id, "device_code": device_code})


def refresh(conn: dict[str, Any], token: str, scope: str) -> httpx.Response:
    with http(conn) as h:
        return h.post(endpoint(conn, "token"), data={"grant_type": "refresh_token", "client_id": AZURE_CLI_CLIENT,
                                                     "refresh_token": token, "scope": scope})


def entra_refusal(r: httpx.Response, error: str, code: int, status: int = 400) -> str:
    body = r.json()
    assert r.status_code == status, r.text
    assert set(body) == ERROR_KEYS and body["error"] == error and body["error_codes"] == [code], body
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    return str(body["error_description"])


def credential(conn: dict[str, Any], prompt: Callable[[str, str, datetime], None]) -> DeviceCodeCredential:
    return DeviceCodeCredential(tenant_id=conn["tenant_id"], authority=conn["authority_host"],
                                disable_instance_discovery=True, connection_verify=conn["ca_bundle"],
                                prompt_callback=prompt)


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def token_polls(server: SandboxServer, since: int) -> list[int]:
    """Statuses of the token endpoint's answers logged after request `since`."""
    assert server.sandbox is not None
    return [e["status"] for e in server.sandbox.store.request_log(since)
            if e["path"].endswith("/oauth2/v2.0/token")]


def last_seq(server: SandboxServer) -> int:
    assert server.sandbox is not None
    return server.sandbox.store.last_request_seq()


# -- the real client ---------------------------------------------------------------------------


def test_device_code_credential_signs_in_after_pending_then_refreshes_for_graph(
        sandbox: SandboxServer, conn: dict[str, Any]) -> None:
    since = last_seq(sandbox)
    prompts: list[tuple[str, str]] = []
    approvals: list[subprocess.CompletedProcess[str]] = []

    def approve_once_pending(code: str) -> None:
        # Approve only once the client has been told `authorization_pending`, as a person who takes
        # a moment to type the code: the client must keep polling through it.
        while 400 not in token_polls(sandbox, since):
            time.sleep(0.05)
        approvals.append(approve(sandbox, code))

    def prompt(uri: str, code: str, expires_on: datetime) -> None:
        prompts.append((uri, code))
        threading.Thread(target=approve_once_pending, args=(code,), daemon=True).start()

    cred = credential(conn, prompt)
    try:
        arm = cred.get_token(ARM_SCOPE)
        assert [(uri, len(code)) for uri, code in prompts] == [("https://microsoft.com/devicelogin", 9)]
        assert approvals[0].returncode == 0, approvals[0].stderr
        assert approvals[0].stdout.strip() == f"approved {prompts[0][1]} as admin@contoso.onmicrosoft.com"
        polls = token_polls(sandbox, since)
        assert polls[0] == 400 and polls[-1] == 200  # pending first, tokens once approved
        user = claims(arm.token)
        assert user["upn"] == user["preferred_username"] == "admin@contoso.onmicrosoft.com"
        assert user["tid"] == conn["tenant_id"] and user["idtyp"] == "user" and user["scp"] == "user_impersonation"
        assert "roles" not in user and user["aud"] == "https://management.azure.com/"

        # The person owns the demo's subscriptions: the ARM SDK reads as them with the same credential.
        from azure.mgmt.containerregistry import ContainerRegistryManagementClient

        client = ContainerRegistryManagementClient(cred, SUB_DEV, base_url=conn["resource_manager"],
                                                   credential_scopes=[ARM_SCOPE],
                                                   connection_verify=conn["ca_bundle"])
        assert "contosodev" in {r.name for r in client.registries.list()}

        # Graph: no second code. MSAL redeems the refresh token for the other resource.
        graph = cred.get_token(GRAPH_SCOPE)
        assert len(prompts) == 1
        g = claims(graph.token)
        assert g["aud"].rstrip("/") == "https://graph.microsoft.com" and g["oid"] == user["oid"] and "roles" not in g
        with http(conn) as h:
            r = h.get(f"{conn['microsoft_graph']}/v1.0/applications?$top=1",
                      headers={"Authorization": f"Bearer {graph.token}"})
        assert r.status_code == 200 and len(r.json()["value"]) == 1
    finally:
        cred.close()


def test_device_code_credential_reports_a_declined_sign_in(sandbox: SandboxServer, conn: dict[str, Any]) -> None:
    results: list[subprocess.CompletedProcess[str]] = []

    def prompt(uri: str, code: str, expires_on: datetime) -> None:
        results.append(approve(sandbox, code, "--decline"))

    cred = credential(conn, prompt)
    try:
        with pytest.raises(ClientAuthenticationError) as caught:
            cred.get_token(ARM_SCOPE)
    finally:
        cred.close()
    assert results[0].returncode == 0 and results[0].stdout.startswith("declined ")
    assert "AADSTS65004" in str(caught.value)


def test_device_code_credential_reports_an_expired_code(
        sandbox: SandboxServer, conn: dict[str, Any], settings: Settings) -> None:
    settings.device_code_lifetime_s = 1
    late: list[subprocess.CompletedProcess[str]] = []

    def prompt(uri: str, code: str, expires_on: datetime) -> None:
        # The person comes back after the code's lifetime: the client's first poll finds it expired.
        while datetime.now(expires_on.tzinfo) <= expires_on:
            time.sleep(0.1)
        time.sleep(0.2)
        late.append(approve(sandbox, code))

    cred = credential(conn, prompt)
    try:
        with pytest.raises(ClientAuthenticationError) as caught:
            cred.get_token(ARM_SCOPE)
    finally:
        cred.close()
    assert "AADSTS70020" in str(caught.value)
    assert late[0].returncode == 1 and "has expired" in late[0].stderr and "Traceback" not in late[0].stderr


def test_msal_slows_down_when_told_to(conn: dict[str, Any], settings: Settings) -> None:
    """MSAL itself, polling twice within the interval: the second poll is `slow_down`, and MSAL adds
    5 seconds to its interval (RFC 8628 §3.5)."""
    import msal

    settings.device_code_interval_s = 30
    app = msal.PublicClientApplication(AZURE_CLI_CLIENT, authority=f"{conn['authority_host']}/{conn['tenant_id']}",
                                       verify=conn["ca_bundle"], instance_discovery=False)
    flow = app.initiate_device_flow(scopes=[ARM_SCOPE])
    assert flow["interval"] == 30 and flow["expires_in"] == 900
    first = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MSAL warns "Attempted too soon": the point of this test
        second = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: True)
    assert first["error"] == "authorization_pending" and second["error"] == "slow_down"
    assert flow["interval"] == 35


# -- the protocol, field by field ------------------------------------------------------------


def test_devicecode_answer_and_polls_as_documented(
        sandbox: SandboxServer, conn: dict[str, Any], settings: Settings) -> None:
    settings.device_code_interval_s = 30  # so a second poll at once is surely too soon
    r = start(conn)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    flow = r.json()
    assert set(flow) == {"device_code", "user_code", "verification_uri", "expires_in", "interval", "message"}
    assert flow["expires_in"] == 900 and flow["interval"] == 30  # ints, as the doc's table says
    assert flow["message"] == ("To sign in, use a web browser to open the page https://microsoft.com/devicelogin "
                               f"and enter the code {flow['user_code']} to authenticate.")

    entra_refusal(redeem(conn, flow["device_code"]), "authorization_pending", 70016)
    entra_refusal(redeem(conn, flow["device_code"]), "slow_down", 70016)
    entra_refusal(redeem(conn, flow["device_code"] + "x"), "bad_verification_code", 70018)
    # The code belongs to the client that asked for it.
    entra_refusal(redeem(conn, flow["device_code"], "1950a258-227b-4e31-a9cf-717495945fc2"),
                  "bad_verification_code", 70018)

    done = approve(sandbox, flow["user_code"].lower())  # typed in lower case: still the code
    assert done.returncode == 0, done.stderr
    r = redeem(conn, flow["device_code"])
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert {"token_type", "scope", "expires_in", "access_token", "refresh_token", "id_token",
            "client_info"} <= set(tokens)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3599
    id_claims = claims(tokens["id_token"])
    # MSAL insists the ID token's issuer is the discovery document's (msal/oauth2cli/oidc.py).
    with http(conn) as h:
        issuer = h.get(f"{conn['authority_host']}/{conn['tenant_id']}/v2.0/.well-known/openid-configuration"
                       ).json()["issuer"]
    assert id_claims["iss"] == issuer and id_claims["aud"] == AZURE_CLI_CLIENT
    # A code is redeemed once.
    entra_refusal(redeem(conn, flow["device_code"]), "invalid_grant", 54005)

    # The refresh token is good for another resource, and stays good after use.
    first = refresh(conn, tokens["refresh_token"], f"{GRAPH_SCOPE} offline_access openid profile")
    assert first.status_code == 200
    assert claims(first.json()["access_token"])["aud"].rstrip("/") == "https://graph.microsoft.com"
    assert first.json()["refresh_token"] != tokens["refresh_token"]
    assert refresh(conn, tokens["refresh_token"], ARM_SCOPE).status_code == 200
    entra_refusal(refresh(conn, "not-a-refresh-token", ARM_SCOPE), "invalid_grant", 9002313)


def test_who_may_start_a_device_code_sign_in(conn: dict[str, Any]) -> None:
    unknown = "3f0cd7a4-0d5b-4a1e-9c43-7e1f7a3b0b11"
    entra_refusal(start(conn, client_id=unknown), "unauthorized_client", 700016)
    # The sandbox admin's app registration is a confidential client: it must send a secret.
    entra_refusal(start(conn, client_id=conn["admin"]["client_id"]), "invalid_client", 7000218, status=401)
    entra_refusal(start(conn, scope="https://vault.azure.net/.default"), "invalid_resource", 500011)


# -- `acr-console sandbox approve` refusing ----------------------------------------------------


def test_approve_refuses_what_it_cannot_approve(sandbox: SandboxServer, conn: dict[str, Any],
                                                tmp_path: Path) -> None:
    flow = start(conn).json()
    assert approve(sandbox, flow["user_code"]).returncode == 0
    cases = [
        (approve(sandbox, flow["user_code"]), 1, f"the code {flow['user_code']} was already approved"),
        (approve(sandbox, "ZZZZZZZZZ"), 1, "no sign-in is waiting for the code ZZZZZZZZZ"),
        (approve(sandbox, "12"), 1, "'12' is not a sign-in code"),
        (approve(sandbox, start(conn).json()["user_code"], "--user", "nobody@contoso.onmicrosoft.com"), 1,
         "no user 'nobody@contoso.onmicrosoft.com' in the sandbox's directory"),
        (approve(sandbox, "ABCDEFGHJ", data=tmp_path / "none"), 2, f"no sandbox data in {tmp_path / 'none'}"),
    ]
    for result, code, words in cases:
        assert result.returncode == code, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.stderr
        assert result.stdout == ""
    assert not (tmp_path / "none").exists()  # nothing made where there was no sandbox


def test_the_device_code_knobs_turn_while_serving(conn: dict[str, Any], settings: Settings) -> None:
    """A sandbox served by another process (`acr-console sandbox serve`) is shortened through the
    control API, as its other knobs are."""
    from azure.identity import ClientSecretCredential

    cred = ClientSecretCredential(conn["tenant_id"], conn["admin"]["client_id"], conn["admin"]["client_secret"],
                                  authority=conn["authority_host"], disable_instance_discovery=True,
                                  connection_verify=conn["ca_bundle"])
    try:
        token = cred.get_token(ARM_SCOPE).token
    finally:
        cred.close()
    with http(conn) as h:
        url = f"{conn['authority_host']}/_sandbox/settings"
        auth = {"Authorization": f"Bearer {token}"}
        put = h.put(url, headers=auth, json={"device_code_lifetime_s": 60, "device_code_interval_s": 2})
        assert put.status_code == 200 and put.json()["device_code_lifetime_s"] == 60
        flow = start(conn).json()
        assert (flow["expires_in"], flow["interval"]) == (60, 2)
        for bad in ({"device_code_lifetime_s": 0}, {"device_code_interval_s": 1.5}, {"device_code_interval_s": True}):
            r = h.put(url, headers=auth, json=bad)
            assert r.status_code == 400 and "must be an integer" in r.json()["error"]["message"]
        assert settings.device_code_lifetime_s == 60  # the bad requests changed nothing
