"""The access analysis agrees with the registry's own token service.

The console's verdict on "can PRINCIPAL do ACTION on REPOSITORY of REGISTRY" is what `access` shows:
the azure layer reads the registry, its role assignments, role definitions, principals and groups
through the real SDKs over HTTPS from the sandbox, and the access layer analyses them. The ground truth
is the sandbox's registry token service, asked as that principal the way `az acr login` and docker do
(docs/reference/acr-access.md, the registry token flow; Azure/acr `docs/AAD-OAuth.md`): an Entra
access token for the principal (client credentials), `POST /oauth2/exchange` for an ACR refresh token,
then `POST /oauth2/token` with `scope=repository:REPO:pull,push,delete`; what the access token's
`access` claim lists is what the principal may do. Never the console's own report.

Agreement, per (principal, registry, repository, action):
- the console says **yes** (a path with the right, `direct` or `conditional`, whose repositories cover
  the repository): the token service grants it;
- the console says **no** (no path with the right covers it): the token service does not grant it;
- the console says only **possible** (`possible` paths: a custom role reaching an ACR action only
  through a wildcard, or a registry whose mode Azure did not state): the token service may do either.
  On a registry whose mode is unknown to the console the token service is asked in **both** modes
  (the registry's stored mode switched between the two asks), and yes must hold in both, no in
  neither: so wherever the two modes differ the console can only say possible. A tenant with no
  custom-role wildcard whose registries state their mode must give no possible verdict at all.
- A disabled principal cannot sign in (Entra refuses its token, so the token service grants nothing);
  the console reads `accountEnabled` and its verdict for a disabled principal is its rights as they
  would be once enabled again: the test re-enables it and asks again.
- Anonymous pull: the console's "anyone (anonymous pull)" entry on a registry ⇔ a request with no
  credentials gets pull on every repository, and never push or delete.
- The admin user: the console's admin-user entry ⇔ the registry's name and admin password get pull,
  push and delete.
- Registry tokens (demo tenant): each token entry's per-repository verdicts ⇔ what the token's name
  and a password made by generateCredentials get (Basic on GET /oauth2/token, as docker sends it); a
  disabled token's entry has no rights and its password gets nothing.

The demo tenant is checked exhaustively (every service principal, anonymous, admin user and registry
token × registry × repository × action).
The random tenants come from hypothesis: principals (some disabled), groups nested up to three deep,
built-in and custom roles (actions, notActions, dataActions, notDataActions, with and without
wildcards), assignments at subscription, resource group and registry scope, ABAC repository conditions
(StringEquals, StringStartsWith, StringLike, their IgnoreCase and ForAnyOfAnyValues forms), registries
in both role-assignment modes, with the admin user and anonymous pull on or off, and now and then a
cloud whose registry API does not state the mode.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import re
import ssl
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from acr_console.azure.authorization import RoleDefinitions
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.registries import registry_pages
from acr_console.azure.registry_access import read_registry_access
from acr_console.models import (
    Confidence,
    PrincipalType,
    Registry,
    RegistryAccess,
    Right,
)
from acr_console.roles import builtin_by_name
from acr_console.sandbox import rbac
from acr_console.sandbox.directory import add_member, add_password, new_application, new_group, new_service_principal
from acr_console.sandbox.seed import assign, registry_doc, repository_condition, resource_group_doc
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import running_sandbox
from .conftest import record

ACTIONS = ("pull", "push", "delete")
RIGHTS = {"pull": Right.PULL, "push": Right.PUSH, "delete": Right.DELETE}
ARM_SCOPE = "https://management.azure.com/.default"
# Names near the demo's conditions ('payments/', 'storefront/web', 'checkout/') and the random
# tenants' ('team/', 'team?/app', '*app'): on both sides of every prefix, equality and wildcard.
REPOSITORIES = ("payments/api", "payments", "paymentsx/api", "storefront/web", "storefront/web2", "checkout/cart",
                "team/app", "team/web", "teamx/app", "team-a/app", "teamapp", "base/img", "other")
# A registry API that lags (the uksouth list of 2024-11, AzGovViz#266): no `roleAssignmentMode`.
OLD_API_VERSIONS = ["2019-05-01", "2021-09-01", "2023-07-01", "2023-11-01-preview"]
STATS: Counter[str] = Counter()


# -- the ground truth: the registry's token service -----------------------------------------------


class TokenService:
    """The sandbox's Entra token endpoint and a registry's token service, asked as a principal would."""

    def __init__(self, conn: dict[str, Any]) -> None:
        self.conn = conn
        self.http = httpx.Client(verify=ssl.create_default_context(cafile=conn["ca_bundle"]), trust_env=False,
                                 timeout=30)

    def close(self) -> None:
        self.http.close()

    def entra_token(self, app_id: str, secret: str) -> str | None:
        """An ARM access token for the principal (client credentials); None when Entra refuses."""
        r = self.http.post(f"{self.conn['authority_host']}/{self.conn['tenant_id']}/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": app_id, "client_secret": secret, "scope": ARM_SCOPE})
        if r.status_code != 200:
            assert r.status_code in (400, 401), r.text
            return None
        return str(r.json()["access_token"])

    def _access(self, r: httpx.Response, login: str) -> dict[str, set[str]]:
        assert r.status_code == 200, r.text
        claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
        assert claims["aud"] == login and claims["iss"] == "Azure Container Registry", claims
        out: dict[str, set[str]] = {}
        for item in claims["access"]:
            if item["type"] == "repository":
                out.setdefault(item["name"], set()).update(item["actions"])
        return out

    def _scopes(self, repositories: tuple[str, ...]) -> list[tuple[str, str]]:
        return [("scope", f"repository:{repo}:{','.join(ACTIONS)}") for repo in repositories]

    def as_principal(self, login: str, entra: str | None, repositories: tuple[str, ...]) -> dict[str, set[str]]:
        """What the principal gets per repository: exchange, then a token for every repository at once."""
        if entra is None:
            return {}
        r = self.http.post(f"{self.conn['registry_endpoint']}/oauth2/exchange", headers={"Host": login}, data={
            "grant_type": "access_token", "service": login, "tenant": self.conn["tenant_id"], "access_token": entra})
        if r.status_code == 401:
            return {}
        assert r.status_code == 200, r.text
        refresh = r.json()["refresh_token"]
        r = self.http.post(f"{self.conn['registry_endpoint']}/oauth2/token", headers={"Host": login}, data={
            "grant_type": "refresh_token", "service": login, "refresh_token": refresh,
            "scope": [f"repository:{repo}:{','.join(ACTIONS)}" for repo in repositories]})
        return self._access(r, login)

    def with_basic(self, login: str, user: str, password: str, repositories: tuple[str, ...]) -> dict[str, set[str]]:
        """docker's way: Basic credentials on GET /oauth2/token (the admin user, a registry token)."""
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        r = self.http.get(f"{self.conn['registry_endpoint']}/oauth2/token",
                          params=[("service", login), *self._scopes(repositories)],
                          headers={"Host": login, "Authorization": f"Basic {basic}"})
        if r.status_code == 401:
            return {}
        return self._access(r, login)

    def anonymous(self, login: str, repositories: tuple[str, ...]) -> dict[str, set[str]]:
        """docker pull with no credentials: GET /oauth2/token with no Authorization header."""
        r = self.http.get(f"{self.conn['registry_endpoint']}/oauth2/token",
                          params=[("service", login), *self._scopes(repositories)], headers={"Host": login})
        if r.status_code == 401:
            return {}
        return self._access(r, login)


