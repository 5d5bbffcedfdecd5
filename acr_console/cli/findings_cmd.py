"""`acr-console findings [--json]` and `findings --fix RULE [--target ID]` (issue 18).

Reading: every rule of `access/findings.py` over the whole tenant (`azure/findings_scan.py`), as a table
(most severe first) or `--json` (a list of `{"rule", "severity", "target", "evidence", "fix", "source"}`).
Exit status, for scheduled jobs: 0 when there is no finding (ignored ones do not count), 1 when there
is one or more (1 is also any command's failure; then one `error:` line says so).

Fixing: `--fix RULE` runs the finding's operation (the one its `fix.command` names, with the same
request) through the plan, the confirmation (`--yes` skips it, `--dry-run` shows the plan only), the
audit log and the report of every other write (cli/ops_common.run_write). It is a write: read-only
refuses it before anything is read, and the audit log's path is checked first (cli/main.py).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..azure.authorization import RoleDefinitions
from ..azure.clients import AzureClients
from ..errors import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE
from ..models import Finding, FindingRule, FindingsResult, Severity

# Exit status of a read that found something (documented in the README and `findings --help`).
EXIT_FINDINGS = EXIT_FAILED


def add_parser(sub: argparse._SubParsersAction) -> None:
    rules = ", ".join(r.value for r in FindingRule)
    p = sub.add_parser(
        "findings", help="what an auditor would flag: admin user, anonymous pull, long-lived or hidden secrets, "
        "orphaned and disabled assignments, broad push, latent push, tokens without expiry",
        description="List the findings over every registry you can see; exit 0 when there are none and 1 when "
        f"there are (ignored ones do not count). Rules: {rules}. Thresholds, rules turned off and ignores "
        "(with a reason and an expiry) are in the configuration file's [findings] table.")
    p.add_argument("--json", action="store_true", help="print a JSON list of findings")
    p.add_argument("--include-takeover", action="store_true",
                   help="also read who can take over each principal, for the takeover-by-unprivileged rule")
    p.add_argument("--fix", dest="fix_rule", metavar="RULE",
                   help="run the fix of this rule's finding (its plan, then a confirmation)")
    p.add_argument("--target", metavar="ID", help="with --fix: the finding's target (its id, a registry, an "
                   "appId, an assignment id or a key id) when the rule has several findings")
    p.add_argument("--yes", "-y", action="store_true", help="with --fix: do not ask for confirmation")
    p.add_argument("--dry-run", action="store_true", help="with --fix: print the plan and change nothing")
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace, az: AzureClients) -> int:
    from ..config import load_settings
    from .output import print_error

    try:
        rule = _check_arguments(args)
    except ValueError as err:
        print_error(str(err))
        return EXIT_USAGE
    if rule is not None:
        from ..azure.writes import ensure_writable
        from .ops_common import preflight

        ensure_writable(az.connection, "'findings --fix'")
        # Read-only (exit 4) and "no terminal to confirm on" (exit 2) refuse before the tenant is read;
        # run_write checks both again before the plan is built.
        preflight(args, az)
    from ..azure.findings_scan import scan_findings

    scan = await scan_findings(az, RoleDefinitions(az), load_settings().findings,
                               include_takeover=args.include_takeover)
    if rule is not None:
        return await _fix(args, az, rule, scan.result)
    return _report(args, scan.result, len(scan.snapshot.accesses))


def _check_arguments(args: argparse.Namespace) -> FindingRule | None:
    """The rule to fix, if any; ValueError for flags that need --fix, or an unknown rule."""
    if args.fix_rule is None:
        for flag, given in (("--target", args.target), ("--yes", args.yes), ("--dry-run", args.dry_run)):
            if given:
                raise ValueError(f"{flag} goes with --fix RULE (findings --fix RULE {flag} …)")
        return None
    try:
        return FindingRule(args.fix_rule)
    except ValueError:
        raise ValueError(f"--fix: no rule named {_quoted(args.fix_rule)} (rules: "
                         f"{', '.join(r.value for r in FindingRule)})") from None


def _quoted(value: str) -> str:
    """A value the user typed, safe on a terminal: escapes (an ESC sequence) shown, never obeyed."""
    return f"'{value}'" if value.isprintable() and len(value) <= 200 else repr(value[:200])


def _summary(result: FindingsResult, registries: int) -> str:
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    text = (f"{len(result.findings)} finding(s) on {registries} registries: "
            + ", ".join(f"{counts[s]} {s.value}" for s in Severity))
    if result.ignored:
        text += f"; {len(result.ignored)} ignored by the configuration"
    expired = sum(1 for f in result.findings if f.expired_ignore is not None)
    if expired:
        text += f"; {expired} shown again because their ignore expired"
    return text


def _report(args: argparse.Namespace, result: FindingsResult, registries: int) -> int:
    from ..access.findings import finding_json
    from .output import print_json, print_warning

    if args.json:
        print_json([finding_json(f) for f in result.findings])
    else:
        _table(result, registries)
    for rule, why in result.skipped_rules:
        print_warning(f"rule {rule.value} not evaluated: {why}")
    return EXIT_FINDINGS if result.findings else EXIT_OK


def _target_label(f: Finding) -> str:
    """The name a person knows the target by: the principal, token or registry, else the id."""
    t = f.target
    return next((t[k] for k in ("principal", "token", "registry") if t.get(k)), f.target_id)


def _table(result: FindingsResult, registries: int) -> None:
    """A two-column grid: the severity, coloured; then the rule and target, the evidence under them and
    the fix's command line under that, each wrapped with a hanging indent (readable at 80 columns, where
    five columns of assignment ids are not)."""
    from rich.table import Table
    from rich.text import Text

    from ..presentation import SEVERITY_STYLE, shown
    from .output import stdout_console

    console = stdout_console()
    console.print(Text(_summary(result, registries), style="bold"))
    grid = Table.grid(padding=(0, 1, 1, 0))
    grid.add_column("Severity", no_wrap=True, min_width=6)
    grid.add_column("Finding", overflow="fold")
    for f in result.findings:
        body = Text(f.rule.value, style="bold") + Text("  ") + shown(_target_label(f), style="bold")
        if f.target_id != _target_label(f) and (f.fix is None or f.target_id not in f.fix.command):
            body += Text(f"\n{f.target_id}", style="dim")  # what --target and an ignore name it by
        body += Text("\n") + shown(f.evidence)
        if f.expired_ignore is not None:
            ignore = f.expired_ignore
            body += Text(f"\nignore expired {ignore.expires}: ", style="yellow") + shown(ignore.reason)
        if f.fix is not None:
            body += Text("\nfix: ", style="dim") + Text(f.fix.command, style="cyan")
        grid.add_row(Text(f.severity.value.upper(), style=SEVERITY_STYLE[f.severity]), body)
    console.print(grid)
    if any(f.fix for f in result.findings):
        console.print(Text("Fix one through its plan: acr-console findings --fix RULE --target ID", style="dim"))


async def _fix(args: argparse.Namespace, az: AzureClients, rule: FindingRule, result: FindingsResult) -> int:
    from ..operations import Reads
    from ..operations.registry import operation
    from .ops_common import generic_report, run_write
    from .output import print_error, print_warning

    of_rule = [f for f in result.findings if f.rule is rule]
    chosen = [f for f in of_rule if args.target is None or f.matches(args.target)]
    if not of_rule:
        hidden = sum(1 for f, _ignore in result.ignored if f.rule is rule)
        print_warning(f"no {rule.value} finding to fix" + (f" ({hidden} ignored by the configuration)"
                                                           if hidden else ""))
        return EXIT_OK
    targets = ", ".join(f.target_id for f in of_rule[:10]) + (" …" if len(of_rule) > 10 else "")
    if not chosen:
        print_error(f"--target: no {rule.value} finding matches {_quoted(args.target)} (targets: {targets})")
        return EXIT_NOT_FOUND
    if len(chosen) > 1:
        print_error(f"{len(chosen)} {rule.value} findings: name one with --target ID (targets: {targets})")
        return EXIT_USAGE
    finding = chosen[0]
    if finding.fix is None:
        print_error(f"{rule.value} on {finding.target_id} has no fix the console can run: {finding.evidence}")
        return EXIT_USAGE
    op = operation(finding.fix.operation)
    request: Any = op.request_type(**dict(finding.fix.arguments))
    args.hand_over = None  # no fix makes a secret
    return await run_write(args, az, lambda: op.prepare(request, Reads(az)), generic_report(args),
                           check=lambda: op.validate(request))
