"""The sandbox's ASGI application: every Azure surface on one loopback HTTPS listener.

Routing by path: Entra under `/{tenant}/…`, Resource Manager at the root (`/subscriptions/…`,
`/{scope}/providers/Microsoft.Authorization/…`), Microsoft Graph under `/graph/v1.0/…`, and the
registry data plane (`/v2/`, `/oauth2/…`) chosen by the Host header.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import arm, authorization, entra, faults, graph, limits, registry_plane, registry_tokens, resources
from .context import GRAPH_PREFIX, Sandbox
from .errors import ApiError, arm_error, graph_error


def _plane(path: str) -> str:
    if path.startswith(GRAPH_PREFIX + "/"):
        return "graph"
    if path.startswith(("/v2/", "/oauth2/")) or path == "/v2":
        return "registry"
    return "arm"


class RequestLog:
    """Pure ASGI middleware: records method, path, query, status, principal and time of every request.

    Written as raw ASGI rather than BaseHTTPMiddleware so streaming and latency stay exact. Bodies and
    headers are never recorded: they carry secrets and tokens.
    """

    def __init__(self, app: ASGIApp, sb: Sandbox) -> None:
        self.app = app
        self.sb = sb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope.setdefault("state", {})
        logged = False

        def record(status: int) -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            query = scope.get("query_string", b"").decode("latin-1")
            api_version = None
            for part in query.split("&"):
                if part.startswith("api-version="):
                    api_version = part.split("=", 1)[1]
            self.sb.store.log_request(
                time=time.time(),
                method=scope["method"],
                path=scope["path"],
                query=_redact_query(query),
                status=status,
                principal=scope["state"].get("principal"),
                api_version=api_version,
                duration_ms=(time.perf_counter() - started) * 1000,
                note=scope["state"].get("note"),
            )

        async def send_wrapper(message: Message) -> None:
            # Logged as the response starts, not after it ends: a client that has read its answer
            # must find its request in the log (tests count requests right after a call returns).
            if message["type"] == "http.response.start":
                record(message["status"])
            await send(message)

        if self.sb.settings.latency_ms > 0:
            await asyncio.sleep(self.sb.settings.latency_ms / 1000)
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            record(500)  # no response started: an error, or a dropped connection


def _redact_query(query: str) -> str:
    # The registry token service takes refresh tokens and passwords in the query string.
    sensitive = ("refresh_token=", "access_token=", "password=", "client_secret=", "client_assertion=")
    return "&".join(
        part.split("=", 1)[0] + "=***" if part.startswith(sensitive) else part for part in query.split("&")
    )


def build_app(sb: Sandbox) -> ASGIApp:
    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if _plane(request.url.path) == "graph":
            return graph_error(exc.status, exc.code, exc.message, exc.headers)
        return arm_error(exc.status, exc.code, exc.message, exc.headers)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if _plane(request.url.path) == "graph":
            return graph_error(status, "BadRequest" if status != 405 else "Request_BadRequest",
                               f"Resource not found for the segment '{request.url.path}'.")
        if status == 405:
            return arm_error(405, "MethodNotAllowed", f"The method '{request.method}' is not allowed here.")
        return arm_error(404, "InvalidResourceType" if "/providers/" in request.url.path else "NotFound",
                         f"No HTTP resource was found that matches the request URI '{request.url.path}'.")

    routes: list[Any] = [*entra.routes(sb), *graph.routes(sb), *arm.routes(sb), *resources.routes(sb)]
    routes += [*authorization.routes(sb), *faults.control_routes(sb)]
    routes += registry_tokens.routes(sb)  # ARM: registries/{r}/scopeMaps, /tokens, /generateCredentials
    app = Starlette(
        routes=routes,
        exception_handlers={ApiError: on_api_error, 404: not_found, 405: not_found},
    )
    app.state.sandbox = sb
    # Outermost first: faults (they need uvicorn's own send), the log, then ARM's front door.
    # The registry plane is chosen by Host (a login server) before any path routing.
    front = registry_plane.HostDispatch(arm.ArmFrontDoor(app), sb)
    # The body cap sits inside the log, so a refused upload is logged with its 413.
    return faults.FaultInjector(RequestLog(limits.BodyLimit(front, faults.plane_of), sb), sb,
                                redact=_redact_query)
