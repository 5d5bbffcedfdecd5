"""Assign, unassign and revoke against the sandbox; revoke is proven by what no longer works."""

from __future__ import annotations

from typing import Any

import pytest

from acr_console.azure import writes_graph
from acr_console.azure.authorization import assignments_at
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.errors import AzureCallError
from acr_console.azure.registry_access import find_registry
from acr_console.azure.registry_token import try_registry_login
from acr_console.azure.writes import ReadOnlyError
from acr_console.models import CredentialOwner
from acr_console.operations import (
    AssignRequest,
    AuditLog,
    CreatePrincipalRequest,
    Outcome,
    RevokeRequest,
    StepStatus,
    UnassignRequest,
    create_result,
    prepare,
    run_plan,
)
from tests.support.handover import reads_for

from .conftest import LEGACY_REGISTRY, OTHER_LEGACY_REGISTRY, unique
from .helpers import sign_in_refused, token_with_secret

PUSH = "repository:team/app:pull,push"


async def new_principal(az: AzureClients, audit: AuditLog, **kw: Any) -> tuple[dict[str, Any], Outcome]:
    req = CreatePrincipalRequest(**{"name": unique("revoke"), "registry": LEGACY_REGISTRY, "role": "AcrPush", **kw})
    outcome = await run_plan(az, await prepare(req, reads_for(az)), audit=audit)
    assert outcome.ok, outcome.to_json()
    return create_result(outcome.plan), outcome


async def direct_assignments(az: AzureClients, registry: str, sp_id: str) -> list[Any]:
    reg = await find_registry(az, registry)
    return [a for a in await assignments_at(az, reg.id) if a.principal_id == sp_id.lower()]


async def test_assign_and_unassign(az: AzureClients, audit: AuditLog) -> None:
    doc, _ = await new_principal(az, audit)
    plan = await prepare(AssignRequest(doc["appId"], OTHER_LEGACY_REGISTRY, "AcrPull"), reads_for(az))
    assert (await run_plan(az, plan, audit=audit)).ok
    assert len(await direct_assignments(az, OTHER_LEGACY_REGISTRY, doc["servicePrincipalObjectId"])) == 1
    assign = AssignRequest(doc["appId"], OTHER_LEGACY_REGISTRY, "AcrPull")
    again = await run_plan(az, await prepare(assign, reads_for(az)), audit=audit)
    assert again.results["assign"].status is StepStatus.ALREADY_DONE
    assert len(await direct_assignments(az, OTHER_LEGACY_REGISTRY, doc["servicePrincipalObjectId"])) == 1
    removal = await prepare(UnassignRequest(doc["appId"], OTHER_LEGACY_REGISTRY, "AcrPull"), reads_for(az))
    assert len(removal.steps) == 1
    assert (await run_plan(az, removal, audit=audit)).ok
    assert await direct_assignments(az, OTHER_LEGACY_REGISTRY, doc["servicePrincipalObjectId"]) == []
    rerun = await run_plan(az, removal, audit=audit)
    assert rerun.results["unassign-0"].status is StepStatus.ALREADY_DONE
    nothing = await prepare(UnassignRequest(doc["appId"], OTHER_LEGACY_REGISTRY, "AcrPull"), reads_for(az))
    assert nothing.empty and nothing.warnings


async def test_full_revoke_leaves_nothing_that_works(az: AzureClients, audit: AuditLog,
                                                     connection: dict[str, Any]) -> None:
    doc, created = await new_principal(az, audit)
    secret = created.secrets["password"]
    assign = AssignRequest(doc["appId"], OTHER_LEGACY_REGISTRY, "AcrPull")
    assert (await run_plan(az, await prepare(assign, reads_for(az)), audit=audit)).ok
    assert not (await try_registry_login(az, doc["loginServer"], doc["appId"], secret, (PUSH,))).missing

    req = RevokeRequest(doc["appId"], all_registries=True, remove_credentials=True, disable=True)
    plan = await prepare(req, reads_for(az))
    ids = [s.id for s in plan.steps]
    assert ids.count("assignment-0") == 1 and "assignment-1" in ids and "disable" in ids
    assert "sweep-credentials" in ids
    outcome = await run_plan(az, plan, audit=audit)
    assert outcome.ok, outcome.to_json()

    for registry in (LEGACY_REGISTRY, OTHER_LEGACY_REGISTRY):
        assert await direct_assignments(az, registry, doc["servicePrincipalObjectId"]) == []
    for owner, oid in ((CredentialOwner.APPLICATION, doc["applicationObjectId"]),
                       (CredentialOwner.SERVICE_PRINCIPAL, doc["servicePrincipalObjectId"])):
        obj = await writes_graph.get_credential_owner(az, owner, oid)
        assert not obj.get("passwordCredentials") and not obj.get("keyCredentials")
    sp = await writes_graph.get_service_principal(az, doc["servicePrincipalObjectId"])
    assert sp["accountEnabled"] is False
    assert sign_in_refused(connection, doc["appId"], secret.reveal()).startswith("AADSTS")
    with pytest.raises(AzureCallError) as refused:
        await try_registry_login(az, doc["loginServer"], doc["appId"], secret, (PUSH,))
    assert refused.value.status == 401

    # The same revoke again: every step already done, nothing changed.
    rerun = await run_plan(az, plan, audit=audit)
    assert rerun.ok and not rerun.changed_anything
    fresh = await prepare(req, reads_for(az))
    assert [s.id for s in fresh.steps] == ["disable", "sweep-credentials"]
    assert not (await run_plan(az, fresh, audit=audit)).changed_anything
    assert secret.reveal() not in audit.path.read_text()


