"""One line naming where the console is connected, as whom, and whether it may write."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ...azure.connection import AuthMethod, Connection
from ...models import SignedInIdentity
from ...presentation import printable_text, short_id


def identity_label(identity: SignedInIdentity | None, sign_in_error: str | None, *, narrow: bool = False) -> str:
    if sign_in_error is not None:
        return f"not signed in ({sign_in_error})"
    if identity is None:
        return "signing in…"
    if identity.name:
        return identity.name
    if identity.app_id:
        # At 80 columns two GUIDs leave no room: the help and principal views show it whole.
        return "app " + (short_id(identity.app_id) if narrow else identity.app_id)
    return "unknown"


class StatusLine(Static):
    """Who is signed in is the app's (one sign-in for every screen): each status line follows the
    app's `identity` and `sign_in_error` reactives instead of being told."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        color: $text-muted;
        padding: 0 1;
    }
    """

    identity: reactive[SignedInIdentity | None] = reactive(None)
    sign_in_error: reactive[str | None] = reactive(None)
    crumb: reactive[str] = reactive("")

    def __init__(self, connection: Connection, *, profile: str | None = None, accent: str | None = None,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.connection = connection
        self.profile = profile
        self.accent = accent

    def on_mount(self) -> None:
        self.watch(self.app, "identity", self._follow_identity)
        self.watch(self.app, "sign_in_error", self._follow_sign_in_error)

    def _follow_identity(self, identity: SignedInIdentity | None) -> None:
        self.identity = identity

    def _follow_sign_in_error(self, code: str | None) -> None:
        self.sign_in_error = code

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
        # Directory text, so Text not markup: a name like "[red]x" must show as typed.
        text.append(identity_label(self.identity, self.sign_in_error, narrow=narrow), style="bold")
        if conn.auth.method is AuthMethod.MANAGED_IDENTITY:
            # Which of the host's identities: a user-assigned one's client id, or the system-assigned.
            mi = conn.auth.client_id
            text.append(f"  via managed identity {short_id(mi) if narrow else mi}" if mi
                        else "  via system-assigned managed identity")
        if conn.read_only:
            text.append("  ")
            text.append(" READ-ONLY ", style="bold reverse")
        if self.crumb:
            text.append("  › ")
            text.append(self.crumb)
        # The identity and the crumb are directory text: control characters are shown, not sent.
        return printable_text(text, keep_lines=False)
