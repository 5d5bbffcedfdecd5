"""The findings view (issue 18): `f` on the registry list or `:findings`, most severe first, the severity
coloured, `/` to filter, Enter to the plan that fixes the highlighted finding.

Against the demo sandbox. What the view must list comes from `acr-console findings --json` run as a
process on the same sandbox (the command line's read, not the view's rows). The fix test has a sandbox
of its own (it writes): its ground truth is the registry's `adminUserEnabled` read back through ARM with
azure-mgmt-containerregistry (Registries_Get, as `az acr show` reads it:
https://learn.microsoft.com/rest/api/containerregistry/registries/get), not the view.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.style import Style

from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.models import Finding, FindingRule, Severity
from acr_console.operations.registry import DISABLE_ADMIN_USER
from acr_console.sandbox.server import SandboxServer
from acr_console.tui.screens.confirm_plan import ConfirmPlanScreen
from acr_console.tui.screens.findings import FindingsScreen
from acr_console.tui.screens.registries import RegistriesScreen
from acr_console.tui.widgets.path_detail import DetailPane

from ..support.sandbox import sandbox_fixture
from .conftest import make_app, run_confirmed, settle

# Seeded at the time of the run, and the console's clock not pinned: `findings --json`, run as a process,
# reads with the real clock, and both must see the same secrets as too long-lived or expired.
findings_view_sandbox = sandbox_fixture("findings-view")  # read only
findings_fix_view_sandbox = sandbox_fixture("findings-fix-view")  # written by its one test
ENTRY = Path(sys.executable).with_name("acr-console")
ADMIN = FindingRule.ADMIN_USER_ENABLED.value


def cli_findings(server: SandboxServer, config: Path) -> list[dict[str, Any]]:
    """`acr-console findings --json` as a process (exit 1: there are findings), with the empty
    configuration the console has here (conftest.no_user_config): the same [findings] settings."""
    env = {**os.environ, "ACR_CONSOLE_CONFIG": str(config)}
    result = subprocess.run([str(ENTRY), "--sandbox-data", str(server.data_dir), "findings", "--json"],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env)
    assert result.returncode == 1, result.stderr
    doc: list[dict[str, Any]] = json.loads(result.stdout)
    return doc


async def admin_user_enabled(server: SandboxServer, name: str) -> bool:
    """Registries_Get through azure-mgmt-containerregistry over the sandbox's HTTPS."""
    from acr_console.azure.registry_access import find_registry

    async with AzureClients(sandbox_connection(server.connection or {})) as az:
        registry = await find_registry(az, name)
        await az.load(registry=True)
        got = await az.registry_client(registry.subscription_id).registries.get(registry.resource_group, name)
        return bool(got.admin_user_enabled)


def shown_findings(screen: FindingsScreen) -> list[Finding]:
    """The findings of the rows the table shows, top to bottom."""
    return [r.data for r in screen.table._rows if isinstance(r.data, Finding)]


def select(screen: FindingsScreen, rule: str, target: str) -> None:
    index = next(i for i, f in enumerate(shown_findings(screen)) if f.rule.value == rule and f.matches(target))
    screen.table.move_cursor(row=index)


async def open_findings(pilot: Any) -> FindingsScreen:
    await settle(pilot)
    await pilot.press("f")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, FindingsScreen)
    return screen


def app_for(server: SandboxServer, *, read_only: bool = False) -> Any:
    return make_app(server.connection or {}, read_only=read_only, clock=lambda: datetime.now(UTC))


def notices(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


def empty_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("findings-view-config") / "config.toml"
    path.touch()
    return path


@pytest.fixture(scope="module")
def expected(findings_view_sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return cli_findings(findings_view_sandbox, empty_config(tmp_path_factory))


async def test_f_lists_what_findings_lists_high_first_coloured(findings_view_sandbox: SandboxServer,
                                                               expected: list[dict[str, Any]]) -> None:
    app = app_for(findings_view_sandbox, read_only=True)  # the view reads: read-only opens it
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_findings(pilot)
        found = shown_findings(screen)
        # The command line's findings, every one, no other.
        assert sorted((f.rule.value, f.target_id) for f in found) == sorted(
            (f["rule"], f["target"]["id"]) for f in expected)
        ranks = [f.severity.rank for f in found]
        assert ranks == sorted(ranks)
        high = [f for f in found if f.severity is Severity.HIGH]
        assert any(f.rule.value == ADMIN and f.target.get("registry") == "contosodev" for f in high)
        assert found[0].severity is Severity.HIGH
        # The severity cell is coloured: high red, medium yellow, low blue.
        colours = {}
        for row in screen.table._rows:
            assert isinstance(row.data, Finding)
            colours[row.data.severity] = Style.parse(str(row.cells[0].style)).color
        assert {s: c.name if c else None for s, c in colours.items()} == {
            Severity.HIGH: "red", Severity.MEDIUM: "yellow", Severity.LOW: "blue"}
        # Counts per severity in the summary, and the rule not evaluated said once.
        message = str(screen.query_one("#findings-message").render())
        for severity in Severity:
            count = sum(1 for f in expected if f["severity"] == severity.value)
            assert f"{count} {severity.value}" in message
        assert message.count("takeover-by-unprivileged not evaluated") == 1
        # The detail pane: the highlighted finding's evidence in full, and its fix's command line.
        select(screen, ADMIN, "contosodev")
        await pilot.pause()
        detail = " ".join(screen.query_one(DetailPane).text.split())
        admin = next(f for f in expected if f["rule"] == ADMIN)
        assert " ".join(admin["evidence"].split()) in detail
        assert admin["fix"]["command"] in detail
        # Read-only: Enter is refused with the read-only notice, and nothing opens.
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert notices(app)[-1].startswith(f"read-only: {DISABLE_ADMIN_USER.title} is refused"), notices(app)


async def test_slash_filters_by_rule_and_enter_without_a_fix_only_tells(findings_view_sandbox: SandboxServer,
                                                                        expected: list[dict[str, Any]]) -> None:
    app = app_for(findings_view_sandbox)
    async with app.run_test(size=(120, 40)) as pilot:
        app.run_command("findings")  # the command line opens it too
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FindingsScreen)
        total = screen.table.row_count
        await pilot.press("slash", *"push-on-many", "enter")
        await settle(pilot)
        found = shown_findings(screen)
        assert [f.rule for f in found] == [FindingRule.PUSH_ON_MANY_REGISTRIES] * sum(
            1 for f in expected if f["rule"] == "push-on-many-registries")
        assert found and screen.table.row_count < total
        assert found[0].fix is None
        stack = list(app.screen_stack)
        await pilot.press("enter")  # no fix: a notice with its evidence and source, nothing opens
        await settle(pilot)
        assert list(app.screen_stack) == stack
        last = notices(app)[-1]
        assert "has no fix the console can run" in last and found[0].evidence in last and found[0].source in last
        await pilot.press("escape")  # clears the filter
        await settle(pilot)
        assert screen.table.row_count == total
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RegistriesScreen)


