"""A DataTable for lists that may be long: filtered before insert and capped.

DataTable measures every cell on insert (tui-anchors §4.3: ~2 s for 10k rows, on the UI thread),
while rendering is virtualised. So the cost is in what we insert, not what we show: rows are
filtered in Python first (cheap: a substring test on a precomputed lower-case string) and at most
`max_rows` go into the table; the caller says "showing 2,000 of 20,000 — / to narrow".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual.widgets import DataTable

Cell = Text


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


def matches(row: Row, needle: str) -> bool:
    return not needle or needle in row.search


class RowTable(DataTable[Cell]):
    DEFAULT_CSS = """
    RowTable {
        height: 1fr;
    }
    """

    def __init__(self, *, max_rows: int = 2000, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.max_rows = max_rows
        self._rows_by_key: dict[str, Row] = {}

    def show_rows(self, rows: Sequence[Row], needle: str = "") -> Shown:
        """Replace the rows with those matching `needle`, keeping the cursor on the same key."""
        needle = needle.lower()
        current = self.current_key
        matched = [r for r in rows if matches(r, needle)]
        visible = matched[: self.max_rows]
        self.clear()
        self._rows_by_key = {r.key: r for r in visible}
        self.add_rows_keyed(visible)
        if current is not None and current in self._rows_by_key:
            self.move_cursor(row=self.get_row_index(current))
        return Shown(len(visible), len(matched), len(rows))

    def add_rows_keyed(self, rows: Sequence[Row]) -> None:
        for r in rows:
            self.add_row(*r.cells, key=r.key)

    @property
    def current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # the cursor sits outside the rows after a clear
            return None
        return key.value

    @property
    def current_row(self) -> Row | None:
        key = self.current_key
        return self._rows_by_key.get(key) if key is not None else None
