"""Microsoft Graph under `/graph/v1.0` and `/graph/beta`: applications, servicePrincipals, groups,
directoryObjects and `$batch`.

One Starlette route per version takes every Graph path and hands it to a small router of its own, so
`$batch` can run each inner request through the very same handlers, with the outer request's caller
and version (inner URLs are relative to the version the batch was posted to). Both versions share
the handlers; where Graph's versions answer differently (group members and service principals, see
graph_groups.py) the handler looks at `GraphRequest.version`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import graph_app_roles, graph_federated, graph_groups, graph_objects, graph_owners, graph_roles, limits
from .context import GRAPH_PREFIX, Caller, Sandbox
from .errors import ApiError, graph_error
from .graph_core import (
    GUID,
    JSON_TYPE,
    READ_APPS,
    GraphRequest,
    GraphResponse,
    Handler,
    not_found,
    ok,
    require_roles,
)
from .graph_odata import bad_request

BATCH_LIMIT = 20
VERSIONS = ("v1.0", "beta")
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
_ALT_KEY = re.compile(r"^(applications|servicePrincipals)\(appId='([^']*)'\)$", re.IGNORECASE)
_CAST = re.compile(r"^(?:microsoft\.)?graph\.\w+$")
# OData system query options Graph v1.0 also accepts without their `$`.
_SYSTEM_OPTIONS = {"filter", "select", "top", "count", "orderby", "skiptoken", "expand", "search", "skip",
                   "format", "apply", "compute"}


def method_not_allowed() -> ApiError:
    return ApiError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")


def _compile(routes: Iterable[tuple[str, str, Handler]]) -> list[tuple[str, list[str], Handler]]:
    return [(method, pattern.split("/"), handler) for method, pattern, handler in routes]


ROUTES = _compile([*graph_objects.routes(), *graph_groups.routes(), *graph_owners.routes(),
                   *graph_roles.routes(), *graph_app_roles.routes(), *graph_federated.routes()])


def _segment_matches(pattern: str, segment: str, params: dict[str, str]) -> bool:
    if pattern == "{cast}":
        if _CAST.match(segment):
            params["cast"] = segment
            return True
        return False
    if pattern.startswith("{"):
        if segment.startswith("$") or _CAST.match(segment):
            return False
        params[pattern[1:-1]] = segment
        return True
    # Graph matches entity sets, properties and actions case-insensitively.
    return pattern.lower() == segment.lower()


def route(method: str, segments: list[str]) -> tuple[Handler, dict[str, str]]:
    allowed = False
    for route_method, pattern, handler in ROUTES:
        if len(pattern) != len(segments):
            continue
        params: dict[str, str] = {}
        if all(_segment_matches(p, s, params) for p, s in zip(pattern, segments, strict=True)):
            if route_method == method:
                return handler, params
            allowed = True
    if allowed:
        raise method_not_allowed()
    if segments and segments[0] == "me":
        raise bad_request("/me request is only valid with delegated authentication flow.")
    known = {p.lower() for _, pattern, _ in ROUTES for p in pattern if not p.startswith("{")}
    unknown = next((s for s in segments if s.lower() not in known and not GUID.match(s)), segments[-1])
    raise ApiError(400, "BadRequest", f"Resource not found for the segment '{unknown}'.")


def parse_query(query_string: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    pairs = parse_qsl(query_string, keep_blank_values=True)
    options: dict[str, str] = {}
    for key, value in pairs:
        name = key.lower()
        if name.lstrip("$") in _SYSTEM_OPTIONS:
            name = "$" + name.lstrip("$")
            if name in options:
                raise bad_request(f"Query option '{name}' was specified more than once, but it must be "
                                  "specified at most once.")
            options[name] = value
    return options, pairs


async def dispatch(sb: Sandbox, caller: Caller, method: str, path: str, query_string: str,
                   headers: dict[str, str], body: Any, version: str = "v1.0") -> GraphResponse:
    """Run one Graph request; ApiError propagates to the caller, which shapes it."""
    inner = path.removeprefix("/")
    inner = inner.removesuffix("/") if inner.endswith("/") and len(inner) > 1 else inner
    segments = inner.split("/")
    if any(s == "" for s in segments):
        # `//` (e.g. from httpx base_url plus a leading slash, docs/reference/sdk-wiring.md §3.4): refused,
        # never guessed at.
        raise ApiError(400, "BadRequest", f"Resource not found for the segment '{path}'.")
    alt = _ALT_KEY.match(segments[0])
    if alt is not None:
        # `applications(appId='…')` addresses the object by its appId: resolve it to the object id.
        collection, app_id = alt.group(1), alt.group(2)
        otype = "application" if collection.lower() == "applications" else "servicePrincipal"
        require_roles(caller, READ_APPS)  # before the lookup: no existence leaks to the unauthorised
        doc = sb.store.by_app_id(app_id, otype) if app_id else None
        if doc is None:
            raise not_found(app_id)
        segments = [collection, doc["id"], *segments[1:]]
    if [x.lower() for x in segments] == ["$batch"]:
        if method != "POST":
            raise method_not_allowed()
        return await run_batch(sb, caller, body, version)
    handler, params = route(method, segments)
    query, raw_query = parse_query(query_string)
    req = GraphRequest(sb, caller, method, "/" + inner, query, raw_query, headers, body, params, version)
    return await handler(req)


def _error_body(exc: ApiError) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    return {"error": {"code": exc.code, "message": exc.message,
                      "innerError": {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                                     "request-id": request_id, "client-request-id": request_id}}}


# -- $batch --------------------------------------------------------------------------------------


def _batch_fault(sb: Sandbox, method: str) -> GraphResponse | None:
    """Throttling and server errors can hit one inner request of a 200 batch, as on Graph (inner
    requests are throttled on their own). The run's fault rules for the graph plane decide, with
    the inner request's method; `drop` and `timeout` concern connections, so only the outer request."""
    from . import faults

    rules = sb.settings.faults
    if not rules:
        return None
    if isinstance(rules, str):
        rules = sb.settings.faults = faults.parse_faults(rules)
    answering = (r for r in rules if r.kind in ("429", "500", "503") and r.matches("graph", method))
    rule = next((r for r in answering if r.fire()), None)
    if rule is None:
        return None
    answer = faults.fault_response("graph", rule.kind, method, rule.retry_after)
    retry_after = answer.headers.get("retry-after")
    headers = {"Retry-After": retry_after} if retry_after else {}
    return GraphResponse(answer.status_code, json.loads(bytes(answer.body)), headers)


