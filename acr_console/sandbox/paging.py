"""`nextLink` / `@odata.nextLink` paging over a list the route has already filtered."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from .errors import ApiError


def page_bounds(request: Request, page_size: int, token_param: str = "$skiptoken") -> tuple[int, int]:
    raw = request.query_params.get(token_param, "0")
    try:
        offset = int(raw)
    except ValueError:
        raise ApiError(400, "InvalidRequest", f"The {token_param} value '{raw}' is not valid.") from None
    return max(offset, 0), page_size


def next_link(request: Request, base_url: str, offset: int, token_param: str = "$skiptoken") -> str:
    """The same request with the offset moved on; api-version and filters are kept verbatim."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != token_param]
    params.append((token_param, str(offset)))
    query = urlencode(params, safe="$(),'")
    return f"{base_url}{request.url.path}?{query}"


def arm_page(request: Request, base_url: str, items: list[Any], page_size: int) -> dict[str, Any]:
    offset, size = page_bounds(request, page_size)
    body: dict[str, Any] = {"value": items[offset : offset + size]}
    if offset + size < len(items):
        body["nextLink"] = next_link(request, base_url, offset + size)
    return body
