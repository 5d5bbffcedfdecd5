"""The write commands as a user runs them, in-process against the sandbox: plans, confirmation,
JSON shapes, exit codes, and where secrets may and may not appear."""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import stat
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acr_console.main import main
from acr_console.operations import AuditLog
from tests.operations.cleanup import TEST_PREFIX, cleanup

REGISTRY = "contosoprod"


def name() -> str:
    return f"{TEST_PREFIX}cli-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module", autouse=True)
def _leave_the_shared_sandbox_clean(sandbox_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    cleanup(sandbox_server.connection, AuditLog(tmp_path_factory.mktemp("cleanup") / "audit.jsonl"))


@pytest.fixture(autouse=True)
def audit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(path))
    return path


def run(capsys: pytest.CaptureFixture[str], sandbox_server: Any, *args: str, stdin: str | None = None,
        monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["--sandbox-data", str(sandbox_server.data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_create_json_has_azure_cli_keys_and_the_secret_only_there(capsys, sandbox_server, audit_file) -> None:
    code, out, err = run(capsys, sandbox_server, "create-principal", "--name", name(), "--registry", REGISTRY,
                         "--role", "AcrPush", "--json", "--yes")
    assert code == 0, err
    doc = json.loads(out)
    for key in ("appId", "displayName", "tenant", "password", "applicationObjectId", "servicePrincipalObjectId",
                "loginServer", "role", "scope", "dockerLogin", "azLogin"):
        assert doc[key], key
    assert doc["ok"] is True
    assert doc["password"] not in err
    assert doc["password"] not in audit_file.read_text()
    assert "Plan: Create principal" in err  # with --json the plan goes to stderr


def test_create_with_out_file_keeps_the_secret_off_the_terminal(capsys, sandbox_server, tmp_path) -> None:
    out_file = tmp_path / "secret.json"
    code, out, err = run(capsys, sandbox_server, "create-principal", "--name", name(), "--registry", REGISTRY,
                         "--role", "AcrPull", "--out", str(out_file), "--yes")
    assert code == 0, err
    saved = json.loads(out_file.read_text())
    assert stat.S_IMODE(os.stat(out_file).st_mode) == 0o600
    assert saved["password"] not in out + err
    assert "✓ done" in out and "Write the new secret" in out


def test_password_needs_a_destination_and_confirmation_needs_a_terminal(capsys, sandbox_server) -> None:
    seq = sandbox_server.sandbox.store.last_request_seq()
    code, _, err = run(capsys, sandbox_server, "create-principal", "--name", name(), "--registry", REGISTRY,
                       "--role", "AcrPush", "--yes")
    assert code == 2 and "--out PATH" in err
    code, _, err = run(capsys, sandbox_server, "create-principal", "--name", name(), "--registry", REGISTRY,
                       "--role", "AcrPush", "--show-secret")
    assert code == 2 and "--yes" in err
    assert sandbox_server.sandbox.store.last_request_seq() == seq


def test_dry_run_prints_the_plan_and_changes_nothing(capsys, sandbox_server) -> None:
    n = name()
    code, out, err = run(capsys, sandbox_server, "create-principal", "--name", n, "--registry", REGISTRY,
                         "--role", "AcrPush", "--dry-run", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["dryRun"] is True
    assert [s["id"] for s in doc["plan"]["steps"]] == ["application", "service-principal", "password", "hand-over",
                                                        "role"]
    code, out, _ = run(capsys, sandbox_server, "principal", n)
    assert code == 3
    # A dry run needs no destination for a secret it will never make: the plan, as --show-secret runs it.
    seq = sandbox_server.sandbox.store.last_request_seq()
    code, out, err = run(capsys, sandbox_server, "reset-credential", "github-actions-payments", "--replace",
                         "--dry-run")
    assert code == 0, err
    assert "Print the new password on standard output, before anything is removed" in out
    sent = [(r["method"], r["path"]) for r in sandbox_server.sandbox.store.request_log(seq)]
    assert not [(m, p) for m, p in sent if m != "GET" and not p.endswith(("/token", "/$batch"))], sent


def test_read_only_refuses_every_write_before_a_request(capsys, sandbox_server) -> None:
    seq = sandbox_server.sandbox.store.last_request_seq()
    for args in (["create-principal", "--name", name(), "--registry", REGISTRY, "--role", "AcrPush", "--json"],
                 ["revoke", "someone", "--registry", REGISTRY, "--disable", "--yes"],
                 ["reset-credential", "someone", "--show-secret", "--yes"],
                 ["assign", "someone", "--registry", REGISTRY, "--role", "AcrPull", "--yes"]):
        code, _, err = run(capsys, sandbox_server, "--read-only", *args)
        assert code == 4, (args, err)
        assert "read-only" in err
    assert sandbox_server.sandbox.store.last_request_seq() == seq


def test_reset_assign_revoke_and_audit_round_trip(capsys, sandbox_server, monkeypatch, audit_file) -> None:
    n = name()
    code, out, err = run(capsys, sandbox_server, "create-principal", "--name", n, "--registry", REGISTRY,
                         "--role", "AcrPush", "--json", "--yes")
    assert code == 0, err
    created = json.loads(out)
    code, out, err = run(capsys, sandbox_server, "reset-credential", n, "--replace", "--json", "--yes")
    assert code == 0, err
    reset = json.loads(out)
    assert reset["keyId"] and reset["password"] != created["password"]
    code, out, err = run(capsys, sandbox_server, "assign", n, "--registry", "contosobase", "--role", "AcrPull",
                         "--yes")
    assert code == 0, err
    code, out, err = run(capsys, sandbox_server, "test-login", REGISTRY, "--username", created["appId"],
                         "--password-stdin", "--scope", "repository:team/app:pull,push", "--json",
                         stdin=reset["password"] + "\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert json.loads(out)["ok"] is True
    code, out, err = run(capsys, sandbox_server, "revoke", n, "--all-registries", "--remove-credentials",
                         "--disable", "--json", "--yes")
    assert code == 0, err
    revoked = json.loads(out)
    status = {s["id"]: s["status"] for s in revoked["steps"]}
    assert revoked["ok"] and status.pop("sweep-credentials") == "already-done"  # nothing was added meanwhile
    assert set(status.values()) == {"done"} and "disable" in status
    code, out, err = run(capsys, sandbox_server, "test-login", REGISTRY, "--username", created["appId"],
                         "--password-stdin", "--json", stdin=reset["password"] + "\n", monkeypatch=monkeypatch)
    assert code == 4
    assert json.loads(out)["ok"] is False
    code, out, err = run(capsys, sandbox_server, "audit", "--json")
    assert code == 0
    ops = [r["operation"] for r in json.loads(out)]
    assert ops == ["create-principal", "reset-credential", "assign", "revoke"]
    code, out, _ = run(capsys, sandbox_server, "audit")
    assert code == 0 and "revoke" in out
    text = audit_file.read_text()
    assert created["password"] not in text and reset["password"] not in text


def test_a_failed_plan_reports_its_errors_once(capsys, sandbox_server, caplog) -> None:
    # The principal and the registries are looked up side by side; when both fail, the one not
    # shown must still be collected, or asyncio prints "Task exception was never retrieved" too.
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        code, _, err = run(capsys, sandbox_server, "revoke", f"{TEST_PREFIX}nobody-{uuid.uuid4().hex[:6]}",
                             "--registry", "nosuchregistry0", "--disable", "--yes")
        gc.collect()
    assert code == 3, err
    assert err.count("error:") == 1, err
    assert [r.getMessage() for r in caplog.records] == []
