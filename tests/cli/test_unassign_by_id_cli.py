"""Issue 16, as a process through the installed entry point: the demo tenant's orphaned assignment on
contosodev (a principal the directory no longer returns) is removed with `unassign --assignment-id`,
the id read off `access --json`; bad ids are refused with one `error:` line, nothing sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture

unassign_cli_sandbox = sandbox_fixture("unassign-cli")
ENTRY = Path(sys.executable).with_name("acr-console")


def run(server: SandboxServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACR_CONSOLE_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    return subprocess.run([str(ENTRY), "--sandbox-data", str(server.data_dir), *args], capture_output=True,
                          text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)


def orphans(server: SandboxServer, tmp_path: Path) -> list[dict[str, object]]:
    shown = run(server, tmp_path, "access", "contosodev", "--json")
    assert shown.returncode == 0, shown.stderr
    return [e for e in json.loads(shown.stdout)["entries"] if e["orphaned"]]


def test_unassign_an_orphan_by_id(unassign_cli_sandbox: SandboxServer, tmp_path: Path) -> None:
    (orphan,) = orphans(unassign_cli_sandbox, tmp_path)
    (path,) = orphan["paths"]  # type: ignore[misc]
    table = run(unassign_cli_sandbox, tmp_path, "access", "contosodev")
    assert "unassign --assignment-id" in table.stdout  # the table says how
    done = run(unassign_cli_sandbox, tmp_path, "unassign", "--assignment-id", path["assignmentId"], "--yes", "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["ok"] is True
    assert orphans(unassign_cli_sandbox, tmp_path) == []
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["operation"] == "unassign" and audit[-1]["target"]["orphaned"] is True


def test_bad_assignment_ids_are_one_error_line(unassign_cli_sandbox: SandboxServer, tmp_path: Path) -> None:
    for args in (["--assignment-id", "nonsense"], [], ["sp", "--assignment-id",
                                                         "/subscriptions/s/providers/Microsoft.Authorization/"
                                                         "roleAssignments/x"]):
        result = run(unassign_cli_sandbox, tmp_path, "unassign", *args, "--yes")
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "audit.jsonl").exists() or "unassign" not in (tmp_path / "audit.jsonl").read_text()
