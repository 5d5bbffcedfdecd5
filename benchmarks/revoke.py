"""Revoke: a principal with 50 role assignments over 50 registries and 6 credentials, at 50 ms per
request, against the longest chain of dependent requests and against a sequential script."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .common import (
    SandboxProcess,
    Section,
    child_env,
    console_script,
    describe_requests,
    pages,
    ratio,
    seconds,
    timed_run,
)

LATENCY_MS = 50
TENANT = "large:20000"
ASSIGNMENTS = 50
APP_PASSWORDS, SP_PASSWORDS = 3, 1  # plus one certificate on each: 6 credentials
RBAC_API = "2022-04-01"


class Setup:
    """Makes the principal to revoke through ARM and Graph directly (no latency while it runs)."""

    def __init__(self, sbx: SandboxProcess) -> None:
        self.sbx = sbx
        with sbx.db() as db:
            rows = db.execute(
                "SELECT json_extract(doc, '$.id') AS id FROM resources WHERE type = "
                "'microsoft.containerregistry/registries' AND json_extract(doc, '$.properties.roleAssignmentMode')"
                " = 'LegacyRegistryPermissions' ORDER BY seq").fetchall()
        # Spread over every resource group and subscription, like a CI identity grown over the years.
        regs = [r["id"] for r in rows]
        self.registries = regs[:: max(1, len(regs) // ASSIGNMENTS)][:ASSIGNMENTS]
        from acr_console.certificates import generate_self_signed
        from acr_console.roles import builtin_by_name

        self.push_guid = builtin_by_name("AcrPush").guid  # type: ignore[union-attr]
        end = datetime.now(UTC) + timedelta(days=365)
        self.certs = [generate_self_signed(f"bench-revoke-{n}", not_after=end).info for n in range(2)]

    async def make(self, name: str) -> dict[str, Any]:
        import httpx

        sbx = self.sbx
        arm, graph = sbx.token(), sbx.token("https://graph.microsoft.com/.default")
        g = f"{sbx.base}/graph/v1.0"
        async with httpx.AsyncClient(verify=sbx.ssl_context(), trust_env=False, timeout=60) as c:
            gh = {"Authorization": f"Bearer {graph}"}

            async def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
                r = await c.post(url, json=body, headers=gh)
                r.raise_for_status()
                return dict(r.json())

            app = await post(f"{g}/applications", {"displayName": name, "signInAudience": "AzureADMyOrg"})
            sp = await post(f"{g}/servicePrincipals", {"appId": app["appId"]})
            for n in range(APP_PASSWORDS):
                await post(f"{g}/applications/{app['id']}/addPassword",
                           {"passwordCredential": {"displayName": f"p{n}"}})
            for n in range(SP_PASSWORDS):
                await post(f"{g}/servicePrincipals/{sp['id']}/addPassword",
                           {"passwordCredential": {"displayName": f"s{n}"}})
            for segment, oid, cert in (("applications", app["id"], self.certs[0]),
                                       ("servicePrincipals", sp["id"], self.certs[1])):
                r = await c.patch(f"{g}/{segment}/{oid}", headers=gh, json={"keyCredentials": [{
                    "type": "AsymmetricX509Cert", "usage": "Verify", "key": cert.public_der_b64,
                    "displayName": cert.subject[:100]}]})
                r.raise_for_status()
            gate = asyncio.Semaphore(16)

            async def assign(reg_id: str) -> None:
                sub = reg_id.split("/")[2]
                body = {"properties": {
                    "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/"
                                        f"{self.push_guid}",
                    "principalId": sp["id"], "principalType": "ServicePrincipal"}}
                async with gate:
                    r = await c.put(f"{sbx.base}{reg_id}/providers/Microsoft.Authorization/roleAssignments/"
                                    f"{uuid.uuid4()}", params={"api-version": RBAC_API}, json=body,
                                    headers={"Authorization": f"Bearer {arm}"})
                    r.raise_for_status()

            await asyncio.gather(*(assign(r) for r in self.registries))
        return {"app": app, "sp": sp, "name": name}


def lower_bound(sbx: SandboxProcess, setup: Setup) -> tuple[int, str]:
    """Round trips on the longest chain, for a console that shows a plan before it writes.

    Plan (reads): token → subscriptions (pages) → registries (pages) → the principal's assignments,
    its groups' included (`assignedTo`, one list per subscription, in parallel) → their role
    definitions (1). Beside it: principal by name (1) → its application and its groups (1).
    Execution (writes): the assignment deletes all at once (1); the credentials one write at a time
    per directory object (Graph rejects concurrent writes to one object): each password removed
    (removePassword), all certificates cleared in one PATCH, sign-in disabled in one PATCH; then one
    read of both objects to check nothing is left (1)."""
    size = int(sbx.conn["page_size"])
    with sbx.db() as db:
        n_subs = db.execute("SELECT COUNT(*) FROM subscriptions").fetchone()[0]
        per_sub = [r[0] for r in db.execute(
            "SELECT COUNT(*) FROM resources WHERE type = 'microsoft.containerregistry/registries' "
            "GROUP BY subscription_id")]
    per_sub_assign: dict[str, int] = {}
    for reg in setup.registries:
        per_sub_assign[reg.split("/")[2]] = per_sub_assign.get(reg.split("/")[2], 0) + 1
    p_subs, p_regs = pages(n_subs, size), max(pages(n, size) for n in per_sub)
    p_assigned = max(pages(n, size) for n in per_sub_assign.values())
    plan = max(1 + p_subs + p_regs + p_assigned + 1, 1 + 1 + 1)
    app_chain = APP_PASSWORDS + 1
    sp_chain = SP_PASSWORDS + 1 + 1
    execute = max(1, app_chain, sp_chain) + 1
    total = plan + execute
    how = (f"plan: token 1 + subscriptions {p_subs} + registry pages {p_regs} + assignedTo pages {p_assigned} + "
           f"definitions 1 = {plan}; execution: max(deletes 1, application {app_chain} = {APP_PASSWORDS} "
           f"passwords + 1 certificate PATCH, service principal {sp_chain} = {SP_PASSWORDS} password + 1 certificate "
           f"PATCH + 1 disable) + final check 1 = {execute}; {total} round trips")
    return total, how


def sequential_revoke(sbx: SandboxProcess, made: dict[str, Any]) -> tuple[float, int]:
    """One request at a time, as a script of `az` commands would: find the principal and its
    application, list its assignments in each subscription, delete them one by one, remove each
    password, clear the certificates, disable sign-in."""
    import httpx

    count = 0
    t0 = time.perf_counter()
    base, g = sbx.base, f"{sbx.base}/graph/v1.0"
    with httpx.Client(verify=sbx.ssl_context(), trust_env=False, timeout=60) as c:
        def call(method: str, url: str, token: str, **kw: Any) -> Any:
            nonlocal count
            count += 1
            r = c.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kw)
            r.raise_for_status()
            return r.json() if r.content else None

        def token(scope: str) -> str:
            nonlocal count
            count += 1
            return sbx.token(scope, c)

        arm, graph = token("https://management.azure.com/.default"), token("https://graph.microsoft.com/.default")
        sp = call("GET", f"{g}/servicePrincipals", graph,
                  params={"$filter": f"displayName eq '{made['name']}'"})["value"][0]
        app = call("GET", f"{g}/applications(appId='{sp['appId']}')", graph)
        mine = []
        for sub in call("GET", f"{base}/subscriptions", arm, params={"api-version": "2022-12-01"})["value"]:
            url = f"{base}/subscriptions/{sub['subscriptionId']}/providers/Microsoft.Authorization/roleAssignments"
            doc = call("GET", url, arm, params={"$filter": f"assignedTo('{sp['id']}')", "api-version": RBAC_API})
            mine += doc["value"]
            while doc.get("nextLink"):
                doc = call("GET", doc["nextLink"], arm)
                mine += doc["value"]
        for a in mine:
            call("DELETE", f"{base}{a['id']}", arm, params={"api-version": RBAC_API})
        for segment, obj in (("applications", app), ("servicePrincipals", sp)):
            full = call("GET", f"{g}/{segment}/{obj['id']}", graph)
            for p in full.get("passwordCredentials") or []:
                call("POST", f"{g}/{segment}/{obj['id']}/removePassword", graph, json={"keyId": p["keyId"]})
            if full.get("keyCredentials"):
                call("PATCH", f"{g}/{segment}/{obj['id']}", graph, json={"keyCredentials": []})
        call("PATCH", f"{g}/servicePrincipals/{sp['id']}", graph, json={"accountEnabled": False})
    return time.perf_counter() - t0, count


async def _console_in_process(conn_doc: dict[str, Any], name: str, audit_path: Path) -> tuple[bool, int]:
    from acr_console.azure.clients import AzureClients
    from acr_console.azure.connection import sandbox_connection
    from acr_console.operations import Reads, RevokeRequest, prepare, run_plan
    from acr_console.operations.audit import AuditLog

    async with AzureClients(sandbox_connection(conn_doc)) as az:
        plan = await prepare(RevokeRequest(name, all_registries=True, remove_credentials=True, disable=True), Reads(az))
        outcome = await run_plan(az, plan, audit=AuditLog(audit_path))
    return outcome.ok, len(plan.steps)


def _chain(log: list[dict[str, Any]]) -> float:
    start = min(r["time"] - r["duration_ms"] / 1000 for r in log)
    return max(r["time"] for r in log) - start


def run(workdir: Path, runs: int) -> Section:
    sec = Section(f"Revoke ({ASSIGNMENTS} assignments over {ASSIGNMENTS} registries, 6 credentials, "
                  f"{LATENCY_MS} ms per request)")
    env = child_env(workdir)
    data = workdir / "large"
    sbx = SandboxProcess(data, env, seed=TENANT, latency_ms=0, log_path=workdir / "large-revoke.log")
    with sbx:
        setup = Setup(sbx)
        counter = iter(range(10_000))

        def fresh() -> dict[str, Any]:
            sbx.settings(latency_ms=0)
            made = asyncio.run(setup.make(f"bench-revoke-{next(counter):03d}"))
            sbx.settings(latency_ms=LATENCY_MS)
            return made

        rounds, how = lower_bound(sbx, setup)
        bound = rounds * LATENCY_MS / 1000
        sec.note(f"Lower bound: {how} × {LATENCY_MS} ms.")
        def cmd(name: str) -> list[str]:
            return [*console_script(), "--sandbox-data", str(sbx.data_dir), "revoke", name, "--all-registries",
                    "--remove-credentials", "--disable", "--yes", "--json"]

        def command() -> tuple[float, list[dict[str, Any]], dict[str, Any]]:
            made = fresh()
            seq = sbx.last_seq()
            wall, proc = timed_run(cmd(made["name"]), env)
            log = sbx.requests_since(seq)
            doc = json.loads(proc.stdout)
            assert doc["ok"], doc
            return wall, log, doc

        command()  # warm-up
        walls = [command() for _ in range(runs)]
        wall = statistics.median(w for w, _, _ in walls)
        _, log, doc = walls[0]
        sec.add("`revoke --all-registries --remove-credentials --disable --yes`, process wall", seconds(wall),
                f"lower bound {seconds(bound)}", ratio(wall, bound))
        sec.note(f"`revoke` process wall samples: {', '.join(seconds(w) for w, _, _ in walls)}; "
                 f"{len(doc['steps'])} steps, {len(log)} requests ({describe_requests(log)}).")

        def in_process() -> tuple[float, list[dict[str, Any]]]:
            made = fresh()
            seq = sbx.last_seq()
            t0 = time.perf_counter()
            ok, _ = asyncio.run(_console_in_process(sbx.conn, made["name"], workdir / "audit-inproc.jsonl"))
            elapsed = time.perf_counter() - t0
            assert ok
            return elapsed, sbx.requests_since(seq)

        in_process()
        samples = [in_process() for _ in range(runs)]
        inproc = statistics.median(t for t, _ in samples)
        requests = statistics.median(len(log) for _, log in samples)
        sec.add("revoke, in-process (warm interpreter, fresh session)", seconds(inproc),
                f"lower bound {seconds(bound)}", ratio(inproc, bound), "≤ 2x", inproc <= 2 * bound)
        sec.add("revoke: requests", f"{requests:.0f}", f"{rounds} round trips on the longest chain")

        def no_latency() -> float:
            made = fresh()
            sbx.settings(latency_ms=0)
            t0 = time.perf_counter()
            ok, _ = asyncio.run(_console_in_process(sbx.conn, made["name"], workdir / "audit-inproc.jsonl"))
            assert ok
            return time.perf_counter() - t0

        zero = statistics.median(no_latency() for _ in range(runs))
        sec.add("revoke, in-process at 0 ms latency (CPU only)", seconds(zero))
        sec.add(f"revoke: what {LATENCY_MS} ms latency adds (in-process − CPU only)", seconds(inproc - zero),
                f"lower bound {seconds(bound)}", ratio(inproc - zero, bound))
        chain = statistics.median(_chain(log) for _, log in samples)
        sec.note(f"In-process: {seconds(chain)} from the first request's arrival to the last response.")

        made = fresh()
        seq_wall, seq_requests = sequential_revoke(sbx, made)
        sec.add("sequential script (1 run)", seconds(seq_wall), f"{seq_requests} requests")
        sec.add("revoke (in-process) vs the sequential script", seconds(inproc), f"sequential {seconds(seq_wall)}",
                f"{ratio(inproc, seq_wall, inverse=True)} faster")
        sbx.settings(latency_ms=0)
    return sec
