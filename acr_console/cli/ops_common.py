"""What every write command shares: one `WriteCommand` per operation of the registry, its flags, the
read-only and confirmation guards, showing a plan, running it, and reporting each step.

Order matters and is the same for every command: input is checked (exit 2) and read-only refused
(exit 4) before any request; then the plan is built from reads only; then shown; then confirmed
(or `--yes`); only then is anything written.

A command's arguments are named as its operation's request fields (argparse `dest`), so the request
is built from them field by field, and an InputError about a field is shown with that field's flag.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.text import Text

from ..azure.clients import AzureClients
from ..azure.writes import ensure_writable
from ..certificates import CertificateError
from ..errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, describe_os_error
from ..operations import InputError, Operation, Outcome, Plan, Reads, Step, StepResult, StepStatus, run_plan
from .handover import StdoutHandOver, silence_stdout
from .output import make_console, print_error, print_json, print_warning

Report = Callable[[Outcome], int]


@dataclass(frozen=True)
class WriteCommand:
    """An operation of the registry as a command: its name is the operation's."""

    operation: Operation[Any, Any]
    help: str
    # Adds the command's own arguments; each `dest` is a field of the operation's request.
    arguments: Callable[[argparse.ArgumentParser], None]
    json_help: str = "print JSON"
    # From an argument's text to the request field's type, where argparse's `type` cannot do it
    # (it would have to turn the `choices` into the field's type too).
    convert: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    # Whether this request makes a secret that must have somewhere to go (see require_secret_destination).
    needs_secret_destination: Callable[[Any], bool] = lambda request: False
    # How the outcome is printed; by default the outcome's JSON with --json, the step lines otherwise.
    report: Callable[[argparse.Namespace, Any], Report] | None = None

    @property
    def name(self) -> str:
        return self.operation.name

    def add_parser(self, sub: argparse._SubParsersAction) -> None:
        p = sub.add_parser(self.name, help=self.help)
        self.arguments(p)
        add_write_flags(p, json_help=self.json_help)
        p.set_defaults(handler=self.run, field_flags=field_flags(p))

    def request_of(self, args: argparse.Namespace) -> Any:
        given = {f.name: getattr(args, f.name) for f in dataclasses.fields(self.operation.request_type)
                 if hasattr(args, f.name)}
        for name, convert in self.convert.items():
            given[name] = convert(given[name])
        return self.operation.request_type(**given)

    async def run(self, args: argparse.Namespace, az: AzureClients) -> int:
        op, request = self.operation, self.request_of(args)

        def check() -> None:
            require_secret_destination(args, self.needs_secret_destination(request))
            op.validate(request)

        # A new password is printed mid-plan, before anything is removed (cli/handover.py); with
        # --out (and no --show-secret) the file is its only destination.
        # A dry run shows the plan as --show-secret would run it, and never runs it.
        wants_stdout = (getattr(args, "show_secret", False) or (args.json and not getattr(args, "out", None))
                        or (args.dry_run and not getattr(args, "out", None)))
        args.hand_over = StdoutHandOver(as_json=args.json) if op.makes_secret and wants_stdout else None
        report = self.report(args, request) if self.report is not None else generic_report(args)
        return await run_write(args, az, lambda: op.prepare(request, Reads(az, hand_over=args.hand_over)), report,
                               check=check)


def add_commands(sub: argparse._SubParsersAction, commands: tuple[WriteCommand, ...]) -> None:
    for command in commands:
        command.add_parser(sub)


def field_flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Request field -> the flag that gives it (`out` -> `--out`), read off the parser's own options."""
    flags = {}
    for action in parser._actions:
        long = [o for o in action.option_strings if o.startswith("--")]
        if long and action.dest != "help":
            flags[action.dest] = max(long, key=len)
    return flags


def usage_message(err: UsageError, args: argparse.Namespace) -> str:
    """An input error as the command line says it: prefixed with the flag of the field it is about.
    A positional argument (SP, KEYID) is named by the message itself."""
    flag = getattr(args, "field_flags", {}).get(err.field) if isinstance(err, InputError) else None
    return f"{flag}: {err}" if flag else str(err)

