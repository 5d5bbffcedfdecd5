"""Every write shows its plan first. Focus starts on Cancel; revoke and replace-credentials also
need the principal's display name typed. The plan (and so its target) was fixed when it was made."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from ...presentation import printable_text
from .base import DialogScreen

if TYPE_CHECKING:
    from ...operations import Plan


def _shown(value: object) -> str:
    """A target value as a person reads it: yes/no, not Python's True/False (issue 16: the console
    spoke Python values); lists joined."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def plan_text(plan: Plan) -> Text:
    text = Text(plan.title, style="bold")
    for key, value in plan.target.items():
        if value not in (None, ""):
            text.append(f"\n  {key}: ", style="dim")
            text.append(_shown(value))
    text.append("\n\nSteps", style="bold")
    for n, step in enumerate(plan.steps, 1):
        text.append(f"\n {n}. ")
        text.append(step.description)
        if step.local:
            text.append("  (on this machine)", style="dim")
    for warning in plan.warnings:
        text.append("\n⚠ ", style="bold yellow")
        text.append(warning, style="yellow")
    if plan.untouched:
        text.append("\n\nLeft alone", style="bold")
        for u in plan.untouched:
            text.append(f"\n • {u.what}: {u.why}", style="dim")
            if u.command:
                text.append(f"  ({u.command})", style="dim")
    # Titles, descriptions and targets name principals: directory text, shown and never obeyed.
    return printable_text(text)


class ConfirmPlanScreen(DialogScreen[bool]):
    DEFAULT_CLASSES = "dialog -warning"

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Send nothing.", id="confirm.cancel"),
    ]

    def __init__(self, plan: Plan, typed_name: str | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.typed_name = typed_name

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Static(plan_text(self.plan), id="confirm-plan")
            if self.typed_name is not None:
                what = "appId" if self.typed_name == self.plan.target.get("appId") else "display name"
                prompt = Text(f"Type the principal's {what} to confirm: ")
                prompt.append(self.typed_name, style="bold")
                yield Label(prompt)
                yield Input(placeholder=self.typed_name, id="confirm-typed", compact=True)
            with Horizontal():
                yield Button("Cancel", id="confirm-cancel", compact=True)
                yield Button("Run the plan", id="confirm-run", variant="error",
                             disabled=self.typed_name is not None, compact=True)

    def on_mount(self) -> None:
        # Focus on Cancel: Enter on a dialog that just popped up must never run a write.
        self.query_one("#confirm-cancel", Button).focus()

    @on(Input.Changed, "#confirm-typed")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm-run", Button).disabled = event.value != self.typed_name

    @on(Input.Submitted, "#confirm-typed")
    def _typed_enter(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value == self.typed_name:
            self.dismiss(True)

    @on(Button.Pressed, "#confirm-run")
    def _run(self) -> None:
        if self.typed_name is None or self.query_one("#confirm-typed", Input).value == self.typed_name:
            self.dismiss(True)

    @on(Button.Pressed, "#confirm-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
