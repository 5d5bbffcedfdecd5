"""`assign` and `unassign`: one data role on one registry for an existing principal."""

from __future__ import annotations

import argparse

from ..azure.clients import AzureClients
from ..operations import plan_assign, plan_unassign
from ..operations.assign import check_any_role
from ..operations.validation import check_role_name
from .ops_common import add_write_flags, generic_report, run_write


def add_parser(sub: argparse._SubParsersAction) -> None:
    for name, helptext, handler in (("assign", "give a principal a role on a registry", run_assign),
                                    ("unassign", "take a principal's role on a registry away", run_unassign)):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("principal", metavar="SP", help="appId, object id or exact display name")
        p.add_argument("--registry", required=True, metavar="R", help="registry name, login server or resource id")
        p.add_argument("--role", required=True, help="role name, e.g. AcrPull or Container Registry Repository Reader")
        add_write_flags(p)
        p.set_defaults(handler=handler)


async def run_assign(args: argparse.Namespace, az: AzureClients) -> int:
    return await run_write(args, az, lambda: plan_assign(az, args.principal, args.registry, args.role),
                           generic_report(args), check=lambda: check_role_name(args.role))


async def run_unassign(args: argparse.Namespace, az: AzureClients) -> int:
    return await run_write(args, az, lambda: plan_unassign(az, args.principal, args.registry, args.role),
                           generic_report(args), check=lambda: check_any_role(args.role))
