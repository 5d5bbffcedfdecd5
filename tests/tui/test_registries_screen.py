"""The first screen, driven with Textual's Pilot against the real sandbox."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Static

from acr_console.azure.connection import sandbox_connection
from acr_console.sandbox.seed import DEMO_REGISTRIES
from acr_console.tui.app import AcrConsoleApp
from acr_console.tui.widgets.status_line import StatusLine


async def test_registries_screen_shows_demo_registries(connection: dict[str, Any]) -> None:
    app = AcrConsoleApp(sandbox_connection(connection))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one("#registries-table", DataTable)
        names = {str(table.get_row(key)[1]) for key in table.rows}
        assert names == {name for _, _, name, *_ in DEMO_REGISTRIES}
        status = app.screen.query_one(StatusLine)
        rendered = str(status.render())
        assert "SANDBOX" in rendered
        assert connection["tenant_id"] in rendered
        assert connection["admin"]["client_id"] in rendered
        message = str(app.screen.query_one("#registries-message", Static).render())
        assert "8 registries in 3 subscriptions" in message
        await pilot.press("q")
    assert app.return_code == 0


async def test_read_only_badge(connection: dict[str, Any]) -> None:
    app = AcrConsoleApp(sandbox_connection(connection, read_only=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "READ-ONLY" in str(app.screen.query_one(StatusLine).render())