async def test_enter_shows_the_plan_of_each_kind_of_fix_and_escape_sends_nothing(
        findings_view_sandbox: SandboxServer, audit_file: Path) -> None:
    """One finding of each operation a fix names (disable the admin user or anonymous pull, unassign
    by assignment id, remove a credential): Enter builds its plan from the finding's request and shows
    it for confirmation; Cancel sends nothing (no write is audited)."""
    app = app_for(findings_view_sandbox)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_findings(pilot)
        first: dict[str, Finding] = {}
        for f in shown_findings(screen):
            if f.fix is not None:
                first.setdefault(f.fix.operation, f)
        assert set(first) == {"disable-admin-user", "disable-anonymous-pull", "unassign", "remove-credential"}
        for operation, finding in first.items():
            select(screen, finding.rule.value, finding.target_id)
            await pilot.press("enter")
            await settle(pilot)
            confirm = app.screen
            assert isinstance(confirm, ConfirmPlanScreen), (operation, [n for n in notices(app)])
            assert confirm.plan.operation == operation and not confirm.plan.empty
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen
    assert not audit_file.exists()


async def test_enter_fixes_the_admin_user_through_its_plan_and_the_finding_goes(
        findings_fix_view_sandbox: SandboxServer, tmp_path: Path) -> None:
    server = findings_fix_view_sandbox
    assert await admin_user_enabled(server, "contosodev")
    app = app_for(server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_findings(pilot)
        select(screen, ADMIN, "contosodev")
        await pilot.press("enter")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmPlanScreen)
        plan = " ".join(str(confirm.query_one("#confirm-plan").render()).split())
        assert confirm.plan.operation == "disable-admin-user"
        assert "contosodev" in plan and "admin" in plan.lower()
        execution = await run_confirmed(pilot)
        assert execution.outcome is not None and execution.outcome.ok
        await pilot.press("escape")  # close the run: every list reads again
        await settle(pilot)
        assert app.screen is screen
        assert not [f for f in shown_findings(screen) if f.rule.value == ADMIN and f.matches("contosodev")]
        assert shown_findings(screen)  # the others are still listed
    assert not await admin_user_enabled(server, "contosodev")
    config = tmp_path / "config.toml"
    config.touch()
    after = cli_findings(server, config)
    assert not [f for f in after if f["rule"] == ADMIN and f["target"].get("registry") == "contosodev"]


async def test_t_reads_takeover_and_lists_what_findings_include_takeover_lists(
        findings_view_sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`T` turns the takeover rule on, as `findings --include-takeover` does: its findings are those of
    the command line run as a process, and the "not evaluated" line goes."""
    env = {**os.environ, "ACR_CONSOLE_CONFIG": str(empty_config(tmp_path_factory))}
    result = subprocess.run([str(ENTRY), "--sandbox-data", str(findings_view_sandbox.data_dir), "findings", "--json",
                             "--include-takeover"], capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL, env=env)
    assert result.returncode == 1, result.stderr
    rule = FindingRule.TAKEOVER_BY_UNPRIVILEGED.value
    want = sorted(f["target"].get("principal") or "" for f in json.loads(result.stdout) if f["rule"] == rule)
    assert want, "the demo tenant has holders without a right of their own (Dana Whitfield, Erin Oduya…)"
    app = app_for(findings_view_sandbox, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_findings(pilot)
        assert not [f for f in shown_findings(screen) if f.rule.value == rule]
        assert f"{rule} not evaluated" in str(screen.query_one("#findings-message").render())
        await pilot.press("T")
        await settle(pilot)
        got = sorted(f.target.get("principal") or "" for f in shown_findings(screen) if f.rule.value == rule)
        assert got == want
        assert f"{rule} not evaluated" not in str(screen.query_one("#findings-message").render())
