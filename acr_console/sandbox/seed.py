"""Seeds: `empty` (tenant, subscriptions, admin), `demo` (a company's registries and principals) and
`large:N` (N service principals, for benchmarks).

Ids are derived from names with uuid5 so the demo tenant is the same on every machine: tests,
screenshots and the README can name its objects. Credential dates are fixed offsets from the seed
time, so "expires in 4 days" stays true of a freshly seeded tenant. Secrets are random every time
and nobody knows them: tests that sign in as a seeded principal add a password of their own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..roles import builtin_by_name, builtin_roles
from .directory import (
    add_member,
    add_password,
    certificate_credential,
    grant_directory_permissions,
    group_doc,
    iso,
    managed_identity_doc,
    new_application,
    new_group,
    new_service_principal,
)
from .rbac_limits import MAX_ASSIGNMENTS_PER_SUBSCRIPTION
from .store import Store, hash_secret

_NS = uuid.UUID("6f1c1d52-6a3c-4d7e-9a51-0b6d5c2f8a10")
ADMIN_NAME = "acr-console-sandbox-admin"
# What the admin principal may do in the directory (Graph application permissions).
# It also holds what a tenant's automation account needs to set up owners, Entra roles, app role
# assignments and users (issue 17): AppRoleAssignment.ReadWrite.All, RoleManagement.ReadWrite.Directory,
# User.ReadWrite.All. Application.ReadWrite.All is what lets it add a credential to any application.
ADMIN_GRAPH_PERMISSIONS = ("Application.ReadWrite.All", "Directory.Read.All", "GroupMember.ReadWrite.All",
                           "Group.ReadWrite.All", "AppRoleAssignment.ReadWrite.All",
                           "RoleManagement.ReadWrite.Directory", "User.ReadWrite.All")
DAY = 86400.0


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _arm_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


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
        grant_directory_permissions(store, sp["id"], ADMIN_GRAPH_PERMISSIONS)


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


def assignment_doc(
    scope: str, role_guid: str, principal_id: str, principal_type: str, *, name: str,
    condition: str | None = None, created: str | None = None, description: str | None = None,
) -> dict[str, Any]:
    sub = scope.split("/")[2] if scope.startswith("/subscriptions/") else None
    prefix = f"/subscriptions/{sub}" if sub else ""
    role_id = f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"
    when = created or _now_iso()
    return {
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
            "createdOn": when,
            "updatedOn": when,
            "createdBy": None,
            "updatedBy": None,
            "delegatedManagedIdentityResourceId": None,
            "description": description,
        },
    }


def assign(
    store: Store, scope: str, role_guid: str, principal_id: str, principal_type: str, *,
    name: str | None = None, condition: str | None = None, created: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    doc = assignment_doc(scope, role_guid, principal_id, principal_type, name=name or str(uuid.uuid4()),
                         condition=condition, created=created, description=description)
    store.put_role_assignment(doc)
    return doc


def registry_doc(
    sub_id: str, rg: str, name: str, *, location: str = "westeurope", sku: str = "Standard",
    admin: bool = False, abac: bool = False, created: str = "2024-03-01T09:00:00.0000000Z",
) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub_id}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/"
              f"{name}",
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


def _role(name: str) -> str:
    role = builtin_by_name(name)
    assert role is not None, name
    return role.guid


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
# Registries with anonymous pull on: the shared base images, public on purpose (anyone may pull them)
# and so an entry "anyone (anonymous pull)" in who can pull, which a reviewer may want to turn off.
# Anonymous pull needs Standard or Premium (anonymous-pull-access.md).
DEMO_ANONYMOUS_PULL = ("contosobase",)

_ACR = "Microsoft.ContainerRegistry/registries/"
CUSTOM_ROLE_NAME = "Contoso Image Promoter"
CUSTOM_ROLE_GUID = stable_id("contoso", "role", "image-promoter")

REPO_WRITER = "Container Registry Repository Writer"
CONFIG_READER = "Container Registry Configuration Reader and Data Access Configuration Reader"
_REPO = "@Request[Microsoft.ContainerRegistry/registries/repositories:name]"
_DATA = "Microsoft.ContainerRegistry/registries/repositories/"


def repository_condition(actions: Iterable[str], repositories: str) -> str:
    """An ABAC condition in the portal's shape: the listed data actions only where `repositories`
    (an expression on the repository name) holds; other actions are untouched."""
    not_matches = " AND ".join(f"!(ActionMatches{{'{_DATA}{a}'}})" for a in actions)
    return f"(({not_matches}) OR ({repositories}))"


# Service principals: key -> (display name, kind, groups, tags). kind: app | mi (managed identity).
# Assignments and credentials are listed after, by key, so each story reads in one place.
DEMO_GROUPS = {
    "acr-pushers": "Everything allowed to push release images to contosoprod",
    "team-payments-ci": "Payments team build pipelines",
    "team-checkout-ci": "Checkout team build pipelines",
    "team-identity-ci": "Identity team build pipelines",
    "aks-prod-pullers": "Kubelet identities of the production AKS clusters",
    "acr-base-image-readers": "Everything that pulls base images from contosobase",
    "platform-engineering": "Platform automation (Terraform, ops runbooks)",
    "dev-registry-users": "Pipelines that push to the development registries",
    "data-science": "Notebooks and training pipelines of the data team",
}
# (outer, inner): nesting; e.g. acr-pushers ⊃ team-payments-ci.
DEMO_NESTING = [
    ("acr-pushers", "team-payments-ci"), ("acr-pushers", "team-checkout-ci"),
    ("acr-pushers", "team-identity-ci"),
    ("acr-base-image-readers", "aks-prod-pullers"), ("acr-base-image-readers", "dev-registry-users"),
]
DEMO_PRINCIPALS: list[tuple[str, str, list[str]]] = [
    # CI pushers, one per team
    ("github-actions-payments", "app", ["team-payments-ci"]),
    ("github-actions-checkout", "app", ["team-checkout-ci"]),
    ("github-actions-cart", "app", ["team-checkout-ci"]),
    ("github-actions-identity", "app", ["team-identity-ci"]),
    ("github-actions-search", "app", []),
    ("github-actions-web", "app", []),
    ("github-actions-mobile-api", "app", []),
    ("github-actions-notifications", "app", []),
    ("github-actions-data-pipelines", "app", ["data-science"]),
    ("azure-devops-platform", "app", ["platform-engineering"]),
    ("azure-devops-legacy-erp", "app", []),
    ("jenkins-legacy-builds", "app", ["dev-registry-users"]),
    ("gitlab-runner-ml", "app", ["data-science"]),
    ("payments-release-bot", "app", ["team-payments-ci"]),
    ("storefront-release-bot", "app", []),
    ("base-image-builder", "app", []),
    ("acr-mirror-sync", "app", []),
    ("helm-chart-publisher", "app", []),
    ("image-promoter", "app", []),
    ("nightly-cleanup-job", "app", []),
    ("argo-cd-image-updater", "app", []),
    ("vulnerability-scanner", "app", []),
    ("defender-registry-scan", "app", []),
    ("terraform-platform-prod", "app", ["platform-engineering"]),
    ("terraform-shared-infra", "app", []),
    ("access-governance-bot", "app", []),
    ("catalog-indexer", "app", []),
    ("sbom-generator", "app", []),
    ("platform-ops-automation", "app", ["platform-engineering"]),
    ("dev-sandbox-ci", "app", ["dev-registry-users"]),
    ("developer-portal-preview", "app", []),
    ("data-science-notebooks", "app", ["data-science"]),
    ("ml-training-pipeline", "app", ["data-science"]),
    ("registry-backup-export", "app", []),
    ("security-audit-readonly", "app", []),
    # managed identities of AKS clusters and an Azure Function
    ("aks-prod-weu-kubelet", "mi", ["aks-prod-pullers"]),
    ("aks-prod-neu-kubelet", "mi", ["aks-prod-pullers"]),
    ("aks-payments-prod-kubelet", "mi", ["aks-prod-pullers"]),
    ("aks-staging-weu-kubelet", "mi", []),
    ("aks-dev-weu-kubelet", "mi", ["dev-registry-users"]),
    ("aks-data-weu-kubelet", "mi", []),
    ("func-thumbnailer-prod", "mi", []),
]
# Password credentials, other than the default one-year CI secret: key -> list of
# (display name, start days from seed time, end days from seed time, on the SP object?).
DEMO_PASSWORD_OVERRIDES: dict[str, list[tuple[str, float, float, bool]]] = {
    "jenkins-legacy-builds": [("jenkins", -410, -45, False)],  # expired 45 days ago
    "github-actions-mobile-api": [("github-actions", -356, 9, False)],  # expires within 30 days
    "gitlab-runner-ml": [("gitlab", -353, 12, False)],
    "nightly-cleanup-job": [("cron", -338, 27, False)],
    "argo-cd-image-updater": [("argocd", -361, 4, False)],
    "developer-portal-preview": [("preview", -12, 18, False)],
    # two secrets mid-rotation: the old one about to expire, the new one fresh
    "github-actions-payments": [("github-actions-2024", -350, 15, False),
                                ("github-actions-2025", -2, 363, False)],
    # a secret on the service principal, invisible under App registrations (Azure/azure-cli#23843)
    "helm-chart-publisher": [("rbac", -100, 265, True)],
    "base-image-builder": [],  # certificate only
    "vulnerability-scanner": [("scanner", -200, 530, False)],
}
DISABLED = {"azure-devops-legacy-erp"}
CERTIFICATE_PRINCIPALS = {"base-image-builder": (-30, 335)}
ORPHANED = "old-jenkins-agent"  # deleted principal whose assignments stayed behind


def _demo_assignments(
    reg: dict[str, str], rg: dict[str, str], sub: dict[str, str]
) -> list[tuple[str, str, str, str | None]]:
    """(principal key or group name, role name, scope, condition)."""
    push_payments = repository_condition(["content/read", "metadata/read", "content/write", "metadata/write"],
                                         f"{_REPO} StringStartsWithIgnoreCase 'payments/'")
    push_storefront = repository_condition(
        ["content/read", "metadata/read", "content/write", "metadata/write"],
        f"{_REPO} StringEqualsIgnoreCase 'storefront/web' OR {_REPO} StringStartsWithIgnoreCase 'checkout/'")
    read_sbom = repository_condition(["content/read", "metadata/read"],
                                     f"{_REPO} StringStartsWithIgnoreCase 'payments/' OR "
                                     f"{_REPO} StringEqualsIgnoreCase 'storefront/web'")
    return [
        # groups
        ("acr-pushers", "AcrPush", reg["contosoprod"], None),
        ("aks-prod-pullers", "AcrPull", rg["rg-platform-prod"], None),
        ("aks-prod-pullers", "Container Registry Repository Reader", reg["contosoprodweu"], None),
        ("acr-base-image-readers", "AcrPull", rg["rg-shared-images"], None),
        ("platform-engineering", "Contributor", rg["rg-platform-prod"], None),
        ("dev-registry-users", "AcrPush", reg["contosodev"], None),
        ("data-science", "AcrPull", reg["contosodatalab"], None),
        # CI pushers
        ("github-actions-payments", "AcrPush", reg["contosopayments"], None),
        ("github-actions-search", "AcrPush", reg["contosoprod"], None),
        ("github-actions-web", "AcrPush", reg["contosoprod"], None),
        # the ABAC migration trap: AcrPush is not honoured on contosoprodweu
        ("github-actions-web", "AcrPush", reg["contosoprodweu"], None),
        ("github-actions-mobile-api", "AcrPush", reg["contosoprod"], None),
        ("github-actions-notifications", "AcrPush", reg["contosoprod"], None),
        ("github-actions-data-pipelines", "AcrPush", reg["contosodatalab"], None),
        ("azure-devops-platform", "AcrPush", rg["rg-platform-prod"], None),
        ("azure-devops-legacy-erp", "AcrPush", reg["contosoprod"], None),
        ("jenkins-legacy-builds", "AcrPush", reg["contosodev"], None),
        ("gitlab-runner-ml", "AcrPush", reg["contosodatalab"], None),
        ("payments-release-bot", REPO_WRITER, reg["contosoprodweu"], push_payments),
        ("storefront-release-bot", REPO_WRITER, reg["contosoprodweu"], push_storefront),
        ("base-image-builder", "AcrPush", reg["contosobase"], None),
        ("acr-mirror-sync", "AcrPull", reg["contosobase"], None),
        ("acr-mirror-sync", "AcrPush", reg["contosomirror"], None),
        ("helm-chart-publisher", "AcrPush", reg["contosobase"], None),
        ("image-promoter", CUSTOM_ROLE_NAME, f"/subscriptions/{sub['prod']}", None),
        ("nightly-cleanup-job", "AcrDelete", reg["contosodev"], None),
        ("nightly-cleanup-job", "AcrDelete", reg["contososandbox"], None),
        ("nightly-cleanup-job", "AcrPull", reg["contososandbox"], None),
        ("argo-cd-image-updater", "AcrPull", reg["contosoprod"], None),
        ("vulnerability-scanner", "Reader", f"/subscriptions/{sub['prod']}", None),
        ("defender-registry-scan", "Container Registry Repository Reader", reg["contosoprodweu"], None),
        ("defender-registry-scan", "AcrPull", reg["contosobase"], None),
        ("terraform-shared-infra", "Owner", f"/subscriptions/{sub['shared']}", None),
        ("access-governance-bot", "User Access Administrator", f"/subscriptions/{sub['prod']}", None),
        ("catalog-indexer", "Container Registry Repository Catalog Lister", reg["contosoprodweu"], None),
        ("sbom-generator", "Container Registry Repository Reader", reg["contosoprodweu"], read_sbom),
        ("dev-sandbox-ci", "AcrPush", reg["contososandbox"], None),
        ("developer-portal-preview", "AcrPull", reg["contososandbox"], None),
        ("ml-training-pipeline", "AcrPush", reg["contosodatalab"], None),
        ("registry-backup-export", "Container Registry Data Importer and Data Reader", reg["contosomirror"],
         None),
        ("security-audit-readonly", CONFIG_READER, rg["rg-platform-prod"], None),
        ("aks-payments-prod-kubelet", "AcrPull", reg["contosopayments"], None),
        ("aks-staging-weu-kubelet", "AcrPull", reg["contosodev"], None),
        ("aks-dev-weu-kubelet", "AcrPull", reg["contososandbox"], None),
        ("aks-data-weu-kubelet", "AcrPull", reg["contosodatalab"], None),
        ("func-thumbnailer-prod", "AcrPull", reg["contosoprod"], None),
        (ORPHANED, "AcrPush", reg["contosodev"], None),
        (ORPHANED, "AcrPull", reg["contosobase"], None),
    ]


def seed_empty(store: Store) -> None:
    seed_tenant(store, "contoso", DEMO_SUBSCRIPTIONS)


def seed_empty_tenant(store: Store) -> None:
    """`empty`: the tenant with Microsoft Graph's service principal, as every tenant has it (`large:N`
    makes it on first use instead, so its principal counts stay exact)."""
    from .graph_app_roles import ensure_graph_service_principal

    seed_empty(store)
    with store.transaction():
        ensure_graph_service_principal(store)


def _demo_certificate(common_name: str, not_before: datetime, not_after: datetime) -> Any:
    """A self-signed certificate; its private key is thrown away (the demo only shows the credential)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before)
            .not_valid_after(not_after).sign(key, hashes.SHA256()))


