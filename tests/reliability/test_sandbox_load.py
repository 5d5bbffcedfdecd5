"""The sandbox under load: 50 concurrent clients (asyncio + httpx, real TLS on loopback) doing mixed
reads and writes against Resource Manager and Graph for a bounded time, with faults injected at a low
rate. Every error a client sees must be an injected one (counted in the sandbox's request log), and
no write may be lost: what the clients were told succeeded is exactly what the sandbox holds after.

Five seconds (and at least ten requests per client) in the default run; the long run is
    ACR_RELIABILITY_LOAD_SECONDS=30 python -m pytest tests/reliability/test_sandbox_load.py -s
"""

from __future__ import annotations

import asyncio
import os
import random
import ssl
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from acr_console.sandbox.server import SandboxServer

from .conftest import fault_notes, record

CLIENTS = 50
SECONDS = float(os.environ.get("ACR_RELIABILITY_LOAD_SECONDS", "5"))
# Each client goes on for SECONDS, and for at least this many requests after its set-up however slow
# the host: the load is a number of requests, never a rate the host must reach.
MIN_CALLS = 10
FAULTS = "any:429:0.01:retry_after=0,any:503:0.01:retry_after=0,any:drop:0.005,seed=11"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
ARM_VERSION = {"api-version": "2023-07-01"}
AUTHZ_VERSION = {"api-version": "2022-04-01"}


@dataclass
class Tally:
    ok: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # "status kind" of each failed request
    latencies: list[float] = field(default_factory=list)
    passwords: dict[str, int] = field(default_factory=dict)  # application object id -> passwords added
    apps: int = 0
    assignments: dict[str, str] = field(default_factory=dict)  # assignment id -> "live" | "deleted"


async def _token(http: httpx.AsyncClient, conn: dict[str, Any], scope: str) -> str:
    r = await http.post(f"{conn['authority_host']}/{conn['tenant_id']}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": conn["admin"]["client_id"],
        "client_secret": conn["admin"]["client_secret"], "scope": scope})
    r.raise_for_status()
    return str(r.json()["access_token"])


