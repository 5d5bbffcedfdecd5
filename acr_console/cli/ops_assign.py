"""`assign` and `unassign`: one data role on one registry for an existing principal."""

from __future__ import annotations

import argparse

from ..operations.registry import ASSIGN, UNASSIGN
from .ops_common import WriteCommand, add_commands


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("principal", metavar="SP", help="appId, object id or exact display name")
    p.add_argument("--registry", required=True, metavar="R", help="registry name, login server or resource id")
    p.add_argument("--role", required=True, help="role name, e.g. AcrPull or Container Registry Repository Reader")


COMMANDS = (
    WriteCommand(ASSIGN, "give a principal a role on a registry", arguments),
    WriteCommand(UNASSIGN, "take a principal's role on a registry away", arguments),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_commands(sub, COMMANDS)
