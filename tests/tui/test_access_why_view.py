"""Issue 16 in the console (Pilot, against the sandbox): the why. A repository-limited push on the ABAC
registry is marked ◐ and its detail says where; a filter by an inner nested group finds the principals
reached through it; an orphaned assignment's R removes it by id (its form, plan and confirmation), the
registry's own role assignments being the ground truth. The write is real: the sandbox is this module's own."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from acr_console.models import AccessEntry
from acr_console.sandbox.server import SandboxServer
from acr_console.tui.screens.confirm_plan import ConfirmPlanScreen
from acr_console.tui.screens.forms.assign_role import RemoveAssignmentForm
from acr_console.tui.screens.registry_access import RegistryAccessScreen
from acr_console.tui.widgets.filter_bar import FilterBar
from acr_console.tui.widgets.path_detail import PathDetail

from ..support.sandbox import sandbox_fixture
from .conftest import PINNED_NOW, make_app, run_confirmed, settle
from .test_flows import confirm_and_run, submit_form

why_tui_sandbox = sandbox_fixture("why-tui", seed_time=PINNED_NOW.timestamp())


async def open_access(pilot: Any, registry: str) -> RegistryAccessScreen:
    pilot.app.run_command(f"acr {registry}")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RegistryAccessScreen)
    return screen


def highlight(screen: RegistryAccessScreen, name: str) -> None:
    index = next(i for i, r in enumerate(screen.visible_rows()) if isinstance(r.data, AccessEntry)
                 and r.data.principal.display_name == name)
    screen.table.move_cursor(row=index)


async def test_a_repository_limited_push_is_marked_and_explained(why_tui_sandbox: SandboxServer) -> None:
    app = make_app(why_tui_sandbox.connection or {})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_access(pilot, "contosoprodweu")  # the demo's ABAC registry
        by_name = {r.data.principal.display_name: r for r in screen.rows if isinstance(r.data, AccessEntry)}
        # Seeded: Container Registry Repository Writer limited to payments/ (sandbox/seed.py).
        assert by_name["payments-release-bot"].cells[3].plain == "◐"
        highlight(screen, "payments-release-bot")
        await pilot.pause()
        detail = screen.query_one("#access-detail", PathDetail).text
        assert "can: pull on payments/*, push on payments/*" in detail
        assert "Repository Writer @ registry: pull, push on payments/*" in " ".join(detail.split())


async def test_filter_by_an_inner_nested_group(why_tui_sandbox: SandboxServer) -> None:
    app = make_app(why_tui_sandbox.connection or {})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_access(pilot, "contosoprod")
        await pilot.press("slash", *"team-payments-ci", "enter")  # inside acr-pushers (DEMO_NESTING)
        await settle(pilot)
        assert screen.query_one(FilterBar).value == "team-payments-ci"
        shown = sorted(r.data.principal.display_name for r in screen.table._rows if isinstance(r.data, AccessEntry))
        assert shown == ["github-actions-payments", "payments-release-bot"]


async def test_r_on_an_orphaned_assignment_removes_it_by_id(why_tui_sandbox: SandboxServer) -> None:
    server = why_tui_sandbox
    app = make_app(server.connection or {})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_access(pilot, "contosodev")
        (orphan,) = [r.data for r in screen.rows if isinstance(r.data, AccessEntry) and r.data.orphaned]
        (path,) = orphan.paths
        highlight(screen, orphan.principal.display_name)
        await pilot.pause()
        await pilot.press("R")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RemoveAssignmentForm)
        assert "appId None" not in str(form.query_one(Static).render())
        await submit_form(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmPlanScreen)
        execution = await run_confirmed(pilot)
        assert execution.outcome is not None and execution.outcome.ok
    assert server.sandbox is not None
    assert path.assignment_id is not None
    assert server.sandbox.store.role_assignment(path.assignment_id.rsplit("/", 1)[-1]) is None


async def test_u_on_the_admin_users_row_disables_it(why_tui_sandbox: SandboxServer) -> None:
    from acr_console.tui.screens.forms.disable_admin_user import DisableAdminUserForm

    server = why_tui_sandbox
    app = make_app(server.connection or {})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_access(pilot, "contosodev")  # admin user on in the demo seed
        assert screen.check_action("operation", ("disable-admin-user",)) is False  # not on another row
        highlight(screen, "admin user")
        await pilot.pause()
        detail = screen.query_one("#access-detail", PathDetail).text
        assert "admin user enabled on the registry: pull, push, delete" in detail
        assert "U here, or acr-console disable-admin-user --registry contosodev" in " ".join(detail.split())
        await pilot.press("U")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DisableAdminUserForm)
        await submit_form(pilot)
        execution = await confirm_and_run(pilot)
        assert execution.outcome is not None and execution.outcome.ok, execution.outcome.summary()
    assert server.sandbox is not None
    registry = server.sandbox.store.resource_named("Microsoft.ContainerRegistry/registries", "contosodev")
    assert registry["properties"]["adminUserEnabled"] is False


async def test_the_assign_form_limits_a_repository_role(why_tui_sandbox: SandboxServer) -> None:
    """The repository field appears for an ABAC Repository role only, and what it builds is what the
    registry's token service enforces (push on team/x, not on other/x)."""
    from textual.widgets import Input, Select

    from acr_console.azure.clients import AzureClients
    from acr_console.azure.connection import sandbox_connection
    from acr_console.operations import AuditLog, CreatePrincipalRequest, create_result, prepare, run_plan
    from acr_console.tui.screens.forms.assign_role import AssignRoleForm
    from tests.reliability.test_access_agrees_with_token_service import TokenService
    from tests.support.handover import reads_for

    server = why_tui_sandbox
    conn = server.connection or {}
    async with AzureClients(sandbox_connection(conn)) as az:
        created = await run_plan(az, await prepare(CreatePrincipalRequest(
            "tui-repo-writer", "contosoprodweu", "Container Registry Repository Catalog Lister"), reads_for(az)),
            audit=AuditLog(server.data_dir / "test-audit.jsonl"))
    assert created.ok, created.to_json()
    doc = create_result(created.plan)
    app = make_app(conn)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_access(pilot, "contosoprodweu")
        registry = next(r for r in app.backend.listing.registries if r.name == "contosoprodweu")
        app.start_operation("assign", registry=registry)
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AssignRoleForm)
        form.query_one("#field-principal", Input).value = doc["appId"]
        role = form.query_one("#field-role", Select)
        role.value = "Container Registry Repository Catalog Lister"
        await settle(pilot)
        assert form.query_one("#group-repositories").display is False  # Catalog Lister takes no condition
        role.value = "Container Registry Repository Writer"
        await settle(pilot)
        assert form.query_one("#group-repositories").display is True
        form.query_one("#field-repositories", Input).value = "team/"
        await submit_form(pilot)
        execution = await confirm_and_run(pilot)
        assert execution.outcome is not None and execution.outcome.ok, execution.outcome.summary()
    service = TokenService(conn)
    try:
        access = service.as_principal("contosoprodweu.azurecr.io",
                                      service.entra_token(doc["appId"], created.secrets["password"].reveal()),
                                      ("team/x", "other/x"))
    finally:
        service.close()
    assert "push" in access.get("team/x", set())
    assert "push" not in access.get("other/x", set())