_MARK = {
    StepStatus.DONE: ("✓ done", "green"),
    StepStatus.ALREADY_DONE: ("= already done", "cyan"),
    StepStatus.FAILED: ("✗ failed", "bold red"),
    StepStatus.SKIPPED: ("- skipped", "yellow"),
}


def add_write_flags(p: argparse.ArgumentParser, *, json_help: str = "print JSON") -> None:
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    p.add_argument("--json", action="store_true", help=json_help)


def add_secret_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="PATH", help="write the new secret to this new file (mode 0600)")
    p.add_argument("--show-secret", action="store_true", help="print the new secret on standard output")


def require_secret_destination(args: argparse.Namespace, needed: bool) -> None:
    """A new secret must have somewhere to go before it is created."""
    if needed and not (args.out or args.show_secret or args.json or args.dry_run):
        raise InputError("a new secret is shown once: pass --out PATH (a new 0600 file), --show-secret or --json")


def preflight(args: argparse.Namespace, az: AzureClients) -> None:
    ensure_writable(az.connection, f"'{args.command}'")
    if not (args.yes or args.dry_run) and not sys.stdin.isatty():
        raise InputError("no terminal to confirm on: pass --yes to go ahead, or --dry-run to see the plan only")


def _console(args: argparse.Namespace) -> Console:
    # With --json, stdout is for the JSON document alone; people read the plan on stderr.
    return make_console(stderr=bool(getattr(args, "json", False)), soft_wrap=True)


def render_plan(plan: Plan, console: Console) -> None:
    console.print(Text("Plan: ", style="bold") + Text(plan.title))
    target = ", ".join(f"{k} {v}" for k, v in plan.target.items() if v not in (None, "", False))
    console.print(Text("  target: ", style="dim") + Text(target))
    if not plan.steps:
        console.print(Text("  nothing to change", style="dim"))
    index = {s.id: n for n, s in enumerate(plan.steps, 1)}
    for n, step in enumerate(plan.steps, 1):
        line = Text(f"  {n}. ") + Text(step.description)
        if step.depends_on:
            line.append(f"  (after {', '.join(str(index[d]) for d in step.depends_on)})", style="dim")
        console.print(line)
    if plan.untouched:
        console.print(Text("  Not touched:", style="bold"))
        for u in plan.untouched:
            console.print(Text("  - ") + Text(u.what) + Text(f": {u.why}", style="dim"))
            if u.command:
                console.print(Text(f"      {u.command}", style="cyan"))
    for w in plan.warnings:
        console.print(Text("  ! ", style="bold yellow") + Text(w))


def render_result(step: Step, result: StepResult) -> Text:
    label, style = _MARK.get(result.status, (result.status.value, ""))
    line = Text(f"  {label:<15}", style=style) + Text(step.description)
    if result.error:
        line.append(f"\n      {result.error}", style="red")
        if result.error.correlation_id:
            line.append(f" (correlation id {result.error.correlation_id})", style="dim")
    elif result.note:
        line.append(f" ({result.note})", style="dim")
    return line


def confirm(console: Console) -> bool:
    console.print(Text("Proceed? [y/N] ", style="bold"), end="")
    try:
        answer = input()
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


async def run_write(args: argparse.Namespace, az: AzureClients, build: Callable[[], Awaitable[Plan]],
                    report: Callable[[Outcome], int], *, check: Callable[[], Any] | None = None,
                    on_empty: Callable[[Plan], int] | None = None) -> int:
    """The whole flow of a write command; `report` prints the outcome and returns the exit code,
    `on_empty` (default: report_empty) answers a plan with nothing to do."""
    console = _console(args)
    try:
        if check is not None:
            check()  # pure input checks first: bad input is exit 2 whatever else is wrong
        preflight(args, az)
        plan = await build()
    except (InputError, CertificateError) as err:
        print_error(usage_message(err, args))
        return EXIT_USAGE
    if args.dry_run:
        if args.json:
            print_json({"dryRun": True, "plan": plan.to_json()})
        else:
            render_plan(plan, console)
        return EXIT_OK
    render_plan(plan, console)
    if plan.empty:
        return on_empty(plan) if on_empty is not None else report_empty(args, plan)
    if not args.yes and not confirm(console):
        print_error("cancelled; nothing was changed")
        return EXIT_USAGE

    def progress(step: Step, result: StepResult) -> None:
        if result.status.final and not args.json:
            console.print(render_result(step, result))

    def waiting(holder: Any) -> None:
        who = holder.describe() if holder is not None else "another acr-console process"
        print_warning(f"waiting for {who} to finish…")

    outcome = await run_plan(az, plan, progress, on_wait=waiting)
    if outcome.audit_error:
        print_error(f"{outcome.audit_error}; what was done is reported below and in the intent record written "
                    "before the run")
    try:
        if args.json:
            render_outcome_summary(outcome, console)
        else:
            style = "bold green" if outcome.ok else "bold red"
            console.print(Text(outcome.summary(), style=style))
            if not outcome.ok and outcome.stopped_by is None:
                console.print(Text("Run the same command again to finish what failed; steps already done are not "
                                   "repeated.", style="dim"))
        return report(outcome)
    except (OSError, UnicodeError, ValueError) as exc:  # stdout closed, full or unable to encode
        silence_stdout()
        return output_failed(outcome, exc)


