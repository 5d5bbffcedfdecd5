"""Issue 14 in the console: a revoke's result says what access is left. Seeded: github-actions-identity
pushes to contosoprod only through team-identity-ci ⊂ acr-pushers (acr_console/sandbox/seed.py). Its revoke of
contosoprod has nothing to delete, so nothing is written to the shared sandbox: the result screen
opens at once (nothing to confirm) and reads what remains."""

from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox, Select, Static

from acr_console.tui.screens.execution import ExecutionScreen
from acr_console.tui.screens.forms.revoke import RevokeForm

from .conftest import make_app, settle


async def test_revoke_result_shows_the_group_that_still_pushes(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_command("sp github-actions-identity")
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RevokeForm)
        prod = next(r for r in form.registries if r.name == "contosoprod")
        form.query_one("#field-registry", Select).value = prod.id
        form.query_one("#field-credentials", Checkbox).value = False
        form.query_one("#field-disable", Checkbox).value = False
        await pilot.pause()
        form.submit()
        await settle(pilot)
        execution = app.screen
        assert isinstance(execution, ExecutionScreen)
        assert execution.outcome is not None and execution.outcome.plan.empty
        after = str(execution.query_one("#execution-after", Static).render())
        assert "Still has access:" in after
        assert "contosoprod: pull, push — AcrPush through group 'team-identity-ci'" in after
        assert "az ad group member remove --group " in after
