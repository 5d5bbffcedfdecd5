"""Registry reads in a cloud that lags: the console falls back to a version the cloud serves, once per
session, and a registry whose mode the answer does not state is "mode unknown", never legacy.

The sandbox plays the cloud (`registry_api_versions`, tests/sandbox/test_arm_api_versions.py); the
requests the console sent are counted in the sandbox's own request log, and who can really push is
asked of the sandbox's registry token service.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest

from acr_console.access import to_json
from acr_console.azure.authorization import RoleDefinitions
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.errors import AzureCallError
from acr_console.azure.registries import (
    FALLBACK_ORDER,
    REGISTRIES_API,
    list_registries,
    listed_versions,
    next_version,
    registry_api_version,
    states,
)
from acr_console.azure.registry_access import find_registry, read_registry_access
from acr_console.models import Confidence, PrincipalType, Right, RoleAssignmentMode
from acr_console.sandbox.directory import add_password, new_application, new_service_principal
from acr_console.sandbox.seed import assign, role_definition_doc, stable_id
from acr_console.sandbox.server import SandboxServer

from ..sandbox.graph_support import ssl_context
from ..support.sandbox import sandbox_fixture

# uksouth in November 2024, as AzGovViz#266 quotes ARM's refusal: nothing newer than 2023-11-01-preview.
UKSOUTH_2024 = ["2017-03-01", "2017-10-01", "2019-05-01", "2019-12-01-preview", "2020-11-01-preview",
                "2021-06-01-preview", "2021-08-01-preview", "2021-09-01", "2021-12-01-preview",
                "2022-02-01-preview", "2022-12-01", "2023-01-01-preview", "2023-06-01-preview", "2023-07-01",
                "2023-08-01-preview", "2023-11-01-preview"]
LIST_SUFFIX = "/providers/Microsoft.ContainerRegistry/registries"
PROD = stable_id("contoso", "sub", "prod")
WEU = f"/subscriptions/{PROD}/resourceGroups/rg-platform-prod{LIST_SUFFIX}/contosoprodweu"

server = sandbox_fixture("api-versions-console", seed="demo")


@pytest.fixture
def cloud(server: SandboxServer) -> Iterator[SandboxServer]:
    yield server
    server.settings.registry_api_versions = None


@pytest.fixture
async def az(cloud: SandboxServer) -> AsyncIterator[AzureClients]:
    """A new session each test: what a session learnt must not leak into the next."""
    assert cloud.connection is not None
    async with AzureClients(sandbox_connection(cloud.connection)) as clients:
        yield clients


def registry_lists(server: SandboxServer, since: int) -> list[dict[str, Any]]:
    assert server.sandbox is not None
    return [e for e in server.sandbox.store.request_log(since)
            if e["method"] == "GET" and e["path"].endswith(LIST_SUFFIX)]


def last_seq(server: SandboxServer) -> int:
    assert server.sandbox is not None
    return server.sandbox.store.last_request_seq()


async def test_a_cloud_that_serves_the_newest_costs_nothing_extra(cloud: SandboxServer, az: AzureClients) -> None:
    since = last_seq(cloud)
    listing = await list_registries(az)
    sent = registry_lists(cloud, since)
    assert len(sent) == len(listing.subscriptions) == 3
    assert {(e["api_version"], e["status"]) for e in sent} == {(REGISTRIES_API, 200)}
    modes = {r.name: r.role_assignment_mode for r in listing.registries}
    assert modes["contosoprodweu"] is RoleAssignmentMode.ABAC
    assert modes["contosoprod"] is RoleAssignmentMode.LEGACY


async def test_a_lagging_cloud_costs_one_round_trip_once(cloud: SandboxServer, az: AzureClients) -> None:
    """Three subscriptions listed side by side: one refusal, then the best version of ARM's list
    (2023-11-01-preview: no stable version there states anonymousPullEnabled, none states the mode)."""
    cloud.settings.registry_api_versions = UKSOUTH_2024
    since = last_seq(cloud)
    listing = await list_registries(az)
    assert not listing.errors
    assert len(listing.registries) == 8
    sent = registry_lists(cloud, since)
    assert [(e["api_version"], e["status"]) for e in sent] == (
        [(REGISTRIES_API, 400)] + [("2023-11-01-preview", 200)] * 3)
    assert registry_api_version(az) == "2023-11-01-preview"
    # Every later read of the session goes straight to the version that worked.
    since = last_seq(cloud)
    await list_registries(az)
    found = await find_registry(az, "contosoprodweu")
    assert {(e["api_version"], e["status"]) for e in registry_lists(cloud, since)} == {("2023-11-01-preview", 200)}
    # Not one registry is taken for legacy: the answer did not say.
    assert {r.role_assignment_mode for r in listing.registries} == {RoleAssignmentMode.UNKNOWN}
    assert found.role_assignment_mode is RoleAssignmentMode.UNKNOWN


async def test_a_preview_that_states_the_mode_is_preferred(cloud: SandboxServer, az: AzureClients) -> None:
    cloud.settings.registry_api_versions = ["2023-07-01", "2025-03-01-preview", "2025-04-01"]
    since = last_seq(cloud)
    listing = await list_registries(az)
    assert registry_api_version(az) == "2025-03-01-preview"
    assert [e["status"] for e in registry_lists(cloud, since)] == [400, 200, 200, 200]
    modes = {r.name: r.role_assignment_mode for r in listing.registries}
    assert modes["contosoprodweu"] is RoleAssignmentMode.ABAC and modes["contosobase"] is RoleAssignmentMode.LEGACY


async def test_the_oldest_version_still_lists_every_registry(cloud: SandboxServer, az: AzureClients) -> None:
    cloud.settings.registry_api_versions = ["2017-03-01"]
    since = last_seq(cloud)
    listing = await list_registries(az)
    assert len(listing.registries) == 8 and not listing.errors
    assert registry_api_version(az) == "2017-03-01"
    assert [e["status"] for e in registry_lists(cloud, since)] == [400, 200, 200, 200]
    assert {r.role_assignment_mode for r in listing.registries} == {RoleAssignmentMode.UNKNOWN}


def _token_actions(conn: dict[str, Any], login: str, app_id: str, secret: str, scope: str) -> list[str]:
    """What the sandbox's registry token service grants (the ground truth), as docker login would ask."""
    basic = base64.b64encode(f"{app_id}:{secret}".encode()).decode()
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": login}) as http:
        r = http.get(f"{conn['registry_endpoint']}/oauth2/token", params={"service": login, "scope": scope},
                     headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200, r.text
    access = jwt.decode(r.json()["access_token"], options={"verify_signature": False})["access"]
    return [a for item in access for a in item["actions"]]


async def test_mode_unknown_answers_are_possible_and_agree_with_the_token_service(
        cloud: SandboxServer, az: AzureClients) -> None:
    """contosoprodweu is ABAC; read at a version that does not say so, AcrPush (nothing in ABAC) and a
    Repository Writer (nothing in legacy) are both only possible, a role that pushes in both modes
    stays direct, and against the sandbox's token service: every service principal it lets push is
    listed as a pusher, and every direct pusher can push."""
    assert cloud.sandbox is not None and cloud.connection is not None
    store, conn = cloud.sandbox.store, cloud.connection
    both = new_application(store, f"test-both-modes-{uuid.uuid4().hex[:8]}")
    both_sp = new_service_principal(store, both)
    role_guid = str(uuid.uuid4())
    store.put_role_definition(role_guid, role_definition_doc(
        role_guid, f"Test pusher in both modes {role_guid[:8]}", "push/write and content/write",
        ["Microsoft.ContainerRegistry/registries/pull/read", "Microsoft.ContainerRegistry/registries/push/write"],
        [], ["Microsoft.ContainerRegistry/registries/repositories/content/read",
             "Microsoft.ContainerRegistry/registries/repositories/content/write",
             "Microsoft.ContainerRegistry/registries/repositories/metadata/read",
             "Microsoft.ContainerRegistry/registries/repositories/metadata/write"], [],
        custom=True, scope=f"/subscriptions/{PROD}"), custom=True)
    assign(store, WEU, role_guid, both_sp["id"], "ServicePrincipal")

    cloud.settings.registry_api_versions = UKSOUTH_2024
    registry = await find_registry(az, "contosoprodweu")
    access = await read_registry_access(az, registry, RoleDefinitions(az))
    doc = to_json(access)
    assert doc["registry"]["mode"] == "unknown"
    by_name = {e["principal"]["displayName"]: e for e in doc["entries"]}

    def push_confidence(name: str) -> set[str]:
        return {"possible" if "push" in p["possible"] else p["confidence"]
                for p in by_name[name]["paths"] if "push" in p["rights"]}

    assert push_confidence("github-actions-web") == {"possible"}  # AcrPush: legacy only
    assert push_confidence("payments-release-bot") == {"possible"}  # Repository Writer: ABAC only
    assert [p["repositories"] for p in by_name["payments-release-bot"]["paths"] if "push" in p["rights"]] == [
        ["payments/*"]]
    assert push_confidence(both["displayName"]) == {"direct"}

    login = "contosoprodweu.azurecr.io"
    checked = 0
    for entry in access.entries:
        if entry.principal.type is not PrincipalType.SERVICE_PRINCIPAL or entry.principal.app_id is None:
            continue
        app = store.by_app_id(entry.principal.app_id, "application")
        if app is None:
            continue
        _, secret = add_password(store, app, "application")
        for repo in ("payments/api", "other/app"):
            pushes = "push" in _token_actions(conn, login, app["appId"], secret, f"repository:{repo}:pull,push")
            if pushes:
                assert entry.can(Right.PUSH), (entry.principal.display_name, repo)
            # Issue 16: a right only possible beside sure ones is on the same path, named in `possible`.
            direct = any(p.confidence is Confidence.DIRECT and p.repositories is None
                         and Right.PUSH in p.rights - p.possible for p in entry.paths)
            if direct:
                assert pushes, (entry.principal.display_name, repo)
        checked += 1
    assert checked >= 3


def test_the_cli_marks_mode_unknown(cloud: SandboxServer) -> None:
    """`registries` (table and JSON) and `access` (heading and JSON) say the mode is unknown."""
    cloud.settings.registry_api_versions = UKSOUTH_2024
    env = {**os.environ, "COLUMNS": "120"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "acr_console", "--sandbox-data", str(cloud.data_dir), *args],
                              capture_output=True, text=True, timeout=120, env=env)

    listed = cli("registries", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {r["mode"] for r in json.loads(listed.stdout)} == {"unknown"}
    table = cli("registries")
    assert table.returncode == 0, table.stderr
    assert "UNKNOWN" in table.stdout and "RBAC" not in table.stdout and "ABAC" not in table.stdout
    shown = cli("access", "contosoprodweu")
    assert shown.returncode == 0, shown.stderr
    assert "mode UNKNOWN (not stated by Azure" in shown.stdout
    assert "(possible: mode unknown)" in shown.stdout
    as_json = cli("access", "contosoprodweu", "--json")
    assert json.loads(as_json.stdout)["registry"]["mode"] == "unknown"


# -- choosing the next version (pure) ---------------------------------------------------------------


def _refusal(code: str, message: str) -> AzureCallError:
    return AzureCallError(code, message, 400)


def test_states_follows_the_specs_tables() -> None:
    """bicep-types-az `<version>/types.md` RegistryProperties (tests/sandbox/test_arm_api_versions.py)."""
    assert states("2025-11-01") == (True, True)
    assert states("2025-04-01") == (False, True)
    assert states("2025-03-01-preview") == (True, True)
    assert states("2024-11-01-preview") == (False, True)
    assert states("2023-07-01") == (False, False)
    assert states("2020-11-01-preview") == (False, True)
    assert states("2019-12-01-preview") == (False, False)
    assert states("2026-09-01-preview") == (True, True)
    assert states("latest") == (False, False)


def test_next_version_from_arms_lists() -> None:
    """Both of ARM's formats: NoRegisteredProviderFound's ", "-separated list (Azure/acr#70) and
    InvalidApiVersionParameter's ","-separated one (Azure/azure-cli#25572)."""
    no_provider = _refusal("NoRegisteredProviderFound", (
        "No registered resource provider found for location 'chinaeast2' and API version '2025-11-01' for type "
        "'registries'. The supported api-versions are '2019-05-01, 2021-09-01, 2023-07-01, 2023-11-01-preview, "
        "2025-04-01'. The supported locations are 'chinaeast2, chinanorth3'."))
    assert listed_versions(no_provider) == ["2019-05-01", "2021-09-01", "2023-07-01", "2023-11-01-preview",
                                            "2025-04-01"]
    assert next_version({"2025-11-01"}, no_provider) == "2025-04-01"  # stable beats preview when both state the same
    invalid = _refusal("InvalidApiVersionParameter",
                       "The api-version '2025-11-01' is invalid. The supported versions are "
                       "'2023-07-01,2022-12-01,2021-09-01,2019-05-01'.")
    assert next_version({"2025-11-01"}, invalid) == "2023-07-01"
    assert next_version({"2025-11-01", "2023-07-01", "2022-12-01", "2021-09-01", "2019-05-01"}, invalid) is None


def test_next_version_without_a_list_walks_the_stable_versions() -> None:
    bare = _refusal("NoRegisteredProviderFound", "No registered resource provider found for this api-version.")
    assert listed_versions(bare) == []
    tried: set[str] = set()
    order = []
    while (following := next_version(tried, bare)) is not None:
        order.append(following)
        tried.add(following)
    assert tuple(order) == FALLBACK_ORDER
