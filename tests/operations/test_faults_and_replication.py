"""Azure misbehaving: faults injected into a revoke (a partial failure, then a re-run that finishes it,
with nothing done twice), and the directory's replication delay ridden out by a create."""

from __future__ import annotations

from typing import Any

import pytest

from acr_console.azure import writes_graph
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.errors import BusyError
from acr_console.models import CredentialOwner
from acr_console.operations import (
    AssignRequest,
    AuditLog,
    CreatePrincipalRequest,
    ResetCredentialRequest,
    RevokeRequest,
    StepStatus,
    create_result,
    prepare,
    run_plan,
)
from tests.support.handover import reads_for

from .conftest import LEGACY_REGISTRY, OTHER_LEGACY_REGISTRY, unique
from .helpers import sign_in_refused


async def test_revoke_interrupted_by_faults_finishes_on_rerun(fresh_sandbox: Any, audit: AuditLog) -> None:
    sb = fresh_sandbox.sandbox
    async with AzureClients(sandbox_connection(fresh_sandbox.connection)) as az:
        req = CreatePrincipalRequest(unique("faulty"), LEGACY_REGISTRY, "AcrPush")
        created = await run_plan(az, await prepare(req, reads_for(az)), audit=audit)
        assert created.ok
        doc = create_result(created.plan)
        extra = await run_plan(az, await prepare(ResetCredentialRequest(doc["appId"]), reads_for(az)), audit=audit)
        assert extra.ok
        assign = AssignRequest(doc["appId"], OTHER_LEGACY_REGISTRY, "AcrPull")
        assert (await run_plan(az, await prepare(assign, reads_for(az)), audit=audit)).ok
        revoke = RevokeRequest(doc["appId"], all_registries=True, remove_credentials=True, disable=True)
        plan = await prepare(revoke, reads_for(az))
        seq = sb.store.last_request_seq()
        # Graph's 500s are not retried by msgraph, a dropped connection is not retried by httpx, and
        # ARM's 503 is retried by azure-core: two steps fail, the assignments get through.
        sb.settings.faults = "graph.POST:500:n=1,graph.PATCH:drop:n=1,arm.DELETE:503:n=1:retry_after=0"
        first = await run_plan(az, plan, audit=audit)
        sb.settings.faults = []
        assert not first.ok
        failed = [r for r in first.results.values() if r.status is StepStatus.FAILED]
        assert len(failed) == 2, first.to_json()
        assert "ConnectionFailed" in {r.error.code for r in failed}  # the dropped PATCH
        assert first.results["sweep-credentials"].status is StepStatus.SKIPPED
        assert first.results["assignment-0"].status is StepStatus.DONE
        assert any(r.get("note", "").startswith("fault") for r in sb.store.request_log(seq) if r.get("note"))

        second = await run_plan(az, await prepare(revoke, reads_for(az)), audit=audit)
        assert second.ok, second.to_json()
        # The first plan object was made before the second run wrote: it is stale now, and executing
        # it again is refused before anything is sent (operations/locks.py).
        stale_from = sb.store.last_request_seq()
        with pytest.raises(BusyError, match="was changed after this plan was made"):
            await run_plan(az, plan, audit=audit)
        assert not [r for r in sb.store.request_log(stale_from) if r.get("method") != "GET"]

        # Nothing was done twice: each assignment deleted once, each password removed once.
        log = sb.store.request_log(seq)
        deletes = [r["path"] for r in log if r["method"] == "DELETE" and r["status"] < 300]
        assert len(deletes) == len(set(deletes)) == 2
        removals = [r for r in log if r["path"].endswith("/removePassword") and r["status"] < 300]
        assert len(removals) == 2
        for owner, oid in ((CredentialOwner.APPLICATION, doc["applicationObjectId"]),
                           (CredentialOwner.SERVICE_PRINCIPAL, doc["servicePrincipalObjectId"])):
            obj = await writes_graph.get_credential_owner(az, owner, oid)
            assert not obj.get("passwordCredentials") and not obj.get("keyCredentials")
        sp = await writes_graph.get_service_principal(az, doc["servicePrincipalObjectId"])
        assert sp["accountEnabled"] is False
        assert sign_in_refused(fresh_sandbox.connection, doc["appId"], created.secrets["password"].reveal())
        records = audit.read()
        assert [r["result"] for r in records[-2:]] == ["failed", "ok"]  # the stale third was never run


async def test_create_rides_out_the_replication_delay(fresh_sandbox: Any, audit: AuditLog) -> None:
    fresh_sandbox.sandbox.settings.replication_delay_s = 3.0
    async with AzureClients(sandbox_connection(fresh_sandbox.connection)) as az:
        seq = fresh_sandbox.sandbox.store.last_request_seq()
        req = CreatePrincipalRequest(unique("replica"), LEGACY_REGISTRY, "AcrPush", replication_timeout_s=30)
        outcome = await run_plan(az, await prepare(req, reads_for(az)), audit=audit)
        assert outcome.ok, outcome.to_json()
        assert outcome.results["role"].status is StepStatus.DONE
        puts = [r["status"] for r in fresh_sandbox.sandbox.store.request_log(seq)
                if r["method"] == "PUT" and "roleAssignments" in r["path"]]
        # The first tries were refused as not replicated (the log entry of the last one may still be
        # on its way: the sandbox writes it after answering).
        assert puts[0] == 400 and outcome.detail("role", "assignmentId")


async def test_replication_that_outlasts_the_bound_fails_clearly_and_rerun_finishes(
        fresh_sandbox: Any, audit: AuditLog) -> None:
    fresh_sandbox.sandbox.settings.replication_delay_s = 4.0
    async with AzureClients(sandbox_connection(fresh_sandbox.connection)) as az:
        req = CreatePrincipalRequest(unique("slow-replica"), LEGACY_REGISTRY, "AcrPull", replication_timeout_s=1)
        plan = await prepare(req, reads_for(az))
        first = await run_plan(az, plan, audit=audit)
        assert first.results["role"].status is StepStatus.FAILED
        assert first.results["role"].error.code == "PrincipalNotFound"
        assert "run the same command again" in first.results["role"].error.message
        assert first.results["password"].status is StepStatus.DONE  # the secret exists and is reported
        assert first.detail("password", "keyId")
        fresh_sandbox.sandbox.settings.replication_delay_s = 0
        second = await run_plan(az, plan, audit=audit)
        assert second.ok
        assert [second.results[s].status for s in ("application", "service-principal", "password")] == \
            [StepStatus.ALREADY_DONE] * 3
        assert second.results["role"].status is StepStatus.DONE
