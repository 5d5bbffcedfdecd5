"""Reset a principal's client secret: append a new one, or replace (listing what will be removed)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select, Static

from ....models import CredentialKind, CredentialOwner, PrincipalDetail
from ....operations.registry import RESET_CREDENTIAL
from ....presentation import expiry_text
from .base import OperationForm, optional, principal_heading
from .create_principal import parse_years


class ResetCredentialForm(OperationForm):
    OPERATION = RESET_CREDENTIAL
    SELECTORS = frozenset({"mode"})  # sets `replace`

    def __init__(self, detail: PrincipalDetail) -> None:
        super().__init__()
        # Captured now: the form, the plan and the confirmation all name this principal, whatever
        # the screen underneath shows later.
        self.detail = detail

    def compose_fields(self) -> ComposeResult:
        yield principal_heading(self.detail.principal)
        yield from self.field("mode", "Append a new secret, or replace the existing ones",
                              Select([("Append (keep existing secrets)", "append"),
                                      ("Replace (remove existing secrets after the new one exists)", "replace")],
                                     value="append", allow_blank=False, compact=True))
        owners = [("Application (App registrations)", CredentialOwner.APPLICATION.value)]
        owners.append(("Service principal object", CredentialOwner.SERVICE_PRINCIPAL.value))
        yield from self.field("on", "On",
                              Select(owners, value=CredentialOwner.APPLICATION.value, allow_blank=False, compact=True))
        yield Static("", id="reset-removed")
        yield from self.field("years", "Lifetime in years (1–10; default 1)", Input(placeholder="1", compact=True))
        yield from self.field("display_name", "Secret's display name (optional)",
                              Input(placeholder="acr-console", compact=True))

    def on_mount(self) -> None:
        self._update_removed()
        self.query_one("#field-mode", Select).focus()

    @on(Select.Changed)
    def _changed(self) -> None:
        self._update_removed()

    def _to_remove(self) -> list[object]:
        owner = CredentialOwner(str(self.query_one("#field-on", Select).value))
        return [c for c in self.detail.credentials if c.owner is owner and c.kind is CredentialKind.PASSWORD]

    def _update_removed(self) -> None:
        replace = self.query_one("#field-mode", Select).value == "replace"
        box = self.query_one("#reset-removed", Static)
        if not replace:
            box.update(Text("Existing secrets are kept.", style="dim"))
            return
        old = self._to_remove()
        if not old:
            box.update(Text("There are no secrets to remove there.", style="dim"))
            return
        text = Text(f"These {len(old)} secret(s) will be removed:", style="bold red")
        now = self.console.now()
        for c in old:
            text.append(f"\n • '{c.hint or '?'}…' {c.display_name or ''} ")  # type: ignore[attr-defined]
            text.append_text(expiry_text(c, now))  # type: ignore[arg-type]
            text.append(f"  key {c.key_id}", style="dim")  # type: ignore[attr-defined]
        box.update(text)

    def request(self) -> object:
        from ....operations import ResetCredentialRequest

        return ResetCredentialRequest(
            principal=self.detail.principal.object_id or "",
            replace=self.query_one("#field-mode", Select).value == "replace",
            on=CredentialOwner(str(self.query_one("#field-on", Select).value)),
            years=parse_years(self.query_one("#field-years", Input).value),
            display_name=optional(self.query_one("#field-display-name", Input).value))