# -- the console's verdict ------------------------------------------------------------------------


def _pattern(text: str) -> re.Pattern[str]:
    """A repository pattern of `access --json` (README): `*` any run, `?` one character, else literal."""
    return re.compile("".join({"*": ".*", "?": "."}.get(c, re.escape(c)) for c in text), re.S)


def console_verdict(access: RegistryAccess, match: Any, repository: str, right: Right) -> str:
    """"yes", "no" or "possible" from the entries `match` picks (by principal)."""
    verdict = "no"
    for entry in access.entries:
        if not match(entry):
            continue
        for path in entry.paths:
            if right not in path.rights:
                continue
            if path.repositories == ():  # a condition the analysis did not understand
                verdict = "possible"
                continue
            covered = path.repositories is None or any(_pattern(p).fullmatch(repository) for p in path.repositories)
            if not covered:
                continue
            if path.confidence is Confidence.POSSIBLE or right in path.possible:
                verdict = "possible"
            else:
                return "yes"
    return verdict


async def read_console(conn: dict[str, Any], names: set[str] | None = None,
                       ) -> tuple[dict[str, RegistryAccess], dict[str, str]]:
    """`access` for each registry (those named, or all), through the SDKs; and passwords to sign in
    with: each registry's admin password where the admin user is on, as `az acr credential show`
    reads it (listCredentials), and a new password2 of each registry token the console lists, as `az
    acr token credential generate` makes it (generateCredentials), keyed "registry" or "registry/token"."""
    out: dict[str, RegistryAccess] = {}
    passwords: dict[str, str] = {}
    async with AzureClients(sandbox_connection(conn)) as az:
        definitions = RoleDefinitions(az)
        registries: list[Registry] = []
        for sub in conn["subscriptions"]:
            async for page in registry_pages(az, sub):
                registries += [r for r in page if names is None or r.name in names]
        for registry, access in zip(registries, await asyncio.gather(
                *(read_registry_access(az, r, definitions) for r in registries)), strict=True):
            out[registry.name] = access
        for registry in registries:
            if registry.admin_user_enabled:
                # 2019-05-01: a version every cloud in these tests serves (OLD_API_VERSIONS too).
                creds = await az.arm_json("POST", f"{registry.id}/listCredentials", {"api-version": "2019-05-01"})
                passwords[registry.name] = str(creds["passwords"][0]["value"])
            for entry in out[registry.name].entries:
                if entry.token is not None:
                    from azure.mgmt.containerregistry.models import GenerateCredentialsParameters

                    poller = await az.registry_client(registry.subscription_id).registries.begin_generate_credentials(
                        registry.resource_group, registry.name,
                        GenerateCredentialsParameters(token_id=entry.token.id, name="password2"))
                    made = await poller.result()
                    passwords[f"{registry.name}/{entry.token.name}"] = str(
                        next(p.value for p in made.passwords or [] if p.name == "password2"))
    return out, passwords


