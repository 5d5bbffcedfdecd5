"""`report --diff` and `--save` (issue 18), as a scheduled job runs them: real processes against a
demo sandbox of this module's own, which they change through the command line (`assign`, `revoke`).

The acceptance: two reports taken before and after `assign` + `revoke` differ by exactly those
changes (exit 1); two with nothing in between: exit 0 and one summary line. Ground truth for "what
changed" is what the commands did, read back from the sandbox's ARM (the assignment listed at the
registry, then gone, in the sandbox's store), not the reports' own word."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from acr_console.sandbox.faults import parse_faults
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture

diff_sandbox = sandbox_fixture("report-diff-cli", doc="A demo sandbox this module writes to.")


def run_cli(server: SandboxServer, *args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACR_CONSOLE_AUDIT_LOG": str(tmp / "audit.jsonl")}
    return subprocess.run([sys.executable, "-m", "acr_console", "--sandbox-data", str(server.data_dir), *args],
                          capture_output=True, text=True, timeout=120, env=env)


def _assignments(server: SandboxServer, registry: str, principal_name: str) -> list[dict[str, Any]]:
    """The role assignments at the registry's own scope held by the principal, from the sandbox's store."""
    assert server.sandbox is not None
    store = server.sandbox.store
    reg = store.resource_named("Microsoft.ContainerRegistry/registries", registry)
    assert reg is not None
    (sp,) = store.rows("SELECT id FROM directory_objects WHERE type = 'servicePrincipal' AND display_name = ?",
                       (principal_name,))
    return [a for a in store.role_assignments_for_principals([sp["id"]])
            if a["properties"]["scope"].lower() == reg["id"].lower()]


def test_report_diff_lists_exactly_an_assign_and_a_revoke(diff_sandbox: SandboxServer, tmp_path: Path) -> None:
    before = tmp_path / "before.json"
    saved = run_cli(diff_sandbox, "report", "--save", str(before), tmp=tmp_path)
    assert saved.returncode == 0, saved.stderr
    assert saved.stdout == ""  # --save: the report goes to the file only
    assert json.loads(before.read_text())["entries"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".acr-console-report-")] == []

    assert _assignments(diff_sandbox, "contosobase", "github-actions-payments") == []
    assigned = run_cli(diff_sandbox, "assign", "github-actions-payments", "--registry", "contosobase",
                       "--role", "AcrPull", "--yes", tmp=tmp_path)
    assert assigned.returncode == 0, assigned.stderr
    assert len(_assignments(diff_sandbox, "contosobase", "github-actions-payments")) == 1
    held = _assignments(diff_sandbox, "contosobase", "helm-chart-publisher")
    assert held, "the demo's helm-chart-publisher holds a role on contosobase"
    revoked = run_cli(diff_sandbox, "revoke", "helm-chart-publisher", "--registry", "contosobase", "--yes",
                      tmp=tmp_path)
    assert revoked.returncode in (0, 1), revoked.stderr  # 1: it can still reach contosobase some other way
    assert _assignments(diff_sandbox, "contosobase", "helm-chart-publisher") == []

    after = tmp_path / "after.json"
    changed = run_cli(diff_sandbox, "report", "--diff", str(before), "--save", str(after), "--json", tmp=tmp_path)
    assert changed.returncode == 1, changed.stderr
    diff = json.loads(changed.stdout)
    gained = {(g["registry"], g["principal"]["displayName"]) for g in diff["gained"]}
    assert gained == {("contosobase", "github-actions-payments")}
    assert {tuple(g["rights"]) for g in diff["gained"]} == {("pull",)}
    removed_ids = {p["path"]["assignmentId"] for p in diff["pathsRemoved"]}
    assert removed_ids == {a["id"] for a in held}
    assert {p["principal"]["displayName"] for p in diff["pathsRemoved"]} == {"helm-chart-publisher"}
    assert {p["principal"]["displayName"] for p in diff["pathsAdded"]} == {"github-actions-payments"}
    assert diff["registriesAdded"] == diff["registriesRemoved"] == []
    assert json.loads(after.read_text())["entries"]

    # Nothing in between: exit 0 and one summary line, the same as `diff` of the two files.
    same = run_cli(diff_sandbox, "report", "--diff", str(after), tmp=tmp_path)
    assert same.returncode == 0, same.stderr
    assert len(same.stdout.strip().splitlines()) == 1 and same.stdout.startswith("No change")
    files = run_cli(diff_sandbox, "diff", str(before), str(after), "--json", tmp=tmp_path)
    assert files.returncode == 1 and json.loads(files.stdout) == diff


def test_bad_options_are_refused_before_anything_is_sent(diff_sandbox: SandboxServer, tmp_path: Path) -> None:
    assert diff_sandbox.sandbox is not None
    store = diff_sandbox.sandbox.store
    not_json = tmp_path / "not.json"
    not_json.write_text("{")
    cases = [
        (("report", "--json"), "--json goes with --diff"),
        (("report", "--diff", str(tmp_path / "missing.json")), "missing.json"),
        (("report", "--diff", str(not_json)), "not JSON"),
        (("report", "--diff", str(not_json), "--format", "csv"), "--diff compares JSON reports"),
        (("report", "--save", str(tmp_path / "no" / "such" / "r.json")), "does not exist"),
        (("report", "--save", str(tmp_path)), "is a folder"),
    ]
    for args, words in cases:
        seq = store.last_request_seq()
        result = run_cli(diff_sandbox, *args, tmp=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], (args, result.stderr)
        assert store.request_log(seq) == [], args


def test_a_failed_report_leaves_the_saved_one_as_it_was(diff_sandbox: SandboxServer, tmp_path: Path) -> None:
    # A Graph that answers 500 to everything: the report fails part-way; the earlier file is untouched
    # and no temporary file is left beside it.
    assert diff_sandbox.sandbox is not None
    saved = tmp_path / "report.json"
    saved.write_text("earlier")
    diff_sandbox.sandbox.settings.faults = parse_faults("graph:500:1")
    try:
        result = run_cli(diff_sandbox, "report", "--save", str(saved), tmp=tmp_path)
    finally:
        diff_sandbox.sandbox.settings.faults = []
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert saved.read_text() == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
