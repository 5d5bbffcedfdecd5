"""`acr-console test-login`: run the registry's token flow with a principal's credentials, as
`docker login` would, and show the actions actually granted. Not a write: allowed in read-only mode."""

from __future__ import annotations

import argparse
import getpass
import sys

from rich.text import Text

from ..azure.clients import AzureClients
from ..azure.errors import AzureCallError
from ..azure.registry_access import find_registry
from ..azure.registry_token import TokenResult, try_registry_login, valid_scope
from ..errors import EXIT_NOT_PERMITTED, EXIT_OK, EXIT_USAGE
from ..operations.validation import check_reference
from ..secret import Secret
from .output import print_error, print_json, stdout_console


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("test-login", help="prove a credential works against a registry (the docker login token flow)")
    p.add_argument("registry", metavar="REGISTRY", help="registry name, login server or resource id")
    p.add_argument("--username", required=True, metavar="APPID", help="the principal's appId")
    p.add_argument("--password-stdin", action="store_true", required=True,
                   help="read the secret from standard input (never from the command line)")
    p.add_argument("--scope", action="append", default=[], metavar="SCOPE",
                   help="token scope to ask for, e.g. repository:NAME:pull,push (repeatable)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("secret: ")
    return sys.stdin.readline().rstrip("\r\n")


async def run(args: argparse.Namespace, az: AzureClients) -> int:
    try:
        ref = check_reference(args.registry, "registry")
        username = check_reference(args.username, "username")
    except ValueError as err:
        print_error(str(err))
        return EXIT_USAGE
    bad = [s for s in args.scope if not valid_scope(s)]
    if bad:
        print_error(f"--scope {bad[0]!r} is not a registry scope; use e.g. repository:NAME:pull,push or "
                    "registry:catalog:*")
        return EXIT_USAGE
    password = Secret(_read_password())
    if not password.reveal():
        print_error("no secret on standard input")
        return EXIT_USAGE
    # A login server needs no Resource Manager read: support engineers often have no ARM rights.
    login_server = ref.lower() if "." in ref and "/" not in ref else (await find_registry(az, ref)).login_server
    try:
        result = await try_registry_login(az, login_server, username, password, tuple(args.scope))
    except AzureCallError as err:
        if args.json:
            print_json({"loginServer": login_server, "username": username, "ok": False,
                        "error": {"code": err.code, "message": err.message, "status": err.status}})
        else:
            print_error(str(err))
        return EXIT_NOT_PERMITTED if err.status in (401, 403) else err.exit_code
    _report(args, result)
    return EXIT_OK if not result.missing else EXIT_NOT_PERMITTED


def _report(args: argparse.Namespace, result: TokenResult) -> None:
    if args.json:
        print_json(result.to_json())
        return
    console = stdout_console()
    console.print(Text(f"{result.username} signed in to {result.login_server}", style="bold green"))
    if not result.granted:
        console.print(Text("  token granted no repository actions" + ("" if result.scopes else
                                                                       " (no --scope asked for)"), style="dim"))
    for g in result.granted:
        console.print(Text(f"  {g.type}:{g.name}: ") + Text(", ".join(g.actions) or "(none)", style="cyan"))
    if result.missing:
        console.print(Text(f"  not granted: {', '.join(result.missing)}", style="bold red"))
