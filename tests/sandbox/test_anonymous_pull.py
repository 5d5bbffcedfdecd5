"""Anonymous pull at the sandbox's registry token service, and the ARM switch that turns it off.

Followed documents:
- MicrosoftDocs/azure-management-docs `articles/container-registry/anonymous-pull-access.md`
  (https://learn.microsoft.com/azure/container-registry/anonymous-pull-access): anonymous pull
  "makes all registry content publicly available for read (pull) actions"; "Only data-plane
  operations are available to unauthenticated clients"; it "applies to all repositories in the
  registry" whatever token or Entra repository permissions say; `az acr update --name R
  --anonymous-pull-enabled false` turns it off (`PATCH registries/R {"properties":
  {"anonymousPullEnabled": false}}`, a registries/write).
- distribution/distribution `docs/content/spec/auth/token.md`: "If the client only has a subset of
  the requested access it must not be considered an error"; errors as `{"errors": [{"code",
  "message", "detail"}]}` (`docs/content/spec/api.md`).
- Azure/azure-sdk-for-python `sdk/containerregistry/azure-containerregistry/azure/containerregistry/
  _anonymous_exchange_client.py`: the anonymous client POSTs `grant_type=password`,
  `refresh_token=""`, `service`, `scope` without an Authorization header.
- Azure/azure-sdk-for-net PR #20919: anonymously "The service supports all list operations (list
  repositories, list manifests, list tags…)".

The switch is flipped here, so these tests use a sandbox of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerregistry.models import RegistryUpdateParameters

from acr_console.roles import builtin_by_name
from acr_console.sandbox.directory import add_password, new_application, new_service_principal
from acr_console.sandbox.seed import DEMO_ANONYMOUS_PULL, assign, stable_id
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture
from .graph_support import ARM_SCOPE, ssl_context, sync_secret_credential

SUB_SHARED = stable_id("contoso", "sub", "shared")
SUB_PROD = stable_id("contoso", "sub", "prod")
BASE_RG, BASE = "rg-shared-images", "contosobase"  # anonymous pull on in the demo seed
WEU_RG, WEU = "rg-platform-prod", "contosoprodweu"  # ABAC mode, anonymous pull off
PROD = "contosoprod"  # legacy mode, anonymous pull off

anonymous_sandbox = sandbox_fixture("anonymous-pull")


@pytest.fixture
def conn(anonymous_sandbox: SandboxServer) -> dict[str, Any]:
    assert anonymous_sandbox.connection is not None
    return anonymous_sandbox.connection


@pytest.fixture
def store(anonymous_sandbox: SandboxServer) -> Any:
    assert anonymous_sandbox.sandbox is not None
    return anonymous_sandbox.sandbox.store


class Anonymous:
    """A client of one login server that sends no credential, as docker, oras and the SDK do."""

    def __init__(self, conn: dict[str, Any], registry: str) -> None:
        self.login = f"{registry}.azurecr.io"
        self.base = conn["registry_endpoint"]
        self.http = httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": self.login})

    def get(self, *scopes: str) -> httpx.Response:
        """docker/oras: `GET /oauth2/token?service=…&scope=…`."""
        return self.http.get(f"{self.base}/oauth2/token",
                             params=[("service", self.login), *(("scope", s) for s in scopes)])

    def post(self, scope: str) -> httpx.Response:
        """azure-containerregistry's AnonymousACRExchangeClient: one scope, from the challenge."""
        return self.http.post(f"{self.base}/oauth2/token", data={
            "grant_type": "password", "refresh_token": "", "service": self.login, "scope": scope})

    def access(self, response: httpx.Response) -> list[dict[str, Any]]:
        assert response.status_code == 200, response.text
        claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
        assert claims["aud"] == self.login and claims["iss"] == "Azure Container Registry"
        assert "appid" not in claims  # nobody signed in
        return claims["access"]

    def ping(self, token: str) -> httpx.Response:
        return self.http.get(f"{self.base}/v2/", headers={"Authorization": f"Bearer {token}"})


def acr_client(conn: dict[str, Any], store: Any, role: str, scope: str, subscription: str
               ) -> ContainerRegistryManagementClient:
    """The unmodified management SDK signed in as a new principal holding `role` at `scope`."""
    app = new_application(store, f"test-anon-{role.lower()}-{uuid.uuid4().hex[:8]}")
    sp = new_service_principal(store, app)
    _, secret = add_password(store, app, "application")
    found = builtin_by_name(role)
    assert found is not None
    assign(store, scope, found.guid, sp["id"], "ServicePrincipal")
    return ContainerRegistryManagementClient(
        sync_secret_credential(conn, app["appId"], secret), subscription, base_url=conn["resource_manager"],
        credential_scopes=[ARM_SCOPE], connection_verify=conn["ca_bundle"], retry_total=0)


