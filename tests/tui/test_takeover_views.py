"""Issue 17 in the console: who can take over a principal with a right on a registry, and the workloads
that sign in as it with no secret.

Against the demo seed's stories (acr_console/sandbox/seed.py: DEMO_PEOPLE, DEMO_OWNERS, DEMO_GRAPH_APPS,
DEMO_FEDERATED): Dana Whitfield owns github-actions-payments' application; Erin Oduya is Application
Administrator tenant-wide; Marco Bianchi is Cloud Application Administrator scoped to
github-actions-search's application; github-actions-payments has two GitHub federated credentials
(contoso/payments, branch main and environment production); argo-cd-image-updater one Kubernetes one.

The Take column and the detail pane (access view), owners and federated credentials (principal view),
`/` on a repository name, and the session's cache of the tenant-wide reads (a second registry reads
them no more; a write through the console makes them read again: proven both by the sandbox's request
log and by a role assigned behind the console's back, unseen until then). The cache test writes, so this
module has its own sandbox.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.message import Message
from textual.widgets import Input, Select, Static

from acr_console.models import AccessEntry, RegistryAccess
from acr_console.sandbox.server import SandboxServer
from acr_console.tui.screens.forms.assign_role import AssignRoleForm
from acr_console.tui.screens.principal import PrincipalScreen
from acr_console.tui.screens.registry_access import RegistryAccessScreen
from acr_console.tui.widgets.path_detail import PathDetail
from acr_console.tui.widgets.row_table import RowTable
from tests.sandbox.test_takeover_graph import ENTRA_ROLE_IDS, admin, new_user

from ..support.sandbox import sandbox_fixture
from .conftest import make_app, settle
from .test_flows import confirm_and_run, submit_form

takeover_tui_sandbox = sandbox_fixture("takeover-tui")
TAKE = 6  # the Take column's index in an access row


@pytest.fixture
def conn(takeover_tui_sandbox: SandboxServer) -> dict[str, Any]:
    return takeover_tui_sandbox.connection or {}


async def open_access(pilot: Any, registry: str) -> RegistryAccessScreen:
    pilot.app.run_command(f"acr {registry}")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RegistryAccessScreen)
    return screen


async def open_by_keys(pilot: Any, registry: str) -> RegistryAccessScreen:
    """From the registry list, as a person would (/, the name, Enter, Enter): the access view is then
    pushed by the app's own task, whose messages `run_test(message_hook=...)` sees."""
    await pilot.press("slash", *registry, "enter", "enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RegistryAccessScreen) and screen.registry.name == registry
    return screen


def cells(screen: RegistryAccessScreen) -> dict[str, list[str]]:
    return {r.data.principal.display_name: [c.plain for c in r.cells] for r in screen.visible_rows()
            if isinstance(r.data, AccessEntry)}


async def detail_of(pilot: Any, screen: RegistryAccessScreen, name: str) -> str:
    index = next(i for i, r in enumerate(screen.visible_rows()) if isinstance(r.data, AccessEntry)
                 and r.data.principal.display_name == name)
    screen.table.move_cursor(row=index)
    await pilot.pause()
    return screen.query_one(PathDetail).text


def batch_posts(server: SandboxServer, since: int) -> int:
    """Graph `$batch` POSTs the sandbox answered since `since` (its request log has one row per HTTP
    request; the takeover reads send all theirs through `$batch`)."""
    assert server.sandbox is not None
    return sum(1 for r in server.sandbox.store.request_log(since)
               if r["method"] == "POST" and r["path"].endswith("/$batch"))


async def test_access_view_marks_who_can_take_over_and_the_detail_names_them(conn: dict[str, Any]) -> None:
    seen: list[tuple[bool, str]] = []

    def hook(message: Message) -> None:
        # Each message the console handles: are the rows on screen, and what does the Take column say?
        screen = app.screen_stack[-1] if app.screen_stack else None
        tables = screen.query(RowTable) if isinstance(screen, RegistryAccessScreen) else []
        if isinstance(screen, RegistryAccessScreen) and tables and tables.first().row_count:
            seen.append((screen.takeover.reading, tables.first().get_row_at(0)[TAKE].plain))

    app = make_app(conn)
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await settle(pilot)
        screen = await open_by_keys(pilot, "contosoprod")
        # The rows were on screen while the Graph reads ran ("…" where a count will be): they never
        # hold the first rows back.
        assert any(reading for reading, _ in seen), seen[:3]
        assert {take for reading, take in seen if reading} <= {"…", ""}
        rows = cells(screen)
        payments = rows["github-actions-payments"][TAKE]
        count, _, mark = payments.partition(" ")
        # Dana (owner of its application) and Erin (Application Administrator) at least; F: federated.
        assert int(count) >= 2 and mark == "F", payments
        assert not rows["github-actions-cart"][TAKE].endswith("F")  # no federated credential
        assert rows["argo-cd-image-updater"][TAKE].endswith(" F")  # a Kubernetes workload identity
        assert rows["aks-prod-weu-kubelet"][TAKE] == ""  # a managed identity takes no credential
        # One more can take over github-actions-search: Marco, through a role scoped to its application.
        assert int(rows["github-actions-search"][TAKE].split()[0]) == int(rows["github-actions-cart"][TAKE]) + 1

        text = await detail_of(pilot, screen, "github-actions-payments")
        assert "Dana Whitfield (user) owner of its application · one step" in text
        assert "⚷ payments-main: GitHub contoso/payments, branch main" in text
        assert "⚷ payments-release: GitHub contoso/payments, environment production" in text
        assert "subject repo:contoso/payments:ref:refs/heads/main" in text
        # Tenant-wide holders once, summarised, with their names; never a line of their own per entry.
        tenant = next(line for line in text.splitlines() if "tenant-wide" in line)
        assert "Application Administrator ×1 (Erin Oduya)" in tenant
        assert "Privileged Role Administrator ×1, two steps (Priya Raman)" in tenant
        assert "Erin Oduya" not in text.replace(tenant, "")
        assert "Marco Bianchi" not in text  # his role is scoped to another application

        text = await detail_of(pilot, screen, "github-actions-search")
        assert "Marco Bianchi (user) Cloud Application Administrator (scoped to its application)" in text
        assert "directory scope /" in text
        assert "GitHub contoso/search, tag v1.0.0" in text
        text = await detail_of(pilot, screen, "argo-cd-image-updater")
        assert "Kubernetes namespace argocd, service account argocd-image-updater (AKS)" in text


async def test_a_failed_takeover_read_is_said_in_the_column_and_the_detail(
        conn: dict[str, Any], takeover_tui_sandbox: SandboxServer) -> None:
    """The access rows stay; the Take column shows ? and the detail pane Graph's error in words."""
    from acr_console.sandbox.faults import parse_faults
    from acr_console.tui.messages import ListLoaded

    assert takeover_tui_sandbox.sandbox is not None
    settings = takeover_tui_sandbox.sandbox.settings

    def hook(message: Message) -> None:
        # Armed once the access is read and before the takeover reads start (ListLoaded's handler
        # starts them): every Graph POST (the `$batch` of those reads) then answers 500.
        if isinstance(message, ListLoaded) and isinstance(message.data, RegistryAccess):
            settings.faults = parse_faults("graph.POST:500:1")

    app = make_app(conn)
    try:
        async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
            await settle(pilot)
            screen = await open_by_keys(pilot, "contosoprod")
            settings.faults = []
            rows = cells(screen)
            assert rows["github-actions-payments"][TAKE] == "?"
            assert rows["aks-prod-weu-kubelet"][TAKE] == ""
            text = await detail_of(pilot, screen, "github-actions-payments")
            assert "takeover: could not read. generalException" in text and "Traceback" not in text  # code, words
            assert "AcrPush" in text  # the paths are there all the same
    finally:
        settings.faults = []


async def test_principal_view_lists_owners_and_federated_credentials(conn: dict[str, Any]) -> None:
    app = make_app(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_command("sp github-actions-payments")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PrincipalScreen)
        text = str(screen.query_one("#principal-owners", Static).render())
        assert "application: Dana Whitfield (user)" in text
        assert "service principal: none" in text
        assert "Federated credentials (2: a workload signs in as it with no secret)" in text
        for line in ("⚷ payments-main: GitHub contoso/payments, branch main",
                     "issuer https://token.actions.githubusercontent.com",
                     "subject repo:contoso/payments:environment:production"):
            assert line in text, text
        # Owners of the service principal itself (github-actions-web's is Dana's; its application's is
        # terraform-platform-prod's).
        app.run_command("sp github-actions-web")
        await settle(pilot)
        text = str(app.screen.query_one("#principal-owners", Static).render())
        assert "application: terraform-platform-prod (SP)" in text
        assert "service principal: Dana Whitfield (user)" in text
        assert "GitHub contoso/storefront-web, branch main" in text


async def test_filter_on_a_repository_finds_the_principals_its_workflows_sign_in_as(conn: dict[str, Any]) -> None:
    app = make_app(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await open_access(pilot, "contosoprod")
        for needle, expected in (("contoso/payments", ["github-actions-payments"]),
                                 ("contoso/search", ["github-actions-search"]),
                                 ("argocd", ["argo-cd-image-updater"])):  # a Kubernetes namespace
            await pilot.press("slash")
            screen.query_one("#access-filter", Input).value = needle
            await pilot.pause()
            shown = [screen.table.get_row_at(i)[0].plain for i in range(screen.table.row_count)]
            assert shown == expected, (needle, shown)
            await pilot.press("escape")
            await pilot.pause()


async def test_the_tenant_wide_reads_are_kept_for_the_session_until_a_write(
        conn: dict[str, Any], takeover_tui_sandbox: SandboxServer) -> None:
    server = takeover_tui_sandbox
    assert server.sandbox is not None
    store = server.sandbox.store
    app = make_app(conn)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        cache = app.backend.takeover_cache
        seq = store.last_request_seq()
        dev = set(cells(await open_access(pilot, "contosodev")))
        cold = batch_posts(server, seq)
        assert cache.tenant_reads == 1

        # Behind the console's back (as the portal would), a new tenant-wide Application Administrator.
        g = admin(conn)
        newcomer = new_user(g, "newcomer")
        g.ok(g.post("roleManagement/directory/roleAssignments", {
            "@odata.type": "#microsoft.graph.unifiedRoleAssignment", "principalId": newcomer["id"],
            "roleDefinitionId": ENTRA_ROLE_IDS["Application Administrator"], "directoryScopeId": "/"}), 201)

        prod = await open_access(pilot, "contosoprod")  # a second registry: not read again
        assert cache.tenant_reads == 1
        # To assign below: a service principal of contosoprod with no access to contosodev.
        outsider = next(r.data.principal for r in prod.visible_rows() if isinstance(r.data, AccessEntry)
                        and r.data.principal.app_id and r.data.principal.display_name not in dev
                        and r.cells[TAKE].plain[:1].isdigit())
        await pilot.press("escape")
        await settle(pilot)
        seq = store.last_request_seq()
        screen = await open_access(pilot, "contosodev")  # the same registry as the cold read, warm
        warm = batch_posts(server, seq)
        assert cache.tenant_reads == 1
        assert warm < cold, (warm, cold)  # the same reads of its principals, none of the tenant's
        name = next(n for n, row in cells(screen).items() if row[TAKE][:1].isdigit())
        assert newcomer["displayName"] not in await detail_of(pilot, screen, name)  # kept, as documented

        # A write through the console (assign AcrPull on contosodev): the tenant's facts are read again.
        registry = next(r for r in app.backend.listing.registries if r.name == "contosodev")
        app.start_operation("assign", registry=registry)
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AssignRoleForm)
        form.query_one("#field-principal", Input).value = outsider.app_id or ""
        form.query_one("#field-role", Select).value = "AcrPull"
        await submit_form(pilot)
        execution = await confirm_and_run(pilot)
        assert execution.outcome is not None and execution.outcome.ok, execution.outcome.summary()
        execution.action_close()
        await settle(pilot)
        assert cache.tenant_reads == 2
        screen = app.screen
        assert isinstance(screen, RegistryAccessScreen) and screen.registry.name == "contosodev"
        assert newcomer["displayName"] in await detail_of(pilot, screen, name)
        # Both access views read again after the write, and shared one read of the tenant's facts.
        assert sum(isinstance(s, RegistryAccessScreen) for s in app.screen_stack) == 2
        await pilot.press("r")  # "read again" reads them again too
        await settle(pilot)
        assert cache.tenant_reads == 3
