"""The registry-token writes (issue 13 item 4): disable a token, remove one of its passwords. Started
from the access view with a token's row highlighted (its registry and name filled in), or from the
palette anywhere (choose the registry, type the token's name)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Select, Static

from ....errors import InputError
from ....models import Principal, PrincipalType, Registry
from ....operations.registry import DISABLE_TOKEN, REMOVE_TOKEN_PASSWORD
from .base import OperationForm, optional


class _TokenForm(OperationForm):
    EXPLAIN = ""

    def __init__(self, registries: list[Registry], registry: Registry | None = None,
                 principal: Principal | None = None) -> None:
        super().__init__()
        self.registries = registries
        self.initial = registry
        # A token's row names the token; any other row (or none) leaves the name to type.
        self.token = principal.display_name if principal is not None and \
            principal.type is PrincipalType.REGISTRY_TOKEN else ""

    def compose_fields(self) -> ComposeResult:
        yield Static(Text(self.EXPLAIN, style="dim"))
        yield from self.field("registry", "Registry", Select(
            [(r.name, r.id) for r in self.registries], value=self.initial.id if self.initial else Select.NULL,
            allow_blank=self.initial is None, compact=True))
        yield from self.field("token", "Token (its name)", Input(value=self.token, placeholder="e.g. ci-team-push",
                                                                 compact=True))

    def on_mount(self) -> None:
        self.query_one("#field-token" if self.initial and not self.token else "#field-registry").focus()

    def registry_and_token(self) -> tuple[str, str]:
        value = self.query_one("#field-registry", Select).value
        if not isinstance(value, str):
            raise InputError("choose the token's registry", field="registry")
        token = optional(self.query_one("#field-token", Input).value)
        if token is None:
            raise InputError("type the token's name (the access view lists a registry's tokens)", field="token")
        return value, token


class DisableTokenForm(_TokenForm):
    OPERATION = DISABLE_TOKEN
    EXPLAIN = ("A disabled token's passwords no longer sign in; its scope map and passwords are kept, so enabling "
               "it again restores it.")

    def request(self) -> object:
        from ....operations import DisableTokenRequest

        registry, token = self.registry_and_token()
        return DisableTokenRequest(registry=registry, token=token)


class RemoveTokenPasswordForm(_TokenForm):
    OPERATION = REMOVE_TOKEN_PASSWORD
    EXPLAIN = ("A removed password cannot be brought back, only generated anew; the token's other password "
               "keeps working.")

    def compose_fields(self) -> ComposeResult:
        yield from super().compose_fields()
        yield from self.field("password", "Password to remove", Select(
            [("password1", "password1"), ("password2", "password2")], value="password1", allow_blank=False,
            compact=True))

    def request(self) -> object:
        from ....operations import RemoveTokenPasswordRequest

        registry, token = self.registry_and_token()
        return RemoveTokenPasswordRequest(registry=registry, token=token,
                                          password=str(self.query_one("#field-password", Select).value))
