"""`acr-console disable-admin-user --registry R`: turn a registry's admin user off (issue 16)."""

from __future__ import annotations

import argparse

from ..operations.registry import DISABLE_ADMIN_USER
from .ops_common import WriteCommand, add_commands


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--registry", metavar="R", required=True, help="registry name, login server or resource id")


COMMANDS = (
    WriteCommand(DISABLE_ADMIN_USER, "disable a registry's admin user, so its passwords stop signing in "
                 "(what 'az acr update --admin-enabled false' does)", arguments),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_commands(sub, COMMANDS)
