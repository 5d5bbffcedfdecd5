"""`acr-console revoke`: take a principal's registry access away, as a plan with a result per step,
then say what access it still has (issue 14).

After the plan ran (or when it had nothing to do), what the principal can still do on the registries
in scope is read again (`operations.revoke.remaining_access`) and reported: `"remaining"` in `--json`,
"Still has access:" with the command that ends each path otherwise. Exit 0 only when nothing of its
own remains (anonymous pull, anyone's access, is listed but does not count) or all that remains is
group access kept with `--keep-group-access`; else exit 1 with one `error:` line saying what remains.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.text import Text

from ..azure.clients import AzureClients
from ..azure.errors import AzureCallError
from ..errors import EXIT_FAILED, EXIT_OK
from ..operations import Outcome, Plan, Reads
from ..operations.plan import utcnow
from ..operations.registry import REVOKE
from ..operations.revoke import Remaining, RemainingPath, remaining_access
from .ops_common import WriteCommand, add_commands, run_write
from .output import make_console, print_error, print_json


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("principal", metavar="SP", help="appId, object id or exact display name")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--registry", metavar="R", help="registry name, login server or resource id")
    where.add_argument("--all-registries", action="store_true", help="every registry visible to you")
    p.add_argument("--include-broader-scopes", action="store_true",
                   help="also delete its assignments at resource-group, subscription or higher scope that grant "
                   "registry rights (they reach beyond registries)")
    p.add_argument("--remove-credentials", action="store_true",
                   help="remove every password and certificate on its application and service principal")
    p.add_argument("--disable", action="store_true", help="disable sign-in (accountEnabled false)")
    p.add_argument("--delete-application", action="store_true",
                   help="finally delete the application (soft delete, restorable for 30 days)")
    p.add_argument("--keep-group-access", action="store_true",
                   help="its groups' access is left alone on purpose: reported, but the command does not fail "
                   "for it (group members are never changed by revoke)")


class RevokeCommand(WriteCommand):
    """The shared write flow, then what remains. Its report is synchronous while what remains needs
    reads, so the flow only keeps the outcome (or the empty plan: a principal whose access is all
    through groups has nothing to delete, and still has to hear what remains), and the result is
    printed after it."""

    async def run(self, args: argparse.Namespace, az: AzureClients) -> int:
        request = self.request_of(args)
        held: dict[str, Any] = {}

        def keep(outcome: Outcome) -> int:
            held["outcome"] = outcome
            return outcome.exit_code

        def nothing_to_do(plan: Plan) -> int:
            now = utcnow()
            held["outcome"] = Outcome(plan, {}, now, now)
            return EXIT_OK

        code = await run_write(args, az, lambda: REVOKE.prepare(request, Reads(az)), keep,
                               check=lambda: REVOKE.validate(request), on_empty=nothing_to_do)
        outcome: Outcome | None = held.get("outcome")
        if outcome is None:
            return code  # refused, cancelled or only shown: nothing ran
        return await report_remaining(args, az, outcome)


async def report_remaining(args: argparse.Namespace, az: AzureClients, outcome: Outcome) -> int:
    remaining: Remaining | None = None
    error: AzureCallError | None = None
    try:
        remaining = await remaining_access(az, outcome.plan)
    except AzureCallError as err:
        error = err
    failing = remaining.failing if remaining is not None else []
    if args.json:
        doc = outcome.to_json()
        doc["ok"] = outcome.ok and remaining is not None and not failing
        if remaining is not None:
            doc.update({"remaining": remaining.to_json(), "accessRemains": bool(failing), "signIn": remaining.sign_in})
            if remaining.kept_groups:
                doc["keptGroupAccess"] = remaining.kept_groups
        else:
            doc.update({"remaining": None, "remainingError": str(error)})
        print_json(doc)
    render_remaining(make_console(stderr=bool(args.json), soft_wrap=True), remaining, error)
    if not outcome.ok:
        return outcome.exit_code
    if error is not None:
        print_error(f"could not read what access remains ({error}); check with 'acr-console access REGISTRY'")
        return EXIT_FAILED
    assert remaining is not None
    summary = remaining.summary()
    if summary is not None:
        print_error(summary)
        return EXIT_FAILED
    return EXIT_OK


def render_remaining(console: Console, remaining: Remaining | None, error: AzureCallError | None) -> None:
    if remaining is None:
        console.print(Text(f"What access remains could not be read: {error}", style="bold red"))
        return
    if not remaining.registries:
        console.print(Text(f"No access remains: {remaining.principal} can no longer pull, push or delete on the "
                           "registries in scope.", style="bold green"))
    else:
        console.print(Text("Still has access:", style="bold red" if remaining.failing else "bold yellow"))
        for reg in remaining.registries:
            rights = [r.value for r in reg.rights] or sorted(x.value for x in reg.latent)
            console.print(Text(f"  {reg.registry.name}", style="bold") + Text(f" ({', '.join(sorted(rights))})"))
            for item in reg.paths:
                console.print(Text("    - ") + path_line(item))
                console.print(Text(f"        {item.how}", style="dim"))
                console.print(Text(f"        {item.remove}", style="cyan"))
    if remaining.kept_groups:
        names = ", ".join(f"'{g}'" for g in remaining.kept_groups)
        console.print(Text(f"Group access left alone as asked (--keep-group-access): {names}.", style="yellow"))
    if remaining.dormant:
        state = "is disabled" if remaining.sign_in == "disabled" else "is gone (deleted)"
        console.print(Text(f"Its sign-in {state}: {remaining.dormant} role path(s) left grant nothing"
                           + (" unless it is enabled again." if remaining.sign_in == "disabled" else "."),
                           style="dim"))


def path_line(item: RemainingPath) -> Text:
    """One remaining path as a person reads it: what, which role at which scope, through what."""
    path = item.path
    rights = ", ".join(sorted(r.value for r in path.rights)) or ", ".join(sorted(x.value for x in path.latent))
    if item.anyone:
        return Text(f"{rights}: anyone, through anonymous pull (not this principal's own access)")
    line = Text(f"{rights or 'unknown rights'}: {path.role} at {path.scope_level.value if path.scope_level else '?'} "
                "scope")
    if path.inherited:
        line.append(" (inherited)")
    if path.via_groups:
        line.append(f", through group {' > '.join(repr(g) for g in path.via_groups)}")
    if path.repositories is not None:
        line.append(f", repositories {', '.join(path.repositories) or '(condition not understood)'}")
    if path.confidence.value != "direct":
        line.append(f" ({path.confidence.value})", style="dim")
    if item.kept:
        line.append("  [kept as asked]", style="yellow")
    return line


COMMANDS = (
    RevokeCommand(REVOKE, "remove a principal's access to a registry or to every visible registry, then say "
                  "what access it still has", arguments),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    add_commands(sub, COMMANDS)
