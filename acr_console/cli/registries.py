"""`acr-console registries`: every registry across the selected subscriptions."""

from __future__ import annotations

import argparse

from ..azure.clients import AzureClients
from ..azure.registries import list_registries
from ..errors import EXIT_FAILED, EXIT_OK
from ..models import Registry
from ..presentation import mode_label, mode_style
from .output import print_json, print_warning, stdout_console


def registry_json(reg: Registry, subscription_name: str | None = None) -> dict[str, object]:
    return {
        "name": reg.name,
        "loginServer": reg.login_server,
        "resourceGroup": reg.resource_group,
        "subscriptionId": reg.subscription_id,
        "subscriptionName": subscription_name,
        "sku": reg.sku,
        "adminUserEnabled": reg.admin_user_enabled,
        "mode": reg.role_assignment_mode.short,
        "location": reg.location,
        "id": reg.id,
    }


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("registries", help="list container registries across the selected subscriptions")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace, az: AzureClients) -> int:
    listing = await list_registries(az)
    names = {s.id: s.display_name for s in listing.subscriptions}
    for sub_id, err in listing.errors.items():
        print_warning(f"subscription {names.get(sub_id, sub_id)}: {err}")
    if args.json:
        print_json([registry_json(r, names.get(r.subscription_id)) for r in listing.registries])
    else:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        console = stdout_console()
        # At 80 columns the login server (usually NAME.azurecr.io) is the column to give up.
        wide = console.width >= 100
        table = Table(title=f"{len(listing.registries)} registries", title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False, collapse_padding=True)
        table.add_column("Subscription", no_wrap=True, overflow="ellipsis", max_width=20)
        table.add_column("Name", no_wrap=True, min_width=15)
        if wide:
            table.add_column("Login server", no_wrap=True)
        table.add_column("Resource group", no_wrap=True, overflow="ellipsis", max_width=18)
        table.add_column("SKU", no_wrap=True, min_width=8)
        table.add_column("Mode", no_wrap=True, min_width=4)
        table.add_column("Admin", no_wrap=True, min_width=5)
        previous = None
        for r in listing.registries:
            sub_name = names.get(r.subscription_id, r.subscription_id)
            cells = [
                Text(sub_name if sub_name != previous else ""), Text(r.name),
                *([Text(r.login_server)] if wide else []), Text(r.resource_group), Text(r.sku),
                Text(mode_label(r.role_assignment_mode, short=True), style=mode_style(r.role_assignment_mode)),
                Text("ON", style="bold yellow") if r.admin_user_enabled else Text("off", style="dim"),
            ]
            previous = sub_name
            table.add_row(*cells)
        console.print(table)
    return EXIT_FAILED if listing.errors and not listing.registries else EXIT_OK
