"""`acr-console registries` as a user runs it: a separate process, against the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from acr_console.sandbox.seed import DEMO_REGISTRIES


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "acr_console", *args], capture_output=True, text=True,
                          timeout=120, env=env or dict(os.environ))


def test_registries_json_from_running_sandbox(sandbox_server: Any) -> None:
    result = run_cli("--sandbox-data", str(sandbox_server.data_dir), "registries", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {r["name"] for r in doc} == {name for _, _, name, *_ in DEMO_REGISTRIES}
    by_name = {r["name"]: r for r in doc}
    assert by_name["contosodev"]["adminUserEnabled"] is True
    assert by_name["contosoprodweu"]["mode"] == "abac"
    assert by_name["contosoprod"] == {
        "name": "contosoprod",
        "loginServer": "contosoprod.azurecr.io",
        "resourceGroup": "rg-platform-prod",
        "subscriptionId": by_name["contosoprod"]["subscriptionId"],
        "subscriptionName": "Contoso Production",
        "sku": "Premium",
        "adminUserEnabled": False,
        "mode": "rbac",
        "location": "westeurope",
        "id": by_name["contosoprod"]["id"],
    }
    assert sandbox_server.connection["admin"]["client_secret"] not in result.stdout + result.stderr


def test_sandbox_started_in_process_when_none_serves(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    result = run_cli("--sandbox-data", str(data), "registries")
    assert result.returncode == 0, result.stderr
    assert "contosoprodweu" in result.stdout
    # It served only for the life of the command.
    assert not (data / "connection.json").exists()


def test_subscription_filter_and_unknown_subscription(sandbox_server: Any) -> None:
    subs = sandbox_server.connection["subscriptions"]
    ok = run_cli("--sandbox-data", str(sandbox_server.data_dir), "--subscription", subs[0], "registries", "--json")
    assert ok.returncode == 0, ok.stderr
    assert {r["subscriptionId"] for r in json.loads(ok.stdout)} == {subs[0]}
    missing = run_cli("--sandbox-data", str(sandbox_server.data_dir), "--subscription",
                      "00000000-0000-0000-0000-000000000000", "registries")
    assert missing.returncode == 3
    assert "SubscriptionNotFound" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_bad_usage_exits_2_without_traceback() -> None:
    result = run_cli("--cloud", "Mars", "registries")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr
