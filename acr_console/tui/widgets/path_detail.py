"""The detail pane of the access view: every path through which one principal holds its rights, and
(issue 17) who can take it over and the workloads that sign in as it with no secret."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...access import (
    TakeoverIndex,
    federated_credentials,
    holder_counts,
    read_federated,
    takeover_paths,
    token_credentials,
)
from ...access.federated import FederatedReading
from ...models import (
    AccessEntry,
    CredentialTarget,
    FederatedIdentityCredential,
    PathKind,
    PrincipalType,
    RoleAssignmentMode,
    TakeoverHow,
    TakeoverPath,
)
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


# -- issue 17: takeover and federated credentials -------------------------------------------------

# Holders named in the tenant-wide summary, per role or permission; the rest are counted.
TENANT_NAMES_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Takeover:
    """What the access view knows of who can take its principals over: read after the rows are shown
    (``reading``), read (``index``), or not (``error``)."""

    index: TakeoverIndex | None = None
    reading: bool = False
    error: str | None = None

    def paths(self, entry: AccessEntry) -> tuple[TakeoverPath, ...]:
        return takeover_paths(entry, self.index) if self.index is not None else ()

    def federated(self, entry: AccessEntry) -> tuple[FederatedIdentityCredential, ...]:
        return federated_credentials(entry, self.index) if self.index is not None else ()

    def tenant_wide(self, entry: AccessEntry) -> Sequence[TakeoverPath]:
        """The paths every service principal shares (tenant-wide roles, Graph permissions): the same
        objects in every entry's paths (TakeoverIndex.common)."""
        if self.index is None:
            return ()
        return self.index.common(entry.principal.application_object_id is not None)[0]


def takeable(entry: AccessEntry) -> bool:
    """A principal that takes a credential: a service principal with a right (what the reads cover)."""
    return entry.principal.type is PrincipalType.SERVICE_PRINCIPAL and bool(entry.principal.object_id) and bool(
        entry.rights)


def how_text(path: TakeoverPath) -> str:
    """How ``path.by`` gets a credential on the principal, in words."""
    on = "application" if path.target is CredentialTarget.APPLICATION else "service principal"
    if path.how is TakeoverHow.APPLICATION_OWNER:
        return "owner of its application"
    if path.how is TakeoverHow.SERVICE_PRINCIPAL_OWNER:
        return "owner of its service principal"
    if path.how is TakeoverHow.DIRECTORY_ROLE:
        where = "tenant-wide" if path.scope in (None, "/") else f"scoped to its {on}"
        return f"{path.detail} ({where})"
    owned = " (owner of its " + on + ")" if path.detail.endswith(".OwnedBy") else ""
    return f"Graph permission {path.detail}{owned}"


def describe_reading(reading: FederatedReading, subject: str) -> str:
    """A federated credential's plain reading: which workload signs in with it."""
    if reading.kind == "github":
        where = f"GitHub {reading.repository}" if reading.repository else "GitHub (repository by id)"
        ref = {"branch": "branch", "tag": "tag", "environment": "environment", "ref": "ref"}.get(reading.ref_kind or "")
        if ref and reading.ref_name:
            where += f", {ref} {reading.ref_name}"
        elif reading.ref_kind == "pull-request":
            where += ", pull requests"
        return where + (" (customised subject)" if reading.customised else "")
    if reading.kind == "kubernetes":
        return (f"Kubernetes namespace {reading.namespace}, service account {reading.service_account}"
                + (" (AKS)" if reading.aks else ""))
    return f"other issuer {reading.issuer_host or '(no host)'}, subject {subject}"


def federated_lines(credentials: Sequence[FederatedIdentityCredential]) -> Text:
    """Each credential: its name and reading, then issuer and subject as Graph holds them."""
    text = Text()
    for c in credentials:
        text.append("\n ⚷ ", style="magenta")
        text.append(printable(c.name), style="bold")
        text.append(": ")
        text.append(printable(describe_reading(read_federated(c), c.subject)))
        text.append(f"\n   issuer {printable(c.issuer)}\n   subject {printable(c.subject)}", style="dim")
    return text


