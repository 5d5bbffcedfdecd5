"""Remove one credential of a principal: a secret or a certificate, chosen from those it has."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Select

from ....errors import InputError
from ....models import Credential, CredentialKind, CredentialOwner, PrincipalDetail
from ....operations.registry import REMOVE_CREDENTIAL
from ....presentation import printable
from .base import OperationForm, principal_heading


def credential_label(c: Credential) -> Text:
    """One credential as a person recognises it: kind, hint or thumbprint, name, owner, end, key id."""
    if c.kind is CredentialKind.PASSWORD:
        what = f"secret '{c.hint}…'" if c.hint else "secret"
    else:
        what = f"certificate {c.thumbprint[:12]}…" if c.thumbprint else "certificate"
    name = f" {printable(c.display_name)}" if c.display_name else ""
    on = "application" if c.owner is CredentialOwner.APPLICATION else "service principal"
    end = c.end.date().isoformat() if c.end else "never"
    return Text(f"{what}{name} on the {on}, expires {end}, key {c.key_id}")


class RemoveCredentialForm(OperationForm):
    OPERATION = REMOVE_CREDENTIAL

    def __init__(self, detail: PrincipalDetail) -> None:
        super().__init__()
        self.detail = detail  # captured now: the plan names this principal's credential

    def compose_fields(self) -> ComposeResult:
        yield principal_heading(self.detail.principal)
        options = [(credential_label(c), c.key_id) for c in self.detail.credentials]
        yield from self.field("key_id", "Credential to remove", Select(options, compact=True))

    def on_mount(self) -> None:
        self.query_one("#field-key-id", Select).focus()

    def request(self) -> object:
        from ....operations import RemoveCredentialRequest

        value = self.query_one("#field-key-id", Select).value
        if not isinstance(value, str):
            raise InputError("choose the credential to remove" if self.detail.credentials else
                             "this principal has no credential to remove", field="key_id")
        return RemoveCredentialRequest(principal=self.detail.principal.object_id or "", key_id=value)
