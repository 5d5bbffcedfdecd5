"""Who can push, with takeover (issue 17): `access REGISTRY --can push --include-takeover` on a
`large:20000` tenant (owners, people, Entra roles, Graph permissions and federated credentials seeded
at the rates of `acr_console/sandbox/seed.py`) at 50 ms per request, against the longest chain of
requests that depend on each other."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .common import (
    SandboxProcess,
    Section,
    child_env,
    console_script,
    describe_requests,
    median_of,
    pages,
    ratio,
    seconds,
    timed_run,
)
from .who_can_push import PRINCIPALS, _registry_census, lower_bound
from .who_can_push import _console_in_process as wcp_in_process

LATENCY_MS = 50
LIST_TOP = 999  # owners and appRoleAssignedTo are listed with $top=999


# -- the bound ------------------------------------------------------------------------------------


def takeover_bound(sbx: SandboxProcess, pushers: list[dict[str, Any]], wcp_rounds: int) -> tuple[int, str]:
    """Round trips on the longest chain once the takeover reads are added to who can push.

    What each read needs before it can be sent:
    - a pushing service principal's owners, its application (by appId), that application's owners and
      federated credentials: only that principal's object id and appId, so one round trip after
      who can push has named it (the who-can-push bound) plus the further pages of the longest list;
    - the tenant's role definitions, each role's assignments (with their holders), and Microsoft
      Graph's appRoleAssignedTo: only the Graph token, so they can run beside ARM; then the members of
      the role-assignable groups that hold a role (one round: such groups contain no groups,
      groups-concept), after the page naming the group.
    The bound is the longest of these chains. Page counts are read from the sandbox's database with
    the page sizes the sandbox serves (its `page_size` setting, or $top where the reads ask for it)."""
    page_size = int(sbx.settings().get("page_size") or 100)
    with sbx.db() as db:
        owners = Counter(r["object_id"] for r in db.execute("SELECT object_id FROM directory_owners"))
        apps = {r["app_id"]: r["id"] for r in db.execute(
            "SELECT id, app_id FROM directory_objects WHERE type = 'application'")}
        per_role = Counter(r["role_definition_id"] for r in db.execute(
            "SELECT role_definition_id FROM directory_role_assignments"))
        holders = [r["principal_id"] for r in db.execute("SELECT principal_id FROM directory_role_assignments")]
        groups = {r["id"] for r in db.execute("SELECT id FROM directory_objects WHERE type = 'group'")}
        members = Counter(r["group_id"] for r in db.execute("SELECT group_id FROM group_members"))
        grants = int(db.execute("SELECT COUNT(*) FROM directory_grants").fetchone()[0])
    longest_owner_list = max([owners[p["objectId"].lower()] for p in pushers] +
                             [owners[apps[p["appId"]]] for p in pushers if p.get("appId") in apps] + [0])
    per_principal = pages(longest_owner_list, LIST_TOP)  # credentials: at most 20 per application, one page
    role_pages = max((pages(c, page_size) for c in per_role.values()), default=1)
    role_groups = [h for h in holders if h in groups]
    group_round = pages(max((members[g] for g in role_groups), default=0), LIST_TOP) if role_groups else 0
    tenant_chain = 1 + max(role_pages + group_round, pages(grants, LIST_TOP))
    total = max(wcp_rounds + per_principal, tenant_chain)
    how = (f"the longest of: who can push {wcp_rounds} + the pushing principals' owners, applications and "
           f"federated credentials {per_principal} (their longest owner list: {longest_owner_list}); token 1 + "
           f"role assignments {role_pages} page(s) + role-assignable groups' members {group_round} "
           f"(beside ARM) = {total} round trips")
    return total, how


def chain_length(log: list[dict[str, Any]]) -> int:
    """The longest run of requests each sent after the one before had been answered (from the sandbox
    log's arrival and response times): the round trips a read actually waited for one after another,
    whether for an answer it needed or for a free slot."""
    spans = sorted((r["time"] - r["duration_ms"] / 1000, r["time"]) for r in log)
    depth: list[int] = []
    for i, (start, _) in enumerate(spans):
        depth.append(1 + max((depth[j] for j in range(i) if spans[j][1] <= start + 0.001), default=0))
    return max(depth, default=0)


# -- the console, in this process (imports warm) ---------------------------------------------------


async def _console_in_process(conn_doc: dict[str, Any], name: str, split: list[float],
                              right: str | None = "push") -> tuple[int, Any]:
    """What `access NAME --can push --include-takeover --json` does, in this process (every entry's
    takeover with `right` None). Appends the wall-clock time who can push was known to `split`;
    returns the entries and the reads' count."""
    import dataclasses

    from acr_console.access import filter_entries, to_json_with_shared_takeover
    from acr_console.azure.authorization import RoleDefinitions
    from acr_console.azure.clients import AzureClients
    from acr_console.azure.connection import sandbox_connection
    from acr_console.azure.registry_access import find_registry, read_registry_access
    from acr_console.azure.takeover_reads import ReadCount, read_takeover_facts
    from acr_console.models import Right

    count = ReadCount()
    async with AzureClients(sandbox_connection(conn_doc)) as az:
        az.prefetch_graph()
        registry = await find_registry(az, name)
        access = await read_registry_access(az, registry, RoleDefinitions(az))
        split.append(time.time())
        if right is not None:
            access = dataclasses.replace(access, entries=filter_entries(access, Right(right)))
        access, facts = await read_takeover_facts(az, access, count)
        doc = to_json_with_shared_takeover(access, facts)
    return len(doc["entries"]), count


def run(workdir: Path, runs: int) -> Section:
    sec = Section(f"Who can push with takeover (`large:{PRINCIPALS}`, {LATENCY_MS} ms per request)")
    env = child_env(workdir)
    sbx = SandboxProcess(workdir / "large-takeover", env, seed=f"large:{PRINCIPALS}", latency_ms=LATENCY_MS)
    with sbx:
        reg = _registry_census(sbx)[0]
        name = reg["name_lower"]
        with sbx.db() as db:
            facts = {t: int(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in (
                "directory_owners", "directory_role_assignments", "directory_grants", "federated_credentials")}
            users = int(db.execute("SELECT COUNT(*) FROM directory_objects WHERE type = 'user'").fetchone()[0])
        sec.note(f"Tenant: {users:,} people, {facts['directory_owners']:,} owner links, "
                 f"{facts['directory_role_assignments']} Entra role assignments, {facts['directory_grants']} Graph "
                 f"application permissions held, {facts['federated_credentials']:,} federated credentials "
                 "(rates and their sources: `_large_takeover_facts` in acr_console/sandbox/seed.py).")

        # The command, as a person runs it.
        base = [*console_script(), "--sandbox-data", str(sbx.data_dir), "access", name, "--can", "push", "--json"]
        cmd = [*base, "--include-takeover"]
        seq0 = sbx.last_seq()
        _, proc = timed_run(cmd, env)
        doc = json.loads(proc.stdout)
        log = sbx.requests_since(seq0)
        pushers = [e["principal"] for e in doc["entries"]
                   if e["principal"].get("type") == "servicePrincipal" and e["principal"].get("objectId")]
        shared = sum(len(v) for v in doc.get("tenantWideTakeover", {}).values())
        own = sum(len(e.get("takeover") or []) for e in doc["entries"])
        fics = sum(len(e.get("federated") or []) for e in doc["entries"])
        wcp_rounds, wcp_how = lower_bound(sbx, reg)
        rounds, how = takeover_bound(sbx, pushers, wcp_rounds)
        bound = rounds * LATENCY_MS / 1000
        sec.note(f"Registry `{name}` (the seed's largest: {reg['principals']:,} principals with some right); "
                 f"{len(doc['entries'])} can push, {len(pushers)} of them service principals whose takeover is "
                 f"read; the answer holds {own} takeover paths of their own, {shared} tenant-wide ones said once, "
                 f"and {fics} federated credentials.")
        sec.note(f"Lower bound: {how} × {LATENCY_MS} ms. Who can push alone: {wcp_how}.")

        wall, samples = median_of(lambda: timed_run(cmd, env)[0], runs, warmup=0)
        plain, plain_samples = median_of(lambda: timed_run(base, env)[0], runs, warmup=0)
        sec.add("`access REGISTRY --can push --include-takeover --json`, process wall", seconds(wall),
                f"lower bound {seconds(bound)}", ratio(wall, bound))
        sec.add("the same without `--include-takeover`, process wall", seconds(plain),
                f"with takeover {seconds(wall)}", f"+{seconds(wall - plain)}")
        sec.note(f"Process wall samples with takeover: {', '.join(seconds(s) for s in samples)}; without: "
                 f"{', '.join(seconds(s) for s in plain_samples)}; one run took {len(log)} requests "
                 f"({describe_requests(log)}).")

        # The same reads in a warm interpreter: start-up excluded, a fresh session (token included).
        def once() -> tuple[float, list[dict[str, Any]], list[dict[str, Any]], Any]:
            s0 = sbx.last_seq()
            split: list[float] = []
            t0 = time.perf_counter()
            n, count = asyncio.run(_console_in_process(sbx.conn, name, split))
            elapsed = time.perf_counter() - t0
            assert n == len(doc["entries"]), (n, len(doc["entries"]))
            log = sbx.requests_since(s0)
            after = [r for r in log if r["time"] - r["duration_ms"] / 1000 >= split[0] - 0.001]
            return elapsed, log, after, count

        def wcp_once() -> float:
            t0 = time.perf_counter()
            asyncio.run(wcp_in_process(sbx.conn, name))
            return time.perf_counter() - t0

        # Interleaved with who can push alone, so both see the same state of a noisy host.
        once(), wcp_once()
        timings, alone = [], []
        for _ in range(runs):
            timings.append(once())
            alone.append(wcp_once())
        inproc = statistics.median(t for t, *_ in timings)
        wcp_bound = wcp_rounds * LATENCY_MS / 1000
        added = statistics.median(t - a for (t, *_), a in zip(timings, alone, strict=True))
        requests = Counter(len(log) for _, log, _, _ in timings).most_common(1)[0][0]
        waves = Counter(chain_length(after) for _, _, after, _ in timings).most_common(1)[0][0]
        takeover_wall = statistics.median(
            max(r["time"] for r in after) - min(r["time"] - r["duration_ms"] / 1000 for r in after)
            for _, _, after, _ in timings)
        count = timings[0][3]
        sec.add("who can push with takeover, in-process (warm interpreter, fresh session)", seconds(inproc),
                f"lower bound {seconds(bound)}", ratio(inproc, bound), "≤ 2x", inproc <= 2 * bound)
        sec.add("who can push alone, in-process (interleaved with the above)", seconds(statistics.median(alone)),
                f"lower bound {seconds(wcp_bound)}", ratio(statistics.median(alone), wcp_bound))
        sec.add("what the takeover reads add, in-process (median of paired differences)", seconds(added),
                f"bound adds {seconds(bound - wcp_bound)}")
        sec.add("who can push with takeover: requests", f"{requests}", f"{rounds} round trips on the longest chain")
        sec.add("takeover reads: requests (Graph `$batch` calls; inner requests)",
                f"{count.http_calls}; {count.requests}")
        sec.add("takeover reads: round trips one after another (sandbox log)", f"{waves}",
                f"bound adds {rounds - wcp_rounds}", "", "≤ 2", waves <= 2)
        sec.add("takeover reads: first request → last response (sandbox log)", seconds(takeover_wall),
                f"{waves} × {LATENCY_MS} ms = {seconds(waves * LATENCY_MS / 1000)}")
        # Every entry's takeover (`access REGISTRY --include-takeover`, what a view of all who have
        # access would read): once, for its size.
        s0, split = sbx.last_seq(), list[float]()
        t0 = time.perf_counter()
        n_all, all_count = asyncio.run(_console_in_process(sbx.conn, name, split, None))
        all_wall = time.perf_counter() - t0
        all_after = [r for r in sbx.requests_since(s0) if r["time"] - r["duration_ms"] / 1000 >= split[0] - 0.001]
        sec.add(f"every entry's takeover ({n_all:,} entries), in-process (1 run)", seconds(all_wall),
                f"{all_count.http_calls} `$batch` calls, {all_count.requests:,} inner requests",
                f"{chain_length(all_after)} round trips one after another")
        sbx.settings(latency_ms=0)
        once()
        zero = statistics.median(once()[0] for _ in range(runs))
        sbx.settings(latency_ms=LATENCY_MS)
        sec.add("who can push with takeover, in-process at 0 ms latency (CPU only)", seconds(zero))
        server = statistics.median(r["duration_ms"] - LATENCY_MS for _, _, after, _ in timings for r in after)
        sec.note(f"In-process samples: {', '.join(seconds(t) for t, *_ in timings)}. The takeover reads' round "
                 f"trips are counted from the sandbox log: the longest run of requests each sent after the one "
                 f"before was answered, among those sent after who can push was known ({count.waves} "
                 f"dependent round(s) by the reader's own count). The sandbox spends a median {server:.0f} ms per "
                 f"`$batch` beyond the injected latency (twenty inner requests, one event loop), which the bound "
                 f"does not count.")
    return sec
