"""Issue 16: `access` tells a disabled principal (accountEnabled false: it holds its roles but cannot
sign in) from one that can use them. The table marks its rights ⊘ and its name "(sign-in disabled)", and
counts it apart; `--json` has `"enabled"` in every entry's principal block. Seeded:
azure-devops-legacy-erp, disabled, AcrPush on contosoprod (acr_console/sandbox/seed.py, DISABLED).
Run as a real process (`python -m acr_console`), as a person or a script would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

DISABLED = "azure-devops-legacy-erp"


def run(server: Any, *argv: str) -> str:
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "acr_console", "--sandbox-data", str(server.data_dir), *argv],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_json_says_enabled_for_every_entry(sandbox_server: Any) -> None:
    doc = json.loads(run(sandbox_server, "access", "contosoprod", "--json"))
    by_name = {e["principal"]["displayName"]: e for e in doc["entries"]}
    assert by_name[DISABLED]["principal"]["enabled"] is False
    assert by_name[DISABLED]["push"] is True  # the role is still there: what it would grant
    assert by_name["github-actions-web"]["principal"]["enabled"] is True
    assert all("enabled" in e["principal"] for e in doc["entries"])


def test_the_table_marks_a_disabled_pusher_and_counts_it_apart(sandbox_server: Any) -> None:
    out = run(sandbox_server, "access", "contosoprod", "--can", "push")
    pushers = json.loads(run(sandbox_server, "access", "contosoprod", "--can", "push", "--json"))["entries"]
    able = [e for e in pushers if e["principal"]["enabled"]]
    assert len(able) == len(pushers) - 1
    assert f"who can push: {len(able)} principal(s) (1 with sign-in disabled)" in out
    lines = out.splitlines()
    [at] = [n for n, line in enumerate(lines) if line.split()[:1] == [DISABLED]]
    assert "⊘" in lines[at] and "✓" not in lines[at]
    assert "(sign-in disabled)" in " ".join(lines[at:at + 2])  # the name column may fold it onto the next line