# -- comparing ----------------------------------------------------------------------------------


@dataclass
class Who:
    """Someone who asks the token service."""

    label: str
    object_id: str | None = None
    app_id: str | None = None
    secret: str | None = None
    enabled: bool = True


@dataclass
class Check:
    problems: list[str] = field(default_factory=list)
    combinations: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    tokens: int = 0  # registry tokens checked

    def compare(self, where: str, verdict: str, granted: list[bool]) -> None:
        """`granted`: the token service's answer in each mode the registry may be in."""
        self.combinations += 1
        self.verdicts[verdict] += 1
        if verdict == "yes" and not all(granted):
            self.problems.append(f"{where}: the console says yes, the token service grants {granted}")
        elif verdict == "no" and any(granted):
            self.problems.append(f"{where}: the console says no, the token service grants {granted}")


def _set_mode(server: SandboxServer, registry_id: str, mode: str) -> None:
    assert server.sandbox is not None
    store = server.sandbox.store
    doc = store.resource(registry_id)
    assert doc is not None
    doc["properties"]["roleAssignmentMode"] = mode
    store.put_resource(doc)


MODES = ("LegacyRegistryPermissions", "AbacRepositoryPermissions")


def check_tenant(server: SandboxServer, service: TokenService, principals: list[Who], registries: set[str] | None,
                 repositories: tuple[str, ...], check: Check, *, mode_unknown_expected: bool = False,
                 others: bool = True) -> None:
    """Every principal × registry × repository × action, the console against the token service; with
    `others`, also anonymous requests, the admin user and registry tokens."""
    assert server.sandbox is not None and server.connection is not None
    store = server.sandbox.store
    report, admin_passwords = asyncio.run(read_console(server.connection, registries))
    assert report, "no registry read"
    tokens = {w.label: service.entra_token(str(w.app_id), str(w.secret)) for w in principals if w.app_id}
    for name, access in report.items():
        reg = access.registry
        doc = store.resource(reg.id)
        assert doc is not None
        real_mode = doc["properties"]["roleAssignmentMode"]
        unknown = reg.role_assignment_mode.short == "unknown"
        assert unknown == mode_unknown_expected, (name, reg.role_assignment_mode)
        modes = MODES if unknown else (real_mode,)
        login = reg.login_server
        for who in principals:
            known = [e for e in access.entries if (e.principal.object_id or "").lower() == (who.object_id or "")]
            if known and not who.enabled:
                assert all(not e.principal.enabled for e in known), f"{name}: {who.label} read as enabled"
            grants = []
            for mode in modes:
                if unknown:
                    _set_mode(server, reg.id, mode)
                grants.append(service.as_principal(login, tokens[who.label], repositories))
            if unknown:
                _set_mode(server, reg.id, real_mode)
            if not who.enabled:
                # Disabled: Entra issues it nothing, so no registry grants it anything.
                assert tokens[who.label] is None and not any(grants), (who.label, grants)
                continue
            for repo, action in itertools.product(repositories, ACTIONS):
                verdict = console_verdict(access, lambda e, w=who: (e.principal.object_id or "").lower() == w.object_id,
                                          repo, RIGHTS[action])
                check.compare(f"{who.label} {action} {name}/{repo} ({reg.role_assignment_mode.short})", verdict,
                              [action in g.get(repo, set()) for g in grants])
        if not others:
            continue
        # Anyone, with no credentials.
        anonymous = service.anonymous(login, repositories)
        for repo, action in itertools.product(repositories, ACTIONS):
            verdict = console_verdict(access, lambda e: e.principal.type is PrincipalType.ANONYMOUS, repo,
                                      RIGHTS[action])
            check.compare(f"anonymous {action} {name}/{repo}", verdict, [action in anonymous.get(repo, set())])
        # The admin user, with the registry's name and admin password.
        if name in admin_passwords:
            admin = service.with_basic(login, reg.name, admin_passwords[name], repositories)
            for repo, action in itertools.product(repositories, ACTIONS):
                verdict = console_verdict(access, lambda e: e.principal.type is PrincipalType.ADMIN_USER, repo,
                                          RIGHTS[action])
                check.compare(f"admin user {action} {name}/{repo}", verdict, [action in admin.get(repo, set())])
        else:
            assert not any(e.principal.type is PrincipalType.ADMIN_USER for e in access.entries), name
        # Registry tokens, with the token's name and a password of its own.
        for entry in access.entries:
            if entry.token is None:
                continue
            token_name = entry.token.name
            got = service.with_basic(login, token_name, admin_passwords[f"{name}/{token_name}"], repositories)
            for repo, action in itertools.product(repositories, ACTIONS):
                verdict = console_verdict(access, lambda e, t=token_name: e.token is not None and e.token.name == t,
                                          repo, RIGHTS[action])
                check.compare(f"token {token_name} {action} {name}/{repo}", verdict, [action in got.get(repo, set())])
            check.tokens += 1


