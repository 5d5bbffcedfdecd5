"""One line naming where the console is connected, as whom, and whether it may write."""

from __future__ import annotations

from rich.text import Text
from textual.color import Color
from textual.reactive import reactive
from textual.widgets import Static

from ...azure.connection import AuthMethod, Connection
from ...models import SignedInIdentity
from ...presentation import printable_text, short_id

# At 80 columns (issue 16): the profile and the identity are cut to these many characters, so
# READ-ONLY, the profile and the identity always fit and leave room for the end of the breadcrumb.
PROFILE_CUT = 14
IDENTITY_CUT = 28
CRUMB_MIN = 6  # a breadcrumb cut to fewer characters than this says nothing: left out


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
        if self.accent:
            # The profile's accent colours the whole line, its padding and the blank to its right
            # included (a Text style colours only the characters): a production tenant is never
            # mistaken for another. Text in the contrasting colour Textual picks for that background.
            colour = Color.parse(self.accent)
            self.styles.background = colour
            self.styles.color = colour.get_contrast_text()

    def _follow_identity(self, identity: SignedInIdentity | None) -> None:
        self.identity = identity

    def _follow_sign_in_error(self, code: str | None) -> None:
        self.sign_in_error = code

    def render(self) -> Text:
        conn = self.connection
        # Room for the text: the widget's width less its padding (0 before the first layout: no cut).
        room = self.content_region.width if self.size.width else 0
        narrow = 0 < self.size.width < 110
        # The safety signals first, never dropped (issue 16): READ-ONLY, where (sandbox or cloud),
        # which profile, as whom. Then the tenant if it fits, and the breadcrumb last, cut from
        # the left (its end names the screen).
        gap = " " if narrow else "  "
        text = Text()
        if conn.read_only:
            text.append(" READ-ONLY ", style="bold reverse")
            text.append(" ")
        if conn.sandbox:
            text.append(" SANDBOX ", style="bold reverse")
            text.append(" ")
        else:
            text.append(conn.cloud.name, style="bold")
            text.append(gap)
        if self.profile:
            text.append(f"[{_cut(self.profile, PROFILE_CUT if narrow else PROFILE_CUT * 3)}]", style="bold")
            text.append(gap)
        text.append("as ")
        # Directory text, so Text not markup: a name like "[red]x" must show as typed.
        who = identity_label(self.identity, self.sign_in_error, narrow=narrow)
        if narrow:  # cut only as much as the end of the breadcrumb needs (at least to IDENTITY_CUT)
            who = _cut(who, max(IDENTITY_CUT, room - text.cell_len - 3 - CRUMB_MIN))
        text.append(who, style="bold")
        if conn.auth.method is AuthMethod.MANAGED_IDENTITY:
            # Which of the host's identities: a user-assigned one's client id, or the system-assigned.
            mi = conn.auth.client_id
            text.append(f"  via managed identity {short_id(mi) if narrow else mi}" if mi
                        else "  via system-assigned managed identity")
        tenant = conn.tenant_id or "default"
        # Whole if it fits, else shortened (the help and principal views show it whole), else left out.
        for shown_tenant in ((short_id(tenant),) if narrow else (tenant, short_id(tenant))):
            tenant_text = Text(f"{gap}tenant ")
            tenant_text.append(shown_tenant, style="bold")
            if not room or text.cell_len + tenant_text.cell_len <= room:
                text.append_text(tenant_text)
                break
        if self.crumb:
            left = room - text.cell_len - len(gap) - 2 if room else len(self.crumb)
            if left >= CRUMB_MIN:
                crumb = self.crumb if len(self.crumb) <= left else "…" + self.crumb[-(left - 1):]
                text.append(f"{gap}› ")
                text.append(crumb)
        # The identity and the crumb are directory text: control characters are shown, not sent.
        return printable_text(text, keep_lines=False)


def _cut(value: str, limit: int) -> str:
    """`value` in at most `limit` characters, its end replaced by … when cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
