"""Registry tokens and scope maps in the sandbox: ARM `scopeMaps`, `tokens`, `generateCredentials`
through the unmodified ContainerRegistryManagementClient, and the token service granting a token
exactly its scope map's actions (Basic `TOKEN_NAME:password`, and az's `grant_type=password` form).

Sources every test here follows (named again where one matters):
- MicrosoftDocs/azure-management-docs `articles/container-registry/container-registry-token-based-
  repository-permissions.md` (ms.date 05/01/2025): actions, wildcards, system scope maps, passwords.
- Azure/azure-rest-api-specs `specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/
  stable/2023-07-01/examples/TokenCreate.json`, `ScopeMapCreate.json`, `RegistryGenerateCredentials.json`.
- Azure/acr `docs/Token-BasicAuth.md` (Basic at /oauth2/token) and distribution/distribution
  `docs/content/spec/auth/token.md` ("If the client only has a subset of the requested access it must
  not be considered an error").

Tokens change what the shared demo shows, so these tests use a sandbox of their own.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerregistry.models import (
    GenerateCredentialsParameters,
    ScopeMap,
    ScopeMapUpdateParameters,
    Token,
    TokenCredentialsProperties,
    TokenPassword,
    TokenUpdateParameters,
)

from acr_console.roles import builtin_by_name
from acr_console.sandbox.directory import add_password, new_application, new_service_principal
from acr_console.sandbox.registry_tokens import SYSTEM_SCOPE_MAPS
from acr_console.sandbox.seed import DEMO_TOKEN_REGISTRY, assign, stable_id
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture
from .graph_support import ssl_context

ARM_SCOPE = "https://management.azure.com/.default"
SUB_PROD = stable_id("contoso", "sub", "prod")
RG, REGISTRY = "rg-platform-prod", "contosoprod"
REGISTRY_ID = (f"/subscriptions/{SUB_PROD}/resourceGroups/{RG}/providers/Microsoft.ContainerRegistry/"
               f"registries/{REGISTRY}")
LOGIN = f"{REGISTRY}.azurecr.io"

tokens_sandbox = sandbox_fixture("registry-tokens")


@pytest.fixture
def conn(tokens_sandbox: SandboxServer) -> dict[str, Any]:
    assert tokens_sandbox.connection is not None
    return tokens_sandbox.connection


def _credential(conn: dict[str, Any], client_id: str | None = None, secret: str | None = None) -> Any:
    return ClientSecretCredential(conn["tenant_id"], client_id or conn["admin"]["client_id"],
                                  secret or conn["admin"]["client_secret"], authority=conn["authority_host"],
                                  disable_instance_discovery=True, connection_verify=conn["ca_bundle"])


@pytest.fixture
def acr(conn: dict[str, Any]) -> Iterator[ContainerRegistryManagementClient]:
    client = ContainerRegistryManagementClient(_credential(conn), SUB_PROD, base_url=conn["resource_manager"],
                                               credential_scopes=[ARM_SCOPE], connection_verify=conn["ca_bundle"],
                                               retry_total=0)
    with client:
        yield client


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_of(call: Callable[[], Any]) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as info:
        call()
    return info.value


class TokenService:
    """The registry's token service, reached through the sandbox's listener by Host header."""

    def __init__(self, conn: dict[str, Any], login: str = LOGIN) -> None:
        self.conn, self.login = conn, login
        self.http = httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": login})

    def basic(self, user: str, password: str, *scopes: str) -> httpx.Response:
        """What docker does: GET /oauth2/token with Basic credentials (Azure/acr docs/Token-BasicAuth.md)."""
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        params = [("service", self.login), *(("scope", s) for s in scopes)]
        return self.http.get(f"{self.conn['registry_endpoint']}/oauth2/token", params=params,
                             headers={"Authorization": f"Basic {auth}"})

    def form(self, user: str, password: str, scope: str) -> httpx.Response:
        """What az does (`_get_token_with_username_and_password`): a grant_type=password form."""
        return self.http.post(f"{self.conn['registry_endpoint']}/oauth2/token", data={
            "grant_type": "password", "username": user, "password": password, "service": self.login,
            "scope": scope})

    def access(self, response: httpx.Response) -> dict[str, list[str]]:
        assert response.status_code == 200, response.text
        claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
        return {f"{a['type']}:{a['name']}": a["actions"] for a in claims["access"]}


def make_token(acr: ContainerRegistryManagementClient, actions: list[str] | None = None,
               scope_map: str | None = None, expiry: datetime | None = None) -> tuple[Token, dict[str, str]]:
    """A scope map (unless a system one is named), a token on it, and both its passwords."""
    if scope_map is None:
        scope_map = name("sm")
        acr.scope_maps.begin_create(RG, REGISTRY, scope_map, ScopeMap(actions=actions or [])).result()
    sm_id = f"{REGISTRY_ID}/scopeMaps/{scope_map}"
    token = acr.tokens.begin_create(RG, REGISTRY, name("tok"), Token(scope_map_id=sm_id, status="enabled")).result()
    made = acr.registries.begin_generate_credentials(
        RG, REGISTRY, GenerateCredentialsParameters(token_id=token.id, expiry=expiry)).result()
    return token, {p.name: p.value for p in made.passwords}


def test_system_scope_maps_come_with_every_registry(acr: ContainerRegistryManagementClient) -> None:
    """The five system-defined scope maps, "The permissions of system-defined scope maps apply to all
    repositories" (token-based-repository-permissions.md; exact actions from real registries' exports)."""
    listed = {m.name: m for m in acr.scope_maps.list(RG, REGISTRY)}
    assert set(SYSTEM_SCOPE_MAPS) <= set(listed)
    assert listed["_repositories_pull"].actions == ["repositories/*/content/read"]
    assert listed["_repositories_push"].actions == ["repositories/*/content/read", "repositories/*/content/write"]
    assert listed["_repositories_pull_metadata_read"].actions == [
        "repositories/*/content/read", "repositories/*/metadata/read"]
    assert listed["_repositories_push_metadata_write"].actions == [
        "repositories/*/metadata/read", "repositories/*/metadata/write", "repositories/*/content/read",
        "repositories/*/content/write"]
    assert sorted(listed["_repositories_admin"].actions) == sorted(
        f"repositories/*/{a}" for a in ("metadata/read", "metadata/write", "content/read", "content/write",
                                        "content/delete"))
    admin = acr.scope_maps.get(RG, REGISTRY, "_repositories_admin")
    assert admin.type == "Microsoft.ContainerRegistry/registries/scopeMaps"
    assert admin.properties.type == "SystemDefined"
    assert admin.properties.description == "Can perform all read, write and delete operations on the registry"
    assert error_of(lambda: acr.scope_maps.begin_delete(RG, REGISTRY, "_repositories_pull").result()).status_code \
        == 400


