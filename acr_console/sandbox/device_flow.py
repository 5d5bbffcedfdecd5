"""The device authorization grant's state: pending codes, the sandbox's user, refresh tokens.

Kept in the sandbox's SQLite store, not in the server's memory, so `acr-console sandbox approve` can
approve or decline a code from another process while the server runs (SQLite in WAL mode takes one
writer at a time and waits up to 5 s for the lock). Free of server imports (no starlette, no uvicorn):
the launcher imports it to approve a code without starting anything.

The protocol is Microsoft's "OAuth 2.0 device authorization grant"
(learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code, MicrosoftDocs/entra-docs
docs/identity-platform/v2-oauth2-device-code.md); the HTTP side is in entra_device.py.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..roles import builtin_by_name
from .launcher import DeviceCodeRefused
from .seed import assign
from .store import Store

# Microsoft's first-party public clients that sign users in with a device code. azure-identity's
# DeviceCodeCredential defaults to the Azure CLI's (azure/identity/_constants.py,
# DEVELOPER_SIGN_ON_CLIENT_ID); they exist in every tenant without an app registration of its own.
PUBLIC_CLIENTS = {
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Microsoft Azure CLI",
    "1950a258-227b-4e31-a9cf-717495945fc2": "Microsoft Azure PowerShell",
}
# The letters of a user code: upper case and digits, as Entra's codes are (the doc's "FRWQDE7YL"),
# without the ones people confuse (0/O, 1/I).
_USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
USER_CODE_LENGTH = 9
# Entra's refresh tokens for public clients live 90 days (learn.microsoft.com/entra/identity-platform/
# refresh-tokens, "Token lifetime").
REFRESH_TOKEN_LIFETIME_S = 90 * 86400
# Seconds of scheduling slack a poll may come early by before it is "too fast" (MSAL waits exactly
# `interval` seconds between polls, msal/oauth2cli/oauth2.py obtain_token_by_device_flow).
_POLL_SLACK_S = 0.05
ADMIN_USER_NAME = "admin"

_SCHEMA = (
    # device_code is a bearer secret: only its hash is kept. The user code is what a person types.
    """CREATE TABLE IF NOT EXISTS device_codes(
        device_code_hash TEXT PRIMARY KEY, user_code TEXT NOT NULL UNIQUE, client_id TEXT NOT NULL,
        scope TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL, interval REAL NOT NULL,
        last_poll REAL, state TEXT NOT NULL, user_id TEXT)""",
    """CREATE TABLE IF NOT EXISTS refresh_tokens(
        token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, client_id TEXT NOT NULL,
        created REAL NOT NULL, expires REAL NOT NULL)""",
)


@dataclass(frozen=True)
class Poll:
    """What one poll of the token endpoint found: `outcome` is "approved" (then `user_id` is set),
    "authorization_pending", "slow_down", "expired_token", "authorization_declined",
    "bad_verification_code" or "redeemed"."""

    outcome: str
    user_id: str | None = None
    scope: str = ""
    interval: int = 5


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def ensure_schema(store: Store) -> None:
    for statement in _SCHEMA:
        store.execute(statement)


def tenant_domain(store: Store) -> str:
    """The tenant's initial domain, `<name>.onmicrosoft.com` as Entra names it."""
    return f"{store.get_meta('tenant_name') or 'sandbox'}.onmicrosoft.com"


def admin_upn(store: Store) -> str:
    return f"{ADMIN_USER_NAME}@{tenant_domain(store)}"


def ensure_admin_user(store: Store) -> dict[str, Any]:
    """The sandbox's person: `admin@<domain>`, a Graph user object with Owner on every subscription
    (so ARM reads and writes work as that user). Made on first use, so no seed changes shape."""
    user_id = str(uuid.uuid5(uuid.UUID(store.tenant_id), "sandbox-admin-user"))
    from .graph_roles import GLOBAL_ADMINISTRATOR, assign_role, holds_tenant_role

    existing = store.object(user_id, "user")
    if existing is not None:
        if not holds_tenant_role(store, user_id, {GLOBAL_ADMINISTRATOR}):
            assign_role(store, GLOBAL_ADMINISTRATOR, user_id)  # a data folder made before Entra roles
        return existing
    owner = builtin_by_name("Owner")
    assert owner is not None
    doc = {"id": user_id, "displayName": "Sandbox Administrator", "userPrincipalName": admin_upn(store),
           "mail": None, "accountEnabled": True, "userType": "Member", "givenName": "Sandbox",
           "surname": "Administrator"}
    with store.transaction():
        store.put_object(doc, "user", time.time())
        # The person who set the tenant up is its Global Administrator (Microsoft Entra gives the
        # tenant's creator that role), so Graph lets them manage every application's credentials.
        assign_role(store, GLOBAL_ADMINISTRATOR, user_id)
        for sub in store.subscriptions():
            scope = f"/subscriptions/{sub['id']}"
            if store.find_role_assignment(scope, owner.guid, user_id) is None:
                assign(store, scope, owner.guid, user_id, "User",
                       name=str(uuid.uuid5(uuid.UUID(user_id), scope)))
    return doc


def user_by_upn(store: Store, upn: str) -> dict[str, Any] | None:
    for row in store.rows("SELECT doc FROM directory_objects WHERE type = 'user'"):
        doc = json.loads(row["doc"])
        if str(doc.get("userPrincipalName", "")).lower() == upn.strip().lower():
            return doc
    return None


