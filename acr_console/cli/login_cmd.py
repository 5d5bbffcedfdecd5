"""`acr-console login` and `logout`: sign in now and keep the sign-in, or forget it.

Only device code and browser sign-ins are kept by the console (azure/token_store.py); the Azure CLI
keeps its own (`az login`/`az logout`), and a secret, the environment or a managed identity sign in
afresh in every command, with nothing on disk. (`test-login`, ops_login.py, is unrelated: it tries a
principal's credentials against a registry.)
"""

from __future__ import annotations

import argparse

from ..azure.clients import AzureClients
from ..azure.connection import AuthMethod, Connection
from ..azure.credentials import token_identity
from ..azure.token_store import token_store
from ..errors import EXIT_OK, UsageError
from .output import print_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help="sign in now (device code or browser) and keep the sign-in for later commands")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_login)
    p = sub.add_parser("logout", help="forget the kept sign-in (record and token cache) of this tenant and cloud")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_logout)


def _refuse_cli(conn: Connection, command: str) -> None:
    if conn.auth.method is AuthMethod.CLI:
        raise UsageError(f"--auth cli signs in with the Azure CLI, which keeps its own sign-in: run `az {command}` "
                         f"instead (or `acr-console --auth device-code {command}`)")


def _nothing_kept(conn: Connection) -> str:
    if conn.auth.method in (AuthMethod.DEVICE_CODE, AuthMethod.BROWSER):
        return "tokens are kept in memory only (--no-token-cache or token_cache = \"memory\"): nothing is on disk"
    return f"{conn.sign_in_label} sign-in caches nothing on disk: every command signs in afresh"


async def run_login(args: argparse.Namespace, az: AzureClients) -> int:
    conn = az.connection
    _refuse_cli(conn, "login")
    store = token_store(conn)
    identity = await token_identity(az.credential, conn.cloud.arm_scope)
    who = identity.name or identity.app_id or identity.object_id or "unknown"
    description = store.describe() if store is not None else None
    if args.json:
        print_json({
            "signedInAs": who, "tenantId": identity.tenant_id, "objectId": identity.object_id,
            "signIn": conn.sign_in_label,
            "record": str(store.record_path) if store is not None else None,
            "tokenCache": description.location if description is not None else None,
            "encrypted": description.encrypted if description is not None else None,
        })
        return EXIT_OK
    print(f"Signed in as {who} (tenant {identity.tenant_id}) with {conn.sign_in_label}.")
    if store is None or description is None:
        print(f"Nothing kept: {_nothing_kept(conn)}.")
    else:
        print(f"Sign-in record: {store.record_path}")
        print(description.text[0].upper() + description.text[1:] + ".")
        print("Later commands sign in silently until the sign-in expires; `acr-console logout` forgets it.")
    return EXIT_OK


async def run_logout(args: argparse.Namespace, az: AzureClients) -> int:
    conn = az.connection
    _refuse_cli(conn, "logout")
    store = token_store(conn)
    removed = store.forget() if store is not None else []
    if args.json:
        print_json({"removed": removed, "signIn": conn.sign_in_label})
        return EXIT_OK
    if store is None:
        print(f"Nothing to forget: {_nothing_kept(conn)}.")
    elif removed:
        print("Removed: " + "; ".join(removed) + ".")
    else:
        print(f"Nothing to forget: no sign-in kept for {conn.sign_in_label} at {store.authority} "
              f"(tenant {store.tenant}).")
    return EXIT_OK
