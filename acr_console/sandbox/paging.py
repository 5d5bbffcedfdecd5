"""`nextLink` / `@odata.nextLink` paging over a list the route has already filtered.

The continuation token is the offset of the next item, or for keyset paging the key of the last
item served. Its parameter name is matched without regard
to case: ARM's resource providers spell it `$skiptoken`, Microsoft.Authorization `$skipToken`, and a
client that rebuilds the link from parts may use either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError


def _token_value(request: Request, token_param: str) -> tuple[str, str] | None:
    wanted = token_param.lower()
    for key, value in request.query_params.multi_items():
        if key.lower() == wanted:
            return key, value
    return None


def page_bounds(request: Request, page_size: int, token_param: str = "$skiptoken") -> tuple[int, int]:
    found = _token_value(request, token_param)
    raw = found[1] if found else "0"
    try:
        offset = int(raw)
    except ValueError:
        raise ApiError(400, "InvalidRequest", f"The {token_param} value '{raw}' is not valid.") from None
    return max(offset, 0), page_size


def next_link(request: Request, base_url: str, offset: int, token_param: str = "$skiptoken") -> str:
    """The same request with the offset moved on; api-version and filters are kept verbatim."""
    wanted = token_param.lower()
    params = [(k, v) for k, v in request.query_params.multi_items() if k.lower() != wanted]
    params.append((token_param, str(offset)))
    query = urlencode(params, safe="$(),'")
    return f"{base_url}{request.url.path}?{query}"


def arm_page(
    request: Request, base_url: str, items: list[Any], page_size: int, token_param: str = "$skiptoken"
) -> dict[str, Any]:
    offset, size = page_bounds(request, page_size, token_param)
    body: dict[str, Any] = {"value": items[offset : offset + size]}
    if offset + size < len(items):
        body["nextLink"] = next_link(request, base_url, offset + size, token_param)
    return body


def arm_page_keyset(
    request: Request, base_url: str, fetch: Callable[[int, int], list[tuple[int, Any]]], page_size: int,
    token_param: str = "$skiptoken",
) -> dict[str, Any]:
    """A page whose continuation token is the sort key of the last item served, not an offset.

    `fetch(after_key, limit)` returns (key, item) pairs in key order; it is asked for one more than a
    page, to know whether another page follows. Only the page is ever read from the store.
    """
    after, size = page_bounds(request, page_size, token_param)
    rows = fetch(after, size + 1)
    body: dict[str, Any] = {"value": [item for _, item in rows[:size]]}
    if len(rows) > size:
        body["nextLink"] = next_link(request, base_url, rows[size - 1][0], token_param)
    return body


def spliced_json(page: dict[str, Any]) -> Response:
    """A page whose `value` items are JSON texts as stored, joined into the body as they are: parsing
    and encoding again a hundred thousand stored documents was most of the sandbox's time serving a
    tenant's role assignments (benchmarks/tenant_report.py)."""
    rest = "".join(f",{json.dumps(key)}:{json.dumps(value, separators=(',', ':'))}"
                   for key, value in page.items() if key != "value")
    return Response('{"value":[' + ",".join(page["value"]) + "]" + rest + "}", media_type="application/json")
