"""The one client factory: a Connection in, the SDK clients out.

Used unchanged for real Azure and for the sandbox; only endpoints and trust differ. Everything is
async and shares transports built from one explicit SSLContext (never from environment
variables, which behave differently per HTTP stack — sdk-wiring.md §4):
- one httpx client behind one azure-core transport (transport.py) for the credential and every ARM
  client, so connections are pooled (a per-request SSLContext costs a TLS handshake per call, §5);
- one httpx client for Microsoft Graph, keeping msgraph's retry, redirect and auth middleware.
One HTTP stack for both: msgraph needs httpx, and aiohttp beside it cost every process ~0.2 s.

SDK modules are imported when a client is first built, not at import time: the console's first
frame must not wait for them. `load()` imports them on a worker thread, so the event loop keeps
drawing (the console) or keeps requests in flight (the CLI) while they load; reads that need Graph
call `prefetch_graph()` first, so its ~0.5 s of imports and its token overlap the ARM requests
before it instead of following them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ssl
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .connection import AuthMethod, Connection
from .errors import from_exception

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.mgmt.authorization.aio import AuthorizationManagementClient
    from azure.mgmt.containerregistry.aio import ContainerRegistryManagementClient
    from azure.mgmt.core import AsyncARMPipelineClient
    from msgraph import GraphServiceClient

    from .transport import HttpxTransport


# What each family of calls imports (sdk-wiring.md §6.1): the credential and ARM pipeline; Microsoft
# Graph (msgraph, kiota, httpx); the RBAC SDK, used for role-assignment writes.
_ARM_MODULES = ("httpx", "azure.core.pipeline.transport", "azure.core.rest", "azure.core.exceptions",
                "azure.mgmt.core", "azure.mgmt.core.policies", "azure.mgmt.core.exceptions", "azure.identity.aio",
                "jwt", "acr_console.azure.transport")
_GRAPH_MODULES = ("httpx", "kiota_abstractions.method", "kiota_abstractions.request_information",
                  "kiota_abstractions.native_response_handler", "kiota_http.middleware.options",
                  "kiota_authentication_azure.azure_identity_authentication_provider", "msgraph",
                  "msgraph.graph_request_adapter", "msgraph_core",
                  "msgraph.generated.models.o_data_errors.o_data_error")
_AUTHORIZATION_MODULES = ("azure.mgmt.authorization.aio",)
GRAPH_CAE = True  # kiota's default: Graph tokens ask for continuous access evaluation


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        importlib.import_module(name)


class _ThreadedCredential:
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

    async def __aenter__(self) -> _ThreadedCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AzureClients:
    """Owns every SDK client for one connection; use as `async with AzureClients(conn) as az:`."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._ssl: ssl.SSLContext | None = None
        self._session: Any = None
        self._transport: HttpxTransport | None = None
        self._credential: AsyncTokenCredential | None = None
        self._acr: dict[str, ContainerRegistryManagementClient] = {}
        self._authz: dict[str, AuthorizationManagementClient] = {}
        self._arm: AsyncARMPipelineClient | None = None
        self._graph: GraphServiceClient | None = None
        self._graph_http: Any = None
        self._graph_warm: asyncio.Future[None] | None = None
        self._writes_warm: asyncio.Future[None] | None = None
        # Set by directory.signed_in(): who this session acts as, asked once.
        self.identity: dict[str, str | None] | None = None

    async def __aenter__(self) -> AzureClients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for warm in (self._graph_warm, self._writes_warm):
            if warm is not None:
                if not warm.done():
                    warm.cancel()
                with contextlib.suppress(BaseException):
                    await warm
        self._graph_warm = self._writes_warm = None
        for client in [*self._acr.values(), *self._authz.values(), self._arm]:
            if client is not None:
                await client.close()
        self._acr.clear()
        self._authz.clear()
        self._arm = None
        if self._credential is not None:
            await self._credential.close()
            self._credential = None
        if self._graph_http is not None:
            await self._graph_http.aclose()
            self._graph_http = None
        self._graph = None
        if self._session is not None:
            await self._session.aclose()
            self._session = None
        self._transport = None

    # -- loading the SDKs off the event loop ----------------------------------------------------

    async def load(self, *, graph: bool = False, authorization: bool = False) -> None:
        """Import the SDK modules these calls need on a worker thread (a no-op once loaded)."""
        names = _ARM_MODULES + (_GRAPH_MODULES if graph else ()) + (_AUTHORIZATION_MODULES if authorization else ())
        missing = tuple(n for n in names if n not in sys.modules)
        if missing:
            await asyncio.to_thread(_import_all, missing)

    def prefetch_graph(self) -> None:
        """Start getting Graph ready in the background: imports, client, token. Idempotent; a
        failure here is left for the first real Graph call to report."""
        if self._graph_warm is None:
            self._graph_warm = asyncio.ensure_future(self._warm_graph())

    def prefetch_writes(self) -> None:
        """Start loading the RBAC SDK (role-assignment writes) in the background; idempotent."""
        if self._writes_warm is None:
            self._writes_warm = asyncio.ensure_future(self.load(authorization=True))

    async def _warm_graph(self) -> None:
        with contextlib.suppress(Exception):
            # ARM's modules first: importing both at once (two threads, one GIL) delayed the first
            # ARM request by the whole of Graph's import, 0.4 s; after them, Graph's import
            # overlaps ARM's round trips instead.
            await self.load()
            await self.load(graph=True)
            _ = self.graph
            # With kiota's token options, so the token lands in the cache kiota reads (CAE has its own).
            await self.credential.get_token(self.connection.cloud.graph_scope, enable_cae=GRAPH_CAE)

    async def graph_ready(self) -> GraphServiceClient:
        """The Graph client, its modules imported off the loop (waiting for a prefetch under way)."""
        if self._graph_warm is not None and not self._graph_warm.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._graph_warm)  # its token too: no second token request
        if self._graph is None:
            await self.load(graph=True)
        return self.graph

    # -- trust and transports -----------------------------------------------------------------

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            ca = self.connection.ca_bundle
            self._ssl = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
        return self._ssl

    @property
    def transport(self) -> HttpxTransport:
        if self._transport is None:
            import httpx

            from .transport import HttpxTransport

            # trust_env=False: proxies and CA variables from the environment must not redirect
            # or re-trust traffic behind the console's back. A stalled connection ends after the
            # connection's timeout, not azure-core's 300 s default.
            self._session = httpx.AsyncClient(
                verify=self.ssl_context, trust_env=False, http2=False, timeout=self.connection.timeout_s,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            )
            self._transport = HttpxTransport(self._session)
        return self._transport

    # -- credential ---------------------------------------------------------------------------

    @property
    def credential(self) -> AsyncTokenCredential:
        if self._credential is None:
            self._credential = self._build_credential()
        return self._credential

    def _build_credential(self) -> Any:
        conn = self.connection
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
                                          transport=self.transport, **common)
        if auth.method is AuthMethod.CLI:
            from azure.identity.aio import AzureCliCredential

            return AzureCliCredential(tenant_id=conn.tenant_id) if conn.tenant_id else AzureCliCredential()
        if auth.method is AuthMethod.ENV:
            from azure.identity.aio import EnvironmentCredential

            return EnvironmentCredential(transport=self.transport, **common)
        if auth.method is AuthMethod.MANAGED_IDENTITY:
            from azure.identity.aio import ManagedIdentityCredential

            if auth.client_id:
                return ManagedIdentityCredential(client_id=auth.client_id)
            return ManagedIdentityCredential()
        if auth.method is AuthMethod.DEVICE_CODE:
            from azure.identity import DeviceCodeCredential

            kwargs: dict[str, Any] = dict(common)
            if auth.device_code_prompt is not None:
                kwargs["prompt_callback"] = auth.device_code_prompt
            return _ThreadedCredential(DeviceCodeCredential(tenant_id=conn.tenant_id, connection_verify=self._verify(),
                                                            **kwargs))
        if auth.method is AuthMethod.BROWSER:
            from azure.identity import InteractiveBrowserCredential

            return _ThreadedCredential(InteractiveBrowserCredential(tenant_id=conn.tenant_id,
                                                                    connection_verify=self._verify(), **common))
        raise ValueError(f"unknown sign-in method {auth.method}")

    def _verify(self) -> str | bool:
        return self.connection.ca_bundle or True

    # -- Resource Manager ---------------------------------------------------------------------

    def registry_client(self, subscription_id: str) -> ContainerRegistryManagementClient:
        client = self._acr.get(subscription_id)
        if client is None:
            from azure.mgmt.containerregistry.aio import ContainerRegistryManagementClient

            client = ContainerRegistryManagementClient(
                self.credential, subscription_id, base_url=self.connection.cloud.resource_manager,
                credential_scopes=[self.connection.cloud.arm_scope], transport=self.transport,
                authentication_policy=self._arm_auth_policy(),
            )
            self._acr[subscription_id] = client
        return client

    def authorization_client(self, subscription_id: str) -> AuthorizationManagementClient:
        client = self._authz.get(subscription_id)
        if client is None:
            from azure.mgmt.authorization.aio import AuthorizationManagementClient

            client = AuthorizationManagementClient(
                self.credential, subscription_id, base_url=self.connection.cloud.resource_manager,
                credential_scopes=[self.connection.cloud.arm_scope], transport=self.transport,
                authentication_policy=self._arm_auth_policy(),
            )
            self._authz[subscription_id] = client
        return client

    def _arm_auth_policy(self) -> Any:
        from .resilience import RenewingARMAuthPolicy

        return RenewingARMAuthPolicy(self.credential, self.connection.cloud.arm_scope)

    @property
    def arm(self) -> AsyncARMPipelineClient:
        """A bare ARM pipeline (auth, retry, logging) for calls no management SDK here offers,
        such as listing subscriptions (azure-mgmt-resource would add 60 MB for one call)."""
        if self._arm is None:
            from azure.core.pipeline import policies
            from azure.mgmt.core import AsyncARMPipelineClient

            self._arm = AsyncARMPipelineClient(
                base_url=self.connection.cloud.resource_manager,
                policies=[
                    policies.RequestIdPolicy(),
                    policies.HeadersPolicy(),
                    policies.UserAgentPolicy(sdk_moniker="acr-console"),
                    policies.AsyncRetryPolicy(),
                    self._arm_auth_policy(),
                    policies.ContentDecodePolicy(),
                    policies.AsyncRedirectPolicy(),
                ],
                transport=self.transport,
            )
        return self._arm

    async def arm_json(self, method: str, path_or_url: str, params: dict[str, str] | None = None,
                       body: Any = None) -> Any:
        """One ARM request returning parsed JSON; raises azure-core's HttpResponseError on failure."""
        if self._arm is None:
            await self.load()
        from azure.core.exceptions import HttpResponseError, map_error
        from azure.core.rest import HttpRequest

        url = path_or_url
        if not urlparse(url).scheme:
            url = self.connection.cloud.resource_manager.rstrip("/") + "/" + url.lstrip("/")
        request = HttpRequest(method, url, params=params, json=body)
        response = await self.arm.send_request(request)
        if response.status_code >= 400:
            await response.read()
            map_error(response.status_code, response, {})
            from azure.mgmt.core.exceptions import ARMErrorFormat

            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        await response.read()
        return response.json() if response.content else None

    async def arm_pages(self, path: str, params: dict[str, str]) -> list[Any]:
        """Every item of an ARM list, following nextLink."""
        return [item async for page in self.arm_page_stream(path, params) for item in page]

    async def arm_page_stream(self, path: str, params: dict[str, str], *,
                              operation: str | None = None) -> AsyncIterator[list[Any]]:
        """An ARM list page by page, for callers that can start work on a page (or stop) before
        the next one arrives. Close it (`contextlib.aclosing`) when stopping early. With
        `operation`, a failure comes as an AzureCallError naming it."""

        async def fetch(url: str, query: dict[str, str] | None = None) -> Any:
            try:
                return await self.arm_json("GET", url, query)
            except Exception as exc:
                if operation is None:
                    raise
                raise from_exception(exc, operation) from None

        page = await fetch(path, params)
        while True:
            link = page.get("nextLink")
            # The next page is asked for before this one is handed over, so what the caller does
            # with a page (parsing it, starting its lookups) overlaps the next round trip.
            ahead = asyncio.ensure_future(fetch(link)) if link else None
            if ahead is not None:
                await asyncio.sleep(0)  # let it go out now, not after the caller's work on this page
            try:
                yield page.get("value", [])
            except BaseException:  # closed early (GeneratorExit), or cancelled: the page ahead is not wanted
                if ahead is not None:
                    ahead.cancel()
                    await asyncio.gather(ahead, return_exceptions=True)
                raise
            if ahead is None:
                return
            page = await ahead

    # -- Microsoft Graph ----------------------------------------------------------------------

    @property
    def graph(self) -> GraphServiceClient:
        if self._graph is None:
            import httpx
            from kiota_authentication_azure.azure_identity_authentication_provider import (
                AzureIdentityAuthenticationProvider,
            )
            from msgraph import GraphRequestAdapter, GraphServiceClient
            from msgraph.graph_request_adapter import options as graph_options
            from msgraph_core import GraphClientFactory

            graph_host = urlparse(self.connection.cloud.microsoft_graph).hostname or ""
            from .resilience import ResilientGraphTransport

            network = ResilientGraphTransport(httpx.AsyncHTTPTransport(verify=self.ssl_context, http2=False),
                                              self.credential, self.connection.cloud.graph_scope, cae=GRAPH_CAE)
            self._graph_http = GraphClientFactory.create_with_default_middleware(
                client=httpx.AsyncClient(transport=network, trust_env=False, timeout=self.connection.timeout_s),
                options=graph_options,
            )
            # allowed_hosts must name the Graph host: for any other host kiota silently sends no token.
            auth = AzureIdentityAuthenticationProvider(
                self.credential, scopes=[self.connection.cloud.graph_scope], allowed_hosts=[graph_host],
                is_cae_enabled=GRAPH_CAE,
            )
            adapter = GraphRequestAdapter(auth, client=self._graph_http)
            # On the adapter, not the httpx client: httpx would add a '/' and kiota send '//'.
            adapter.base_url = self.connection.cloud.microsoft_graph.rstrip("/") + "/v1.0"
            self._graph = GraphServiceClient(request_adapter=adapter)
        return self._graph

    # -- identity -----------------------------------------------------------------------------

    async def signed_in_identity(self) -> dict[str, str | None]:
        """Who the credential is, from the claims of an ARM token (read, not verified: display only)."""
        await self.load()
        import jwt

        token = await self.credential.get_token(self.connection.cloud.arm_scope)
        claims = jwt.decode(token.token, options={"verify_signature": False})
        return {
            "tenant_id": claims.get("tid"),
            "object_id": claims.get("oid"),
            "app_id": claims.get("appid") or claims.get("azp"),
            "name": claims.get("upn") or claims.get("unique_name") or claims.get("name"),
        }