def _enable_all(server: SandboxServer, principals: list[Who]) -> list[Who]:
    assert server.sandbox is not None
    store = server.sandbox.store
    enabled = []
    for who in principals:
        if not who.enabled:
            sp = store.object(str(who.object_id), "servicePrincipal")
            assert sp is not None
            sp["accountEnabled"] = True
            store.put_object(sp, "servicePrincipal", time.time())
            enabled.append(Who(who.label, who.object_id, who.app_id, who.secret, True))
    return enabled


# -- the demo tenant, every combination --------------------------------------------------------------


def test_demo_tenant_every_combination(tmp_path_factory: pytest.TempPathFactory) -> None:
    started = time.monotonic()
    check = Check()
    with running_sandbox(tmp_path_factory.mktemp("agree-demo")) as server:
        assert server.sandbox is not None and server.connection is not None
        store = server.sandbox.store
        principals = []
        for row in store.rows("SELECT id FROM directory_objects WHERE type = 'servicePrincipal'"):
            sp = store.object(row["id"], "servicePrincipal")
            assert sp is not None
            app = store.by_app_id(sp["appId"], "application")
            if app is None:
                continue  # a managed identity: its application is in Microsoft's tenant, no secret to add
            _, secret = add_password(store, app, "application")
            principals.append(Who(sp["displayName"], sp["id"].lower(), sp["appId"], secret,
                                  bool(sp.get("accountEnabled", True))))
        assert len(principals) > 30 and any(not w.enabled for w in principals)
        service = TokenService(server.connection)
        try:
            check_tenant(server, service, principals, None, REPOSITORIES, check)
            disabled = _enable_all(server, principals)
            check_tenant(server, service, disabled, None, REPOSITORIES, check, others=False)
        finally:
            service.close()
    assert not check.problems, "\n".join(check.problems[:40])
    assert check.tokens == 2, "the demo's two registry tokens (ci-team-push, the disabled vendor-readonly)"
    record("access agrees with the token service", "demo tenant: combinations",
           f"{check.combinations} ({dict(check.verdicts)})")
    record("access agrees with the token service", "demo tenant: seconds", round(time.monotonic() - started, 1))


