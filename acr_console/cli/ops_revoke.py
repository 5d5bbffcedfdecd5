"""`acr-console revoke`: take a principal's registry access away, as a plan with a result per step."""

from __future__ import annotations

import argparse

from ..operations.registry import REVOKE
from .ops_common import WriteCommand, add_commands


def arguments(p: argparse.ArgumentParser) -> None:
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


COMMANDS = (
    WriteCommand(REVOKE, "remove a principal's access to a registry or to every visible registry", arguments),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_commands(sub, COMMANDS)
