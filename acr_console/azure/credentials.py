"""The credential a connection signs in with, and who it says the console is.

Every credential that makes its own HTTP requests gets the shared transport (clients.py), so the
token requests share ARM's connections, proxies and trust settings; without one, azure-identity's
async credentials would build their own aiohttp transport, reading proxies and CAs from the
environment itself. The Azure CLI
credential runs `az` and sends nothing itself. SDK modules are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..models import SignedInIdentity
from .connection import AuthMethod, Connection
from .interactive import ThreadedCredential, cancellable_device_code_credential, guarded_prompt

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

    from .token_store import TokenStore
    from .transport import RoutedAioHttpTransport


def build_credential(conn: Connection, transport: Callable[[], RoutedAioHttpTransport]) -> AsyncTokenCredential:
    """The credential for `conn`, behind the process's token cache (token_cache.py): every SDK
    (kiota for Graph, each ARM pipeline, the identity read) gets its tokens through this one object,
    so a credential that caches nothing itself (the Azure CLI's runs `az` per call) is asked once
    per scope; `transport` gives the shared async transport (built on demand: the CLI credential and
    the threaded ones need none)."""
    from .token_cache import CachingCredential

    cached: AsyncTokenCredential = CachingCredential(_credential(conn, transport))
    return cached


def _credential(conn: Connection, transport: Callable[[], RoutedAioHttpTransport]) -> Any:
    """The azure-identity credential for `conn`."""
    auth = conn.auth
    common: dict[str, Any] = {"authority": conn.cloud.authority_host}
    if not conn.is_microsoft_authority:
        # Otherwise MSAL asks login.microsoftonline.com about an authority it does not know.
        common["disable_instance_discovery"] = True
    if auth.method is AuthMethod.SECRET:
        from azure.identity.aio import ClientSecretCredential

        if not (conn.tenant_id and auth.client_id and auth.client_secret):
            raise ValueError("a client secret sign-in needs a tenant, a client id and a secret")
        return ClientSecretCredential(conn.tenant_id, auth.client_id, auth.client_secret,
                                      transport=transport(), **common)
    if auth.method is AuthMethod.CLI:
        return cli_credential(conn.tenant_id)
    if auth.method is AuthMethod.ENV:
        from azure.identity.aio import EnvironmentCredential

        return EnvironmentCredential(transport=transport(), **common)
    if auth.method is AuthMethod.MANAGED_IDENTITY:
        from azure.identity.aio import ManagedIdentityCredential

        if auth.client_id:
            return ManagedIdentityCredential(client_id=auth.client_id, transport=transport())
        return ManagedIdentityCredential(transport=transport())
    if auth.method in (AuthMethod.DEVICE_CODE, AuthMethod.BROWSER):
        return ThreadedCredential(_interactive(conn, common), interactive=True)
    raise ValueError(f"unknown sign-in method {auth.method}")


def _interactive(conn: Connection, common: dict[str, Any]) -> Any:
    """The synchronous device-code or browser credential for `conn`: on the connection's network
    (sync_transport.py: its proxies and CAs, not requests' own reading of the environment), and,
    unless tokens stay in memory, with the persisted token cache and sign-in record of token_store.py."""
    from azure.identity import InteractiveBrowserCredential

    from .sync_transport import requests_transport
    from .token_store import token_store

    auth = conn.auth
    kwargs: dict[str, Any] = {**common, "tenant_id": conn.tenant_id, "transport": requests_transport(conn)}
    if auth.method is AuthMethod.DEVICE_CODE:
        # interactive.py: a device flow that q, Ctrl+C or the console's Escape stops.
        cls: Any = cancellable_device_code_credential()
        kwargs["prompt_callback"] = guarded_prompt(auth.device_code_prompt)
    else:
        cls = InteractiveBrowserCredential
    store = token_store(conn)
    if store is None:
        return cls(**kwargs)
    for path in store.discard_unreadable():
        if auth.sign_in_notice is not None:
            auth.sign_in_notice(f"the token cache {path} could not be read and was removed; sign in again")
    kwargs["cache_persistence_options"] = store.persistence_options()
    record = store.load_record()
    if record is not None:
        # The record names its authority, which the credential then uses (and refuses a second
        # `authority=`: azure/identity/_internal/interactive.py, InteractiveCredential.__init__).
        kwargs.pop("authority", None)
        kwargs["authentication_record"] = record
    return PersistedSignIn(cls(**kwargs), store, signed_in=record is not None, notice=auth.sign_in_notice)


class PersistedSignIn:
    """A synchronous interactive credential whose sign-in outlives the process.

    The first token of a process without a saved record is asked for with `authenticate()`, the
    documented way to obtain the AuthenticationRecord to persist ("Persist user authentication
    data", https://learn.microsoft.com/python/api/overview/azure/identity-readme#persist-user-authentication-record);
    the record is saved, and every later token comes silently from the persisted cache (the access
    token, else MSAL's refresh-token grant) until the refresh token expires. Called one request at a
    time (ThreadedCredential serialises interactive credentials), so no two sign-ins race.
    """

    def __init__(self, credential: Any, store: TokenStore, *, signed_in: bool,
                 notice: Callable[[str], None] | None) -> None:
        self._credential = credential
        self._store = store
        self._signed_in = signed_in
        self._notice = notice

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        if not self._signed_in:
            record = self._credential.authenticate(
                scopes=list(scopes), claims=kwargs.get("claims"), tenant_id=kwargs.get("tenant_id"),
                enable_cae=bool(kwargs.get("enable_cae")))
            self._store.save_record(record)
            self._signed_in = True
            if self._notice is not None:
                self._notice(f"signed in as {record.username}; {self._store.describe().text}")
        return self._credential.get_token(*scopes, **kwargs)

    def close(self) -> None:
        self._credential.close()


def cli_credential(tenant_id: str | None) -> Any:
    """AzureCliCredential, with the console's tenant named in a claims request: azure-identity's
    message for a claims challenge it cannot answer ("... az login --claims-challenge X") adds
    `--tenant` only from the request's own options, not from the credential's tenant
    (azure/identity/aio/_credentials/azure_cli.py, `_get_token_base`, azure-identity 1.27), and an
    `az login` without it signs in to the CLI's default tenant, perhaps another one."""
    from azure.identity.aio import AzureCliCredential

    class CliCredential(AzureCliCredential):
        async def get_token_info(self, *scopes: str, options: Any = None) -> Any:
            if options and options.get("claims") and tenant_id and not options.get("tenant_id"):
                options = {**options, "tenant_id": tenant_id}
            return await super().get_token_info(*scopes, options=options)

    return CliCredential(tenant_id=tenant_id) if tenant_id else CliCredential()


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
