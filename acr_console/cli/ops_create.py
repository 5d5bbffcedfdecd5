"""`acr-console create-principal`: a new service principal with a credential and one role on one registry."""

from __future__ import annotations

import argparse
from typing import Any

from rich.text import Text

from ..operations import CreatePrincipalRequest, Outcome, create_result
from ..operations.registry import CREATE_PRINCIPAL
from .ops_assign import add_repository_option
from .ops_common import (
    Report,
    WriteCommand,
    _console,
    add_commands,
    add_secret_flags,
    print_error,
    print_result_json,
    saved,
    undelivered,
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", required=True, help="display name of the new application")
    p.add_argument("--registry", required=True, metavar="R", help="registry name, login server or resource id")
    p.add_argument("--role", required=True,
                   help="AcrPull, AcrPush, AcrDelete (legacy registries) or Container Registry Repository "
                   "Reader/Writer/Contributor/Catalog Lister (ABAC registries)")
    p.add_argument("--certificate", metavar="generate|PATH",
                   help="sign in with a certificate: 'generate' a self-signed one (key and certificate go to --out), "
                   "or the path of a public certificate (PEM, CRT/DER); default: a password")
    add_repository_option(p)  # issue 16
    g = p.add_mutually_exclusive_group()
    g.add_argument("--years", type=int, metavar="N", help="credential lifetime in years (default 1)")
    g.add_argument("--end-date", metavar="D", help="credential end date (YYYY-MM-DD or ISO 8601; UTC if no zone)")
    add_secret_flags(p)


def report(args: argparse.Namespace, req: CreatePrincipalRequest) -> Report:
    def report(outcome: Outcome) -> int:
        doc = create_result(outcome.plan)
        problem = undelivered(outcome)
        if problem:
            print_error(problem)
        if args.json:
            return print_result_json({**doc, **({"passwordFile": args.out} if saved(outcome) else {})}, outcome,
                                     args.hand_over)
        console = _console(args)
        for key, value in doc.items():
            if value is not None:
                console.print(Text(f"  {key}: ", style="dim") + Text(str(value)))
        if saved(outcome):
            console.print(Text(f"  the password is in {args.out} (mode 0600)", style="dim"))
        elif req.certificate == "generate" and args.out and outcome.results.get("save-certificate") and \
                outcome.results["save-certificate"].ok:
            console.print(Text(f"  certificate and private key: {args.out} (mode 0600)", style="dim"))
        if not outcome.ok and doc.get("appId"):
            # Half a principal is still a principal: say exactly what exists and how to remove it.
            console.print(Text("What exists now: ", style="bold yellow") + Text(", ".join(existing(doc))))
            console.print(Text(f"To remove it: acr-console revoke {doc['appId']} --all-registries "
                               "--remove-credentials --disable --delete-application", style="dim"))
        return outcome.exit_code

    return report


def existing(doc: dict[str, Any]) -> list[str]:
    parts = [f"application {doc['applicationObjectId']} (appId {doc['appId']})"]
    if doc.get("servicePrincipalObjectId"):
        parts.append(f"service principal {doc['servicePrincipalObjectId']}")
    if doc.get("passwordKeyId"):
        parts.append(f"password key id {doc['passwordKeyId']}")
    if doc.get("thumbprint"):
        parts.append(f"certificate {doc['thumbprint']}")
    return parts


COMMANDS = (
    WriteCommand(CREATE_PRINCIPAL, "create a service principal with access to one registry", arguments,
                 json_help="print the result as JSON (includes the password, unless --out is given)",
                 needs_secret_destination=lambda req: req.certificate is None, report=report,
                 convert={"repositories": tuple}),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_commands(sub, COMMANDS)
