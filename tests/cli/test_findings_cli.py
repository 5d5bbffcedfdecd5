"""Issue 18: `acr-console findings` on the demo tenant, as a process through the installed entry point.

Each seeded story (acr_console/sandbox/seed.py) is listed under its rule: the admin user on contosodev
(DEMO_REGISTRIES), anonymous pull on contosobase (DEMO_ANONYMOUS_PULL), the expired secret of
jenkins-legacy-builds and the secret on helm-chart-publisher's service principal
(DEMO_PASSWORD_OVERRIDES), the disabled azure-devops-legacy-erp still assigned (DISABLED), and the
assignments of the deleted old-jenkins-agent (ORPHANED). The key ids and assignment ids are checked
against what the sandbox's Graph and ARM serve, read here through the SDK clients, not the console's
report. Bad input is one `error:` line, nothing sent. Every fix's command line, parsed by the real
parser, is the very request `--fix` runs.
"""

from __future__ import annotations

import importlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acr_console.azure.authorization import RoleDefinitions
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.findings_scan import scan_findings
from acr_console.azure.graph import graph_json
from acr_console.models import FindingSettings
from acr_console.sandbox.seed import ORPHANED, stable_id
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture

findings_cli_sandbox = sandbox_fixture("findings-cli")
ENTRY = Path(sys.executable).with_name("acr-console")