def test_scope_map_create_update_delete_and_invalid_wildcards(acr: ContainerRegistryManagementClient) -> None:
    """User-defined scope maps; wildcards "should always end with a `/*` suffix to be valid and have a
    single wildcard character" (token-based-repository-permissions.md)."""
    sm = name("sm")
    made = acr.scope_maps.begin_create(RG, REGISTRY, sm, ScopeMap(
        actions=["repositories/team/*/content/read"], description="team pulls")).result()
    assert (made.name, made.properties.type, made.properties.actions) == (
        sm, "UserDefined", ["repositories/team/*/content/read"])
    updated = acr.scope_maps.begin_update(RG, REGISTRY, sm, ScopeMapUpdateParameters(
        actions=["repositories/team/*/content/read", "repositories/team/*/content/write"])).result()
    assert updated.properties.actions[-1] == "repositories/team/*/content/write"
    assert updated.properties.description == "team pulls"
    for bad in ("repositories/sample/*/teamA/content/read", "repositories/sample/teamA*/content/read",
                "repositories/sample/teamA/*/projectB/*/content/read", "repositories/team/app/content/sign"):
        err = error_of(lambda bad=bad: acr.scope_maps.begin_create(RG, REGISTRY, name("bad"),
                                                                   ScopeMap(actions=[bad])).result())
        assert err.status_code == 400, bad
    acr.scope_maps.begin_delete(RG, REGISTRY, sm).result()
    assert sm not in {m.name for m in acr.scope_maps.list(RG, REGISTRY)}


