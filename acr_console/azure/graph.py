"""Microsoft Graph as raw JSON through msgraph-sdk's request adapter.

The adapter keeps its auth, retry (429 with Retry-After, 503) and redirect middleware; what is
skipped is the SDK's object model, which costs about 10 ms per object and seconds on first use
(sdk-wiring.md §6.2). `$batch` is built by hand because the SDK's batch support is broken in this
version set (§3.5).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from .clients import AzureClients
from .errors import AzureCallError, from_exception

BATCH_LIMIT = 20  # Graph's maximum number of requests in one $batch
# A nested group tree of a few hundred groups is listed in one round (20 inner requests each).
MAX_CONCURRENT_BATCHES = 16
# Inner requests of a batch are throttled on their own; a 200 batch can hold 429s.
BATCH_RETRIES = 6


def _query(params: dict[str, str] | None) -> str:
    if not params:
        return ""
    # `$` stays literal as clients send it; quotes and parentheses are percent-encoded as kiota does.
    return "?" + "&".join(f"{quote(k, safe='$')}={quote(str(v), safe='$,')}" for k, v in params.items())


async def graph_json(
    az: AzureClients, method: str, path_or_url: str, params: dict[str, str] | None = None,
    body: Any = None, headers: dict[str, str] | None = None,
) -> Any:
    """One Graph request; `path_or_url` is relative to /v1.0 or absolute (a nextLink)."""
    adapter = (await az.graph_ready()).request_adapter
    from kiota_abstractions.method import Method
    from kiota_abstractions.request_information import RequestInformation
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    if path_or_url.startswith("https://"):
        url = path_or_url
    else:
        url = f"{adapter.base_url}/{path_or_url.lstrip('/')}{_query(params)}"
    info = RequestInformation()
    info.http_method = Method[method.upper()]
    info.url = url
    info.headers.try_add("Accept", "application/json")
    for key, value in (headers or {}).items():
        info.headers.try_add(key, value)
    if body is not None:
        info.headers.try_add("Content-Type", "application/json")
        info.content = json.dumps(body).encode()
    try:
        raw = await adapter.send_primitive_async(info, "bytes", {"XXX": ODataError})
    except Exception as exc:
        raise from_exception(exc, f"{method} {path_or_url.split('?')[0]}") from None
    return json.loads(raw) if raw else None


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


async def graph_batch(az: AzureClients, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run requests (`method`, relative `url`, optional `body`) through `$batch`, 20 at a time,
    retrying throttled inner requests after their Retry-After. Returns one response per request,
    in order: `{"status", "body", "headers"}`."""
    results: list[dict[str, Any] | None] = [None] * len(requests)
    gate = asyncio.Semaphore(MAX_CONCURRENT_BATCHES)

    async def run_chunk(indexes: list[int]) -> None:
        pending = indexes
        for attempt in range(BATCH_RETRIES + 1):
            body = {"requests": [
                {"id": str(i), "method": requests[i].get("method", "GET"), "url": requests[i]["url"],
                 **({"body": requests[i]["body"], "headers": {"Content-Type": "application/json"}}
                    if "body" in requests[i] else {})}
                for i in pending
            ]}
            async with gate:
                answer = await graph_json(az, "POST", "$batch", body=body)
            retry: list[int] = []
            wait = 0.0
            for resp in answer.get("responses", []):
                i = int(resp["id"])
                status = int(resp.get("status", 500))
                if status in (429, 503, 504) and attempt < BATCH_RETRIES:
                    retry.append(i)
                    after = (resp.get("headers") or {}).get("Retry-After")
                    wait = max(wait, float(after) if after else min(2 ** attempt, 30) * (0.5 + random.random()))
                else:
                    results[i] = {"status": status, "body": resp.get("body"), "headers": resp.get("headers") or {}}
            if not retry:
                return
            pending = retry
            await asyncio.sleep(wait)

    chunks = [list(range(n, min(n + BATCH_LIMIT, len(requests)))) for n in range(0, len(requests), BATCH_LIMIT)]
    await asyncio.gather(*(run_chunk(c) for c in chunks))
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        raise AzureCallError("BatchIncomplete",
                             f"{len(missing)} of {len(requests)} batched Graph requests got no answer")
    return [r for r in results if r is not None]


def batch_error(response: dict[str, Any], what: str) -> AzureCallError:
    err = (response.get("body") or {}).get("error") or {}
    code = err.get("code") or f"HTTP{response['status']}"
    return AzureCallError(code, err.get("message") or what, response["status"])


def chunked(items: Iterable[str], size: int) -> list[list[str]]:
    seq = list(items)
    return [seq[i : i + size] for i in range(0, len(seq), size)]
