"""`assign` and `unassign`: one data role on one registry for an existing principal."""

from __future__ import annotations

import argparse

from ..operations.registry import ASSIGN, UNASSIGN
from .ops_common import WriteCommand, add_commands

REPOSITORY_HELP = ("limit a Container Registry Repository Reader/Writer/Contributor role to a repository "
                   "('team/web') or every repository under a prefix ('team/'); repeatable; ABAC registries only "
                   "(the assignment carries Microsoft's documented ABAC condition)")


def add_repository_option(p: argparse.ArgumentParser) -> None:
    """`--repository PREFIX`, repeatable, into the request's `repositories` (issue 16)."""
    p.add_argument("--repository", dest="repositories", action="append", default=[], metavar="REPO",
                   help=REPOSITORY_HELP)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("principal", metavar="SP", help="appId, object id or exact display name")
    p.add_argument("--registry", required=True, metavar="R", help="registry name, login server or resource id")
    p.add_argument("--role", required=True, help="role name, e.g. AcrPull or Container Registry Repository Reader")
    add_repository_option(p)


def unassign_arguments(p: argparse.ArgumentParser) -> None:
    # Issue 16: or one assignment by its id, which never looks the principal up, so an assignment
    # whose principal was deleted ("not returned by the directory") can be removed.
    p.add_argument("principal", metavar="SP", nargs="?", default="", help="appId, object id or exact display name")
    p.add_argument("--registry", default="", metavar="R", help="registry name, login server or resource id")
    p.add_argument("--role", default="", help="role name, e.g. AcrPull or Container Registry Repository Reader")
    p.add_argument("--assignment-id", metavar="ID", default=None,
                   help="instead of SP, --registry and --role: one role assignment by its resource id "
                        "(works when its principal was deleted)")


COMMANDS = (
    WriteCommand(ASSIGN, "give a principal a role on a registry", arguments, convert={"repositories": tuple}),
    WriteCommand(UNASSIGN, "take a principal's role on a registry away", unassign_arguments),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_commands(sub, COMMANDS)
