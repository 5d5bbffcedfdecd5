"""A registry's anonymous pull (issue 13): read whether it is on, and turn it off.

MicrosoftDocs/azure-management-docs `articles/container-registry/anonymous-pull-access.md`: `az acr
update --name R --anonymous-pull-enabled false` turns it off. What that sends (azure-cli
`acr/custom.py`, a generic update) is `PATCH …/registries/R` with the body exactly
`{"properties": {"anonymousPullEnabled": false}}`, a long-running operation; the management SDK's
`registries.begin_update(rg, R, RegistryUpdateParameters(properties=RegistryPropertiesUpdateParameters(
anonymous_pull_enabled=False)))` serialises
to the same body at its api-version (2025-11-01 for azure-mgmt-containerregistry 15.0; the property
is in every preview since 2020-11-01-preview and in the stable versions from 2025-04-01,
docs/reference and the issue-13 brief §4). It needs `Microsoft.ContainerRegistry/registries/write`
(Contributor, Owner, or a custom role with it).

The read is a plain ARM GET of the registry, as the registry list reads it: a version that does not
carry the property says nothing about it, and that is reported as unknown (None), never as off.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

from ..models import Registry
from .clients import AzureClients
from .errors import translated
from .registries import REGISTRIES_API
from .writes import Receipt, ensure_writable

# The management SDK's registry operations and models, imported off the event loop (0.2 s).
REGISTRY_SDK_MODULES = ("azure.mgmt.containerregistry.aio", "azure.mgmt.containerregistry.models")


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        importlib.import_module(name)


def _capture(pipeline_response: Any, deserialized: Any, headers: Any) -> tuple[Any, str | None]:
    h = pipeline_response.http_response.headers
    return deserialized, h.get("x-ms-correlation-request-id") or h.get("x-ms-request-id")


async def read_anonymous_pull(az: AzureClients, registry: Registry) -> bool | None:
    """Whether anonymous pull is on now, as Azure answers; None when the answer does not say."""
    doc = await az.arm_json("GET", registry.id, {"api-version": REGISTRIES_API},
                            operation=f"read registry {registry.name}")
    value = ((doc or {}).get("properties") or {}).get("anonymousPullEnabled")
    return value if isinstance(value, bool) else None


async def disable_anonymous_pull(az: AzureClients, registry: Registry) -> Receipt:
    """`PATCH registries/R {"properties": {"anonymousPullEnabled": false}}` through the management SDK,
    waiting for the long-running operation to finish."""
    ensure_writable(az.connection, f"turn anonymous pull off on {registry.name}")
    await az.load()
    await asyncio.to_thread(_import_all, REGISTRY_SDK_MODULES)
    from azure.mgmt.containerregistry.models import RegistryPropertiesUpdateParameters, RegistryUpdateParameters

    # Serialises to exactly {"properties": {"anonymousPullEnabled": false}} (tests/operations).
    body = RegistryUpdateParameters(properties=RegistryPropertiesUpdateParameters(anonymous_pull_enabled=False))
    client = az.registry_client(registry.subscription_id)
    with translated(f"update registry {registry.name}"):
        poller = await client.registries.begin_update(
            registry.resource_group, registry.name, body, cls=_capture)
        result: Any = await poller.result()  # what _capture returned for the final response
    return Receipt(result[1])
