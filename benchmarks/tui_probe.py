"""Run in a fresh process by benchmarks/tui.py; prints one JSON line.

    python -m benchmarks.tui_probe widget --rows 20000
    python -m benchmarks.tui_probe access --data DIR --registry NAME

Times are taken inside the process: from the moment rows are handed to the table (or the screen is
opened) to the first paint that shows them, and from each filter keystroke to the repaint that
shows its result. Peak RSS is the process's own (getrusage).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical

from acr_console.tui.widgets.filter_bar import FilterBar
from acr_console.tui.widgets.row_table import Row, RowTable

from .common import vm_hwm_kb

# Paint and filter instrumentation: when the table last drew a line, and when it last took rows.
_marks = {"paint": 0.0, "show": 0.0, "shown": 0}
_render_line = RowTable.render_line
_show_rows = RowTable.show_rows


def _timed_render_line(self: RowTable, y: int) -> Any:
    _marks["paint"] = time.perf_counter()
    return _render_line(self, y)


def _timed_show_rows(self: RowTable, rows: Any, needle: str = "") -> Any:
    shown = _show_rows(self, rows, needle)
    _marks["show"] = time.perf_counter()
    _marks["shown"] = self.row_count
    return shown


RowTable.render_line = _timed_render_line  # type: ignore[method-assign]
RowTable.show_rows = _timed_show_rows  # type: ignore[method-assign]

TEAMS = ("payments", "checkout", "identity", "search", "web", "mobile", "data", "ml", "platform", "billing")
PURPOSES = ("github-actions", "azure-devops", "deploy", "puller", "scanner", "release-bot", "cron", "jenkins")


def synthetic_rows(n: int) -> list[Row]:
    """Rows shaped like the registry access view's (nine cells), one per principal."""
    rows = []
    for i in range(n):
        name = f"{PURPOSES[i % len(PURPOSES)]}-{TEAMS[(i // 8) % len(TEAMS)]}-{i:05d}"
        role = ("AcrPull", "AcrPush", "AcrDelete")[i % 3]
        via = f"{TEAMS[i % 10]}-acr-group-{i % 200:04d}" if i % 10 == 0 else ""
        cells = (Text(name), Text("SP"), Text("✓", style="bold green"), Text("✓" if role != "AcrPull" else "·"),
                 Text("✓" if role == "AcrDelete" else "·"), Text(""), Text(role), Text("registry"), Text(via))
        rows.append(Row(f"{i:08x}", cells, f"{name} sp {role} {via}".lower()))
    return rows


async def _wait_paint(after: float, timeout: float = 5.0, min_rows: int = 0) -> float:
    """Seconds from `after` to the first paint that follows the table's last show_rows (of at
    least `min_rows` rows) since then."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if _marks["show"] >= after and _marks["shown"] >= min_rows and _marks["paint"] > _marks["show"]:
            return _marks["paint"] - after
        await asyncio.sleep(0.0005)
    raise TimeoutError("no repaint")


async def _type_filter(pilot: Any, text: str) -> list[float]:
    """Open the filter, then time each keystroke to its repaint."""
    await pilot.press("slash")
    await pilot.pause()
    samples = []
    for key in [*text, "backspace", "backspace"]:
        t0 = time.perf_counter()
        await pilot.press(key)
        samples.append(await _wait_paint(t0))
        await pilot.pause()
    return samples


class WidgetApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("slash", "filter", "Filter", id="bench.filter",
                                                     tooltip="Filter")]

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield FilterBar()
            yield RowTable()

    def on_filter_bar_applied(self, message: FilterBar.Applied) -> None:
        self.query_one(RowTable).show_rows(self.rows, message.text)

    rows: list[Row] = []


async def widget(n: int) -> dict[str, Any]:
    rows = synthetic_rows(n)
    app = WidgetApp()
    app.rows = rows
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(RowTable)
        for label in ("Principal", "Type", "Pull", "Push", "Del", "!", "Roles", "Scope", "Via group"):
            table.add_column(label)
        table.focus()
        await pilot.pause()
        t0 = time.perf_counter()
        table.show_rows(rows)
        first = await _wait_paint(t0)
        await pilot.pause()
        t_scroll = time.perf_counter()
        for _ in range(10):
            await pilot.press("pagedown")
        scroll = (time.perf_counter() - t_scroll) / 10
        keys = await _type_filter(pilot, "payments-00")
    return {"rows": n, "first_rows_s": first, "filter_s": statistics.median(keys), "filter_max_s": max(keys),
            "filter_samples": keys, "pagedown_s": scroll, "rss_kb": vm_hwm_kb()}


async def access(data: str, registry: str) -> dict[str, Any]:
    from acr_console.azure.connection import sandbox_connection
    from acr_console.tui.app import AcrConsoleApp
    from acr_console.tui.screens.registry_access import RegistryAccessScreen

    conn = json.loads((Path(data) / "connection.json").read_text())
    app = AcrConsoleApp(sandbox_connection(conn))
    async with app.run_test(size=(120, 40)) as pilot:
        reg = await app.backend.find_registry(registry)  # the registry list, as from the first screen
        await pilot.pause()
        t0 = time.perf_counter()
        app.push_screen(RegistryAccessScreen(reg))
        first = await _wait_paint(t0, timeout=60, min_rows=1)
        rows = _marks["shown"]
        await pilot.pause()
        table = app.screen.query_one("#access-table", RowTable)
        table.focus()
        keys = await _type_filter(pilot, "payments-0")
    return {"rows": rows, "first_rows_s": first, "filter_s": statistics.median(keys), "filter_max_s": max(keys),
            "filter_samples": keys, "rss_kb": vm_hwm_kb()}


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    w = sub.add_parser("widget")
    w.add_argument("--rows", type=int, default=20_000)
    a = sub.add_parser("access")
    a.add_argument("--data", required=True)
    a.add_argument("--registry", required=True)
    args = parser.parse_args()
    result = asyncio.run(widget(args.rows) if args.what == "widget" else access(args.data, args.registry))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
