"""`GET /subscriptions/{sub}/resources` and `/locations`: how the Azure CLI finds a registry by name.

Sources:
- REST "Resources - List" (learn.microsoft.com/rest/api/resources/resources/list), as generated into
  azure-mgmt-resource 24.0.0 `resources/v2024_11_01/operations/_operations.py` (`ResourcesOperations.list`:
  the `$filter` grammar, `$expand`, `$top`) and `models` (`GenericResourceExpanded`: no provider
  `properties`);
- azure-cli 2.91.0 `core/commands/parameters.py` `get_resources_in_subscription` (it sends only
  `resourceType eq '…'` and matches the name itself, `command_modules/acr/_utils.py`), and its profile
  `MGMT_RESOURCE_RESOURCES: '2024-11-01'`;
- ARM's refusal of a filter it cannot read: `400 InvalidFilterInQueryString`, "Invalid $filter '…'
  specified in the query string." (Azure/azure-sdk-for-net#18748);
- `$top` pages with a nextLink (projectkudu/ARMClient#51 states the expected behaviour);
- REST "Subscriptions - List Locations" (learn.microsoft.com/rest/api/resources/subscriptions/list-locations);
  azure-cli `get_location_name_type` maps `--location "East US"` through it.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.identity import ClientSecretCredential

from acr_console.roles import builtin_by_name
from acr_console.sandbox.client_versions import AZURE_CLI_2_91_0
from acr_console.sandbox.directory import add_password, new_application, new_service_principal
from acr_console.sandbox.seed import assign, stable_id
from acr_console.sandbox.server import SandboxServer
from acr_console.sandbox.store import Store

ARM_SCOPE = "https://management.azure.com/.default"
DEV = stable_id("contoso", "sub", "dev")
RESOURCES = f"/subscriptions/{DEV}/resources"
API = "api-version=" + AZURE_CLI_2_91_0["Microsoft.Resources/resources"]
REGISTRIES = "Microsoft.ContainerRegistry/registries"
AZ_FILTER = f"resourceType eq '{REGISTRIES}'"  # exactly what az sends
GENERIC_KEYS = {"id", "name", "type", "location", "extendedLocation", "tags", "plan", "kind", "managedBy", "sku",
                "identity"}


def _client(conn: dict[str, Any], client_id: str, secret: str) -> httpx.Client:
    token = ClientSecretCredential(conn["tenant_id"], client_id, secret, authority=conn["authority_host"],
                                   disable_instance_discovery=True,
                                   connection_verify=conn["ca_bundle"]).get_token(ARM_SCOPE).token
    return httpx.Client(base_url=conn["resource_manager"], verify=ssl.create_default_context(cafile=conn["ca_bundle"]),
                        headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def store(sandbox_server: SandboxServer) -> Store:
    assert sandbox_server.sandbox is not None
    return sandbox_server.sandbox.store


@pytest.fixture
def admin(connection: dict[str, Any]) -> Iterator[httpx.Client]:
    with _client(connection, connection["admin"]["client_id"], connection["admin"]["client_secret"]) as http:
        yield http


def principal_with(conn: dict[str, Any], store: Store, *grants: tuple[str, str]) -> httpx.Client:
    """A new service principal holding (role, scope) assignments, signed in over ARM."""
    app = new_application(store, f"test-resources-{uuid.uuid4().hex[:8]}")
    sp = new_service_principal(store, app)
    _, secret = add_password(store, app, "application")
    for role, scope in grants:
        definition = builtin_by_name(role)
        assert definition is not None
        assign(store, scope, definition.guid, sp["id"], "ServicePrincipal")
    return _client(conn, app["appId"], secret)


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["value"]]


def test_the_lookup_az_sends_lists_registries_as_generic_resources(admin: httpx.Client) -> None:
    r = admin.get(RESOURCES, params={"$filter": AZ_FILTER, "api-version": API.split("=")[1]})
    assert sorted(names(r)) == ["contosodatalab", "contosodev", "contososandbox"]
    item = next(i for i in r.json()["value"] if i["name"] == "contosodev")
    assert set(item) <= GENERIC_KEYS and "properties" not in item
    assert item["id"] == f"/subscriptions/{DEV}/resourceGroups/rg-platform-dev/providers/{REGISTRIES}/contosodev"
    assert item["type"] == REGISTRIES and item["sku"] == {"name": "Standard", "tier": "Standard"}
    # The form with the name too; comparisons ignore case, as ARM's do.
    one = admin.get(RESOURCES, params={"$filter": f"resourceType eq '{REGISTRIES.lower()}' and name eq 'ContosoDev'",
                                       "api-version": "2024-11-01"})
    assert names(one) == ["contosodev"]
    # And with no filter at all: every resource of the subscription the caller may read.
    assert sorted(names(admin.get(f"{RESOURCES}?{API}"))) == ["contosodatalab", "contosodev", "contososandbox"]


def test_the_caller_sees_only_what_it_may_read(connection: dict[str, Any], store: Store) -> None:
    registry = f"/subscriptions/{DEV}/resourceGroups/rg-platform-dev/providers/{REGISTRIES}/contosodev"
    # AcrPull and AcrPush carry no registries/read: the list is empty, not a 403 (so az falls back
    # to R.azurecr.io for a login).
    with principal_with(connection, store, ("AcrPull", registry)) as puller:
        assert names(puller.get(RESOURCES, params={"$filter": AZ_FILTER, "api-version": "2024-11-01"})) == []
    with principal_with(connection, store, ("Reader", f"/subscriptions/{DEV}/resourceGroups/rg-data-dev")) as reader:
        assert names(reader.get(f"{RESOURCES}?{API}")) == ["contosodatalab"]
    with principal_with(connection, store) as stranger:
        denied = stranger.get(f"{RESOURCES}?{API}")
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "AuthorizationFailed"


def test_the_filter_grammar_and_what_it_refuses(admin: httpx.Client) -> None:
    def listed(flt: str) -> list[str]:
        return sorted(names(admin.get(RESOURCES, params={"$filter": flt, "api-version": "2024-11-01"})))

    assert listed("substringof('sandbox', name)") == ["contososandbox"]
    assert listed("resourceGroup eq 'RG-PLATFORM-DEV'") == ["contosodev", "contososandbox"]
    assert listed(f"resourceType eq '{REGISTRIES}' and (name eq 'contosodev' or name eq 'contosodatalab')") == [
        "contosodatalab", "contosodev"]
    assert listed("substringof('contoso', name) and resourceGroup ne 'rg-platform-dev'") == ["contosodatalab"]
    assert listed("location eq 'northeurope'") == []
    for bad in ("identity eq 'SystemAssigned'", "colour eq 'blue'", "name eq contosodev", "name gt 'a'",
                "substringof('x', location)", f"resourceType eq '{REGISTRIES}' and"):
        r = admin.get(RESOURCES, params={"$filter": bad, "api-version": "2024-11-01"})
        assert r.status_code == 400, bad
        assert r.json()["error"] == {"code": "InvalidFilterInQueryString",
                                     "message": f"Invalid $filter '{bad}' specified in the query string."}


def test_tag_filters_leave_the_tags_out(connection: dict[str, Any], admin: httpx.Client) -> None:
    group = f"rg-tags-{uuid.uuid4().hex[:8]}"
    name = f"tagged{uuid.uuid4().hex[:8]}"
    assert admin.put(f"/subscriptions/{DEV}/resourceGroups/{group}?api-version=2024-11-01",
                     json={"location": "westeurope"}).status_code == 201
    try:
        r = admin.put(f"/subscriptions/{DEV}/resourceGroups/{group}/providers/{REGISTRIES}/{name}"
                      "?api-version=2025-11-01",
                      json={"location": "westeurope", "sku": {"name": "Basic"}, "tags": {"Team": "Payments"}})
        assert r.status_code == 201, r.text
        plain = admin.get(RESOURCES, params={"$filter": f"name eq '{name}'", "api-version": "2024-11-01"})
        assert plain.json()["value"][0]["tags"] == {"Team": "Payments"}
        for flt in ("tagName eq 'team' and tagValue eq 'payments'", "startswith(tagName, 'tea')",
                    "tagName eq 'Team'"):
            r = admin.get(RESOURCES, params={"$filter": flt, "api-version": "2024-11-01"})
            assert names(r) == [name], flt
            assert "tags" not in r.json()["value"][0]  # "the original tags … will not be returned"
        assert names(admin.get(RESOURCES, params={"$filter": "tagName eq 'team' and tagValue eq 'web'",
                                                  "api-version": "2024-11-01"})) == []
        in_group = admin.get(f"/subscriptions/{DEV}/resourceGroups/{group}/resources?{API}")
        assert names(in_group) == [name]
    finally:
        admin.delete(f"/subscriptions/{DEV}/resourceGroups/{group}?api-version=2024-11-01")


def test_top_pages_and_expand_adds_the_times(connection: dict[str, Any], admin: httpx.Client) -> None:
    first = admin.get(RESOURCES, params={"$filter": AZ_FILTER, "$top": "2", "api-version": "2024-11-01"})
    assert len(names(first)) == 2 and first.json()["nextLink"].startswith(connection["resource_manager"])
    rest = admin.get(first.json()["nextLink"])
    assert len(names(rest)) == 1 and "nextLink" not in rest.json()
    assert sorted(names(first) + names(rest)) == ["contosodatalab", "contosodev", "contososandbox"]

    expanded = admin.get(RESOURCES, params={"$filter": "name eq 'contosodev'", "api-version": "2024-11-01",
                                            "$expand": "createdTime,changedTime,provisioningState"})
    item = expanded.json()["value"][0]
    assert item["provisioningState"] == "Succeeded" and item["createdTime"] and item["changedTime"]
    assert "createdTime" not in admin.get(f"{RESOURCES}?{API}").json()["value"][0]
    bad = admin.get(RESOURCES, params={"$expand": "properties", "api-version": "2024-11-01"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidExpandQueryString"
    assert admin.get(RESOURCES, params={"$top": "0", "api-version": "2024-11-01"}).status_code == 400
    missing = admin.get(f"/subscriptions/{DEV}/resourceGroups/rg-nowhere/resources?{API}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceGroupNotFound"


def test_locations_give_names_for_display_names(admin: httpx.Client) -> None:
    r = admin.get(f"/subscriptions/{DEV}/locations?api-version=2022-12-01")
    assert r.status_code == 200
    by_display = {loc["displayName"]: loc for loc in r.json()["value"]}
    east = by_display["East US"]
    assert east["name"] == "eastus" and east["type"] == "Region"
    assert east["id"] == f"/subscriptions/{DEV}/locations/eastus"
    assert by_display["West Europe"]["name"] == "westeurope"  # where the demo's registries are


def test_every_api_version_azure_cli_sends_is_served(admin: httpx.Client) -> None:
    """client_versions.AZURE_CLI_2_91_0, surface by surface; a registry read at az's version carries
    both properties that version has (2026-09-01-preview is newer than 2025-11-01, the first stable
    version with roleAssignmentMode: Azure/bicep-types-az containerregistry types.md)."""
    v = AZURE_CLI_2_91_0
    registry = f"/subscriptions/{DEV}/resourceGroups/rg-platform-dev/providers/{REGISTRIES}/contosodev"
    auth = "/providers/Microsoft.Authorization"
    urls = {
        "Microsoft.Resources/subscriptions": "/subscriptions",
        "Microsoft.Resources/subscriptions/locations": f"/subscriptions/{DEV}/locations",
        "Microsoft.Resources/resourceGroups": f"/subscriptions/{DEV}/resourceGroups/rg-platform-dev",
        "Microsoft.Resources/resources": RESOURCES,
        "Microsoft.ContainerRegistry/registries": registry,
        "Microsoft.Authorization/roleAssignments": f"{registry}{auth}/roleAssignments",
        "Microsoft.Authorization/roleDefinitions": f"{registry}{auth}/roleDefinitions",
    }
    assert set(urls) == set(v)
    for surface, url in urls.items():
        r = admin.get(url, params={"api-version": v[surface]})
        assert r.status_code == 200, (surface, r.text)
    props = admin.get(registry, params={"api-version": v[REGISTRIES]}).json()["properties"]
    assert props["roleAssignmentMode"] == "LegacyRegistryPermissions" and props["anonymousPullEnabled"] is False
