"""The in-process token cache (acr_console/azure/token_cache.py) in front of real credentials.

Tokens come from the sandbox: through azure-identity's ClientSecretCredential against its token
endpoint, and through azure-identity's AzureCliCredential running the stand-in `az`
(tests/support/fake_az), which hands out the sandbox admin's tokens and records each process.
AzureCliCredential caches nothing by design (Azure/azure-sdk-for-python#40636); kiota asks for a
token per Graph request (kiota_authentication_azure, azure_identity_access_token_provider.py), so
every `az` process counted here is one the console would have started.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.identity import CredentialUnavailableError
from azure.identity.aio import AzureCliCredential

from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.credentials import cli_credential as console_cli_credential
from acr_console.azure.errors import ClaimsChallengeError, SignInError, from_exception
from acr_console.azure.token_cache import REFRESH_OFFSET_S, CachingCredential
from acr_console.sandbox.server import SandboxServer
from tests.support.fake_az import az_calls, fake_az_env, resource_of
from tests.support.sandbox import sandbox_fixture

ARM = "https://management.azure.com/.default"
GRAPH = "https://graph.microsoft.com/.default"
# A CAE claims challenge as ARM sends it, decoded (learn.microsoft.com/entra/identity-platform/claims-challenge).
CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1726000000"}}}'

cache_sandbox = sandbox_fixture("token-cache")


@pytest.fixture
def fake_az(cache_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stand-in `az` first on this process's PATH (AzureCliCredential runs it with this
    environment); returns the folder where its calls are recorded."""
    calls = tmp_path / "az-calls"
    for key, value in fake_az_env(cache_sandbox.data_dir / "connection.json", calls, delay=0.3).items():
        monkeypatch.setenv(key, value)
    return calls


def cli_credential(server: SandboxServer) -> AzureCliCredential:
    """The console's AzureCliCredential (credentials.py), for the sandbox's tenant."""
    assert server.connection is not None
    made: AzureCliCredential = console_cli_credential(server.connection["tenant_id"])
    return made


def token_requests(server: SandboxServer, since: int) -> list[dict[str, Any]]:
    return [r for r in server.sandbox.store.request_log(since) if "/oauth2/v2.0/token" in r["path"]]


async def test_concurrent_first_requests_start_one_az_per_scope(cache_sandbox: SandboxServer, fake_az: Path) -> None:
    # Kiota's way (get_token with CAE) for Graph and azure-core's (get_token_info) for ARM, sixteen
    # at once, as the group expansion asks.
    async with CachingCredential(cli_credential(cache_sandbox)) as cred:
        graph, arm = await asyncio.gather(
            asyncio.gather(*[cred.get_token(GRAPH, claims=None, enable_cae=True) for _ in range(16)]),
            asyncio.gather(*[cred.get_token_info(ARM, options={}) for _ in range(16)]))
        assert sorted(resource_of(c) for c in az_calls(fake_az)) == ["https://graph.microsoft.com",
                                                                     "https://management.azure.com"]
        # kiota takes only an AccessToken (isinstance); the policy reads AccessTokenInfo.
        assert all(type(t) is AccessToken for t in graph) and len({t.token for t in graph}) == 1
        assert all(isinstance(t, AccessTokenInfo) for t in arm) and len({t.token for t in arm}) == 1
        # Later requests are answered from the cache, through either protocol.
        again = await cred.get_token(ARM)
        info = await cred.get_token_info(GRAPH, options={"enable_cae": True})
        assert again.token == arm[0].token and info.token == graph[0].token
        assert len(az_calls(fake_az)) == 2


async def test_a_token_is_renewed_five_minutes_before_it_expires(cache_sandbox: SandboxServer, fake_az: Path) -> None:
    now = [0.0]
    async with CachingCredential(cli_credential(cache_sandbox), clock=lambda: now[0]) as cred:
        first = await cred.get_token_info(ARM)
        assert first.refresh_on is None  # what AzureCliCredential returns: expires_on only
        now[0] = first.expires_on - REFRESH_OFFSET_S - 1
        assert (await cred.get_token_info(ARM)).token == first.token
        assert len(az_calls(fake_az)) == 1
        now[0] = first.expires_on - REFRESH_OFFSET_S + 1
        await cred.get_token_info(ARM)
        assert len(az_calls(fake_az)) == 2


class _RefreshOnHalfLife:
    """The CLI credential's tokens with `refresh_on` at half their lifetime, as MSAL sets for the
    long-lived tokens Entra issues with `refresh_in` (the sandbox's last an hour and carry none)."""

    def __init__(self, inner: AzureCliCredential) -> None:
        self.inner = inner

    async def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        info = await self.inner.get_token_info(*scopes, options=options)
        self.issued = info
        return AccessTokenInfo(info.token, info.expires_on, refresh_on=info.expires_on - 1800)

    async def close(self) -> None:
        await self.inner.close()