def test_password_values_come_only_from_generate_credentials(acr: ContainerRegistryManagementClient,
                                                             conn: dict[str, Any]) -> None:
    """"The passwords can't be retrieved again, but new ones can be generated"; generateCredentials
    answers `{"username", "passwords": [{"expiry", "name", "value"}]}` (RegistryGenerateCredentials.json)."""
    expiry = datetime.now(UTC) + timedelta(days=30)
    token, values = make_token(acr, ["repositories/team/*/content/read"], expiry=expiry)
    assert sorted(values) == ["password1", "password2"] and all(len(v) >= 32 for v in values.values())
    read = acr.tokens.get(RG, REGISTRY, token.name)
    assert read.status == "enabled" and read.scope_map_id.endswith("/scopeMaps/" + token.scope_map_id.rsplit("/")[-1])
    assert [(p.name, p.value) for p in read.credentials.passwords] == [("password1", None), ("password2", None)]
    assert abs((read.credentials.passwords[0].expiry - expiry).total_seconds()) < 1
    # Raw JSON too: no `value` key at all in a GET or a list.
    http = httpx.Client(verify=ssl_context(conn), trust_env=False)
    bearer = _credential(conn).get_token(ARM_SCOPE).token
    listed = http.get(f"{conn['resource_manager'].rstrip('/')}{REGISTRY_ID}/tokens?api-version=2025-11-01",
                      headers={"Authorization": f"Bearer {bearer}"}).json()
    mine = next(t for t in listed["value"] if t["name"] == token.name)
    assert all("value" not in p for p in mine["properties"]["credentials"]["passwords"])
    # Regenerating one password leaves the other's value working.
    again = acr.registries.begin_generate_credentials(RG, REGISTRY, GenerateCredentialsParameters(
        token_id=token.id, name="password1")).result()
    assert [p.name for p in again.passwords] == ["password1"] and again.username == token.name
    service = TokenService(conn)
    assert service.basic(token.name, values["password1"], "repository:team/app:pull").status_code == 401
    assert service.basic(token.name, again.passwords[0].value, "repository:team/app:pull").status_code == 200
    assert service.basic(token.name, values["password2"], "repository:team/app:pull").status_code == 200


def test_token_service_grants_exactly_the_scope_map(acr: ContainerRegistryManagementClient,
                                                    conn: dict[str, Any]) -> None:
    """Push on `team/*`: push and pull on team/app (and on a team repository that does not exist yet),
    nothing on other/app, no delete, no catalog ("Repository-scoped permissions do not support the
    ability to list the catalog"); asking for more is no error, the token just lists less."""
    token, values = make_token(acr, ["repositories/team/*/content/read", "repositories/team/*/content/write",
                                     "repositories/other/app/metadata/read"])
    service = TokenService(conn)
    got = service.access(service.basic(token.name, values["password1"], "repository:team/app:pull,push,delete",
                                       "repository:other/app:pull,push", "repository:team/new/deep:push",
                                       "registry:catalog:*"))
    assert got == {"repository:team/app": ["pull", "push"], "repository:team/new/deep": ["push"]}
    got = service.access(service.basic(token.name, values["password2"], "repository:other/app:metadata_read,pull"))
    assert got == {"repository:other/app": ["metadata_read"]}
    # az's form post gets the same answer as docker's Basic GET.
    assert service.access(service.form(token.name, values["password1"], "repository:team/app:pull,push")) == {
        "repository:team/app": ["pull", "push"]}
    assert service.basic(token.name, "wrong", "repository:team/app:pull").status_code == 401


def test_wildcards_add_up_and_system_maps_cover_every_repository(acr: ContainerRegistryManagementClient,
                                                                 conn: dict[str, Any]) -> None:
    """The doc's example: `sample/*` read, `sample/teamA/*` write, `sample/teamA/projectB` delete give
    projectB all three and projectC read and write; `_repositories_push` covers every repository.
    The doc capitalises `teamA`/`projectB`, which no repository can be (distribution's name grammar is
    lower-case, see test_registry_plane's invalid names): lower-cased here."""
    token, values = make_token(acr, ["repositories/sample/*/content/read", "repositories/sample/teama/*/content/write",
                                     "repositories/sample/teama/projectb/content/delete"])
    service = TokenService(conn)
    got = service.access(service.basic(token.name, values["password1"], "repository:sample/teama/projectb:*",
                                       "repository:sample/teama/projectc:pull,push,delete"))
    assert got == {"repository:sample/teama/projectb": ["*"],
                   "repository:sample/teama/projectc": ["pull", "push"]}
    pusher, pv = make_token(acr, scope_map="_repositories_push")
    got = service.access(service.basic(pusher.name, pv["password1"], "repository:anything/at/all:pull,push,delete"))
    assert got == {"repository:anything/at/all": ["pull", "push"]}


