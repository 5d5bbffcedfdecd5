"""The `:` command line (k9s style): nouns to jump to, e.g. `:sp ci-push`, `:expiring`, `:audit`."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from ..navigation import COMMAND_HELP, COMMAND_WORDS
from .base import DialogScreen


class CommandLineScreen(DialogScreen[str | None]):
    DEFAULT_CLASSES = "dialog -bar"
    DEFAULT_CSS = """
    CommandLineScreen Input {
        border: none;
        height: 1;
        padding: 0;
    }
    CommandLineScreen #command-help {
        color: $text-muted;
        height: auto;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the command line.", id="command-line.cancel"),
    ]

    def compose(self) -> ComposeResult:
        from textual.containers import Vertical

        with Vertical(id="command-box"):
            # Text, not markup: as markup "[DAYS]" in the help was read as a style and vanished.
            yield Static(Text(COMMAND_HELP), id="command-help")
            yield Input(placeholder=":", id="command-input",
                        suggester=SuggestFromList(sorted(COMMAND_WORDS), case_sensitive=False))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip().lstrip(":") or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