# -- random tenants -------------------------------------------------------------------------------

_ACR = "Microsoft.ContainerRegistry/registries/"
_DATA = _ACR + "repositories/"
REPO_ATTRIBUTE = "@Request[Microsoft.ContainerRegistry/registries/repositories:name]"
BUILTIN_ROLES = ("AcrPull", "AcrPush", "AcrDelete", "Reader", "Contributor", "Owner",
                 "Container Registry Repository Reader", "Container Registry Repository Writer",
                 "Container Registry Repository Contributor", "Container Registry Repository Catalog Lister")
ACTION_POOL = (_ACR + "pull/read", _ACR + "push/write", _ACR + "artifacts/delete", _ACR + "read",
               _ACR + "*/read", "Microsoft.ContainerRegistry/*", "*/read", "*", _ACR + "*")
NOT_ACTION_POOL = (_ACR + "push/write", _ACR + "artifacts/delete", _ACR + "pull/read", _ACR + "*/write")
DATA_ACTION_POOL = (_DATA + "content/read", _DATA + "content/write", _DATA + "content/delete",
                    _DATA + "metadata/read", _DATA + "metadata/write", _DATA + "*", _DATA + "content/*",
                    "Microsoft.ContainerRegistry/*")
NOT_DATA_ACTION_POOL = (_DATA + "content/write", _DATA + "content/delete", _DATA + "content/read", _DATA + "*/write")
CONDITION_ACTIONS = (("content/read", "metadata/read"), ("content/write", "metadata/write"), ("content/delete",),
                     ("content/read", "metadata/read", "content/write", "metadata/write"))
OPERATORS = ("StringEquals", "StringEqualsIgnoreCase", "StringStartsWith", "StringStartsWithIgnoreCase",
             "StringLike", "StringLikeIgnoreCase")
VALUES = ("team/", "Team/", "team/app", "team", "team/*", "team?/app", "*app", "t*/a?p", "base/", "other", "team-a/app")


@dataclass(frozen=True)
class RoleSpec:
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    data_actions: tuple[str, ...]
    not_data_actions: tuple[str, ...]


@dataclass(frozen=True)
class AssignmentSpec:
    who: tuple[str, int]  # ("principal" | "group", index)
    role: str | int  # a built-in role's name, or the index of a custom role
    scope: str | int  # "subscription" | "resourceGroup" | a registry's index
    condition: str | None


