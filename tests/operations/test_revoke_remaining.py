"""Issue 14: after a revoke, what the principal can still do on the registries in scope is read again
(`remaining_access`) and must agree with the registry's own token service, which is the ground truth
here: `GET https://{login}/oauth2/token` with the principal's appId and secret (Basic), asking for
`pull,push`, answers with the actions the registry grants (docs/reference/acr-access.md §3;
Azure/acr `docs/Token-BasicAuth.md`). Never the console's own report against itself.

Seeded stories used (acr_console/sandbox/seed.py): github-actions-payments pushes to contosoprod only
through team-payments-ci ⊂ acr-pushers (AcrPush); jenkins-legacy-builds has AcrPush on contosodev
itself and through dev-registry-users; helm-chart-publisher pushes to contosobase, which has
anonymous pull on. Role assignments and memberships change here, so the sandbox is this module's own.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.models import Right
from acr_console.operations import AuditLog, Reads, RevokeRequest, prepare, run_plan
from acr_console.operations.revoke import remaining_access
from acr_console.sandbox.directory import add_member, add_password, remove_member
from acr_console.sandbox.server import SandboxServer

from ..sandbox.graph_support import ssl_context
from ..support.sandbox import sandbox_fixture

revoke_sandbox = sandbox_fixture("revoke-remaining")
REPO = "payments/api"


@pytest.fixture
async def az(revoke_sandbox: SandboxServer) -> AsyncIterator[AzureClients]:
    assert revoke_sandbox.connection is not None
    async with AzureClients(sandbox_connection(revoke_sandbox.connection)) as clients:
        yield clients


def store_of(server: SandboxServer) -> Any:
    assert server.sandbox is not None
    return server.sandbox.store


def seeded(server: SandboxServer, name: str) -> tuple[str, str, str]:
    """A seeded principal's appId and object id, with a new secret on its application (the seed's own
    secrets are not known to anyone)."""
    store = store_of(server)
    row = store.row("SELECT doc FROM directory_objects WHERE type = 'servicePrincipal' AND display_name = ?", (name,))
    sp = json.loads(row["doc"])
    app = store.by_app_id(sp["appId"], "application")
    _, secret = add_password(store, app, "application")
    return sp["appId"], sp["id"], secret


def group_id(server: SandboxServer, name: str) -> str:
    row = store_of(server).row("SELECT id FROM directory_objects WHERE type = 'group' AND display_name = ?", (name,))
    return str(row["id"])


def granted(server: SandboxServer, registry: str, user: str | None, password: str | None) -> set[str] | None:
    """The actions the registry's token service grants on REPO when asked for pull and push; None when it
    refuses to issue a token at all (401)."""
    conn = server.connection or {}
    login = f"{registry}.azurecr.io"
    headers = {"Host": login}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers=headers) as http:
        r = http.get(f"{conn['registry_endpoint']}/oauth2/token",
                     params={"service": login, "scope": f"repository:{REPO}:pull,push"})
    if r.status_code == 401:
        return None
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    return {a for item in claims.get("access") or [] if item.get("name") == REPO for a in item["actions"]}


def rights_left(remaining: Any, registry: str) -> set[str]:
    """What `remaining` says the principal itself (not anyone, through anonymous pull) can still do."""
    return {r.value for reg in remaining.registries if reg.registry.name == registry
            for p in reg.paths if not p.anyone for r in p.path.rights}


async def test_group_pusher_keeps_push_and_the_token_service_agrees_until_it_leaves_the_group(
        revoke_sandbox: SandboxServer, az: AzureClients) -> None:
    server = revoke_sandbox
    app_id, sp_id, secret = seeded(server, "github-actions-payments")
    assert "push" in (granted(server, "contosoprod", app_id, secret) or set())

    plan = await prepare(RevokeRequest(app_id, registry="contosoprod"), Reads(az))
    assert plan.empty  # nothing of its own on contosoprod
    said = " ".join(plan.warnings)
    assert "can still push, pull on contosoprod through group 'team-payments-ci'" in said

    remaining = await remaining_access(az, plan)
    assert "push" in rights_left(remaining, "contosoprod")
    assert "push" in (granted(server, "contosoprod", app_id, secret) or set())  # the token service agrees
    (reg, path), = remaining.failing
    assert reg.name == "contosoprod" and path.group == "team-payments-ci"
    assert path.path.via_groups == ("acr-pushers", "team-payments-ci")
    gid = group_id(server, "team-payments-ci")
    assert path.remove == f"az ad group member remove --group {gid} --member-id {sp_id}"
    assert remaining.summary() == ("github-actions-payments can still push to contosoprod through group "
                                   "'team-payments-ci' (nested in 'acr-pushers'): AcrPush at registry scope")

    # What the remedy does, done in the directory: then nothing remains, and the token service agrees.
    assert remove_member(store_of(server), gid, sp_id)
    try:
        after = await remaining_access(az, plan)
        assert after.registries == () and after.failing == [] and after.summary() is None
        assert not {"push", "pull"} & (granted(server, "contosoprod", app_id, secret) or set())
    finally:
        add_member(store_of(server), gid, sp_id)


async def test_direct_assignment_removed_but_a_group_still_pushes(revoke_sandbox: SandboxServer, az: AzureClients,
                                                                  tmp_path: Any) -> None:
    server = revoke_sandbox
    app_id, _, secret = seeded(server, "jenkins-legacy-builds")
    plan = await prepare(RevokeRequest(app_id, registry="contosodev"), Reads(az))
    assert [s.id for s in plan.steps] == ["assignment-0"]
    outcome = await run_plan(az, plan, audit=AuditLog(tmp_path / "audit.jsonl"))
    assert outcome.ok  # every step did what it said ...
    remaining = await remaining_access(az, plan)
    # ... and yet it pushes, through dev-registry-users: the report says so, as the token service does.
    assert "push" in (granted(server, "contosodev", app_id, secret) or set())
    assert {"push", "pull"} <= rights_left(remaining, "contosodev")
    assert [p.group for _, p in remaining.failing] == ["dev-registry-users"]
    assert remaining.failing[0][1].path.scope_level is not None


async def test_keep_group_access_reports_the_group_and_does_not_count(revoke_sandbox: SandboxServer,
                                                                      az: AzureClients) -> None:
    app_id, _, _ = seeded(revoke_sandbox, "github-actions-cart")  # team-checkout-ci ⊂ acr-pushers
    plan = await prepare(RevokeRequest(app_id, registry="contosoprod", keep_group_access=True), Reads(az))
    assert plan.target["keepGroupAccess"] is True
    assert any("left alone as asked" in u.why for u in plan.untouched)
    remaining = await remaining_access(az, plan)
    assert remaining.failing == [] and remaining.summary() is None
    assert remaining.kept_groups == ["team-checkout-ci"]
    assert Right.PUSH in remaining.registries[0].rights


async def test_anonymous_pull_is_listed_but_is_not_the_principals_access(revoke_sandbox: SandboxServer,
                                                                          az: AzureClients, tmp_path: Any) -> None:
    server = revoke_sandbox
    app_id, _, secret = seeded(server, "helm-chart-publisher")  # AcrPush on contosobase, nothing else
    plan = await prepare(RevokeRequest(app_id, registry="contosobase"), Reads(az))
    anonymous = [u for u in plan.untouched if u.what.startswith("anonymous pull on contosobase")]
    assert anonymous and anonymous[0].command == "acr-console disable-anonymous-pull --registry contosobase"
    assert (await run_plan(az, plan, audit=AuditLog(tmp_path / "audit.jsonl"))).ok
    remaining = await remaining_access(az, plan)
    assert remaining.failing == []
    (reg,) = remaining.registries
    (path,) = reg.paths
    assert path.anyone and path.path.kind.value == "anonymous-pull" and reg.entry is None
    # The token service: its own credentials no longer push; without any, anyone still pulls.
    assert "push" not in (granted(server, "contosobase", app_id, secret) or set())
    assert granted(server, "contosobase", None, None) == {"pull"}


async def test_disabled_principal_keeps_dormant_paths_that_grant_nothing(revoke_sandbox: SandboxServer,
                                                                         az: AzureClients, tmp_path: Any) -> None:
    server = revoke_sandbox
    app_id, _, secret = seeded(server, "github-actions-identity")  # team-identity-ci ⊂ acr-pushers
    plan = await prepare(RevokeRequest(app_id, registry="contosoprod", disable=True), Reads(az))
    assert not [w for w in plan.warnings if w.startswith("After this plan")]  # it cannot sign in after it
    assert (await run_plan(az, plan, audit=AuditLog(tmp_path / "audit.jsonl"))).ok
    remaining = await remaining_access(az, plan)
    assert remaining.sign_in == "disabled" and remaining.dormant == 1
    assert remaining.registries == () and remaining.summary() is None
    assert granted(server, "contosoprod", app_id, secret) is None  # 401: a disabled principal gets no token


async def test_remaining_reads_only_the_registries_in_scope(revoke_sandbox: SandboxServer, az: AzureClients) -> None:
    """The extra requests of the check after a revoke: none per registry; a named registry is one GET."""
    server = revoke_sandbox
    store = store_of(server)
    app_id, _, _ = seeded(server, "payments-release-bot")  # team-payments-ci ⊂ acr-pushers
    one = await prepare(RevokeRequest(app_id, registry="contosoprod"), Reads(az))
    every = await prepare(RevokeRequest(app_id, all_registries=True), Reads(az))

    def requests_of(since: int) -> list[str]:
        return [f"{r['method']} {r['path']}" for r in store.request_log(since)]

    since = store.last_request_seq()
    assert rights_left(await remaining_access(az, one), "contosoprod") >= {"push"}
    named = requests_of(since)
    # The principal, its groups, the registry, assignedTo() in its subscription, and the assigned
    # group's members in one batch (+ the nested groups' in a second): no other registry is read.
    assert len(named) == 6, named
    assert sum("registries/" in p for p in named) == 1 and not any("contosoprodweu" in p for p in named)

    since = store.last_request_seq()
    remaining = await remaining_access(az, every)
    wide = requests_of(since)
    subscriptions = 3  # the demo tenant's
    assert len(remaining.registries) >= 2  # contosoprod (group) and contosobase (anonymous pull)
    # Independent of the number of registries (8): the principal, its groups, the subscription list,
    # then per subscription (3) its registries and assignedTo(), and the group tree's two batches.
    assert len(wide) == 3 + 2 * subscriptions + 2, wide
