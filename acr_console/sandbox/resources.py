"""Microsoft.Resources reads at subscription scope: the generic resource list and the locations.

`GET /subscriptions/{sub}/resources` (and the same under a resource group) is how the Azure CLI finds
a registry when no resource group is given: `az acr show --name R`, `az acr login`, `az acr update`
and `az acr credential show` all list `$filter=resourceType eq 'Microsoft.ContainerRegistry/registries'`
and match the name themselves (azure-cli 2.91.0 `core/commands/parameters.py`
`get_resources_in_subscription`, `command_modules/acr/_utils.py` `_arm_get_resource_by_name`).
When the caller can read no registry of that name, az falls back to `R.azurecr.io` for a login; so
the list holds only what the caller may read (`{type}/read` at the resource), never a 403.

`GET /subscriptions/{sub}/locations` turns a display name into a region name:
`az group create --location "East US"` (the sample script) lists them first
(azure-cli `core/commands/parameters.py` `get_location_name_type`).

The REST shapes, `$filter` grammar, `$expand` and `$top` are those of azure-mgmt-resource 24.0.0
`resources/v2024_11_01` (`ResourcesOperations.list`, `GenericResourceExpanded`), the api-version
azure-cli 2.91.0 pins (`MGMT_RESOURCE_RESOURCES: '2024-11-01'`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import rbac
from .arm import require_subscription, resource_group_not_found
from .context import Sandbox
from .errors import ApiError
from .paging import arm_page

# The properties a generic list item carries (GenericResourceExpanded's attribute map); a resource
# provider's own `properties` are not part of it.
_GENERIC_KEYS = ("id", "name", "type", "location", "extendedLocation", "tags", "plan", "kind", "managedBy",
                 "sku", "identity")
_EXPANDABLE = ("createdTime", "changedTime", "provisioningState")

# Public Azure regions as `GET /subscriptions/{id}/locations` names them (name, displayName,
# regionalDisplayName, geographyGroup). A subset: enough for the sandbox's seeds and the samples.
REGIONS: tuple[tuple[str, str, str, str], ...] = (
    ("eastus", "East US", "(US) East US", "US"),
    ("eastus2", "East US 2", "(US) East US 2", "US"),
    ("westus", "West US", "(US) West US", "US"),
    ("westus2", "West US 2", "(US) West US 2", "US"),
    ("centralus", "Central US", "(US) Central US", "US"),
    ("northeurope", "North Europe", "(Europe) North Europe", "Europe"),
    ("westeurope", "West Europe", "(Europe) West Europe", "Europe"),
    ("uksouth", "UK South", "(Europe) UK South", "Europe"),
    ("francecentral", "France Central", "(Europe) France Central", "Europe"),
    ("germanywestcentral", "Germany West Central", "(Europe) Germany West Central", "Europe"),
    ("swedencentral", "Sweden Central", "(Europe) Sweden Central", "Europe"),
    ("southeastasia", "Southeast Asia", "(Asia Pacific) Southeast Asia", "Asia Pacific"),
    ("australiaeast", "Australia East", "(Asia Pacific) Australia East", "Asia Pacific"),
    ("japaneast", "Japan East", "(Asia Pacific) Japan East", "Asia Pacific"),
)


def invalid_filter(raw: str) -> ApiError:
    # ARM's answer to a $filter it cannot read (Azure/azure-sdk-for-net#18748 quotes it).
    return ApiError(400, "InvalidFilterInQueryString", f"Invalid $filter '{raw}' specified in the query string.")


# -- $filter -------------------------------------------------------------------------------------

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<word>[A-Za-z][\w/]*)|(?P<punct>[(),]))")
_FIELDS = ("location", "resourceType", "name", "resourceGroup")


def _resource_group(doc: dict[str, Any]) -> str:
    parts = doc["id"].split("/")
    return parts[4] if len(parts) > 4 else ""


def _field(doc: dict[str, Any], name: str) -> str:
    value = {"location": doc.get("location"), "resourceType": doc.get("type"), "name": doc.get("name"),
             "resourceGroup": _resource_group(doc)}[name]
    return str(value or "").lower()


@dataclass
class _Term:
    predicate: Predicate
    tag_name: str | None = None  # `tagName eq 'x'`: paired with a `tagValue eq` in the same `and`
    tag_value: str | None = None


@dataclass
class ResourceFilter:
    predicate: Predicate
    by_tag: bool  # "when resources are filtered by tag name and value, the original tags … will not be returned"


def parse_filter(raw: str | None) -> ResourceFilter:
    """The `$filter` of the resource list: `eq`/`ne` on location, resourceType, name, resourceGroup;
    `substringof('v', name|resourceGroup)`; `tagName eq`/`tagValue eq` (a pair in one `and` is one
    tag); `startswith(tagName, 'p')`; `and` binding tighter than `or`; parentheses. Comparisons
    ignore case, as ARM's do. Anything else is InvalidFilterInQueryString, never an unfiltered list."""
    if raw is None or not raw.strip():
        return ResourceFilter(lambda doc: True, by_tag=False)
    source: str = raw
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(source):
        if not source[pos:].strip():
            break
        m = _TOKEN.match(source, pos)
        if m is None or m.end() == pos:
            raise invalid_filter(source)
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    i = 0
    by_tag = False

    def peek() -> tuple[str, str] | None:
        return tokens[i] if i < len(tokens) else None

    def take(kind: str, text: str | None = None) -> str:
        nonlocal i
        tok = peek()
        if tok is None or tok[0] != kind or (text is not None and tok[1].lower() != text):
            raise invalid_filter(source)
        i += 1
        return tok[1]

    def string() -> str:
        return take("str")[1:-1].replace("''", "'").lower()

    def is_word(text: str) -> bool:
        tok = peek()
        return tok is not None and tok[0] == "word" and tok[1].lower() == text

    def or_expr() -> Predicate:
        nonlocal i
        parts = [and_expr()]
        while is_word("or"):
            i += 1
            parts.append(and_expr())
        return parts[0] if len(parts) == 1 else (lambda doc: any(p(doc) for p in parts))

    def and_expr() -> Predicate:
        nonlocal i
        terms = [atom()]
        while is_word("and"):
            i += 1
            terms.append(atom())
        names = [t for t in terms if t.tag_name is not None]
        values = [t for t in terms if t.tag_value is not None]
        preds = [t.predicate for t in terms if t.tag_name is None and t.tag_value is None]
        if len(names) > 1 or len(values) > 1 or (values and not names):
            raise invalid_filter(source)
        if names:
            tag, value = names[0].tag_name, values[0].tag_value if values else None
            preds.append(lambda doc: any(k.lower() == tag and (value is None or str(v).lower() == value)
                                         for k, v in (doc.get("tags") or {}).items()))
        return preds[0] if len(preds) == 1 else (lambda doc: all(p(doc) for p in preds))

    def atom() -> _Term:
        nonlocal i, by_tag
        tok = peek()
        if tok == ("punct", "("):
            i += 1
            inner = or_expr()
            take("punct", ")")
            return _Term(inner)
        name = take("word")
        low = name.lower()
        if low in ("substringof", "startswith"):
            take("punct", "(")
            if low == "substringof":
                value = string()
                take("punct", ",")
                prop = take("word")
            else:
                prop = take("word")
                take("punct", ",")
                value = string()
            take("punct", ")")
            if low == "substringof" and prop.lower() in ("name", "resourcegroup"):
                field = "name" if prop.lower() == "name" else "resourceGroup"
                return _Term(lambda doc: value in _field(doc, field))
            if low == "startswith" and prop.lower() == "tagname":
                by_tag = True
                return _Term(lambda doc: any(k.lower().startswith(value) for k in doc.get("tags") or {}))
            raise invalid_filter(source)
        op = take("word").lower()
        if op not in ("eq", "ne"):
            raise invalid_filter(source)
        value = string()
        if low in ("tagname", "tagvalue"):
            if op != "eq":
                raise invalid_filter(source)
            by_tag = True
            return _Term(lambda doc: True, tag_name=value if low == "tagname" else None,
                         tag_value=value if low == "tagvalue" else None)
        column = next((f for f in _FIELDS if f.lower() == low), None)
        if column is None:
            raise invalid_filter(source)
        known: str = column
        if op == "eq":
            return _Term(lambda doc: _field(doc, known) == value)
        return _Term(lambda doc: _field(doc, known) != value)

    predicate = or_expr()
    if i != len(tokens):
        raise invalid_filter(source)
    return ResourceFilter(predicate, by_tag)


