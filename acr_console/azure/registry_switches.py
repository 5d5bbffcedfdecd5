"""A registry's on/off settings that open it beyond role assignments: read one, turn it off.

Two of them: anonymous pull (`anonymousPullEnabled`, issue 13: anyone who can reach the registry
pulls every repository without signing in, MicrosoftDocs/azure-management-docs
`articles/container-registry/anonymous-pull-access.md`) and the admin user (`adminUserEnabled`,
issue 16: the registry's own account with pull, push and delete everywhere, "Disabling the admin
account ... cuts off all its users", `container-registry-authentication.md`, "Admin account").

Turning one off is `PATCH …/registries/R` with the body exactly `{"properties": {PROPERTY: false}}`
(Registries_Update: Azure/azure-rest-api-specs `specification/containerregistry/resource-manager/
Microsoft.ContainerRegistry/stable/*/containerregistry.json`, `RegistryPropertiesUpdateParameters`;
example `RegistryUpdate.json`), what `az acr update --name R --anonymous-pull-enabled false` /
`--admin-enabled false` sends (azure-cli `acr/custom.py`, a generic update). It goes through the
management SDK's `registries.begin_update`, a long-running operation, waited for; it needs
`Microsoft.ContainerRegistry/registries/write` (Contributor, Owner, or a custom role with it).
`anonymousPullEnabled` is in every preview since 2020-11-01-preview and in the stable versions from
2025-04-01 (docs/reference and the issue-13 brief §4).

The read is a plain ARM GET of the registry, as the registry list reads it: a version that does not
carry the property says nothing about it, and that is reported as unknown (None), never as off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import Registry
from .clients import AzureClients
from .errors import translated
from .registries import REGISTRIES_API
from .writes import Receipt, ensure_writable, with_correlation


@dataclass(frozen=True)
class Switch:
    property: str  # ARM's name in the registry's properties
    sdk_field: str  # RegistryPropertiesUpdateParameters' keyword for it
    what: str  # for messages: "anonymous pull", "the admin user"


ANONYMOUS_PULL = Switch("anonymousPullEnabled", "anonymous_pull_enabled", "anonymous pull")
ADMIN_USER = Switch("adminUserEnabled", "admin_user_enabled", "the admin user")


async def read_switch(az: AzureClients, registry: Registry, switch: Switch) -> bool | None:
    """Whether `switch` is on now, as Azure answers; None when the answer does not say."""
    doc = await az.arm_json("GET", registry.id, {"api-version": REGISTRIES_API},
                            operation=f"read registry {registry.name}")
    value = ((doc or {}).get("properties") or {}).get(switch.property)
    return value if isinstance(value, bool) else None


async def switch_off(az: AzureClients, registry: Registry, switch: Switch) -> Receipt:
    """`PATCH registries/R {"properties": {PROPERTY: false}}`, waiting for the operation to finish."""
    ensure_writable(az.connection, f"turn {switch.what} off on {registry.name}")
    await az.load(registry=True)
    from azure.mgmt.containerregistry.models import RegistryPropertiesUpdateParameters, RegistryUpdateParameters

    # Serialises to exactly {"properties": {PROPERTY: false}} (tests/operations).
    off: dict[str, Any] = {switch.sdk_field: False}
    body = RegistryUpdateParameters(properties=RegistryPropertiesUpdateParameters(**off))
    client = az.registry_client(registry.subscription_id)
    with translated(f"update registry {registry.name}"):
        poller = await client.registries.begin_update(registry.resource_group, registry.name, body,
                                                      cls=with_correlation)
        result: Any = await poller.result()  # what with_correlation returned for the final response
    return Receipt(result[1])
