"""Directory objects as Microsoft Graph v1.0 shapes them, shared by the Graph routes and the seeds."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import string
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509

from .store import Store

# Graph's default lifetime for addPassword without an endDateTime.
DEFAULT_PASSWORD_LIFETIME = timedelta(days=730)
_SECRET_ALPHABET = string.ascii_letters + string.digits + "~._-"
# The tenant that owns every managed identity's application (Microsoft's first-party tenant).
MANAGED_IDENTITY_OWNER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """An ISO 8601 instant as Graph accepts it (`Z` or an offset, up to 7 fraction digits); a value
    without an offset is UTC. Raises ValueError."""
    text = value.strip()
    if "." in text:
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = head + "." + tail[: min(digits, 6)] + tail[digits:] if digits else head + tail
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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


def managed_identity_doc(
    display_name: str, *, object_id: str, app_id: str, resource_id: str, created: float,
) -> dict[str, Any]:
    """A user-assigned managed identity's service principal. Its application lives in Microsoft's
    tenant, not the customer's, and it has no credentials anyone can read: it gets tokens from the
    Azure host it runs on."""
    return {
        "id": object_id,
        "appId": app_id.lower(),
        "displayName": display_name,
        "accountEnabled": True,
        "servicePrincipalType": "ManagedIdentity",
        "servicePrincipalNames": [app_id.lower(), f"https://identity.azure.net/{_b64_digest(resource_id)}"],
        "alternativeNames": ["isExplicit=True", resource_id],
        "appOwnerOrganizationId": MANAGED_IDENTITY_OWNER_TENANT,
        "createdDateTime": iso(datetime.fromtimestamp(created, UTC)),
        "tags": [],
        "passwordCredentials": [],
        "keyCredentials": [],
    }


def _b64_digest(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.lower().encode()).digest()).decode()


def new_group(
    store: Store, display_name: str, *, object_id: str | None = None, description: str | None = None,
    mail_nickname: str | None = None, created: float | None = None,
) -> dict[str, Any]:
    created = created if created is not None else time.time()
    doc = group_doc(display_name, object_id=object_id or str(uuid.uuid4()), description=description,
                    mail_nickname=mail_nickname, created=created)
    store.put_object(doc, "group", created)
    return doc


def group_doc(
    display_name: str, *, object_id: str, description: str | None = None, mail_nickname: str | None = None,
    created: float, security_enabled: bool = True, mail_enabled: bool = False,
    group_types: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "id": object_id,
        "displayName": display_name,
        "description": description,
        "mailNickname": mail_nickname or "".join(c for c in display_name if c.isalnum() or c in "-_.")
        or "group",
        "mailEnabled": mail_enabled,
        "securityEnabled": security_enabled,
        "groupTypes": group_types or [],
        "createdDateTime": iso(datetime.fromtimestamp(created, UTC)),
        "visibility": None,
    }


def add_member(store: Store, group_id: str, member_id: str) -> bool:
    """False when `member_id` already was a direct member."""
    return store.execute("INSERT OR IGNORE INTO group_members(group_id, member_id) VALUES (?, ?)",
                         (group_id, member_id)) > 0


def remove_member(store: Store, group_id: str, member_id: str) -> bool:
    return store.execute("DELETE FROM group_members WHERE group_id = ? AND member_id = ?",
                         (group_id, member_id)) > 0


def grant_directory_permissions(store: Store, principal_id: str, permissions: Iterable[str]) -> None:
    """Application permissions on Microsoft Graph, as an admin's consent would give them; they appear
    in the `roles` claim of the principal's next Graph token."""
    store.executemany("INSERT OR REPLACE INTO directory_grants(principal_id, permission) VALUES (?,?)",
                      [(principal_id, p) for p in permissions])


def delete_object(store: Store, object_id: str) -> None:
    """Remove a directory object with its secrets and memberships. Role assignments naming it stay
    behind, as in Azure, where they show up as "Unknown" principals."""
    with store.transaction():
        store.execute("DELETE FROM directory_objects WHERE id = ?", (object_id,))
        store.execute("DELETE FROM password_hashes WHERE owner_id = ?", (object_id,))
        store.execute("DELETE FROM group_members WHERE group_id = ? OR member_id = ?", (object_id, object_id))
        store.execute("DELETE FROM directory_grants WHERE principal_id = ?", (object_id,))
        # Ownership, Entra role assignments, app role assignments and federated credentials go with
        # the object (Graph lists none of them for a deleted object).
        store.execute("DELETE FROM directory_owners WHERE object_id = ? OR owner_id = ?", (object_id, object_id))
        store.execute("DELETE FROM directory_role_assignments WHERE principal_id = ?", (object_id,))
        store.execute("DELETE FROM app_role_assignments WHERE principal_id = ? OR resource_id = ?",
                      (object_id, object_id))
        store.execute("DELETE FROM federated_credentials WHERE application_id = ?", (object_id,))