@dataclass(frozen=True)
class RegistrySpec:
    abac: bool
    admin: bool
    anonymous: bool
    other_group: bool  # in a second resource group (no assignment at its group)


@dataclass(frozen=True)
class TenantSpec:
    registries: tuple[RegistrySpec, ...]
    enabled: tuple[bool, ...]
    groups: tuple[tuple[tuple[str, int], ...], ...]  # members: ("principal", i) or ("group", j < this one)
    roles: tuple[RoleSpec, ...]
    assignments: tuple[AssignmentSpec, ...]
    mode_stated: bool


def _subset(pool: tuple[str, ...], most: int) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(pool), max_size=most, unique=True).map(tuple)


conditions = st.builds(
    lambda actions, op, many, values, second: " AND ".join(
        repository_condition(a, f"{REPO_ATTRIBUTE} {'ForAnyOfAnyValues:' if many else ''}{op} "
                                + ("{" + ", ".join(f"'{v}'" for v in vs) + "}" if many else f"'{vs[0]}'"))
        for a, op, vs in ((actions, op, values), *second)),
    st.sampled_from(CONDITION_ACTIONS), st.sampled_from(OPERATORS), st.booleans(),
    st.lists(st.sampled_from(VALUES), min_size=1, max_size=3, unique=True),
    st.lists(st.tuples(st.sampled_from(CONDITION_ACTIONS), st.sampled_from(OPERATORS),
                       st.lists(st.sampled_from(VALUES), min_size=1, max_size=1)), max_size=1),
)


@st.composite
def tenants(draw: st.DrawFn) -> TenantSpec:
    registries = tuple(draw(st.lists(st.builds(RegistrySpec, st.booleans(), st.booleans(), st.booleans(),
                                               st.booleans()), min_size=1, max_size=3)))
    n_principals = draw(st.integers(1, 4))
    enabled = tuple(draw(st.lists(st.sampled_from((True, True, True, False)), min_size=n_principals,
                                  max_size=n_principals)))
    groups: list[tuple[tuple[str, int], ...]] = []
    for g in range(draw(st.integers(0, 3))):
        members = [("principal", i) for i in range(n_principals)] + [("group", j) for j in range(g)]
        groups.append(tuple(draw(st.lists(st.sampled_from(members), min_size=1, max_size=3, unique=True))))
    roles = tuple(draw(st.lists(st.builds(RoleSpec, _subset(ACTION_POOL, 2), _subset(NOT_ACTION_POOL, 1),
                                          _subset(DATA_ACTION_POOL, 2), _subset(NOT_DATA_ACTION_POOL, 1)),
                                max_size=2)))
    who = st.one_of(st.tuples(st.just("principal"), st.integers(0, n_principals - 1)),
                    *([st.tuples(st.just("group"), st.integers(0, len(groups) - 1))] if groups else []))
    role = st.one_of(st.sampled_from(BUILTIN_ROLES), *([st.integers(0, len(roles) - 1)] if roles else []))
    scope = st.one_of(st.sampled_from(("subscription", "resourceGroup")), st.integers(0, len(registries) - 1))
    assignments = tuple(draw(st.lists(st.builds(AssignmentSpec, who, role, scope, st.none() | conditions),
                                      min_size=1, max_size=8)))
    mode_stated = draw(st.sampled_from((True, True, True, False)))
    return TenantSpec(registries, enabled, tuple(groups), roles, assignments, mode_stated)


@pytest.fixture(scope="module")
def random_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with running_sandbox(tmp_path_factory.mktemp("agree-random"), seed="empty") as server:
        yield server


# Examples in the default run (about 0.3 s each); a longer run, with a new seed each time:
#   ACR_AGREEMENT_EXAMPLES=2000 ACR_AGREEMENT_RANDOM=1 \
#     python -m pytest tests/reliability/test_access_agrees_with_token_service.py
EXAMPLES = int(os.environ.get("ACR_AGREEMENT_EXAMPLES", "100"))
RANDOM_SEED = bool(os.environ.get("ACR_AGREEMENT_RANDOM"))


