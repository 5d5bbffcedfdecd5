"""The findings view (issue 18, `f` on the registry list, `:findings`): what `acr-console findings` lists,
most severe first, the severity coloured, `/` to filter by rule, target or evidence, the highlighted
finding in full under the table, and Enter to the plan that fixes it.

Enter on a finding with a fix builds that fix's plan from the finding's request, exactly as `findings
--fix` does (the operation named by `fix.operation`, its request from `fix.arguments`), and hands it to
the confirmation every write goes through (operations_ui.confirm_and_run); once it has run, every list
reads again (operations_ui._reload), so a fixed finding is gone. Read-only mode refuses it with the
console's read-only notice; a finding without a fix says why it has none and where it comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding

from ...azure.errors import from_exception
from ...models import Finding, FindingRule, Severity
from ...presentation import SEVERITY_STYLE, printable, shown
from ..widgets.path_detail import DetailPane
from ..widgets.row_table import Row, Shown
from .list_screen import Column, ListScreen

if TYPE_CHECKING:
    from ...azure.findings_scan import FindingsScan


def target_label(finding: Finding) -> str:
    """The name a person knows the target by: the principal, token or registry, else its id."""
    t = finding.target
    return next((t[k] for k in ("principal", "token", "registry") if t.get(k)), finding.target_id)


def severity_text(severity: Severity) -> Text:
    return Text(severity.value.upper(), style=SEVERITY_STYLE[severity])


def finding_rows(findings: Sequence[Finding]) -> list[Row]:
    """One row per finding, most severe first (the rules' own order within a severity)."""
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for f in sorted(findings, key=lambda f: f.severity.rank):
        key = f"{f.rule.value}|{f.target_id}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}|{seen[key]}"
        cells = (severity_text(f.severity), Text(f.rule.value, overflow="ellipsis", no_wrap=True),
                 shown(target_label(f)), Text(printable(f.evidence), overflow="ellipsis", no_wrap=True),
                 Text("fix", style="green") if f.fix is not None else Text("·", style="dim"))
        search = " ".join((f.severity.value, f.rule.value, *f.target.values(), f.evidence,
                           "fix" if f.fix is not None else "")).lower()
        rows.append(Row(key, cells, search, f))
    return rows


_PAD = 2  # a space either side of every cell (row_table.PADDING)
SEVERITY_WIDTH, FIX_WIDTH = 6, 3  # "MEDIUM"; "fix"
RULE_MIN, RULE_MAX = 20, 30  # the longest rule id is 30 ("privileged-role-above-registry")
TARGET_MIN, TARGET_MAX = 16, 28
EVIDENCE_MIN = 20


def column_widths(rows: Sequence[Row], width: int) -> dict[str, int]:
    """Rule and target as wide as their widest cells (within bounds), the evidence what is left; when
    that is under EVIDENCE_MIN the target and then the rule give way (cut with an ellipsis: the detail
    pane under the table has them in full). At 80 columns every column is on screen."""
    room = width - (SEVERITY_WIDTH + _PAD) - (FIX_WIDTH + _PAD)
    rule = min(max([len("Rule"), *(r.cells[1].cell_len for r in rows)]), RULE_MAX)
    target = min(max([len("Target"), *(r.cells[2].cell_len for r in rows)]), TARGET_MAX)
    short = EVIDENCE_MIN - (room - (rule + _PAD) - (target + _PAD) - _PAD)
    if short > 0:
        give = min(short, max(0, target - TARGET_MIN))
        target -= give
        rule -= min(short - give, max(0, rule - RULE_MIN))
    evidence = room - (rule + _PAD) - (target + _PAD) - _PAD
    return {"rule": rule, "target": target, "evidence": max(evidence, 0)}


def describe_finding(f: Finding) -> Text:
    """The highlighted finding in full: what, on what, why, where the rule comes from, the fix."""
    text = severity_text(f.severity)
    text.append("  ")
    text.append(f.rule.value, style="bold")
    text.append("  ")
    text.append_text(shown(target_label(f), style="bold"))
    if f.target_id and f.target_id != target_label(f):
        text.append("\n")
        text.append_text(shown(f.target_id, style="dim"))
    text.append("\n")
    text.append_text(shown(f.evidence))
    if f.expired_ignore is not None:
        text.append(f"\nignore expired {f.expired_ignore.expires}: ", style="yellow")
        text.append_text(shown(f.expired_ignore.reason))
    text.append("\nsource: ", style="dim")
    text.append_text(shown(f.source, style="dim"))
    if f.fix is not None:
        text.append("\nEnter: the plan that fixes it · ", style="green")
        text.append_text(shown(f.fix.command, style="cyan"))
    else:
        text.append("\nno fix the console can run: change it where the evidence says", style="dim")
    return text


class FindingsScreen(ListScreen["FindingsScan"]):
    CRUMB = "findings"
    LIST = "findings"
    LOADING = "Reading every registry, its access and the credentials of its principals…"
    WHAT = "the findings"
    BINDINGS = [
        Binding("enter", "open", "Fix", tooltip="The plan that fixes the highlighted finding (asked before "
                "anything is sent); a finding without a fix says where it comes from.", id="findings.open",
                show=True),
        Binding("slash", "filter", "Filter", tooltip="Narrow by rule, severity, target or evidence (Escape clears).",
                id="findings.filter"),
        Binding("r", "refresh", "Refresh", tooltip="Read the tenant and evaluate the rules again.",
                id="findings.refresh"),
        Binding("T", "takeover", "Takeover", tooltip="Also read who can take over each principal (the "
                "takeover-by-unprivileged rule), as `findings --include-takeover` does; again to stop.",
                id="findings.takeover"),
    ]
    include_takeover = False
    HELP_NOTES = (
        "Severity: HIGH (red), MEDIUM (yellow), LOW (blue). Fix: Enter shows the plan of the operation that fixes "
        "it, as `acr-console findings --fix RULE --target ID` does; · no fix the console can run. Thresholds, "
        "rules turned off and ignores are in the configuration file's [findings] table."
    )

    CUT_IN_THE_MIDDLE = "target"  # github-actions-* stay apart in a narrow column

    def fitted_widths(self, width: int) -> dict[str, int | None] | None:
        return dict(column_widths(self.rows, width))

    def columns(self) -> Sequence[Column]:
        widths = column_widths(self.rows, self.table_width())
        return (Column("Sev", "severity", SEVERITY_WIDTH), Column("Rule", "rule", widths["rule"]),
                Column("Target", "target", widths["target"]), Column("Evidence", "evidence", widths["evidence"]),
                Column("Fix", "fix", FIX_WIDTH))

    def compose_below(self) -> ComposeResult:
        yield DetailPane(id="findings-detail")

    async def fetch(self, refresh: bool) -> FindingsScan:
        return await self.backend.findings(self.console.settings.findings, self.console.now(), refresh=refresh,
                                           include_takeover=self.include_takeover)

    def action_takeover(self) -> None:
        self.include_takeover = not self.include_takeover
        self.notify("Reading who can take over each principal too." if self.include_takeover
                    else "Takeover paths are no longer read.")
        self.load()

    def build_rows(self, data: FindingsScan) -> list[Row]:
        return finding_rows(data.result.findings)

    def summary(self, shown: Shown, needle: str) -> Text:
        result = self.data.result if self.data is not None else None
        text = Text(shown.describe("findings"), style="bold")
        if result is None:
            return text
        registries = len(self.data.snapshot.accesses) if self.data is not None else 0
        text.append(f" on {registries} registries: ")
        for n, severity in enumerate(Severity):
            if n:
                text.append(" · ")
            count = sum(1 for f in result.findings if f.severity is severity)
            text.append(f"{count} {severity.value}", style=SEVERITY_STYLE[severity] if count else "dim")
        if result.ignored:
            text.append(f" · {len(result.ignored)} ignored by the configuration", style="dim")
        if needle and shown.matched < shown.total:
            text.append(f" · filter '{needle}'", style="dim")
        for rule, why in result.skipped_rules:  # said once, here, not per row
            if rule is FindingRule.TAKEOVER_BY_UNPRIVILEGED:  # the command line's advice is a flag; here a key
                why = "who can take over each principal was not read (T reads it)"
            text.append(f"\n{rule.value} not evaluated: {why}", style="dim")
        return text

    def show_detail(self, row: Row | None) -> None:
        finding = row.data if row is not None and isinstance(row.data, Finding) else None
        self.query_one(DetailPane).update(describe_finding(finding) if finding is not None
                                          else Text("No finding selected.", style="dim"))

    def open_row(self, row: Row) -> None:
        finding = cast(Finding, row.data)  # finding_rows put it there
        if finding.fix is None:
            # Not markup: the evidence holds names from the directory, which may hold "[".
            self.notify(printable(f"{finding.rule.value} has no fix the console can run. {finding.evidence} "
                                  f"Source: {finding.source}"), severity="information", markup=False)
            return
        if self.console.read_only:
            self.console.notify_read_only(finding.fix.operation)  # as every write key says it
            return
        self.set_message(Text(f"Reading what the plan of {finding.fix.operation} needs…", style="italic"))
        self.prepare_fix(finding)

    @work(exclusive=True, group="fix", exit_on_error=False)
    async def prepare_fix(self, finding: Finding) -> None:
        """The fix's plan, read as `findings --fix` reads it (reads only; the confirmation comes next)."""
        from ...operations import Reads
        from ...operations.registry import operation
        from ..operations_ui import confirm_and_run
        from .secret import ScreenHandOver

        assert finding.fix is not None
        try:
            op = operation(finding.fix.operation)
            request = op.request_type(**dict(finding.fix.arguments))
            op.validate(request, self.console.now())
            plan = await op.prepare(request, Reads(self.backend.az, hand_over=ScreenHandOver(
                self.app, self.console.connection.cloud.acr_suffix)))
        except ValueError as err:  # the operation's own check (an InputError): its words
            self.notify(printable(str(err)), severity="error", markup=False)
            plan = None
        except Exception as exc:  # the target changed since it was read, or Azure said no
            self.notify(printable(str(from_exception(exc, "prepare the plan"))), severity="error", markup=False)
            plan = None
        self.render_rows()  # the summary line again, in place of "Reading…"
        confirm_and_run(self.console, plan)

