"""Every write and the reads behind the access and principal views, under every fault Azure produces.

Each case aims one count-based fault at one step of a plan (the plan runs one step at a time, so
`graph.POST:500:n=1` armed while the step runs hits that step's request and nothing else), then
checks, against the sandbox's own state and request log rather than the console's report:
- the run ends complete, or every step has a final status and only the aimed step failed (the rest
  skipped because they depend on it, or done);
- what the report calls done is there; what it calls failed with a definite error is not;
- running the same plan again (what "retry the rest" does) completes it, and so does running the
  command again (a new plan), with nothing done twice;
- no credential exists that was not reported, and no application that was not reported.

Faults that the SDKs and the console ride out (429 with Retry-After, 503, ARM's 500/drop/timeout,
Graph reads) must not fail anything; faults on Graph writes (500, a dropped connection, a timeout
after which the write still lands) must fail exactly that step. The operations run concurrently,
each on a sandbox of its own, so the suite waits for Retry-After and timeouts only once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import multiprocessing
import os
import stat
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from acr_console.azure import writes_graph
from acr_console.azure.authorization import RoleDefinitions, assignments_of
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.errors import AzureCallError
from acr_console.azure.graph import graph_pages
from acr_console.azure.principals import read_principal_detail
from acr_console.azure.registries import list_subscriptions
from acr_console.azure.registry_access import find_registry, read_registry_access
from acr_console.main import main
from acr_console.models import CredentialOwner, Right
from acr_console.operations import (
    AddCertificateRequest,
    AssignRequest,
    AuditLog,
    CreatePrincipalRequest,
    Outcome,
    Plan,
    ResetCredentialRequest,
    RevokeRequest,
    StepStatus,
    create_result,
    prepare,
    run_plan,
)
from acr_console.operations.executor import DEFAULT_CONCURRENCY
from acr_console.operations.validation import InputError
from acr_console.sandbox.server import SandboxServer
from tests.support.handover import reads_for

from ..support.once import OncePerRun
from ..support.sandbox import running_sandbox
from .conftest import MATRIX_RUN, MATRIX_TIMEOUT_S, TokenClock, fault_notes, record, unique, wait_for_log

REGISTRY = "contosoprod"
OTHER_REGISTRY = "contosobase"
# Short enough that a timeout case costs about two seconds, long enough that a loaded CI machine
# never times out an ordinary request (they take milliseconds on loopback).
CLIENT_TIMEOUT_S = 1.0
SERVER_DELAY_S = 1.5
MAX_RERUNS = 5

# How a fault kind is written for a step whose request is `plane.METHOD`.
KINDS: dict[str, str] = {
    "429": "{target}:429:n=1:retry_after=1",
    "500": "{target}:500:n=1",
    "503": "{target}:503:n=1:retry_after=1",
    "drop": "{target}:drop:n=1",
    "timeout": f"{{target}}:timeout:n=1:timeout={SERVER_DELAY_S}",
    # Breadth: every kind at once at random (seeded, so a failure can be replayed), on every run.
    "mixed": "graph:500:0.1,any:drop:0.05,any:429:0.05:retry_after=1,any:503:0.05:retry_after=1,seed={target}",
}


@dataclass
class Subject:
    """What a case acts on, set up without faults."""

    name: str
    app_id: str | None = None
    sp_id: str | None = None
    app_object_id: str | None = None
    known_passwords: set[str] = field(default_factory=set)
    out: Path | None = None


@dataclass
class Case:
    op: str
    step: str | None  # the step id, or a prefix of it; None: the whole run (reads, token expiry)
    kind: str
    target: str  # plane.METHOD the fault is aimed at, or a special kind
    # Steps the executor runs at once: 1 aims a fault at exactly one step; the product's own
    # DEFAULT_CONCURRENCY runs independent steps side by side, so a fault armed while the aimed step
    # runs may land on a step running beside it.
    concurrency: int = 1


@dataclass
class CaseResult:
    case: Case
    faults: list[str]
    reruns: int
    first: str
    problems: list[str]
    seconds: float = 0.0
    seconds_total: float = 0.0  # the whole matrix's, on the first case of each stream
    beside: int = 0  # steps that ran while the fault aimed at another step was armed
    widest: int = 0  # the most steps running at once in the first run


@dataclass
class Operation:
    name: str
    setup: Callable[[AzureClients, Path], Awaitable[Subject]]
    plan: Callable[[AzureClients, Subject], Awaitable[Plan]]
    verify: Callable[[AzureClients, Subject, list[Outcome]], Awaitable[list[str]]]


# -- state read back from the sandbox ---------------------------------------------------------


async def _app(az: AzureClients, subject: Subject) -> dict[str, Any] | None:
    apps = await writes_graph.applications_named(az, subject.name)
    return apps[0] if apps else None


async def _sps(az: AzureClients, app_id: str) -> list[dict[str, Any]]:
    return await graph_pages(az, "servicePrincipals", {"$filter": f"appId eq '{app_id}'"})


async def _assignments(az: AzureClients, sp_id: str) -> list[Any]:
    found = []
    for sub in await list_subscriptions(az):
        found += await assignments_of(az, sub.id, sp_id)
    return [a for a in found if a.principal_id == sp_id.lower()]


def _reported(outcomes: list[Outcome], key: str) -> set[str]:
    """Every value of step detail `key` any run reported, comma lists split."""
    values: set[str] = set()
    for o in outcomes:
        for r in o.results.values():
            v = r.details.get(key)
            if isinstance(v, str) and v:
                values.update(x.strip().lower() for x in v.split(","))
    return values


# -- the operations -----------------------------------------------------------------------------


async def _base_principal(az: AzureClients, tmp: Path, *, extra_registry: bool = False) -> Subject:
    name = unique("base")
    outcome = await run_plan(az, await prepare(CreatePrincipalRequest(name, REGISTRY, "AcrPush"), reads_for(az)),
                             audit=AuditLog(tmp / "setup.jsonl"))
    assert outcome.ok, outcome.to_json()
    doc = create_result(outcome.plan)
    if extra_registry:
        assert (await run_plan(az, await prepare(AssignRequest(doc["appId"], OTHER_REGISTRY, "AcrPull"), reads_for(az)),
                               audit=AuditLog(tmp / "setup.jsonl"))).ok
    return Subject(name, doc["appId"], doc["servicePrincipalObjectId"], doc["applicationObjectId"],
                   known_passwords={str(doc["passwordKeyId"]).lower()})


async def setup_create(az: AzureClients, tmp: Path) -> Subject:
    return Subject(unique("create"))


async def plan_create(az: AzureClients, s: Subject) -> Plan:
    return await prepare(CreatePrincipalRequest(s.name, REGISTRY, "AcrPush"), reads_for(az))


async def verify_create(az: AzureClients, s: Subject, outcomes: list[Outcome]) -> list[str]:
    problems = []
    apps = await writes_graph.applications_named(az, s.name)
    if len(apps) != 1:
        return [f"{len(apps)} applications named {s.name}"]
    app = apps[0]
    if app["appId"].lower() not in _reported(outcomes, "appId"):
        problems.append(f"application {app['appId']} never reported")
    sps = await _sps(az, app["appId"])
    if len(sps) != 1:
        problems.append(f"{len(sps)} service principals")
    keys = {p["keyId"].lower() for p in app.get("passwordCredentials") or []}
    if keys != {str(outcomes[-1].plan.context.values.get("passwordKeyId")).lower()}:
        problems.append(f"passwords on the application {keys} are not exactly the one reported")
    if sps:
        assignments = await _assignments(az, sps[0]["id"])
        if len(assignments) != 1:
            problems.append(f"{len(assignments)} role assignments")
    return problems


async def setup_reset(az: AzureClients, tmp: Path) -> Subject:
    """A principal with three passwords, so that --replace removes three: side by side when the
    executor runs steps concurrently."""
    s = await _base_principal(az, tmp)
    for _ in range(2):
        outcome = await run_plan(az, await prepare(ResetCredentialRequest(str(s.app_id)), reads_for(az)),
                                 audit=AuditLog(tmp / "setup.jsonl"))
        assert outcome.ok, outcome.to_json()
        s.known_passwords.add(str(outcome.plan.context.values["keyId"]).lower())
    return s


async def plan_reset(az: AzureClients, s: Subject) -> Plan:
    return await prepare(ResetCredentialRequest(str(s.app_id), replace=True), reads_for(az))


async def verify_reset(az: AzureClients, s: Subject, outcomes: list[Outcome]) -> list[str]:
    app = await writes_graph.get_application(az, str(s.app_object_id))
    keys = {p["keyId"].lower() for p in (app or {}).get("passwordCredentials") or []}
    wanted = {str(outcomes[-1].plan.context.values.get("keyId")).lower()}
    return [] if keys == wanted else [f"passwords {keys}, expected only the new one {wanted}"]


async def setup_certificate(az: AzureClients, tmp: Path) -> Subject:
    s = await _base_principal(az, tmp)
    s.out = tmp / f"{s.name}.pem"
    return s


async def plan_certificate(az: AzureClients, s: Subject) -> Plan:
    return await prepare(AddCertificateRequest(str(s.app_id), generate=True, out=str(s.out)), reads_for(az))


async def verify_certificate(az: AzureClients, s: Subject, outcomes: list[Outcome]) -> list[str]:
    problems = []
    keys = await writes_graph.key_credentials_of(az, CredentialOwner.APPLICATION, str(s.app_object_id))
    thumb = outcomes[-1].plan.context.values["certificate"]["thumbprint"]
    mine = [k for k in keys if _thumbprint(k) == thumb]
    if len(mine) != 1:
        problems.append(f"{len(mine)} copies of certificate {thumb}")
    assert s.out is not None
    if not s.out.exists() or stat.S_IMODE(os.stat(s.out).st_mode) != 0o600:
        problems.append("the key file is missing or not 0600")
    return problems


def _thumbprint(key: dict[str, Any]) -> str:
    import base64

    return base64.b64decode(key.get("customKeyIdentifier") or "").hex().upper()


async def setup_assign(az: AzureClients, tmp: Path) -> Subject:
    return await _base_principal(az, tmp)


async def plan_assign_op(az: AzureClients, s: Subject) -> Plan:
    return await prepare(AssignRequest(str(s.app_id), OTHER_REGISTRY, "AcrPull"), reads_for(az))


async def verify_assign(az: AzureClients, s: Subject, outcomes: list[Outcome]) -> list[str]:
    other = await find_registry(az, OTHER_REGISTRY)
    mine = [a for a in await _assignments(az, str(s.sp_id)) if a.scope.lower() == other.id.lower()]
    return [] if len(mine) == 1 else [f"{len(mine)} assignments on {OTHER_REGISTRY}"]


async def setup_revoke(az: AzureClients, tmp: Path) -> Subject:
    return await _base_principal(az, tmp, extra_registry=True)


async def plan_revoke_op(az: AzureClients, s: Subject) -> Plan:
    return await prepare(RevokeRequest(str(s.app_id), all_registries=True, remove_credentials=True,
                                       disable=True), reads_for(az))


async def verify_revoke(az: AzureClients, s: Subject, outcomes: list[Outcome]) -> list[str]:
    problems = []
    left = await _assignments(az, str(s.sp_id))
    if left:
        problems.append(f"{len(left)} assignments left")
    sp = await writes_graph.get_service_principal(az, str(s.sp_id))
    if not sp or sp.get("accountEnabled") is not False:
        problems.append("sign-in still enabled")
    app = await writes_graph.get_application(az, str(s.app_object_id))
    creds = [*(app or {}).get("passwordCredentials", []), *(sp or {}).get("passwordCredentials", [])]
    if creds:
        problems.append(f"{len(creds)} credentials left")
    return problems


OPERATIONS = {op.name: op for op in (
    Operation("create-principal", setup_create, plan_create, verify_create),
    Operation("reset-credential", setup_reset, plan_reset, verify_reset),
    Operation("add-certificate", setup_certificate, plan_certificate, verify_certificate),
    Operation("assign", setup_assign, plan_assign_op, verify_assign),
    Operation("revoke", setup_revoke, plan_revoke_op, verify_revoke),
)}


# Each operation meets every fault kind, and every step whose write Graph does not retry meets the
# faults that fail it (500, a dropped connection, a timeout after which the write still lands).
# ARM's writes and every read are retried by the same mechanism whatever the step, so one case of
# each stands for the others; a fault aimed at "plan" hits the reads the plan is made from.
MATRIX: dict[str, list[tuple[str | None, str, str]]] = {
    "create-principal": [
        ("application", "500", "graph.POST"), ("application", "timeout", "graph.POST"),
        ("service-principal", "500", "graph.POST"), ("service-principal", "drop", "graph.POST"),
        ("password", "500", "graph.POST"), ("password", "timeout", "graph.POST"),
        ("role", "drop", "arm.PUT"), ("role", "500", "arm.PUT"),
        ("application", "503", "graph.POST"), ("application", "429", "graph.POST"), ("role", "429", "arm.PUT"),
        ("plan", "drop", "graph.GET"), ("application", "token-expiry", "-"), (None, "replication", "-"),
    ],
    "reset-credential": [
        ("add-password", "500", "graph.POST"), ("add-password", "drop", "graph.POST"),
        ("add-password", "timeout", "graph.POST"), ("remove-", "500", "graph.POST"),
        ("remove-", "timeout", "graph.POST"), ("add-password", "503", "graph.POST"),
        ("add-password", "429", "graph.POST"), ("plan", "timeout", "graph.GET"), ("add-password", "token-expiry", "-"),
    ],
    "add-certificate": [
        ("add-certificate", "500", "graph.PATCH"), ("add-certificate", "drop", "graph.PATCH"),
        ("add-certificate", "timeout", "graph.PATCH"), ("add-certificate", "503", "graph.PATCH"),
        ("add-certificate", "429", "graph.PATCH"), ("add-certificate", "drop", "graph.GET"),
        ("add-certificate", "token-expiry", "-"),
    ],
    "assign": [
        ("assign", "500", "arm.PUT"), ("assign", "drop", "arm.PUT"), ("assign", "timeout", "arm.PUT"),
        ("assign", "503", "arm.PUT"), ("assign", "429", "arm.PUT"), ("plan", "429", "graph"),
        ("plan", "drop", "arm.GET"), ("plan", "timeout", "arm.GET"), ("assign", "token-expiry", "-"),
        (None, "replication", "-"),
    ],
    "revoke": [
        ("assignment-0", "500", "arm.DELETE"), ("assignment-0", "drop", "arm.DELETE"),
        ("disable", "500", "graph.PATCH"), ("disable", "drop", "graph.PATCH"), ("disable", "timeout", "graph.PATCH"),
        ("remove-", "500", "graph.POST"), ("remove-", "timeout", "graph.POST"),
        ("sweep-credentials", "drop", "graph.GET"), ("assignment-0", "503", "arm.DELETE"),
        ("disable", "429", "graph.PATCH"), ("assignment-0", "429", "arm.DELETE"), ("plan", "drop", "graph.GET"),
        ("assignment-0", "token-expiry", "-"),
    ],
}


MIXED_SEEDS = (1, 2)


def cases_for(op: Operation, concurrency: int = 1) -> list[Case]:
    cases = [Case(op.name, step, kind, target, concurrency) for step, kind, target in MATRIX[op.name]]
    return cases + [Case(op.name, None, "mixed", str(seed), concurrency) for seed in MIXED_SEEDS]


# The streams of the matrix: every operation one step at a time, and again with the executor's real
# concurrency (what the product runs) each operation whose plan has steps that run side by side:
# create-principal (its service principal and its password) and revoke (role assignments, credential
# removals and disabling sign-in at once). The others would only repeat their serial cases: assign
# and add-certificate are one write each, and reset-credential's removals are steps on one object,
# which the executor runs one after another (their `lock`). The views read on their own.
CONCURRENT = f" (concurrency {DEFAULT_CONCURRENCY})"
STREAMS: dict[str, tuple[str, int]] = {
    **{name: (name, 1) for name in OPERATIONS},
    **{name + CONCURRENT: (name, DEFAULT_CONCURRENCY) for name in ("create-principal", "revoke")},
}


# -- running a case -----------------------------------------------------------------------------


def _step_id(plan: Plan, prefix: str | None) -> str | None:
    if prefix in (None, "plan"):
        return None
    return next(s.id for s in plan.steps if s.id == prefix or s.id.startswith(prefix))


def _report_problems(outcome: Outcome, aimed: str | None, *, anywhere: bool = False,
                     beside: set[str] | None = None) -> list[str]:
    """The per-step report must be exact: a final status for every step, an error with a code and a
    message for each failure, a reason for each skip, and a failure only where the fault was aimed
    (or, run concurrently, on a step that ran beside the aimed one: `beside`), one at most."""
    problems = []
    failed = [sid for sid, r in outcome.results.items() if r.status is StepStatus.FAILED]
    for sid, r in outcome.results.items():
        if not r.status.final:
            problems.append(f"{sid} ended {r.status.value}")
        if r.status is StepStatus.FAILED:
            if not (r.error and r.error.code and r.error.message):
                problems.append(f"{sid} failed without an error")
            if sid != aimed and not anywhere and sid not in (beside or set()):
                problems.append(f"{sid} failed ({r.error}) but the fault was aimed at {aimed}")
    if not anywhere and len(failed) > 1:
        problems.append(f"one fault failed {len(failed)} steps: {failed}")
        if r.status is StepStatus.SKIPPED and not (r.note and "did not succeed" in r.note):
            problems.append(f"{sid} skipped without a failed dependency: {r.note}")
    return problems


async def _claims_hold(az: AzureClients, op: str, subject: Subject, outcome: Outcome) -> list[str]:
    """What the faulted run reports as done is there, read back from the sandbox."""
    problems = []
    ctx = outcome.plan.context.values
    for sid, r in outcome.results.items():
        if not r.ok:
            continue
        if op == "create-principal" and sid == "application" and not await _app(az, subject):
            problems.append("reported the application, which does not exist")
        if sid in ("password", "add-password"):
            owner = ctx.get("app", {}).get("id") if op == "create-principal" else subject.app_object_id
            app = await writes_graph.get_application(az, str(owner))
            key = r.details.get("keyId")
            if key not in {p["keyId"] for p in (app or {}).get("passwordCredentials") or []}:
                problems.append(f"reported password {key}, which does not exist")
    return problems


async def _unreported_passwords(az: AzureClients, op: str, subject: Subject, outcomes: list[Outcome]) -> list[str]:
    """Passwords on the principal that it did not have before and no run reported: by key id, as
    removed after its answer was lost, or (for an attempt whose outcome is unknown) by the display
    name and end time its error names."""
    app = await (_app(az, subject) if op == "create-principal"
                 else writes_graph.get_application(az, str(subject.app_object_id)))
    if app is None:
        return []
    reported = _reported(outcomes, "keyId") | _reported(outcomes, "removedUnansweredKeyIds") | subject.known_passwords
    for o in outcomes:
        reported |= {str(o.plan.context.values[k]).lower() for k in ("passwordKeyId", "keyId")
                     if o.plan.context.values.get(k)}
    errors = " ".join(r.error.message for o in outcomes for r in o.results.values() if r.error)
    return [f"password {p['keyId']} exists but was never reported" for p in app.get("passwordCredentials") or []
            if p["keyId"].lower() not in reported
            and not (p.get("displayName") and str(p.get("endDateTime"))[:19] in errors)]


def _done_twice(rows: list[dict[str, Any]]) -> list[str]:
    """Effects that must happen at most once, from the sandbox's request log."""
    problems = []
    for what, suffix in (("applications", "/v1.0/applications"), ("service principals", "/v1.0/servicePrincipals")):
        n = sum(1 for r in rows if r["method"] == "POST" and r["path"].endswith(suffix) and r["status"] == 201)
        if n > 1:
            problems.append(f"{n} {what} created")
    deletes: dict[str, int] = {}
    for r in rows:
        # 200 is "deleted"; 204 is "there was nothing to delete".
        if r["method"] == "DELETE" and "roleAssignments" in r["path"] and r["status"] == 200:
            deletes[r["path"]] = deletes.get(r["path"], 0) + 1
    problems += [f"{p} deleted {n} times" for p, n in deletes.items() if n > 1]
    return problems


