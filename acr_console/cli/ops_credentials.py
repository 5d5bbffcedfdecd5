"""`reset-credential`, `add-certificate`, `remove-credential`: credentials of an existing principal."""

from __future__ import annotations

import argparse

from rich.text import Text

from ..models import CredentialOwner
from ..operations import AddCertificateRequest, Outcome, ResetCredentialRequest, certificate_result, credential_result
from ..operations.registry import ADD_CERTIFICATE, REMOVE_CREDENTIAL, RESET_CREDENTIAL
from .ops_common import (
    Report,
    WriteCommand,
    _console,
    add_commands,
    add_secret_flags,
    delivered,
    print_error,
    print_result_json,
    saved,
    undelivered,
)

_ON = {"application": CredentialOwner.APPLICATION, "service-principal": CredentialOwner.SERVICE_PRINCIPAL}


def reset_arguments(r: argparse.ArgumentParser) -> None:
    r.add_argument("principal", metavar="SP", help="appId, object id or exact display name")
    r.add_argument("--replace", action="store_true",
                   help="remove the existing passwords on the chosen object once the new one exists")
    r.add_argument("--on", choices=sorted(_ON), default="application",
                   help="which object holds the password (default: application)")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--years", type=int, metavar="N", help="lifetime in years (default 1)")
    g.add_argument("--end-date", metavar="D", help="end date (YYYY-MM-DD or ISO 8601; UTC if no zone)")
    r.add_argument("--display-name", metavar="T", help="the new password's display name")
    add_secret_flags(r)


def reset_report(args: argparse.Namespace, req: ResetCredentialRequest) -> Report:
    def report(outcome: Outcome) -> int:
        doc = credential_result(outcome.plan)
        problem = undelivered(outcome)
        if problem:
            print_error(problem)
        if args.json:
            return print_result_json({**doc, **({"passwordFile": args.out} if saved(outcome) else {})}, outcome,
                                     args.hand_over)
        console = _console(args)
        if doc.get("keyId") and not delivered(outcome):
            console.print(Text(f"  new password: key id {doc.get('keyId')}, hint '{doc.get('hint')}…', "
                               f"expires {doc.get('endDateTime')}", style="dim"))
        if saved(outcome):
            console.print(Text(f"  the password is in {args.out} (mode 0600)", style="dim"))
        return outcome.exit_code

    return report


def certificate_arguments(a: argparse.ArgumentParser) -> None:
    a.add_argument("principal", metavar="SP", help="appId, object id or exact display name")
    src = a.add_mutually_exclusive_group(required=True)
    src.add_argument("--file", metavar="PATH", help="a PEM, CRT/DER or PEM-with-key file (only the public "
                     "certificate is uploaded)")
    src.add_argument("--generate", action="store_true", help="generate a self-signed RSA certificate")
    a.add_argument("--out", metavar="PATH", help="with --generate: new file for key and certificate (mode 0600)")
    a.add_argument("--years", type=int, metavar="N", help="with --generate: validity in years (default 1)")
    a.add_argument("--display-name", metavar="T", help="the key credential's display name")
    a.add_argument("--proof", metavar="PATH", help="PEM with key and certificate of a certificate already on the "
                   "application: add through Graph's atomic addKey")


def certificate_report(args: argparse.Namespace, req: AddCertificateRequest) -> Report:
    def report(outcome: Outcome) -> int:
        doc = certificate_result(outcome.plan)
        if args.json:
            return print_result_json(doc, outcome)
        console = _console(args)
        for key in ("thumbprint", "subject", "notBefore", "notAfter", "keyId", "certificateFile"):
            if doc.get(key):
                console.print(Text(f"  {key}: ", style="dim") + Text(str(doc[key])))
        return outcome.exit_code

    return report


def remove_arguments(d: argparse.ArgumentParser) -> None:
    d.add_argument("principal", metavar="SP", help="appId, object id or exact display name")
    d.add_argument("key_id", metavar="KEYID", help="the credential's key id (see 'acr-console principal SP')")


COMMANDS = (
    WriteCommand(RESET_CREDENTIAL, "add a new password (and optionally remove the old ones)", reset_arguments,
                 json_help="print the result as JSON (includes the password, unless --out is given)",
                 convert={"on": _ON.__getitem__},
                 needs_secret_destination=lambda req: True, report=reset_report),
    WriteCommand(ADD_CERTIFICATE, "add a certificate to a principal's application, keeping the others",
                 certificate_arguments, report=certificate_report),
    WriteCommand(REMOVE_CREDENTIAL, "remove one password or certificate by key id", remove_arguments),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_commands(sub, COMMANDS)
