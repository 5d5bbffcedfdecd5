"""Injected faults (throttling, server errors, dropped connections, slow answers) and the run-time
control API under `/_sandbox/`.

A fault spec is a comma-separated list of rules, tried in order; the first rule that fires answers
the request instead of the sandbox:

    rule   = PLANE[.METHOD]:KIND:AMOUNT[:OPTION=VALUE]...
    PLANE  = arm | graph | registry | token | any      (token = Entra's endpoints, incl. the token one)
    KIND   = 429 | 500 | 503 | drop | timeout
    AMOUNT = a rate 0..1 (each matching request fails with that probability)
           | n=N       (the next N matching requests fail, then the rule is spent)
    OPTION = retry_after=SECONDS (429/503, default 1) | timeout=SECONDS (timeout, default 30, at most 300)
    seed=N             (a separate item: makes every rate-based rule's choices repeatable)

e.g. `arm:429:0.3,graph.POST:503:0.1:retry_after=2,any:drop:0.05,token:500:n=1,seed=7`.

Each fault answers in the shape of the plane it hits (ARM's and Graph's `{"error": {...}}`, the
registry's `{"errors": [...]}`, Entra's OAuth error), `drop` closes the connection without a word, and
`timeout` waits, then lets the request through: the client has usually given up, but a write still
lands, as it can in Azure. Every injected fault is in the request log with a `note` of `fault ...`.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import limits
from .api_versions import check_setting as check_registry_api_versions
from .context import CHOICES, GRAPH_PREFIX, Sandbox
from .errors import ApiError, arm_error, graph_error

PLANES = ("arm", "graph", "registry", "token", "any")
KINDS = ("429", "500", "503", "drop", "timeout")
CONTROL_PREFIX = "/_sandbox"
MAX_TIMEOUT_S = 300.0

_PLANE = re.compile(r"^(?P<plane>[a-z]+)(?:\.(?P<method>[A-Za-z]+))?$")


@dataclass
class FaultRule:
    plane: str
    kind: str
    rate: float | None = None  # probability per matching request; None for a count-limited rule
    remaining: int | None = None  # requests still to fail for a count-limited rule
    method: str | None = None
    retry_after: int = 1
    timeout_s: float = 30.0
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def matches(self, plane: str, method: str) -> bool:
        return self.plane in ("any", plane) and (self.method is None or self.method == method)

    def fire(self) -> bool:
        if self.remaining is not None:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True
        return self.rng.random() < (self.rate or 0.0)

    def __str__(self) -> str:
        head = self.plane + (f".{self.method}" if self.method else "")
        amount = f"n={self.remaining}" if self.remaining is not None else f"{self.rate:g}"
        text = f"{head}:{self.kind}:{amount}"
        if self.kind in ("429", "503") and self.retry_after != 1:
            text += f":retry_after={self.retry_after}"
        if self.kind == "timeout" and self.timeout_s != 30.0:
            text += f":timeout={self.timeout_s:g}"
        return text


def parse_faults(spec: str) -> list[FaultRule]:
    """Rules from a spec string (grammar in the module docstring); ValueError names the bad item."""
    rules: list[FaultRule] = []
    seed: int | None = None
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        if item.lower().startswith("seed="):
            try:
                seed = int(item.split("=", 1)[1])
            except ValueError:
                raise ValueError(f"'{item}': the seed must be an integer") from None
            continue
        parts = item.split(":")
        if len(parts) < 3:
            raise ValueError(f"'{item}': expected PLANE[.METHOD]:KIND:RATE or PLANE:KIND:n=COUNT")
        m = _PLANE.match(parts[0].strip())
        if m is None or m.group("plane") not in PLANES:
            raise ValueError(f"'{item}': the plane must be one of {', '.join(PLANES)}")
        kind = parts[1].strip().lower()
        if kind not in KINDS:
            raise ValueError(f"'{item}': the kind must be one of {', '.join(KINDS)}")
        rule = FaultRule(plane=m.group("plane"), kind=kind,
                         method=m.group("method").upper() if m.group("method") else None)
        amount = parts[2].strip().lower()
        try:
            if amount.startswith("n="):
                rule.remaining = int(amount[2:])
                if rule.remaining < 0:
                    raise ValueError
            else:
                rule.rate = float(amount)
                if not 0.0 <= rule.rate <= 1.0 or math.isnan(rule.rate):
                    raise ValueError
        except ValueError:
            raise ValueError(f"'{item}': the amount must be a rate between 0 and 1 or n=COUNT") from None
        for option in parts[3:]:
            key, _, value = option.strip().partition("=")
            if key not in ("retry_after", "timeout"):
                raise ValueError(f"'{item}': unknown option '{key}' (retry_after, timeout)")
            try:
                if key == "retry_after":
                    rule.retry_after = int(value)
                    if not 0 <= rule.retry_after <= 3600:
                        raise ValueError
                else:
                    rule.timeout_s = float(value)
                    if not 0 <= rule.timeout_s <= MAX_TIMEOUT_S:
                        raise ValueError
            except ValueError:
                raise ValueError(f"'{item}': bad value for {key}") from None
        rules.append(rule)
    if seed is not None:
        for i, rule in enumerate(rules):
            rule.seed = seed
            # A string seed is hashed with SHA-512 by random.Random: the same on every machine.
            rule.rng = random.Random(f"{seed}:{i}")
    return rules


def format_faults(rules: list[FaultRule] | str) -> str:
    if isinstance(rules, str):
        return rules
    seeds = {r.seed for r in rules if r.seed is not None}
    items = [str(r) for r in rules] + [f"seed={s}" for s in seeds]
    return ",".join(items)


# -- planes and fault answers --------------------------------------------------------------------

_LOOPBACK = {"127.0.0.1", "localhost", "[::1]", ""}
_ENTRA_PATH = re.compile(r"^/[^/]+/(oauth2/|v2\.0/|discovery/)")


def plane_of(scope: Scope) -> str:
    """Which Azure surface a request is for: arm, graph, registry, token (Entra), or sandbox (control)."""
    path: str = scope["path"]
    first = path.lstrip("/").split("/", 1)[0].lower()
    host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "").lower()
    host = host.split("]", 1)[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]
    # As registry_plane routes: any Host but the loopback address names a registry's login server.
    if first in ("v2", "oauth2", "acr") or host not in _LOOPBACK:
        return "registry"
    if path == GRAPH_PREFIX or path.startswith(GRAPH_PREFIX + "/"):
        return "graph"
    if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
        return "sandbox"
    if first in ("subscriptions", "providers"):
        return "arm"
    if _ENTRA_PATH.match(path):
        return "token"
    return "arm"


_MESSAGES = {
    "429": "The request is being throttled as the limit has been reached for operation type - "
           "Read_ObservationWindow_00:05:00. For more information, refer to - "
           "https://aka.ms/srpthrottlinglimits",
    "500": "Encountered internal server error. Diagnostic information: tracking id '{id}'.",
    "503": "The server is currently unable to handle the request. Please retry your request.",
}


def fault_response(plane: str, kind: str, method: str, retry_after: int) -> Response:
    status = int(kind)
    headers = {"Retry-After": str(retry_after)} if status in (429, 503) else {}
    message = _MESSAGES[kind].format(id=uuid.uuid4())
    if plane == "graph":
        code = {"429": "TooManyRequests", "500": "generalException", "503": "serviceNotAvailable"}[kind]
        return graph_error(status, code, "Too many requests." if status == 429 else message, headers)
    if plane == "registry":
        code = {"429": "TOOMANYREQUESTS", "500": "UNKNOWN", "503": "UNAVAILABLE"}[kind]
        return JSONResponse({"errors": [{"code": code, "message": message, "detail": None}]},
                            status_code=status, headers=headers)
    if plane == "token":
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        aadsts = "AADSTS90055" if status == 429 else "AADSTS90033"
        text = "The request has been throttled." if status == 429 else "A transient error has occurred."
        return JSONResponse(
            {"error": "temporarily_unavailable", "error_description": f"{aadsts}: {text} Please try again.",
             "error_codes": [int(aadsts[6:])], "timestamp": now, "trace_id": str(uuid.uuid4()),
             "correlation_id": str(uuid.uuid4())},
            status_code=status, headers=headers,
        )
    code = {"429": "TooManyRequests", "500": "InternalServerError", "503": "ServiceUnavailable"}[kind]
    if status == 429:
        budget = "reads" if method in ("GET", "HEAD") else "writes"
        headers[f"x-ms-ratelimit-remaining-subscription-{budget}"] = "0"
    return arm_error(status, code, message, headers)


class FaultInjector:
    """Pure ASGI, outermost: it needs uvicorn's own `send` to reach the connection for `drop`.

    Faulted requests never reach the app, so they are logged here; `timeout` ones pass on to the
    request log with their note in `scope["state"]["note"]`.
    """

    def __init__(self, app: ASGIApp, sb: Sandbox, redact: Callable[[str], str]) -> None:
        self.app = app
        self.sb = sb
        self.redact = redact

    def _rules(self) -> list[FaultRule]:
        faults = self.sb.settings.faults
        if isinstance(faults, str):
            # Tests may assign a spec string directly; parse it once and keep the rules (and counts).
            faults = self.sb.settings.faults = parse_faults(faults)
        return faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.sb.settings.faults:
            await self.app(scope, receive, send)
            return
        plane = plane_of(scope)
        method = scope["method"]
        rule = None
        if plane != "sandbox":
            rule = next((r for r in self._rules() if r.matches(plane, method) and r.fire()), None)
        if rule is None:
            await self.app(scope, receive, send)
            return
        note = f"fault {plane}:{rule.kind}"
        if rule.kind == "timeout":
            scope.setdefault("state", {})["note"] = note
            # The body is read before the wait: the client has usually hung up by the end of it, and
            # the write must still land (as in Azure) instead of failing on a ClientDisconnect.
            body = await _read_body(receive)
            await asyncio.sleep(min(rule.timeout_s, MAX_TIMEOUT_S))
            await self.app(scope, _replay(body), send)
            return
        # Logged before the fault is delivered: a client that sees it may read the log at once.
        if rule.kind == "drop":
            self._log(scope, 0, note)
            await _drop(send)
        else:
            self._log(scope, int(rule.kind), note)
            await fault_response(plane, rule.kind, method, rule.retry_after)(scope, receive, send)

    def _log(self, scope: Scope, status: int, note: str) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        versions = [p.split("=", 1)[1] for p in query.split("&") if p.startswith("api-version=")]
        api_version = versions[0] if versions else None
        self.sb.store.log_request(
            time=time.time(), method=scope["method"], path=scope["path"], query=self.redact(query),
            status=status, principal=None, api_version=api_version, duration_ms=0.0, note=note,
        )


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            # Nothing more will come; the app only asks again to notice a disconnect.
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _drop(send: Send) -> None:
    """Close the connection without answering, as a failing load balancer does.

    ASGI has no "hang up" message, and an app that returns or raises without a response gets a 500
    from uvicorn; so this reaches uvicorn's connection through its `send` (a bound method of the
    request cycle) and aborts the transport. If that ever stops working, the fault degrades to a 500.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("injected fault: drop (no transport to abort)")
    transport.abort()
    # Let connection_lost() run so uvicorn marks the cycle disconnected and sends nothing.
    for _ in range(20):
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0)


