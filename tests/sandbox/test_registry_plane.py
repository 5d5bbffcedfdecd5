"""The registry token service, chosen by Host header: `/v2/` challenge, `/oauth2/token` with Basic
credentials (service principal, admin user, ACR refresh token), `/oauth2/exchange`; and the access a
token grants, evaluated from RBAC in the registry's mode, never more.

Role assignments change what the shared demo shows, so these tests use a sandbox of their own."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from acr_console.roles import builtin_by_name
from acr_console.sandbox.directory import (
    add_member,
    add_password,
    new_application,
    new_group,
    new_service_principal,
)
from acr_console.sandbox.seed import assign, stable_id
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture
from .graph_support import ARM_SCOPE, ssl_context, sync_secret_credential

SUB_PROD = stable_id("contoso", "sub", "prod")
SUB_DEV = stable_id("contoso", "sub", "dev")
RG_PROD = f"/subscriptions/{SUB_PROD}/resourceGroups/rg-platform-prod"
REG = "/providers/Microsoft.ContainerRegistry/registries/"
PROD = f"{RG_PROD}{REG}contosoprod"  # legacy mode
WEU = f"{RG_PROD}{REG}contosoprodweu"  # ABAC mode
DEV = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-platform-dev{REG}contosodev"  # admin user enabled
REPO = "@Request[Microsoft.ContainerRegistry/registries/repositories:name]"
NULL_GUID = "00000000-0000-0000-0000-000000000000"


def guid(name: str) -> str:
    role = builtin_by_name(name)
    assert role is not None
    return role.guid


registry_sandbox = sandbox_fixture("registry-plane")


@pytest.fixture
def conn(registry_sandbox: SandboxServer) -> dict[str, Any]:
    assert registry_sandbox.connection is not None
    return registry_sandbox.connection


@pytest.fixture
def store(registry_sandbox: SandboxServer) -> Any:
    assert registry_sandbox.sandbox is not None
    return registry_sandbox.sandbox.store


class Registry:
    """Talks to one login server through the sandbox's listener, as `Connection.registry_url` does."""

    def __init__(self, conn: dict[str, Any], login: str) -> None:
        self.conn = conn
        self.login = login
        self.http = httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": login})

    def url(self, path: str) -> str:
        return f"{self.conn['registry_endpoint']}{path}"

    def token(self, user: str, password: str, *scopes: str) -> httpx.Response:
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        params = [("service", self.login), *(("scope", s) for s in scopes)]
        return self.http.get(self.url("/oauth2/token"), params=params,
                             headers={"Authorization": f"Basic {basic}"})

    def access(self, user: str, password: str, *scopes: str) -> list[dict[str, Any]]:
        r = self.token(user, password, *scopes)
        assert r.status_code == 200, r.text
        claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
        assert claims["aud"] == self.login and claims["iss"] == "Azure Container Registry"
        return claims["access"]

    def ping(self, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.get(self.url("/v2/"), headers=headers)


def principal(store: Any, label: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    app = new_application(store, f"test-{label}-{uuid.uuid4().hex[:8]}")
    sp = new_service_principal(store, app)
    _, secret = add_password(store, app, "application")
    return app, sp, secret


def actions(access: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {f"{a['type']}:{a['name']}": a["actions"] for a in access}


def test_challenge_and_hosts(conn: dict[str, Any]) -> None:
    reg = Registry(conn, "contosoprod.azurecr.io")
    r = reg.ping()
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == ('Bearer realm="https://contosoprod.azurecr.io/oauth2/token",'
                                             'service="contosoprod.azurecr.io"')
    assert r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert Registry(conn, "nosuchregistry.azurecr.io").ping().status_code == 404
    # Without a registry's Host the listener is Azure's APIs: there is no /v2/ there.
    with httpx.Client(verify=ssl_context(conn), trust_env=False) as http:
        assert http.get(f"{conn['registry_endpoint']}/v2/").status_code == 404


def test_acr_pull_gets_a_pull_only_token_that_opens_v2(conn: dict[str, Any], store: Any) -> None:
    app, sp, secret = principal(store, "puller")
    assign(store, PROD, guid("AcrPull"), sp["id"], "ServicePrincipal")
    reg = Registry(conn, "contosoprod.azurecr.io")
    r = reg.token(app["appId"], secret, "repository:team/app:pull,push,delete", "registry:catalog:*")
    assert r.status_code == 200
    token = r.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["access"] == [{"type": "repository", "name": "team/app", "actions": ["pull"]},
                                {"type": "registry", "name": "catalog", "actions": ["*"]}]
    assert claims["appid"] == app["appId"] and claims["grant_type"] == "access_token"
    assert reg.ping(token).status_code == 200
    # Another registry's token does not open this one (audience).
    other = Registry(conn, "contosopayments.azurecr.io")
    assert other.ping(token).status_code == 401
    # Pull elsewhere was never granted: a token with no access, not a 401.
    assert other.access(app["appId"], secret, "repository:team/app:pull") == []


def test_acr_push_on_legacy_grants_push_and_delete_needs_acr_delete(conn: dict[str, Any], store: Any) -> None:
    app, sp, secret = principal(store, "pusher")
    assign(store, PROD, guid("AcrPush"), sp["id"], "ServicePrincipal")
    reg = Registry(conn, "contosoprod.azurecr.io")
    assert actions(reg.access(app["appId"], secret, "repository:web:pull,push,delete")) == {
        "repository:web": ["pull", "push"]}
    assign(store, PROD, guid("AcrDelete"), sp["id"], "ServicePrincipal")
    assert actions(reg.access(app["appId"], secret, "repository:web:pull,push,delete,*")) == {
        "repository:web": ["pull", "push", "delete", "*"]}


def test_abac_registry_ignores_acr_roles_honours_repository_roles(conn: dict[str, Any], store: Any) -> None:
    reg = Registry(conn, "contosoprodweu.azurecr.io")
    app, sp, secret = principal(store, "abac")
    assign(store, WEU, guid("AcrPush"), sp["id"], "ServicePrincipal")
    assign(store, f"/subscriptions/{SUB_PROD}", guid("Owner"), sp["id"], "ServicePrincipal")
    assert reg.access(app["appId"], secret, "repository:web:pull,push", "registry:catalog:*") == []
    assign(store, WEU, guid("Container Registry Repository Writer"), sp["id"], "ServicePrincipal")
    got = reg.access(app["appId"], secret, "repository:web:pull,push,delete", "registry:catalog:*")
    assert actions(got) == {"repository:web": ["pull", "push"]}
    assign(store, WEU, guid("Container Registry Repository Catalog Lister"), sp["id"], "ServicePrincipal")
    assert actions(reg.access(app["appId"], secret, "registry:catalog:*")) == {"registry:catalog": ["*"]}


def test_abac_conditions_limit_repositories(conn: dict[str, Any], store: Any) -> None:
    reg = Registry(conn, "contosoprodweu.azurecr.io")
    app, sp, secret = principal(store, "conditions")
    writes = ("(!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/write'}) AND "
              "!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/write'}))")
    reads = ("(!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND "
             "!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'}))")
    # Pull anywhere under backend/ (prefix without the slash would also match backend-infra); push only to
    # backend/api; a broken condition grants nothing at all.
    assign(store, WEU, guid("Container Registry Repository Reader"), sp["id"], "ServicePrincipal",
           condition=f"({reads} OR ({REPO} StringStartsWithIgnoreCase 'backend/'))")
    assign(store, WEU, guid("Container Registry Repository Writer"), sp["id"], "ServicePrincipal",
           condition=f"({writes} OR ({REPO} StringEqualsIgnoreCase 'Backend/API')) AND ({reads} OR "
                     f"({REPO} ForAnyOfAnyValues:StringEqualsIgnoreCase {{'backend/api', 'x'}}))")
    assign(store, WEU, guid("Container Registry Repository Contributor"), sp["id"], "ServicePrincipal",
           condition="@Resource[Microsoft.ContainerRegistry/registries:name] StringEquals 'contosoprodweu'")
    got = actions(reg.access(app["appId"], secret, "repository:backend/api:pull,push,delete",
                             "repository:backend/worker:pull,push", "repository:frontend/web:pull,push",
                             "registry:catalog:*"))
    assert got == {"repository:backend/api": ["pull", "push"], "repository:backend/worker": ["pull"]}


def test_groups_nesting_and_inheritance(conn: dict[str, Any], store: Any) -> None:
    app, sp, secret = principal(store, "grouped")
    outer = new_group(store, f"test-outer-{uuid.uuid4().hex[:6]}")
    inner = new_group(store, f"test-inner-{uuid.uuid4().hex[:6]}")
    add_member(store, inner["id"], sp["id"])
    add_member(store, outer["id"], inner["id"])
    assign(store, RG_PROD, guid("AcrPush"), outer["id"], "Group")  # resource group, through two groups
    prod = Registry(conn, "contosoprod.azurecr.io")
    got = actions(prod.access(app["appId"], secret, "repository:x:pull,push"))
    assert got == {"repository:x": ["pull", "push"]}
    assign(store, f"/subscriptions/{SUB_DEV}", guid("Reader"), sp["id"], "ServicePrincipal")  # */read = pull
    assert actions(Registry(conn, "contososandbox.azurecr.io").access(app["appId"], secret,
                                                                       "repository:x:pull,push")) == {
        "repository:x": ["pull"]}


def test_custom_role_from_the_demo_grants_push(conn: dict[str, Any], store: Any) -> None:
    app = store.object(stable_id("contoso", "app", "image-promoter"), "application")
    _, secret = add_password(store, app, "application")
    reg = Registry(conn, "contosopayments.azurecr.io")  # the role sits at the prod subscription
    assert actions(reg.access(app["appId"], secret, "repository:payments/api:pull,push,delete")) == {
        "repository:payments/api": ["pull", "push"]}


def test_demo_abac_stories(conn: dict[str, Any], store: Any) -> None:
    reg = Registry(conn, "contosoprodweu.azurecr.io")
    secrets = {}
    for key in ("payments-release-bot", "github-actions-web", "sbom-generator", "catalog-indexer"):
        app = store.object(stable_id("contoso", "app", key), "application")
        secrets[key] = (app["appId"], add_password(store, app, "application")[1])
    scopes = ("repository:payments/api:pull,push", "repository:storefront/web:pull,push",
              "registry:catalog:*")
    assert actions(reg.access(*secrets["payments-release-bot"], *scopes)) == {
        "repository:payments/api": ["pull", "push"]}
    assert reg.access(*secrets["github-actions-web"], *scopes) == []  # AcrPush means nothing here
    assert actions(reg.access(*secrets["sbom-generator"], *scopes)) == {
        "repository:payments/api": ["pull"], "repository:storefront/web": ["pull"]}
    assert actions(reg.access(*secrets["catalog-indexer"], *scopes)) == {"registry:catalog": ["*"]}


def test_admin_user(conn: dict[str, Any], store: Any) -> None:
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient

    cred = sync_secret_credential(conn, conn["admin"]["client_id"], conn["admin"]["client_secret"])
    client = ContainerRegistryManagementClient(cred, SUB_DEV, base_url=conn["resource_manager"],
                                               credential_scopes=[ARM_SCOPE],
                                               connection_verify=conn["ca_bundle"])
    creds = client.registries.list_credentials("rg-platform-dev", "contosodev")
    password = creds.passwords[0].value
    reg = Registry(conn, "contosodev.azurecr.io")
    assert actions(reg.access(creds.username, password, "repository:any/thing:pull,push,delete",
                              "registry:catalog:*")) == {"repository:any/thing": ["pull", "push", "delete"],
                                                         "registry:catalog": ["*"]}
    assert reg.token(creds.username, "wrong").status_code == 401
    # The admin user of another registry (not enabled there) gets nothing.
    assert Registry(conn, "contosoprod.azurecr.io").token("contosoprod", password).status_code == 401


def test_exchange_refresh_token_and_null_guid_login(conn: dict[str, Any], store: Any) -> None:
    app, sp, secret = principal(store, "exchange")
    assign(store, PROD, guid("AcrPull"), sp["id"], "ServicePrincipal")
    reg = Registry(conn, "contosoprod.azurecr.io")
    cred = sync_secret_credential(conn, app["appId"], secret)
    for scope in (ARM_SCOPE, "https://containerregistry.azure.net/.default"):
        entra = cred.get_token(scope).token
        r = reg.http.post(reg.url("/oauth2/exchange"), data={
            "grant_type": "access_token", "service": reg.login, "tenant": conn["tenant_id"],
            "access_token": entra})
        assert r.status_code == 200, r.text
        refresh = r.json()["refresh_token"]
    r = reg.http.post(reg.url("/oauth2/token"), data={
        "grant_type": "refresh_token", "service": reg.login, "scope": "repository:a:pull,push",
        "refresh_token": refresh})
    assert r.status_code == 200
    access = jwt.decode(r.json()["access_token"], options={"verify_signature": False})["access"]
    assert actions(access) == {"repository:a": ["pull"]}
    assert reg.ping(r.json()["access_token"]).status_code == 200
    # docker login -u 00000000-0000-0000-0000-000000000000 -p <refresh token>
    assert actions(reg.access(NULL_GUID, refresh, "repository:b:pull")) == {"repository:b": ["pull"]}
    # The CLI's password grant.
    r = reg.http.post(reg.url("/oauth2/token"), data={
        "grant_type": "password", "service": reg.login, "scope": "repository:c:pull",
        "username": app["appId"], "password": secret})
    assert r.status_code == 200
    # A refresh token is for one registry only.
    assert Registry(conn, "contosobase.azurecr.io").token(NULL_GUID, refresh).status_code == 401
    # A Graph token is not accepted for the exchange; nor is a forged one.
    graph = cred.get_token("https://graph.microsoft.com/.default").token
    forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(cred.get_token(ARM_SCOPE).token, options={"verify_signature": False})
    forged = jwt.encode(claims, forged_key, algorithm="RS256")
    for bad in (graph, forged):
        r = reg.http.post(reg.url("/oauth2/exchange"), data={
            "grant_type": "access_token", "service": reg.login, "access_token": bad})
        assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"
        assert reg.ping(bad).status_code == 401


def test_bad_secret_disabled_principal_and_expired_secret_get_401(conn: dict[str, Any], store: Any) -> None:
    app, sp, secret = principal(store, "refused")
    assign(store, PROD, guid("AcrPush"), sp["id"], "ServicePrincipal")
    reg = Registry(conn, "contosoprod.azurecr.io")
    assert reg.token(app["appId"], secret, "repository:x:pull").status_code == 200
    entra = sync_secret_credential(conn, app["appId"], secret).get_token(ARM_SCOPE).token
    refresh = reg.http.post(reg.url("/oauth2/exchange"), data={
        "grant_type": "access_token", "service": reg.login, "access_token": entra}).json()["refresh_token"]
    r = reg.token(app["appId"], "not-the-secret", "repository:x:pull")
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert reg.token(str(uuid.uuid4()), secret).status_code == 401
    sp["accountEnabled"] = False
    store.put_object(sp, "servicePrincipal", time.time())
    assert reg.token(app["appId"], secret, "repository:x:pull").status_code == 401
    assert reg.token(NULL_GUID, refresh, "repository:x:pull").status_code == 401
    # An expired secret of an enabled principal.
    app2, _, _ = principal(store, "expired")
    now = datetime.now(UTC)
    _, old = add_password(store, store.object(app2["id"]), "application", start=now - timedelta(days=400),
                          end=now - timedelta(days=1))
    r = reg.token(app2["appId"], old, "repository:x:pull")
    assert r.status_code == 401 and "client secret" in r.json()["errors"][0]["message"]


def test_secrets_and_tokens_stay_out_of_the_request_log(conn: dict[str, Any], store: Any,
                                                        registry_sandbox: SandboxServer) -> None:
    app, _, secret = principal(store, "logged")
    reg = Registry(conn, "contosoprod.azurecr.io")
    since = store.last_request_seq()
    reg.http.post(reg.url("/oauth2/token"), data={"grant_type": "password", "username": app["appId"],
                                                  "password": secret, "service": reg.login})
    reg.http.get(reg.url("/oauth2/token"), params={"service": reg.login, "password": secret})
    deadline = time.monotonic() + 5
    while len(entries := store.request_log(since)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # the log line is written just after the answer goes out
    assert [e["path"] for e in entries] == ["/oauth2/token", "/oauth2/token"]
    assert entries[0]["principal"] == app["appId"]
    text = repr(entries) + "".join(p.read_bytes().decode("latin-1") for p in
                                   Path(registry_sandbox.data_dir).glob("sandbox.db*"))
    assert secret not in text