def _connection(server: SandboxServer) -> Any:
    assert server.connection is not None
    return dataclasses.replace(sandbox_connection(server.connection), timeout_s=CLIENT_TIMEOUT_S)


def _progress(sb: Any, step_id: str | None, spec: str | None, clock: TokenClock,
              beside: set[str], widest: list[int]) -> Callable[[Any, Any], None]:
    """Arms `spec` while step `step_id` runs and disarms it when that step ends; for a token expiry
    (no spec), expires every token issued so far as that step starts. Collects in `beside` the steps
    running while the fault was armed (with concurrency above 1 the fault may land on one of them),
    and in `widest` the most steps seen running at once."""
    running: set[str] = set()
    armed = False

    def on_progress(step: Any, result: Any) -> None:
        nonlocal armed
        if result.status is StepStatus.RUNNING:
            running.add(step.id)
            widest[0] = max(widest[0], len(running))
            if armed:
                beside.add(step.id)
        elif result.status.final:
            running.discard(step.id)
        if step.id != step_id:
            return
        if result.status is StepStatus.RUNNING:
            armed = True
            beside.update(running - {step_id})
            if spec is None:
                clock.expire_all()
            else:
                sb.settings.faults = spec
        elif result.status.final:
            armed = False
            sb.settings.faults = []

    return on_progress