def seed_demo(store: Store, now: float | None = None) -> None:
    """`now` pins the instant credential dates are counted from (screenshots and snapshots)."""
    seed_empty_tenant(store)
    t0 = time.time() if now is None else now
    at = datetime.fromtimestamp(t0, UTC)
    subs = {key: stable_id("contoso", "sub", key) for key in ("prod", "dev", "shared")}
    reg: dict[str, str] = {}
    rgs: dict[str, str] = {}
    with store.transaction():
        for key, rg, name, sku, admin, abac in DEMO_REGISTRIES:
            sub_id = subs[key]
            if store.resource_group(sub_id, rg) is None:
                store.put_resource_group(sub_id, rg, resource_group_doc(sub_id, rg))
            doc = registry_doc(sub_id, rg, name, sku=sku, admin=admin, abac=abac)
            doc["properties"]["anonymousPullEnabled"] = name in DEMO_ANONYMOUS_PULL
            store.put_resource(doc)
            reg[name] = doc["id"]
            rgs[rg] = f"/subscriptions/{sub_id}/resourceGroups/{rg}"
        _seed_custom_role(store, subs)
        groups = {name: new_group(store, name, object_id=stable_id("contoso", "group", name),
                                  description=desc, created=t0 - 400 * DAY)["id"]
                  for name, desc in DEMO_GROUPS.items()}
        for outer, inner in DEMO_NESTING:
            add_member(store, groups[outer], groups[inner])
        principals: dict[str, tuple[str, str]] = {}  # key -> (object id, principalType)
        for index, (key, kind, member_of) in enumerate(DEMO_PRINCIPALS):
            created = t0 - (420 - index * 7) * DAY
            if kind == "mi":
                sp_id = _seed_managed_identity(store, key, subs["prod"], created)
            else:
                sp_id = _seed_application(store, key, index, created, at)
            principals[key] = (sp_id, "ServicePrincipal")
            for group in member_of:
                add_member(store, groups[group], sp_id)
        principals[ORPHANED] = (stable_id("contoso", "sp", ORPHANED), "ServicePrincipal")
        for name, gid in groups.items():
            principals[name] = (gid, "Group")
        for n, (who, role_name, scope, condition) in enumerate(_demo_assignments(reg, rgs, subs)):
            object_id, ptype = principals[who]
            role_guid = CUSTOM_ROLE_GUID if role_name == CUSTOM_ROLE_NAME else _role(role_name)
            assign(store, scope, role_guid, object_id, ptype,
                   name=stable_id("contoso", "ra", who, role_name, scope), condition=condition,
                   created=_arm_time(t0 - (300 - n * 5) * DAY))
        # Directory rights a governance bot and the platform's Terraform would really hold.
        grant_directory_permissions(store, principals["access-governance-bot"][0],
                                    ["Directory.Read.All", "GroupMember.Read.All"])
        grant_directory_permissions(store, principals["terraform-platform-prod"][0],
                                    ["Application.ReadWrite.OwnedBy"])
        _seed_tokens(store, reg, t0)
        _seed_takeover_stories(store, principals, t0)
        store.set_meta("seed", "demo")
        store.set_meta("seeded_at", str(t0))