def build(server: SandboxServer, spec: TenantSpec) -> tuple[list[Who], set[str], list[str], bool]:
    """The tenant in the sandbox's store; returns its principals, registries, assignments and whether
    a custom role with a wildcard took part."""
    assert server.sandbox is not None and server.connection is not None
    store = server.sandbox.store
    tag = uuid.uuid4().hex[:8]
    sub = server.connection["subscriptions"][0]
    rgs = [f"rg-agree-{tag}-a", f"rg-agree-{tag}-b"]
    for rg in rgs:
        store.put_resource_group(sub, rg, resource_group_doc(sub, rg))
    names, ids = set(), []
    for i, r in enumerate(spec.registries):
        name = f"agree{tag}r{i}"
        doc = registry_doc(sub, rgs[1 if r.other_group else 0], name, admin=r.admin, abac=r.abac)
        doc["properties"]["anonymousPullEnabled"] = r.anonymous
        store.put_resource(doc)
        names.add(name)
        ids.append(doc["id"])
    principals = []
    for i, enabled in enumerate(spec.enabled):
        app = new_application(store, f"agree-{tag}-p{i}")
        sp = new_service_principal(store, app, enabled=enabled)
        _, secret = add_password(store, app, "application")
        principals.append(Who(f"p{i}", sp["id"].lower(), app["appId"], secret, enabled))
    group_ids: list[str] = []
    for g, members in enumerate(spec.groups):
        group = new_group(store, f"agree-{tag}-g{g}")
        for kind, index in members:
            add_member(store, group["id"], principals[index].object_id if kind == "principal" else group_ids[index])
        group_ids.append(group["id"])
    role_guids = []
    wildcard = False
    for n, role in enumerate(spec.roles):
        guid = str(uuid.uuid4())
        doc = {"id": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
               "name": guid, "type": "Microsoft.Authorization/roleDefinitions",
               "properties": {"roleName": f"agree-{tag}-role{n}", "type": "CustomRole", "description": "",
                              "assignableScopes": [f"/subscriptions/{sub}"],
                              "permissions": [{"actions": list(role.actions), "notActions": list(role.not_actions),
                                               "dataActions": list(role.data_actions),
                                               "notDataActions": list(role.not_data_actions)}]}}
        store.put_role_definition(guid, doc, custom=True)
        role_guids.append(guid)
    made = []
    for a in spec.assignments:
        if isinstance(a.role, int):
            guid = role_guids[a.role]
            role = spec.roles[a.role]
            wildcard |= any("*" in x for x in (*role.actions, *role.data_actions))
        else:
            found = builtin_by_name(a.role)
            assert found is not None
            guid = found.guid
        scope = (f"/subscriptions/{sub}" if a.scope == "subscription" else
                 f"/subscriptions/{sub}/resourceGroups/{rgs[0]}" if a.scope == "resourceGroup" else ids[int(a.scope)])
        # ARM takes a condition only on a role whose permissions it can test (rbac.takes_condition).
        condition = a.condition if a.condition and rbac.takes_condition(store, guid) else None
        kind, index = a.who
        pid, ptype = ((principals[index].object_id, "ServicePrincipal") if kind == "principal"
                      else (group_ids[index], "Group"))
        made.append(assign(store, scope, guid, str(pid), ptype, condition=condition)["name"])
    return principals, names, made, wildcard


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM_SEED, database=None,
          phases=(Phase.explicit, Phase.generate, Phase.shrink),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(spec=tenants())
# The disagreements this test found, kept as examples run every time:
# StringEquals 'team/*' matches no repository (the console read it as every repository under team/);
@example(spec=TenantSpec((RegistrySpec(True, False, False, False),), (True,), (), (), (AssignmentSpec(
    ("principal", 0), "Container Registry Repository Reader", "subscription",
    repository_condition(("content/read", "metadata/read"), f"{REPO_ATTRIBUTE} StringEquals 'team/*'")),), True))
