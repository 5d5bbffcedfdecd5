"""Owners of applications and service principals: `GET …/owners`, `POST …/owners/$ref`,
`DELETE …/owners/{id}/$ref`.

Sources: learn.microsoft.com/graph/api/application-list-owners, application-post-owners ("Application
owners can be individual users, the associated service principal, or another service principal";
body `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}`, 204 No Content;
"Application.ReadWrite.OwnedBy isn't sufficient to add another owner"), application-delete-owners,
serviceprincipal-list-owners, serviceprincipal-post-owners, serviceprincipal-delete-owners. The list is
a collection of directoryObject, so each item names its type in `@odata.type` (the examples'
"#microsoft.graph.user").
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError
from .graph_core import (
    READ_APPS,
    GraphRequest,
    GraphResponse,
    body_object,
    check_guid,
    list_objects,
    load,
    no_content,
    not_found,
    require,
)
from .graph_odata import bad_request
from .store import Store

OWNER_TYPES = ("user", "servicePrincipal")
# Adding or removing an owner: Application.ReadWrite.All (OwnedBy is not enough, the pages above) or
# Directory.ReadWrite.All for an application's token; a person must be allowed to manage the object.
WRITE_OWNERS = frozenset({"Application.ReadWrite.All", "Directory.ReadWrite.All"})


def owner_ids(store: Store, object_id: str) -> list[str]:
    return [r["owner_id"] for r in store.rows(
        "SELECT owner_id FROM directory_owners WHERE object_id = ? ORDER BY rowid", (object_id,))]


def add_owner(store: Store, object_id: str, owner_id: str) -> bool:
    """False when it already owns it."""
    return store.execute("INSERT OR IGNORE INTO directory_owners(object_id, owner_id) VALUES (?,?)",
                         (object_id, owner_id)) > 0


def with_expanded_owners(req: GraphRequest, target: dict[str, Any], resp: GraphResponse) -> GraphResponse:
    """`GET /applications/{id}?$expand=owners` (and on a service principal): the owners inline, each with
    its `@odata.type`, at most 20 and no nextLink (learn.microsoft.com/graph/known-issues, `$expand`
    on directory objects: "returns a maximum of 20 objects. No support for @odata.nextLink"; no
    nested query options). On an application `federatedIdentityCredentials` expands too (at most 20
    exist). Several navigations may be named, comma-separated; an unknown one is Graph's 400."""
    from .graph_core import fetch_objects
    from .graph_federated import credentials
    from .graph_groups import EXPAND_LIMIT
    from .graph_odata import render

    expand = req.query.get("$expand")
    if expand is None:
        return resp
    otype = req.sb.store.object_type(target["id"]) or "application"
    for name in (n.strip() for n in expand.split(",")):
        if name == "owners":
            owners = list(fetch_objects(req, OWNER_TYPES, owner_ids(req.sb.store, target["id"]), None))
            resp.body["owners"] = [render(d, t, with_type=True) for t, d in owners[:EXPAND_LIMIT]]
        elif name == "federatedIdentityCredentials" and otype == "application":
            resp.body["federatedIdentityCredentials"] = credentials(req.sb.store, target["id"])
        else:
            raise bad_request(f"Could not find a property named '{name}' on type 'microsoft.graph.{otype}'.")
    return resp


def _owned(req: GraphRequest, otype: str) -> dict[str, Any]:
    return load(req, req.params["id"], otype)


def _may_change(req: GraphRequest, target: dict[str, Any]) -> None:
    from . import graph_roles

    if req.caller.kind == "app":
        require(req, WRITE_OWNERS)
    elif not graph_roles.may_write_credentials(req.sb.store, req.caller, target):
        # The same people who manage an app's credentials manage its owners: its owners and the
        # application administrator roles (permissions-reference: microsoft.directory/applications/owners/update).
        raise graph_roles.denied()


def _list_handler(otype: str) -> Any:
    async def handler(req: GraphRequest) -> GraphResponse:
        require(req, READ_APPS) if req.caller.kind == "app" else None
        target = _owned(req, otype)
        return list_objects(req, OWNER_TYPES, "directoryObjects", ids=owner_ids(req.sb.store, target["id"]),
                            with_type=True)

    return handler


def _add_handler(otype: str) -> Any:
    async def handler(req: GraphRequest) -> GraphResponse:
        from .graph_groups import _parse_bind

        body = body_object(req)
        owner_id = _parse_bind(body.get("@odata.id"), "@odata.id")
        store = req.sb.store
        with store.transaction():
            target = _owned(req, otype)
            _may_change(req, target)
            kind = store.object_type(owner_id)
            if kind is None:
                raise not_found(owner_id)
            if kind not in OWNER_TYPES:
                raise bad_request(f"An object of type '{kind}' cannot be an owner of an {otype}.")
            if not add_owner(store, target["id"], owner_id):
                raise bad_request("One or more added object references already exist for the following modified "
                                  "properties: 'owners'.")
        return no_content()

    return handler


def _remove_handler(otype: str) -> Any:
    async def handler(req: GraphRequest) -> GraphResponse:
        owner_id = check_guid(req.params["owner"])
        store = req.sb.store
        with store.transaction():
            target = _owned(req, otype)
            _may_change(req, target)
            if store.execute("DELETE FROM directory_owners WHERE object_id = ? AND owner_id = ?",
                             (target["id"], owner_id)) == 0:
                raise ApiError(404, "Request_ResourceNotFound",
                               f"Resource '{owner_id}' does not exist or one of its queried reference-property "
                               "objects are not present.")
        return no_content()

    return handler


def routes() -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    for collection, otype in (("applications", "application"), ("servicePrincipals", "servicePrincipal")):
        out += [
            ("GET", f"{collection}/{{id}}/owners", _list_handler(otype)),
            ("POST", f"{collection}/{{id}}/owners/$ref", _add_handler(otype)),
            ("DELETE", f"{collection}/{{id}}/owners/{{owner}}/$ref", _remove_handler(otype)),
        ]
    return out
