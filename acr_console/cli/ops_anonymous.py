"""`acr-console disable-anonymous-pull --registry R`: turn a registry's anonymous pull off (issue 13)."""

from __future__ import annotations

import argparse

from ..operations.registry import DISABLE_ANONYMOUS_PULL
from .ops_common import WriteCommand, add_commands


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--registry", metavar="R", required=True, help="registry name, login server or resource id")


COMMANDS = (
    WriteCommand(DISABLE_ANONYMOUS_PULL, "turn anonymous pull off on a registry, so that pulling needs a credential "
                 "(what 'az acr update --anonymous-pull-enabled false' does)", arguments),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_commands(sub, COMMANDS)
