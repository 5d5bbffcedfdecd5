"""The audit log's shape and hygiene, and the input checks every front end shares."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from acr_console.azure.errors import AzureCallError
from acr_console.models import RoleAssignmentMode
from acr_console.operations import InputError, Plan, Step, StepOutput, execute
from acr_console.operations.audit import ENV_VAR, Actor, AuditLog, default_path
from acr_console.operations.validation import (
    check_display_name,
    check_key_id,
    check_role_for_mode,
    check_role_name,
    credential_end,
)
from acr_console.secret import Secret

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET = "Zq8~verySecretValue.1234567890abcdefghij"


async def _outcome_holding_a_secret():
    async def add(ctx) -> StepOutput:
        ctx.secrets["password"] = Secret(SECRET)
        return StepOutput({"keyId": "k1", "hint": SECRET[:3]}, ("corr-1",))

    async def fail(ctx) -> StepOutput:
        # An error message that echoes a secret and a token must not carry them into the log.
        raise AzureCallError("Boom", f"password={SECRET} and eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig {SECRET}", 500,
                         "corr-2")

    plan = Plan("reset-credential", "Reset", {"principal": "ci"}, [Step("add", "add", add), Step("b", "b", fail)])
    return await execute(plan)


async def test_audit_record_has_the_facts_and_no_secret(tmp_path: Path) -> None:
    outcome = await _outcome_holding_a_secret()
    log = AuditLog(tmp_path / "logs" / "audit.jsonl")
    log.write(outcome, Actor("sandbox", "tenant-1", "oid-1", "app-1", "admin"))
    text = log.path.read_text()
    assert SECRET not in text and "eyJhbGciOiJSUzI1NiJ9" not in text
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600
    (record,) = log.read()
    assert record["operation"] == "reset-credential" and record["tenant"] == "tenant-1"
    assert record["identity"]["appId"] == "app-1" and record["result"] == "failed"
    assert [s["status"] for s in record["steps"]] == ["done", "failed"]
    assert record["steps"][1]["error"]["code"] == "Boom"
    assert set(record["correlationIds"]) == {"corr-1", "corr-2"}
    log.write(outcome, Actor("sandbox", "tenant-1"))
    with log.path.open("a") as fh:
        fh.write("{torn line\n")
    assert len(log.read()) == 2 and len(log.read(limit=1)) == 1


def test_audit_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "x.jsonl"))
    assert default_path() == tmp_path / "x.jsonl"
    monkeypatch.delenv(ENV_VAR)
    assert default_path().name == "audit.jsonl" and "acr-console" in str(default_path())


def test_existing_loose_audit_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text("")
    path.chmod(0o644)
    import asyncio

    outcome = asyncio.run(execute(Plan("x", "x", {}, [])))
    AuditLog(path).write(outcome, Actor("c", None))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text().splitlines()[0])["operation"] == "x"


@pytest.mark.parametrize(("name", "needle"), [
    ("", "empty"), ("   ", "empty"), (" lead", "spaces"), ("trail ", "spaces"), ("tab\there", "control"),
    ("esc\x1b[31mred", "control"), ("bidi\u202egnp.exe", "control"), ("x" * 257, "at most 256"),
])
def test_display_names_azure_rejects(name: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        check_display_name(name)


@pytest.mark.parametrize("name", ["ci-pusher", "[bold]markup[/x]", "Ünïcødé 🚀 build", "x" * 256, "עברית"])
def test_display_names_that_are_fine(name: str) -> None:
    assert check_display_name(name) == name


def test_roles_follow_the_registry_mode() -> None:
    assert check_role_name("acrpush") == "AcrPush"
    with pytest.raises(InputError, match="unknown role"):
        check_role_name("Owner")
    with pytest.raises(InputError, match="not honour"):
        check_role_for_mode("AcrPush", RoleAssignmentMode.ABAC, "reg")
    with pytest.raises(InputError, match="Choose one of: AcrPull"):
        check_role_for_mode("Container Registry Repository Writer", RoleAssignmentMode.LEGACY, "reg")
    assert check_role_for_mode("AcrPull", RoleAssignmentMode.LEGACY, "reg") == "AcrPull"


def test_credential_end_dates() -> None:
    assert credential_end(None, None, NOW) == NOW.replace(year=2027)
    assert credential_end(2, None, NOW) == NOW.replace(year=2028)
    assert credential_end(None, "2026-06-30", NOW) == datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
    assert credential_end(None, "2026-06-30T10:00:00", NOW).tzinfo is not None  # naive means UTC
    for years, end, needle in [(None, "2020-01-01", "in the past"), (None, "not a date", "not a date"),
                               (0, None, "whole number"), (-1, None, "whole number"), (11, None, "at most 10"),
                               (None, "2999-01-01", "at most 10"), (1, "2027-01-01", "not both"),
                               (None, (NOW + timedelta(minutes=5)).isoformat(), "less than an hour")]:
        with pytest.raises(InputError, match=needle):
            credential_end(years, end, NOW)


def test_key_ids() -> None:
    assert check_key_id(" 3F2B9C1E-1A2B-4C3D-8E9F-0A1B2C3D4E5F ") == "3f2b9c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    with pytest.raises(InputError, match="not a key id"):
        check_key_id("abc")


def test_operations_layer_imports_no_ui_and_no_sdk_up_front() -> None:
    import subprocess
    import sys

    code = ("import sys, acr_console.operations, acr_console.certificates; "
            "bad = [m for m, mod in sys.modules.items() if mod is not None and (m.split('.')[0] in "
            "('textual', 'msgraph', 'httpx') or m.startswith('azure.mgmt'))]; print(bad)")  # None: a blocked import
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
