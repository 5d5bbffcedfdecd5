"""Azure Resource Manager: the bare pipeline for JSON calls, paging, and the management SDK clients.

Reads go through a bare ARM pipeline (auth, retry, logging) as JSON, for calls no management SDK
here offers (listing subscriptions: azure-mgmt-resource would add 60 MB for one call) and because
the SDKs' models cost milliseconds per object to deserialize; writes to RBAC keep the SDK. Every
client shares the one credential and the one transport (clients.py). SDK modules are imported
inside the functions: this module is imported with the client factory, on the start-up path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from .connection import Connection
from .errors import translated
from .json_bodies import parse_json

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.mgmt.core import AsyncARMPipelineClient

    from .clients import AzureClients
    from .transport import RoutedAioHttpTransport

# What ARM calls import (loaded off the event loop by AzureClients.load): the credential, the
# pipeline and its transport (aiohttp, azure-core's transport over it: transport.py).
ARM_MODULES = ("aiohttp", "azure.core.pipeline.transport", "azure.core.pipeline.transport._aiohttp",
               "azure.core.rest", "azure.core.rest._aiohttp", "azure.core.exceptions",
               "azure.mgmt.core", "azure.mgmt.core.policies", "azure.mgmt.core.exceptions", "azure.identity.aio",
               "jwt", "acr_console.azure.transport")
# The RBAC SDK, used for role-assignment writes.
AUTHORIZATION_MODULES = ("azure.mgmt.authorization.aio",)
# The container registry SDK, used for registry writes (its settings, its tokens): 0.2 s to import.
REGISTRY_MODULES = ("azure.mgmt.containerregistry.aio", "azure.mgmt.containerregistry.models")

Client = TypeVar("Client")


def auth_policy(credential: AsyncTokenCredential, scope: str) -> Any:
    from .resilience import RenewingARMAuthPolicy

    return RenewingARMAuthPolicy(credential, scope)


def management_client(cls: type[Client], connection: Connection, credential: AsyncTokenCredential,
                      transport: RoutedAioHttpTransport, subscription_id: str) -> Client:
    """A management SDK client (containerregistry, authorization) on the shared credential and transport."""
    cloud = connection.cloud
    return cls(credential, subscription_id, base_url=cloud.resource_manager,  # type: ignore[call-arg]
               credential_scopes=[cloud.arm_scope], transport=transport,
               authentication_policy=auth_policy(credential, cloud.arm_scope))


def pipeline(connection: Connection, credential: AsyncTokenCredential,
             transport: RoutedAioHttpTransport) -> AsyncARMPipelineClient:
    """The policies a management SDK client has that a JSON call needs. Not ContentDecodePolicy: it
    parses every answer's body for the SDK's deserializer (`response.context["deserialized_data"]`),
    which arm_json never reads; it parses the body itself (json_bodies.parse_json), and azure-core's
    HttpResponseError reads an error body on its own (`_parse_odata_body`). With it, every page of
    role assignments was parsed twice."""
    from azure.core.pipeline import policies
    from azure.mgmt.core import AsyncARMPipelineClient

    return AsyncARMPipelineClient(
        base_url=connection.cloud.resource_manager,
        policies=[
            policies.RequestIdPolicy(),
            policies.HeadersPolicy(),
            policies.UserAgentPolicy(sdk_moniker="acr-console"),
            policies.AsyncRetryPolicy(),
            auth_policy(credential, connection.cloud.arm_scope),
            policies.AsyncRedirectPolicy(),
        ],
        transport=transport,
    )


async def arm_json(az: AzureClients, method: str, path_or_url: str, params: dict[str, str] | None = None,
                   body: Any = None, *, operation: str | None = None) -> Any:
    """One ARM request returning parsed JSON; a failure comes as an AzureCallError naming
    `operation` (by default the method and path)."""
    with translated(operation or f"{method} {path_or_url.split('?')[0]}"):
        client = await az.arm_ready()
        from azure.core.exceptions import HttpResponseError, map_error
        from azure.core.rest import HttpRequest

        url = path_or_url
        if not urlparse(url).scheme:
            url = az.connection.cloud.resource_manager.rstrip("/") + "/" + url.lstrip("/")
        response = await client.send_request(HttpRequest(method, url, params=params, json=body))
        await response.read()
        if response.status_code >= 400:
            map_error(response.status_code, response, {})
            from azure.mgmt.core.exceptions import ARMErrorFormat

            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        return parse_json(response.content) if response.content else None


async def arm_pages(az: AzureClients, path: str, params: dict[str, str], *,
                    operation: str | None = None) -> list[Any]:
    """Every item of an ARM list, following nextLink."""
    return [item async for page in arm_page_stream(az, path, params, operation=operation) for item in page]


async def arm_page_stream(az: AzureClients, path: str, params: dict[str, str], *,
                          operation: str | None = None) -> AsyncGenerator[list[Any], None]:
    """An ARM list page by page, for callers that can start work on a page (or stop) before the
    next one arrives. Close it (`contextlib.aclosing`) when stopping early. A failure comes as an
    AzureCallError naming `operation`."""
    what = operation or f"list {path}"
    page = await arm_json(az, "GET", path, params, operation=what)
    while True:
        link = page.get("nextLink")
        # The next page is asked for before this one is handed over, so what the caller does with
        # a page (parsing it, starting its lookups) overlaps the next round trip.
        ahead = asyncio.ensure_future(arm_json(az, "GET", link, operation=what)) if link else None
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