def _batch_item_problem(item: Any, ids: set[str]) -> str | None:
    if not isinstance(item, dict):
        return "Invalid batch payload format: each request must be an object."
    rid = item.get("id")
    if not isinstance(rid, str) or not rid:
        return "Invalid batch payload format: each request needs an 'id'."
    if rid in ids:
        return f"Invalid batch payload format: the request id '{rid}' is used more than once."
    if str(item.get("method", "")).upper() not in METHODS:
        return f"Invalid batch payload format: request '{rid}' has no valid 'method'."
    if not isinstance(item.get("url"), str) or not item["url"]:
        return f"Invalid batch payload format: request '{rid}' has no 'url'."
    headers = item.get("headers") or {}
    if not isinstance(headers, dict):
        return f"Invalid batch payload format: the headers of request '{rid}' must be an object."
    has_type = any(k.lower() == "content-type" for k in headers)
    if str(item["method"]).upper() in ("POST", "PATCH", "PUT") and ("body" not in item or not has_type):
        return f"Write request id : {rid} does not contain Content-Type header or body."
    if "body" in item and not has_type:
        return f"Write request id : {rid} does not contain Content-Type header or body."
    depends = item.get("dependsOn")
    if depends is not None and not (isinstance(depends, list) and all(isinstance(d, str) for d in depends)):
        return f"Invalid batch payload format: dependsOn of request '{rid}' must be a list of ids."
    return None