def normalise_user_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_code(store: Store, client_id: str, scope: str, *, lifetime_s: int, interval_s: int) -> tuple[str, str]:
    """A new pending sign-in: (device_code, user_code)."""
    ensure_schema(store)
    now = time.time()
    device_code = secrets.token_urlsafe(96)
    for _ in range(10):
        user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
        try:
            store.execute(
                "INSERT INTO device_codes(device_code_hash, user_code, client_id, scope, created, expires, interval,"
                " last_poll, state) VALUES (?,?,?,?,?,?,?,NULL,'pending')",
                (_hash(device_code), user_code, client_id, scope, now, now + lifetime_s, float(interval_s)))
        except sqlite3.IntegrityError:
            continue  # the same user code twice: draw again
        return device_code, user_code
    raise RuntimeError("could not draw a unique user code")


def poll(store: Store, device_code: str, client_id: str) -> Poll:
    """One poll of the token endpoint with `device_code` by `client_id`."""
    ensure_schema(store)
    now = time.time()
    with store.transaction():
        row = store.row("SELECT * FROM device_codes WHERE device_code_hash = ?", (_hash(device_code),))
        if row is None or row["client_id"] != client_id:
            return Poll("bad_verification_code")
        interval = float(row["interval"])
        state = row["state"]
        if state == "redeemed":
            return Poll("redeemed")
        if state == "declined":
            return Poll("authorization_declined")
        if now >= row["expires"] and state != "approved":
            return Poll("expired_token")
        last = row["last_poll"]
        if state == "pending" and last is not None and now - last < interval - _POLL_SLACK_S:
            # RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent
            # requests", which MSAL does on its side (oauth2cli/oauth2.py, _obtain_token_by_device_flow).
            interval += 5
            store.execute("UPDATE device_codes SET last_poll = ?, interval = ? WHERE device_code_hash = ?",
                          (now, interval, row["device_code_hash"]))
            return Poll("slow_down", interval=int(interval))
        store.execute("UPDATE device_codes SET last_poll = ? WHERE device_code_hash = ?",
                      (now, row["device_code_hash"]))
        if state == "pending":
            return Poll("authorization_pending", interval=int(interval))
        store.execute("UPDATE device_codes SET state = 'redeemed' WHERE device_code_hash = ?",
                      (row["device_code_hash"],))
        return Poll("approved", user_id=row["user_id"], scope=row["scope"], interval=int(interval))


def decide(store: Store, user_code: str, *, upn: str | None, decline: bool) -> tuple[str, str]:
    """Approve (as `upn`, default the sandbox's admin) or decline a pending code, as the person at
    the verification page does. Returns (user code, UPN). Raises DeviceCodeRefused."""
    ensure_schema(store)
    code = normalise_user_code(user_code)
    if len(code) != USER_CODE_LENGTH:
        raise DeviceCodeRefused(f"'{user_code}' is not a sign-in code: codes are {USER_CODE_LENGTH} letters "
                                "and digits, as the signing-in program shows them")
    if upn is None:
        user = ensure_admin_user(store)
    else:
        found = user_by_upn(store, upn)
        if found is None:
            raise DeviceCodeRefused(f"no user '{upn}' in the sandbox's directory; the sandbox's user is "
                                    f"{admin_upn(store)}")
        user = found
    if not user.get("accountEnabled", True) and not decline:
        raise DeviceCodeRefused(f"the user '{user['userPrincipalName']}' is disabled")
    with store.transaction():
        row = store.row("SELECT state, expires FROM device_codes WHERE user_code = ?", (code,))
        if row is None:
            raise DeviceCodeRefused(f"no sign-in is waiting for the code {code}; check the code the "
                                    "signing-in program shows")
        if row["state"] != "pending":
            raise DeviceCodeRefused(f"the code {code} was already {row['state']}; start the sign-in again "
                                    "for a new code")
        if time.time() >= row["expires"]:
            raise DeviceCodeRefused(f"the code {code} has expired; start the sign-in again for a new code")
        store.execute("UPDATE device_codes SET state = ?, user_id = ? WHERE user_code = ?",
                      ("declined" if decline else "approved", user["id"], code))
    return code, str(user["userPrincipalName"])


def issue_refresh_token(store: Store, user_id: str, client_id: str) -> str:
    ensure_schema(store)
    token = secrets.token_urlsafe(64)
    now = time.time()
    store.execute("INSERT INTO refresh_tokens(token_hash, user_id, client_id, created, expires) VALUES (?,?,?,?,?)",
                  (_hash(token), user_id, client_id, now, now + REFRESH_TOKEN_LIFETIME_S))
    return token


def redeem_refresh_token(store: Store, token: str, client_id: str) -> tuple[str, str | None]:
    """("ok", user id), ("expired", None) or ("invalid", None). The old token stays valid until it
    expires, as Entra's refresh tokens for public clients do (redeeming one also returns a new one)."""
    ensure_schema(store)
    row = store.row("SELECT user_id, client_id, expires FROM refresh_tokens WHERE token_hash = ?", (_hash(token),))
    if row is None or row["client_id"] != client_id:
        return "invalid", None
    if time.time() >= row["expires"]:
        return "expired", None
    return "ok", str(row["user_id"])