def test_disabled_tokens_expired_and_removed_passwords_are_refused(acr: ContainerRegistryManagementClient,
                                                                   conn: dict[str, Any]) -> None:
    """"The token must have the `Enabled` status"; a password past its expiry is refused; removing a
    password is a PATCH naming the ones to keep (azure-cli `acr_token_credential_delete`)."""
    token, values = make_token(acr, ["repositories/team/*/content/read"])
    service = TokenService(conn)
    ok = "repository:team/app:pull"
    acr.tokens.begin_update(RG, REGISTRY, token.name, TokenUpdateParameters(status="disabled")).result()
    assert acr.tokens.get(RG, REGISTRY, token.name).status == "disabled"
    assert service.basic(token.name, values["password1"], ok).status_code == 401
    acr.tokens.begin_update(RG, REGISTRY, token.name, TokenUpdateParameters(status="enabled")).result()
    assert service.basic(token.name, values["password1"], ok).status_code == 200
    acr.tokens.begin_update(RG, REGISTRY, token.name, TokenUpdateParameters(
        credentials=TokenCredentialsProperties(passwords=[TokenPassword(name="password2")]))).result()
    assert [p.name for p in acr.tokens.get(RG, REGISTRY, token.name).credentials.passwords] == ["password2"]
    assert service.basic(token.name, values["password1"], ok).status_code == 401
    assert service.basic(token.name, values["password2"], ok).status_code == 200
    past = acr.registries.begin_generate_credentials(RG, REGISTRY, GenerateCredentialsParameters(
        token_id=token.id, name="password1", expiry=datetime.now(UTC) - timedelta(minutes=1))).result()
    refused = service.basic(token.name, past.passwords[0].value, ok)
    assert refused.status_code == 401 and "expired" in refused.json()["errors"][0]["message"]


def test_scope_map_changes_apply_at_once_and_a_deleted_map_grants_nothing(
        acr: ContainerRegistryManagementClient, conn: dict[str, Any]) -> None:
    """"The updated scope map is applied immediately to all associated tokens"."""
    token, values = make_token(acr, ["repositories/team/*/content/read"])
    sm = token.scope_map_id.rsplit("/", 1)[-1]
    service = TokenService(conn)
    scope = "repository:team/app:pull,push"
    assert service.access(service.basic(token.name, values["password1"], scope)) == {"repository:team/app": ["pull"]}
    acr.scope_maps.begin_update(RG, REGISTRY, sm, ScopeMapUpdateParameters(actions=[
        "repositories/team/*/content/read", "repositories/team/*/content/write"])).result()
    assert service.access(service.basic(token.name, values["password1"], scope)) == {
        "repository:team/app": ["pull", "push"]}
    acr.scope_maps.begin_delete(RG, REGISTRY, sm).result()
    assert service.access(service.basic(token.name, values["password1"], scope)) == {}


def test_token_reads_and_writes_need_their_permissions(acr: ContainerRegistryManagementClient, conn: dict[str, Any],
                                                       tokens_sandbox: SandboxServer) -> None:
    """Authorised like every ARM call: Reader (`*/read`) lists tokens but may not create one; AcrPush
    (data-plane actions only) may not even list them; Contributor (`*`) may."""
    assert tokens_sandbox.sandbox is not None
    store = tokens_sandbox.sandbox.store
    clients = {}
    for role in ("Reader", "AcrPush", "Contributor"):
        app = new_application(store, name(f"test-{role.lower()}"))
        sp = new_service_principal(store, app)
        _, secret = add_password(store, app, "application")
        role_def = builtin_by_name(role)
        assert role_def is not None
        assign(store, REGISTRY_ID, role_def.guid, sp["id"], "ServicePrincipal")
        clients[role] = ContainerRegistryManagementClient(
            _credential(conn, app["appId"], secret), SUB_PROD, base_url=conn["resource_manager"],
            credential_scopes=[ARM_SCOPE], connection_verify=conn["ca_bundle"], retry_total=0)
    sm_id = f"{REGISTRY_ID}/scopeMaps/_repositories_pull"
    assert list(clients["Reader"].tokens.list(RG, REGISTRY)) is not None
    err = error_of(lambda: clients["Reader"].tokens.begin_create(RG, REGISTRY, name("tok"),
                                                                 Token(scope_map_id=sm_id)).result())
    assert (err.status_code, err.error.code) == (403, "AuthorizationFailed")  # type: ignore[union-attr]
    assert "tokens/write" in str(err.message)
    err = error_of(lambda: list(clients["AcrPush"].tokens.list(RG, REGISTRY)))
    assert err.status_code == 403
    made = clients["Contributor"].tokens.begin_create(RG, REGISTRY, name("tok"), Token(scope_map_id=sm_id)).result()
    assert made.status == "enabled" and made.credentials.passwords == []
    for client in clients.values():
        client.close()


