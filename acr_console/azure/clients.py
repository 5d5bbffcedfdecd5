"""The one client factory: a Connection in, the SDK clients out.

Used unchanged for real Azure and for the sandbox; only endpoints and trust differ. Everything is
async and shares transports built from one explicit SSLContext (never from environment
variables, which behave differently per HTTP stack — sdk-wiring.md §4):
- one aiohttp session behind one azure-core transport for the credential and every ARM client, so
  connections are pooled (a per-request SSLContext costs a TLS handshake per call, §5);
- one httpx client for Microsoft Graph, keeping msgraph's retry, redirect and auth middleware.

SDK modules are imported when a client is first built, not at import time: the console's first
frame must not wait for them.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .connection import AuthMethod, Connection

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.core.pipeline.transport import AioHttpTransport
    from azure.mgmt.authorization.aio import AuthorizationManagementClient
    from azure.mgmt.containerregistry.aio import ContainerRegistryManagementClient
    from azure.mgmt.core import AsyncARMPipelineClient
    from msgraph import GraphServiceClient


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
        self._transport: AioHttpTransport | None = None
        self._credential: AsyncTokenCredential | None = None
        self._acr: dict[str, ContainerRegistryManagementClient] = {}
        self._authz: dict[str, AuthorizationManagementClient] = {}
        self._arm: AsyncARMPipelineClient | None = None
        self._graph: GraphServiceClient | None = None
        self._graph_http: Any = None
        # Set by directory.signed_in(): who this session acts as, asked once.
        self.identity: dict[str, str | None] | None = None

    async def __aenter__(self) -> AzureClients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
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
            await self._session.close()
            self._session = None
        self._transport = None

    # -- trust and transports -----------------------------------------------------------------

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            ca = self.connection.ca_bundle
            self._ssl = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
        return self._ssl

    @property
    def transport(self) -> AioHttpTransport:
        if self._transport is None:
            import aiohttp
            from azure.core.pipeline.transport import AioHttpTransport

            # trust_env=False: proxies and CA variables from the environment must not redirect
            # or re-trust traffic behind the console's back.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self.ssl_context, limit=64), trust_env=False
            )
            self._transport = AioHttpTransport(session=self._session, session_owner=False)
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
            )
            self._authz[subscription_id] = client
        return client

    @property
    def arm(self) -> AsyncARMPipelineClient:
        """A bare ARM pipeline (auth, retry, logging) for calls no management SDK here offers,
        such as listing subscriptions (azure-mgmt-resource would add 60 MB for one call)."""
        if self._arm is None:
            from azure.core.pipeline import policies
            from azure.mgmt.core import AsyncARMPipelineClient
            from azure.mgmt.core.policies import AsyncARMChallengeAuthenticationPolicy

            self._arm = AsyncARMPipelineClient(
                base_url=self.connection.cloud.resource_manager,
                policies=[
                    policies.RequestIdPolicy(),
                    policies.HeadersPolicy(),
                    policies.UserAgentPolicy(sdk_moniker="acr-console"),
                    policies.AsyncRetryPolicy(),
                    AsyncARMChallengeAuthenticationPolicy(self.credential, self.connection.cloud.arm_scope),
                    policies.ContentDecodePolicy(),
                    policies.AsyncRedirectPolicy(),
                ],
                transport=self.transport,
            )
        return self._arm

    async def arm_json(self, method: str, path_or_url: str, params: dict[str, str] | None = None,
                       body: Any = None) -> Any:
        """One ARM request returning parsed JSON; raises azure-core's HttpResponseError on failure."""
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
        items: list[Any] = []
        page = await self.arm_json("GET", path, params)
        while True:
            items.extend(page.get("value", []))
            link = page.get("nextLink")
            if not link:
                return items
            page = await self.arm_json("GET", link)

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
            self._graph_http = GraphClientFactory.create_with_default_middleware(
                client=httpx.AsyncClient(verify=self.ssl_context, trust_env=False, http2=False, timeout=60),
                options=graph_options,
            )
            # allowed_hosts must name the Graph host: for any other host kiota silently sends no token.
            auth = AzureIdentityAuthenticationProvider(
                self.credential, scopes=[self.connection.cloud.graph_scope], allowed_hosts=[graph_host]
            )
            adapter = GraphRequestAdapter(auth, client=self._graph_http)
            # On the adapter, not the httpx client: httpx would add a '/' and kiota send '//'.
            adapter.base_url = self.connection.cloud.microsoft_graph.rstrip("/") + "/v1.0"
            self._graph = GraphServiceClient(request_adapter=adapter)
        return self._graph

    # -- identity -----------------------------------------------------------------------------

    async def signed_in_identity(self) -> dict[str, str | None]:
        """Who the credential is, from the claims of an ARM token (read, not verified: display only)."""
        import jwt

        token = await self.credential.get_token(self.connection.cloud.arm_scope)
        claims = jwt.decode(token.token, options={"verify_signature": False})
        return {
            "tenant_id": claims.get("tid"),
            "object_id": claims.get("oid"),
            "app_id": claims.get("appid") or claims.get("azp"),
            "name": claims.get("upn") or claims.get("unique_name") or claims.get("name"),
        }
