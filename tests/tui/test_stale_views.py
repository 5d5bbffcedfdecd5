"""Issue 16: after a write every view on the screen stack is read again, not only the one the write
started from. Revoke from the principal view, Escape back to the registry: the principal is gone
without pressing `r`. The principal is made for the test (AcrPush on contosodev), so the shared demo
tenant keeps its seeded objects."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from textual.widgets import Button, Checkbox, Input, Select, Static

from acr_console.models import AccessEntry
from acr_console.tui.screens.confirm_plan import ConfirmPlanScreen
from acr_console.tui.screens.execution import ExecutionScreen
from acr_console.tui.screens.forms.base import OperationForm
from acr_console.tui.screens.forms.revoke import ALL, RevokeForm
from acr_console.tui.screens.principal import PrincipalScreen
from acr_console.tui.screens.registries import RegistriesScreen
from acr_console.tui.screens.registry_access import RegistryAccessScreen
from acr_console.tui.screens.secret import SecretScreen

from .conftest import make_app, settle


def names_on(screen: RegistryAccessScreen) -> set[str]:
    return {r.data.principal.display_name for r in screen.rows if isinstance(r.data, AccessEntry)}


async def submit_and_run(pilot: Any, typed: str | None = None) -> ExecutionScreen:
    form = pilot.app.screen
    assert isinstance(form, OperationForm)
    form.submit()
    await settle(pilot)
    confirm = pilot.app.screen
    assert isinstance(confirm, ConfirmPlanScreen), str(form.query_one("#form-error", Static).render())
    if typed is not None:
        confirm.query_one("#confirm-typed", Input).value = typed
        await pilot.pause()
    confirm.query_one("#confirm-run", Button).press()
    await settle(pilot)
    execution = next(s for s in reversed(pilot.app.screen_stack) if isinstance(s, ExecutionScreen))
    for _ in range(100):  # PlanFinished is handled by the result screen under the secret's: let it be
        if execution.outcome is not None:
            break
        await pilot.pause()
    summary = str(execution.query_one("#execution-summary", Static).render())
    assert execution.outcome is not None and execution.outcome.ok, summary
    return execution


async def test_revoke_from_the_principal_then_escape_shows_the_registry_without_it(
        connection: dict[str, Any]) -> None:
    app = make_app(connection, clock=lambda: datetime.now(UTC))
    name = f"stale-{uuid.uuid4().hex[:8]}"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.run_command("acr contosodev")
        await settle(pilot)
        access = app.screen
        assert isinstance(access, RegistryAccessScreen)
        assert name not in names_on(access)
        # n: a new pusher on contosodev; its secret copied, so leaving asks nothing.
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#field-name", Input).value = name
        execution = await submit_and_run(pilot)
        assert isinstance(app.screen, SecretScreen)
        await pilot.press("c", "escape")
        await settle(pilot)
        execution.action_close()
        await settle(pilot)
        assert app.screen is access and name in names_on(access), "the view the write started from reloads"
        # Open it, revoke it from there (the full revoke, the default on the principal view).
        app.run_command(f"sp {name}")
        await settle(pilot)
        assert isinstance(app.screen, PrincipalScreen)
        await pilot.press("R")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RevokeForm)
        assert form.query_one("#field-registry", Select).value == ALL
        assert form.query_one("#field-credentials", Checkbox).value and form.query_one("#field-disable", Checkbox).value
        execution = await submit_and_run(pilot, typed=name)
        execution.action_close()
        await settle(pilot)
        assert isinstance(app.screen, PrincipalScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is access
        assert name not in names_on(access), "the registry behind was read again after the revoke, without r"
        # And the registry list at the bottom of the stack was read again too (one listing, fresh).
        assert any(isinstance(s, RegistriesScreen) and s.data is not None for s in app.screen_stack)
