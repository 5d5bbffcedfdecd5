"""`acr-console principal SP` and `acr-console expiring`: one principal in full, and the radar of
credentials that expired or expire soon."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from ..azure.authorization import RoleDefinitions
from ..azure.clients import AzureClients
from ..azure.principals import ExpiringCredential, read_expiring, read_principal_detail
from ..errors import EXIT_OK, EXIT_USAGE
from ..models import Credential, PrincipalDetail
from ..operations.validation import check_reference
from ..presentation import expiry_text, owner_short, role_cell, scope_label, short_id, shown
from .output import print_error, print_json, stdout_console


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("principal", help="a service principal: identity, credentials, assignments, groups")
    p.add_argument("principal", metavar="SP", help="appId, object id or exact display name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_principal)
    e = sub.add_parser("expiring", help="credentials that expired or expire soon, of principals with registry access")
    e.add_argument("--within", type=int, default=30, metavar="DAYS", help="days ahead to look (default 30)")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(handler=run_expiring)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def credential_json(c: Credential, now: datetime) -> dict[str, Any]:
    return {
        "keyId": c.key_id, "type": c.kind.value, "on": c.owner.value, "displayName": c.display_name,
        "hint": c.hint, "start": _iso(c.start), "end": _iso(c.end), "thumbprint": c.thumbprint,
        "expired": c.expired(now),
    }


def principal_json(d: PrincipalDetail, now: datetime) -> dict[str, Any]:
    p = d.principal
    return {
        "principal": {"objectId": p.object_id, "appId": p.app_id, "displayName": p.display_name,
                      "type": p.type.value, "enabled": p.enabled,
                      "applicationObjectId": p.application_object_id},
        "credentials": [credential_json(c, now) for c in d.credentials],
        "assignments": [
            {"id": a.id, "scope": a.scope, "role": d.role_names.get(a.role_guid, a.role_guid),
             "roleDefinitionId": a.role_definition_id, "principalId": a.principal_id,
             "viaGroup": a.principal_id.lower() != (p.object_id or "").lower(), "condition": a.condition}
            for a in d.assignments
        ],
        "groups": [{"objectId": g.object_id, "displayName": g.display_name} for g in d.groups],
    }


async def run_principal(args: argparse.Namespace, az: AzureClients) -> int:
    now = datetime.now(UTC)
    detail = await read_principal_detail(az, check_reference(args.principal, "principal"), RoleDefinitions(az))
    if args.json:
        print_json(principal_json(detail, now))
        return EXIT_OK
    p = detail.principal
    console = stdout_console()
    head = shown(p.display_name, style="bold")
    head.append(f"  {p.type.value}  ")
    head.append("enabled" if p.enabled else "DISABLED", style="green" if p.enabled else "bold red")
    head.append(f"\n  appId   {p.app_id}\n  object  {p.object_id}")
    if p.application_object_id:
        head.append(f"\n  application object  {p.application_object_id}")
    console.print(head)
    creds = Table(title="Credentials", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    creds.add_column("Type", no_wrap=True)
    creds.add_column("On", no_wrap=True)
    creds.add_column("Name", overflow="fold")
    creds.add_column("Hint", no_wrap=True)
    creds.add_column("Expires", no_wrap=True)
    creds.add_column("Key id", no_wrap=True)
    for c in detail.credentials:
        kind = "secret" if c.kind.value == "password" else "cert"
        on = "app" if c.owner.value == "application" else "SP"
        creds.add_row(kind, on, shown(c.display_name), shown(c.hint or short_id(c.thumbprint)),
                      expiry_text(c, now), short_id(c.key_id))
    console.print(creds)
    roles = Table(title="Role assignments", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    for col in ("Role", "Scope", "Via group"):
        roles.add_column(col, overflow="fold")
    group_names = {g.object_id: g.display_name for g in detail.groups}
    for a in detail.assignments:
        direct = a.principal_id.lower() == (p.object_id or "").lower()
        via = "" if direct else group_names.get(a.principal_id, a.principal_id)
        roles.add_row(role_cell(detail.role_names.get(a.role_guid, a.role_guid), a), scope_label(a.scope), shown(via))
    console.print(roles)
    if detail.groups:
        console.print(Text("Groups: ") + shown(", ".join(g.display_name for g in detail.groups)))
    return EXIT_OK


def expiring_json(items: list[ExpiringCredential], now: datetime) -> list[dict[str, Any]]:
    return [
        {"principal": {"objectId": x.principal.object_id, "appId": x.principal.app_id,
                       "displayName": x.principal.display_name, "type": x.principal.type.value},
         "credential": credential_json(x.credential, now), "registries": list(x.registries)}
        for x in items
    ]


async def run_expiring(args: argparse.Namespace, az: AzureClients) -> int:
    if not 0 <= args.within <= 3650:
        print_error("--within takes a number of days from 0 to 3650")
        return EXIT_USAGE
    now = datetime.now(UTC)
    items = await read_expiring(az, args.within, RoleDefinitions(az), now)
    if args.json:
        print_json(expiring_json(items, now))
        return EXIT_OK
    table = Table(title=f"{len(items)} credential(s) expired or expiring within {args.within} days",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("Principal", overflow="fold", min_width=24)
    table.add_column("Type", no_wrap=True)
    table.add_column("Expires", no_wrap=True)
    table.add_column("Registries", overflow="fold")
    for x in items:
        kind = "secret" if x.credential.kind.value == "password" else "cert"
        on = owner_short(x.credential)
        table.add_row(shown(x.principal.display_name), f"{kind} ({on})", expiry_text(x.credential, now),
                      shown(", ".join(x.registries)))
    stdout_console().print(table)
    return EXIT_OK
