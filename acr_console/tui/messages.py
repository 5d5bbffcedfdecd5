"""App-level messages: results of workers, posted back to the UI thread of control."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from ..azure.errors import AzureCallError
from ..models import PrincipalDetail, RegistryAccess

if TYPE_CHECKING:
    from ..azure.principals import ExpiringCredential
    from ..azure.registries import RegistryListing


@dataclass
class SignedIn(Message):
    label: str


@dataclass
class SignInFailed(Message):
    error: AzureCallError


@dataclass
class RegistriesLoaded(Message):
    listing: RegistryListing


@dataclass
class AccessLoaded(Message):
    access: RegistryAccess


@dataclass
class PrincipalLoaded(Message):
    detail: PrincipalDetail


@dataclass
class ExpiringLoaded(Message):
    items: list[ExpiringCredential]
    within_days: int


@dataclass
class LoadFailed(Message):
    what: str
    error: AzureCallError
