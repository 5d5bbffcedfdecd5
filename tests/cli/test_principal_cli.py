"""`principal` and `expiring` as a user runs them, against the demo tenant's known stories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def run_cli(server: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "acr_console", "--sandbox-data", str(server.data_dir), *args],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


def test_principal_with_secret_on_the_service_principal(sandbox_server: Any) -> None:
    result = run_cli(sandbox_server, "principal", "helm-chart-publisher", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["principal"]["displayName"] == "helm-chart-publisher"
    assert doc["principal"]["enabled"] is True
    # The demo's story: its only secret sits on the SP object, invisible under App registrations.
    assert [(c["type"], c["on"]) for c in doc["credentials"]] == [("password", "servicePrincipal")]
    assert [a["role"] for a in doc["assignments"]] == ["AcrPush"]
    assert doc["assignments"][0]["scope"].endswith("/registries/contosobase")


def test_principal_found_by_app_id_and_through_groups(sandbox_server: Any) -> None:
    by_name = json.loads(run_cli(sandbox_server, "principal", "github-actions-payments", "--json").stdout)
    app_id = by_name["principal"]["appId"]
    result = run_cli(sandbox_server, "principal", app_id, "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["principal"]["objectId"] == by_name["principal"]["objectId"]
    assert {g["displayName"] for g in doc["groups"]} >= {"acr-pushers", "team-payments-ci"}
    via = [a for a in doc["assignments"] if a["viaGroup"]]
    assert via and all(a["role"] == "AcrPush" for a in via)


def test_disabled_principal_and_unknown_principal(sandbox_server: Any) -> None:
    doc = json.loads(run_cli(sandbox_server, "principal", "azure-devops-legacy-erp", "--json").stdout)
    assert doc["principal"]["enabled"] is False
    missing = run_cli(sandbox_server, "principal", "no-such-principal")
    assert missing.returncode == 3
    assert "no service principal is named 'no-such-principal'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_expiring_lists_the_demo_stories_soonest_first(sandbox_server: Any) -> None:
    result = run_cli(sandbox_server, "expiring", "--within", "30", "--json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    names = [x["principal"]["displayName"] for x in items]
    # Seeded: one secret expired 45 days ago, six expiring in 4 to 27 days.
    assert names[0] == "jenkins-legacy-builds"
    assert items[0]["credential"]["expired"] is True
    assert set(names) >= {"argo-cd-image-updater", "github-actions-mobile-api", "gitlab-runner-ml",
                          "github-actions-payments", "developer-portal-preview", "nightly-cleanup-job"}
    ends = [x["credential"]["end"] for x in items]
    assert ends == sorted(ends)
    assert all(x["registries"] for x in items)


def test_expiring_rejects_a_bad_window(sandbox_server: Any) -> None:
    result = run_cli(sandbox_server, "expiring", "--within", "-3")
    assert result.returncode == 2
    assert "--within" in result.stderr