async def test_refresh_on_is_honoured(cache_sandbox: SandboxServer, fake_az: Path) -> None:
    now = [0.0]
    async with CachingCredential(_RefreshOnHalfLife(cli_credential(cache_sandbox)), clock=lambda: now[0]) as cred:
        first = await cred.get_token_info(GRAPH)
        assert first.refresh_on is not None
        now[0] = first.refresh_on - 1
        await cred.get_token_info(GRAPH)
        assert len(az_calls(fake_az)) == 1
        now[0] = first.refresh_on  # long before expires_on − 5 min, but refresh_on says now
        await cred.get_token_info(GRAPH)
        assert len(az_calls(fake_az)) == 2


async def test_a_failure_is_shared_by_the_waiters_and_not_cached(
        cache_sandbox: SandboxServer, fake_az: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAKE_AZ_CONNECTION")  # an `az` nobody signed in to
    async with CachingCredential(cli_credential(cache_sandbox)) as cred:
        results = await asyncio.gather(*[cred.get_token(ARM) for _ in range(6)], return_exceptions=True)
        assert all(isinstance(r, Exception) for r in results)
        assert len(az_calls(fake_az)) == 1
        error = from_exception(results[0])  # type: ignore[arg-type]
        assert isinstance(error, SignInError) and "az login" in str(error)
        with pytest.raises(CredentialUnavailableError):  # the next call asks again
            await cred.get_token(ARM)
        assert len(az_calls(fake_az)) == 2


async def test_a_cancelled_caller_leaves_the_others_their_token(cache_sandbox: SandboxServer, fake_az: Path) -> None:
    async with CachingCredential(cli_credential(cache_sandbox)) as cred:
        first = asyncio.ensure_future(cred.get_token(ARM))
        second = asyncio.ensure_future(cred.get_token(ARM))
        await asyncio.sleep(0.05)
        first.cancel()
        token = await second
        assert first.cancelled() and token.token
        assert len(az_calls(fake_az)) == 1


@pytest.mark.parametrize("protocol", ["get_token", "get_token_info"])
async def test_a_claims_challenge_names_the_az_login_command(
        cache_sandbox: SandboxServer, fake_az: Path, protocol: str) -> None:
    # azure-core's policy passes the challenge's claims in options (get_token_info); kiota as a
    # keyword (get_token). AzureCliCredential cannot request claims and says which command can.
    assert cache_sandbox.connection is not None
    tenant = cache_sandbox.connection["tenant_id"]
    async with CachingCredential(cli_credential(cache_sandbox)) as cred:
        await cred.get_token(ARM)
        with pytest.raises(CredentialUnavailableError) as raised:  # translated below, as every caller does
            if protocol == "get_token":
                await cred.get_token(ARM, claims=CLAIMS)
            else:
                await cred.get_token_info(ARM, options={"claims": CLAIMS})
    error = from_exception(raised.value, "GET /subscriptions")
    assert isinstance(error, ClaimsChallengeError)
    encoded = base64.b64encode(CLAIMS.encode()).decode()
    assert error.command == f"az login --claims-challenge {encoded} --tenant {tenant} --scope {ARM}"
    text = str(error)
    assert "\n" not in text and f"Run `{error.command}`" in text
    assert len(az_calls(fake_az)) == 1  # the challenge itself starts no `az`


async def test_secret_sign_in_one_token_request_per_scope_for_arm_and_graph(cache_sandbox: SandboxServer) -> None:
    # The real SDK paths: ARM's pipeline (BearerTokenCredentialPolicy, per client) and kiota (per
    # request), several at once, through the one credential AzureClients builds.
    assert cache_sandbox.connection is not None
    since = cache_sandbox.sandbox.store.last_request_seq()
    async with AzureClients(sandbox_connection(cache_sandbox.connection)) as az:
        graph = await az.graph_ready()
        await asyncio.gather(
            *[az.arm_json("GET", "/subscriptions", {"api-version": "2022-12-01"}) for _ in range(4)],
            *[graph.service_principals.get() for _ in range(4)])
        assert isinstance(az.credential, CachingCredential)
    scopes = sorted(r["path"] for r in token_requests(cache_sandbox, since))
    assert len(scopes) == 2, scopes


async def test_a_token_got_with_claims_replaces_the_refused_one(cache_sandbox: SandboxServer) -> None:
    assert cache_sandbox.connection is not None
    since = cache_sandbox.sandbox.store.last_request_seq()
    async with AzureClients(sandbox_connection(cache_sandbox.connection)) as az:
        cred = az.credential
        await cred.get_token(ARM)
        await cred.get_token(ARM, claims=CLAIMS)  # the client secret credential can answer it
        after_challenge = len(token_requests(cache_sandbox, since))
        await cred.get_token(ARM)
    assert after_challenge == 2
    assert len(token_requests(cache_sandbox, since)) == 2
    assert json.loads(CLAIMS)  # the challenge is the JSON Entra sends
