"""Writes to Microsoft Graph v1.0 (applications, service principals, credentials), and the few
single-object reads a write needs to know whether it is already done.

Requests take Graph's one request path (graph.graph_request), which keeps msgraph's middleware and
reads the answers natively: the `request-id` header is the audit log's correlation id, and
`secretText` goes straight into a `Secret` without an object model holding it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ..certificates import CertificateInfo
from ..models import CredentialOwner
from ..secret import Secret
from .clients import AzureClients
from .errors import AzureCallError
from .graph import GraphReply, graph_get_or_none, graph_pages, graph_request
from .retry import REPLICATION, retrying
from .writes import Receipt

# Creating a service principal for an application made moments ago waits this long for the
# directory to replicate the application (the Azure CLI waits 36 × 5 s).
SP_CREATE_TIMEOUT_S = 180.0


def _segment(owner: CredentialOwner) -> str:
    return "applications" if owner is CredentialOwner.APPLICATION else "servicePrincipals"


def graph_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def graph_call(az: AzureClients, method: str, path: str, params: dict[str, str] | None = None,
                     body: Any = None) -> GraphReply:
    """A Graph request from a write's code: anything but a GET is a write (refused in read-only
    mode; a broken connection leaves its effect unknown). Raises AzureCallError on 4xx/5xx."""
    return await graph_request(az, method, path, params, body, write=method.upper() != "GET")


# -- reads a write needs ---------------------------------------------------------------------


async def get_application(az: AzureClients, object_id: str) -> dict[str, Any] | None:
    return await graph_get_or_none(az, f"applications/{object_id}")


async def get_service_principal(az: AzureClients, object_id: str) -> dict[str, Any] | None:
    return await graph_get_or_none(az, f"servicePrincipals/{object_id}")


async def get_credential_owner(az: AzureClients, owner: CredentialOwner, object_id: str) -> dict[str, Any] | None:
    return await graph_get_or_none(az, f"{_segment(owner)}/{object_id}")


async def applications_named(az: AzureClients, display_name: str) -> list[dict[str, Any]]:
    """Applications whose display name is exactly `display_name` (Graph compares case-insensitively)."""
    escaped = display_name.replace("'", "''")
    reply = await graph_call(az, "GET", "applications", {"$filter": f"displayName eq '{escaped}'",
                                                          "$select": "id,appId,displayName,tags,createdDateTime,"
                                                                     "passwordCredentials,keyCredentials"})
    return list((reply.body or {}).get("value", []))


async def service_principal_for_app(az: AzureClients, app_id: str) -> dict[str, Any] | None:
    reply = await graph_call(az, "GET", "servicePrincipals", {"$filter": f"appId eq '{app_id}'"})
    hits = (reply.body or {}).get("value", [])
    return hits[0] if hits else None


async def key_credentials_of(az: AzureClients, owner: CredentialOwner, object_id: str) -> list[dict[str, Any]]:
    """A single object's keyCredentials with `key` included (Graph returns it only on $select)."""
    doc = await graph_get_or_none(az, f"{_segment(owner)}/{object_id}", {"$select": "id,keyCredentials"})
    if doc is None:
        raise AzureCallError("Request_ResourceNotFound", f"the {owner.value} {object_id} no longer exists", 404)
    return list(doc.get("keyCredentials") or [])


# -- applications and service principals -----------------------------------------------------


async def create_application(az: AzureClients, display_name: str, *, tags: list[str] | None = None,
                             key_credentials: list[dict[str, Any]] | None = None) -> tuple[dict[str, Any], Receipt]:
    body: dict[str, Any] = {"displayName": display_name, "signInAudience": "AzureADMyOrg", "tags": tags or []}
    if key_credentials:
        body["keyCredentials"] = key_credentials
    reply = await graph_call(az, "POST", "applications", body=body)
    return reply.body, reply.receipt