def run(server: SandboxServer, tmp_path: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "ACR_CONSOLE_AUDIT_LOG": str(tmp_path / "audit.jsonl"), **(env or {})}
    return subprocess.run([str(ENTRY), "--sandbox-data", str(server.data_dir), *args], capture_output=True,
                          text=True, timeout=120, env=base, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def listed(findings_cli_sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    result = run(findings_cli_sandbox, tmp_path_factory.mktemp("findings"), "findings", "--json")
    assert result.returncode == 1, result.stderr  # findings exist: the documented non-zero status
    assert "takeover-by-unprivileged not evaluated" in result.stderr
    doc: list[dict[str, Any]] = json.loads(result.stdout)
    return doc


def of(listed: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [f for f in listed if f["rule"] == rule]


def test_the_json_has_the_issue_shape(listed: list[dict[str, Any]]) -> None:
    for f in listed:
        assert set(f) >= {"rule", "severity", "target", "evidence", "fix", "source"}
        assert f["severity"] in ("high", "medium", "low") and f["target"]["id"] and f["source"]
        assert f["fix"] is None or (set(f["fix"]) == {"operation", "command"}
                                    and f["fix"]["command"].startswith(f"acr-console {f['fix']['operation']} "))
    ranks = [("high", "medium", "low").index(f["severity"]) for f in listed]
    assert ranks == sorted(ranks)


def test_admin_user_and_anonymous_pull_are_listed_with_their_fixes(listed: list[dict[str, Any]]) -> None:
    (admin,) = of(listed, "admin-user-enabled")
    assert admin["target"]["registry"] == "contosodev" and admin["severity"] == "high"
    assert admin["fix"]["command"] == "acr-console disable-admin-user --registry contosodev"
    (anonymous,) = of(listed, "anonymous-pull-enabled")
    assert anonymous["fix"]["command"] == "acr-console disable-anonymous-pull --registry contosobase"


async def service_principal(server: SandboxServer, name: str) -> dict[str, Any]:
    async with AzureClients(sandbox_connection(server.connection or {})) as az:
        found = await graph_json(az, "GET", "servicePrincipals", {"$filter": f"displayName eq '{name}'"})
        (sp,) = found["value"]
        app = await graph_json(az, "GET", f"applications(appId='{sp['appId']}')")
        return {"sp": sp, "app": app}


async def test_the_expired_secret_of_jenkins_legacy_builds(findings_cli_sandbox: SandboxServer,
                                                           listed: list[dict[str, Any]]) -> None:
    (finding,) = [f for f in of(listed, "expired-credential-with-access")
                  if f["target"]["principal"] == "jenkins-legacy-builds"]
    truth = await service_principal(findings_cli_sandbox, "jenkins-legacy-builds")
    (secret,) = truth["app"]["passwordCredentials"]  # the seed's one secret, ended 45 days ago
    assert finding["target"]["keyId"] == secret["keyId"] and finding["target"]["on"] == "application"
    assert "expired 45 days ago" in finding["evidence"] and "pull/push on contosodev" in finding["evidence"]
    assert finding["fix"]["command"] == f"acr-console remove-credential {truth['sp']['appId']} {secret['keyId']}"


async def test_the_secret_on_helm_chart_publishers_service_principal(findings_cli_sandbox: SandboxServer,
                                                                     listed: list[dict[str, Any]]) -> None:
    (finding,) = of(listed, "secret-on-service-principal")
    truth = await service_principal(findings_cli_sandbox, "helm-chart-publisher")
    (secret,) = truth["sp"]["passwordCredentials"]
    assert finding["target"]["principal"] == "helm-chart-publisher"
    assert finding["target"]["keyId"] == secret["keyId"] and finding["target"]["on"] == "servicePrincipal"
    assert truth["app"]["passwordCredentials"] == []  # what the portal's App registrations blade shows


def test_the_orphaned_assignments_of_old_jenkins_agent(listed: list[dict[str, Any]]) -> None:
    found = of(listed, "orphaned-assignment")
    assert sorted(f["target"]["registry"] for f in found) == ["contosobase", "contosodev"]
    assert {f["target"]["objectId"] for f in found} == {stable_id("contoso", "sp", ORPHANED)}
    for f in found:
        assert f["fix"]["command"] == f"acr-console unassign --assignment-id {f['target']['assignmentId']}"


def test_the_disabled_principal_still_assigned(listed: list[dict[str, Any]]) -> None:
    (finding,) = of(listed, "disabled-principal-assigned")
    assert finding["target"]["principal"] == "azure-devops-legacy-erp"
    assert finding["target"]["registry"] == "contosoprod" and "AcrPush" in finding["evidence"]
    assert finding["fix"]["operation"] == "unassign"


def test_push_at_a_subscription_and_latent_push_above_registries(listed: list[dict[str, Any]]) -> None:
    broad = {f["target"]["principal"] for f in of(listed, "push-at-broad-scope")}
    assert {"image-promoter", "terraform-shared-infra"} <= broad  # seeded at /subscriptions/…
    latent = {f["target"]["principal"] for f in of(listed, "privileged-role-above-registry")}
    assert {"terraform-shared-infra", "access-governance-bot", "platform-engineering"} <= latent


def test_the_table_for_people(findings_cli_sandbox: SandboxServer, tmp_path: Path) -> None:
    result = run(findings_cli_sandbox, tmp_path, "findings", env={"COLUMNS": "80"})
    assert result.returncode == 1, result.stderr
    assert "finding(s) on 8 registries" in result.stdout.splitlines()[0]
    assert "HIGH   admin-user-enabled  contosodev" in result.stdout
    assert "fix: acr-console disable-admin-user --registry contosodev" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--fix", "admin-user"], 2, "--fix: no rule named 'admin-user'"),
    (["--fix", "\x1b[2Jx"], 2, "--fix: no rule named '\\x1b[2Jx'"),  # shown, never obeyed
    (["--target", "contosodev"], 2, "--target goes with --fix RULE"),
    (["--yes"], 2, "--yes goes with --fix RULE"),
    (["--fix", "admin-user-enabled"], 2, "no terminal to confirm on"),  # stdin is not a terminal
    (["--fix", "orphaned-assignment", "--yes"], 2, "2 orphaned-assignment findings: name one with --target"),
    (["--fix", "orphaned-assignment", "--target", "nowhere", "--yes"], 3, "no orphaned-assignment finding matches"),
    (["--fix", "privileged-role-above-registry", "--target", "access-governance-bot", "--yes"], 2,
     "has no fix the console can run"),
])
def test_bad_input_is_one_error_line_and_nothing_is_written(findings_cli_sandbox: SandboxServer, tmp_path: Path,
                                                            args: list[str], code: int, words: str) -> None:
    result = run(findings_cli_sandbox, tmp_path, "findings", *args)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.stderr
    audit = tmp_path / "audit.jsonl"
    assert not audit.exists() or audit.read_text() == ""


async def test_every_fix_command_parses_to_the_request_fix_runs(findings_cli_sandbox: SandboxServer) -> None:
    """The command a person copies and `findings --fix` are one request: parsed by the program's own parser,
    each fix's command line builds exactly the request built from the finding's arguments."""
    from acr_console.main import build_parser
    from acr_console.operations.registry import operation

    async with AzureClients(sandbox_connection(findings_cli_sandbox.connection or {})) as az:
        scan = await scan_findings(az, RoleDefinitions(az), FindingSettings())
    fixes = [f.fix for f in scan.result.findings if f.fix is not None]
    assert {fix.operation for fix in fixes} >= {"disable-admin-user", "disable-anonymous-pull", "remove-credential",
                                                "unassign"}
    for fix in fixes:
        argv = shlex.split(fix.command)[1:]
        args = build_parser(argv).parse_args(argv)
        op = operation(fix.operation)
        module = importlib.import_module(f"acr_console.cli.{_module_of(fix.operation)}")
        command = next(c for c in module.COMMANDS if c.name == fix.operation)
        assert command.request_of(args) == op.request_type(**dict(fix.arguments)), fix.command


def _module_of(operation_name: str) -> str:
    from acr_console.cli.main import COMMAND_MODULES

    return next(m for m, names in COMMAND_MODULES.items() if operation_name in names)


def test_the_configuration_ignores_expires_and_turns_rules_off(findings_cli_sandbox: SandboxServer,
                                                                tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("""
[findings]
disabled_rules = ["secret-long-lifetime"]

[[findings.ignore]]
rule = "orphaned-assignment"
target = "contosobase"
reason = "kept for the audit trail"

[[findings.ignore]]
rule = "admin-user-enabled"
target = "contosodev"
reason = "legacy build agents"
expires = 2020-01-31
""")
    result = run(findings_cli_sandbox, tmp_path, "findings", "--json", env={"ACR_CONSOLE_CONFIG": str(config)})
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert [f["target"]["registry"] for f in of(doc, "orphaned-assignment")] == ["contosodev"]
    (admin,) = of(doc, "admin-user-enabled")
    assert admin["ignoreExpired"] == {"reason": "legacy build agents", "expires": "2020-01-31"}
    assert of(doc, "secret-long-lifetime") == []
    assert "rule secret-long-lifetime not evaluated: disabled in the configuration" in result.stderr


def test_no_finding_is_exit_status_0(findings_cli_sandbox: SandboxServer, tmp_path: Path) -> None:
    """For a scheduled job: every rule but the admin user's off, and that one finding ignored until 2999."""
    from acr_console.models import FindingRule

    config = tmp_path / "config.toml"
    others = ", ".join(f'"{r.value}"' for r in FindingRule if r is not FindingRule.ADMIN_USER_ENABLED)
    config.write_text(f"[findings]\ndisabled_rules = [{others}]\n\n[[findings.ignore]]\nrule = "
                      '"admin-user-enabled"\ntarget = "contosodev"\nreason = "r"\nexpires = 2999-12-31\n')
    result = run(findings_cli_sandbox, tmp_path, "findings", env={"ACR_CONSOLE_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert " ".join(result.stdout.split()) == "0 finding(s) on 8 registries: 0 high, 0 medium, 0 low; 1 ignored by " \
                                               "the configuration"


def test_include_takeover_names_who_can_become_a_pusher_without_a_right_of_their_own(
        findings_cli_sandbox: SandboxServer, tmp_path: Path) -> None:
    """The seed's takeover stories (seed.py DEMO_PEOPLE, DEMO_GRAPH_APPS): none of them holds a registry
    right, each can add a credential to principals that do."""
    result = run(findings_cli_sandbox, tmp_path, "findings", "--json", "--include-takeover")
    assert result.returncode == 1 and "not evaluated" not in result.stderr, result.stderr
    found = {f["target"]["principal"]: f for f in of(json.loads(result.stdout), "takeover-by-unprivileged")}
    assert set(found) == {"Dana Whitfield", "Erin Oduya", "Marco Bianchi", "Priya Raman", "app-inventory-monitor",
                          "entitlement-sync"}
    assert "(github-actions-payments, github-actions-web)" in found["Dana Whitfield"]["evidence"]
    assert "application-owner" in found["Dana Whitfield"]["evidence"]
    assert "Cloud Application Administrator" in found["Marco Bianchi"]["evidence"]
    assert "(two steps)" in found["entitlement-sync"]["evidence"] and "(two steps)" in found["Priya Raman"]["evidence"]