async def run_case(server: SandboxServer, op: Operation, case: Case, tmp: Path,
                   check_az: AzureClients) -> CaseResult:
    """One case; `check_az` (no faults reach it) sets up and reads the state back."""
    assert server.sandbox is not None
    sb = server.sandbox
    audit = AuditLog(tmp / "audit.jsonl")
    spec = KINDS[case.kind].format(target=case.target) if case.kind in KINDS else None
    problems: list[str] = []
    set_up_at = time.time()
    subject = await op.setup(check_az, tmp)
    seq = sb.store.last_request_seq()
    if case.kind == "replication":
        # The principal stays "not replicated" for 1.5 s from now: the delay counts from its creation
        # (in setup), which on a loaded machine can already be more than 1.5 s ago.
        sb.settings.replication_delay_s = time.time() - set_up_at + 1.5
    with TokenClock(server) as clock:
        async with AzureClients(_connection(server)) as az:
            if case.step == "plan":
                sb.settings.faults = spec or []
            try:
                plan = await op.plan(az, subject)
            finally:
                sb.settings.faults = []
            aimed = _step_id(plan, case.step)
            beside: set[str] = set()
            widest = [0]
            progress = _progress(sb, aimed, spec, clock, beside, widest) if aimed else None
            if case.step is None and spec:
                sb.settings.faults = spec
            try:
                first = await run_plan(az, plan, progress, audit=audit, concurrency=case.concurrency)
            finally:
                sb.settings.faults = []
                sb.settings.replication_delay_s = 0
            if case.kind == "timeout":
                # The request the client gave up on lands (and is logged) when the sandbox ends it.
                await wait_for_log(server, seq, lambda rows: any("timeout" in (r["note"] or "") for r in rows))
            problems += _report_problems(first, aimed, anywhere=case.kind == "mixed", beside=beside)
            if case.kind in ("429", "503", "token-expiry", "replication") and not first.ok:
                problems.append(f"{case.kind} must be ridden out, yet: {first.summary()}")
            problems += await _claims_hold(check_az, op.name, subject, first)
            problems += await _unreported_passwords(check_az, op.name, subject, [first])
            outcomes = [first]
            while not outcomes[-1].ok and len(outcomes) <= MAX_RERUNS:
                # The same plan again: what the console's "retry the rest" does. Random faults keep
                # falling on the re-runs too.
                # A new seed each run: the same seed would fail the same request of every run.
                sb.settings.faults = spec.replace("seed=", f"seed={len(outcomes)}0") if case.kind == "mixed" else []
                try:
                    outcomes.append(await run_plan(az, plan, audit=audit, concurrency=case.concurrency))
                finally:
                    sb.settings.faults = []
            if not outcomes[-1].ok:
                problems.append(f"not complete after {len(outcomes) - 1} re-runs: {outcomes[-1].summary()}")
            problems += await op.verify(check_az, subject, outcomes)
            problems += await _unreported_passwords(check_az, op.name, subject, outcomes)
            problems += _done_twice(sb.store.request_log(seq))
            if len(outcomes) > 1 or case.kind == "timeout":  # after a partial run: what was interrupted
                problems += await _command_again(az, op, subject, outcomes, audit, case.concurrency)
    faults = injected(server, seq)
    if not faults and case.kind != "mixed":
        problems.append("no fault was injected")
    return CaseResult(case, faults, len(outcomes) - 1, first.summary(), problems, beside=len(beside),
                      widest=widest[0])


