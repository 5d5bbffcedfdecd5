"""federatedIdentityCredentials of applications: list, create, get, delete.

Sources: learn.microsoft.com/graph/api/resources/federatedidentitycredential (audiences "can only
accept a single value and has a limit of 600 characters", `api://AzureADTokenExchange` for Entra;
issuer and subject "limit of 600 characters", "The combination of the values of issuer and subject
must be unique within the app"; name "limit of 120 characters and must be URL friendly … immutable",
an alternate key), learn.microsoft.com/graph/api/application-post-federatedidentitycredentials
("Maximum of 20 objects can be added to an application"; 201 Created with the object) and
learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations ("A maximum of 20
federated identity credentials can be added to an application"; the name's characters: "3-120
characters … alphanumeric, dash, or underscore … the first character must be alphanumeric", stated
there for managed identities and applied here to applications too).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from .errors import ApiError
from .graph_core import READ_APPS, GraphRequest, GraphResponse, body_object, load, no_content, ok, require
from .graph_odata import bad_request, context_url
from .store import Store

LIMIT = 20
MAX_TEXT = 600
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")
_FIELDS = ("name", "issuer", "subject", "audiences", "description")


def credentials(store: Store, application_id: str) -> list[dict[str, Any]]:
    return [json.loads(r["doc"]) for r in store.rows(
        "SELECT doc FROM federated_credentials WHERE application_id = ? ORDER BY rowid", (application_id,))]


def add_credential(store: Store, application_id: str, name: str, issuer: str, subject: str,
                   audiences: list[str] | None = None, description: str | None = None,
                   credential_id: str | None = None) -> dict[str, Any]:
    """Store one (seeds and the POST handler, which validates first)."""
    doc = {"id": credential_id or str(uuid.uuid4()), "name": name, "issuer": issuer, "subject": subject,
           "description": description, "audiences": audiences or ["api://AzureADTokenExchange"]}
    store.execute("INSERT INTO federated_credentials(id, application_id, doc) VALUES (?,?,?)",
                  (doc["id"], application_id, json.dumps(doc)))
    return doc


def _may_write(req: GraphRequest, app: dict[str, Any]) -> None:
    from . import graph_roles

    # Anyone who may add a secret to the app may add a federated credential (considerations page:
    # "Anyone with permissions to create an app registration and add a secret or certificate can add a
    # federated identity credential to an app").
    graph_roles.require_credential_writer(req, app)


def _text(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"Property '{name}' is required and must be a non-empty string.")
    if len(value) > limit:
        raise bad_request(f"Property '{name}' has a value longer than its limit of {limit} characters.")
    return value


def _validate(body: dict[str, Any]) -> tuple[str, str, str, list[str], str | None]:
    unknown = [k for k in body if k not in _FIELDS and k != "id"]
    if unknown:
        raise bad_request(f"Property '{unknown[0]}' does not exist on type "
                          "'microsoft.graph.federatedIdentityCredential'.")
    name = _text(body, "name", 120)
    if not _NAME.match(name):
        raise bad_request(f"Invalid value specified for property 'name': '{name}'. It must be 3 to 120 characters "
                          "of letters, digits, '-' or '_', starting with a letter or digit.")
    issuer = _text(body, "issuer", MAX_TEXT)
    subject = _text(body, "subject", MAX_TEXT)
    audiences = body.get("audiences")
    if not isinstance(audiences, list) or not all(isinstance(a, str) and a for a in audiences):
        raise bad_request("Property 'audiences' is required: a collection of one string.")
    if len(audiences) != 1:
        raise bad_request("Property 'audiences' accepts a single value.")
    if len(audiences[0]) > MAX_TEXT:
        raise bad_request(f"Property 'audiences' has a value longer than its limit of {MAX_TEXT} characters.")
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_TEXT):
        raise bad_request(f"Property 'description' must be a string of at most {MAX_TEXT} characters.")
    return name, issuer, subject, audiences, description


def _find(req: GraphRequest, app: dict[str, Any]) -> dict[str, Any]:
    key = req.params["fic"]
    m = re.match(r"^\(name='([^']*)'\)$", key) or re.match(r"^name='([^']*)'$", key)
    for doc in credentials(req.sb.store, app["id"]):
        if (m is not None and doc["name"] == m.group(1)) or doc["id"] == key.lower():
            return doc
    raise ApiError(404, "Request_ResourceNotFound", f"Resource '{key}' does not exist or one of its queried "
                   "reference-property objects are not present.")


async def list_federated(req: GraphRequest) -> GraphResponse:
    require(req, READ_APPS) if req.caller.kind == "app" else None
    app = load(req, req.params["id"], "application")
    docs = credentials(req.sb.store, app["id"])
    flt = req.query.get("$filter")
    if flt:
        m = re.match(r"^\s*(name|subject|issuer)\s+eq\s+'([^']*)'\s*$", flt)
        if m is None:
            raise ApiError(400, "Request_UnsupportedQuery", f"Unsupported query: '{flt}'.")
        docs = [d for d in docs if d[m.group(1)] == m.group(2)]
    return ok({"@odata.context": context_url(req.sb.graph_base,
                                             f"applications('{app['id']}')/federatedIdentityCredentials", req.version),
               "value": docs})


async def get_federated(req: GraphRequest) -> GraphResponse:
    require(req, READ_APPS) if req.caller.kind == "app" else None
    app = load(req, req.params["id"], "application")
    doc = _find(req, app)
    return ok({"@odata.context": context_url(
        req.sb.graph_base, f"applications('{app['id']}')/federatedIdentityCredentials/$entity", req.version), **doc})


async def post_federated(req: GraphRequest) -> GraphResponse:
    store = req.sb.store
    body = body_object(req)
    with store.transaction():
        app = load(req, req.params["id"], "application")
        _may_write(req, app)
        name, issuer, subject, audiences, description = _validate(body)
        existing = credentials(store, app["id"])
        if any(d["name"] == name for d in existing):
            raise ApiError(409, "Request_MultipleObjectsWithSameKeyValue",
                           f"FederatedIdentityCredential with name {name} already exists.")
        if any(d["issuer"] == issuer and d["subject"] == subject for d in existing):
            raise ApiError(409, "Request_MultipleObjectsWithSameKeyValue",
                           "FederatedIdentityCredential with the same issuer and subject already exists.")
        if len(existing) >= LIMIT:
            raise bad_request(f"An application can have at most {LIMIT} federated identity credentials.")
        doc = add_credential(store, app["id"], name, issuer, subject, audiences, description)
    return ok({"@odata.context": context_url(
        req.sb.graph_base, f"applications('{app['id']}')/federatedIdentityCredentials/$entity", req.version), **doc},
        status=201)


async def delete_federated(req: GraphRequest) -> GraphResponse:
    store = req.sb.store
    with store.transaction():
        app = load(req, req.params["id"], "application")
        _may_write(req, app)
        doc = _find(req, app)
        store.execute("DELETE FROM federated_credentials WHERE id = ?", (doc["id"],))
    return no_content()


def routes() -> list[tuple[str, str, Any]]:
    return [
        ("GET", "applications/{id}/federatedIdentityCredentials", list_federated),
        ("POST", "applications/{id}/federatedIdentityCredentials", post_federated),
        ("GET", "applications/{id}/federatedIdentityCredentials/{fic}", get_federated),
        ("DELETE", "applications/{id}/federatedIdentityCredentials/{fic}", delete_federated),
    ]
