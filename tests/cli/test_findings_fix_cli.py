"""Issue 18: `findings --fix RULE [--target ID]` on a sandbox of its own, as a process.

A fix runs the finding's operation through its plan, the confirmation and the audit log, and the next
`findings` no longer lists it. The ground truth is the sandbox's ARM read back through the management
SDKs (the registry's `adminUserEnabled`, Registries_Get; the role assignment, RoleAssignments_GetById:
404 once deleted), not the console's report. Read-only mode and an unusable audit log refuse the fix
before anything is read or sent (as every write: cli/ops_common.preflight, cli/main.writes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture

findings_fix_sandbox = sandbox_fixture("findings-fix")  # this module's writes change it: a sandbox of its own
ENTRY = Path(sys.executable).with_name("acr-console")


def run(server: SandboxServer, audit: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACR_CONSOLE_AUDIT_LOG": str(audit)}
    return subprocess.run([str(ENTRY), "--sandbox-data", str(server.data_dir), *args], capture_output=True,
                          text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)


def listed(server: SandboxServer, audit: Path) -> list[dict[str, Any]]:
    result = run(server, audit, "findings", "--json")
    assert result.returncode in (0, 1), result.stderr
    doc: list[dict[str, Any]] = json.loads(result.stdout)
    return doc


async def registry_switch(server: SandboxServer, name: str, switch: str) -> bool:
    """Registries_Get through azure-mgmt-containerregistry, as `az acr show` reads it: `admin_user_enabled`
    or `anonymous_pull_enabled`."""
    from acr_console.azure.registry_access import find_registry

    async with AzureClients(sandbox_connection(server.connection or {})) as az:
        registry = await find_registry(az, name)
        await az.load(registry=True)
        got = await az.registry_client(registry.subscription_id).registries.get(registry.resource_group, name)
        return bool(getattr(got, switch))


async def admin_user_enabled(server: SandboxServer) -> bool:
    return await registry_switch(server, "contosodev", "admin_user_enabled")


async def assignment_exists(server: SandboxServer, assignment_id: str) -> bool:
    """RoleAssignments_GetById through azure-mgmt-authorization."""
    subscription = assignment_id.split("/")[2]
    async with AzureClients(sandbox_connection(server.connection or {})) as az:
        await az.load(authorization=True)
        try:
            await az.authorization_client(subscription).role_assignments.get_by_id(assignment_id)
        except ResourceNotFoundError:
            return False
        return True


async def test_read_only_and_an_unusable_audit_log_refuse_the_fix_before_anything(
        findings_fix_sandbox: SandboxServer, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    # Each test of this module changes something of its own: here anonymous pull on contosobase, untouched.
    refused = run(findings_fix_sandbox, audit, "--read-only", "findings", "--fix", "anonymous-pull-enabled",
                  "--target", "contosobase", "--yes")
    assert refused.returncode == 4, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ReadOnlyMode") and "'findings --fix'" in lines[0]
    folder = tmp_path / "a-folder"
    folder.mkdir()
    blocked = run(findings_fix_sandbox, folder, "findings", "--fix", "anonymous-pull-enabled", "--yes")
    assert blocked.returncode == 2 and "is a folder" in blocked.stderr, blocked.stderr
    # Reading is no write: the same audit path does not stop it.
    assert run(findings_fix_sandbox, folder, "findings", "--json").returncode == 1
    assert not audit.exists()
    assert await registry_switch(findings_fix_sandbox, "contosobase", "anonymous_pull_enabled") is True


async def test_fixing_the_admin_user_of_contosodev(findings_fix_sandbox: SandboxServer, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    assert await admin_user_enabled(findings_fix_sandbox) is True
    done = run(findings_fix_sandbox, audit, "findings", "--fix", "admin-user-enabled", "--target", "contosodev",
               "--yes")
    assert done.returncode == 0, done.stderr
    assert "Plan: Disable the admin user of contosodev" in done.stdout  # the operation's own plan, shown first
    assert "Disable the admin user of contosodev: complete" in done.stdout
    assert await admin_user_enabled(findings_fix_sandbox) is False  # ARM's own answer
    assert [f for f in listed(findings_fix_sandbox, audit) if f["rule"] == "admin-user-enabled"] == []
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert {r["operation"] for r in records} == {"disable-admin-user"}
    assert records[-1]["phase"] == "finished"
    again = run(findings_fix_sandbox, audit, "findings", "--fix", "admin-user-enabled", "--yes")
    assert again.returncode == 0 and "no admin-user-enabled finding to fix" in again.stderr


async def test_fixing_one_orphaned_assignment_named_by_its_registry(findings_fix_sandbox: SandboxServer,
                                                                     tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    before = {f["target"]["registry"]: f["target"]["assignmentId"]
              for f in listed(findings_fix_sandbox, audit) if f["rule"] == "orphaned-assignment"}
    assert sorted(before) == ["contosobase", "contosodev"]
    done = run(findings_fix_sandbox, audit, "findings", "--fix", "orphaned-assignment", "--target", "contosodev",
               "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["operation"] == "unassign"
    assert await assignment_exists(findings_fix_sandbox, before["contosodev"]) is False
    assert await assignment_exists(findings_fix_sandbox, before["contosobase"]) is True
    after = [f["target"]["registry"] for f in listed(findings_fix_sandbox, audit) if f["rule"] == "orphaned-assignment"]
    assert after == ["contosobase"]
