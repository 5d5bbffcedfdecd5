"""What the registry-token operations (disable-token, remove-token-password) act on: one token of one
registry, read once when the plan is made."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..azure.clients import AzureClients
from ..azure.errors import AzureCallError
from ..azure.registry_access import find_registry, read_token
from ..errors import InputError
from ..models import Registry, RegistryToken
from .plan import Detail

# ARM's token names (Azure/bicep-types-az, Microsoft.ContainerRegistry 2025-11-01 `types.md`):
# letters, digits and '-', 5 to 50 characters.
TOKEN_NAME = re.compile(r"^[a-zA-Z0-9-]{5,50}$")
PASSWORD_NAMES = ("password1", "password2")


def check_token_name(name: str, *, field: str = "token") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InputError("no token given: name one of the registry's tokens (see 'acr-console access REGISTRY')",
                         field=field)
    if not TOKEN_NAME.match(name):
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise InputError(f"{shown!r} is not a registry token name: 5 to 50 letters, digits and '-'", field=field)
    return name


def check_password_name(name: str, *, field: str = "password") -> str:
    if name not in PASSWORD_NAMES:
        raise InputError(f"{name!r} is not a token password: choose password1 or password2", field=field)
    return name


@dataclass(frozen=True)
class TokenTarget:
    registry: Registry
    token: RegistryToken

    def target(self) -> dict[str, Detail]:
        return {"registry": self.registry.name, "registryId": self.registry.id, "token": self.token.name,
                "tokenId": self.token.id, "scopeMap": self.token.scope_map_name, "status": self.token.status}

    def by_hand(self, arguments: str) -> str:
        """The Azure CLI command that does the same (container-registry-token-based-repository-permissions.md)."""
        return f"az acr token {arguments} --name {self.token.name} --registry {self.registry.name}"


async def resolve_token(az: AzureClients, registry_ref: str, name: str) -> TokenTarget:
    registry = await find_registry(az, registry_ref)
    token = await read_token(az, registry, name)
    if token is None:
        raise AzureCallError("TokenNotFound", f"registry {registry.name} has no token named '{name}' (see "
                             f"'acr-console access {registry.name}')", 404)
    return TokenTarget(registry, token)
