"""What an operation acts on, read once when its plan is made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..azure.clients import AzureClients
from ..azure.directory import application_for, credentials_of, find_service_principal
from ..models import Credential, CredentialKind, CredentialOwner
from .plan import Detail


@dataclass(frozen=True)
class PrincipalTarget:
    sp: dict[str, Any]
    app: dict[str, Any] | None  # None: the application lives in another tenant

    @property
    def object_id(self) -> str:
        return str(self.sp["id"])

    @property
    def app_id(self) -> str:
        return str(self.sp["appId"])

    @property
    def display_name(self) -> str:
        return str(self.sp.get("displayName") or self.app_id)

    @property
    def app_object_id(self) -> str | None:
        return str(self.app["id"]) if self.app else None

    @property
    def enabled(self) -> bool:
        return bool(self.sp.get("accountEnabled", True))

    def owner_id(self, owner: CredentialOwner) -> str | None:
        return self.app_object_id if owner is CredentialOwner.APPLICATION else self.object_id

    def credentials(self, owner: CredentialOwner | None = None) -> list[Credential]:
        out: list[Credential] = []
        if self.app is not None and owner in (None, CredentialOwner.APPLICATION):
            out += credentials_of(self.app, CredentialOwner.APPLICATION)
        if owner in (None, CredentialOwner.SERVICE_PRINCIPAL):
            out += credentials_of(self.sp, CredentialOwner.SERVICE_PRINCIPAL)
        return out

    def target(self) -> dict[str, Detail]:
        return {"principal": self.display_name, "appId": self.app_id, "servicePrincipalObjectId": self.object_id,
                "applicationObjectId": self.app_object_id}


async def resolve_principal(az: AzureClients, ref: str) -> PrincipalTarget:
    sp = await find_service_principal(az, ref)
    # A search result may be trimmed; the full object carries the credentials.
    app = await application_for(az, sp["appId"])
    return PrincipalTarget(sp, app)


def describe_credential(c: Credential) -> str:
    """How a plan names a credential so a person recognises it: hint or thumbprint, name, expiry."""
    if c.kind is CredentialKind.PASSWORD:
        label = f"password '{c.hint}…'" if c.hint else "password"
    else:
        label = f"certificate {c.thumbprint[:12]}…" if c.thumbprint else "certificate"
    if c.display_name:
        label += f" \"{c.display_name}\""
    label += f" (expires {_day(c.end)}, key id {c.key_id})" if c.end else f" (key id {c.key_id})"
    return label


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value else "never"