# Who can take over a pushing principal, and the workloads that sign in as one without a secret
# (issue 17). People: (key, display name, Entra role or None, scope: None for the tenant or the
# principal whose application the role is scoped to).
DEMO_PEOPLE: list[tuple[str, str, str | None, str | None]] = [
    ("dana.whitfield", "Dana Whitfield", None, None),  # a developer: owns github-actions-payments' app
    ("erin.oduya", "Erin Oduya", "Application Administrator", None),
    ("marco.bianchi", "Marco Bianchi", "Cloud Application Administrator", "github-actions-search"),
    ("priya.raman", "Priya Raman", "Privileged Role Administrator", None),  # can grant herself one (2 steps)
]
# (owned principal, whose application (True) or service principal (False), owner: a person or a principal)
DEMO_OWNERS: list[tuple[str, bool, str]] = [
    ("github-actions-payments", True, "dana.whitfield"),
    ("github-actions-web", False, "dana.whitfield"),
    ("github-actions-web", True, "terraform-platform-prod"),  # holds Application.ReadWrite.OwnedBy
    ("github-actions-notifications", True, "platform-ops-automation"),
]
# Service principals outside the registry's story that hold Graph application permissions.
DEMO_GRAPH_APPS: list[tuple[str, str]] = [
    ("app-inventory-monitor", "Application.ReadWrite.All"),
    ("entitlement-sync", "AppRoleAssignment.ReadWrite.All"),  # can grant itself the above (2 steps)
]
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
# (principal, credential name, issuer, subject); "{tenant}" is replaced with the tenant id.
DEMO_FEDERATED: list[tuple[str, str, str, str]] = [
    ("github-actions-payments", "payments-main", GITHUB_ISSUER, "repo:contoso/payments:ref:refs/heads/main"),
    ("github-actions-payments", "payments-release", GITHUB_ISSUER, "repo:contoso/payments:environment:production"),
    ("github-actions-web", "storefront-web-main", GITHUB_ISSUER, "repo:contoso/storefront-web:ref:refs/heads/main"),
    ("github-actions-search", "search-tags", GITHUB_ISSUER, "repo:contoso/search:ref:refs/tags/v1.0.0"),
    ("github-actions-mobile-api", "mobile-api-pr", GITHUB_ISSUER, "repo:contoso/mobile-api:pull_request"),
    ("argo-cd-image-updater", "aks-prod-weu-argocd",
     "https://westeurope.oic.prod-aks.azure.com/{tenant}/5c1e7a52-8d0f-4a3e-b0b5-2f4c1d9e6a71/",
     "system:serviceaccount:argocd:argocd-image-updater"),
]


