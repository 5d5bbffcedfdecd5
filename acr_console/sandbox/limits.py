"""Request size and JSON depth limits, as the services behind the sandbox enforce them.

- Body size: Resource Manager refuses a request body over 4 MB with 413 `RequestContentTooLarge`,
  "The request content size exceeds the maximum size of 4 MB." (Azure/azure-resource-manager-rpc
  v1.0/common-api-details.md, "Max request body size", and the error as Azure/Azure-Landing-Zones#2644
  logged it). Graph answers 413 "The request size exceeds the maximum limit." (learn.microsoft.com/graph/
  errors, "HTTP status codes"); its JSON batches are capped at 4 MB too (json-batching.md). One cap of
  4 MiB serves every plane: the console's largest request (a 20-request `$batch`, or `addKey` with a
  certificate) is a few kilobytes.
- JSON depth: both services are .NET and parse with Json.NET, whose reader stops at a depth of 64
  (JsonSerializerSettings.MaxDepth, default 64 since Json.NET 13.0.1; "The reader's MaxDepth of 64 has
  been exceeded."): a deeper body is a deserialization error (400), never a server error.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import arm_error, graph_error

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_JSON_DEPTH = 64


class TooDeep(ValueError):
    pass


# A JSON string: quote, then runs of ordinary characters and escapes (the unrolled form, which the
# `re` engine matches without backtracking per character).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def _nesting(raw: bytes) -> int:
    """The deepest nesting of brackets outside strings, counted in C-level passes (regex, translate,
    accumulate) and never by recursing: `json.loads` on a body 100,000 deep recurses to Python's limit,
    and a garbage collection that runs finalizers at that depth turns their errors into unraisable
    RecursionErrors in whatever process hosts the sandbox (it failed a CI run in the pytest process)."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads(raw: bytes | str) -> Any:
    """`json.loads`, refusing nesting deeper than Json.NET's MaxDepth (ValueError, like any bad JSON).
    The depth is measured on the text before parsing, so the parser never goes deeper than 64."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    # Most bodies have fewer opening brackets than the limit, and so cannot be too deep.
    if data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH and _nesting(data) > MAX_JSON_DEPTH:
        raise TooDeep(f"The reader's MaxDepth of {MAX_JSON_DEPTH} has been exceeded.")
    return json.loads(raw)


def _too_large(plane: str) -> Any:
    if plane == "graph":
        return graph_error(413, "RequestEntityTooLarge", "The request size exceeds the maximum limit.")
    if plane == "registry":
        from starlette.responses import JSONResponse

        # The registry API's error shape (distribution spec, "Errors"); no code of its own fits.
        return JSONResponse({"errors": [{"code": "UNSUPPORTED", "message": "the request body exceeds 4 MB",
                                         "detail": None}]}, status_code=413)
    return arm_error(413, "RequestContentTooLarge", "The request content size exceeds the maximum size of 4 MB.")


class BodyLimit:
    """Pure ASGI: refuse a body over MAX_BODY_BYTES with 413 in the plane's shape, by its
    Content-Length before reading, or by reading a body sent without one before the app sees it."""

    def __init__(self, app: ASGIApp, plane_of: Any) -> None:
        self.app = app
        self.plane_of = plane_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        plane = self.plane_of(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_large = int(value) > MAX_BODY_BYTES
                except ValueError:
                    too_large = False
                if too_large:
                    await _too_large(plane)(scope, receive, send)
                    return
        if any(name == b"content-length" for name, _ in scope.get("headers", [])):
            await self.app(scope, receive, send)  # its length is known to be within the cap
            return
        # No length given (chunked): read it all first, at most the cap, then hand it on. Refusing
        # midway through the app is too late: the app's error handler would answer 500.
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # a disconnect: let the app see it
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
            if len(body) > MAX_BODY_BYTES:
                await _too_large(plane)(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