def _tenant_summary(paths: Sequence[TakeoverPath]) -> Text:
    """``+ 4 tenant-wide: Application Administrator ×1 (Erin Oduya); …``: who can take over every service
    principal alike, once, grouped by role or permission."""
    groups: dict[tuple[str, int], list[str]] = {}
    who: set[str] = set()
    for p in paths:
        if p.itself:
            continue
        who.add((p.by.object_id or p.by.display_name).lower())
        name = p.by.display_name + (f" via {' › '.join(p.via_groups)}" if p.via_groups else "")
        groups.setdefault((p.detail, p.steps), []).append(name)
    text = Text()
    if not who:
        return text
    text.append(f"\n + {len(who)} tenant-wide", style="bold")
    text.append(" (the same for every service principal): ")
    for n, ((detail, steps), names) in enumerate(groups.items()):
        if n:
            text.append("; ")
        text.append(printable(detail), style="bold")
        text.append(f" ×{len(names)}" + (", two steps" if steps == 2 else "") + " (")
        text.append(printable(", ".join(names[:TENANT_NAMES_SHOWN])))
        if len(names) > TENANT_NAMES_SHOWN:
            text.append(f" and {len(names) - TENANT_NAMES_SHOWN} more")
        text.append(")")
    return text


def describe_takeover(entry: AccessEntry, takeover: Takeover) -> Text:
    """The detail pane's takeover section: a heading with the counts, this principal's own chains (who,
    how, scope, groups, steps), the tenant-wide holders summarised once, its federated credentials."""
    text = Text()
    if entry.principal.type is PrincipalType.MANAGED_IDENTITY:
        text.append("\ntakeover: a managed identity takes no credential; whoever controls its Azure resource "
                    "runs as it", style="dim")
        return text
    if not takeable(entry):
        return text
    if takeover.error is not None:
        text.append("\ntakeover: could not read. ", style="bold red")
        text.append(printable(takeover.error), style="red")
        return text
    if takeover.index is None:
        text.append("\ntakeover: reading owners, directory roles and Graph permissions…", style="italic dim")
        return text
    paths = takeover.paths(entry)
    credentials = takeover.federated(entry)
    count, two = holder_counts(paths)
    text.append("\ntakeover: ", style="bold")
    text.append(f"{count} can take it over" + (f" ({two} only in two steps)" if two else "") if count else
                "no one found who can add a credential")
    if credentials:
        text.append(f" · {len(credentials)} federated credential" + ("s" if len(credentials) > 1 else ""),
                    style="magenta")
    shared = {id(p) for p in takeover.tenant_wide(entry)}
    for path in paths:
        if id(path) in shared:
            continue
        text.append("\n ⇢ ", style="yellow")
        text.append(printable(path.by.display_name), style="bold")
        text.append(f" ({type_label(path.by.type)}) " + how_text(path))
        if path.itself:
            text.append(" · itself: whoever holds one of its credentials can add more", style="dim")
        text.append(" · two steps: grants itself the right first" if path.steps == 2 else " · one step",
                    style="yellow" if path.steps == 2 else "")
        if path.via_groups:
            text.append("\n   via group " + printable(" › ".join(path.via_groups)), style="dim")
        if path.scope not in (None, "/"):
            text.append(f"\n   directory scope {printable(path.scope or '')}", style="dim")
    text.append_text(_tenant_summary([p for p in paths if id(p) in shared]))
    if credentials:
        text.append("\nfederated sign-in, no secret:", style="bold magenta")
        text.append_text(federated_lines(credentials))
    return text


def describe_entry(entry: AccessEntry, mode: RoleAssignmentMode | None = None, now: datetime | None = None,
                   takeover: Takeover | None = None) -> Text:
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
    if takeover is not None:
        text.append_text(describe_takeover(entry, takeover))
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
    def show_entry(self, entry: AccessEntry | None, mode: RoleAssignmentMode | None = None,
                   takeover: Takeover | None = None) -> None:
        clock = getattr(self.app, "now", None)  # the console's clock (pinned for pictures)
        now = clock() if callable(clock) else None
        self.update(describe_entry(entry, mode, now, takeover) if entry is not None else
                    Text("No principal selected.", style="dim"))