def _seed_takeover_stories(store: Store, principals: dict[str, tuple[str, str]], t0: float) -> None:
    from .device_flow import tenant_domain
    from .graph_federated import add_credential
    from .graph_owners import add_owner
    from .graph_roles import ROLE_DEFINITIONS, assign_role

    role_ids = {name: tid for tid, name, _, _ in ROLE_DEFINITIONS}
    people: dict[str, str] = {}
    for n, (key, display, role, scoped_to) in enumerate(DEMO_PEOPLE):
        uid = stable_id("contoso", "user", key)
        given, _, surname = display.partition(" ")
        store.put_object({"id": uid, "displayName": display, "userPrincipalName": f"{key}@{tenant_domain(store)}",
                          "mail": f"{key}@contoso.com", "accountEnabled": True, "userType": "Member",
                          "givenName": given, "surname": surname}, "user", t0 - (200 - n) * DAY)
        people[key] = uid
        if role is not None:
            scope = "/" if scoped_to is None else "/" + stable_id("contoso", "app", scoped_to)
            assign_role(store, role_ids[role], uid, scope)
    for index, (key, permission) in enumerate(DEMO_GRAPH_APPS):
        sp_id = _seed_application(store, key, len(DEMO_PRINCIPALS) + index, t0 - 100 * DAY, datetime.fromtimestamp(
            t0, UTC))
        grant_directory_permissions(store, sp_id, [permission])
    for owned, on_app, owner in DEMO_OWNERS:
        object_id = stable_id("contoso", "app" if on_app else "sp", owned)
        add_owner(store, object_id, people.get(owner) or principals[owner][0])
    for key, name, issuer, subject in DEMO_FEDERATED:
        add_credential(store, stable_id("contoso", "app", key), name, issuer.replace("{tenant}", store.tenant_id),
                       subject, credential_id=stable_id("contoso", "fic", key, name))


# Registry tokens (issue 13 item 4): a CI outside Entra pushes team/* with a token whose password
# expires soon, and a vendor's pull token was switched off.
DEMO_TOKEN_REGISTRY = "contososandbox"
DEMO_SCOPE_MAP = ("team-push", "CI of the team repositories: pull and push team/*",
                  ["repositories/team/*/content/read", "repositories/team/*/content/write",
                   "repositories/team/*/metadata/read"])
DEMO_TOKENS: list[tuple[str, str, str, dict[str, float | None]]] = [
    # (name, scope map, status, {password: days to expiry or None})
    ("ci-team-push", "team-push", "enabled", {"password1": 20.0}),
    ("vendor-readonly", "_repositories_pull", "disabled", {"password1": None}),
]


def _seed_tokens(store: Store, reg: dict[str, str], t0: float) -> None:
    from . import registry_tokens

    registry = store.resource(reg[DEMO_TOKEN_REGISTRY])
    assert registry is not None
    name, description, actions = DEMO_SCOPE_MAP
    registry_tokens.put_child(store, registry["id"], "scopeMaps", registry_tokens.scope_map_doc(
        registry["id"], name, actions, description, created=_arm_time(t0 - 90 * DAY)))
    for token, scope_map, status, passwords in DEMO_TOKENS:
        registry_tokens.seed_token(
            store, registry, token, scope_map, status=status, created=_arm_time(t0 - 80 * DAY), now=t0 - 10 * DAY,
            passwords={p: None if days is None else _arm_time(t0 + days * DAY) for p, days in passwords.items()})


