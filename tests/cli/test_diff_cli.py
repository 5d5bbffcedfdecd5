"""`acr-console diff BEFORE.json AFTER.json` as a user or a scheduled job runs it: a separate process,
files in a temporary folder, no Azure (issue 18). The last test diffs real `access --json` output of the
sandbox, taken before and after an `assign` and an `unassign` through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from acr_console.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE

from ..support.sandbox import sandbox_fixture

RG = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-platform"
PROD = f"{RG}/providers/Microsoft.ContainerRegistry/registries/prod"


def run_cli(*args: str, cwd: Path | None = None, stdout: Any = subprocess.PIPE,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "acr_console", *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, timeout=120, cwd=cwd, env=env or dict(os.environ))


def document(*push: str, tenant: str = "tenant-a") -> dict[str, Any]:
    """A report in which `push` (display names) hold AcrPush on the registry, everyone AcrPull."""
    entries = []
    for n, name in enumerate(("ci-pusher", "reader")):
        paths = [{"kind": "role-assignment", "role": "AcrPull", "scope": RG, "viaGroups": [], "repositories": None,
                  "assignmentId": f"{RG}/providers/Microsoft.Authorization/roleAssignments/pull-{n}"}]
        if name in push:
            paths.append({"kind": "role-assignment", "role": "AcrPush", "scope": PROD, "viaGroups": [],
                          "repositories": None,
                          "assignmentId": f"{PROD}/providers/Microsoft.Authorization/roleAssignments/push-{n}"})
        entries.append({"registry": "prod", "principal": {"objectId": f"oid-{n}", "appId": None, "displayName": name,
                                                          "type": "servicePrincipal", "enabled": True},
                        "pull": True, "push": name in push, "delete": False, "paths": paths})
    return {"generatedAt": "2026-11-01T00:00:00Z", "cloud": "AzureCloud", "tenant": tenant,
            "registries": [{"id": PROD, "name": "prod", "loginServer": "prod.azurecr.io"}], "entries": entries}


def write(folder: Path, name: str, doc: Any) -> str:
    path = folder / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(path)


def test_nothing_changed_is_exit_0_and_one_line(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", document("ci-pusher"))
    b = write(tmp_path, "b.json", document("ci-pusher"))
    result = run_cli("diff", a, b)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout == "No change: 1 registry, 2 registry × identity pairs compared.\n"
    assert result.stderr == ""


def test_a_change_is_exit_1_with_a_table_for_people(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", document("ci-pusher"))
    b = write(tmp_path, "b.json", document("reader"))
    result = run_cli("diff", a, b, env={**os.environ, "COLUMNS": "120"})
    assert result.returncode == EXIT_FAILED, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["prod", "ci-pusher", "SP", "-push", "-", "AcrPush", "on", "the", "registry"] in rows
    assert ["prod", "reader", "SP", "+push", "+", "AcrPush", "on", "the", "registry"] in rows
    assert result.stdout.splitlines()[-1] == ("2 pairs changed, 1 gained rights, 1 lost rights, 1 path added, "
                                              "1 path removed (1 registry, 2 registry × identity pairs compared).")


def test_json_for_machines(tmp_path: Path) -> None:
    before, after = document("ci-pusher"), document("reader")
    result = run_cli("diff", write(tmp_path, "a.json", before), write(tmp_path, "b.json", after), "--json")
    assert result.returncode == EXIT_FAILED, result.stderr
    doc = json.loads(result.stdout)
    assert doc == {
        "gained": [{"registry": "prod", "principal": after["entries"][1]["principal"], "rights": ["push"]}],
        "lost": [{"registry": "prod", "principal": before["entries"][0]["principal"], "rights": ["push"]}],
        "pathsAdded": [{"registry": "prod", "principal": after["entries"][1]["principal"],
                        "path": after["entries"][1]["paths"][1]}],
        "pathsRemoved": [{"registry": "prod", "principal": before["entries"][0]["principal"],
                          "path": before["entries"][0]["paths"][1]}],
        "registriesAdded": [], "registriesRemoved": []}
    same = run_cli("diff", write(tmp_path, "c.json", after), write(tmp_path, "d.json", after), "--json")
    assert same.returncode == EXIT_OK
    assert json.loads(same.stdout) == {"gained": [], "lost": [], "pathsAdded": [], "pathsRemoved": [],
                                       "registriesAdded": [], "registriesRemoved": []}


def _one_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == EXIT_USAGE, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_a_missing_file(tmp_path: Path) -> None:
    good = write(tmp_path, "a.json", document())
    _one_error(run_cli("diff", good, str(tmp_path / "gone.json")), "gone.json: cannot be read", "ENOENT")
    _one_error(run_cli("diff", str(tmp_path), good), f"{tmp_path}: cannot be read", "EISDIR")


def test_not_json_and_not_utf8(tmp_path: Path) -> None:
    good = write(tmp_path, "a.json", document())
    _one_error(run_cli("diff", good, write(tmp_path, "b.json", '{"entries": [')), "b.json: not JSON",
               "line 1 column")
    lines = write(tmp_path, "c.jsonl", "{}\n{}\n")
    _one_error(run_cli("diff", lines, good), "c.jsonl: not JSON", "JSON Lines?")
    latin = tmp_path / "d.json"
    latin.write_bytes(b'{"tenant": "caf\xe9"}')
    _one_error(run_cli("diff", str(latin), good), "d.json: not a report: the file is not UTF-8")


def test_wrong_shapes(tmp_path: Path) -> None:
    good = write(tmp_path, "a.json", document())
    access_json = {"registry": {"name": "prod"}, "entries": []}
    _one_error(run_cli("diff", good, write(tmp_path, "b.json", access_json)), "b.json:",
               "one registry's `access --json`, not a tenant report")
    broken = document()
    del broken["entries"][1]["pull"]
    _one_error(run_cli("diff", write(tmp_path, "c.json", broken), good), "c.json: not an access report",
               "entries[1] has no \"pull\"", "acr-console report --format json")
    _one_error(run_cli("diff", good, write(tmp_path, "d.json", [1, 2])), "d.json", "a list, not an object")


def test_reports_of_two_tenants_are_refused(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", document())
    b = write(tmp_path, "b.json", document(tenant="tenant-b"))
    _one_error(run_cli("diff", a, b, "--json"), "is of tenant tenant-a", "of tenant tenant-b")


def test_a_closed_or_full_stdout(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", document("ci-pusher"))
    b = write(tmp_path, "b.json", document("reader"))
    # The reader went away before the first byte (`| head -0`): no word, SIGPIPE's status, as other commands;
    # the same for the table (rich's own answer to EPIPE would be a silent exit 1).
    for extra in (["--json"], []):
        proc = subprocess.Popen([sys.executable, "-m", "acr_console", "diff", a, b, *extra], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 141, (extra, err)
        assert err == b"", extra
    # A full device: one error line naming the cause, not a traceback (as `audit --json` does).
    with open("/dev/full", "w") as full:
        result = run_cli("diff", a, b, stdout=full)
    assert result.returncode == EXIT_FAILED
    assert result.stderr.splitlines() == ["error: OSError: [Errno 28] No space left on device"]


# -- on real shapes: two sandbox runs of `access --json` wrapped into the report's shape --------------

diff_sandbox = sandbox_fixture("diff-real-shapes", doc="A demo sandbox this module writes to.")


def _access_report(server: Any, registry: str, when: str) -> dict[str, Any]:
    """`access --json` for one registry in the report's shape (what `report` gives for that registry)."""
    result = run_cli("--sandbox-data", str(server.data_dir), "access", registry, "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    return {"generatedAt": when, "cloud": "AzureCloud", "tenant": server.connection["tenant_id"],
            "registries": [doc["registry"]],
            "entries": [{"registry": doc["registry"]["name"], **e} for e in doc["entries"]]}


