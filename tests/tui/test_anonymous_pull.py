"""The access view on a registry with anonymous pull (issue 13 item 3): the first row, marked, explained
by `?`; P turns it off through a form, a plan and a confirmation; the view then lists it no more.

Ground truth is the sandbox's own (its stored registry and its token service). The write is real, so
the sandbox is this module's own. Documents followed: MicrosoftDocs/azure-management-docs
`articles/container-registry/anonymous-pull-access.md`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from textual.widgets import Select, Static

from acr_console.models import AccessEntry, PrincipalType
from acr_console.sandbox.server import SandboxServer
from acr_console.tui.screens.confirm_plan import ConfirmPlanScreen
from acr_console.tui.screens.forms.disable_anonymous_pull import DisableAnonymousPullForm
from acr_console.tui.screens.help import HelpScreen, bindings_table
from acr_console.tui.screens.registry_access import RegistryAccessScreen
from acr_console.tui.widgets.path_detail import PathDetail
from acr_console.tui.widgets.row_table import RowTable

from ..sandbox.graph_support import ssl_context
from ..support.sandbox import sandbox_fixture
from .conftest import make_app, settle
from .test_flows import confirm_and_run, submit_form

REGISTRY = "contosobase"
DISABLE = ("disable-anonymous-pull",)

anonymous_tui_sandbox = sandbox_fixture("anonymous-tui")


def rows(screen: RegistryAccessScreen) -> list[AccessEntry]:
    return [r.data for r in screen.rows if isinstance(r.data, AccessEntry)]


async def open_access(pilot: Any, registry: str) -> RegistryAccessScreen:
    pilot.app.run_command(f"acr {registry}")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RegistryAccessScreen)
    return screen


def anonymous_token_status(server: SandboxServer) -> int:
    conn = server.connection or {}
    login = f"{REGISTRY}.azurecr.io"
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": login}) as http:
        return http.get(f"{conn['registry_endpoint']}/oauth2/token",
                        params={"service": login, "scope": "repository:library/alpine:pull"}).status_code


async def test_read_only_greys_the_key_out(anonymous_tui_sandbox: SandboxServer) -> None:
    app = make_app(anonymous_tui_sandbox.connection or {}, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_access(pilot, REGISTRY)
        assert rows(screen)[0].principal.type is PrincipalType.ANONYMOUS
        assert screen.check_action("operation", DISABLE) is None


async def test_the_row_stands_out_and_p_turns_anonymous_pull_off(anonymous_tui_sandbox: SandboxServer) -> None:
    server = anonymous_tui_sandbox
    assert server.sandbox is not None
    app = make_app(server.connection or {})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        other = await open_access(pilot, "contosoprod")
        assert all(e.principal.type is not PrincipalType.ANONYMOUS for e in rows(other))
        assert other.check_action("operation", DISABLE) is False  # nothing to turn off: not offered
        await pilot.press("escape")
        await settle(pilot)

        screen = await open_access(pilot, REGISTRY)
        first = screen.rows[0]
        assert isinstance(first.data, AccessEntry) and first.data.principal.type is PrincipalType.ANONYMOUS
        assert first.cells[0].plain == "anyone (anonymous pull)"
        assert any("reverse" in str(span.style) for span in first.cells[0].spans)
        assert first.cells[5].plain == "anon"  # the ! column
        assert "anonymous pull ON" in str(screen.query_one("#access-heading", Static).render())
        assert screen.check_action("operation", DISABLE) is True
        detail = screen.query_one("#access-detail", PathDetail).text
        assert f"az acr update --name {REGISTRY} --anonymous-pull-enabled false" in detail

        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        helped = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert "anon the registry has anonymous pull on" in helped and "anyone (anonymous pull)" in helped
        listed = [str(c) for col in bindings_table(screen).columns for c in col._cells]
        assert "access.disable-anonymous-pull" in listed
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("P")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DisableAnonymousPullForm)
        assert form.query_one("#field-registry", Select).value == screen.registry.id
        await submit_form(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmPlanScreen) and confirm.plan.operation == "disable-anonymous-pull"
        assert confirm.typed_name is None
        execution = await confirm_and_run(pilot)
        assert execution.outcome is not None and execution.outcome.ok, execution.outcome.summary()
        execution.action_close()
        await settle(pilot)

        assert app.screen is screen
        assert all(e.principal.type is not PrincipalType.ANONYMOUS for e in rows(screen))
        assert screen.check_action("operation", DISABLE) is False
        assert "anonymous pull" not in str(screen.query_one("#access-heading", Static).render())
        assert isinstance(screen.query_one("#access-table", RowTable), RowTable)
    # The sandbox holds the change, and its token service now refuses anonymous requests.
    doc = server.sandbox.store.rows("SELECT doc FROM resources WHERE name_lower = ?", (REGISTRY,))[0]["doc"]
    assert json.loads(doc)["properties"]["anonymousPullEnabled"] is False
    assert anonymous_token_status(server) == 401
