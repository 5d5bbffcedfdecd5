"""What every Microsoft Graph handler shares: the request and response of one (possibly batched)
call, application-permission checks, object lookups and the collection lister.

Handlers take a `GraphRequest` rather than a Starlette request so `$batch` can run its inner
requests through exactly the same code as top-level ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .context import Caller, Sandbox
from .errors import ApiError
from .graph_odata import (
    Filter,
    bad_request,
    context_url,
    decode_skiptoken,
    encode_query,
    encode_skiptoken,
    page_size,
    parse_filter,
    parse_select,
    render,
)

JSON_TYPE = ("application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
             "charset=utf-8")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Application permissions (the token's `roles` claim) each kind of call accepts, least privileged first.
READ_APPS = frozenset({"Application.Read.All", "Application.ReadWrite.All", "Application.ReadWrite.OwnedBy",
                       "Directory.Read.All", "Directory.ReadWrite.All"})
WRITE_APPS = frozenset({"Application.ReadWrite.All", "Directory.ReadWrite.All"})
READ_GROUPS = frozenset({"GroupMember.Read.All", "Group.Read.All", "GroupMember.ReadWrite.All",
                         "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})
WRITE_GROUPS = frozenset({"Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"})
WRITE_MEMBERS = frozenset({"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"})
READ_DIRECTORY = frozenset({"Directory.Read.All", "Directory.ReadWrite.All"})
READ_MEMBERSHIP = READ_APPS | READ_GROUPS

COLLECTION_OF = {"application": "applications", "servicePrincipal": "servicePrincipals", "group": "groups",
                 "user": "users"}
TYPE_OF = {v: k for k, v in COLLECTION_OF.items()}


@dataclass
class GraphRequest:
    sb: Sandbox
    caller: Caller
    method: str
    path: str  # below the version (/v1.0 or /beta), starting with "/"
    query: dict[str, str]  # system query options, keys normalised to start with "$"
    raw_query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-cased names
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)  # path placeholders, filled by the router
    version: str = "v1.0"  # "v1.0" or "beta": the endpoint the request came in on

    @property
    def eventual(self) -> bool:
        return self.headers.get("consistencylevel", "").lower() == "eventual"

    @property
    def advanced(self) -> bool:
        """Graph's advanced query parameters are both present: the `ConsistencyLevel: eventual`
        header and `$count=true` (learn.microsoft.com/graph/aad-advanced-queries: "the requestor
        must also set the ConsistencyLevel header to eventual and, with the exception of $search,
        use the $count query parameter")."""
        return self.eventual and self.query.get("$count", "").lower() == "true"

    @property
    def base(self) -> str:
        """The Graph URL this request's version answers under, for nextLinks and contexts."""
        return f"{self.sb.graph_base}/{self.version}"


@dataclass
class GraphResponse:
    status: int
    body: Any = None  # a dict or list is JSON, a str is text/plain, None is no body
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[GraphRequest], Awaitable[GraphResponse]]


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> GraphResponse:
    return GraphResponse(status, body, headers or {})


def no_content() -> GraphResponse:
    return GraphResponse(204)


def require_roles(caller: Caller, allowed: frozenset[str]) -> None:
    """403 unless the caller's token holds one of the application permissions in `allowed`."""
    if not allowed.intersection(caller.roles):
        raise ApiError(403, "Authorization_RequestDenied",
                       "Insufficient privileges to complete the operation.")


def require(req: GraphRequest, allowed: frozenset[str]) -> None:
    require_roles(req.caller, allowed)


def not_found(object_id: str) -> ApiError:
    return ApiError(404, "Request_ResourceNotFound",
                    f"Resource '{object_id}' does not exist or one of its queried reference-property objects "
                    "are not present.")


def check_guid(value: str) -> str:
    if not GUID.match(value):
        raise bad_request(f"Invalid object identifier '{value}'.")
    return value.lower()


def load(req: GraphRequest, object_id: str, otype: str | None) -> dict[str, Any]:
    """The stored document of `object_id` (of `otype` when given), or 404 as Graph answers."""
    oid = check_guid(object_id)
    doc = req.sb.store.object(oid, otype)
    if doc is None:
        raise not_found(object_id)
    return doc


def body_object(req: GraphRequest) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise bad_request("Unable to read JSON request payload. Please ensure Content-Type header is set and "
                          "payload is of valid JSON format.")
    return {k: v for k, v in req.body.items() if not k.startswith("@odata.type")}


def select_of(req: GraphRequest, otypes: tuple[str, ...]) -> list[str] | None:
    return parse_select(req.query.get("$select"), otypes)