def injected(server: SandboxServer, since: int) -> list[str]:
    """Faults the sandbox injected, from its request log: the fault rules' own entries, tokens it
    refused as expired, and role assignments refused while the principal was not yet replicated."""
    assert server.sandbox is not None
    rows = server.sandbox.store.request_log(since)
    notes = fault_notes(server, since)
    notes += ["token refused" for r in rows if r["status"] == 401]
    notes += ["not replicated" for r in rows if r["method"] == "PUT" and "roleAssignments" in r["path"]
              and r["status"] == 400]
    return notes


async def _command_again(az: AzureClients, op: Operation, subject: Subject, outcomes: list[Outcome],
                         audit: AuditLog, concurrency: int) -> list[str]:
    """The command run again once complete (a new plan, as the CLI makes): assign and revoke change
    nothing; create refuses the taken name and names the application. Reset and add-certificate add
    a new credential by design, so they are not run again."""
    if op.name == "create-principal":
        try:
            await op.plan(az, subject)
        except InputError as err:
            app_id = str(outcomes[-1].plan.context.values["app"]["appId"])
            return [] if app_id in str(err) else [f"the refusal does not name the application: {err}"]
        return ["creating the same name again was not refused"]
    if op.name in ("assign", "revoke"):
        again = await run_plan(az, await op.plan(az, subject), audit=audit, concurrency=concurrency)
        if not again.ok or again.changed_anything:
            return [f"running the command again: {again.summary()}"]
    return []


