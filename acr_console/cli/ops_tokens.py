"""`acr-console disable-token --registry R TOKEN` and `acr-console remove-token-password --registry R TOKEN
--password password1|password2`: registry tokens (issue 13 item 4)."""

from __future__ import annotations

import argparse

from ..operations.registry import DISABLE_TOKEN, REMOVE_TOKEN_PASSWORD
from .ops_common import WriteCommand, add_commands


def token_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--registry", metavar="R", required=True, help="registry name, login server or resource id")
    p.add_argument("token", metavar="TOKEN", help="the token's name (see 'acr-console access R')")


def password_arguments(p: argparse.ArgumentParser) -> None:
    token_arguments(p)
    p.add_argument("--password", required=True, choices=("password1", "password2"),
                   help="which of the token's two passwords to remove")


COMMANDS = (
    WriteCommand(DISABLE_TOKEN, "disable a registry token: its passwords stop signing in, its scope map and "
                 "passwords are kept (what 'az acr token update --status disabled' does)", token_arguments),
    WriteCommand(REMOVE_TOKEN_PASSWORD, "remove one password of a registry token; the other keeps working (what "
                 "'az acr token credential delete --password1' does)", password_arguments),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_commands(sub, COMMANDS)
