"""Reads of subscriptions and container registries."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ..models import Registry, RoleAssignmentMode, Subscription
from .clients import AzureClients
from .errors import AzureError, from_exception

SUBSCRIPTIONS_API = "2022-12-01"
# Bounded so a tenant with hundreds of subscriptions does not open hundreds of connections at once.
MAX_CONCURRENT_SUBSCRIPTIONS = 16


@dataclass
class RegistryListing:
    subscriptions: list[Subscription]
    registries: list[Registry]
    # A subscription that could not be read does not hide the others.
    errors: dict[str, AzureError] = field(default_factory=dict)


def _enum_text(value: Any) -> str | None:
    """SDK enums print as 'SkuName.PREMIUM'; the service's own spelling is their value."""
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _registry_from_sdk(reg: Any) -> Registry:
    parts = reg.id.split("/")
    return Registry(
        id=reg.id,
        name=reg.name,
        login_server=reg.login_server or "",
        resource_group=parts[4] if len(parts) > 4 else "",
        subscription_id=parts[2] if len(parts) > 2 else "",
        location=reg.location or "",
        sku=_enum_text(reg.sku.name) or "" if reg.sku else "",
        admin_user_enabled=bool(reg.admin_user_enabled),
        role_assignment_mode=RoleAssignmentMode.parse(_enum_text(getattr(reg, "role_assignment_mode", None))),
        anonymous_pull_enabled=bool(getattr(reg, "anonymous_pull_enabled", False)),
    )


async def list_subscriptions(az: AzureClients) -> list[Subscription]:
    """Subscriptions the identity can see, narrowed to the connection's selection if it has one."""
    try:
        items = await az.arm_pages("/subscriptions", {"api-version": SUBSCRIPTIONS_API})
    except Exception as exc:
        raise from_exception(exc, "list subscriptions") from None
    subs = [
        Subscription(id=i["subscriptionId"], display_name=i.get("displayName") or i["subscriptionId"],
                     tenant_id=i.get("tenantId"), state=i.get("state", "Enabled"))
        for i in items
    ]
    wanted = {s.lower() for s in az.connection.subscriptions}
    if wanted:
        subs = [s for s in subs if s.id.lower() in wanted]
        missing = wanted - {s.id.lower() for s in subs}
        if missing:
            raise AzureError("SubscriptionNotFound",
                             f"subscription {', '.join(sorted(missing))} is not visible to the signed-in identity; "
                             "check --subscription and the tenant", 404)
    return sorted(subs, key=lambda s: s.display_name.lower())


async def registries_in(az: AzureClients, subscription_id: str) -> list[Registry]:
    client = az.registry_client(subscription_id)
    try:
        return [_registry_from_sdk(r) async for r in client.registries.list()]
    except Exception as exc:
        raise from_exception(exc, f"list registries in {subscription_id}") from None


async def list_registries(az: AzureClients, subscriptions: list[Subscription] | None = None) -> RegistryListing:
    subs = subscriptions if subscriptions is not None else await list_subscriptions(az)
    gate = asyncio.Semaphore(MAX_CONCURRENT_SUBSCRIPTIONS)

    async def one(sub: Subscription) -> list[Registry] | AzureError:
        async with gate:
            try:
                return await registries_in(az, sub.id)
            except AzureError as err:
                return err

    results = await asyncio.gather(*(one(s) for s in subs))
    listing = RegistryListing(subscriptions=subs, registries=[])
    for sub, result in zip(subs, results, strict=True):
        if isinstance(result, AzureError):
            listing.errors[sub.id] = result
        else:
            listing.registries.extend(result)
    order = {s.id: i for i, s in enumerate(subs)}
    listing.registries.sort(key=lambda r: (order.get(r.subscription_id, len(order)), r.name.lower()))
    return listing