def add_password(
    store: Store, owner: dict[str, Any], owner_type: str, *, display_name: str | None = None,
    start: datetime | None = None, end: datetime | None = None, secret: str | None = None,
    key_id: str | None = None,
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
        "keyId": key_id or str(uuid.uuid4()),
        "secretText": None,
        "startDateTime": iso(start),
    }
    with store.transaction():
        owner.setdefault("passwordCredentials", []).append(cred)
        store.put_object(owner, owner_type, time.time())
        store.add_password_hash(str(cred["keyId"]), owner["id"], secret)
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


def check_password(store: Store, owners: list[dict[str, Any]], secret: str, now: float | None = None) -> str:
    """"ok", "invalid" (no stored hash matches) or "expired" (it matches a credential out of its dates).

    Secrets are looked up on the application and the service principal alike: Entra accepts both
    (Azure/azure-cli#23843 is the confusion that causes)."""
    match = store.match_password([o["id"] for o in owners], secret)
    if match is None:
        return "invalid"
    owner_id, key_id = match
    owner = next(o for o in owners if o["id"] == owner_id)
    cred = next((c for c in owner.get("passwordCredentials", []) if c.get("keyId") == key_id), None)
    if cred is None:
        return "invalid"
    now = time.time() if now is None else now
    end = cred.get("endDateTime")
    if end and parse_time(end).timestamp() <= now:
        return "expired"
    return "ok"


# -- certificates ---------------------------------------------------------------------------


class InvalidKey(ValueError):
    """A keyCredential's `key` that is not a base64 DER (or PEM) X.509 certificate."""


def decode_key(key_b64: str) -> bytes:
    """The bytes of a keyCredential's `key` (Edm.Binary) in every form Graph takes.

    Graph's JSON carries binary as base64, and the Azure CLI sends a certificate's PEM body as is:
    base64 wrapped with a line break every 64 characters (`az ad sp credential reset --create-cert`
    and `--cert`, azure-cli 2.91.0 role/custom.py `_build_key_credentials`; the Azure documentation's
    service-principal scenario relies on Graph accepting it). Whitespace is therefore ignored, and
    the URL-safe alphabet (RFC 4648 §5, what OData's JSON format uses for Edm.Binary) is accepted
    with or without padding. Anything else raises InvalidKey."""
    text = "".join(key_b64.split())
    if not text:
        raise InvalidKey("the key is empty")
    if "-" in text or "_" in text:
        if "+" in text or "/" in text:
            raise InvalidKey("the key mixes the base64 and base64url alphabets")
        text = text.replace("-", "+").replace("_", "/")
    text = text.rstrip("=")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey("the key is not valid base64") from None


def load_certificate(key_b64: str) -> x509.Certificate:
    """The X.509 certificate in a keyCredential's `key`: base64 (see decode_key) of its DER, or of a
    PEM file. Raises InvalidKey for anything that does not parse as a certificate."""
    raw = decode_key(key_b64)
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except ValueError:
        raise InvalidKey("the key is not an X.509 certificate") from None


def thumbprints(cert: x509.Certificate) -> tuple[bytes, bytes]:
    """(SHA-1, SHA-256) digests of the certificate's DER: the `x5t` and `x5t#S256` a client sends."""
    from cryptography.hazmat.primitives import serialization

    der = cert.public_bytes(serialization.Encoding.DER)
    return hashlib.sha1(der).digest(), hashlib.sha256(der).digest()


def custom_key_identifier(cert: x509.Certificate) -> str:
    """Graph's default customKeyIdentifier: the certificate's SHA-1 thumbprint as 40 upper-case hex
    characters.

    The keyCredential page says it "defaults to the thumbprint of the certificate", and the how-to
    `concepts/applications-how-to-add-certificate.md` shows it as `"customKeyIdentifier":
    "BB5D1064437D8720A5C53078185E6A361A78B10A"` (microsoftgraph/microsoft-graph-docs-contrib; the
    value quoted in microsoftgraph/msgraph-sdk-java#1823 has the same form). Base64 of the digest
    was AAD Graph's manifest `$base64Thumbprint`, not what Microsoft Graph returns. SDK models that
    type the property as base64 bytes therefore decode it to 30 meaningless bytes; readers that want
    the thumbprint must take the text as it comes."""
    return thumbprints(cert)[0].hex().upper()


def certificate_credential(
    cert: x509.Certificate, *, key_id: str | None = None, display_name: str | None = None,
    start: datetime | None = None, end: datetime | None = None,
) -> dict[str, Any]:
    """A keyCredential as stored: the certificate's DER in `key`, dates within its validity."""
    from cryptography.hazmat.primitives import serialization

    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    return {
        "customKeyIdentifier": custom_key_identifier(cert),
        "displayName": display_name or cert.subject.rfc4514_string(),
        "endDateTime": iso(end or not_after),
        "key": base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode(),
        "keyId": key_id or str(uuid.uuid4()),
        "startDateTime": iso(start or not_before),
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
    }
