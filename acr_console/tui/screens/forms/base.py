"""What every operation form shares: fields with an error line under each, a Check button that
validates locally, then builds the plan (reads only) in a worker, and returns it.

Nothing is sent while a field is invalid: local checks (the operations layer's own validators)
run first, and only a form that passes them asks Azure anything, and then only reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Label, Static

from ....azure.errors import from_exception
from ....presentation import shown
from ..base import DialogScreen

if TYPE_CHECKING:
    from ....operations import Plan
    from ...app import AcrConsoleApp


def optional(value: str) -> str | None:
    """A blank optional field is "not given"; anything else is checked as typed, surrounding spaces
    included, so the form refuses what the command line refuses instead of quietly changing it."""
    return value if value.strip() else None


class FieldError(ValueError):
    """A problem with one field of a form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class OperationForm(DialogScreen["Plan | None"]):
    # The box's size is with the other dialogs' in app.tcss (OperationForm.dialog).
    DEFAULT_CSS = """
    OperationForm .field {
        height: auto;
    }
    OperationForm .form-title {
        text-style: bold;
    }
    OperationForm .field-label {
        color: $text-muted;
    }
    OperationForm .field-error {
        color: $error;
        height: auto;
        display: none;
    }
    OperationForm .field-error.-shown {
        display: block;
    }
    OperationForm #form-error {
        color: $error;
        height: auto;
    }
    OperationForm .form-buttons {
        height: auto;
        margin-top: 1;
    }
    OperationForm Input, OperationForm Select {
        width: 100%;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the form; nothing is sent.", id="form.cancel"),
    ]

    TITLE = "Operation"

    @property
    def console(self) -> AcrConsoleApp:
        return cast("AcrConsoleApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.TITLE), classes="form-title")
            with VerticalScroll():
                yield from self.compose_fields()
            yield Static("", id="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button("Cancel", id="form-cancel", compact=True)
                yield Button("Review plan", id="form-submit", variant="primary", compact=True)

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def field(self, name: str, label: str, widget: Widget) -> ComposeResult:
        """A labelled field with its error line; the widget's id becomes `field-<name>`."""
        widget.id = f"field-{name}"
        yield Vertical(Label(label, classes="field-label"), widget,
                       Static("", id=f"error-{name}", classes="field-error"), id=f"group-{name}", classes="field")

    def show_field(self, name: str, shown: bool) -> None:
        self.query_one(f"#group-{name}").display = shown

    def clear_errors(self) -> None:
        for error in self.query(".field-error").results(Static):
            error.update("")
            error.remove_class("-shown")
        self.query_one("#form-error", Static).update("")

    def show_error(self, field: str | None, message: str) -> None:
        target = None
        if field is not None:
            found = self.query(f"#error-{field}")
            target = found.first(Static) if found else None
        if target is None:
            self.query_one("#form-error", Static).update(shown(message))
            return
        target.update(shown(message))
        target.add_class("-shown")

    def validate_fields(self) -> object:
        """Check the fields without sending anything; return a request or raise FieldError/ValueError."""
        raise NotImplementedError

    def plan_maker(self, request: object) -> Callable[[], Awaitable[Plan]]:
        raise NotImplementedError

    def field_for(self, message: str) -> str | None:
        """Which field an operations-layer message is about, when the form can tell."""
        return None

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#form-submit")
    def submit(self) -> None:
        self.clear_errors()
        try:
            request = self.validate_fields()
        except FieldError as err:
            self.show_error(err.field, str(err))
            return
        except ValueError as err:  # InputError, CertificateError: the operations layer's own words
            self.show_error(self.field_for(str(err)), str(err))
            return
        self.query_one("#form-submit", Button).disabled = True
        self.query_one("#form-error", Static).update(Text("Reading what the plan needs…", style="italic"))
        self.make_plan(request)

    @work(exclusive=True, group="plan", exit_on_error=False)
    async def make_plan(self, request: object) -> None:
        try:
            plan = await self.plan_maker(request)()
        except ValueError as err:  # an input problem found by reading Azure (e.g. the name is taken)
            self.clear_errors()
            self.show_error(self.field_for(str(err)), str(err))
            self.query_one("#form-submit", Button).disabled = False
            return
        except Exception as exc:
            self.clear_errors()
            self.show_error(None, str(from_exception(exc, "prepare the plan")))
            self.query_one("#form-submit", Button).disabled = False
            return
        self.dismiss(plan)
