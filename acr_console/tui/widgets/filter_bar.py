"""The `/` filter (k9s style): typing narrows the table below; Escape clears it and hides the bar."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    DEFAULT_CSS = """
    FilterBar {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    FilterBar.-shown {
        display: block;
    }
    FilterBar:focus {
        border: none;
    }
    """

    BINDINGS = [
        Binding("escape", "clear", "Clear filter", tooltip="Clear the filter and hide it.", id="filter.clear"),
        Binding("enter,down", "done", "Keep filter", tooltip="Keep the filter and go back to the list.",
                id="filter.done"),
    ]

    @dataclass
    class Applied(Message):
        """The filter text changed (empty: no filter)."""

        filter_bar: FilterBar
        text: str

        @property
        def control(self) -> FilterBar:
            return self.filter_bar

    def __init__(self, **kwargs: object) -> None:
        super().__init__(placeholder="/ filter: type to narrow, Enter to keep, Escape to clear", **kwargs)  # type: ignore[arg-type]

    def open(self) -> None:
        self.add_class("-shown")
        self.focus()

    # Every keystroke narrows at once: the tables are virtual, so filtering 20,000 rows and
    # repainting one screenful costs a few tens of milliseconds, less than a pause would.
    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._announce()

    def _announce(self) -> None:
        self.post_message(self.Applied(self, self.value.strip()))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_done()

    def action_clear(self) -> None:
        self.value = ""
        self._announce()
        self.remove_class("-shown")
        self.screen.focus_next()

    def action_done(self) -> None:
        if not self.value.strip():
            self.remove_class("-shown")
        self.screen.focus_next()
