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
from ..errors import EXIT_NOT_PERMITTED, EXIT_OK, EXIT_USAGE, InputError
from ..operations.validation import check_reference
from ..secret import Secret
from .output import print_error, print_json, stdout_console

# The longest secret read from standard input. An Entra client secret is 16–64 characters (Microsoft
# Graph, passwordCredential: secretText); registry token and admin passwords are of that order; the
# longest password `docker login` takes for a registry is an ACR refresh token (user
# 00000000-0000-0000-0000-000000000000, from `az acr login --expose-token`), a JWT of a few KB.
# 8 KiB holds all of them, and its Basic header (base64, ~11 KB) stays under the 16,384 bytes a
# header field may be by default behind HTTP.sys (MaxFieldLength, "Http.sys registry settings for
# Windows"). Anything longer is not a secret (a file piped by mistake) and is refused unsent.
MAX_SECRET_CHARS = 8192


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
    """The secret's first line, at most MAX_SECRET_CHARS long; InputError otherwise. Read as bytes and
    no further than the limit allows: a 10 MB file on standard input is refused without being read."""
    if sys.stdin.isatty():
        text = getpass.getpass("secret: ")
    elif not hasattr(sys.stdin, "buffer"):  # a text stream with no bytes beneath (a program embedding main())
        text = sys.stdin.readline(MAX_SECRET_CHARS + 2).rstrip("\r\n")
    else:
        most = 4 * MAX_SECRET_CHARS  # bytes: UTF-8 takes at most 4 a character
        data = sys.stdin.buffer.readline(most + 1).rstrip(b"\r\n")
        if len(data) > most:
            raise InputError(_TOO_LONG)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("the secret on standard input is not UTF-8 text") from None
    if len(text) > MAX_SECRET_CHARS:
        raise InputError(_TOO_LONG)
    return text


_TOO_LONG = (f"the secret on standard input is longer than {MAX_SECRET_CHARS:,} characters, so it is not a client "
             "secret, registry password or token (Entra secrets are 16–64): pipe only the secret")


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
    try:
        password = Secret(_read_password())
    except InputError as err:
        print_error(str(err))
        return EXIT_USAGE
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