async def test_revoke_one_registry_lists_what_it_leaves(az: AzureClients, audit: AuditLog) -> None:
    doc, _ = await new_principal(az, audit)
    assign = AssignRequest(doc["appId"], OTHER_LEGACY_REGISTRY, "AcrPull")
    assert (await run_plan(az, await prepare(assign, reads_for(az)), audit=audit)).ok
    plan = await prepare(RevokeRequest(doc["appId"], registry=LEGACY_REGISTRY), reads_for(az))
    assert [s.id for s in plan.steps] == ["assignment-0"]
    whats = " | ".join(u.what for u in plan.untouched)
    assert "credential" in whats and "sign-in stays enabled" in whats and "other registries" in whats
    assert (await run_plan(az, plan, audit=audit)).ok
    assert await direct_assignments(az, LEGACY_REGISTRY, doc["servicePrincipalObjectId"]) == []
    assert len(await direct_assignments(az, OTHER_LEGACY_REGISTRY, doc["servicePrincipalObjectId"])) == 1


async def test_revoke_and_delete_application(az: AzureClients, audit: AuditLog) -> None:
    doc, _ = await new_principal(az, audit)
    plan = await prepare(RevokeRequest(doc["appId"], registry=LEGACY_REGISTRY, remove_credentials=True,
                                       disable=True, delete_application=True), reads_for(az))
    last = plan.steps[-1]
    assert last.id == "delete-application" and set(last.depends_on) == {s.id for s in plan.steps[:-1]}
    assert (await run_plan(az, plan, audit=audit)).ok
    assert await writes_graph.get_application(az, doc["applicationObjectId"]) is None


async def test_read_only_refuses_before_anything_is_sent(connection: dict[str, Any], sandbox_server: Any,
                                                         audit: AuditLog) -> None:
    async with AzureClients(sandbox_connection(connection)) as az:
        doc, _ = await new_principal(az, audit)
        plan = await prepare(RevokeRequest(doc["appId"], registry=LEGACY_REGISTRY, disable=True), reads_for(az))
    async with AzureClients(sandbox_connection(connection, read_only=True)) as ro:
        seq = sandbox_server.sandbox.store.last_request_seq()
        with pytest.raises(ReadOnlyError) as err:
            await run_plan(ro, plan, audit=audit)
        assert err.value.exit_code == 4
        assert sandbox_server.sandbox.store.last_request_seq() == seq


async def test_new_principal_secret_signs_in_before_revoke(az: AzureClients, audit: AuditLog,
                                                           connection: dict[str, Any]) -> None:
    doc, created = await new_principal(az, audit, role="AcrPull")
    assert token_with_secret(connection, doc["appId"], created.secrets["password"].reveal())
    token = await try_registry_login(az, doc["loginServer"], doc["appId"], created.secrets["password"], (PUSH,))
    assert token.missing == ("repository:team/app:push",)  # AcrPull: pull only


async def test_revoke_plan_lists_group_memberships_with_the_command(az: AzureClients) -> None:
    # Seeded: github-actions-payments is in team-payments-ci, which sits in acr-pushers (AcrPush on contosoprod).
    plan = await prepare(RevokeRequest("github-actions-payments", registry=LEGACY_REGISTRY), reads_for(az))
    groups = [u for u in plan.untouched if u.what.startswith("membership in group")]
    assert len(groups) == 1, [u.what for u in plan.untouched]
    assert groups[0].what.startswith("membership in group 'team-payments-ci' (nested in 'acr-pushers')")
    assert groups[0].command.startswith("az ad group member remove --group ")
    assert groups[0].command.endswith(plan.target["servicePrincipalObjectId"])
    assert plan.steps == []  # nothing of its own on contosoprod: only the group grants it


async def test_broader_scopes_are_listed_then_deleted_only_when_asked(fresh_sandbox: Any, audit: AuditLog) -> None:
    async with AzureClients(sandbox_connection(fresh_sandbox.connection)) as az:
        # Seeded: azure-devops-platform holds AcrPush on the resource group of contosoprod.
        req = RevokeRequest("azure-devops-platform", registry=LEGACY_REGISTRY)
        plan = await prepare(req, reads_for(az))
        broader = [u for u in plan.untouched if "resource group" in u.what]
        assert broader and "--include-broader-scopes" in broader[0].why
        assert broader[0].command.startswith("az role assignment delete --ids ")
        assert not any(s.id.startswith("broader") for s in plan.steps)
        wide = await prepare(RevokeRequest("azure-devops-platform", registry=LEGACY_REGISTRY,
                                           include_broader_scopes=True), reads_for(az))
        steps = [s for s in wide.steps if s.id.startswith("broader")]
        assert len(steps) == 1 and "reaches contosoprod" in steps[0].description
        assert (await run_plan(az, wide, audit=audit)).ok
        after = await prepare(req, reads_for(az))
        assert not [u for u in after.untouched if "role assignment" in u.what and "AcrPush" in u.what]