# a repository condition on a legacy registry does not narrow the `actions` it checks (the sandbox did).
@example(spec=TenantSpec((RegistrySpec(False, False, False, False),), (True,), (), (), (AssignmentSpec(
    ("principal", 0), "Contributor", "subscription",
    repository_condition(("content/read", "metadata/read"), f"{REPO_ATTRIBUTE} StringEquals 'team/'")),), True))
def test_random_tenants(random_sandbox: SandboxServer, spec: TenantSpec) -> None:
    assert random_sandbox.sandbox is not None and random_sandbox.connection is not None
    store = random_sandbox.sandbox.store
    started = time.monotonic()
    principals, names, made, wildcard = build(random_sandbox, spec)
    check = Check()
    service = TokenService(random_sandbox.connection)
    random_sandbox.sandbox.settings.registry_api_versions = None if spec.mode_stated else OLD_API_VERSIONS
    try:
        repositories = ("team/app", "team/web", "teamx/app", "team-a/app", "teamapp", "base/img", "other")
        check_tenant(random_sandbox, service, principals, names, repositories, check,
                     mode_unknown_expected=not spec.mode_stated)
        if not all(spec.enabled):
            check_tenant(random_sandbox, service, _enable_all(random_sandbox, principals), names, repositories,
                         check, mode_unknown_expected=not spec.mode_stated, others=False)
    finally:
        random_sandbox.sandbox.settings.registry_api_versions = None
        service.close()
        for name in made:  # the next tenant starts without this one's subscription-wide grants
            store.delete_role_assignment(name)
    assert not check.problems, "\n".join(check.problems[:40])
    if spec.mode_stated and not wildcard:
        assert not check.verdicts["possible"], "possible without a wildcard or an unknown mode"
    STATS["examples"] += 1
    STATS["combinations"] += check.combinations
    for k, v in check.verdicts.items():
        STATS[k] += v
    STATS["unknown mode"] += 0 if spec.mode_stated else 1
    STATS["ms"] += int((time.monotonic() - started) * 1000)
    record("access agrees with the token service", "random tenants",
           f"{STATS['examples']} tenants, {STATS['combinations']} combinations (yes {STATS['yes']}, "
           f"no {STATS['no']}, possible {STATS['possible']}), {STATS['unknown mode']} with the mode unknown, "
           f"{STATS['ms'] / 1000:.1f} s")


def test_a_wrong_analysis_is_caught(random_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The negative control: an analysis that counted Repository roles on a legacy registry (an open
    question in docs/reference/acr-access.md §8, decided "no" by the token service) is caught."""
    from acr_console.access import analysis, capabilities

    spec = TenantSpec(registries=(RegistrySpec(abac=False, admin=False, anonymous=False, other_group=False),),
                      enabled=(True,), groups=(), roles=(),
                      assignments=(AssignmentSpec(("principal", 0), "Container Registry Repository Writer", 0, None),),
                      mode_stated=True)
    assert random_sandbox.connection is not None
    principals, names, _, _ = build(random_sandbox, spec)
    service = TokenService(random_sandbox.connection)
    monkeypatch.setattr(capabilities, "REPOSITORY_DATA_ACTIONS_HONOURED_IN_LEGACY", True)
    capabilities.role_capabilities.cache_clear()
    analysis._outcomes.cache_clear()
    analysis._raw_outcomes.cache_clear()  # cached beneath _outcomes: both remember the patched answer
    try:
        check = Check()
        check_tenant(random_sandbox, service, principals, names, ("team/app",), check)
    finally:
        monkeypatch.undo()
        capabilities.role_capabilities.cache_clear()
        analysis._outcomes.cache_clear()
        analysis._raw_outcomes.cache_clear()
        service.close()
    assert check.problems == [f"p0 {action} {next(iter(names))}/team/app (rbac): the console says yes, the token "
                              "service grants [False]" for action in ("pull", "push")], check.problems
