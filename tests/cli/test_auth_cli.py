"""`--auth cli` as a process: the real `acr-console` signs in through azure-identity's
AzureCliCredential, which runs the stand-in `az` first on PATH (tests/support/fake_az: sandbox
tokens, one recorded file per process, 0.7 s per call like a real `az`).

Against the sandbox, `--sandbox-data DIR --auth cli` keeps the sandbox's endpoints and trust and
signs in through `az` instead of the admin's secret (session.py). AzureCliCredential caches nothing
(Azure/azure-sdk-for-python#40636) and kiota asks for a token per Graph request, so without the
console's token cache an access read started one `az` per request (issue 15).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from acr_console.sandbox.server import SandboxServer
from tests.support.fake_az import az_calls, fake_az_env, resource_of
from tests.support.sandbox import sandbox_fixture

REGISTRY = "contosoprod"
cli_sandbox = sandbox_fixture("auth-cli")


def run(server: SandboxServer, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "acr_console", "--sandbox-data", str(server.data_dir),
                           "--auth", "cli", *args], capture_output=True, text=True, timeout=180, env=env)


def test_access_starts_at_most_one_az_per_scope(cli_sandbox: SandboxServer, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    env = fake_az_env(cli_sandbox.data_dir / "connection.json", calls, delay=0.7)
    done = run(cli_sandbox, env, "access", REGISTRY, "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["registry"]["name"] == REGISTRY and doc["entries"]
    per_resource = Counter(resource_of(c) for c in az_calls(calls))
    # ARM for the registry and its assignments, Graph for the principals and groups: one each.
    assert per_resource == {"https://management.azure.com": 1, "https://graph.microsoft.com": 1}
    # AzureCliCredential's own arguments (azure-identity 1.27), with the sandbox's tenant.
    assert cli_sandbox.connection is not None
    assert all(c[:4] == ["account", "get-access-token", "--output", "json"]
               and c[c.index("--tenant") + 1] == cli_sandbox.connection["tenant_id"] for c in az_calls(calls))


def test_an_az_nobody_signed_in_to_is_one_error_line(cli_sandbox: SandboxServer, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    done = run(cli_sandbox, fake_az_env(None, calls), "access", REGISTRY, "--json")
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    assert "az login" in lines[0] and "Traceback" not in done.stderr
    # The failure is shared by the requests that waited for it: one `az` per scope at most.
    assert max(Counter(resource_of(c) for c in az_calls(calls)).values()) == 1
