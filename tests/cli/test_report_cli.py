"""`acr-console report` (issue 18) as a user or a scheduled job runs it: real processes
(`python -m acr_console`) against one demo sandbox of this module's own.

The module's tenant adds one principal whose display name holds a comma and quotes, with AcrPull on
`contosoprod`, so the CSV's quoting is tried on the directory's text; and one whose name starts like
a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from acr_console.access import to_json
from acr_console.azure.authorization import RoleDefinitions
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.registry_access import find_registry, read_registry_access
from acr_console.roles import builtin_by_name
from acr_console.sandbox.directory import new_application, new_service_principal
from acr_console.sandbox.seed import assign
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture

report_sandbox = sandbox_fixture("report-cli")
ACR_PULL = builtin_by_name("AcrPull").guid  # type: ignore[union-attr]
AWKWARD = 'build, "nightly" agent'
FORMULA = "=HYPERLINK(\"http://example.invalid\")"
DEMO_REGISTRIES = 8


def _cmd(server: SandboxServer, *args: str) -> list[str]:
    return [sys.executable, "-m", "acr_console", "--sandbox-data", str(server.data_dir), *args]


def run_cli(server: SandboxServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cmd(server, *args), capture_output=True, text=True, timeout=120, env=dict(os.environ))


@pytest.fixture(scope="module")
def tenant(report_sandbox: SandboxServer) -> SandboxServer:
    assert report_sandbox.sandbox is not None
    store = report_sandbox.sandbox.store
    registry = store.resource_named("Microsoft.ContainerRegistry/registries", "contosoprod")
    assert registry is not None
    for name in (AWKWARD, FORMULA):
        sp = new_service_principal(store, new_application(store, name))
        assign(store, registry["id"], ACR_PULL, sp["id"], "ServicePrincipal")
    return report_sandbox


@pytest.fixture(scope="module")
def report(tenant: SandboxServer) -> dict[str, Any]:
    result = run_cli(tenant, "report")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar when standard error is not a terminal
    return dict(json.loads(result.stdout))


def _rights(entry: dict[str, Any]) -> tuple[Any, ...]:
    p = entry["principal"]
    return (p["objectId"], p["type"], p["displayName"], entry["pull"], entry["push"], entry["delete"])


async def test_the_json_report_holds_every_access_entry_and_nothing_else(tenant: SandboxServer,
                                                                          report: dict[str, Any]) -> None:
    """What `access NAME --json` prints for each registry (its reads and `to_json`, in this process
    with the real clients: eight more processes would cost CI ten seconds)."""
    assert set(report) >= {"generatedAt", "cloud", "tenant", "registries", "entries"}
    assert tenant.connection is not None
    assert report["tenant"] == tenant.connection["tenant_id"]
    names = [r["name"] for r in report["registries"]]
    assert len(names) == DEMO_REGISTRIES == len(set(names))
    async with AzureClients(sandbox_connection(tenant.connection)) as az:
        access_json = {name: to_json(await read_registry_access(az, await find_registry(az, name),
                                                                RoleDefinitions(az)))
                       for name in names}
    for name in names:
        alone = access_json[name]["entries"]
        mine = [e for e in report["entries"] if e["registry"] == name]
        assert [_rights(e) for e in mine] == [_rights(e) for e in alone], name
        # Paths keep what says where each right comes from.
        assert [[(p["kind"], p["role"], p["scope"], p["viaGroups"], p["rights"]) for p in e["paths"]] for e in mine] \
            == [[(p["kind"], p["role"], p["scope"], p["viaGroups"], p["rights"]) for p in e["paths"]] for e in alone]
        [summary] = [r for r in report["registries"] if r["name"] == name]
        assert summary["entries"] == len(alone)
    assert len(report["entries"]) == sum(r["entries"] for r in report["registries"])


def test_csv_opens_in_a_spreadsheet(tenant: SandboxServer, report: dict[str, Any]) -> None:
    result = run_cli(tenant, "report", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("registry,principalType,displayName,")
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert len(rows) == len(report["entries"])  # one row per registry × identity
    keys = [(r["registry"], r["objectId"] or r["displayName"]) for r in rows]
    assert len(keys) == len(set(keys))
    [awkward] = [r for r in rows if r["displayName"] == AWKWARD]
    assert (awkward["registry"], awkward["pull"], awkward["push"]) == ("contosoprod", "true", "false")
    assert awkward["paths"] == "AcrPull at registry"
    [formula] = [r for r in rows if r["displayName"].endswith("example.invalid\")")]
    assert formula["displayName"] == "'" + FORMULA  # shown as text, never evaluated
    pushers = [r for r in rows if r["push"] == "true" and " via " in r["paths"]]
    assert pushers  # the demo's group stories: the chain is in the cell


def test_json_lines_are_one_entry_each(tenant: SandboxServer, report: dict[str, Any]) -> None:
    result = run_cli(tenant, "report", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    entries = [json.loads(line) for line in lines]
    def keyed(items: list[dict[str, Any]]) -> list[str]:
        return sorted(json.dumps([e["registry"], *_rights(e)]) for e in items)

    assert keyed(entries) == keyed(report["entries"])


def test_a_reader_that_goes_away_ends_it_as_a_pipeline_expects(tenant: SandboxServer) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head -c 10` that has already gone: the first write fails (EPIPE)
    try:
        proc = subprocess.run(_cmd(tenant, "report", "--format", "jsonl"), stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120, env=dict(os.environ))
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr  # 128 + SIGPIPE, as `access` and the others
    assert proc.stderr == ""


def test_a_full_disk_is_one_error_line(tenant: SandboxServer) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(_cmd(tenant, "report"), stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=120, env=dict(os.environ))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the report could not be written to standard output")
    assert "ENOSPC" in lines[0]


def test_a_progress_bar_on_a_terminal_and_the_report_untouched(tenant: SandboxServer, report: dict[str, Any]) -> None:
    import pty

    leader, follower = pty.openpty()  # standard error is a terminal; standard output a pipe
    try:
        proc = subprocess.run(_cmd(tenant, "report", "--format", "jsonl"), stdout=subprocess.PIPE, stderr=follower,
                              text=True, timeout=120, env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert proc.returncode == 0
    assert b"reading registries" in shown and f"{DEMO_REGISTRIES}/{DEMO_REGISTRIES}".encode() in shown
    assert len(proc.stdout.splitlines()) == len(report["entries"])  # nothing of the bar on standard output


def test_include_takeover_counts_what_access_include_takeover_lists(tenant: SandboxServer) -> None:
    """Issue 18 with issue 17: each service principal's takeover counts in the report are the holders
    `access REGISTRY --include-takeover --json` lists for it (its own paths and the tenant-wide ones
    its `tenantWideTakeover` names, each holder once, itself not counted), and its federated credentials."""
    result = run_cli(tenant, "report", "--format", "jsonl", "--include-takeover")
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    access = run_cli(tenant, "access", "contosoprod", "--include-takeover", "--json")
    assert access.returncode == 0, access.stderr
    doc = json.loads(access.stdout)
    shared = doc["tenantWideTakeover"]
    checked = 0
    for expected in doc["entries"]:
        (got,) = [e for e in entries if e["registry"] == "contosoprod"
                  and e["principal"]["objectId"] == expected["principal"]["objectId"]
                  and e["principal"]["displayName"] == expected["principal"]["displayName"]]
        if expected["principal"]["type"] != "servicePrincipal" or not expected["paths"]:
            assert got["takeover"] is None, got
            continue
        kind = expected["tenantWideTakeover"]
        paths = expected["takeover"] + (shared[kind] if kind else [])
        # The shared list is everyone's: a tenant-wide holder is not counted on its own entry either.
        me = expected["principal"]["objectId"]
        others = [p for p in paths if not p["self"] and p["by"]["objectId"] != me]
        holders = {p["by"]["objectId"] for p in others}
        one_step = {p["by"]["objectId"] for p in others if p["steps"] == 1}
        assert got["takeover"] == {"holders": len(holders), "twoStep": len(holders - one_step),
                                   "federated": len(expected["federated"])}, expected["principal"]["displayName"]
        checked += 1
    assert checked >= 10
    payments = next(e for e in entries if e["registry"] == "contosoprod"
                    and e["principal"]["displayName"] == "github-actions-payments")
    assert payments["takeover"]["federated"] == 2 and payments["takeover"]["holders"] >= 1
    csv_out = run_cli(tenant, "report", "--format", "csv", "--include-takeover")
    assert csv_out.returncode == 0, csv_out.stderr
    header = next(csv.reader(io.StringIO(csv_out.stdout)))
    assert header[-3:] == ["takeoverHolders", "takeoverTwoStep", "federatedCredentials"]
