"""Directory objects as Microsoft Graph v1.0 shapes them, shared by the Graph routes and the seeds."""

from __future__ import annotations

import secrets
import string
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from .store import Store

# Graph's default lifetime for addPassword without an endDateTime.
DEFAULT_PASSWORD_LIFETIME = timedelta(days=730)
_SECRET_ALPHABET = string.ascii_letters + string.digits + "~._-"


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_secret() -> str:
    """40 characters, the length Entra issues today; the first three become the hint."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def new_application(
    store: Store, display_name: str, *, object_id: str | None = None, app_id: str | None = None,
    created: float | None = None, tags: list[str] | None = None,
) -> dict[str, Any]:
    created = created if created is not None else time.time()
    doc: dict[str, Any] = {
        "id": object_id or str(uuid.uuid4()),
        "appId": (app_id or str(uuid.uuid4())).lower(),
        "displayName": display_name,
        "createdDateTime": iso(datetime.fromtimestamp(created, UTC)),
        "signInAudience": "AzureADMyOrg",
        "tags": tags or [],
        "identifierUris": [],
        "passwordCredentials": [],
        "keyCredentials": [],
    }
    store.put_object(doc, "application", created)
    return doc


def new_service_principal(
    store: Store, app: dict[str, Any], *, object_id: str | None = None, enabled: bool = True,
    sp_type: str = "Application", created: float | None = None,
) -> dict[str, Any]:
    created = created if created is not None else time.time()
    doc: dict[str, Any] = {
        "id": object_id or str(uuid.uuid4()),
        "appId": app["appId"],
        "displayName": app["displayName"],
        "accountEnabled": enabled,
        "servicePrincipalType": sp_type,
        "servicePrincipalNames": [app["appId"]],
        "appOwnerOrganizationId": store.tenant_id,
        "createdDateTime": iso(datetime.fromtimestamp(created, UTC)),
        "tags": [],
        "passwordCredentials": [],
        "keyCredentials": [],
    }
    store.put_object(doc, "servicePrincipal", created)
    return doc


def add_password(
    store: Store, owner: dict[str, Any], owner_type: str, *, display_name: str | None = None,
    start: datetime | None = None, end: datetime | None = None, secret: str | None = None,
) -> tuple[dict[str, Any], str]:
    """Append a password credential to an application or service principal; returns it and its secret."""
    secret = secret or new_secret()
    start = start or datetime.now(UTC)
    end = end or start + DEFAULT_PASSWORD_LIFETIME
    cred = {
        "customKeyIdentifier": None,
        "displayName": display_name,
        "endDateTime": iso(end),
        "hint": secret[:3],
        "keyId": str(uuid.uuid4()),
        "secretText": None,
        "startDateTime": iso(start),
    }
    with store.transaction():
        owner.setdefault("passwordCredentials", []).append(cred)
        store.put_object(owner, owner_type, time.time())
        store.add_password_hash(cred["keyId"], owner["id"], secret)
    return cred, secret


def remove_password(store: Store, owner: dict[str, Any], owner_type: str, key_id: str) -> bool:
    before = len(owner.get("passwordCredentials", []))
    owner["passwordCredentials"] = [c for c in owner.get("passwordCredentials", []) if c["keyId"] != key_id]
    if len(owner["passwordCredentials"]) == before:
        return False
    with store.transaction():
        store.put_object(owner, owner_type, time.time())
        store.remove_password_hash(key_id)
    return True