def _seed_custom_role(store: Store, subs: dict[str, str]) -> None:
    doc = role_definition_doc(
        CUSTOM_ROLE_GUID, CUSTOM_ROLE_NAME,
        "Promotes images from the development registries to production: pull, push and import.",
        [f"{_ACR}pull/read", f"{_ACR}push/write", f"{_ACR}importImage/action", f"{_ACR}*/read"],
        [], [], [], custom=True,
    )
    doc["properties"]["assignableScopes"] = [f"/subscriptions/{s}" for s in subs.values()]
    doc["properties"]["createdOn"] = doc["properties"]["updatedOn"] = "2024-06-12T08:30:00.0000000Z"
    store.put_role_definition(CUSTOM_ROLE_GUID, doc, custom=True)


def _seed_managed_identity(store: Store, key: str, sub_id: str, created: float) -> str:
    cluster = key.removesuffix("-kubelet")
    resource_id = (f"/subscriptions/{sub_id}/resourcegroups/MC_rg-{cluster}_{cluster}_westeurope/providers/"
                   f"Microsoft.ManagedIdentity/userAssignedIdentities/{cluster}-agentpool"
                   if key.endswith("-kubelet") else
                   f"/subscriptions/{sub_id}/resourcegroups/rg-functions-prod/providers/"
                   f"Microsoft.ManagedIdentity/userAssignedIdentities/{key}")
    doc = managed_identity_doc(key, object_id=stable_id("contoso", "sp", key),
                               app_id=stable_id("contoso", "appId", key), resource_id=resource_id,
                               created=created)
    store.put_object(doc, "servicePrincipal", created)
    return str(doc["id"])


def _demo_hint(key: str, n: int) -> str:
    """The first three characters of a demo secret, fixed so pictures of the demo tenant (which show
    Graph's `hint`) are the same on every machine; the other 40 characters stay random."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"{key}/{n}".encode()).digest()).decode()[:3]


def _seed_application(store: Store, key: str, index: int, created: float, now: datetime) -> str:
    app = new_application(store, key, object_id=stable_id("contoso", "app", key),
                          app_id=stable_id("contoso", "appId", key), created=created,
                          tags=[] if index % 3 else ["HideApp", "WindowsAzureActiveDirectoryIntegratedApp"])
    sp = new_service_principal(store, app, object_id=stable_id("contoso", "sp", key),
                               enabled=key not in DISABLED, created=created + 60)
    default = [("ci", -(60 + (index * 11) % 200), 365 - (60 + (index * 11) % 200) + 60, False)]
    for n, (display, start_days, end_days, on_sp) in enumerate(DEMO_PASSWORD_OVERRIDES.get(key, default)):
        owner, otype = (sp, "servicePrincipal") if on_sp else (app, "application")
        add_password(store, owner, otype, display_name=display, start=now + timedelta(days=start_days),
                     end=now + timedelta(days=end_days), key_id=stable_id("contoso", "password", key, str(n)),
                     secret=_demo_hint(key, n) + secrets.token_urlsafe(30))
    if key in CERTIFICATE_PRINCIPALS:
        start_days, end_days = CERTIFICATE_PRINCIPALS[key]
        start, end = now + timedelta(days=start_days), now + timedelta(days=end_days)
        margin = timedelta(minutes=5)
        cert = _demo_certificate(f"{key}.contoso.com", start - margin, end + margin)
        app["keyCredentials"] = [certificate_credential(cert, key_id=stable_id("contoso", "cert", key),
                                                        display_name=f"CN={key}.contoso.com", start=start,
                                                        end=end)]
        store.put_object(app, "application", created)
    return str(sp["id"])


# -- large:N ---------------------------------------------------------------------------------------

def _serial_id(kind: str, n: int) -> str:
    """A GUID-shaped id unique per kind and number: uuid5 for the first 20 hex digits, the number in
    the last 12. Sequential keys also keep SQLite's B-trees appending instead of splitting pages."""
    base = _SERIAL_BASES.get(kind)
    if base is None:
        base = _SERIAL_BASES[kind] = stable_id("large", kind)[:24]
    return base + f"{n:012x}"


_SERIAL_BASES: dict[str, str] = {}


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))


_TEAMS = ("payments", "checkout", "identity", "search", "web", "mobile", "data", "ml", "platform", "billing",
          "catalog", "shipping", "notifications", "fraud", "loyalty", "media")
_PURPOSES = ("github-actions", "azure-devops", "deploy", "puller", "scanner", "release-bot", "cron",
             "jenkins")


# Registries per subscription, repeated until every registry has one: a few large subscriptions and
# many small ones, as landing zones grow (Cloud Adoption Framework, "subscription democratization":
# a subscription per application or team). At about 180 assignments a registry (five per principal,
# forty principals a registry), 20 registries stay under the 4,000 a subscription may hold.
_LARGE_SUBSCRIPTION_SIZES = (20, 12, 6, 3, 1)


def _large_placement(n_regs: int) -> list[int]:
    """The subscription index of each registry, filling subscriptions to `_LARGE_SUBSCRIPTION_SIZES`."""
    placement: list[int] = []
    sub = 0
    while len(placement) < n_regs:
        size = _LARGE_SUBSCRIPTION_SIZES[sub % len(_LARGE_SUBSCRIPTION_SIZES)]
        placement += [sub] * min(size, n_regs - len(placement))
        sub += 1
    return placement


