"""Seeds: `empty` (tenant, subscriptions, admin) and `demo` (a company's registries and principals).

Ids are derived from names with uuid5 so the demo tenant is the same on every machine: tests,
screenshots and the README can name its objects. Secrets are random every time.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from ..roles import builtin_by_name, builtin_roles
from .directory import new_application, new_service_principal
from .store import Store

_NS = uuid.UUID("6f1c1d52-6a3c-4d7e-9a51-0b6d5c2f8a10")
ADMIN_NAME = "acr-console-sandbox-admin"
# What the admin principal may do in the directory (Graph application permissions).
ADMIN_GRAPH_PERMISSIONS = ("Application.ReadWrite.All", "Directory.Read.All", "GroupMember.ReadWrite.All")


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def seed_tenant(store: Store, name: str, subscriptions: list[tuple[str, str]]) -> None:
    """Tenant, subscriptions (id, display name), built-in role definitions, admin principal."""
    with store.transaction():
        store.set_meta("tenant_id", stable_id(name, "tenant"))
        store.set_meta("tenant_name", name)
        for sub_id, display in subscriptions:
            store.execute("INSERT OR REPLACE INTO subscriptions(id, display_name, state) VALUES (?,?,?)",
                          (sub_id, display, "Enabled"))
        for role in builtin_roles():
            store.put_role_definition(role.guid, role_definition_doc(role.guid, role.name, role.description,
                                                                    role.actions, role.not_actions,
                                                                    role.data_actions, role.not_data_actions,
                                                                    custom=False), custom=False)
        app = new_application(store, ADMIN_NAME, object_id=stable_id(name, "admin", "app"),
                               app_id=stable_id(name, "admin", "appId"))
        sp = new_service_principal(store, app, object_id=stable_id(name, "admin", "sp"))
        store.set_meta("admin_app_id", app["appId"])
        owner = builtin_by_name("Owner")
        assert owner is not None
        for sub_id, _ in subscriptions:
            assign(store, f"/subscriptions/{sub_id}", owner.guid, sp["id"], "ServicePrincipal",
                   name=stable_id(name, "admin", "owner", sub_id))
        store.executemany("INSERT OR REPLACE INTO directory_grants(principal_id, permission) VALUES (?,?)",
                          [(sp["id"], p) for p in ADMIN_GRAPH_PERMISSIONS])


def role_definition_doc(
    guid: str, role_name: str, description: str, actions: tuple[str, ...] | list[str],
    not_actions: tuple[str, ...] | list[str], data_actions: tuple[str, ...] | list[str],
    not_data_actions: tuple[str, ...] | list[str], *, custom: bool, scope: str = "/",
    subscription_id: str | None = None,
) -> dict[str, Any]:
    """A role definition as ARM returns it; its id is rewritten per subscription when served."""
    return {
        "id": f"/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role_name,
            "type": "CustomRole" if custom else "BuiltInRole",
            "description": description,
            "assignableScopes": [scope],
            "permissions": [{
                "actions": list(actions), "notActions": list(not_actions),
                "dataActions": list(data_actions), "notDataActions": list(not_data_actions),
            }],
            "createdOn": "2019-01-01T00:00:00.0000000Z",
            "updatedOn": "2025-10-07T00:00:00.0000000Z",
        },
    }


def assign(
    store: Store, scope: str, role_guid: str, principal_id: str, principal_type: str, *,
    name: str | None = None, condition: str | None = None,
) -> dict[str, Any]:
    name = name or str(uuid.uuid4())
    sub = scope.split("/")[2] if scope.startswith("/subscriptions/") else None
    prefix = f"/subscriptions/{sub}" if sub else ""
    role_id = f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"
    doc: dict[str, Any] = {
        "id": f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": role_id,
            "principalId": principal_id,
            "principalType": principal_type,
            "scope": scope,
            "condition": condition,
            "conditionVersion": "2.0" if condition else None,
            "createdOn": _now_iso(),
            "updatedOn": _now_iso(),
            "createdBy": None,
            "updatedBy": None,
            "delegatedManagedIdentityResourceId": None,
            "description": None,
        },
    }
    store.put_role_assignment(doc)
    return doc


def registry_doc(
    sub_id: str, rg: str, name: str, *, location: str = "westeurope", sku: str = "Standard",
    admin: bool = False, abac: bool = False, created: str = "2024-03-01T09:00:00.0000000Z",
) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub_id}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/{name}",
        "name": name,
        "type": "Microsoft.ContainerRegistry/registries",
        "location": location,
        "tags": {},
        "sku": {"name": sku, "tier": sku},
        "properties": {
            "loginServer": f"{name.lower()}.azurecr.io",
            "creationDate": created,
            "provisioningState": "Succeeded",
            "adminUserEnabled": admin,
            "anonymousPullEnabled": False,
            "roleAssignmentMode": "AbacRepositoryPermissions" if abac else "LegacyRegistryPermissions",
            "policies": {
                "quarantinePolicy": {"status": "disabled"},
                "trustPolicy": {"type": "Notary", "status": "disabled"},
                "retentionPolicy": {"days": 7, "status": "disabled"},
                "exportPolicy": {"status": "enabled"},
                "azureADAuthenticationAsArmPolicy": {"status": "enabled"},
            },
            "encryption": {"status": "disabled"},
            "dataEndpointEnabled": False,
            "dataEndpointHostNames": [],
            "privateEndpointConnections": [],
            "publicNetworkAccess": "Enabled",
            "networkRuleBypassOptions": "AzureServices",
            "zoneRedundancy": "Disabled",
        },
    }


def resource_group_doc(sub_id: str, name: str, location: str = "westeurope") -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub_id}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }


# -- the demo company ------------------------------------------------------------------------

DEMO_SUBSCRIPTIONS = [
    (stable_id("contoso", "sub", "prod"), "Contoso Production"),
    (stable_id("contoso", "sub", "dev"), "Contoso Development"),
    (stable_id("contoso", "sub", "shared"), "Contoso Shared Services"),
]

# (subscription key, resource group, registry, sku, admin user, abac)
DEMO_REGISTRIES = [
    ("prod", "rg-platform-prod", "contosoprod", "Premium", False, False),
    ("prod", "rg-platform-prod", "contosoprodweu", "Premium", False, True),
    ("prod", "rg-payments-prod", "contosopayments", "Premium", False, False),
    ("dev", "rg-platform-dev", "contosodev", "Standard", True, False),
    ("dev", "rg-platform-dev", "contososandbox", "Basic", False, False),
    ("dev", "rg-data-dev", "contosodatalab", "Standard", False, False),
    ("shared", "rg-shared-images", "contosobase", "Premium", False, False),
    ("shared", "rg-shared-images", "contosomirror", "Standard", False, False),
]


def seed_empty(store: Store) -> None:
    seed_tenant(store, "contoso", DEMO_SUBSCRIPTIONS)


def seed_demo(store: Store) -> None:
    seed_empty(store)
    subs = {key: stable_id("contoso", "sub", key) for key in ("prod", "dev", "shared")}
    with store.transaction():
        for key, rg, name, sku, admin, abac in DEMO_REGISTRIES:
            sub_id = subs[key]
            if store.resource_group(sub_id, rg) is None:
                store.put_resource_group(sub_id, rg, resource_group_doc(sub_id, rg))
            store.put_resource(registry_doc(sub_id, rg, name, sku=sku, admin=admin, abac=abac))
    store.set_meta("seed", "demo")
    store.set_meta("seeded_at", str(time.time()))


SEEDS = {"empty": seed_empty, "demo": seed_demo}


def apply_seed(store: Store, spec: str) -> None:
    if spec not in SEEDS:
        raise ValueError(f"unknown seed '{spec}': choose one of {', '.join(SEEDS)}")
    SEEDS[spec](store)
    store.set_meta("seed", spec)