def _batch_order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Requests in an order that runs every dependency first; 400 for unknown ids or a cycle."""
    by_id = {i["id"]: i for i in items}
    for item in items:
        for dep in item.get("dependsOn") or []:
            if dep not in by_id:
                raise ApiError(400, "BadRequest",
                               f"Request '{item['id']}' depends on '{dep}', which is not in this batch.")
    done: dict[str, None] = {}
    visiting: set[str] = set()

    def visit(rid: str) -> None:
        if rid in done:
            return
        if rid in visiting:
            raise ApiError(400, "BadRequest", f"The dependsOn of request '{rid}' forms a cycle.")
        visiting.add(rid)
        for dep in by_id[rid].get("dependsOn") or []:
            visit(dep)
        visiting.discard(rid)
        done[rid] = None

    for item in items:
        visit(item["id"])
    return [by_id[rid] for rid in done]


async def _run_item(sb: Sandbox, caller: Caller, item: dict[str, Any], version: str) -> GraphResponse:
    url: str = item["url"].strip()
    method = str(item["method"]).upper()
    if url.lower().startswith(("http://", "https://")):
        raise ApiError(400, "BadRequest", f"Invalid request URL '{url}': URLs in a batch are relative to the "
                       "version, e.g. /users.")
    path, _, query_string = url.partition("?")
    first = path.lstrip("/").split("/", 1)[0]
    if first in VERSIONS:
        raise ApiError(400, "BadRequest", f"Resource not found for the segment '{first}'.")
    if first == "$batch":
        raise ApiError(400, "BadRequest", "A batch request cannot contain a batch request.")
    fault = _batch_fault(sb, method)
    if fault is not None:
        return fault
    # Each inner request carries its own headers, and only those: the outer POST's are not inherited
    # (learn.microsoft.com/graph/aad-advanced-queries: "To use advanced query capabilities in batch
    # requests, specify the ConsistencyLevel header in the JSON body of the POST request").
    headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    return await dispatch(sb, caller, method, "/" + path.lstrip("/"), query_string, headers, item.get("body"),
                          version)


async def run_batch(sb: Sandbox, caller: Caller, body: Any, version: str = "v1.0") -> GraphResponse:
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise ApiError(400, "BadRequest", "Invalid batch payload format.")
    items = body["requests"]
    if not items:
        raise ApiError(400, "BadRequest", "Invalid batch payload format: the batch holds no request.")
    if len(items) > BATCH_LIMIT:
        raise ApiError(400, "BadRequest", f"Limit of {BATCH_LIMIT} requests per batch request exceeded.")
    ids: set[str] = set()
    for item in items:
        problem = _batch_item_problem(item, ids)
        if problem is not None:
            raise ApiError(400, "BadRequest", problem)
        ids.add(item["id"])
    results: dict[str, dict[str, Any]] = {}
    for item in _batch_order(items):
        failed = [d for d in item.get("dependsOn") or [] if results[d]["status"] >= 400]
        if failed:
            failure = ApiError(424, "FailedDependency", "The request failed due to failure of a previous "
                               f"request ({', '.join(failed)}).")
            results[item["id"]] = {"id": item["id"], "status": 424, "headers": {"Content-Type": JSON_TYPE},
                                   "body": _error_body(failure)}
            continue
        try:
            resp = await _run_item(sb, caller, item, version)
        except ApiError as exc:
            resp = GraphResponse(exc.status, _error_body(exc), dict(exc.headers))
        out: dict[str, Any] = {"id": item["id"], "status": resp.status}
        headers = dict(resp.headers)
        if resp.body is not None:
            headers.setdefault("Content-Type", JSON_TYPE if not isinstance(resp.body, str) else "text/plain")
            out["body"] = resp.body
        out["headers"] = headers
        results[item["id"]] = out
    return ok({"responses": [results[i["id"]] for i in items]})


# -- the Starlette side ----------------------------------------------------------------------------


def _to_response(resp: GraphResponse, request_id: str, client_request_id: str) -> Response:
    headers = {"request-id": request_id, "client-request-id": client_request_id, **resp.headers}
    if resp.body is None:
        return Response(status_code=resp.status, headers=headers)
    if isinstance(resp.body, str):
        headers.pop("Content-Type", None)
        return PlainTextResponse(resp.body, status_code=resp.status, headers=headers)
    return JSONResponse(resp.body, status_code=resp.status, headers=headers, media_type=JSON_TYPE)


def routes(sb: Sandbox) -> list[Route]:
    def endpoint_for(version: str) -> Any:
        async def endpoint(request: Request) -> Response:
            return await serve(request, version)

        return endpoint

    async def serve(request: Request, version: str) -> Response:
        caller = sb.authenticate(request, "graph")
        raw = await request.body()
        body: Any = None
        if raw.strip():
            try:
                body = limits.loads(raw)
            except ValueError:
                return graph_error(400, "Request_BadRequest", "Unable to read JSON request payload. Please "
                                   "ensure Content-Type header is set and payload is of valid JSON format.")
        request_id = str(uuid.uuid4())
        client_request_id = request.headers.get("client-request-id", request_id)
        try:
            resp = await dispatch(sb, caller, request.method, "/" + request.path_params["path"],
                                  request.url.query, {k.lower(): v for k, v in request.headers.items()}, body,
                                  version)
        except ApiError as exc:
            return graph_error(exc.status, exc.code, exc.message, exc.headers)
        return _to_response(resp, request_id, client_request_id)

    return [Route(f"{GRAPH_PREFIX}/{version}/{{path:path}}", endpoint_for(version), methods=list(METHODS))
            for version in VERSIONS]
