"""Microsoft Graph: the client, and the one request path every Graph call takes (reads, `$batch`,
writes), as raw JSON through msgraph-sdk's request adapter.

The adapter keeps its auth, retry (429 with Retry-After, 503) and redirect middleware; what is
skipped is the SDK's object model, which costs about 10 ms per object and seconds on first use.
Responses are read natively, for Graph's own error code and the `request-id` header (the audit
log's correlation id), and so that a write's `secretText` goes straight into a `Secret` without an
object model holding it. `$batch` is built by hand because the SDK's batch support is broken in
this version set: inner URLs keep `/v1.0` (msgraph-sdk-python#1015) and JSON bodies in the
answers are dropped (kiota-python#737).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlparse

from .errors import AzureCallError, from_exception
from .json_bodies import parse_json
from .network import mounts
from .retry import TRANSIENT, Again, retrying
from .writes import Receipt, ensure_writable

if TYPE_CHECKING:
    import ssl

    from azure.core.credentials_async import AsyncTokenCredential
    from msgraph import GraphServiceClient

    from .clients import AzureClients
    from .connection import Connection

# What Graph calls import (loaded off the event loop by AzureClients.load): msgraph, kiota, httpx.
GRAPH_MODULES = ("httpx", "kiota_abstractions.method", "kiota_abstractions.request_information",
                 "kiota_abstractions.native_response_handler", "kiota_http.middleware.options",
                 "kiota_authentication_azure.azure_identity_authentication_provider", "msgraph",
                 "msgraph.graph_request_adapter", "msgraph_core")
CAE = True  # kiota's default: Graph tokens ask for continuous access evaluation
BATCH_LIMIT = 20  # Graph's maximum number of requests in one $batch
# A nested group tree of a few hundred groups is listed in one round (20 inner requests each).
MAX_CONCURRENT_BATCHES = 16
# Inner requests of a batch are throttled on their own; a 200 batch can hold 429s.
BATCH_RETRIES = 6
_THROTTLED = frozenset({429, 503, 504})


def build_client(connection: Connection, credential: AsyncTokenCredential,
                 ssl_context: ssl.SSLContext) -> tuple[GraphServiceClient, Any]:
    """The Graph client and the httpx client under it (its owner closes that one)."""
    import httpx
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.graph_request_adapter import options as graph_options
    from msgraph_core import GraphClientFactory  # type: ignore[import-untyped]

    from .resilience import ResilientGraphTransport

    cloud = connection.cloud
    def resilient(proxy: httpx.Proxy | None) -> httpx.AsyncBaseTransport:
        return ResilientGraphTransport(httpx.AsyncHTTPTransport(verify=ssl_context, http2=False, proxy=proxy),
                                       credential, cloud.graph_scope, cae=CAE)

    # Proxied routes as mounts (network.py): msgraph-core wraps each mount in its middleware too
    # (msgraph_core/graph_client_factory.py, _load_middleware_to_client).
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(transport=resilient(None), mounts=mounts(connection.network, resilient),
                                 verify=ssl_context, trust_env=False, timeout=connection.timeout_s),
        options=graph_options,
    )
    # allowed_hosts must name the Graph host: for any other host kiota silently sends no token.
    auth = AzureIdentityAuthenticationProvider(
        credential, scopes=[cloud.graph_scope], allowed_hosts=[urlparse(cloud.microsoft_graph).hostname or ""],
        is_cae_enabled=CAE,
    )
    adapter = GraphRequestAdapter(auth, client=http)
    # On the adapter, not the httpx client: httpx would add a '/' and kiota send '//'.
    adapter.base_url = cloud.microsoft_graph.rstrip("/") + "/v1.0"
    return GraphServiceClient(request_adapter=adapter), http


def _query(params: dict[str, str] | None) -> str:
    if not params:
        return ""
    # `$` stays literal as clients send it; quotes and parentheses are percent-encoded as kiota does.
    return "?" + "&".join(f"{quote(k, safe='$')}={quote(str(v), safe='$,')}" for k, v in params.items())


@dataclass(frozen=True)
class GraphReply:
    status: int
    body: Any
    request_id: str | None

    @property
    def receipt(self) -> Receipt:
        return Receipt(self.request_id)


def graph_error(status: int, doc: Any, request_id: str | None, operation: str | None,
                reason: str | None = None) -> AzureCallError:
    """Graph's error object (`{"error": {"code", "message", "innerError"}}`) as an AzureCallError."""
    found = doc.get("error") if isinstance(doc, dict) else None
    err: dict[str, Any] = found if isinstance(found, dict) else {}
    inner: dict[str, Any] = err["innerError"] if isinstance(err.get("innerError"), dict) else {}
    return AzureCallError(err.get("code") or f"HTTP{status}",
                          str(err.get("message") or reason or operation or "Graph request failed"),
                          status, request_id or inner.get("request-id"), operation)


