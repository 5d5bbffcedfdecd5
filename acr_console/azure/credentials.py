"""The credential a connection signs in with, and who it says the console is.

Every credential that makes its own HTTP requests gets the shared transport (clients.py), so the
token requests go through the console's one HTTP stack and trust settings; without one,
azure-identity's async credentials fall back to azure-core's aiohttp transport. The Azure CLI
credential runs `az` and sends nothing itself. SDK modules are imported inside the functions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..models import SignedInIdentity
from .connection import AuthMethod, Connection

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

    from .transport import HttpxTransport


class ThreadedCredential:
    """Runs a synchronous azure-identity credential in a thread behind the async protocol.

    azure-identity has no async DeviceCodeCredential or InteractiveBrowserCredential; the SDK
    offers no adapter, and this one is four methods.
    """

    def __init__(self, sync_credential: Any) -> None:
        self._sync = sync_credential

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._sync.get_token, *scopes, **kwargs)

    async def close(self) -> None:
        self._sync.close()

    async def __aenter__(self) -> ThreadedCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def build_credential(conn: Connection, transport: Callable[[], HttpxTransport]) -> AsyncTokenCredential:
    """The credential for `conn`; `transport` gives the shared async transport (built on demand:
    the CLI credential and the threaded ones need none)."""
    auth = conn.auth
    common: dict[str, Any] = {"authority": conn.cloud.authority_host}
    if not conn.is_microsoft_authority:
        # Otherwise MSAL asks login.microsoftonline.com about an authority it does not know.
        common["disable_instance_discovery"] = True
    # The synchronous credentials (device code, browser) send with requests; they take a CA bundle.
    verify: str | bool = conn.ca_bundle or True
    if auth.method is AuthMethod.SECRET:
        from azure.identity.aio import ClientSecretCredential

        if not (conn.tenant_id and auth.client_id and auth.client_secret):
            raise ValueError("a client secret sign-in needs a tenant, a client id and a secret")
        return ClientSecretCredential(conn.tenant_id, auth.client_id, auth.client_secret,
                                      transport=transport(), **common)
    if auth.method is AuthMethod.CLI:
        from azure.identity.aio import AzureCliCredential

        return AzureCliCredential(tenant_id=conn.tenant_id) if conn.tenant_id else AzureCliCredential()
    if auth.method is AuthMethod.ENV:
        from azure.identity.aio import EnvironmentCredential

        return EnvironmentCredential(transport=transport(), **common)
    if auth.method is AuthMethod.MANAGED_IDENTITY:
        from azure.identity.aio import ManagedIdentityCredential

        if auth.client_id:
            return ManagedIdentityCredential(client_id=auth.client_id, transport=transport())
        return ManagedIdentityCredential(transport=transport())
    if auth.method is AuthMethod.DEVICE_CODE:
        from azure.identity import DeviceCodeCredential

        kwargs: dict[str, Any] = dict(common)
        if auth.device_code_prompt is not None:
            kwargs["prompt_callback"] = auth.device_code_prompt
        return ThreadedCredential(DeviceCodeCredential(tenant_id=conn.tenant_id, connection_verify=verify,
                                                       **kwargs))
    if auth.method is AuthMethod.BROWSER:
        from azure.identity import InteractiveBrowserCredential

        return ThreadedCredential(InteractiveBrowserCredential(
            tenant_id=conn.tenant_id, connection_verify=verify, **common))
    raise ValueError(f"unknown sign-in method {auth.method}")


async def token_identity(credential: AsyncTokenCredential, scope: str) -> SignedInIdentity:
    """Who the credential is, from the claims of a token for `scope` (read, not verified: display only)."""
    import jwt

    token = await credential.get_token(scope)
    claims = jwt.decode(token.token, options={"verify_signature": False})
    return SignedInIdentity(
        tenant_id=claims.get("tid"),
        object_id=claims.get("oid"),
        app_id=claims.get("appid") or claims.get("azp"),
        name=claims.get("upn") or claims.get("unique_name") or claims.get("name"),
    )
