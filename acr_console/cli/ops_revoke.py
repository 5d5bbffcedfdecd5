"""`acr-console revoke`: take a principal's registry access away, as a plan with a result per step."""

from __future__ import annotations

import argparse

from ..azure.clients import AzureClients
from ..operations import RevokeRequest, check_revoke, plan_revoke
from .ops_common import add_write_flags, generic_report, run_write


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("revoke", help="remove a principal's access to a registry or to every visible registry")
    p.add_argument("principal", metavar="SP", help="appId, object id or exact display name")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--registry", metavar="R", help="registry name, login server or resource id")
    where.add_argument("--all-registries", action="store_true", help="every registry visible to you")
    p.add_argument("--include-broader-scopes", action="store_true",
                   help="also delete its assignments at resource-group, subscription or higher scope that grant "
                   "registry rights (they reach beyond registries)")
    p.add_argument("--remove-credentials", action="store_true",
                   help="remove every password and certificate on its application and service principal")
    p.add_argument("--disable", action="store_true", help="disable sign-in (accountEnabled false)")
    p.add_argument("--delete-application", action="store_true",
                   help="finally delete the application (soft delete, restorable for 30 days)")
    add_write_flags(p)
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace, az: AzureClients) -> int:
    req = RevokeRequest(principal=args.principal, registry=args.registry, all_registries=args.all_registries,
                        include_broader_scopes=args.include_broader_scopes, remove_credentials=args.remove_credentials,
                        disable=args.disable, delete_application=args.delete_application)
    return await run_write(args, az, lambda: plan_revoke(az, req), generic_report(args),
                           check=lambda: check_revoke(req))
