"""What every operation form shares: fields with an error line under each, a Check button that
validates locally, then builds the plan (reads only) in a worker, and returns it.

Nothing is sent while a field is invalid: local checks (the operation's own `validate`) run first,
and only a form that passes them asks Azure anything, and then only reads.

A form's fields are named as its operation's request fields, so an InputError lands under the
field it names (`display_name` is the widget `#field-display-name`); one the form has no field for
is shown under the form.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from ....azure.errors import from_exception
from ....errors import InputError
from ....models import Principal
from ....presentation import printable, shown
from ..base import DialogScreen

if TYPE_CHECKING:
    from ....operations import Plan  # noqa: F401 (named in the ModalScreen type argument, a string)
    from ....operations.registry import Operation
    from ...app import AcrConsoleApp


def optional(value: str) -> str | None:
    """A blank optional field is "not given"; anything else is checked as typed, surrounding spaces
    included, so the form refuses what the command line refuses instead of quietly changing it."""
    return value if value.strip() else None


def principal_heading(principal: Principal) -> Static:
    """The line naming whom a form acts on. A principal without an appId (a managed identity read
    without one, an assignment the directory did not return) shows none, rather than "None"."""
    text = Text.assemble(("Principal ", "dim"), (printable(principal.display_name), "bold"))
    if principal.app_id:
        text.append(f"  appId {principal.app_id}", style="dim")
    return Static(text)


# A command-line flag in an operation's message (`--years`), and Python's None standing for a value.
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")
_NONE = re.compile(r"\bNone\b")


def dom_name(field: str) -> str:
    """A request field's name as a widget id part: `display_name` -> `display-name`."""
    return field.replace("_", "-")


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
        # From any field, as Posting's ctrl+j sends a request: no Tabbing to the button (issue 16).
        # Only reads follow (the plan); nothing is sent before the confirmation.
        Binding("ctrl+s", "submit", "Review plan", tooltip="Check the fields and show the plan; nothing is sent.",
                id="form.submit", priority=True),
    ]

    # The registry entry of the operation this form starts: its title, its validation, its plan.
    OPERATION: ClassVar[Operation[Any, Any]]
    # Fields that are no request field: choices that decide which request fields apply, or a
    # flag's value (append or replace). No InputError names them.
    SELECTORS: ClassVar[frozenset[str]] = frozenset()
    # The field focused when Review plan was asked for: focus returns there after a form-wide error.
    _focused_before: Widget | None = None

    @property
    def console(self) -> AcrConsoleApp:
        return cast("AcrConsoleApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.OPERATION.title), classes="form-title")
            with VerticalScroll(id="form-fields"):
                yield from self.compose_fields()
            yield Static("", id="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button("Cancel", id="form-cancel", compact=True)
                yield Button("Review plan", id="form-submit", variant="primary", compact=True)

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def field(self, name: str, label: str, widget: Widget) -> ComposeResult:
        """A labelled field with its error line, for the request field `name`; the widget's id
        becomes `field-<name>` (see dom_name)."""
        name = dom_name(name)
        widget.id = f"field-{name}"
        yield Vertical(Label(label, classes="field-label"), widget,
                       Static("", id=f"error-{name}", classes="field-error"), id=f"group-{name}", classes="field")

    def show_field(self, name: str, shown: bool) -> None:
        self.query_one(f"#group-{dom_name(name)}").display = shown

    def clear_errors(self) -> None:
        for error in self.query(".field-error").results(Static):
            error.update("")
            error.remove_class("-shown")
        self.query_one("#form-error", Static).update("")

    def show_error(self, field: str | None, message: str) -> None:
        """The message under the field it is about; under the form when the form has no such field.
        Focus goes to that field, so the next keys fix it (never to Cancel, issue 16)."""
        message = self.in_own_words(message)
        target = None
        if field is not None:
            found = self.query(f"#error-{dom_name(field)}")
            target = found.first(Static) if found else None
        if target is None:
            self.query_one("#form-error", Static).update(shown(message))
            self._refocus(None)
            return
        target.update(shown(message))
        target.add_class("-shown")
        self._refocus(field)

    def in_own_words(self, message: str) -> str:
        """An error in the form's words: the operations layer names a field by its command-line flag
        where the CLI shows it (`--years`); here that is the field's label, as the form shows it. A
        value the directory did not give (Python's None in a message) is shown as "—"."""

        def label(match: re.Match[str]) -> str:
            found = self.query(f"#group-{match.group(1)} .field-label")
            return f"“{found.first(Label).content}”" if found else match.group(0)

        message = _FLAG.sub(label, message)
        return _NONE.sub("—", message)

    def fields(self) -> list[Widget]:
        """The focusable fields in the order shown, the hidden ones left out."""
        body = self.query_one("#form-fields", VerticalScroll)
        return [w for w in self.focus_chain if body in w.ancestors]

    def _refocus(self, field: str | None) -> None:
        found = self.query(f"#field-{dom_name(field)}") if field is not None else None
        widget: Widget | None = found.first() if found else None
        if widget is None or not widget.focusable:
            # The field before Review plan, if it still takes focus; else the first field.
            before = self._focused_before
            fields = self.fields()
            widget = before if before is not None and before in fields else (fields[0] if fields else None)
        if widget is not None:
            widget.focus()

    def request(self) -> Any:
        """The operation's request from the fields; raise InputError(field=...) for what only the
        form can tell (a choice left blank). The operation validates the request itself after."""
        raise NotImplementedError

    def validate_fields(self) -> Any:
        """Check the fields without sending anything; return the request or raise InputError/ValueError."""
        request = self.request()
        self.OPERATION.validate(request, self.console.now())
        return request

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        if not self.query_one("#form-submit", Button).disabled:  # a plan is being made
            self.submit()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        """Enter on the last field reviews the plan; on another field, moves to the next one."""
        event.stop()
        fields = self.fields()
        if fields and event.input is fields[-1]:
            self.action_submit()
        else:
            self.focus_next()

    @on(Button.Pressed, "#form-submit")
    def submit(self) -> None:
        focused = self.focused
        self._focused_before = focused if focused is not None and not isinstance(focused, Button) else None
        self.clear_errors()
        try:
            request = self.validate_fields()
        except InputError as err:
            self.show_error(err.field, err.message)
            return
        except ValueError as err:  # e.g. a CertificateError: the operations layer's own words
            self.show_error(None, str(err))
            return
        self.query_one("#form-submit", Button).disabled = True
        self.query_one("#form-error", Static).update(Text("Reading what the plan needs…", style="italic"))
        self.make_plan(request)

    @work(exclusive=True, group="plan", exit_on_error=False)
    async def make_plan(self, request: object) -> None:
        from ....operations import Reads

        try:
            from ..secret import ScreenHandOver

            # The console always shows a new password itself, on its own screen, before anything is removed.
            plan = await self.OPERATION.prepare(request, Reads(self.console.backend.az,
                                                               hand_over=ScreenHandOver(
                self.app, self.console.connection.cloud.acr_suffix)))
        except ValueError as err:  # an input problem found by reading Azure (e.g. the name is taken)
            self.clear_errors()
            self.show_error(err.field if isinstance(err, InputError) else None,
                            err.message if isinstance(err, InputError) else str(err))
            self.query_one("#form-submit", Button).disabled = False
            return
        except Exception as exc:
            self.clear_errors()
            self.show_error(None, str(from_exception(exc, "prepare the plan")))
            self.query_one("#form-submit", Button).disabled = False
            return
        self.dismiss(plan)