def test_diff_of_real_access_before_and_after_assign_and_unassign(diff_sandbox: Any, tmp_path: Path) -> None:
    env = {**os.environ, "ACR_CONSOLE_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    data = ("--sandbox-data", str(diff_sandbox.data_dir))
    before = _access_report(diff_sandbox, "contosobase", "2026-11-01T00:00:00Z")
    assigned = run_cli(*data, "assign", "github-actions-payments", "--registry", "contosobase", "--role", "AcrPull",
                       "--yes", env=env)
    assert assigned.returncode == 0, assigned.stderr
    unassigned = run_cli(*data, "unassign", "helm-chart-publisher", "--registry", "contosobase", "--role",
                         "AcrPush", "--yes", env=env)
    assert unassigned.returncode == 0, unassigned.stderr
    after = _access_report(diff_sandbox, "contosobase", "2026-11-02T00:00:00Z")
    a, b = write(tmp_path, "before.json", before), write(tmp_path, "after.json", after)

    result = run_cli("diff", a, b, "--json")
    assert result.returncode == EXIT_FAILED, result.stderr
    doc = json.loads(result.stdout)
    assert [(x["registry"], x["principal"]["displayName"], x["rights"]) for x in doc["gained"]] == [
        ("contosobase", "github-actions-payments", ["pull"])]
    assert [(x["registry"], x["principal"]["displayName"], x["rights"]) for x in doc["lost"]] == [
        ("contosobase", "helm-chart-publisher", ["pull", "push"])]
    helm = next(e for e in before["entries"] if e["principal"]["displayName"] == "helm-chart-publisher")
    assert [x["path"] for x in doc["pathsRemoved"]] == helm["paths"]
    added = doc["pathsAdded"]
    assert [(x["principal"]["displayName"], x["path"]["role"], x["path"]["viaGroups"]) for x in added] == [
        ("github-actions-payments", "AcrPull", [])]
    # The new path is the assignment the write made: its id is in the registry's assignments now.
    assert added[0]["path"]["assignmentId"] not in json.dumps(before)
    assert doc["registriesAdded"] == doc["registriesRemoved"] == []

    # Nothing in between: exit 0, one line.
    again = write(tmp_path, "again.json", _access_report(diff_sandbox, "contosobase", "2026-11-03T00:00:00Z"))
    quiet = run_cli("diff", b, again)
    assert quiet.returncode == EXIT_OK, quiet.stderr
    assert len(quiet.stdout.splitlines()) == 1 and quiet.stdout.startswith("No change: 1 registry, ")
