"""A table for lists that may be long (20,000 principals): virtual, so filtering costs nothing.

Textual's DataTable renders lazily but inserts eagerly: every added cell is measured on the UI
thread (DataTable._update_dimensions, on idle, Textual 8.2.8; measured headless on 2 cores: ~2 s
to add 10k rows of 5 columns, 0.75 s to rebuild a 2,000-row table on each filter keystroke).
This table keeps the rows as given and draws only the lines on screen (the line API), so showing,
filtering or replacing 20,000 rows is a list comprehension (a few milliseconds) and a repaint of
one screenful. It looks and is driven like a DataTable with a row cursor: same component styles,
keys, click-to-highlight and click-again-to-select.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...presentation import printable_text

Cell = Text
PADDING = 1  # a space either side of every cell, as DataTable's cell_padding


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    cells: tuple[Cell, ...]
    # What `/` matches against, lower-cased once when the row is built.
    search: str = ""
    data: object = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Shown:
    shown: int
    matched: int
    total: int

    def describe(self, noun: str) -> str:
        if self.matched < self.total:
            head = f"{self.matched:,} of {self.total:,} {noun} match"
        else:
            head = f"{self.total:,} {noun}"
        if self.shown < self.matched:
            head += f" · showing the first {self.shown:,}: / to narrow"
        return head


@dataclass
class _Column:
    label: Text
    key: str
    fixed: int | None  # a width given by the screen; None: as wide as the widest cell; 0: not shown
    content: int = 0
    middle: bool = False  # cut too-long cells in the middle (names sharing a prefix stay apart)
    tight: bool = False  # a space after its cells only: marks of a cell or two, side by side

    @property
    def padding(self) -> int:
        return PADDING if self.tight else 2 * PADDING

    @property
    def shown(self) -> bool:
        return self.fixed != 0

    @property
    def width(self) -> int:
        return self.fixed if self.fixed is not None else max(self.content, self.label.cell_len)


def _segments(text: Text, console: Console) -> list[Segment]:
    """A one-line Text as segments, its own style under its spans (Text.render leaves it out).
    Cells hold directory text: control characters are shown, never sent (presentation.printable)."""
    segments = list(printable_text(text, keep_lines=False).render(console))
    if text.style:
        segments = list(Segment.apply_style(segments, console.get_style(text.style)))
    return segments


def _cut(text: Text, width: int, middle: bool) -> Text:
    """`text` in `width` cells, with …: at the end, or early in the middle (ASCII only: there a character
    is a cell), keeping a quarter from the start and the rest from the end, so names that share a
    prefix and a suffix stay apart in a narrow column: `git…ons-checkout`, `aks…-neu-kubelet`."""
    plain = text.plain
    if middle and plain.isascii() and width >= 8:
        head = max(3, (width - 1) // 4)
        tail = width - 1 - head
        return Text.assemble(text[:head], "…", text[len(plain) - tail:], style=text.style)
    text = text.copy()
    text.truncate(width, overflow="ellipsis")
    return text


def _text_width(text: Text) -> int:
    plain = text.plain
    return len(plain) if plain.isascii() else cell_len(plain)


class RowTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "row-table--header", "row-table--cursor", "row-table--even-row", "row-table--odd-row",
    }
    # DataTable's look (its DEFAULT_CSS, for the parts a row cursor uses).
    DEFAULT_CSS = """
    RowTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .row-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .row-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .row-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .row-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .row-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .row-table--odd-row {
        }
        & > .row-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .row-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # Shown: the focused table's Enter is the one the footer lists (it comes first in the chain),
        # and a hidden one left the footer without Enter on every list (issue 16).
        Binding("enter", "select_cursor", "Open", tooltip="Open the highlighted row.", id="table.select"),
        Binding("up", "cursor_up", "Cursor up", show=False, tooltip="The row above.", id="table.up"),
        Binding("down", "cursor_down", "Cursor down", show=False, tooltip="The row below.", id="table.down"),
        Binding("pageup", "page_up", "Page up", show=False, tooltip="One screenful up.", id="table.page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, tooltip="One screenful down.",
                id="table.page-down"),
        Binding("home,ctrl+home", "first", "Top", show=False, tooltip="The first row.", id="table.first"),
        Binding("end,ctrl+end", "last", "Bottom", show=False, tooltip="The last row.", id="table.last"),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)

    class _RowMessage(Message):
        """A row of the table, by position and key."""

        def __init__(self, table: RowTable, cursor_row: int, row_key: str) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> RowTable:
            return self.table

    class RowHighlighted(_RowMessage):
        """The cursor moved to another row (or the rows under it changed)."""

    class RowSelected(_RowMessage):
        """Enter, or a click on the highlighted row."""

    def __init__(self, *, max_rows: int = 100_000, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.max_rows = max_rows
        self._columns: list[_Column] = []
        self._rows: list[Row] = []  # the rows shown: matched, capped
        self._index: dict[str, int] = {}
        self._measured: Sequence[Row] | None = None  # the list the column widths come from
        self._lines: dict[tuple[int, bool, int, int], Strip] = {}
        self._highlighted: str | None = None

    # -- data ---------------------------------------------------------------------------------

    def add_column(self, label: str | Text, *, key: str | None = None, width: int | None = None,
                   tight: bool = False) -> str:
        text = label if isinstance(label, Text) else Text(label)
        column = _Column(text, key or str(len(self._columns)), width, tight=tight)
        self._columns.append(column)
        self._refit()
        return column.key

    def set_widths(self, widths: dict[str, int | None]) -> None:
        """Give columns (by key) new widths, e.g. when the terminal is resized; a column not named keeps
        its own; width 0 hides a column (its cells stay in the rows, and in what `/` matches)."""
        for column in self._columns:
            if column.key in widths:
                column.fixed = widths[column.key]
        self._refit()

    def cut_in_the_middle(self, key: str) -> None:
        """Cells of this column too long for it lose their middle, not their end."""
        for column in self._columns:
            if column.key == key and not column.middle:
                column.middle = True
                self._refit()

    def show_rows(self, rows: Sequence[Row], needle: str = "") -> Shown:
        """Show the rows matching `needle`, keeping the cursor on the same key when it is still there."""
        needle = needle.lower()
        current = self.current_key
        matched = [r for r in rows if needle in r.search] if needle else list(rows)
        self._rows = matched[: self.max_rows]
        self._index = {r.key: i for i, r in enumerate(self._rows)}
        if rows is not self._measured:
            # Widths come from the whole list, not from what matches, and only grow (as DataTable's),
            # so columns hold still while a filter is typed or the list is narrowed.
            self._measured = rows
            for n, column in enumerate(self._columns):
                widest = max((_text_width(r.cells[n]) for r in rows if n < len(r.cells)), default=0)
                column.content = max(column.content, widest)
        self._refit()
        self.cursor_row = self._index.get(current, 0) if current is not None else 0
        return Shown(len(self._rows), len(matched), len(rows))

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def get_row_at(self, row_index: int) -> list[Cell]:
        return list(self._rows[row_index].cells)

    @property
    def current_key(self) -> str | None:
        return self._rows[self.cursor_row].key if 0 <= self.cursor_row < len(self._rows) else None

    @property
    def current_row(self) -> Row | None:
        return self._rows[self.cursor_row] if 0 <= self.cursor_row < len(self._rows) else None

    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        self.cursor_row = row
        if scroll:
            self._scroll_to_cursor()

    # -- the cursor -----------------------------------------------------------------------------

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._rows) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._forget_lines(old, new)
        key = self.current_key
        if key is not None and key != self._highlighted:
            self.post_message(self.RowHighlighted(self, new, key))
        self._highlighted = key

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, force=True)
        elif self.cursor_row >= top + self._page:
            self.scroll_to(y=self.cursor_row - self._page + 1, animate=False, force=True)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.scroll_relative(y=-self._page, animate=False, force=True)
        self.move_cursor(row=self.cursor_row - self._page)

    def action_page_down(self) -> None:
        self.scroll_relative(y=self._page, animate=False, force=True)
        self.move_cursor(row=self.cursor_row + self._page)

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    def action_select_cursor(self) -> None:
        key = self.current_key
        if key is not None:
            self.post_message(self.RowSelected(self, self.cursor_row, key))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        row = self.scroll_offset.y + offset.y - 1
        if not 0 <= row < len(self._rows):
            return
        event.stop()
        if row == self.cursor_row:
            self.action_select_cursor()
        else:
            self.move_cursor(row=row)

    # -- drawing --------------------------------------------------------------------------------

    def _refit(self) -> None:
        width = sum(c.width + c.padding for c in self._columns if c.shown)
        self.virtual_size = Size(width, len(self._rows) + 1)  # + the header line
        self._lines.clear()
        self.refresh()

    def _forget_lines(self, *rows: int) -> None:
        for key in [k for k in self._lines if k[0] in rows]:
            del self._lines[key]
        for row in rows:
            self.refresh_line(row + 1)  # virtual lines: the header is line 0

    def notify_style_update(self) -> None:
        self._lines.clear()
        super().notify_style_update()

    def _on_focus(self, event: events.Focus) -> None:
        self._lines.clear()

    def _on_blur(self, event: events.Blur) -> None:
        self._lines.clear()

    def _on_resize(self, event: events.Resize) -> None:
        self._lines.clear()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        index = -1 if y == 0 else scroll_y + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        key = (index, index == self.cursor_row, width, scroll_x)
        strip = self._lines.get(key)
        if strip is None:
            if len(self._lines) > 1000:
                self._lines.clear()
            strip = self._lines[key] = self._render_row(index, width, scroll_x)
        return strip

    def _render_row(self, index: int, width: int, scroll_x: int) -> Strip:
        component = self.get_component_rich_style
        post = None
        if index < 0:
            cells: Sequence[Text] = [c.label for c in self._columns]
            style = component("row-table--header")
        else:
            cells = self._rows[index].cells
            style = component("row-table--odd-row" if index % 2 else "row-table--even-row")
            if index == self.cursor_row:
                cursor = component("row-table--cursor")
                style += cursor
                post = Style.from_color(color=cursor.color)  # the cursor's colour wins, as in DataTable
        console = self.app.console
        segments: list[Segment] = []
        pad = Segment(" " * PADDING)
        for n, column in enumerate(self._columns):
            if not column.shown:
                continue
            text = cells[n] if n < len(cells) else Text()
            if not isinstance(text, Text):
                text = Text(str(text))
            if "\n" in text.plain:
                text = text.split("\n")[0]
            w = column.width
            if _text_width(text) > w:
                text = _cut(text, w, column.middle)
            if not column.tight:
                segments.append(pad)
            segments += Segment.adjust_line_length(_segments(text, console), w)
            segments.append(pad)
        line = list(Segment.apply_style(segments, style, post))
        strip = Strip(line).extend_cell_length(width + scroll_x, style + (post or Style()))
        return strip.crop(scroll_x, scroll_x + width).simplify()
