"""`reset-credential`, `add-certificate`, `remove-credential`: credentials of an existing principal."""

from __future__ import annotations

import argparse

from rich.text import Text

from ..azure.clients import AzureClients
from ..models import CredentialOwner
from ..operations import (
    AddCertificateRequest,
    Outcome,
    ResetCredentialRequest,
    certificate_result,
    check_add_certificate,
    check_reset,
    credential_result,
    plan_add_certificate,
    plan_remove_credential,
    plan_reset_credential,
)
from ..operations.validation import check_key_id
from .ops_common import (
    _console,
    add_secret_flags,
    add_write_flags,
    generic_report,
    require_secret_destination,
    run_write,
)
from .output import print_json

_ON = {"application": CredentialOwner.APPLICATION, "service-principal": CredentialOwner.SERVICE_PRINCIPAL}


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("reset-credential", help="add a new password (and optionally remove the old ones)")
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
    add_write_flags(r, json_help="print the result as JSON (includes the password)")
    r.set_defaults(handler=run_reset)

    a = sub.add_parser("add-certificate", help="add a certificate to a principal's application, keeping the others")
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
    add_write_flags(a)
    a.set_defaults(handler=run_add_certificate)

    d = sub.add_parser("remove-credential", help="remove one password or certificate by key id")
    d.add_argument("principal", metavar="SP", help="appId, object id or exact display name")
    d.add_argument("key_id", metavar="KEYID", help="the credential's key id (see 'acr-console principal SP')")
    add_write_flags(d)
    d.set_defaults(handler=run_remove)


async def run_reset(args: argparse.Namespace, az: AzureClients) -> int:
    req = ResetCredentialRequest(principal=args.principal, replace=args.replace, on=_ON[args.on], years=args.years,
                                 end_date=args.end_date, display_name=args.display_name, out=args.out)

    def check() -> None:
        require_secret_destination(args, True)
        check_reset(req)

    def report(outcome: Outcome) -> int:
        doc = credential_result(outcome.plan)
        secret = outcome.secrets.get("password")
        if args.json:
            if secret is not None:
                doc["password"] = secret.reveal()
            print_json({**doc, "ok": outcome.ok, "outcome": outcome.to_json()})
            return outcome.exit_code
        console = _console(args)
        console.print(Text(f"  new password: key id {doc.get('keyId')}, hint '{doc.get('hint')}…', "
                           f"expires {doc.get('endDateTime')}", style="dim"))
        if secret is not None and args.show_secret:
            console.print(Text("  password: ", style="dim") + Text(secret.reveal(), style="bold"))
        elif secret is not None and args.out:
            console.print(Text(f"  the password is in {args.out} (mode 0600)", style="dim"))
        return outcome.exit_code

    return await run_write(args, az, lambda: plan_reset_credential(az, req), report, check=check)


async def run_add_certificate(args: argparse.Namespace, az: AzureClients) -> int:
    req = AddCertificateRequest(principal=args.principal, file=args.file, generate=args.generate, out=args.out,
                                years=args.years, display_name=args.display_name, proof=args.proof)

    def report(outcome: Outcome) -> int:
        doc = certificate_result(outcome.plan)
        if args.json:
            print_json({**doc, "ok": outcome.ok, "outcome": outcome.to_json()})
            return outcome.exit_code
        console = _console(args)
        for key in ("thumbprint", "subject", "notBefore", "notAfter", "keyId", "certificateFile"):
            if doc.get(key):
                console.print(Text(f"  {key}: ", style="dim") + Text(str(doc[key])))
        return outcome.exit_code

    return await run_write(args, az, lambda: plan_add_certificate(az, req), report,
                           check=lambda: check_add_certificate(req))


async def run_remove(args: argparse.Namespace, az: AzureClients) -> int:
    return await run_write(args, az, lambda: plan_remove_credential(az, args.principal, args.key_id),
                           generic_report(args), check=lambda: check_key_id(args.key_id))