# -- the control API -----------------------------------------------------------------------------


def settings_doc(sb: Sandbox) -> dict[str, Any]:
    s = sb.settings
    return {
        "faults": format_faults(s.faults),
        "latency_ms": s.latency_ms,
        "replication_delay_s": s.replication_delay_s,
        "page_size": s.page_size,
        "registry_api_versions": s.registry_api_versions,
        "device_code_lifetime_s": s.device_code_lifetime_s,
        "device_code_interval_s": s.device_code_interval_s,
        **{name: getattr(s, name) for name in CHOICES},
    }


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ApiError(400, "InvalidRequest", f"{key} must be a number from {low:g} to {high:g}.")
    return float(value)


# The device authorization grant's knobs (entra_device.py), whole seconds as Entra's answer has them.
DEVICE_CODE_KNOBS = {"device_code_lifetime_s": (1, 3600), "device_code_interval_s": (1, 60)}


def control_routes(sb: Sandbox) -> list[Route]:
    """GET/PUT `/_sandbox/settings`: from loopback only, with the sandbox admin's ARM token."""

    def admit(request: Request) -> None:
        if request.client is None or request.client.host != "127.0.0.1":
            raise ApiError(403, "Forbidden", "The sandbox control API answers loopback clients only.")
        caller = sb.authenticate(request, "arm")
        if caller.app_id != (sb.store.get_meta("admin_app_id") or "").lower():
            raise ApiError(403, "AuthorizationFailed",
                           f"The client '{caller.app_id}' is not the sandbox admin "
                           "and may not change settings.")

    async def get_settings(request: Request) -> Response:
        admit(request)
        return JSONResponse(settings_doc(sb))

    async def put_settings(request: Request) -> Response:
        admit(request)
        try:
            body = limits.loads(await request.body())
        except ValueError:
            raise ApiError(400, "InvalidRequest", "The body must be a JSON object.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidRequest", "The body must be a JSON object.")
        unknown = set(body) - {"faults", "latency_ms", "replication_delay_s", "page_size", "registry_api_versions",
                               *DEVICE_CODE_KNOBS, *CHOICES}
        if unknown:
            raise ApiError(400, "InvalidRequest", f"Unknown settings: {', '.join(sorted(unknown))}.")
        # Validate everything before changing anything, so a bad request changes nothing.
        changes: dict[str, Any] = {}
        if "faults" in body:
            spec = body["faults"] or ""
            if not isinstance(spec, str):
                raise ApiError(400, "InvalidRequest", "faults must be a spec string.")
            try:
                changes["faults"] = parse_faults(spec)
            except ValueError as exc:
                raise ApiError(400, "InvalidRequest", f"faults: {exc}") from None
        if "latency_ms" in body:
            changes["latency_ms"] = _number(body, "latency_ms", 0, 60_000)
        if "replication_delay_s" in body:
            changes["replication_delay_s"] = _number(body, "replication_delay_s", 0, 3600)
        if "page_size" in body:
            size = body["page_size"]
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 999:
                raise ApiError(400, "InvalidRequest", "page_size must be an integer from 1 to 999.")
            changes["page_size"] = size
        for key, (low, high) in DEVICE_CODE_KNOBS.items():
            if key in body:
                value = body[key]
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    raise ApiError(400, "InvalidRequest", f"{key} must be an integer from {low} to {high}.")
                changes[key] = value
        if "registry_api_versions" in body:
            try:
                changes["registry_api_versions"] = check_registry_api_versions(body["registry_api_versions"])
            except ValueError as exc:
                raise ApiError(400, "InvalidRequest", str(exc)) from None
        for name, allowed in CHOICES.items():
            if name in body:
                if body[name] not in allowed:
                    raise ApiError(400, "InvalidRequest", f"{name} must be one of: {', '.join(allowed)}.")
                changes[name] = body[name]
        for key, value in changes.items():
            setattr(sb.settings, key, value)
        return JSONResponse(settings_doc(sb))

    return [
        Route(CONTROL_PREFIX + "/settings", get_settings, methods=["GET"]),
        Route(CONTROL_PREFIX + "/settings", put_settings, methods=["PUT"]),
    ]