# -- the reads behind the access and principal views -------------------------------------------

SEEDED_PRINCIPAL = "github-actions-payments"


async def read_access(az: AzureClients) -> Any:
    registry = await find_registry(az, REGISTRY)
    access = await read_registry_access(az, registry, RoleDefinitions(az))
    return sorted((e.principal.display_name, e.can(Right.PULL), e.can(Right.PUSH), len(e.paths))
                  for e in access.entries)


async def read_principal(az: AzureClients) -> Any:
    d = await read_principal_detail(az, SEEDED_PRINCIPAL, RoleDefinitions(az))
    return (d.principal.app_id, sorted(c.key_id for c in d.credentials), sorted(a.id for a in d.assignments),
            sorted(g.object_id for g in d.groups))


VIEWS: dict[str, Callable[[AzureClients], Awaitable[Any]]] = {"access": read_access, "principal": read_principal}


def read_cases(view: str) -> list[Case]:
    cases = [Case(view, None, kind, plane) for plane in ("graph", "arm") for kind in ("429", "500", "503", "drop")]
    # The access view reads Graph through POSTs that only read (getByIds, $batch of GETs).
    graph_read = "graph.POST" if view == "access" else "graph.GET"
    cases += [Case(view, None, "timeout", target) for target in (graph_read, "arm.GET")]
    cases.append(Case(view, None, "token-expiry", "-"))
    return cases