def single(req: GraphRequest, doc: dict[str, Any], otype: str, *, entity_set: str | None = None,
           with_type: bool = False) -> GraphResponse:
    select = select_of(req, (otype,))
    coll = entity_set or COLLECTION_OF[otype]
    fragment = f"{coll}({','.join(select)})/$entity" if select else f"{coll}/$entity"
    body = {"@odata.context": context_url(req.sb.graph_base, fragment, req.version),
            **render(doc, otype, select=select, single=True, with_type=with_type)}
    return ok(body)


def reject_unsupported_options(req: GraphRequest) -> None:
    if "$skip" in req.query:
        raise bad_request("'$skip' is not supported by the service.")
    for option in ("$expand", "$search", "$apply", "$compute"):
        if option in req.query:
            raise ApiError(400, "Request_UnsupportedQuery",
                           f"The query option '{option}' is not supported here.")


def advanced_query_error(what: str) -> ApiError:
    """Graph's refusal of a query that needs the advanced query parameters, in the words of its
    documented example (learn.microsoft.com/graph/aad-advanced-queries: "Operator 'endsWith' is
    not supported because the required parameters might be missing. Try adding $count=true …")."""
    return ApiError(400, "Request_UnsupportedQuery",
                    f"{what} is not supported because the required parameters might be missing. "
                    "Try adding $count=true query parameter and ConsistencyLevel:eventual header. "
                    "Refer to https://aka.ms/graph-docs/advanced-queries for more information")


def _require_advanced(req: GraphRequest, what: str) -> None:
    if not req.advanced:
        raise advanced_query_error(what)


def _count_allowed(req: GraphRequest) -> bool:
    count = req.query.get("$count")
    if count is None:
        return False
    if count.lower() not in ("true", "false"):
        raise bad_request(f"Invalid value '{count}' for $count: it must be true or false.")
    if count.lower() == "true" and not req.eventual:
        raise bad_request("$count is not currently supported.")
    return count.lower() == "true"


def _sql_hint(flt: Filter | None) -> tuple[str, list[Any]]:
    if flt is None:
        return "", []
    priority = {"appid": 0, "id": 0, "displayname": 1, "displayname*": 2, "doc~": 3}
    for prop, values in sorted(flt.hints, key=lambda h: priority.get(h[0].lower(), 9)):
        marks = ",".join("?" * len(values))
        if prop.lower() == "appid":
            return f" AND app_id IN ({marks})", [v.lower() for v in values]
        if prop.lower() == "id":
            return f" AND id IN ({marks})", [v.lower() for v in values]
        if prop.lower() == "displayname" and len(values) == 1:
            return " AND display_name = ? COLLATE NOCASE", values
        if prop in ("displayName*", "doc~") and values[0].isascii():
            # LIKE is case-insensitive for ASCII, like Graph; the predicate still decides exactly.
            escaped = values[0].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            if prop == "displayName*":
                return " AND display_name LIKE ? ESCAPE '\\'", [escaped + "%"]
            return " AND doc LIKE ? ESCAPE '\\'", [f"%{escaped}%"]
    return "", []


@lru_cache(maxsize=8192)
def _parsed(doc: str) -> dict[str, Any]:
    """A stored document, decoded once while it is unchanged (the text is the key, so an update is
    a miss, never a stale hit). Listings only read what this returns (filters test it, `render`
    copies from it); expanding 200 groups in a $batch otherwise decodes the same members again
    for every request."""
    return json.loads(doc)


def fetch_objects(req: GraphRequest, otypes: tuple[str, ...], ids: list[str] | None,
           flt: Filter | None) -> Iterable[tuple[str, dict[str, Any]]]:
    store = req.sb.store
    type_marks = ",".join("?" * len(otypes))
    hint_sql, hint_params = _sql_hint(flt)
    # An appId or id hint: `+type` keeps SQLite off the (type, seq) index, which it would otherwise
    # walk over every object of the type (17 ms per `appId in (…)` at 20,000 applications, 0.03 ms
    # through dir_by_app). A displayName hint needs the (type, display_name) index: left as it is.
    by_key = hint_sql.startswith((" AND app_id IN", " AND id IN"))
    base = f"SELECT type, doc FROM directory_objects WHERE {'+' if by_key else ''}type IN ({type_marks}){hint_sql}"
    if ids is None:
        for row in store.rows(base + " ORDER BY seq", [*otypes, *hint_params]):
            yield row["type"], _parsed(row["doc"])
        return
    rows: list[Any] = []
    unique = list(dict.fromkeys(ids))
    for n in range(0, len(unique), 500):
        chunk = unique[n : n + 500]
        # `+type`: look the ids up by primary key. Without it SQLite scans the (type, ...) index over
        # every object of those types, ~50 ms per call at 20,000 principals, per group in a $batch.
        sql = (f"SELECT type, doc, seq FROM directory_objects WHERE +type IN ({type_marks}){hint_sql}"
               f" AND id IN ({','.join('?' * len(chunk))})")
        rows += store.rows(sql, [*otypes, *hint_params, *chunk])
    rows.sort(key=lambda r: r["seq"])
    for row in rows:
        yield row["type"], _parsed(row["doc"])


