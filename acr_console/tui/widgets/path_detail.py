"""The detail pane of the access view: every path through which one principal holds its rights."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...access import token_credentials
from ...models import AccessEntry, PathKind, PrincipalType, RoleAssignmentMode
from ...presentation import (
    LATENT_LABEL,
    NOT_RETURNED,
    admin_user_hint,
    anonymous_hint,
    can_text,
    describe_path,
    expiry_text,
    printable,
    shown,
    token_status_text,
    type_label,
)


def describe_token(entry: AccessEntry, now: datetime) -> Text:
    """A registry token's status, scope map and passwords with their expiry (issue 13 item 4)."""
    token = entry.token
    text = Text()
    if token is None:
        return text
    text.append(f"\ntoken {token.status}", style="bold" if token.enabled else "bold red")
    text.append(" · scope map " + printable(token.scope_map_name or "?"))
    text.append("\npasswords: ")
    if not token.passwords:
        text.append("none", style="yellow")
    for n, cred in enumerate(token_credentials(token)):
        if n:
            text.append(", ")
        text.append(f"{cred.display_name} expires ")
        text.append_text(expiry_text(cred, now))
    status = token_status_text(entry)
    if status is not None:
        text.append("\n")
        text.append_text(status)
    return text


def describe_entry(entry: AccessEntry, mode: RoleAssignmentMode | None = None, now: datetime | None = None) -> Text:
    p = entry.principal
    text = shown(p.display_name, style="bold")
    text.append(f"  {type_label(p.type)}")
    if p.app_id:
        text.append(f"  appId {p.app_id}")
    if p.object_id and p.type is not PrincipalType.ADMIN_USER:
        text.append(f"  object {p.object_id}")
    if not p.enabled:
        text.append("  DISABLED", style="bold red")
    if entry.orphaned:
        text.append(f"\n⚠ {NOT_RETURNED}",
                    style="bold red")
        # Issue 16: how, not advice (it may only be too new to have replicated).
        text.append("\nR: unassign one of its role assignments by id (acr-console unassign --assignment-id ID)",
                    style="dim")
    text.append("\ncan: " + can_text(entry))  # with the repositories where limited (issue 16)
    if entry.token is not None:
        text.append_text(describe_token(entry, now or datetime.now(UTC)))
    for path in entry.paths:
        text.append("\n • ")
        text.append_text(describe_path(path, mode))
        if path.kind is PathKind.ROLE_ASSIGNMENT and path.scope:
            text.append(f"\n   {printable(path.scope)}", style="dim")
        if path.kind is PathKind.ADMIN_USER:  # issue 16
            text.append("\n   U here, or " + admin_user_hint(path, by_hand=True).removeprefix("disable it: "),
                        style="dim")
        if path.kind is PathKind.ANONYMOUS_PULL:  # issue 13
            text.append("\n   P here, or " + anonymous_hint(path, by_hand=True).removeprefix("turn it off: "),
                        style="dim")
    for latent in sorted(entry.latent, key=lambda x: x.value):
        text.append("\n ⚑ ", style="bold red")
        text.append(LATENT_LABEL.get(latent, latent.value), style="red")
    return text


class DetailPane(VerticalScroll):
    """A pane under a table that shows the highlighted row in full and scrolls: with the wheel, or
    with the arrow and page keys once Tab has moved focus into it (issue 16: at 80x24 a principal's
    paths, or an audit record's steps, are taller than the room left under the table)."""

    DEFAULT_CSS = """
    DetailPane {
        height: auto;
        max-height: 45%;
        border-top: solid $primary-darken-2;
        padding: 0 1;
        &:focus {
            border-top: solid $accent;
            background-tint: $foreground 5%;
        }
        & > Static {
            height: auto;
        }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("", classes="detail-text")

    def update(self, text: Text) -> None:
        self.query_one(".detail-text", Static).update(text)
        self.scroll_home(animate=False)  # another row: its text from the top

    @property
    def text(self) -> str:
        """What the pane shows, as plain text."""
        return str(self.query_one(".detail-text", Static).render())


class PathDetail(DetailPane):
    def show_entry(self, entry: AccessEntry | None, mode: RoleAssignmentMode | None = None) -> None:
        clock = getattr(self.app, "now", None)  # the console's clock (pinned for pictures)
        now = clock() if callable(clock) else None
        self.update(describe_entry(entry, mode, now) if entry is not None else
                    Text("No principal selected.", style="dim"))