def output_failed(outcome: Outcome, exc: BaseException) -> int:
    """The result could not be printed: one line on stderr with what was done, never an exception."""
    key_id = outcome.plan.context.values.get("keyId") or outcome.plan.context.values.get("passwordKeyId")
    secret = f"; the new password (key id {key_id}) was handed over before anything was removed" if (
        key_id and outcome.results.get("hand-over") and outcome.results["hand-over"].ok) else ""
    print_error(f"the result could not be written to standard output ({describe_os_error(exc)}); "
                f"{outcome.summary()}{secret}. The audit log has every step ('acr-console audit').")
    return outcome.exit_code if not outcome.ok else EXIT_FAILED


def render_outcome_summary(outcome: Outcome, console: Console) -> None:
    if not outcome.ok:
        for sid, result in outcome.results.items():
            if not result.ok:
                console.print(render_result(outcome.plan.step(sid), result))
    console.print(Text(outcome.summary(), style="bold green" if outcome.ok else "bold red"))


def print_result_json(doc: dict[str, Any], outcome: Outcome, hand_over: StdoutHandOver | None = None) -> int:
    """A write's result for scripts: its facts, the new password if it was handed over (the first
    part of this same document, written mid-plan), and the outcome."""
    rest = {**doc, "ok": outcome.ok, "outcome": outcome.to_json()}
    if hand_over is not None and hand_over.written is not None:
        hand_over.finish(rest)
    else:
        print_json(rest)
    return outcome.exit_code


def delivered(outcome: Outcome) -> bool:
    """The new password was printed here (and its facts with it)."""
    result = outcome.results.get("hand-over")
    return result is not None and result.ok


def saved(outcome: Outcome) -> bool:
    """The new password's --out file was written: only then may the output say where it is."""
    result = outcome.results.get("save-secret")
    return result is not None and result.ok


def undelivered(outcome: Outcome) -> str | None:
    """When a new password exists but its hand-over failed: what to tell the person (its key id,
    that nothing was removed, how to remove it)."""
    result = outcome.results.get("hand-over") or outcome.results.get("save-secret")
    if result is None or result.ok or result.status is not StepStatus.FAILED:
        return None
    values = outcome.plan.context.values
    key_id = values.get("keyId") or values.get("passwordKeyId")
    app_id = outcome.plan.target.get("appId") or (values.get("app") or {}).get("appId")
    return (f"{result.error.message if result.error else 'the new password was not delivered'}; nothing was "
            f"removed or granted after it. The undelivered password (key id {key_id}) is still on the application: "
            f"remove it with 'acr-console remove-credential {app_id} {key_id}'")


def report_empty(args: argparse.Namespace, plan: Plan) -> int:
    if args.json:
        print_json({"operation": plan.operation, "ok": True, "target": dict(plan.target), "steps": [],
                    "untouched": [u.to_json() for u in plan.untouched], "warnings": plan.warnings})
    return EXIT_OK


def generic_report(args: argparse.Namespace, extra: Callable[[Outcome], dict[str, Any]] | None = None
                   ) -> Callable[[Outcome], int]:
    def report(outcome: Outcome) -> int:
        if args.json:
            print_json({**(extra(outcome) if extra else {}), **outcome.to_json()})
        return outcome.exit_code

    return report
