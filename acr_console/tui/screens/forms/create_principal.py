"""Create a service principal: name, registry, a role that follows the registry's mode, a password or
a certificate, and its lifetime."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select

from ....errors import InputError
from ....operations.registry import CREATE_PRINCIPAL
from .assign_role import repositories_field, repositories_value, show_repositories
from .base import optional
from .registry_role import RegistryRoleForm

CREDENTIAL_CHOICES = (("Password (shown once)", "password"), ("Generate a certificate and key", "generate"),
                      ("Certificate file (public part only)", "file"))


def parse_years(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise InputError(f"'{text}' is not a whole number of years (1 to 10)", field="years")
    return int(text)


class CreatePrincipalForm(RegistryRoleForm):
    OPERATION = CREATE_PRINCIPAL
    SELECTORS = frozenset({"credential"})
    PREFERRED_ROLE = "AcrPush"

    def compose_fields(self) -> ComposeResult:
        yield from self.field("name", "Display name", Input(placeholder="e.g. ci-push-payments", compact=True))
        yield from self.registry_fields("Role (follows the registry's mode)")
        yield from repositories_field(self)  # issue 16: ABAC Repository roles only
        yield from self.field("credential", "Credential", Select(CREDENTIAL_CHOICES, value="password",
                                                                  allow_blank=False, compact=True))
        yield from self.field("certificate", "Certificate file (PEM, DER or CRT)",
                              Input(placeholder="path to the public certificate", compact=True))
        yield from self.field("out", "Save the secret to (optional for a password; required to generate)",
                              Input(placeholder="new file, written 0600", compact=True))
        yield from self.field("years", "Lifetime in years (1–10; default 1)", Input(placeholder="1", compact=True))

    def on_mount(self) -> None:
        show_repositories(self)
        self._show_credential_fields("password")
        self.query_one("#field-name", Input).focus()

    @on(Select.Changed, "#field-role, #field-registry")
    def _repositories_apply(self) -> None:
        self.call_after_refresh(show_repositories, self)

    @on(Select.Changed, "#field-credential")
    def _credential_changed(self, event: Select.Changed) -> None:
        self._show_credential_fields(str(event.value))

    def _show_credential_fields(self, kind: str) -> None:
        self.show_field("certificate", kind == "file")
        self.show_field("out", kind != "file")
        self.show_field("years", kind != "file")

    def request(self) -> object:
        from ....operations import CreatePrincipalRequest
        from ....operations.validation import check_display_name

        # The fields in the order they are shown: the first problem a person sees is the top one.
        name = check_display_name(self.query_one("#field-name", Input).value)
        registry = self.registry
        if registry is None:
            raise InputError("choose a registry", field="registry")
        kind = str(self.query_one("#field-credential", Select).value)
        certificate = optional(self.query_one("#field-certificate", Input).value)
        out = optional(self.query_one("#field-out", Input).value)
        years = parse_years(self.query_one("#field-years", Input).value) if kind != "file" else None
        if kind == "file" and not certificate:
            raise InputError("give the path of the certificate file", field="certificate")
        return CreatePrincipalRequest(
            name=name, registry=registry.id,
            role=str(self.query_one("#field-role", Select).value),
            certificate=None if kind == "password" else ("generate" if kind == "generate" else certificate),
            out=out if kind != "file" else None, years=years, repositories=repositories_value(self))
