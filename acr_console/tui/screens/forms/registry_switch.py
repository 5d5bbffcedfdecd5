"""The form of an operation that turns a registry setting off (anonymous pull, the admin user): the
registry, those with the setting on first, and what turning it off means, before the plan. Each
operation's form module names its setting, its words and its request; this holds what they share."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Select, Static

from ....errors import InputError
from ....models import Registry
from .base import OperationForm


class RegistrySwitchForm(OperationForm):
    SETTING = ""  # e.g. "admin user": the registry list says "(admin user ON)"
    EXPLANATION = ""  # what turning it off changes, shown above the list

    def __init__(self, registries: list[Registry], registry: Registry | None = None) -> None:
        super().__init__()
        # Those with the setting on first: they are the ones this is for.
        self.registries = sorted(registries, key=lambda r: not self.is_on(r))
        self.initial = registry or (self.registries[0] if self.registries else None)

    def is_on(self, registry: Registry) -> bool:
        raise NotImplementedError

    def request_for(self, registry_id: str) -> object:
        raise NotImplementedError

    def registry_label(self, registry: Registry) -> str:
        return f"{registry.name} ({self.SETTING} ON)" if self.is_on(registry) else registry.name

    def compose_fields(self) -> ComposeResult:
        yield Static(Text(self.EXPLANATION, style="dim"))
        yield from self.field("registry", "Registry", Select(
            [(self.registry_label(r), r.id) for r in self.registries],
            value=self.initial.id if self.initial else Select.NULL, allow_blank=self.initial is None, compact=True))

    def on_mount(self) -> None:
        self.query_one("#field-registry", Select).focus()

    def request(self) -> object:
        value = self.query_one("#field-registry", Select).value
        if not isinstance(value, str):
            raise InputError("choose a registry", field="registry")
        return self.request_for(value)


