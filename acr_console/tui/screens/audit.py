"""The audit log: every write the consoles on this machine made, newest first, with each step's result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from ...presentation import printable_text
from ..widgets.filter_bar import FilterBar
from ..widgets.row_table import Row, RowTable
from .base import ConsoleScreen

_RESULT_STYLE = {"ok": "bold green", "failed": "bold red", "interrupted": "bold yellow"}


@dataclass
class AuditLoaded(Message):
    path: str
    records: list[dict[str, Any]]


def record_detail(record: dict[str, Any]) -> Text:
    text = Text(str(record.get("title", record.get("operation", "?"))), style="bold")
    identity = record.get("identity") or {}
    text.append(f"\n{record.get('time', '')} by {identity.get('name') or identity.get('appId') or '?'} "
                f"in tenant {record.get('tenant') or '?'} ({record.get('cloud') or '?'})", style="dim")
    for step in record.get("steps", []):
        status = str(step.get("status", "?"))
        text.append(f"\n {status:>12} ", style=_RESULT_STYLE.get("ok" if status in ("done", "already-done")
                                                                 else "failed" if status == "failed" else "", ""))
        text.append(str(step.get("description", "")))
        error = step.get("error")
        if error:
            text.append(f"\n              {error.get('code')}: {error.get('message')}", style="red")
    if record.get("correlationIds"):
        text.append("\ncorrelation ids: " + ", ".join(record["correlationIds"][:4]), style="dim")
    return printable_text(text)


class AuditScreen(ConsoleScreen):
    CRUMB = "audit log"
    BINDINGS = [
        Binding("slash", "filter", "Filter", tooltip="Narrow by operation, principal or result.", id="audit.filter"),
        Binding("r", "refresh", "Refresh", tooltip="Read the audit file again.", id="audit.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[Row] = []
        self._path = ""

    def compose_body(self) -> ComposeResult:
        with Vertical(id="audit-body"):
            yield Static("Reading the audit log…", id="audit-message")
            yield FilterBar(id="audit-filter")
            yield RowTable(id="audit-table", max_rows=self.console.settings.max_rows)
            yield Static("", id="audit-detail")

    def on_mount(self) -> None:
        table = self.query_one("#audit-table", RowTable)
        for label in ("Time (UTC)", "Operation", "Principal", "Result", "Steps"):
            table.add_column(label)
        table.focus()
        self.load()

    @work(exclusive=True, group="audit", thread=True, exit_on_error=False)
    def load(self) -> None:
        from ...operations import AuditLog

        log = AuditLog()
        self.post_message(AuditLoaded(str(log.path), list(reversed(log.read()))))

    @on(AuditLoaded)
    def _loaded(self, message: AuditLoaded) -> None:
        self._path = message.path
        rows: list[Row] = []
        for n, record in enumerate(message.records):
            target = record.get("target") or {}
            who = str(target.get("principal") or target.get("displayName") or target.get("appId") or "")
            result = str(record.get("result", "?"))
            steps = record.get("steps") or []
            ok = sum(1 for s in steps if s.get("status") in ("done", "already-done"))
            cells = (Text(str(record.get("time", ""))[:19].replace("T", " ")), Text(str(record.get("operation", ""))),
                     Text(who), Text(result, style=_RESULT_STYLE.get(result, "")), Text(f"{ok}/{len(steps)}"))
            search = " ".join((str(record.get("operation", "")), who, result, str(record.get("title", "")))).lower()
            rows.append(Row(f"r{n}", cells, search, record))
        self._rows = rows
        self._render_rows()

    def _render_rows(self) -> None:
        shown = self.query_one("#audit-table", RowTable).show_rows(self._rows, self.query_one(FilterBar).value)
        if not self._rows:
            message = Text(f"No writes recorded yet ({self._path}).", style="dim")
        else:
            message = Text(f"{shown.describe('records')} · {self._path}")
        self.query_one("#audit-message", Static).update(message)
        self._show_detail()

    def _show_detail(self) -> None:
        row = self.query_one("#audit-table", RowTable).current_row
        detail = record_detail(row.data) if row is not None and isinstance(row.data, dict) else Text("")
        self.query_one("#audit-detail", Static).update(detail)

    @on(RowTable.RowHighlighted, "#audit-table")
    def _highlighted(self) -> None:
        self._show_detail()

    @on(FilterBar.Applied)
    def _filter_changed(self) -> None:
        self._render_rows()

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_refresh(self) -> None:
        self.load()
