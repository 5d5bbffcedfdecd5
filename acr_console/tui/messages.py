"""Results of the screens' workers, posted back to the screen that started them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.message import Message

from ..azure.errors import AzureCallError
from ..models import DirectoryFacts, Principal, PrincipalDetail, RegistryAccess
from ..presentation import shown

if TYPE_CHECKING:
    from ..azure.takeover_reads import OwnerFacts


@dataclass
class ListLoaded(Message):
    """A list screen's fetch returned (the screen knows the type it asked for)."""

    data: object


@dataclass
class PrincipalLoaded(Message):
    detail: PrincipalDetail


@dataclass
class LoadFailed(Message):
    what: str
    error: AzureCallError

    def describe(self) -> Text:
        # Azure's error quotes directory text: shown literally, never as markup.
        return shown(f"Could not read {self.what}. {self.error}", style="bold red")


@dataclass
class TakeoverRead(Message):
    """Issue 17: the takeover reads for `source` (the access the rows show) returned: `access` (its
    entries with their applications' object ids) and `facts`, or `error`."""

    source: RegistryAccess
    access: RegistryAccess | None
    facts: DirectoryFacts | None
    error: str | None


@dataclass
class OwnersRead(Message):
    """Issue 17: owners and federated credentials of the principal view's `principal`, or `error`."""

    principal: Principal
    facts: OwnerFacts | None
    error: str | None
