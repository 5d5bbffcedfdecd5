"""Issue 16: a principal whose sign-in is disabled (accountEnabled false) holds its roles but can do
nothing with them. The access view marks its rights apart (⊘, not ✓) and the counts do not call it a
pusher: "N can push (1 disabled)". Seeded: azure-devops-legacy-erp, disabled, AcrPush on contosoprod
(acr_console/sandbox/seed.py, DISABLED)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from acr_console.models import AccessEntry, Right
from acr_console.tui.screens.registry_access import RegistryAccessScreen

from .conftest import make_app, settle

DISABLED = "azure-devops-legacy-erp"


async def test_a_disabled_pusher_is_marked_and_counted_apart(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.run_command("acr contosoprod")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RegistryAccessScreen)
        [row] = [r for r in screen.rows
                 if isinstance(r.data, AccessEntry) and r.data.principal.display_name == DISABLED]
        assert not row.data.principal.enabled and row.data.can(Right.PUSH)
        pull, push = (c.plain for c in row.cells[2:4] if isinstance(c, Text))
        assert push == "⊘" and pull == "⊘", "a disabled principal's rights are not shown as ✓"
        enabled_pushers = [r for r in screen.rows if isinstance(r.data, AccessEntry) and r.data.can(Right.PUSH)
                           and r.data.principal.enabled]
        assert enabled_pushers
        summary = str(screen.query_one("#access-message").render())
        assert f"{len(enabled_pushers)} can push (1 disabled)" in summary
        await pilot.press("1")  # who can push
        await settle(pilot)
        summary = str(screen.query_one("#access-message").render())
        assert f"who can push: {len(enabled_pushers)} principals (1 disabled, not counted)" in summary