async def run_read_case(server: SandboxServer, view: str, case: Case, baseline: Any) -> CaseResult:
    """A read under one fault ends with the data, identical to a read without faults, or with an
    AzureCallError that says what failed; reading again then succeeds."""
    assert server.sandbox is not None
    sb = server.sandbox
    problems: list[str] = []
    seq = sb.store.last_request_seq()
    outcome = "complete"
    reruns = 0
    try:
        with TokenClock(server) as clock:
            async with AzureClients(_connection(server)) as az:
                if case.kind == "token-expiry":
                    await az.credential.get_token(az.connection.cloud.arm_scope)
                    await az.credential.get_token(az.connection.cloud.graph_scope, enable_cae=True)
                    clock.expire_all()
                else:
                    sb.settings.faults = KINDS[case.kind].format(target=case.target)
                try:
                    data = await VIEWS[view](az)
                except AzureCallError as err:
                    outcome = f"{err.code}: {err.message}"
                    if not (err.code and err.message):
                        problems.append(f"an error without a code or message: {err!r}")
                    sb.settings.faults = []
                    reruns = 1
                    data = await VIEWS[view](az)
                finally:
                    sb.settings.faults = []
                if data != baseline:
                    problems.append("the data read under the fault differs from the data read without faults")
    except Exception as exc:  # anything but an AzureCallError is a crash in a view
        problems.append(f"{type(exc).__name__}: {exc}")
    if case.kind == "timeout":
        await wait_for_log(server, seq, lambda rows: any("timeout" in (r["note"] or "") for r in rows))
    faults = injected(server, seq)
    if not faults:
        problems.append("no fault was injected")
    return CaseResult(case, faults, reruns, outcome, problems)


