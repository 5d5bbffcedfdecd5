"""The one client factory: a Connection in, the SDK clients out.

Used unchanged for real Azure and for the sandbox; only endpoints and trust differ. Everything is
async and shares transports built from one explicit SSLContext and one set of proxy routes, both
made once from the connection's `NetworkSettings` (network.py: the environment's proxy and CA
variables are read there, the same way for every HTTP stack, not by each stack itself):
- one aiohttp session behind azure-core's own aiohttp transport (transport.py) for the credential
  and every ARM client, so connections are pooled (a per-request SSLContext costs a TLS handshake
  per call); azure-core's transport cost half the CPU per request of an httpx one (transport.py);
- one httpx client for Microsoft Graph, keeping msgraph's retry, redirect and auth middleware
  (msgraph needs httpx).

This class owns the clients and their lifetimes; what each family does lives beside it:
credentials.py (sign-in), arm.py (the ARM pipeline, paging, management clients), graph.py (the
Graph client and its one request path).

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
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, TypeVar

from . import arm as arm_api
from . import graph as graph_api
from . import network
from .connection import Connection
from .credentials import build_credential, token_identity

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.mgmt.authorization.aio import AuthorizationManagementClient
    from azure.mgmt.containerregistry.aio import ContainerRegistryManagementClient
    from azure.mgmt.core import AsyncARMPipelineClient
    from msgraph import GraphServiceClient

    from ..models import SignedInIdentity
    from .transport import RoutedAioHttpTransport


Client = TypeVar("Client")

# Connections to Azure at once (ARM and the credential; Graph has its own client): a tenant-wide read
# keeps up to 64 requests in flight (48 subscriptions' assignment lists and 8 registries' tokens and
# scope maps side by side: tenant_access). aiohttp's default is 100 (TCPConnector `limit`).
MAX_CONNECTIONS = 64


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        importlib.import_module(name)


class AzureClients:
    """Owns every SDK client for one connection; use as `async with AzureClients(conn) as az:`."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._ssl: ssl.SSLContext | None = None
        self._session: Any = None
        self._transport: RoutedAioHttpTransport | None = None
        self._credential: AsyncTokenCredential | None = None
        self._acr: dict[str, ContainerRegistryManagementClient] = {}
        self._authz: dict[str, AuthorizationManagementClient] = {}
        self._arm: AsyncARMPipelineClient | None = None
        self._graph: GraphServiceClient | None = None
        self._graph_http: Any = None
        self._graph_warm: asyncio.Future[None] | None = None
        self._writes_warm: asyncio.Future[None] | None = None
        # Set by directory.signed_in(): who this session acts as, asked once.
        self.identity: SignedInIdentity | None = None
        # What the readers learnt about this cloud, kept for the session (registries.py: the
        # registry api-version it serves), by the reader's own key.
        self.learnt: dict[str, Any] = {}

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
        if self._session is not None:  # every pipeline's transport leaves it open (session_owner=False)
            await self._session.close()
            self._session = None
        self._transport = None

    # -- loading the SDKs off the event loop ----------------------------------------------------

    async def load(self, *, graph: bool = False, authorization: bool = False, registry: bool = False) -> None:
        """Import the SDK modules these calls need on a worker thread (a no-op once loaded)."""
        names = (arm_api.ARM_MODULES + (graph_api.GRAPH_MODULES if graph else ())
                 + (arm_api.AUTHORIZATION_MODULES if authorization else ())
                 + (arm_api.REGISTRY_MODULES if registry else ()))
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
            await self.credential.get_token(self.connection.cloud.graph_scope, enable_cae=graph_api.CAE)

    async def graph_ready(self) -> GraphServiceClient:
        """The Graph client, its modules imported off the loop (waiting for a prefetch under way)."""
        if self._graph_warm is not None and not self._graph_warm.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._graph_warm)  # its token too: no second token request
        if self._graph is None:
            await self.load(graph=True)
        return self.graph

    async def arm_ready(self) -> AsyncARMPipelineClient:
        """The bare ARM pipeline, its modules imported off the loop."""
        if self._arm is None:
            await self.load()
        return self.arm

    # -- trust and transports -----------------------------------------------------------------

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            # The session builds it (and so finds an unreadable bundle before any request); a
            # Connection made elsewhere (tests, the sandbox's own tools) gets one here.
            self._ssl = self.connection.ssl_context or network.ssl_context(
                self.connection.network, self.connection.ca_bundle)
        return self._ssl

    @property
    def transport(self) -> RoutedAioHttpTransport:
        """The one azure-core transport of ARM and the credential; built on the event loop (aiohttp's
        session binds to the running loop)."""
        if self._transport is None:
            import aiohttp

            from .transport import RoutedAioHttpTransport

            # As azure-core builds its own session (AioHttpTransport.open: no cookie jar, bodies
            # decompressed by azure-core's response), but with the connection's one SSLContext and
            # no reading of the environment: proxies come from network.py, per request.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self.ssl_context, limit=MAX_CONNECTIONS),
                trust_env=False, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False)
            # A stalled connection ends after the connection's timeout, not azure-core's 300 s default.
            self._transport = RoutedAioHttpTransport(
                self.connection.network, session=self._session, session_owner=False,
                connection_timeout=self.connection.timeout_s, read_timeout=self.connection.timeout_s)
        return self._transport

    @property
    def credential(self) -> AsyncTokenCredential:
        if self._credential is None:
            self._credential = build_credential(self.connection, lambda: self.transport)
        return self._credential

    # -- Resource Manager (arm.py) -------------------------------------------------------------

    def registry_client(self, subscription_id: str) -> ContainerRegistryManagementClient:
        from azure.mgmt.containerregistry.aio import ContainerRegistryManagementClient

        return self._management(self._acr, ContainerRegistryManagementClient, subscription_id)

    def authorization_client(self, subscription_id: str) -> AuthorizationManagementClient:
        from azure.mgmt.authorization.aio import AuthorizationManagementClient

        return self._management(self._authz, AuthorizationManagementClient, subscription_id)

    def _management(self, made: dict[str, Client], cls: type[Client], subscription_id: str) -> Client:
        """One client of `cls` per subscription, kept for the session (closed by close())."""
        client = made.get(subscription_id)
        if client is None:
            client = made[subscription_id] = arm_api.management_client(
                cls, self.connection, self.credential, self.transport, subscription_id)
        return client

    @property
    def arm(self) -> AsyncARMPipelineClient:
        """A bare ARM pipeline (auth, retry, logging) for the JSON calls."""
        if self._arm is None:
            self._arm = arm_api.pipeline(self.connection, self.credential, self.transport)
        return self._arm

    async def arm_json(self, method: str, path_or_url: str, params: dict[str, str] | None = None,
                       body: Any = None, *, operation: str | None = None) -> Any:
        """One ARM request returning parsed JSON; raises AzureCallError on failure."""
        return await arm_api.arm_json(self, method, path_or_url, params, body, operation=operation)

    async def arm_pages(self, path: str, params: dict[str, str], *, operation: str | None = None) -> list[Any]:
        """Every item of an ARM list, following nextLink."""
        return await arm_api.arm_pages(self, path, params, operation=operation)

    def arm_page_stream(self, path: str, params: dict[str, str], *,
                        operation: str | None = None) -> AsyncGenerator[list[Any], None]:
        """An ARM list page by page (see arm_api.arm_page_stream)."""
        return arm_api.arm_page_stream(self, path, params, operation=operation)

    # -- Microsoft Graph (graph.py) ------------------------------------------------------------

    @property
    def graph(self) -> GraphServiceClient:
        if self._graph is None:
            self._graph, self._graph_http = graph_api.build_client(self.connection, self.credential, self.ssl_context)
        return self._graph

    # -- identity -----------------------------------------------------------------------------

    async def signed_in_identity(self) -> SignedInIdentity:
        """Who the credential is, from the claims of an ARM token (read, not verified: display only)."""
        await self.load()
        return await token_identity(self.credential, self.connection.cloud.arm_scope)
