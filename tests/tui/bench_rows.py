"""Measure DataTable with 20,000 principal rows, inserted whole and through the capped RowTable.

    python tests/tui/bench_rows.py

Not a test (no test_ prefix): a measurement behind the choice in widgets/row_table.py.
"""

from __future__ import annotations

import asyncio
import time

from rich.text import Text
from textual.app import App, ComposeResult

from acr_console.tui.widgets.row_table import Row, RowTable

N = 20_000
ROWS = [
    Row(f"k{i}", tuple(Text(c) for c in (f"principal-{i:05d}-ci-push", "SP", "✓", "✓", "·", "", "AcrPush",
                                          "registry", "")), f"principal-{i:05d}-ci-push sp acrpush")
    for i in range(N)
]


class _Bench(App[None]):
    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap

    def compose(self) -> ComposeResult:
        yield RowTable(max_rows=self.cap)


async def measure(cap: int) -> str:
    app = _Bench(cap)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(RowTable)
        for column in "abcdefghi":
            table.add_column(column)
        await pilot.pause()
        t0 = time.perf_counter()
        shown = table.show_rows(ROWS)
        await pilot.pause()  # DataTable measures the new cells when idle
        t1 = time.perf_counter()
        narrowed = table.show_rows(ROWS, "principal-1")
        await pilot.pause()
        t2 = time.perf_counter()
        for _ in range(10):
            await pilot.press("pagedown")
        t3 = time.perf_counter()
    return (f"cap {cap:>6}: insert + first paint {t1 - t0:.2f} s ({shown.shown:,} rows); "
            f"filter {t2 - t1:.2f} s ({narrowed.shown:,} of {narrowed.matched:,}); 10x PageDown {t3 - t2:.2f} s")


if __name__ == "__main__":
    for cap in (N, 2000):
        print(asyncio.run(measure(cap)))
