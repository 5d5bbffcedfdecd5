"""`?`: the keys of the screen below and of the app, with the binding ids the keymap uses."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from ..navigation import COMMAND_HELP
from .base import DialogScreen


def bindings_table(screen: Screen[object]) -> Table:
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("Key", no_wrap=True)
    table.add_column("Does")
    table.add_column("Id (for [keymap])", style="dim", no_wrap=True)
    seen: set[str] = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if binding.id in seen or not binding.description:
            continue
        seen.add(binding.id or key)
        label = screen.app.get_key_display(binding)
        description = Text(binding.description)
        if binding.tooltip:
            description.append(f": {binding.tooltip}", style="dim")
        if not active.enabled:
            description.append(" (disabled: read-only)", style="italic")
        table.add_row(Text(label), description, Text(binding.id or ""))
    return table


class HelpScreen(DialogScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", tooltip="Close the help.", id="help.close"),
    ]

    def __init__(self, below: Screen[object]) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("Keys on this screen", style="bold"))
            yield Static(bindings_table(self.below))
            notes = getattr(self.below, "HELP_NOTES", None)  # what a screen's marks mean, if it says
            if isinstance(notes, str) and notes:
                yield Static(Text("\n" + notes))
            yield Static(Text("\nCommand line (:)", style="bold"))
            yield Static(Text(COMMAND_HELP))
            yield Static(Text(
                "\nctrl+p opens the command palette: jump to any registry or principal by name, or run an "
                "operation. Escape goes back. Writes are on upper-case keys and always ask first; in "
                "read-only mode they are greyed out. Rebind keys in the [keymap] table of the config file "
                "by the ids above.", style="dim"))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