async def test_fifty_clients_lose_nothing(fresh_sandbox: SandboxServer) -> None:
    conn = fresh_sandbox.connection
    assert conn is not None and fresh_sandbox.sandbox is not None
    sb = fresh_sandbox.sandbox
    graph = conn["microsoft_graph"] + "/v1.0"
    arm = conn["resource_manager"].rstrip("/")
    tally = Tally()
    run = uuid.uuid4().hex[:8]
    trust = ssl.create_default_context(cafile=conn["ca_bundle"])  # one context: no per-client CA parsing

    async with httpx.AsyncClient(verify=trust, trust_env=False, timeout=30) as setup:
        arm_token = await _token(setup, conn, "https://management.azure.com/.default")
        graph_token = await _token(setup, conn, "https://graph.microsoft.com/.default")
        sub = conn["subscriptions"][0]
        registries = (await setup.get(f"{arm}/subscriptions/{sub}/providers/Microsoft.ContainerRegistry/registries",
                                      params=ARM_VERSION, headers={"Authorization": f"Bearer {arm_token}"})).json()
        registry = registries["value"][0]["id"]

    async def client(n: int) -> None:
        headers_arm = {"Authorization": f"Bearer {arm_token}"}
        headers_graph = {"Authorization": f"Bearer {graph_token}"}
        rng = random.Random(n)
        async with httpx.AsyncClient(verify=trust, trust_env=False, timeout=30) as http:

            async def call(kind: str, method: str, url: str, **kw: Any) -> httpx.Response | None:
                started = time.perf_counter()
                try:
                    r = await http.request(method, url, **kw)
                except httpx.TransportError as exc:
                    tally.errors.append(f"drop {kind} {type(exc).__name__}")
                    return None
                tally.latencies.append(time.perf_counter() - started)
                if r.status_code >= 400:
                    tally.errors.append(f"{r.status_code} {kind}")
                    return None
                tally.ok[kind] += 1
                return r

            # Each client's own application and service principal, for its writes to land on.
            app = sp = None
            while app is None:
                r = await call("create-app", "POST", f"{graph}/applications", headers=headers_graph,
                               json={"displayName": f"load-{run}-{n}", "tags": [f"load-{run}"]})
                app = r.json() if r is not None else None
            tally.apps += 1
            while sp is None:
                r = await call("create-sp", "POST", f"{graph}/servicePrincipals", headers=headers_graph,
                               json={"appId": app["appId"]})
                sp = r.json() if r is not None else None
            tally.passwords[app["id"]] = 0
            live: str | None = None
            calls = 0
            while calls < MIN_CALLS or time.monotonic() < deadline:
                calls += 1
                pick = rng.random()
                if pick < 0.25:
                    await call("list-registries", "GET", f"{arm}/subscriptions/{sub}/providers/"
                               "Microsoft.ContainerRegistry/registries", params=ARM_VERSION, headers=headers_arm)
                elif pick < 0.45:
                    await call("list-principals", "GET", f"{graph}/servicePrincipals",
                               params={"$top": "20", "$select": "id,displayName"}, headers=headers_graph)
                elif pick < 0.6:
                    await call("assignments-at-registry", "GET",
                               f"{arm}{registry}/providers/Microsoft.Authorization/roleAssignments",
                               params={**AUTHZ_VERSION, "$filter": "atScope()"}, headers=headers_arm)
                elif pick < 0.8:
                    r = await call("add-password", "POST", f"{graph}/applications/{app['id']}/addPassword",
                                   headers=headers_graph, json={"passwordCredential": {"displayName": "load"}})
                    if r is not None:
                        tally.passwords[app["id"]] += 1
                elif live is not None:
                    # An assignment whose delete was refused by a fault: delete it before making another
                    # (a second one of the same role, principal and scope would be RoleAssignmentExists).
                    r = await call("unassign", "DELETE", f"{arm}{live}", params=AUTHZ_VERSION, headers=headers_arm)
                    if r is not None:
                        tally.assignments[live.lower()] = "deleted"
                        live = None
                else:
                    aid = f"{registry}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
                    r = await call("assign", "PUT", f"{arm}{aid}", params=AUTHZ_VERSION, headers=headers_arm,
                                   json={"properties": {"roleDefinitionId": f"/subscriptions/{sub}/providers/"
                                                        f"Microsoft.Authorization/roleDefinitions/{ACR_PULL}",
                                                        "principalId": sp["id"], "principalType": "ServicePrincipal"}})
                    if r is not None:
                        tally.assignments[aid.lower()] = "live"
                        live = aid

    seq = sb.store.last_request_seq()
    sb.settings.faults = FAULTS
    started = time.monotonic()
    deadline = started + SECONDS
    try:
        await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    finally:
        sb.settings.faults = []
    elapsed = time.monotonic() - started

    # Every error a client saw was injected: as many client errors as faults in the sandbox's log,
    # and of the injected kinds only.
    injected = fault_notes(fresh_sandbox, seq)
    assert all(e.split()[0] in ("429", "503", "drop") for e in tally.errors), Counter(tally.errors).most_common(5)
    assert len(tally.errors) == len(injected), (Counter(tally.errors), Counter(injected))

    # No write lost: the sandbox holds exactly what the clients were told succeeded.
    async with httpx.AsyncClient(verify=trust, trust_env=False, timeout=30) as check:
        headers = {"Authorization": f"Bearer {graph_token}"}
        apps = (await check.get(f"{graph}/applications", headers=headers, params={
            "$filter": f"startswith(displayName,'load-{run}-')", "$top": "999",
            "$select": "id,passwordCredentials"})).json()["value"]
        assert len(apps) == tally.apps == CLIENTS
        for a in apps:
            assert len(a["passwordCredentials"]) == tally.passwords[a["id"]], a["id"]
        live = (await check.get(f"{arm}{registry}/providers/Microsoft.Authorization/roleAssignments",
                                params={**AUTHZ_VERSION, "$filter": "atScope()"},
                                headers={"Authorization": f"Bearer {arm_token}"})).json()["value"]
        held = {a["id"].lower() for a in live}
        for aid, state in tally.assignments.items():
            assert (aid in held) == (state == "live"), (aid, state)

    total = sum(tally.ok.values()) + len(tally.errors)
    p50, p95 = (statistics.quantiles(tally.latencies, n=20)[i] * 1000 for i in (9, 18))
    record("sandbox load", "clients", CLIENTS)
    record("sandbox load", "seconds", round(elapsed, 1))
    record("sandbox load", "requests", total)
    record("sandbox load", "requests per second", round(total / elapsed))
    record("sandbox load", "latency p50 / p95 ms", f"{p50:.0f} / {p95:.0f}")
    record("sandbox load", "faults injected (all the errors seen)", len(injected))
    record("sandbox load", "writes verified (apps, passwords, assignments)",
           f"{tally.apps}, {sum(tally.passwords.values())}, {len(tally.assignments)}")
    assert total >= CLIENTS * (MIN_CALLS + 2), "a client stopped short"
