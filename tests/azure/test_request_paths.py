"""Graph's one request path and the one retry loop, against the sandbox, counted in its request log:
a read that meets a 500 is tried again, a write never is; a `$batch` sends again only what was
throttled; the signed-in identity is asked for once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.directory import signed_in
from acr_console.azure.errors import AzureCallError
from acr_console.azure.graph import BATCH_RETRIES, graph_batch, graph_json
from acr_console.azure.resilience import READ_RETRIES
from acr_console.azure.writes_graph import create_service_principal, graph_call
from acr_console.models import SignedInIdentity
from acr_console.sandbox.server import SandboxServer


@pytest.fixture
async def az(fresh_sandbox: SandboxServer) -> AsyncIterator[AzureClients]:
    assert fresh_sandbox.connection is not None
    async with AzureClients(sandbox_connection(fresh_sandbox.connection)) as clients:
        await graph_json(clients, "GET", "groups", {"$top": "1"})  # sign in and warm up before counting
        yield clients


def _requests(server: SandboxServer, since: int, method: str, path_end: str) -> list[dict[str, Any]]:
    assert server.sandbox is not None
    return [r for r in server.sandbox.store.request_log(since) if r["method"] == method
            and r["path"].endswith(path_end)]


def _start(server: SandboxServer, faults: str) -> int:
    assert server.sandbox is not None
    server.sandbox.settings.faults = faults
    return server.sandbox.store.last_request_seq()


async def test_a_read_rides_out_500s(fresh_sandbox: SandboxServer, az: AzureClients) -> None:
    since = _start(fresh_sandbox, f"graph.GET:500:n={READ_RETRIES}")
    page = await graph_json(az, "GET", "servicePrincipals", {"$top": "1"})
    assert len(page["value"]) == 1
    assert [r["status"] for r in _requests(fresh_sandbox, since, "GET", "/servicePrincipals")] == (
        [500] * READ_RETRIES + [200])


async def test_a_read_gives_up_after_its_tries(fresh_sandbox: SandboxServer, az: AzureClients) -> None:
    since = _start(fresh_sandbox, f"graph.GET:500:n={READ_RETRIES + 1}")
    with pytest.raises(AzureCallError) as info:
        await graph_json(az, "GET", "servicePrincipals", {"$top": "1"})
    assert info.value.status == 500
    assert len(_requests(fresh_sandbox, since, "GET", "/servicePrincipals")) == READ_RETRIES + 1


async def test_a_write_is_never_sent_twice(fresh_sandbox: SandboxServer, az: AzureClients) -> None:
    since = _start(fresh_sandbox, "graph.POST:500:n=1")
    with pytest.raises(AzureCallError) as info:
        await graph_call(az, "POST", "applications", body={"displayName": "never-twice"})
    assert (info.value.status, info.value.operation) == (500, "POST applications")
    assert len(_requests(fresh_sandbox, since, "POST", "/applications")) == 1


async def test_a_batch_sends_again_only_what_was_throttled(fresh_sandbox: SandboxServer, az: AzureClients) -> None:
    # The sandbox throttles the first inner GET; the other two are answered in the first round.
    since = _start(fresh_sandbox, "graph.GET:429:n=1:retry_after=0")
    answers = await graph_batch(az, [{"url": "/servicePrincipals?$top=1"}, {"url": "/groups?$top=1"},
                                     {"url": "/applications?$top=1"}])
    assert [a["status"] for a in answers] == [200, 200, 200]
    assert len(_requests(fresh_sandbox, since, "POST", "/$batch")) == 2


async def test_a_batch_hands_back_the_throttled_answer_when_its_tries_run_out(
        fresh_sandbox: SandboxServer, az: AzureClients) -> None:
    since = _start(fresh_sandbox, f"graph.GET:429:n={BATCH_RETRIES + 1}:retry_after=0")
    answers = await graph_batch(az, [{"url": "/servicePrincipals?$top=1"}])
    assert [a["status"] for a in answers] == [429]
    assert len(_requests(fresh_sandbox, since, "POST", "/$batch")) == BATCH_RETRIES + 1


async def test_the_signed_in_identity_is_typed_and_asked_for_once(fresh_sandbox: SandboxServer,
                                                                 az: AzureClients) -> None:
    assert fresh_sandbox.connection is not None and fresh_sandbox.sandbox is not None
    who = await signed_in(az)
    assert isinstance(who, SignedInIdentity)
    assert who.app_id == fresh_sandbox.connection["admin"]["client_id"]
    assert who.tenant_id == fresh_sandbox.connection["tenant_id"] and who.object_id
    assert who.name  # an app-only token names no one: the name comes from the directory
    since = fresh_sandbox.sandbox.store.last_request_seq()
    assert await signed_in(az) == who
    assert fresh_sandbox.sandbox.store.request_log(since) == []


async def test_a_service_principal_waits_for_its_application_to_replicate(fresh_sandbox: SandboxServer,
                                                                          az: AzureClients) -> None:
    """Graph refuses the service principal of an application its replica does not know yet with 403
    Authorization_RequestDenied "…must in the local tenant" (Azure/azure-cli#28009); the console tries
    again on that message, as azure-cli does, whatever the status."""
    assert fresh_sandbox.sandbox is not None
    app = await graph_json(az, "POST", "applications", body={"displayName": "replica-wait"})
    fresh_sandbox.sandbox.settings.replication_delay_s = 2.0
    since = fresh_sandbox.sandbox.store.last_request_seq()
    doc, _ = await create_service_principal(az, app["appId"], timeout_s=60)
    assert doc["appId"] == app["appId"]
    statuses = [r["status"] for r in _requests(fresh_sandbox, since, "POST", "/servicePrincipals")]
    assert statuses[0] == 403 and statuses[-1] == 201


async def test_a_replica_that_never_catches_up_is_reported_as_such(fresh_sandbox: SandboxServer,
                                                                   az: AzureClients) -> None:
    assert fresh_sandbox.sandbox is not None
    app = await graph_json(az, "POST", "applications", body={"displayName": "replica-never"})
    fresh_sandbox.sandbox.settings.replication_delay_s = 3600

    async def no_wait(seconds: float) -> None:
        return None

    with pytest.raises(AzureCallError) as info:
        await create_service_principal(az, app["appId"], timeout_s=5, sleep=no_wait)
    err = info.value
    assert (err.status, err.code) == (403, "Authorization_RequestDenied")
    assert "still not replicated after 5 s" in err.message
    assert err.hint is not None and "replica" in err.hint