def list_objects(req: GraphRequest, otypes: tuple[str, ...], fragment: str, *, ids: list[str] | None = None,
                 with_type: bool = False) -> GraphResponse:
    """A collection page with Graph's query options: `$filter`, `$select`, `$top`, `$orderby`,
    `$count` (with ConsistencyLevel: eventual) and an `@odata.nextLink` while more remain."""
    reject_unsupported_options(req)
    size = page_size(req.query, req.sb.settings.page_size)
    select = select_of(req, otypes)
    flt = parse_filter(req.query["$filter"], otypes) if req.query.get("$filter") else None
    if flt is not None and flt.advanced:
        _require_advanced(req, "The filter")
    want_count = _count_allowed(req)
    order = req.query.get("$orderby")
    descending = False
    if order is not None:
        field_name, _, direction = order.strip().partition(" ")
        if field_name != "displayName" or direction.lower() not in ("", "asc", "desc"):
            raise ApiError(400, "Request_UnsupportedQuery", f"Sorting by '{order}' is not supported.")
        descending = direction.lower() == "desc"
    offset = decode_skiptoken(req.query.get("$skiptoken"))
    store = req.sb.store
    if flt is None and order is None and ids is None:
        # The common unfiltered listing pages in SQL, so a 20,000-principal tenant stays cheap.
        marks = ",".join("?" * len(otypes))
        counted = store.row(f"SELECT COUNT(*) FROM directory_objects WHERE type IN ({marks})", otypes)
        total = int(counted[0]) if counted is not None else 0
        rows = store.rows(f"SELECT type, doc FROM directory_objects WHERE type IN ({marks}) ORDER BY seq "
                          "LIMIT ? OFFSET ?", [*otypes, size, offset])
        page = [(r["type"], _parsed(r["doc"])) for r in rows]
    else:
        matched = [(t, d) for t, d in fetch_objects(req, otypes, ids, flt) if flt is None or flt.predicate(d)]
        if order is not None:
            matched.sort(key=lambda td: (td[1].get("displayName") or "").lower(), reverse=descending)
        total = len(matched)
        page = matched[offset : offset + size]
    body: dict[str, Any] = {"@odata.context": context_url(req.sb.graph_base, fragment + (
        f"({','.join(select)})" if select else ""), req.version)}
    if want_count:
        body["@odata.count"] = total
    if offset + size < total:
        params = [(k, v) for k, v in req.raw_query if k.lstrip("$").lower() != "skiptoken"]
        params.append(("$skiptoken", encode_skiptoken(offset + size)))
        body["@odata.nextLink"] = f"{req.base}{req.path}?{encode_query(params)}"
    body["value"] = [render(d, t, select=select, with_type=with_type) for t, d in page]
    return ok(body)


def count_objects(req: GraphRequest, otypes: tuple[str, ...], ids: list[str] | None = None) -> GraphResponse:
    """`/{collection}/$count`: a plain-text number; needs ConsistencyLevel: eventual like `$count=true`."""
    if not req.eventual:
        raise bad_request("Count is not currently supported.")
    flt = parse_filter(req.query["$filter"], otypes) if req.query.get("$filter") else None
    n = sum(1 for _, d in fetch_objects(req, otypes, ids, flt) if flt is None or flt.predicate(d))
    return GraphResponse(200, str(n), {"Content-Type": "text/plain"})


def strings(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"Invalid value specified for property '{name}': a collection of strings is "
                          "expected.")
    return list(value)


def paged(req: GraphRequest, docs: list[dict[str, Any]], fragment: str) -> GraphResponse:
    """A collection that is not of directory objects (role assignments, app role assignments,
    federated credentials) paged as Graph pages: `$top` (1..999, default the sandbox's page size) and
    an `@odata.nextLink` carrying an opaque `$skiptoken` while more remain."""
    size = page_size(req.query, req.sb.settings.page_size)
    offset = decode_skiptoken(req.query.get("$skiptoken"))
    body: dict[str, Any] = {"@odata.context": context_url(req.sb.graph_base, fragment, req.version)}
    if offset + size < len(docs):
        params = [(k, v) for k, v in req.raw_query if k.lstrip("$").lower() != "skiptoken"]
        params.append(("$skiptoken", encode_skiptoken(offset + size)))
        body["@odata.nextLink"] = f"{req.base}{req.path}?{encode_query(params)}"
    body["value"] = docs[offset : offset + size]
    return ok(body)