async def graph_request(
    az: AzureClients, method: str, path_or_url: str, params: dict[str, str] | None = None,
    body: Any = None, headers: dict[str, str] | None = None, *, write: bool = False, version: str = "v1.0",
) -> GraphReply:
    """One Graph request; `path_or_url` is relative to the `version` endpoint (`v1.0`, or `beta` for
    the few reads that need it) or absolute (a nextLink). Raises AzureCallError (with Graph's code
    and request-id) on 4xx/5xx. A `write` is refused on a read-only connection before anything is
    sent."""
    operation = f"{method.upper()} {path_or_url.split('?')[0]}"
    if write:
        ensure_writable(az.connection, f"{method} {path_or_url}")
    adapter = (await az.graph_ready()).request_adapter
    from kiota_abstractions.method import Method
    from kiota_abstractions.native_response_handler import NativeResponseHandler
    from kiota_abstractions.request_information import RequestInformation
    from kiota_http.middleware.options import ResponseHandlerOption

    info = RequestInformation()
    info.http_method = Method[method.upper()]
    if path_or_url.startswith("https://"):
        info.url = path_or_url
    else:
        base = adapter.base_url if version == "v1.0" else f"{adapter.base_url.removesuffix('/v1.0')}/{version}"
        info.url = f"{base}/{path_or_url.lstrip('/')}{_query(params)}"
    info.headers.try_add("Accept", "application/json")
    for key, value in (headers or {}).items():
        info.headers.try_add(key, value)
    if body is not None:
        info.headers.try_add("Content-Type", "application/json")
        info.content = json.dumps(body).encode()
    info.add_request_options([ResponseHandlerOption(NativeResponseHandler())])
    try:
        # With the native handler kiota hands back httpx's response (its stub says "None").
        response: Any = await adapter.send_primitive_async(info, "bytes", None)
    except Exception as exc:
        import httpx

        if write and isinstance(exc, httpx.TransportError):
            # A write whose connection broke may or may not have landed: the step's check finds out
            # on the next run, which is why every step has one.
            raise AzureCallError("ConnectionFailed", f"the connection to Microsoft Graph broke during {operation} "
                                 f"({type(exc).__name__}); whether it took effect is unknown until the plan runs "
                                 "again", None, None, operation) from None
        raise from_exception(exc, operation) from None
    request_id = response.headers.get("request-id") or response.headers.get("client-request-id")
    try:
        doc = parse_json(response.content) if response.content else None
    except ValueError:
        doc = None
    if response.status_code >= 400:
        raise graph_error(response.status_code, doc, request_id, operation, response.reason_phrase)
    return GraphReply(response.status_code, doc, request_id)


async def graph_json(
    az: AzureClients, method: str, path_or_url: str, params: dict[str, str] | None = None,
    body: Any = None, headers: dict[str, str] | None = None, *, version: str = "v1.0",
) -> Any:
    """A Graph read's JSON body (a POST here only reads: getByIds, $batch of GETs)."""
    return (await graph_request(az, method, path_or_url, params, body, headers, version=version)).body


async def graph_get_or_none(az: AzureClients, path: str,
                            params: dict[str, str] | None = None) -> dict[str, Any] | None:
    """A single object's JSON, or None when Graph says it is not there."""
    try:
        return await graph_json(az, "GET", path, params)
    except AzureCallError as err:
        if err.not_found:
            return None
        raise


async def graph_pages(az: AzureClients, path: str, params: dict[str, str] | None = None,
                      headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = await graph_json(az, "GET", path, params, headers=headers)
    while True:
        items.extend(page.get("value", []))
        link = page.get("@odata.nextLink")
        if not link:
            return items
        page = await graph_json(az, "GET", link, headers=headers)


def _batch_item(index: int, request: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"id": str(index), "method": request.get("method", "GET"), "url": request["url"]}
    # Headers belong to each inner request: Graph applies none of the outer POST's to them, so an
    # advanced query's ConsistencyLevel goes here (learn.microsoft.com/graph/aad-advanced-queries:
    # "specify the ConsistencyLevel header in the JSON body of the POST request").
    headers = dict(request.get("headers") or {})
    if "body" in request:
        item["body"] = request["body"]
        headers.setdefault("Content-Type", "application/json")
    if headers:
        item["headers"] = headers
    return item


async def graph_batch(az: AzureClients, requests: list[dict[str, Any]], *,
                      version: str = "v1.0") -> list[dict[str, Any]]:
    """Run requests (`method`, `url` relative to `version`, optional `body` and `headers`) through
    that version's `$batch`, 20 at a time, retrying throttled inner requests after their
    Retry-After. Returns one response per request, in order: `{"status", "body", "headers"}`."""
    results: list[dict[str, Any] | None] = [None] * len(requests)
    gate = asyncio.Semaphore(MAX_CONCURRENT_BATCHES)

    async def run_chunk(indexes: list[int]) -> None:
        pending = indexes

        async def send() -> None:
            nonlocal pending
            body = {"requests": [_batch_item(i, requests[i]) for i in pending]}
            for i in pending:
                results[i] = None  # an answer an earlier round throttled is not an answer
            async with gate:
                answer = await graph_json(az, "POST", "$batch", body=body, version=version)
            throttled: list[int] = []
            after: float | None = None
            for resp in answer.get("responses", []):
                i = int(resp["id"])
                status = int(resp.get("status", 500))
                # Kept even when throttled: if the tries run out, that is the answer.
                results[i] = {"status": status, "body": resp.get("body"), "headers": resp.get("headers") or {}}
                if status in _THROTTLED:
                    throttled.append(i)
                    header = (resp.get("headers") or {}).get("Retry-After")
                    if header:
                        after = max(after or 0.0, float(header))
            if throttled:
                pending = throttled
                raise Again(after)

        with contextlib.suppress(Again):  # out of tries: the throttled answers stand
            await retrying(send, backoff=TRANSIENT, attempts=BATCH_RETRIES + 1)

    chunks = [list(range(n, min(n + BATCH_LIMIT, len(requests)))) for n in range(0, len(requests), BATCH_LIMIT)]
    await asyncio.gather(*(run_chunk(c) for c in chunks))
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        raise AzureCallError("BatchIncomplete",
                             f"{len(missing)} of {len(requests)} batched Graph requests got no answer")
    return [r for r in results if r is not None]


def batch_error(response: dict[str, Any], what: str) -> AzureCallError:
    return graph_error(response["status"], response.get("body"), None, None, what)


def chunked(items: Iterable[str], size: int) -> list[list[str]]:
    seq = list(items)
    return [seq[i : i + size] for i in range(0, len(seq), size)]
