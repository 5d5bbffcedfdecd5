"""One line naming where the console is connected and as whom."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ...azure.connection import Connection


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        color: $text-muted;
        padding: 0 1;
    }
    """

    identity: reactive[str] = reactive("signing in…")

    def __init__(self, connection: Connection, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.connection = connection

    def render(self) -> Text:
        conn = self.connection
        text = Text()
        if conn.sandbox:
            text.append(" SANDBOX ", style="bold reverse")
        else:
            text.append(conn.cloud.name, style="bold")
        text.append("  tenant ")
        text.append(conn.tenant_id or "default", style="bold")
        text.append("  as ")
        # Directory text, so Text not markup: a name like "[red]x" must show as typed.
        text.append(self.identity, style="bold")
        if conn.read_only:
            text.append("  ")
            text.append(" READ-ONLY ", style="bold reverse")
        return text
