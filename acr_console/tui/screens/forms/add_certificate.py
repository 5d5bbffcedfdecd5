"""Add a certificate credential: an existing certificate file, or a generated one with its key saved."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select

from ....errors import InputError
from ....models import PrincipalDetail
from ....operations.registry import ADD_CERTIFICATE
from .base import OperationForm, optional, principal_heading
from .create_principal import parse_years


class AddCertificateForm(OperationForm):
    OPERATION = ADD_CERTIFICATE
    SELECTORS = frozenset({"source"})

    def __init__(self, detail: PrincipalDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose_fields(self) -> ComposeResult:
        yield principal_heading(self.detail.principal)
        yield from self.field("source", "Certificate", Select(
            [("A certificate file (PEM, DER or CRT)", "file"), ("Generate a self-signed one", "generate")],
            value="file", allow_blank=False, compact=True))
        yield from self.field("file", "Certificate file",
                              Input(placeholder="path to the public certificate", compact=True))
        yield from self.field("out", "Write the new key and certificate to",
                              Input(placeholder="new file, 0600", compact=True))
        yield from self.field("years", "Lifetime in years (1–10; default 1)", Input(placeholder="1", compact=True))
        yield from self.field("display_name", "Display name (optional)", Input(compact=True))

    def on_mount(self) -> None:
        self._show("file")
        self.query_one("#field-source", Select).focus()

    @on(Select.Changed, "#field-source")
    def _changed(self, event: Select.Changed) -> None:
        self._show(str(event.value))

    def _show(self, source: str) -> None:
        self.show_field("file", source == "file")
        self.show_field("out", source == "generate")
        self.show_field("years", source == "generate")

    def request(self) -> object:
        from ....operations import AddCertificateRequest

        source = str(self.query_one("#field-source", Select).value)
        path = optional(self.query_one("#field-file", Input).value)
        out = optional(self.query_one("#field-out", Input).value)
        if source == "file" and not path:
            raise InputError("give the path of the certificate file", field="file")
        return AddCertificateRequest(
            principal=self.detail.principal.object_id or "", file=path if source == "file" else None,
            generate=source == "generate", out=out if source == "generate" else None,
            years=parse_years(self.query_one("#field-years", Input).value) if source == "generate" else None,
            display_name=optional(self.query_one("#field-display-name", Input).value))
