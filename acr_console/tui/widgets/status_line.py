"""One line naming where the console is connected, as whom, and whether it may write."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ...azure.connection import Connection
from ...presentation import printable_text, short_id


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
    crumb: reactive[str] = reactive("")

    def __init__(self, connection: Connection, *, profile: str | None = None, accent: str | None = None,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.connection = connection
        self.profile = profile
        self.accent = accent

    def render(self) -> Text:
        conn = self.connection
        # A profile's accent colours the whole line, so a production tenant is never mistaken for another.
        text = Text(style=Style.parse(f"on {self.accent}") if self.accent else "")
        if conn.sandbox:
            text.append(" SANDBOX ", style="bold reverse")
            text.append(" ")
        else:
            text.append(conn.cloud.name, style="bold")
            text.append("  ")
        if self.profile:
            text.append(f"[{self.profile}]  ", style="bold")
        # At 80 columns two GUIDs leave no room: shorten them, the help and principal views show them whole.
        narrow = 0 < self.size.width < 110
        tenant = conn.tenant_id or "default"
        text.append("tenant ")
        text.append(short_id(tenant) if narrow else tenant, style="bold")
        text.append("  as ")
        identity = self.identity
        if narrow and identity.startswith("app ") and len(identity) > 16:
            identity = "app " + short_id(identity[4:])
        # Directory text, so Text not markup: a name like "[red]x" must show as typed.
        text.append(identity, style="bold")
        if conn.read_only:
            text.append("  ")
            text.append(" READ-ONLY ", style="bold reverse")
        if self.crumb:
            text.append("  › ")
            text.append(self.crumb)
        # The identity and the crumb are directory text: control characters are shown, not sent.
        return printable_text(text, keep_lines=False)