# -- the tests ----------------------------------------------------------------------------------


def run_streams(names: list[str], folder: str) -> dict[str, list[dict[str, Any]]]:
    """Run the cases of these operations and views, at once, each on a sandbox of its own. A plain
    function of plain arguments with a JSON result, so another process can run it and hand the
    result to every process of the test run (see `start_matrix`)."""
    root = Path(folder)

    async def one(server: SandboxServer, stream: str) -> list[CaseResult]:
        results = []
        name, concurrency = STREAMS[stream]
        async with AzureClients(_connection(server)) as check_az:
            for n, case in enumerate(cases_for(OPERATIONS[name], concurrency)):
                tmp = root / f"{name}-{concurrency}-{n}"
                tmp.mkdir()
                started = time.monotonic()
                results.append(await run_case(server, OPERATIONS[name], case, tmp, check_az))
                results[-1].seconds = time.monotonic() - started
        return results

    async def reads(server: SandboxServer, view: str) -> list[CaseResult]:
        async with AzureClients(_connection(server)) as az:
            baseline = await VIEWS[view](az)
        results = []
        for case in read_cases(view):
            started = time.monotonic()
            results.append(await run_read_case(server, view, case, baseline))
            results[-1].seconds = time.monotonic() - started
        return results

    async def everything(servers: dict[str, SandboxServer]) -> dict[str, list[CaseResult]]:
        done = await asyncio.gather(*(one(servers[name], name) if name in STREAMS else reads(servers[name], name)
                                      for name in names))
        return dict(zip(names, done, strict=True))

    with contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(running_sandbox(root / f"sandbox-{n}")) for n, name in enumerate(names)}
        started = time.monotonic()
        results = asyncio.run(everything(servers))
        for name in names:  # seen by the process that records the figures
            results[name][0].seconds_total = time.monotonic() - started
    return {name: [dataclasses.asdict(r) for r in rs] for name, rs in results.items()}


def _decoded(results: dict[str, list[dict[str, Any]]]) -> dict[str, list[CaseResult]]:
    return {name: [CaseResult(**{**r, "case": Case(**r["case"])}) for r in rows] for name, rows in results.items()}


def start_matrix(config: pytest.Config) -> OncePerRun:
    """The whole matrix, once per test run however many xdist workers check it, in a process of its
    own (spawned: it inherits only the environment). It is the clients' and the sandboxes' Python at
    work, so on a second core it runs beside the rest of the suite; conftest starts it as soon as
    the tests are collected, and the first process of the run to do so is the one that runs it."""

    def work() -> concurrent.futures.Future[dict[str, list[dict[str, Any]]]]:
        folder = config._tmp_path_factory.mktemp("faults")  # type: ignore[attr-defined]
        pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        future = pool.submit(run_streams, [*STREAMS, *VIEWS], str(folder))
        pool.shutdown(wait=False)
        return future

    once = OncePerRun(config, "fault-matrix")
    once.start(work)
    return once


@pytest.fixture(scope="module")
def matrix(request: pytest.FixtureRequest) -> dict[str, list[CaseResult]]:
    started = time.monotonic()
    once = request.config.stash.get(MATRIX_RUN, None) or start_matrix(request.config)
    results = _decoded(once.result(MATRIX_TIMEOUT_S))
    record("fault matrix", "seconds waited for it after the other tests", round(time.monotonic() - started, 1))
    return results


