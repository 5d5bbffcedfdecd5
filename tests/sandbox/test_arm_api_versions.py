"""The registry provider answers at the request's api-version, as Azure's does.

Sources (also in acr_console/sandbox/api_versions.py):
- Which version carries which property: Azure/bicep-types-az at 1f896de2, generated from
  azure-rest-api-specs, `generated/containerregistry_0/microsoft.containerregistry/<version>/types.md`,
  section `RegistryProperties`: `anonymousPullEnabled` in previews from 2020-11-01-preview and in
  stable versions from 2025-04-01; `roleAssignmentMode` from 2025-03-01-preview and 2025-11-01.
- What an older version does with a property it lacks: the Container Registry team in
  Azure/azure-rest-api-specs#4506 ("Lower versions ignore `networkRuleset` in PUT/PATCH, also won't
  return it in GET").
- A version the provider does not serve: ARM's `NoRegisteredProviderFound`, in the format quoted by
  Azure/acr#70 and Azure/azure-cli#9834, and for a lagging region by AzGovViz#266 (uksouth, 2024-11).
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.identity import ClientSecretCredential

from acr_console.sandbox.api_versions import KNOWN
from acr_console.sandbox.seed import stable_id
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture

ARM_SCOPE = "https://management.azure.com/.default"
PROD = stable_id("contoso", "sub", "prod")
ABAC_REGISTRY = (f"/subscriptions/{PROD}/resourceGroups/rg-platform-prod/providers/"
                 "Microsoft.ContainerRegistry/registries/contosoprodweu")
LIST = f"/subscriptions/{PROD}/providers/Microsoft.ContainerRegistry/registries"
# The versions uksouth served in November 2024 (AzGovViz#266): nothing newer than 2023-11-01-preview.
UKSOUTH_2024 = ["2017-03-01", "2017-10-01", "2019-05-01", "2019-12-01-preview", "2020-11-01-preview",
                "2021-06-01-preview", "2021-08-01-preview", "2021-09-01", "2021-12-01-preview",
                "2022-02-01-preview", "2022-12-01", "2023-01-01-preview", "2023-06-01-preview", "2023-07-01",
                "2023-08-01-preview", "2023-11-01-preview"]

server = sandbox_fixture("sandbox-api-versions", seed="demo")


@pytest.fixture
def http(server: SandboxServer) -> Iterator[httpx.Client]:
    conn = server.connection
    assert conn is not None
    token = ClientSecretCredential(conn["tenant_id"], conn["admin"]["client_id"], conn["admin"]["client_secret"],
                                   authority=conn["authority_host"], disable_instance_discovery=True,
                                   connection_verify=conn["ca_bundle"]).get_token(ARM_SCOPE).token
    with httpx.Client(base_url=conn["resource_manager"], verify=ssl.create_default_context(cafile=conn["ca_bundle"]),
                      headers={"Authorization": f"Bearer {token}"}) as client:
        yield client
    server.settings.registry_api_versions = None
    server.settings.registry_unknown_properties = "ignore"


def props_at(http: httpx.Client, version: str) -> dict[str, Any]:
    r = http.get(ABAC_REGISTRY, params={"api-version": version})
    assert r.status_code == 200, r.text
    return dict(r.json()["properties"])


@pytest.mark.parametrize(("version", "anonymous", "mode"), [
    ("2025-11-01", True, True),
    ("2025-04-01", True, False),         # the first stable version with anonymousPullEnabled
    ("2025-03-01-preview", True, True),  # the first version with roleAssignmentMode
    ("2024-11-01-preview", True, False),
    ("2023-11-01-preview", True, False),
    ("2023-07-01", False, False),        # stable, between previews that have anonymousPullEnabled
    ("2021-09-01", False, False),
    ("2020-11-01-preview", True, False),
    ("2019-12-01-preview", False, False),
    ("2017-10-01", False, False),
])
def test_a_registry_is_shown_as_its_version_shows_it(http: httpx.Client, version: str, anonymous: bool,
                                                     mode: bool) -> None:
    """bicep-types-az `<version>/types.md` RegistryProperties: a version without a property omits it,
    in GET and in the list alike."""
    props = props_at(http, version)
    assert ("anonymousPullEnabled" in props) is anonymous
    assert ("roleAssignmentMode" in props) is mode
    if mode:
        assert props["roleAssignmentMode"] == "AbacRepositoryPermissions"
    listed = http.get(LIST, params={"api-version": version})
    assert listed.status_code == 200
    [doc] = [d for d in listed.json()["value"] if d["name"] == "contosoprodweu"]
    assert ("roleAssignmentMode" in doc["properties"]) is mode
    assert ("anonymousPullEnabled" in doc["properties"]) is anonymous
    assert props["loginServer"] == "contosoprodweu.azurecr.io"  # what every version has stays


def test_the_matrix_matches_the_specs_table() -> None:
    """Spot checks of api_versions.KNOWN against the bicep-types-az table (brief §4)."""
    assert len(KNOWN) == 25
    assert [v for v, row in KNOWN.items() if row.role_assignment_mode and not row.preview] == ["2025-11-01"]
    stable_anonymous = sorted(v for v, row in KNOWN.items() if row.anonymous_pull and not row.preview)
    assert stable_anonymous == ["2025-04-01", "2025-11-01"]
    assert not KNOWN["2019-12-01-preview"].tokens and KNOWN["2019-05-01-preview"].tokens
    assert not KNOWN["2021-09-01"].tokens and KNOWN["2022-12-01"].tokens


def _put_body(location: str = "westeurope", **props: Any) -> dict[str, Any]:
    return {"location": location, "sku": {"name": "Standard"}, "properties": props}


def test_an_older_version_ignores_a_property_it_does_not_have(http: httpx.Client) -> None:
    """Azure/azure-rest-api-specs#4506: "Lower versions ignore [the property] in PUT/PATCH, also won't
    return it in GET." The stored value stays as it was."""
    rg = f"/subscriptions/{PROD}/resourceGroups/rg-platform-prod/providers/Microsoft.ContainerRegistry/registries"
    name = "apiv" + uuid.uuid4().hex[:10]
    url = f"{rg}/{name}"
    created = http.put(url, params={"api-version": "2025-11-01"},
                       json=_put_body(roleAssignmentMode="AbacRepositoryPermissions"))
    assert created.status_code == 201, created.text
    try:
        patched = http.patch(url, params={"api-version": "2023-07-01"},
                             json={"properties": {"roleAssignmentMode": "LegacyRegistryPermissions",
                                                  "anonymousPullEnabled": True, "adminUserEnabled": True}})
        assert patched.status_code == 200, patched.text
        assert "roleAssignmentMode" not in patched.json()["properties"]
        now = http.get(url, params={"api-version": "2025-11-01"}).json()["properties"]
        assert now["roleAssignmentMode"] == "AbacRepositoryPermissions"
        assert now["anonymousPullEnabled"] is False
        assert now["adminUserEnabled"] is True  # what the version has is applied
        # A PUT at such a version creates the registry with the property's default, whatever it names.
        other = name + "b"
        put = http.put(f"{rg}/{other}", params={"api-version": "2022-12-01"},
                       json=_put_body(roleAssignmentMode="AbacRepositoryPermissions"))
        assert put.status_code == 201, put.text
        shown = http.get(f"{rg}/{other}", params={"api-version": "2025-11-01"}).json()["properties"]
        assert shown["roleAssignmentMode"] == "LegacyRegistryPermissions"
        http.delete(f"{rg}/{other}", params={"api-version": "2025-11-01"})
    finally:
        http.delete(url, params={"api-version": "2025-11-01"})


