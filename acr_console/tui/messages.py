"""App-level messages: results of workers, posted back to the UI."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ..azure.errors import AzureError
from ..azure.registries import RegistryListing


@dataclass
class SignedIn(Message):
    identity: dict[str, str | None]


@dataclass
class RegistriesLoaded(Message):
    listing: RegistryListing


@dataclass
class LoadFailed(Message):
    what: str
    error: AzureError
