"""Writes to registry tokens, through azure-mgmt-containerregistry's `tokens.begin_update` (a PATCH of
`registries/{r}/tokens/{t}`, a long-running operation), with exactly the bodies the Azure CLI sends:

- disable: `{"properties": {"status": "disabled"}}` (azure-cli `acr/token.py`, `acr_token_update`;
  `az acr token update --status disabled` in container-registry-token-based-repository-permissions.md);
- remove one password: `{"properties": {"credentials": {"passwords": [{"name": <each one to keep>}]}}}`,
  the passwords to *keep* (azure-cli `acr_token_credential_delete`).
"""

from __future__ import annotations

from typing import Any

from ..models import Registry
from .clients import AzureClients
from .errors import translated
from .registry_access import read_token
from .writes import Receipt, ensure_writable, with_correlation


def disable_body() -> Any:
    from azure.mgmt.containerregistry.models import TokenUpdateParameters, TokenUpdateProperties

    return TokenUpdateParameters(properties=TokenUpdateProperties(status="disabled"))


def keep_passwords_body(keep: list[str]) -> Any:
    from azure.mgmt.containerregistry.models import (
        TokenCredentialsProperties,
        TokenPassword,
        TokenUpdateParameters,
        TokenUpdateProperties,
    )

    return TokenUpdateParameters(properties=TokenUpdateProperties(credentials=TokenCredentialsProperties(
        passwords=[TokenPassword(name=name) for name in keep])))


async def update_token(az: AzureClients, registry: Registry, name: str, body: Any, what: str) -> Receipt:
    ensure_writable(az.connection, what)
    await az.load(registry=True)  # the SDK's import (~0.1 s) off the event loop
    client = az.registry_client(registry.subscription_id)
    with translated(what):
        poller = await client.tokens.begin_update(registry.resource_group, registry.name, name, body,
                                                  cls=with_correlation)
        _, correlation = await poller.result()
    return Receipt(correlation)


async def disable_token(az: AzureClients, registry: Registry, name: str) -> Receipt:
    """Set the token's status to disabled; one already disabled counts as done (nothing is sent)."""
    ensure_writable(az.connection, f"disable token {name} of registry {registry.name}")
    token = await read_token(az, registry, name)
    if token is not None and not token.enabled:
        return Receipt(already=True)
    return await update_token(az, registry, name, disable_body(), f"disable token {name} of {registry.name}")


async def remove_token_password(az: AzureClients, registry: Registry, name: str, password: str) -> Receipt:
    """Remove one password by PATCHing the list of the others; one already gone counts as done. The
    list is read just before, so a password generated since the plan was made is kept."""
    ensure_writable(az.connection, f"remove {password} of token {name} of registry {registry.name}")
    token = await read_token(az, registry, name)
    if token is None or password not in {p.name for p in token.passwords}:
        return Receipt(already=True)
    keep = [p.name for p in token.passwords if p.name != password]
    return await update_token(az, registry, name, keep_passwords_body(keep),
                              f"remove {password} of token {name} of {registry.name}")