def registry_id(subscription: str, rg: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/{name}"


@pytest.fixture
def contributor(conn: dict[str, Any], store: Any
                ) -> Iterator[tuple[ContainerRegistryManagementClient, ContainerRegistryManagementClient]]:
    """Contributor on the shared subscription, and on contosoprodweu alone (registries/write is what
    the PATCH needs); leaves both registries as seeded."""
    shared = acr_client(conn, store, "Contributor", f"/subscriptions/{SUB_SHARED}", SUB_SHARED)
    prod = acr_client(conn, store, "Contributor", registry_id(SUB_PROD, WEU_RG, WEU), SUB_PROD)
    yield shared, prod
    shared.registries.begin_update(BASE_RG, BASE, RegistryUpdateParameters(anonymous_pull_enabled=True)).result()
    prod.registries.begin_update(WEU_RG, WEU, RegistryUpdateParameters(anonymous_pull_enabled=False)).result()


def test_the_demo_seed_has_a_public_base_images_registry() -> None:
    assert DEMO_ANONYMOUS_PULL == (BASE,)


def test_docker_style_anonymous_request_gets_pull_on_every_repository_and_nothing_more(
        conn: dict[str, Any]) -> None:
    reg = Anonymous(conn, BASE)
    r = reg.get("repository:library/alpine:pull", "repository:never/pushed/yet:pull,push,delete",
                "repository:team/app:push", "repository:team/app:*", "registry:catalog:*")
    # Push, delete and `*` asked for anonymously: the subset held (pull), never an error.
    assert reg.access(r) == [{"type": "repository", "name": "library/alpine", "actions": ["pull"]},
                             {"type": "repository", "name": "never/pushed/yet", "actions": ["pull"]},
                             {"type": "registry", "name": "catalog", "actions": ["*"]}]
    assert reg.ping(r.json()["access_token"]).status_code == 200


def test_sdk_anonymous_client_request_gets_pull_and_list_reads(conn: dict[str, Any]) -> None:
    reg = Anonymous(conn, BASE)
    assert reg.access(reg.post("repository:library/alpine:pull")) == [
        {"type": "repository", "name": "library/alpine", "actions": ["pull"]}]
    # Listing tags and manifests (metadata_read) and the catalog: "all list operations".
    assert reg.access(reg.post("repository:library/alpine:metadata_read,metadata_write")) == [
        {"type": "repository", "name": "library/alpine", "actions": ["metadata_read"]}]
    assert reg.access(reg.post("registry:catalog:*")) == [{"type": "registry", "name": "catalog", "actions": ["*"]}]
    assert reg.access(reg.post("repository:library/alpine:push,delete")) == []


def test_without_anonymous_pull_an_anonymous_request_gets_401_unauthorized(conn: dict[str, Any]) -> None:
    reg = Anonymous(conn, PROD)
    for response in (reg.get("repository:team/app:pull"), reg.post("repository:team/app:pull")):
        assert response.status_code == 401
        assert response.json() == {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required",
                                               "detail": [{"Type": "repository", "Name": "team/app",
                                                           "Action": "pull"}]}]}


def test_credentials_that_fail_are_refused_even_where_anyone_may_pull(conn: dict[str, Any]) -> None:
    reg = Anonymous(conn, BASE)
    r = reg.http.post(f"{reg.base}/oauth2/token", data={
        "grant_type": "password", "username": str(uuid.uuid4()), "password": "wrong", "service": reg.login,
        "scope": "repository:library/alpine:pull"})
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_anonymous_pull_reaches_past_abac_repository_limits(conn: dict[str, Any], contributor: Any) -> None:
    reg = Anonymous(conn, WEU)
    assert reg.get("repository:payments/api:pull").status_code == 401
    _, prod = contributor
    prod.registries.begin_update(WEU_RG, WEU, RegistryUpdateParameters(anonymous_pull_enabled=True)).result()
    # On an ABAC registry no role names these repositories; anyone pulls them all the same.
    assert reg.access(reg.get("repository:payments/api:pull,push", "repository:anything/else:pull")) == [
        {"type": "repository", "name": "payments/api", "actions": ["pull"]},
        {"type": "repository", "name": "anything/else", "actions": ["pull"]}]


def test_patch_turns_it_off_and_needs_registry_write(conn: dict[str, Any], store: Any, contributor: Any) -> None:
    shared, _ = contributor
    reader = acr_client(conn, store, "Reader", f"/subscriptions/{SUB_SHARED}", SUB_SHARED)
    with pytest.raises(HttpResponseError) as denied:
        reader.registries.begin_update(BASE_RG, BASE, RegistryUpdateParameters(anonymous_pull_enabled=False)).result()
    assert denied.value.status_code == 403 and "Microsoft.ContainerRegistry/registries/write" in denied.value.message
    reg = Anonymous(conn, BASE)
    assert reg.get("repository:library/alpine:pull").status_code == 200

    updated = shared.registries.begin_update(
        BASE_RG, BASE, RegistryUpdateParameters(anonymous_pull_enabled=False)).result()
    assert updated.anonymous_pull_enabled is False
    assert shared.registries.get(BASE_RG, BASE).anonymous_pull_enabled is False
    r = reg.get("repository:library/alpine:pull")
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert reg.post("repository:library/alpine:pull").status_code == 401
