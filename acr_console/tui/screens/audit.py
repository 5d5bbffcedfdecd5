"""The audit log: every write the consoles on this machine made, newest first, with each step's result."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding

from ...presentation import printable_text
from ..backend import AuditRecords
from ..widgets.path_detail import DetailPane
from ..widgets.row_table import Row, Shown
from .list_screen import Column, ListScreen

_RESULT_STYLE = {"ok": "bold green", "failed": "bold red", "interrupted": "bold yellow"}


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


class AuditScreen(ListScreen[AuditRecords]):
    CRUMB = "audit log"
    LIST = "audit"
    LOADING = "Reading the audit log…"
    WHAT = "the audit log"
    COLUMNS = tuple(Column(label) for label in ("Time (UTC)", "Operation", "Principal", "Result", "Steps"))
    BINDINGS = [
        Binding("enter", "open", "Principal", tooltip="Open the principal the highlighted write was about.",
                id="audit.open"),
        Binding("slash", "filter", "Filter", tooltip="Narrow by operation, principal, result, or any target id "
                "(appId, object id, registry id).", id="audit.filter"),
        Binding("r", "refresh", "Refresh", tooltip="Read the audit file again.", id="audit.refresh"),
    ]

    def compose_below(self) -> ComposeResult:
        yield DetailPane(id="audit-detail")  # scrolls: a failed step's error can be long

    async def fetch(self, refresh: bool) -> AuditRecords:
        return await self.backend.audit_records()

    def build_rows(self, data: AuditRecords) -> list[Row]:
        rows: list[Row] = []
        for n, record in enumerate(data.records):
            target = record.get("target") or {}
            who = str(target.get("principal") or target.get("displayName") or target.get("appId") or "")
            result = str(record.get("result", "?"))
            steps = record.get("steps") or []
            ok = sum(1 for s in steps if s.get("status") in ("done", "already-done"))
            cells = (Text(str(record.get("time", ""))[:19].replace("T", " ")), Text(str(record.get("operation", ""))),
                     Text(who), Text(result, style=_RESULT_STYLE.get(result, "")), Text(f"{ok}/{len(steps)}"))
            # Every value of the target too: a pasted appId, object id or registry id finds its writes.
            ids = (str(v) for v in target.values() if isinstance(v, str | int) and not isinstance(v, bool))
            search = " ".join((str(record.get("operation", "")), who, result, str(record.get("title", "")),
                               *ids)).lower()
            rows.append(Row(f"r{n}", cells, search, record))
        return rows

    def summary(self, shown: Shown, needle: str) -> Text:
        assert self.data is not None
        if not self.rows:
            return Text(f"No writes recorded yet ({self.data.path}).", style="dim")
        return Text(f"{shown.describe('records')} · {self.data.path}")

    def open_row(self, row: Row) -> None:
        target = (row.data.get("target") or {}) if isinstance(row.data, dict) else {}
        ref = target.get("servicePrincipalObjectId") or target.get("appId")
        if isinstance(ref, str) and ref:
            self.console.open_principal_checked(ref)
        else:
            self.notify("That write was not about a principal (see the detail below).", severity="information")

    def show_detail(self, row: Row | None) -> None:
        detail = record_detail(row.data) if row is not None and isinstance(row.data, dict) else Text("")
        self.query_one("#audit-detail", DetailPane).update(detail)