def parse_expand(raw: str | None) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return ()
    wanted = tuple(part.strip() for part in raw.split(",") if part.strip())
    for part in wanted:
        if part not in _EXPANDABLE:
            raise ApiError(400, "InvalidExpandQueryString",
                           f"The $expand query string '{raw}' is invalid. Supported values are "
                           f"{', '.join(_EXPANDABLE)}.")
    return wanted


def generic_view(doc: dict[str, Any], expand: tuple[str, ...], *, with_tags: bool) -> dict[str, Any]:
    """A resource as the generic list shows it: no provider properties; tags unless the list was
    filtered by tag; `createdTime`, `changedTime`, `provisioningState` only when expanded."""
    out = {key: doc[key] for key in _GENERIC_KEYS if key in doc and doc[key] is not None}
    if not with_tags:
        out.pop("tags", None)
    props = doc.get("properties") or {}
    created = props.get("creationDate")
    extra = {"createdTime": created, "changedTime": created, "provisioningState": props.get("provisioningState")}
    for key in expand:
        if extra[key] is not None:
            out[key] = extra[key]
    return out


# -- routes --------------------------------------------------------------------------------------


def routes(sb: Sandbox) -> list[Route]:
    store = sb.store

    def subscription_resources(sub_id: str, rg: str | None) -> list[dict[str, Any]]:
        sql = "SELECT doc FROM resources WHERE subscription_id = ?"
        params: list[Any] = [sub_id]
        if rg is not None:
            sql += " AND resource_group_lower = ?"
            params.append(rg.lower())
        return [json.loads(row["doc"]) for row in store.rows(sql + " ORDER BY seq", params)]

    def top_of(request: Request) -> int | None:
        raw = request.query_params.get("$top")
        if raw is None:
            return None
        if not raw.isdigit() or int(raw) < 1:
            raise ApiError(400, "InvalidTopQueryString", f"The $top query string '{raw}' is invalid.")
        return int(raw)

    async def list_resources(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        sub_id = request.path_params["sub"].lower()
        rg = request.path_params.get("rg")
        require_subscription(sb, caller, sub_id)
        if rg is not None and store.resource_group(sub_id, rg) is None:
            raise resource_group_not_found(rg)
        flt = parse_filter(request.query_params.get("$filter"))
        expand = parse_expand(request.query_params.get("$expand"))
        top = top_of(request)
        rights = rbac.CallerRights(store, caller.object_id)
        items = [
            generic_view(doc, expand, with_tags=not flt.by_tag)
            for doc in subscription_resources(sub_id, rg)
            if flt.predicate(doc) and rights.permitted(doc["id"], f"{doc['type']}/read")
        ]
        size = min(top, sb.settings.page_size) if top else sb.settings.page_size
        return JSONResponse(arm_page(request, sb.base_url, items, size))

    async def list_locations(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        sub_id = request.path_params["sub"].lower()
        require_subscription(sb, caller, sub_id)
        value = [
            {"id": f"/subscriptions/{sub_id}/locations/{name}", "name": name, "type": "Region",
             "displayName": display, "regionalDisplayName": regional,
             "metadata": {"regionType": "Physical", "regionCategory": "Recommended", "geographyGroup": geo}}
            for name, display, regional, geo in REGIONS
        ]
        return JSONResponse({"value": value})

    return [
        Route("/subscriptions/{sub}/resources", list_resources, methods=["GET"]),
        Route("/subscriptions/{sub}/resourceGroups/{rg}/resources", list_resources, methods=["GET"]),
        Route("/subscriptions/{sub}/locations", list_locations, methods=["GET"]),
    ]
