"""The console's one table of clouds (azure/connection.py CLOUDS), compared at run time with the
SDKs' own tables, so that an SDK that moves an endpoint or an audience fails here rather than in
one sovereign cloud's sign-in:

- azure-identity's `AzureAuthorityHosts` (azure/identity/_constants.py): the sign-in authority;
- azure-mgmt-core's `get_arm_endpoints` (azure/mgmt/core/tools.py) for azure-core's `AzureClouds`:
  the ARM endpoint and the scope the generated ARM clients ask for;
- msgraph-core's `NationalClouds` (msgraph_core/_enums.py): Microsoft Graph's root per national
  cloud, after https://learn.microsoft.com/graph/deployments ("US Government L5 (DOD)").
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest
from azure.core import AzureClouds
from azure.identity import AzureAuthorityHosts
from azure.mgmt.core.tools import get_arm_endpoints
from msgraph_core import NationalClouds

import acr_console
from acr_console.azure.connection import CLOUDS
from acr_console.config import CloudName, Profile
from acr_console.tui.screens.secret import password_view

# Each console cloud → (azure-core's cloud, azure-identity's authority host, msgraph-core's Graph).
# DoD tenants sign in at the US Government authority and use its ARM; only Graph differs.
SDK_CLOUDS: dict[str, tuple[AzureClouds, str, NationalClouds]] = {
    "AzureCloud": (AzureClouds.AZURE_PUBLIC_CLOUD, AzureAuthorityHosts.AZURE_PUBLIC_CLOUD, NationalClouds.Global),
    "AzureChinaCloud": (AzureClouds.AZURE_CHINA_CLOUD, AzureAuthorityHosts.AZURE_CHINA, NationalClouds.China),
    "AzureUSGovernment": (AzureClouds.AZURE_US_GOVERNMENT, AzureAuthorityHosts.AZURE_GOVERNMENT,
                          NationalClouds.US_GOV),
    "AzureUSGovernmentDoD": (AzureClouds.AZURE_US_GOVERNMENT, AzureAuthorityHosts.AZURE_GOVERNMENT,
                             NationalClouds.US_DoD),
}


def test_every_cloud_is_compared_and_every_name_is_a_profile_choice() -> None:
    assert set(CLOUDS) == set(SDK_CLOUDS)
    assert set(typing.get_args(CloudName)) == set(CLOUDS)
    for name in CLOUDS:
        assert Profile(cloud=name).cloud == name  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(SDK_CLOUDS))
def test_the_table_matches_the_sdks(name: str) -> None:
    cloud = CLOUDS[name]
    azure_cloud, authority_host, graph = SDK_CLOUDS[name]
    assert cloud.name == name
    assert cloud.authority_host == f"https://{authority_host}"
    arm = get_arm_endpoints(azure_cloud)
    assert cloud.resource_manager == arm["resource_manager"]
    assert [cloud.arm_scope] == arm["credential_scopes"]
    assert cloud.microsoft_graph == graph.value
    assert cloud.graph_scope == f"{graph.value}/.default"


def test_us_government_asks_for_the_arm_audience_the_sdk_uses() -> None:
    # Not the ARM host's own name: azure-mgmt-core asks for the classic audience.
    scope = get_arm_endpoints(AzureClouds.AZURE_US_GOVERNMENT)["credential_scopes"]
    assert scope == ["https://management.core.usgovcloudapi.net/.default"]
    assert CLOUDS["AzureUSGovernment"].arm_scope == scope[0] == CLOUDS["AzureUSGovernmentDoD"].arm_scope


def test_registry_suffixes_are_the_documented_ones() -> None:
    # https://learn.microsoft.com/azure/china/resources-developer-guide (azurecr.cn) and
    # https://learn.microsoft.com/azure/azure-government/documentation-government-services-containers (azurecr.us).
    assert {n: c.acr_suffix for n, c in CLOUDS.items()} == {
        "AzureCloud": ".azurecr.io", "AzureChinaCloud": ".azurecr.cn",
        "AzureUSGovernment": ".azurecr.us", "AzureUSGovernmentDoD": ".azurecr.us"}


def test_a_login_hint_uses_the_clouds_suffix() -> None:
    china = CLOUDS["AzureChinaCloud"]
    view = password_view("reset-credential", {"appId": "app", "tenant": "t"}, None, china.acr_suffix)
    assert view is not None
    docker = dict(view.commands)["docker"]
    assert docker.startswith("docker login <registry>.azurecr.cn ")


def _literals(tree: ast.AST) -> list[tuple[int, str]]:
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_registry_suffix_is_hard_coded_outside_the_table() -> None:
    # Every hint that prints a login server takes the suffix from the connection's cloud; the
    # sandbox serves the public cloud's names and is not a hint.
    root = Path(acr_console.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("sandbox/") or rel == "azure/connection.py":
            continue
        found += [f"{rel}:{line}" for line, text in _literals(ast.parse(path.read_text(), rel)) if "azurecr." in text]
    assert found == []
