"""What the list screens (registries, registry access, expiring, audit) share: a summary line, the
`/` filter, a virtual table and a worker that reads through the backend. A concrete screen declares
only what differs: its columns, what it fetches, how a row looks, what the summary says, what Enter
opens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from ...azure.errors import from_exception
from ..messages import ListLoaded, LoadFailed
from ..widgets.filter_bar import FilterBar
from ..widgets.row_table import Row, RowTable, Shown
from .base import ConsoleScreen

DataT = TypeVar("DataT")


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    key: str | None = None
    width: int | None = None  # None: as wide as the widest cell
    tight: bool = False  # one space between it and the next column, not two (RowTable.add_column)


class ListScreen(ConsoleScreen, Generic[DataT]):
    """A filterable table of what `fetch` returns. Widget ids are `LIST`-body, -message, -filter, -table."""

    # Escape, k9s style: first it clears a kept filter, then it leaves the screen. Two bindings on
    # one key, each enabled in one case (check_action), so the footer names what Escape will do.
    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", tooltip="Clear the kept filter (Escape again goes back).",
                id="list.clear-filter"),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen.", id="list.back"),
    ]

    LIST: ClassVar[str] = "list"
    COLUMNS: ClassVar[Sequence[Column]] = ()
    LOADING: ClassVar[str] = "Reading…"
    WHAT: ClassVar[str] = "the list"  # in "Could not read WHAT."
    # The operation named in a translated error, when the screen's fetch is one Azure call.
    OPERATION: ClassVar[str | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.data: DataT | None = None
        self.rows: list[Row] = []

    # -- what a concrete screen declares ----------------------------------------------------------

    async def fetch(self, refresh: bool) -> DataT:
        """The I/O, through the backend; runs in the screen's worker. `refresh`: bypass caches."""
        raise NotImplementedError

    def build_rows(self, data: DataT) -> list[Row]:
        raise NotImplementedError

    def summary(self, shown: Shown, needle: str) -> Text:
        raise NotImplementedError

    def open_row(self, row: Row) -> None:
        """Enter (or a click on the highlighted row)."""

    def columns(self) -> Sequence[Column]:
        return self.COLUMNS

    def compose_above(self) -> ComposeResult:
        """Widgets above the summary line."""
        yield from ()

    def compose_below(self) -> ComposeResult:
        """Widgets below the table (a detail pane)."""
        yield from ()

    def visible_rows(self) -> Sequence[Row]:
        """The rows the filter applies to (a screen may narrow them further first)."""
        return self.rows

    def show_detail(self, row: Row | None) -> None:
        """The highlighted row changed (or the rows under the cursor did)."""

    def what(self) -> str:
        return self.WHAT

    # Columns fitted to the terminal (issue 16): the widths of a screen's flexible columns for the room
    # the table has, worked out again on each render and resize. None (the default): fixed columns.
    CUT_IN_THE_MIDDLE: ClassVar[str | None] = None  # the column a narrow table shortens in its middle

    def fitted_widths(self, width: int) -> dict[str, int | None] | None:
        return None

    def first_load(self) -> None:
        self.load()

    # -- shared machinery -------------------------------------------------------------------------

    @property
    def table(self) -> RowTable:
        return self.query_one(f"#{self.LIST}-table", RowTable)

    def set_message(self, message: str | Text) -> None:
        # A str is shown as typed, never read as markup (a filter or a name may hold "[").
        self.query_one(f"#{self.LIST}-message", Static).update(Text(message) if isinstance(message, str) else message)

    def compose_body(self) -> ComposeResult:
        with Vertical(id=f"{self.LIST}-body", classes="list-body"):
            yield from self.compose_above()
            yield Static(Text(self.LOADING), id=f"{self.LIST}-message", classes="list-message")
            yield FilterBar(id=f"{self.LIST}-filter")
            yield RowTable(id=f"{self.LIST}-table", max_rows=self.console.settings.max_rows)
            yield from self.compose_below()

    def on_mount(self) -> None:
        self._start()

    def _start(self) -> None:
        table = self.table
        for column in self.columns():
            table.add_column(column.label, key=column.key, width=column.width, tight=column.tight)
        table.focus()
        self.first_load()

    async def start_over(self) -> None:
        """Forget what was read and shown (filter included) and read it again, as a new screen would:
        the app's connection changed."""
        self.data = None
        self.rows = []
        await self.recompose()
        self._start()

    @work(exclusive=True, group="list", exit_on_error=False)
    async def load(self, refresh: bool = False) -> None:
        try:
            data = await self.fetch(refresh)
        except Exception as exc:  # turned into a message; the UI never shows a traceback
            error = from_exception(exc, self.OPERATION)
            if error.code == "ConnectionFailed" and await self.console.sandbox_moved():
                return  # issue 16: read again on the sandbox's new address (use_connection starts over)
            self.post_message(LoadFailed(self.what(), error))
            return
        self.post_message(ListLoaded(data))

    @on(ListLoaded)
    def _loaded(self, message: ListLoaded) -> None:
        message.stop()
        self.loaded(cast(DataT, message.data))

    def loaded(self, data: DataT) -> None:
        self.data = data
        self.rows = self.build_rows(data)
        self.render_rows()

    @on(LoadFailed)
    def _failed(self, message: LoadFailed) -> None:
        message.stop()
        self.failed(message)

    def failed(self, message: LoadFailed) -> None:
        self.set_message(message.describe())

    def table_width(self) -> int:
        # The screen's width less the table's vertical scrollbar (2 cells), which a long list shows.
        return (self.size.width or self.app.size.width) - 2

    def fit_columns(self) -> None:
        widths = self.fitted_widths(self.table_width())
        if widths is None:
            return
        if self.CUT_IN_THE_MIDDLE is not None:
            self.table.cut_in_the_middle(self.CUT_IN_THE_MIDDLE)
        self.table.set_widths(widths)

    def on_resize(self) -> None:
        if self.is_mounted and self.query(RowTable):
            self.fit_columns()

    def render_rows(self) -> None:
        self.fit_columns()
        if self.data is None:
            return
        needle = self.query_one(FilterBar).value.strip()
        self.set_message(self.summary(self.table.show_rows(self.visible_rows(), needle), needle))
        self.show_detail(self.table.current_row)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    @property
    def filter_text(self) -> str:
        return self.query_one(FilterBar).value.strip() if self.is_mounted else ""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return bool(self.filter_text)
        if action == "back":
            # The registry list is the bottom of the stack: there is nothing to go back to.
            stack = self.app.screen_stack
            return not self.filter_text and self in stack and stack.index(self) > 0
        return super().check_action(action, parameters)

    def action_clear_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.value = ""  # Input.Changed → FilterBar.Applied → the rows again
        bar.remove_class("-shown")
        self.table.focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.set_message("Refreshing…")
        self.load(refresh=True)

    def action_open(self) -> None:
        row = self.table.current_row
        if row is not None:
            self.open_row(row)

    @on(FilterBar.Applied)
    def _filter_changed(self) -> None:
        self.render_rows()
        self.refresh_bindings()  # Escape's meaning in the footer: clear the filter, or go back

    @on(RowTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.show_detail(self.table.current_row)

    @on(RowTable.RowSelected)
    def _selected(self, event: RowTable.RowSelected) -> None:
        event.stop()
        self.action_open()