async def create_service_principal(
    az: AzureClients, app_id: str, *, timeout_s: float = SP_CREATE_TIMEOUT_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[dict[str, Any], Receipt]:
    async def create() -> tuple[dict[str, Any], Receipt]:
        reply = await graph_call(az, "POST", "servicePrincipals", body={"appId": app_id, "accountEnabled": True})
        return reply.body, reply.receipt

    # Graph's refusal while the application replicates is keyed on its message, never on the status:
    # 403 Authorization_RequestDenied today, 400 in older answers (see errors._NOT_REPLICATED_MESSAGES).
    try:
        return await retrying(create, backoff=REPLICATION, deadline_s=timeout_s, sleep=sleep,
                              retry_on=lambda exc: isinstance(exc, AzureCallError) and exc.not_replicated)
    except AzureCallError as err:
        if err.not_replicated:
            err.message += (f" (the application was still not replicated after {timeout_s:.0f} s; "
                            "run the same command again later: it finishes what is missing)")
        raise


async def set_account_enabled(az: AzureClients, sp_object_id: str, enabled: bool) -> Receipt:
    reply = await graph_call(az, "PATCH", f"servicePrincipals/{sp_object_id}", body={"accountEnabled": enabled})
    return reply.receipt


async def delete_application(az: AzureClients, object_id: str) -> Receipt:
    """Soft-deletes the application (restorable for 30 days); already gone counts as done."""
    try:
        return (await graph_call(az, "DELETE", f"applications/{object_id}")).receipt
    except AzureCallError as err:
        if err.not_found:
            return Receipt(err.correlation_id, already=True)
        raise


# -- passwords -------------------------------------------------------------------------------


async def add_password(az: AzureClients, owner: CredentialOwner, object_id: str, *, display_name: str | None,
                       end: datetime, start: datetime | None = None) -> tuple[dict[str, Any], Secret, Receipt]:
    """A new password credential; returns its metadata (without the secret), the secret, the receipt."""
    cred: dict[str, Any] = {"displayName": display_name, "endDateTime": graph_time(end)}
    if start is not None:
        cred["startDateTime"] = graph_time(start)
    try:
        reply = await graph_call(az, "POST", f"{_segment(owner)}/{object_id}/addPassword",
                                 body={"passwordCredential": cred})
    except AzureCallError as err:
        if err.code == "ConnectionFailed":
            # A secret may now exist that nobody received: say how to recognise it.
            err.message += (f". If it took effect, the {owner.value} has a password named '{display_name}' ending "
                            f"{cred['endDateTime']} whose secret was never received: running the same plan again "
                            "removes it; otherwise remove it by its key id (see 'acr-console principal')")
        raise
    doc = dict(reply.body or {})
    text = doc.pop("secretText", None)
    if not text:
        raise AzureCallError("NoSecretReturned", f"Graph added password {doc.get('keyId')} but returned no secret; "
                         "remove that key id and try again", reply.status, reply.request_id)
    return doc, Secret(text), reply.receipt


def unanswered_passwords(passwords: list[dict[str, Any]], *, display_name: str | None, end: datetime,
                         known: set[str]) -> list[str]:
    """Key ids of passwords an earlier addPassword with these parameters created although its answer
    (and so its secret) never arrived: same display name, same end to the second, not known before."""
    wanted = graph_time(end)[:19]
    return [str(p["keyId"]) for p in passwords
            if p.get("displayName") == display_name and str(p.get("endDateTime") or "")[:19] == wanted
            and str(p.get("keyId")).lower() not in known]


async def remove_password(az: AzureClients, owner: CredentialOwner, object_id: str, key_id: str) -> Receipt:
    try:
        reply = await graph_call(az, "POST", f"{_segment(owner)}/{object_id}/removePassword", body={"keyId": key_id})
    except AzureCallError as err:
        # Graph answers 404 (or 400 naming the key) for a key id that is no longer there.
        if err.not_found or (err.status == 400 and key_id in err.message):
            return Receipt(err.correlation_id, already=True)
        raise
    return reply.receipt


# -- certificates ----------------------------------------------------------------------------


def key_credential(cert: CertificateInfo, *, key_id: str | None = None, display_name: str | None = None,
                   start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
    """A keyCredential for a public certificate; its dates never reach beyond the certificate's."""
    start = max(start or cert.not_before, cert.not_before)
    end = min(end or cert.not_after, cert.not_after)
    return {
        "keyId": key_id or str(uuid.uuid4()),
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
        "key": cert.public_der_b64,
        "displayName": display_name or cert.subject[:120],
        "customKeyIdentifier": cert.custom_key_identifier,
        "startDateTime": graph_time(start),
        "endDateTime": graph_time(end),
    }


async def set_key_credentials(az: AzureClients, owner: CredentialOwner, object_id: str,
                              creds: list[dict[str, Any]]) -> Receipt:
    """PATCH the whole keyCredentials collection (Graph replaces it: pass every key to keep)."""
    reply = await graph_call(az, "PATCH", f"{_segment(owner)}/{object_id}", body={"keyCredentials": creds})
    return reply.receipt


class ConcurrentChange(AzureCallError):
    """Someone else changed the keys between this console's read and write."""


async def append_key_credential(az: AzureClients, owner: CredentialOwner, object_id: str,
                                new: dict[str, Any]) -> Receipt:
    """Add one certificate and keep every existing one: read, append, write, read again.

    Graph has no append for keyCredentials without a proof from an existing key (see add_key), and
    a PATCH replaces the collection (Azure/azure-cli#32467 lost certificates that way). The second
    read catches a concurrent writer that removed a key or dropped ours, and says so.
    """
    existing = await key_credentials_of(az, owner, object_id)
    if any(c.get("keyId") == new["keyId"] for c in existing):
        return Receipt(already=True)
    receipt = await set_key_credentials(az, owner, object_id, [*existing, new])
    after = {c.get("keyId") for c in await key_credentials_of(az, owner, object_id)}
    lost = [c.get("keyId") for c in existing if c.get("keyId") not in after]
    if new["keyId"] not in after or lost:
        what = f"keys {', '.join(str(k) for k in lost)} disappeared" if lost else "the new key is not there"
        raise ConcurrentChange("ConcurrentChange", f"the {owner.value}'s certificates changed while this one was "
                               f"being added ({what}); read them again and retry", 409, receipt.correlation_id)
    return receipt


async def add_key(az: AzureClients, app_object_id: str, new: dict[str, Any], proof: str) -> tuple[dict, Receipt]:
    """Graph's atomic append (no read-modify-write race), proven by a JWT signed with a certificate
    the application already has."""
    body = {"keyCredential": {k: v for k, v in new.items() if k != "keyId"}, "passwordCredential": None,
            "proof": proof}
    reply = await graph_call(az, "POST", f"applications/{app_object_id}/addKey", body=body)
    return reply.body or {}, reply.receipt


async def remove_key_credential(az: AzureClients, owner: CredentialOwner, object_id: str, key_id: str) -> Receipt:
    """Remove one certificate and keep the others (read, write without it, read again)."""
    existing = await key_credentials_of(az, owner, object_id)
    keep = [c for c in existing if str(c.get("keyId", "")).lower() != key_id.lower()]
    if len(keep) == len(existing):
        return Receipt(already=True)
    receipt = await set_key_credentials(az, owner, object_id, keep)
    after = {str(c.get("keyId", "")).lower() for c in await key_credentials_of(az, owner, object_id)}
    lost = [c.get("keyId") for c in keep if str(c.get("keyId", "")).lower() not in after]
    if key_id.lower() in after or lost:
        raise ConcurrentChange("ConcurrentChange", f"the {owner.value}'s certificates changed while {key_id} was "
                               "being removed; read them again and retry", 409, receipt.correlation_id)
    return receipt


async def groups_of(az: AzureClients, kind: str, object_id: str, *, transitive: bool) -> list[dict[str, Any]]:
    """Groups a service principal or group belongs to (directly, or through nesting)."""
    relation = "transitiveMemberOf" if transitive else "memberOf"
    docs = await graph_pages(az, f"{kind}/{object_id}/{relation}", {"$select": "id,displayName"})
    return [d for d in docs if str(d.get("@odata.type", "")).endswith("group")]
