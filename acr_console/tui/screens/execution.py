"""Running a plan: a line per step that changes as it runs, the final per-step result, and
"retry the rest" after a partial failure (steps check Azure first, so done ones are not redone)."""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static

from ...errors import ConsoleError
from ...operations.handover import STEP_ID as HAND_OVER
from ...presentation import printable_text, shown
from .base import DialogScreen

if TYPE_CHECKING:
    from ...azure.clients import AzureClients
    from ...operations import Outcome, Plan, Step, StepResult
    from ...operations.locks import Holder
    from ..app import AcrConsoleApp
    from .secret import SecretScreen

# Read once a run has finished, shown under its result: what revoke leaves (operations_ui.OperationUI.after_run).
AfterRun = Callable[["AzureClients", "Outcome"], Awaitable[Text]]

_ICON = {"pending": ("·", "dim"), "running": ("…", "bold cyan"), "done": ("✓", "bold green"),
         "already-done": ("✓", "green"), "failed": ("✗", "bold red"), "skipped": ("–", "yellow")}


@dataclass
class StepProgress(Message):
    step_id: str
    result: StepResult


@dataclass
class PlanFinished(Message):
    outcome: Outcome


@dataclass
class AfterRunRead(Message):
    text: Text


class ExecutionScreen(DialogScreen[bool]):
    """Dismisses with True when anything was changed, so the screen below reloads."""

    BINDINGS = [
        Binding("escape", "close", "Close", tooltip="Close when the run has finished.", id="execution.close"),
    ]

    def __init__(self, plan: Plan, after_run: AfterRun | None = None) -> None:
        super().__init__()
        self.plan: Plan | None = plan
        self.after_run = after_run
        self.title_text = plan.title
        self.results: dict[str, StepResult] = {}
        self.outcome: Outcome | None = None
        self.changed = False
        self.secret_shown = False  # the new secret has been on screen (its own screen decided its fate)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(shown(self.title_text, style="bold"), id="execution-title")
            with VerticalScroll():
                yield Static("", id="execution-steps")
                yield Static("", id="execution-after")
            yield Static(Text("Running…", style="italic"), id="execution-summary")
            with Horizontal():
                yield Button("Retry the rest", id="execution-retry", variant="warning", compact=True)
                yield Button("Show secret", id="execution-secret", variant="success", compact=True)
                yield Button("Close", id="execution-close", disabled=True, compact=True)

    def on_mount(self) -> None:
        self.query_one("#execution-retry").display = False
        self.query_one("#execution-secret").display = False
        self.query_one("#execution-after").display = False
        self._render_steps()
        self.run()

    @work(exclusive=True, group="write", exit_on_error=False)
    async def run(self) -> None:
        from ...operations import AuditLog, run_plan

        assert self.plan is not None

        def progress(step: Step, result: StepResult) -> None:
            self.post_message(StepProgress(step.id, result))

        def waiting(holder: Holder | None) -> None:
            who = holder.describe() if holder is not None else "another acr-console process"
            self.query_one("#execution-summary", Static).update(Text(f"Waiting for {who} to finish…",
                                                                     style="italic"))

        self.console.write_running = True
        try:
            outcome = await run_plan(self.console.backend.az, self.plan, progress, audit=AuditLog(), on_wait=waiting)
        except ConsoleError as err:  # refused before anything was sent: busy, stale, no audit log, read-only
            self.query_one("#execution-summary", Static).update(Text(str(err), style="bold red"))
            close = self.query_one("#execution-close", Button)
            close.disabled = False
            close.focus()
            return
        finally:
            self.console.write_running = False
            # Whatever it changed (or began to, before a failure), cached directory facts may now be
            # wrong: the takeover reads (issue 17) fetch the tenant-wide ones again.
            self.console.backend.writes_ran()
        self.post_message(PlanFinished(outcome))
        if self.after_run is not None:
            self.post_message(AfterRunRead(Text("Reading what access remains…", style="italic")))
            self.post_message(AfterRunRead(await self.after_run(self.console.backend.az, outcome)))

    @on(AfterRunRead)
    def _after(self, message: AfterRunRead) -> None:
        after = self.query_one("#execution-after", Static)
        after.display = True
        after.update(printable_text(message.text))

    @on(StepProgress)
    def _progress(self, message: StepProgress) -> None:
        self.results[message.step_id] = message.result
        self._render_steps()

    @on(PlanFinished)
    def _finished(self, message: PlanFinished) -> None:
        outcome = self.outcome = message.outcome
        self.results = dict(outcome.results)
        self.changed = self.changed or outcome.changed_anything
        self._render_steps()
        summary = Text(outcome.summary(), style="bold green" if outcome.ok else "bold red")
        if outcome.audit_error:
            summary.append(f"\n{outcome.audit_error}", style="bold red")
        if outcome.correlation_ids:
            summary.append(f"\ncorrelation ids: {', '.join(outcome.correlation_ids[:3])}", style="dim")
        self.query_one("#execution-summary", Static).update(summary)
        self.query_one("#execution-retry").display = bool(outcome.failed) or outcome.interrupted
        handed = outcome.results.get(HAND_OVER)
        if handed is not None and handed.ok:
            # Already on its own screen (shown mid-plan, before any removal): never twice.
            outcome.plan.context.secrets.clear()
        if handed is not None and handed.ok and not outcome.ok:
            # The secret is up on its own screen above: the failure goes under it, the secret stays.
            above = self._secret_screen()
            if above is not None:
                above.show_failure(self._failure_text(outcome))
        pending = self.secret_pending
        self.query_one("#execution-secret").display = pending
        close = self.query_one("#execution-close", Button)
        close.disabled = False
        if pending:
            # Never Close first while a secret nobody has seen is held (issue 16).
            self.query_one("#execution-secret", Button).focus()
            if not outcome.ok:
                self._show_secret()  # a partial failure keeps the secret visible, the failure under it
        else:
            close.focus()
        if outcome.stopped_by is not None and outcome.stopped_by != signal.SIGINT:
            # The terminal hung up or the process was told to end: the write stopped cleanly and is
            # audited; there is nobody left to show it to.
            self.app.exit(return_code=outcome.exit_code)

    def _render_steps(self) -> None:
        if self.plan is None:
            return
        text = Text()
        for n, step in enumerate(self.plan.steps, 1):
            result = self.results.get(step.id)
            status = result.status.value if result else "pending"
            icon, style = _ICON.get(status, ("?", ""))
            if n > 1:
                text.append("\n")
            text.append(f"{icon} ", style=style)
            text.append(f"{n}. {step.description}")
            text.append(f"  [{status}]", style=style)
            if result is not None and result.note:
                text.append(f"\n     {result.note}", style="dim")
            if result is not None and result.error is not None:
                text.append(f"\n     {result.error}", style="red")
                if result.error.correlation_id:
                    text.append(f" (correlation id {result.error.correlation_id})", style="dim")
        self.query_one("#execution-steps", Static).update(printable_text(text))

    @on(Button.Pressed, "#execution-retry")
    def _retry(self) -> None:
        self.query_one("#execution-retry").display = False
        self.query_one("#execution-close", Button).disabled = True
        self.query_one("#execution-summary", Static).update(Text("Retrying the steps that did not succeed…",
                                                                 style="italic"))
        self.results = {}
        self.run()

    @property
    def secret_pending(self) -> bool:
        """A new secret is held here that has not been on screen yet."""
        return self.outcome is not None and bool(self.outcome.secrets) and not self.secret_shown

    def _secret_screen(self) -> SecretScreen | None:
        from .secret import SecretScreen

        stack = self.app.screen_stack
        above = stack[stack.index(self) + 1:] if self in stack else []
        return next((s for s in above if isinstance(s, SecretScreen)), None)

    def _failure_text(self, outcome: Outcome) -> Text:
        text = Text("The plan did not finish: ", style="bold red")
        text.append(outcome.summary(), style="red")
        failed = [f"{sid}: {r.error}" for sid, r in outcome.results.items() if r.error is not None]
        for line in failed[:3]:
            text.append(f"\n  {line}", style="red")
        text.append("\nKeep the secret now; its result screen (below this one) offers to retry the rest.",
                    style="dim")
        return printable_text(text)

    @on(Button.Pressed, "#execution-secret")
    def _secret(self) -> None:
        self._show_secret()

    def _show_secret(self) -> None:
        from .secret import SecretScreen, secret_view

        if self.plan is None or self.outcome is None:
            return
        view = secret_view(self.plan, self.outcome, cast("AcrConsoleApp", self.app).connection.cloud.acr_suffix)
        self.secret_shown = True
        if self.outcome.ok:
            # Handed over and forgotten here: the secret screen is now the only holder. After a
            # failure "retry the rest" may still need it (its hand-over step); closing drops it.
            self.plan.context.secrets.clear()
        self.query_one("#execution-secret").display = False
        if view is not None:
            self.app.push_screen(SecretScreen(view, None if self.outcome.ok else self._failure_text(self.outcome)))

    @on(Button.Pressed, "#execution-close")
    def _close_button(self) -> None:
        self.action_close()

    def action_close(self) -> None:
        if self.query_one("#execution-close", Button).disabled:
            return  # a write is running; its result must be seen
        if self.secret_pending:
            from .secret import LeaveSecretScreen

            def answered(leave: bool | None) -> None:
                if leave:
                    self.secret_shown = True
                    self.action_close()

            self.app.push_screen(LeaveSecretScreen(), answered)
            return
        if self.plan is not None:
            self.plan.context.secrets.clear()
        self.plan = None
        self.outcome = None
        self.dismiss(self.changed)
