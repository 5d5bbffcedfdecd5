"""Registry tokens in the console (issue 13 item 4): rows of type token in the access view (a disabled
one marked off and saying it grants nothing), D and X offered only on a token's row, D disables the
token through its form, plan and confirmation, and the expiring radar lists a token's password.

Ground truth is the sandbox's own token service; the write is real, so the sandbox is this module's own.
Documents followed: MicrosoftDocs/azure-management-docs `container-registry-token-based-repository-
permissions.md` ("The token must have the `Enabled` status").
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
from textual.widgets import Input

from acr_console.models import AccessEntry, PrincipalType
from acr_console.sandbox import registry_tokens
from acr_console.sandbox.seed import DEMO_TOKEN_REGISTRY
from acr_console.sandbox.server import SandboxServer
from acr_console.tui.screens.confirm_plan import ConfirmPlanScreen
from acr_console.tui.screens.expiring import ExpiringScreen
from acr_console.tui.screens.forms.registry_token import DisableTokenForm, RemoveTokenPasswordForm
from acr_console.tui.screens.registry_access import RegistryAccessScreen
from acr_console.tui.widgets.path_detail import PathDetail

from ..sandbox.graph_support import ssl_context
from ..support.sandbox import sandbox_fixture
from .conftest import PINNED_NOW, make_app, settle
from .test_flows import confirm_and_run, submit_form

DISABLE, REMOVE = ("disable-token",), ("remove-token-password",)
LOGIN = f"{DEMO_TOKEN_REGISTRY}.azurecr.io"

# Seeded at the console's pinned clock, so the demo token's password expires 20 days after "now".
tokens_tui_sandbox = sandbox_fixture("tokens-tui", seed_time=PINNED_NOW.timestamp())


async def open_access(pilot: Any) -> RegistryAccessScreen:
    pilot.app.run_command(f"acr {DEMO_TOKEN_REGISTRY}")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RegistryAccessScreen)
    return screen


def highlight(screen: RegistryAccessScreen, name: str) -> None:
    index = next(i for i, r in enumerate(screen.visible_rows()) if isinstance(r.data, AccessEntry)
                 and r.data.principal.display_name == name)
    screen.table.move_cursor(row=index)


def token_service_status(server: SandboxServer, user: str, password: str) -> int:
    conn = server.connection or {}
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": LOGIN}) as http:
        return http.get(f"{conn['registry_endpoint']}/oauth2/token", headers={"Authorization": f"Basic {auth}"},
                        params={"service": LOGIN, "scope": "repository:team/app:push"}).status_code


async def test_token_rows_and_d_disables_the_highlighted_token(tokens_tui_sandbox: SandboxServer) -> None:
    server = tokens_tui_sandbox
    assert server.sandbox is not None
    store = server.sandbox.store
    registry = store.resource_named("Microsoft.ContainerRegistry/registries", DEMO_TOKEN_REGISTRY)
    _, passwords = registry_tokens.seed_token(store, registry, "tui-pusher", "team-push",
                                              passwords={"password1": None})
    assert token_service_status(server, "tui-pusher", passwords["password1"]) == 200
    app = make_app(server.connection or {})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_access(pilot)
        by_name = {r.data.principal.display_name: r for r in screen.rows if isinstance(r.data, AccessEntry)}
        for name in ("ci-team-push", "vendor-readonly", "tui-pusher"):
            assert by_name[name].cells[1].plain == "token", name
        assert by_name["ci-team-push"].cells[3].plain == "◐"  # push, on team/* only (issue 16)
        assert by_name["vendor-readonly"].cells[5].plain == "off"
        assert by_name["vendor-readonly"].cells[2].plain == "·"  # a disabled token pulls nothing
        highlight(screen, "vendor-readonly")
        await pilot.pause()
        detail = screen.query_one("#access-detail", PathDetail).text
        assert "token disabled" in detail and "grants nothing" in detail
        highlight(screen, "aks-dev-weu-kubelet")
        await pilot.pause()
        assert screen.check_action("operation", DISABLE) is False  # not a token: not offered
        assert screen.check_action("operation", REMOVE) is False
        highlight(screen, "tui-pusher")
        await pilot.pause()
        assert screen.check_action("operation", DISABLE) is True
        detail = screen.query_one("#access-detail", PathDetail).text
        assert "scope map team-push" in detail and "password1 expires never" in detail

        await pilot.press("X")
        await settle(pilot)
        assert isinstance(app.screen, RemoveTokenPasswordForm)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DisableTokenForm)
        assert form.query_one("#field-token", Input).value == "tui-pusher"
        await submit_form(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmPlanScreen) and confirm.plan.operation == "disable-token"
        execution = await confirm_and_run(pilot)
        assert execution.outcome is not None and execution.outcome.ok, execution.outcome.summary()
        execution.action_close()
        await settle(pilot)
        assert app.screen is screen
        after = next(r.data for r in screen.rows if isinstance(r.data, AccessEntry)
                     and r.data.principal.display_name == "tui-pusher")
        assert after.token is not None and after.token.status == "disabled" and not after.rights
    assert token_service_status(server, "tui-pusher", passwords["password1"]) == 401


async def test_read_only_greys_the_token_keys_out(tokens_tui_sandbox: SandboxServer) -> None:
    app = make_app(tokens_tui_sandbox.connection or {}, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_access(pilot)
        highlight(screen, "ci-team-push")
        await pilot.pause()
        assert screen.check_action("operation", DISABLE) is None


async def test_the_expiring_radar_lists_a_tokens_password(tokens_tui_sandbox: SandboxServer) -> None:
    app = make_app(tokens_tui_sandbox.connection or {})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.run_command("expiring")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExpiringScreen)
        row = next(r for r in screen.rows if r.data.principal.type is PrincipalType.REGISTRY_TOKEN)
        assert row.cells[0].plain == "ci-team-push" and row.cells[1].plain == "token"
        assert row.cells[3].plain == "token" and DEMO_TOKEN_REGISTRY in row.cells[5].plain
        screen.open_row(row)  # a token opens its registry's access view
        await settle(pilot)
        assert isinstance(app.screen, RegistryAccessScreen) and app.screen.registry.name == DEMO_TOKEN_REGISTRY