@pytest.mark.parametrize("op", [*STREAMS, *VIEWS])
def test_operation_under_every_fault(matrix: dict[str, list[CaseResult]], op: str) -> None:
    results = matrix[op]
    failures = [f"{r.case.kind} at {r.case.step or 'every request'} ({r.case.target}): {p}"
                for r in results for p in r.problems]
    for r in results:
        print(f"{r.seconds:5.2f}s {r.case.kind:>12} at {r.case.step or '-':<18} {r.case.target:<12} "
              f"faults={len(r.faults)} reruns={r.reruns} beside={r.beside} widest={r.widest} {r.first}")
    assert not failures, "\n".join(failures)
    record("fault matrix", "seconds (in its own process)", round(results[0].seconds_total, 1))
    aimed = [r for r in results if r.case.kind != "mixed"]
    mixed = [r for r in results if r.case.kind == "mixed"]
    record("faults injected per operation", op, sum(len(r.faults) for r in results))
    record("cases per operation", op, len(results))
    if op.endswith(CONCURRENT):
        # The concurrency is real: in some case the aimed step ran beside others.
        widest = max(r.widest for r in results)
        assert widest > 1, f"{op}: no two steps ever ran at once"
        record("most steps running at once (concurrent streams)", op, widest)
    record("re-runs needed after an aimed fault (max)", op, max(r.reruns for r in aimed))
    record("cases complete without a re-run", op, f"{sum(1 for r in aimed if r.reruns == 0)}/{len(aimed)}")
    if mixed:
        record("random faults: faults / re-runs", op,
               f"{sum(len(r.faults) for r in mixed)} / {sum(r.reruns for r in mixed)}")
    # One fault fails at most one step, and one run of the same plan finishes it.
    assert all(r.reruns <= 1 for r in aimed), [(r.case, r.reruns) for r in aimed if r.reruns > 1]


# -- running the command again from the command line -------------------------------------------


def _cli(server: SandboxServer, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--sandbox-data", str(server.data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    import acr_console.session as session

    def connection(*args: Any, **kwargs: Any) -> Any:
        return dataclasses.replace(sandbox_connection(*args, **kwargs), timeout_s=CLIENT_TIMEOUT_S)

    monkeypatch.setattr(session, "sandbox_connection", connection)


async def test_create_whose_application_answer_was_lost_is_finished_by_running_it_again(
        fresh_sandbox: SandboxServer, short_timeouts: None, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI cannot run the same plan again; running the same command must still finish it, and
    must not make a second application."""
    assert fresh_sandbox.sandbox is not None
    name = unique("cli-create")
    argv = ("create-principal", "--name", name, "--registry", REGISTRY, "--role", "AcrPush", "--json", "--yes")
    seq = fresh_sandbox.sandbox.store.last_request_seq()
    fresh_sandbox.sandbox.settings.faults = f"graph.POST:timeout:n=1:timeout={SERVER_DELAY_S}"
    code, out, err = await asyncio.to_thread(_cli, fresh_sandbox, capsys, *argv)
    fresh_sandbox.sandbox.settings.faults = []
    assert code == 1, err
    first = json.loads(out)
    assert first["ok"] is False and "whether it took effect is unknown" in err
    await wait_for_log(fresh_sandbox, seq, lambda rows: any("timeout" in (r["note"] or "") for r in rows))

    code, out, err = await asyncio.to_thread(_cli, fresh_sandbox, capsys, *argv)
    assert code == 0, err
    second = json.loads(out)
    assert "earlier run of this command that did not finish" in err
    async with AzureClients(sandbox_connection(fresh_sandbox.connection or {})) as az:
        apps = await writes_graph.applications_named(az, name)
        assert [a["appId"] for a in apps] == [second["appId"]]
        assert [p["keyId"] for p in apps[0]["passwordCredentials"]] == [second["passwordKeyId"]]
    record("re-runs needed from the command line", "create-principal after a lost answer", 1)


async def test_reset_whose_answer_was_lost_names_the_secret_nobody_received(
        fresh_sandbox: SandboxServer, short_timeouts: None, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A password added by a request whose answer never came has a secret nobody holds: the failed
    run says how to recognise it (its display name and end time), so it is surfaced, not silent."""
    assert fresh_sandbox.sandbox is not None
    async with AzureClients(sandbox_connection(fresh_sandbox.connection or {})) as az:
        subject = await _base_principal(az, tmp_path)
    seq = fresh_sandbox.sandbox.store.last_request_seq()
    fresh_sandbox.sandbox.settings.faults = f"graph.POST:timeout:n=1:timeout={SERVER_DELAY_S}"
    code, out, err = await asyncio.to_thread(_cli, fresh_sandbox, capsys, "reset-credential", str(subject.app_id),
                                             "--display-name", "rotated", "--show-secret", "--yes")
    fresh_sandbox.sandbox.settings.faults = []
    assert code == 1 and "Traceback" not in err
    await wait_for_log(fresh_sandbox, seq, lambda rows: any("timeout" in (r["note"] or "") for r in rows))
    async with AzureClients(sandbox_connection(fresh_sandbox.connection or {})) as az:
        app = await writes_graph.get_application(az, str(subject.app_object_id))
    lost = [p for p in (app or {}).get("passwordCredentials", []) if p["keyId"].lower() not in subject.known_passwords]
    assert len(lost) == 1, lost
    text = " ".join((out + err).split())
    assert "password named 'rotated' ending" in text and lost[0]["endDateTime"][:19] in text
