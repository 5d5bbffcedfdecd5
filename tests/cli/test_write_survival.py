"""Writes as an operator's side breaks them: a hang-up (SIGHUP, what a dropped SSH session sends)
or SIGTERM at each step boundary, standard output full or closed, an audit log that cannot be
written, two operators on one principal or one name at once, a create stopped before its role.

Every case runs the real `acr-console` program as a process against a sandbox, and the ground
truth is the sandbox's: whether a secret still signs in (its token endpoint, through azure-identity)
and whether the registry's token service grants push. The invariant of issue 14: in every run
either the old secret still works, or the new one was delivered (read off the process's output)
and works, and the audit log says what happened.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError

from acr_console.sandbox.context import Settings
from acr_console.sandbox.faults import parse_faults
from acr_console.sandbox.server import SandboxServer
from tests.operations.helpers import token_with_secret
from tests.support.sandbox import running_sandbox

from ..sandbox.graph_support import ssl_context

REGISTRY = "contosoprod"


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Every answer 200 ms late: a signal sent when a step's line appears lands while the next
    # step's request is in flight, or before it starts, which is where a hang-up hurts.
    with running_sandbox(tmp_path_factory.mktemp("survival"), settings=Settings(latency_ms=200)) as server:
        yield server


@pytest.fixture
def audit_log(tmp_path: Path) -> Path:
    return tmp_path / "audit" / "audit.jsonl"


def env_with(audit: Path) -> dict[str, str]:
    return {**os.environ, "ACR_CONSOLE_AUDIT_LOG": str(audit), "PYTHONUNBUFFERED": "0"}


def argv(server: SandboxServer, *args: str) -> list[str]:
    return [sys.executable, "-m", "acr_console", "--sandbox-data", str(server.data_dir), *args]


def run(server: SandboxServer, audit: Path, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv(server, *args), capture_output=True, text=True, timeout=180, env=env_with(audit), **kw)


def new_principal(server: SandboxServer, audit: Path) -> tuple[str, str]:
    """A fresh AcrPush principal on contosoprod, made by the console; its appId and password."""
    done = run(server, audit, "create-principal", "--name", f"survival-{uuid.uuid4().hex[:8]}", "--registry",
               REGISTRY, "--role", "AcrPush", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    return doc["appId"], doc["password"]


def signs_in(server: SandboxServer, app_id: str, secret: str) -> bool:
    assert server.connection is not None
    try:
        token_with_secret(server.connection, app_id, secret)
    except ClientAuthenticationError:
        return False
    return True


def can_push(server: SandboxServer, app_id: str, secret: str, registry: str = REGISTRY) -> bool:
    """The registry's token service decides: a token for `repository:…:push` with the principal's
    secret as Basic credentials (docs/reference/acr-access.md §3)."""
    conn = server.connection
    assert conn is not None
    login = f"{registry}.azurecr.io"
    basic = base64.b64encode(f"{app_id}:{secret}".encode()).decode()
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": login}) as http:
        r = http.get(f"{conn['registry_endpoint']}/oauth2/token", headers={"Authorization": f"Basic {basic}"},
                     params=[("service", login), ("scope", "repository:survival/app:pull,push")])
    if r.status_code != 200:
        return False
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    return any("push" in a.get("actions", []) for a in claims.get("access", []))


def records(audit: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in audit.read_text().splitlines()] if audit.exists() else []


def passwords_in(text: str) -> list[str]:
    out = [line.split("password:", 1)[1].strip() for line in text.splitlines() if line.strip().startswith("password:")]
    return [p for p in out if p]


# -- a hang-up (or SIGTERM, or Ctrl+C) at each step boundary ---------------------------------------

# Lines of `reset-credential --replace --show-secret` after which the signal is sent: the plan is
# shown (nothing sent yet), the new password exists, it was printed, it was handed over, the first
# old password was removed.
BOUNDARIES = ["1. Add password", "done         Add password", "password:", "done         Print the new",
              "done         Remove"]


# With the terminal gone too, from the moment the plan is shown: every later write fails (EPIPE).
# Only there: closing the pipe later would throw away what the process had already written into
# it (delivered, as far as any program can know), which a test cannot then count.
CASES = [*((b, "hangup") for b in BOUNDARIES), (BOUNDARIES[0], "hangup-and-stdout-gone")]


@pytest.mark.parametrize(("boundary", "how"), CASES)
def test_a_hang_up_at_each_step_boundary_never_loses_a_secret(slow_sandbox: SandboxServer, audit_log: Path,
                                                              boundary: str, how: str) -> None:
    app_id, old = new_principal(slow_sandbox, audit_log)
    # A second old password: the removals are two steps, so a signal can fall between them.
    first = run(slow_sandbox, audit_log, "reset-credential", app_id, "--yes", "--show-secret")
    assert first.returncode == 0, first.stderr
    before = len(records(audit_log))
    proc = subprocess.Popen(argv(slow_sandbox, "reset-credential", app_id, "--replace", "--yes", "--show-secret"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_with(audit_log))
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        if boundary in line:
            if how == "hangup-and-stdout-gone":
                proc.stdout.close()  # the terminal is gone: the next write fails (EPIPE)
            proc.send_signal(signal.SIGHUP)
            break
    else:
        pytest.fail(f"never saw {boundary!r}: {''.join(seen)}")
    if not proc.stdout.closed:
        seen += proc.stdout.readlines()
    proc.wait(timeout=120)
    stderr = proc.stderr.read() if proc.stderr else ""
    # 0: it had finished before the signal; 1: with stdout gone, the hand-over failed (EPIPE) before
    # the signal arrived, and the run stopped there as a failure.
    assert proc.returncode in ((0, 128 + signal.SIGHUP) if how == "hangup" else (0, 1, 128 + signal.SIGHUP)), stderr
    delivered = passwords_in("".join(seen))
    new_works = bool(delivered) and signs_in(slow_sandbox, app_id, delivered[-1])
    old_works = signs_in(slow_sandbox, app_id, old)
    assert old_works or new_works, f"no working secret after SIGHUP at {boundary!r}: {''.join(seen)}{stderr}"
    if not old_works:  # the old one was removed: only after the new one reached the reader
        assert new_works
    # The audit log says what happened: an intent and an outcome for the run, the outcome naming
    # the signal when it stopped the run.
    run_records = [r for r in records(audit_log)[before:] if r["phase"] != "progress"]
    if boundary == BOUNDARIES[0] and not run_records:  # stopped before the plan ran: nothing was sent
        assert old_works and not delivered
        return
    assert [r["phase"] for r in run_records] == ["started", "finished"], run_records
    outcome = run_records[-1]
    if proc.returncode == 1:
        assert {s["id"]: s["status"] for s in outcome["steps"]}["hand-over"] == "failed"
        assert "could not be written to standard output" in stderr
    elif proc.returncode:
        assert outcome["result"] == "interrupted" and outcome["stoppedBy"] == "SIGHUP"
        assert any(s["status"] == "skipped" for s in outcome["steps"]) or boundary == BOUNDARIES[-1]
    assert "Traceback" not in stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_stop_a_write_like_a_hang_up(slow_sandbox: SandboxServer, audit_log: Path,
                                                        sig: signal.Signals) -> None:
    app_id, old = new_principal(slow_sandbox, audit_log)
    proc = subprocess.Popen(argv(slow_sandbox, "reset-credential", app_id, "--replace", "--yes", "--show-secret"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_with(audit_log))
    assert proc.stdout is not None
    for line in proc.stdout:
        if "done         Add password" in line:
            proc.send_signal(sig)
            break
    rest = proc.stdout.read()
    proc.wait(timeout=120)
    assert proc.returncode == 128 + sig, rest
    outcome = records(audit_log)[-1]
    assert outcome["phase"] == "finished" and outcome["stoppedBy"] == sig.name
    # Stopped before the hand-over: the old password was never touched.
    if not passwords_in(rest):
        assert signs_in(slow_sandbox, app_id, old)


# -- standard output or the audit log that cannot be written ---------------------------------------

def test_json_to_a_full_disk_removes_nothing(slow_sandbox: SandboxServer, audit_log: Path) -> None:
    app_id, old = new_principal(slow_sandbox, audit_log)
    with open("/dev/full", "w") as full:
        done = subprocess.run(argv(slow_sandbox, "reset-credential", app_id, "--replace", "--yes", "--json"),
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120, env=env_with(audit_log))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "could not be written to standard output" in errors[0] and "ENOSPC" in errors[0]
    outcome = records(audit_log)[-1]
    key_id = next(s for s in outcome["steps"] if s["id"] == "add-password")["details"]["keyId"]
    assert key_id in errors[0]  # the undelivered password is named, with how to remove it
    assert signs_in(slow_sandbox, app_id, old)
    statuses = {s["id"]: s["status"] for s in outcome["steps"]}
    assert statuses["hand-over"] == "failed" and outcome["result"] == "failed"
    assert all(v == "skipped" for k, v in statuses.items() if k.startswith("remove"))
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("where", ["under-a-file", "dev-full"])
def test_an_unwritable_audit_log_refuses_before_anything_is_sent(slow_sandbox: SandboxServer, tmp_path: Path,
                                                                 where: str) -> None:
    ok_log = tmp_path / "ok" / "audit.jsonl"
    app_id, old = new_principal(slow_sandbox, ok_log)
    if where == "under-a-file":  # a folder that cannot hold the log (ENOTDIR), as a read-only one cannot
        (tmp_path / "not-a-folder").write_text("")
        bad = tmp_path / "not-a-folder" / "audit.jsonl"
    else:
        bad = Path("/dev/full")
    before = run(slow_sandbox, ok_log, "principal", app_id, "--json")
    done = run(slow_sandbox, bad, "reset-credential", app_id, "--replace", "--yes", "--show-secret")
    assert done.returncode == 2, done.stderr  # nothing was sent: the exit code says so
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "audit log" in last
    assert not passwords_in(done.stdout)
    after = run(slow_sandbox, ok_log, "principal", app_id, "--json")
    assert json.loads(after.stdout)["credentials"] == json.loads(before.stdout)["credentials"]
    assert signs_in(slow_sandbox, app_id, old)


# -- two operators at once -------------------------------------------------------------------------

def test_two_replaces_on_one_principal_one_wins_and_every_reported_secret_works(slow_sandbox: SandboxServer,
                                                                                audit_log: Path) -> None:
    app_id, _ = new_principal(slow_sandbox, audit_log)
    procs = [subprocess.Popen(argv(slow_sandbox, "reset-credential", app_id, "--replace", "--yes", "--json"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_with(audit_log))
             for _ in range(2)]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    winners = [json.loads(out) for rc, out, _ in results if rc == 0]
    losers = [err for rc, _, err in results if rc != 0]
    assert len(winners) == 1 and len(losers) == 1, results
    assert "nothing was changed" in losers[0] and "reset-credential" in losers[0] and "process" in losers[0]
    # Every secret reported is real at the end.
    assert signs_in(slow_sandbox, app_id, winners[0]["password"])


def test_two_creates_of_one_name_make_one_application(slow_sandbox: SandboxServer, audit_log: Path) -> None:
    name = f"twin-{uuid.uuid4().hex[:8]}"
    args = ("create-principal", "--name", name, "--registry", REGISTRY, "--role", "AcrPull", "--yes", "--json")
    procs = [subprocess.Popen(argv(slow_sandbox, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env_with(audit_log)) for _ in range(2)]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    assert sorted(rc for rc, _, _ in results) == [0, 1], results
    assert slow_sandbox.sandbox is not None
    apps = slow_sandbox.sandbox.store.rows(
        "SELECT id FROM directory_objects WHERE type = ? AND display_name = ?", ("application", name))
    assert len(apps) == 1


def test_an_out_file_that_appears_meanwhile_is_not_claimed(slow_sandbox: SandboxServer, audit_log: Path,
                                                           tmp_path: Path) -> None:
    app_id, old = new_principal(slow_sandbox, audit_log)
    out = tmp_path / "secret.json"
    proc = subprocess.Popen(argv(slow_sandbox, "reset-credential", app_id, "--replace", "--yes", "--out", str(out)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_with(audit_log))
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip().startswith("1."):  # the plan is shown: the file was checked and was not there
            out.write_text("someone else's file\n")
            break
    rest = proc.stdout.read()
    proc.wait(timeout=120)
    assert proc.returncode == 1
    assert out.read_text() == "someone else's file\n"
    assert f"the password is in {out}" not in rest
    assert signs_in(slow_sandbox, app_id, old)


# -- a create stopped between its secret and its role, run again -----------------------------------

def test_a_create_killed_before_its_role_is_finished_by_running_it_again(slow_sandbox: SandboxServer,
                                                                         audit_log: Path) -> None:
    """SIGKILL leaves no outcome record; the checkpoint written when the password was handed over
    is what lets the re-run finish without making (or showing) another one."""
    assert slow_sandbox.sandbox is not None
    settings = slow_sandbox.sandbox.settings
    name = f"resume-{uuid.uuid4().hex[:8]}"
    args = ("create-principal", "--name", name, "--registry", REGISTRY, "--role", "AcrPush", "--yes",
            "--show-secret")
    # The role assignment's PUT is held 20 s (the `timeout` fault), so the kill lands before it.
    settings.faults = parse_faults("arm.PUT:timeout:n=1:timeout=20")
    try:
        proc = subprocess.Popen(argv(slow_sandbox, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env_with(audit_log))
        assert proc.stdout is not None
        secret = None
        for line in proc.stdout:
            if line.strip().startswith("password:"):
                secret = line.split("password:", 1)[1].strip()
                time.sleep(1)  # the PUT is on its way, and held
                proc.kill()
                break
        proc.wait(timeout=60)
    finally:
        settings.faults = []
    assert secret and proc.returncode == -signal.SIGKILL
    progress = [r for r in records(audit_log) if r.get("phase") == "progress"]
    app_id = next(s for s in progress[-1]["steps"] if s["id"] == "application")["details"]["appId"]
    # Killed outright: no outcome record; `audit` shows the run as unfinished, once.
    shown = json.loads(run(slow_sandbox, audit_log, "audit", "--json").stdout)
    killed = [r for r in shown if r.get("run") == progress[-1]["run"]]
    assert [r["result"] for r in killed] == ["unfinished"]
    time.sleep(20)  # the held PUT goes through or not; either way the re-run must end with the role
    again = run(slow_sandbox, audit_log, *args)
    assert again.returncode == 0, again.stderr
    assert "stopped after handing its password over" in again.stdout
    assert not passwords_in(again.stdout)  # not shown again, and no new password made
    deadline = time.monotonic() + 30
    while not can_push(slow_sandbox, app_id, secret):
        assert time.monotonic() < deadline, "the finished principal cannot push with its first secret"
        time.sleep(0.5)


def test_two_creates_on_two_machines_keep_one_application(slow_sandbox: SandboxServer, tmp_path: Path) -> None:
    """No shared lock (each process has its own audit folder, as two jump hosts would): both find the
    name free and both create; re-reading the name after creating, the younger twin removes itself."""
    name = f"twin-far-{uuid.uuid4().hex[:8]}"
    args = ("create-principal", "--name", name, "--registry", REGISTRY, "--role", "AcrPull", "--yes", "--json")
    procs = [subprocess.Popen(argv(slow_sandbox, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env_with(tmp_path / f"host-{n}" / "audit.jsonl")) for n in range(2)]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    assert slow_sandbox.sandbox is not None
    apps = slow_sandbox.sandbox.store.rows(
        "SELECT id FROM directory_objects WHERE type = ? AND display_name = ?", ("application", name))
    assert len(apps) == 1, results
    codes = sorted(rc for rc, _, _ in results)
    if codes == [0, 1]:
        loser = next(err for rc, _, err in results if rc == 1)
        # Either both created and the younger removed its own, or the later one's step found the
        # other's application just before creating (its check re-reads the name) and created nothing.
        assert ("created at the same time" in loser and "was deleted again" in loser) or \
            "appeared after this plan was made" in loser, loser
    else:  # one planned after the other had created: refused before sending anything
        assert codes == [0, 2], results