def test_token_names_and_scope_maps_are_checked(acr: ContainerRegistryManagementClient) -> None:
    """Token names `^[a-zA-Z0-9-]*$`, 5 to 50 characters (bicep-types-az 2025-11-01); a token names a
    scope map of its own registry."""
    sm_id = f"{REGISTRY_ID}/scopeMaps/_repositories_pull"
    for bad in ("abc", "under_score", "x" * 51):
        assert error_of(lambda bad=bad: acr.tokens.begin_create(RG, REGISTRY, bad, Token(scope_map_id=sm_id))
                        .result()).status_code == 400, bad
    other = sm_id.replace(REGISTRY, "contosoprodweu")
    assert error_of(lambda: acr.tokens.begin_create(RG, REGISTRY, name("tok"), Token(scope_map_id=other))
                    .result()).status_code == 400
    missing = acr.tokens.begin_delete(RG, REGISTRY, "never-there")
    assert missing.result() is None  # 204: nothing to delete is no error


def test_the_demo_has_a_team_push_token_and_a_disabled_one(tokens_sandbox: SandboxServer) -> None:
    """The demo's token story (sandbox/seed.py DEMO_TOKENS): `ci-team-push` pushes team/* with a
    password expiring in 20 days; `vendor-readonly` is disabled."""
    assert tokens_sandbox.sandbox is not None
    store = tokens_sandbox.sandbox.store
    from acr_console.sandbox.registry_tokens import get_child, list_children

    registry = next(d for d in store.resources("Microsoft.ContainerRegistry/registries", stable_id("contoso", "sub",
                                                                                                 "dev"))
                    if d["name"] == DEMO_TOKEN_REGISTRY)
    tokens = {t["name"]: t for t in list_children(store, registry["id"], "tokens")}
    assert {n: t["properties"]["status"] for n, t in tokens.items()} == {"ci-team-push": "enabled",
                                                                         "vendor-readonly": "disabled"}
    sm = get_child(store, registry["id"], "scopeMaps", "team-push")
    assert sm is not None and "repositories/team/*/content/write" in sm["properties"]["actions"]
    seeded = float(store.get_meta("seeded_at") or 0)
    expiry = tokens["ci-team-push"]["properties"]["credentials"]["passwords"][0]["expiry"]
    days = (datetime.fromisoformat(expiry[:26] + "+00:00").timestamp() - seeded) / 86400
    assert 19.9 < days < 20.1


def test_a_create_that_names_its_passwords_answers_their_values_once(conn: dict[str, Any],
                                                                     acr: ContainerRegistryManagementClient) -> None:
    """(inference, see sandbox/registry_tokens.py) A PUT naming passwords generates them and shows their
    values in its answer only; a GET never does. The token's access token then opens `/v2/` as docker's does."""
    http = httpx.Client(verify=ssl_context(conn), trust_env=False)
    headers = {"Authorization": f"Bearer {_credential(conn).get_token(ARM_SCOPE).token}"}
    url = f"{conn['resource_manager'].rstrip('/')}{REGISTRY_ID}/tokens/{name('tok')}?api-version=2025-11-01"
    made = http.put(url, headers=headers, json={"properties": {
        "scopeMapId": f"{REGISTRY_ID}/scopeMaps/_repositories_pull",
        "credentials": {"passwords": [{"name": "password1"}]}}})
    assert made.status_code == 201, made.text
    [password] = made.json()["properties"]["credentials"]["passwords"]
    assert password["name"] == "password1" and password["expiry"] is None and len(password["value"]) >= 32
    again = http.get(url, headers=headers).json()
    assert "value" not in again["properties"]["credentials"]["passwords"][0]
    service = TokenService(conn)
    answer = service.basic(made.json()["name"], password["value"], "repository:any/repo:pull")
    assert service.access(answer) == {"repository:any/repo": ["pull"]}
    ping = service.http.get(f"{conn['registry_endpoint']}/v2/",
                            headers={"Authorization": f"Bearer {answer.json()['access_token']}"})
    assert ping.status_code == 200
