"""Results of the screens' workers, posted back to the screen that started them."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message

from ..azure.errors import AzureCallError
from ..models import PrincipalDetail
from ..presentation import shown


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