def test_the_reject_setting_refuses_such_a_property(server: SandboxServer, http: httpx.Client) -> None:
    """`registry_unknown_properties = "reject"`: 400 InvalidRequestContent, the registry provider's
    deserialization error (Azure/azure-sdk-for-java#1919) with Json.NET's missing-member message."""
    server.settings.registry_unknown_properties = "reject"
    r = http.patch(ABAC_REGISTRY, params={"api-version": "2025-04-01"},
                   json={"properties": {"roleAssignmentMode": "LegacyRegistryPermissions"}})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "InvalidRequestContent"
    assert error["message"] == (
        "The request content was invalid and could not be deserialized: 'Could not find member "
        "'roleAssignmentMode' on object of type 'RegistryPropertiesUpdateParameters'. Path "
        "'properties.roleAssignmentMode'.'.")
    assert props_at(http, "2025-11-01")["roleAssignmentMode"] == "AbacRepositoryPermissions"
    # What the version has passes.
    ok = http.patch(ABAC_REGISTRY, params={"api-version": "2025-04-01"},
                    json={"properties": {"anonymousPullEnabled": False}})
    assert ok.status_code == 200, ok.text


def test_a_version_the_provider_does_not_serve_is_refused_as_arm_does(http: httpx.Client) -> None:
    """Azure/acr#70, Azure/azure-cli#9834: 400 NoRegisteredProviderFound, naming the location, the
    version and the type, then every supported version joined by ", " and the supported locations."""
    r = http.get(ABAC_REGISTRY, params={"api-version": "2016-06-27-preview"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "NoRegisteredProviderFound"
    served = ", ".join(sorted(KNOWN, key=lambda v: (v.removesuffix("-preview"), v.endswith("-preview"))))
    assert error["message"].startswith(
        "No registered resource provider found for location 'westeurope' and API version '2016-06-27-preview' "
        f"for type 'registries'. The supported api-versions are '{served}'. The supported locations are '")
    assert error["message"].endswith("'.")
    for method in ("PATCH", "DELETE"):
        assert http.request(method, ABAC_REGISTRY, params={"api-version": "2099-01-01"},
                            json={}).json()["error"]["code"] == "NoRegisteredProviderFound"
    assert http.post(f"{ABAC_REGISTRY}/listCredentials",
                     params={"api-version": "2099-01-01"}).json()["error"]["code"] == "NoRegisteredProviderFound"


def test_a_lagging_region_serves_its_own_list(server: SandboxServer, http: httpx.Client) -> None:
    """The setting `registry_api_versions` plays a region or cloud behind the specs: uksouth in
    November 2024 (AzGovViz#266) refused 2024-01-01-preview and listed versions up to 2023-11-01-preview."""
    server.settings.registry_api_versions = UKSOUTH_2024
    r = http.get(LIST, params={"api-version": "2025-11-01"})
    assert r.status_code == 400
    assert r.json()["error"]["message"].startswith(
        "No registered resource provider found for location 'westeurope' and API version '2025-11-01' for type "
        f"'registries'. The supported api-versions are '{', '.join(UKSOUTH_2024)}'.")
    assert http.get(LIST, params={"api-version": "2023-11-01-preview"}).status_code == 200
    # A registry's own requests name its location.
    r = http.get(ABAC_REGISTRY, params={"api-version": "2025-04-01"})
    assert "for location 'westeurope'" in r.json()["error"]["message"]


def test_the_setting_through_the_control_api(server: SandboxServer, http: httpx.Client) -> None:
    put = http.put("/_sandbox/settings", json={"registry_api_versions": ["2023-07-01", "2022-12-01"],
                                               "registry_unknown_properties": "reject"})
    assert put.status_code == 200, put.text
    assert put.json()["registry_api_versions"] == ["2022-12-01", "2023-07-01"]
    assert server.settings.registry_unknown_properties == "reject"
    assert http.get(LIST, params={"api-version": "2025-11-01"}).status_code == 400
    assert http.get(LIST, params={"api-version": "2022-12-01"}).status_code == 200
    for bad in ({"registry_api_versions": ["2099-01-01"]}, {"registry_api_versions": []},
                {"registry_api_versions": "2023-07-01"}, {"registry_unknown_properties": "maybe"}):
        r = http.put("/_sandbox/settings", json=bad)
        assert r.status_code == 400, bad
    assert http.put("/_sandbox/settings", json={"registry_api_versions": None,
                                                "registry_unknown_properties": "ignore"}).status_code == 200
    assert http.get(LIST, params={"api-version": "2025-11-01"}).status_code == 200