def seed_large(store: Store, n: int, now: float | None = None) -> None:
    """N service principals over N/40 registries, about five role assignments each (a tenth of them
    through nested groups), a few at subscription and resource-group scope; and who could take them
    over (issue 17): application and service-principal owners, N/10 people, Entra role assignments
    (tenant-wide, through role-assignable groups, scoped to one application), Graph application
    permissions and federated credentials, at the rates of `_large_takeover_facts`.

    Registries are spread over subscriptions of unequal sizes (`_LARGE_SUBSCRIPTION_SIZES`) so that no
    subscription holds more than the 4,000 role assignments Azure allows (rbac_limits), as a real
    tenant of this size must be split.

    Rows go in with executemany inside one transaction: put_object's read-then-write per object
    would take minutes for 20,000 principals."""
    if n < 1:
        raise ValueError("large:N needs N >= 1")
    n_regs = max(1, n // 40)
    placement = _large_placement(n_regs)  # registry r → index of its subscription
    n_subs = max(len(DEMO_SUBSCRIPTIONS), placement[-1] + 1)
    subscriptions = DEMO_SUBSCRIPTIONS + [
        (stable_id("contoso", "sub", f"landing-zone-{k:03d}"), f"Contoso Landing Zone {k:03d}")
        for k in range(len(DEMO_SUBSCRIPTIONS), n_subs)]
    seed_tenant(store, "contoso", subscriptions)
    t0 = time.time() if now is None else now
    tenant_id = store.tenant_id
    assigned_on = _arm_time(t0 - 30 * DAY)
    subs = [sub_id for sub_id, _ in subscriptions]
    with_registries = sorted(set(placement))  # subscriptions that hold registries
    roles = {name: _role(name) for name in ("AcrPull", "AcrPush", "AcrDelete", "Reader",
                                            "Container Registry Repository Reader",
                                            "Container Registry Repository Writer")}
    rg_names = [f"rg-bench-{k:02d}" for k in range(n_subs)]  # one per subscription, same index
    registries: list[tuple[str, bool]] = []  # (id, abac)
    with store.transaction():
        for k in with_registries:
            store.put_resource_group(subs[k], rg_names[k], resource_group_doc(subs[k], rg_names[k]))
        seq = store.next_seq("resources")
        resource_rows = []
        for r in range(n_regs):
            sub_id, rg = subs[placement[r]], rg_names[placement[r]]
            abac = r % 10 == 9
            doc = registry_doc(sub_id, rg, f"bench{r:05d}", sku=("Basic", "Standard", "Premium")[r % 3],
                               admin=r % 25 == 0, abac=abac)
            registries.append((doc["id"], abac))
            resource_rows.append((doc["id"].lower(), doc["type"].lower(), sub_id.lower(), rg.lower(),
                                  doc["name"].lower(), seq + r, json.dumps(doc)))
        store.executemany("INSERT OR REPLACE INTO resources(id_lower, type, subscription_id,"
                          " resource_group_lower, name_lower, seq, doc) VALUES (?,?,?,?,?,?,?)",
                          resource_rows)

        objects: list[tuple[Any, ...]] = []
        hashes: list[tuple[Any, ...]] = []
        members: list[tuple[str, str]] = []
        ras: list[tuple[Any, ...]] = []
        obj_seq = store.next_seq("directory_objects")
        ra_seq = store.next_seq("role_assignments")

        def put(doc: dict[str, Any], otype: str, created: float) -> None:
            objects.append((doc["id"], otype, doc.get("appId"), doc.get("displayName") or "",
                            obj_seq + len(objects), created, _dumps(doc)))

        def grant(scope: str, role: str, principal: str, ptype: str) -> None:
            doc = assignment_doc(scope, roles[role], principal, ptype, name=_serial_id("ra", len(ras)),
                                 created=assigned_on)
            ras.append((doc["name"], scope.lower(), roles[role], principal, ra_seq + len(ras), _dumps(doc)))

        apps: list[tuple[int, str, str, str, str]] = []  # (index, application id, its SP's id, name, team)
        n_groups = max(4, n // 100)
        group_ids = [_serial_id("group", g) for g in range(n_groups)]
        for g, gid in enumerate(group_ids):
            name = f"{_TEAMS[g % len(_TEAMS)]}-acr-group-{g:04d}"
            put(group_doc(name, object_id=gid, created=t0 - 500 * DAY), "group", t0 - 500 * DAY)
            if g:  # a tree: group g sits in group (g - 1) // 4, so rights reach down several levels
                members.append((group_ids[(g - 1) // 4], gid))
            for k in range(5):
                reg_id, abac = registries[(g * 5 + k * 7) % n_regs]
                role = ("Container Registry Repository Reader" if abac else ("AcrPull", "AcrPush")[k % 2])
                grant(reg_id, role, gid, "Group")

        for i in range(n):
            team = _TEAMS[i % len(_TEAMS)]
            purpose = _PURPOSES[(i // len(_TEAMS)) % len(_PURPOSES)]
            name = f"{purpose}-{team}-{i:05d}"
            created = t0 - (30 + i % 700) * DAY
            sp_id = _serial_id("sp", i)
            app_id = _serial_id("appId", i)
            start = datetime.fromtimestamp(created, UTC)
            start_iso = iso(start)
            if i % 20 == 19:  # a managed identity: no application, no secrets
                identity = (f"/subscriptions/{subs[i % 3]}/resourcegroups/rg-aks/providers/"
                            f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}")
                sp = managed_identity_doc(name, object_id=sp_id, app_id=app_id, resource_id=identity,
                                          created=created)
            else:
                secret = secrets.token_urlsafe(30)
                # one-year or two-year secrets: some long expired, some expiring this month
                end = start + timedelta(days=(365, 730)[i % 2])
                key_id = _serial_id("password", i)
                app = {"id": _serial_id("app", i), "appId": app_id, "displayName": name,
                       "createdDateTime": start_iso, "signInAudience": "AzureADMyOrg", "tags": [],
                       "identifierUris": [], "keyCredentials": [],
                       "passwordCredentials": [{"customKeyIdentifier": None, "displayName": purpose,
                                                "endDateTime": iso(end), "hint": secret[:3], "keyId": key_id,
                                                "secretText": None, "startDateTime": start_iso}]}
                put(app, "application", created)
                apps.append((i, str(app["id"]), sp_id, name, team))
                salt, digest = hash_secret(secret)
                hashes.append((key_id, app["id"], salt, digest))
                sp = {"id": sp_id, "appId": app_id, "displayName": name, "accountEnabled": i % 97 != 13,
                      "servicePrincipalType": "Application", "servicePrincipalNames": [app_id],
                      "appOwnerOrganizationId": tenant_id, "createdDateTime": start_iso, "tags": [],
                      "passwordCredentials": [], "keyCredentials": []}
            put(sp, "servicePrincipal", created)
            if i % 10 == 0:  # a tenth get their rights only through a group
                members.append((group_ids[(i // 10) % n_groups], sp_id))
                continue
            for k in range(5):
                reg_id, abac = registries[(i * 7 + k * 13) % n_regs]
                if abac:
                    role = ("Container Registry Repository Reader", REPO_WRITER)[k % 2]
                else:
                    role = ("AcrPull", "AcrPull", "AcrPush", "AcrPull", "AcrDelete")[k]
                grant(reg_id, role, sp_id, "ServicePrincipal")
            if i % 200 == 1:
                grant(f"/subscriptions/{subs[with_registries[i % len(with_registries)]]}", "Reader", sp_id,
                      "ServicePrincipal")
            if i % 100 == 3:
                k = with_registries[(i // 100) % len(with_registries)]
                grant(f"/subscriptions/{subs[k]}/resourceGroups/{rg_names[k]}", "AcrPull", sp_id, "ServicePrincipal")

        facts = _large_takeover_facts(store, apps, t0)
        for doc, otype in facts.objects:
            put(doc, otype, t0 - 400 * DAY)
        members += facts.members
        store.executemany("INSERT INTO directory_objects(id, type, app_id, display_name, seq, created, doc)"
                          " VALUES (?,?,?,?,?,?,?)", objects)
        store.executemany("INSERT INTO password_hashes(key_id, owner_id, salt, digest) VALUES (?,?,?,?)",
                          hashes)
        store.executemany("INSERT OR IGNORE INTO directory_owners(object_id, owner_id) VALUES (?,?)", facts.owners)
        store.executemany("INSERT OR REPLACE INTO directory_role_assignments(id, principal_id, role_definition_id,"
                          " directory_scope_id) VALUES (?,?,?,?)", facts.roles)
        store.executemany("INSERT OR REPLACE INTO directory_grants(principal_id, permission) VALUES (?,?)",
                          facts.grants)
        store.executemany("INSERT INTO federated_credentials(id, application_id, doc) VALUES (?,?,?)",
                          facts.federated)
        store.executemany("INSERT OR IGNORE INTO group_members(group_id, member_id) VALUES (?,?)", members)
        store.executemany("INSERT OR REPLACE INTO role_assignments(name, scope_lower, role_guid,"
                          " principal_id, seq, doc) VALUES (?,?,?,?,?,?)", ras)
        for sub_id in subs:  # the seed writes rows directly, past the PUT that enforces the limit
            held = store.count_role_assignments_under(f"/subscriptions/{sub_id}")
            if held > MAX_ASSIGNMENTS_PER_SUBSCRIPTION:
                raise AssertionError(f"large:{n} puts {held} role assignments in subscription {sub_id}")
        store.set_meta("seed", f"large:{n}")
        store.set_meta("seeded_at", str(t0))


# -- large:N, who can take over a principal (issue 17) -------------------------------------------
#
# Rates. Public figures on how tenants look are scarce, so each rate says where it comes from; those
# marked "assumption" are ours, chosen to be plausible for a large company and stated so a reader can
# change them.
# - Application owners. "A user in Microsoft Entra ID is automatically added as an application owner
#   when they register an application", and Microsoft recommends "at least two owners, where possible,
#   to avoid the situation of ownerless apps" (MicrosoftDocs/entra-docs, docs/identity/enterprise-apps/
#   overview-assign-app-owners.md; also learn.microsoft.com/graph/api/application-delete-owners). Apps
#   made by app-only automation (Terraform, scripts) get the calling app as owner or none, and ownerless
#   apps are common enough that the page above explains how to find them. Assumption on the split:
#   20 % no owner, 42 % one user, 33 % two users, 5 % an automation service principal (and one user in
#   half of those).
# - Service-principal owners (enterprise apps): "assigned by default only when a user with no
#   administrator roles … creates a new application registration" (the same page), so rarer;
#   assumption: 3 % have one user owner.
# - People: one developer per ten applications (assumption), owners drawn at random among them.
# - Directory roles. Global Administrator: "fewer than five people" (Microsoft's recommendation, the
#   permissions reference's Global Administrator section and learn.microsoft.com/entra/identity/
#   role-based-access-control/best-practices): 4. Privileged Role Administrator 2, Application
#   Administrator 6, Cloud Application Administrator 4 tenant-wide (assumptions); one role-assignable
#   group for each of the two application roles (groups-concept: roles may be given to groups made
#   with isAssignableToRole), five and eight members; and one application in 400 with an Application or
#   Cloud Application Administrator scoped to it alone, as delegated app management does
#   (rbacapplication-post-roleassignments, directoryScopeId "/{application id}").
# - Graph application permissions (appRoleAssignedTo of Microsoft Graph): a few automation principals,
#   assumption: one in 4,000 service principals with Application.ReadWrite.All, one in 10,000 with
#   AppRoleAssignment.ReadWrite.All and with RoleManagement.ReadWrite.Directory (at least one each), and
#   the automation owners above with Application.ReadWrite.OwnedBy. AzureHound/BloodHound model exactly
#   these as attack paths (SpecterOps, "Azure Privilege Escalation via Service Principal Abuse").
# - Federated identity credentials: assumption, 15 % of applications (11 % GitHub Actions with one to
#   three subjects, 4 % Kubernetes workload identity with one). Subjects follow the documented shapes:
#   "repo:<org>/<repo>:ref:refs/heads/<branch>", ":environment:<name>", ":pull_request"
#   (docs.github.com, "About security hardening with OpenID Connect", example subject claims) and
#   "system:serviceaccount:<namespace>:<name>" with an AKS issuer (learn.microsoft.com/azure/aks/
#   workload-identity-deploy-cluster).
# Seeded deterministically (a fixed random.Random seed), so two large:N tenants are the same.

_OWNER_SPLIT = (0.20, 0.62, 0.95)  # below: no owner | one user | two users | else an automation SP
_SP_OWNED = 0.03
_FEDERATED_GITHUB, _FEDERATED_K8S = 0.11, 0.15  # cumulative: GitHub below the first, Kubernetes up to the second
_TENANT_ROLES = (("Global Administrator", 4), ("Privileged Role Administrator", 2),
                 ("Application Administrator", 6), ("Cloud Application Administrator", 4))
_ROLE_GROUPS = (("entra-app-admins", "Application Administrator", 5),
                ("entra-cloud-app-admins", "Cloud Application Administrator", 8))
_GITHUB_SUBJECTS = ("ref:refs/heads/main", "environment:production", "pull_request", "ref:refs/tags/v1")
_AKS_CLUSTER = "7d0c2b9e-5a41-4f6b-8e1d-3c2a9f4b6e10"


@dataclass
class _LargeFacts:
    objects: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # users and role groups
    members: list[tuple[str, str]] = field(default_factory=list)
    owners: list[tuple[str, str]] = field(default_factory=list)  # (owned object, owner)
    roles: list[tuple[str, str, str, str]] = field(default_factory=list)  # (id, principal, role, scope)
    grants: list[tuple[str, str]] = field(default_factory=list)  # (principal, Graph permission)
    federated: list[tuple[str, str, str]] = field(default_factory=list)  # (id, application, doc)


def _large_takeover_facts(store: Store, apps: list[tuple[int, str, str, str, str]], t0: float) -> _LargeFacts:
    """Owners, people, Entra role assignments, Graph permissions and federated credentials for the
    `large:N` applications `apps` (index, application id, service principal id, name, team), at the
    rates above."""
    import random

    from .device_flow import tenant_domain
    from .graph_roles import ROLE_DEFINITIONS, assignment_id

    out = _LargeFacts()
    if not apps:
        return out
    rng = random.Random(17)
    role_ids = {name: tid for tid, name, _, _ in ROLE_DEFINITIONS}
    domain = tenant_domain(store)
    n = len(apps)
    users = [_serial_id("user", u) for u in range(max(12, n // 10))]
    for u, uid in enumerate(users):
        given, surname = f"Dev{u:05d}", _TEAMS[u % len(_TEAMS)].capitalize()
        key = f"dev{u:05d}.{_TEAMS[u % len(_TEAMS)]}"
        out.objects.append(({"id": uid, "displayName": f"{given} {surname}", "userPrincipalName": f"{key}@{domain}",
                             "mail": f"{key}@contoso.com", "accountEnabled": True, "userType": "Member",
                             "givenName": given, "surname": surname}, "user"))

    def role(name: str, principal: str, scope: str = "/") -> None:
        out.roles.append((assignment_id(role_ids[name], principal, scope), principal, role_ids[name], scope))

    # Tenant-wide holders: the first users (admins are people too), then the role-assignable groups.
    at = 0
    for name, count in _TENANT_ROLES:
        for uid in users[at:at + count]:
            role(name, uid)
        at += count
    for g, (group, name, count) in enumerate(_ROLE_GROUPS):
        gid = _serial_id("rolegroup", g)
        doc = group_doc(group, object_id=gid, description=f"Holds {name} (tenant-wide)", created=t0 - 400 * DAY)
        doc["isAssignableToRole"] = True
        out.objects.append((doc, "group"))
        role(name, gid)
        out.members += [(gid, uid) for uid in users[at:at + count]]
        at += count

    # Automation service principals (by position among the applications, so the same every time).
    def pick(count: int, offset: int) -> list[str]:
        step = max(1, n // max(1, count))
        return [apps[(offset + k * step) % n][2] for k in range(count)]

    automation = pick(max(2, n // 2000), 3)
    out.grants += [(sp, "Application.ReadWrite.OwnedBy") for sp in automation]
    out.grants += [(sp, "Application.ReadWrite.All") for sp in pick(max(1, n // 4000), 7)]
    out.grants += [(sp, "AppRoleAssignment.ReadWrite.All") for sp in pick(max(1, n // 10000), 11)]
    out.grants += [(sp, "RoleManagement.ReadWrite.Directory") for sp in pick(max(1, n // 10000), 13)]

    scoped_every = 400
    for k, (index, app_id, sp_id, name, team) in enumerate(apps):
        r = rng.random()
        if r >= _OWNER_SPLIT[0]:
            first = rng.choice(users)
            if r < _OWNER_SPLIT[2]:
                out.owners.append((app_id, first))
            if _OWNER_SPLIT[1] <= r < _OWNER_SPLIT[2]:
                second = rng.choice(users)
                if second != first:
                    out.owners.append((app_id, second))
            if r >= _OWNER_SPLIT[2]:
                out.owners.append((app_id, automation[k % len(automation)]))
                if k % 2:
                    out.owners.append((app_id, first))
        if rng.random() < _SP_OWNED:
            out.owners.append((sp_id, rng.choice(users)))
        if k % scoped_every == scoped_every // 2:
            role(("Application Administrator", "Cloud Application Administrator")[k // scoped_every % 2],
                 rng.choice(users), f"/{app_id}")
        f = rng.random()
        if f < _FEDERATED_GITHUB:
            repo = f"contoso/{team}-{name.rsplit('-', 1)[-1]}"
            for s, subject in enumerate(_GITHUB_SUBJECTS[:1 + index % 3]):
                fic = _fic(app_id, f"github-{subject.split(':')[0].replace('_', '-')}-{s}",
                           "https://token.actions.githubusercontent.com", f"repo:{repo}:{subject}")
                out.federated.append(fic)
        elif f < _FEDERATED_K8S:
            issuer = f"https://westeurope.oic.prod-aks.azure.com/{store.tenant_id}/{_AKS_CLUSTER}/"
            out.federated.append(_fic(app_id, f"aks-{team}", issuer, f"system:serviceaccount:{team}:{name}"))
    return out


def _fic(application_id: str, name: str, issuer: str, subject: str) -> tuple[str, str, str]:
    """A federated credential row in graph_federated's shape (its add_credential's document)."""
    fid = str(uuid.uuid5(uuid.UUID(application_id), name))
    doc = {"id": fid, "name": name, "issuer": issuer, "subject": subject, "description": None,
           "audiences": ["api://AzureADTokenExchange"]}
    return fid, application_id, _dumps(doc)


SEEDS = {"empty": seed_empty_tenant, "demo": seed_demo}


def apply_seed(store: Store, spec: str, now: float | None = None) -> None:
    """`empty`, `demo` or `large:N`; ValueError for anything else (the CLI shows its message)."""
    if spec.startswith("large:"):
        try:
            n = int(spec.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"unknown seed '{spec}': large:N needs a whole number, e.g. large:20000") \
                from None
        if not 1 <= n <= 1_000_000:
            raise ValueError(f"unknown seed '{spec}': N must be between 1 and 1000000")
        seed_large(store, n, now)
    elif spec == "demo":
        seed_demo(store, now)
    elif spec in SEEDS:
        SEEDS[spec](store)
    else:
        raise ValueError(f"unknown seed '{spec}': choose one of {', '.join(SEEDS)} or large:N")
    store.set_meta("seed", spec)
