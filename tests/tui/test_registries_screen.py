"""The registry browser, driven with Textual's Pilot against the real sandbox."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from acr_console.azure.connection import sandbox_connection
from acr_console.sandbox.seed import DEMO_REGISTRIES
from acr_console.tui.app import AcrConsoleApp
from acr_console.tui.screens.registries import RegistriesScreen
from acr_console.tui.screens.registry_access import RegistryAccessScreen
from acr_console.tui.widgets.row_table import RowTable
from acr_console.tui.widgets.status_line import StatusLine

from .conftest import make_app, settle


def registry_names(app: AcrConsoleApp) -> list[str]:
    table = app.screen.query_one("#registries-table", RowTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_registries_screen_shows_demo_registries(connection: dict[str, Any]) -> None:
    app = AcrConsoleApp(sandbox_connection(connection))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert set(registry_names(app)) == {name for _, _, name, *_ in DEMO_REGISTRIES}
        status = app.screen.query_one(StatusLine)
        rendered = str(status.render())
        assert "SANDBOX" in rendered
        assert connection["tenant_id"] in rendered
        assert "acr-console-sandbox-admin" in rendered  # the appId resolved to its display name
        message = str(app.screen.query_one("#registries-message", Static).render())
        assert "8 registries in 3 subscriptions" in message
        await pilot.press("q")
    assert app.return_code == 0


async def test_read_only_badge(connection: dict[str, Any]) -> None:
    app = AcrConsoleApp(sandbox_connection(connection, read_only=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "READ-ONLY" in str(app.screen.query_one(StatusLine).render())


async def test_slash_filters_and_escape_clears(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"payments")
        await pilot.pause()  # every keystroke filters at once
        await settle(pilot)
        assert registry_names(app) == ["contosopayments"]
        assert "1 of 8 registries" in str(app.screen.query_one("#registries-message", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert len(registry_names(app)) == 8
        assert isinstance(app.screen, RegistriesScreen)  # Escape in the filter clears, it does not go back


async def test_enter_opens_the_registry_and_escape_comes_back(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RegistryAccessScreen)
        assert app.screen.registry.name == registry_names_at(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RegistriesScreen)


def registry_names_at(app: AcrConsoleApp) -> str:
    # The second row of the sorted demo list (subscription order, then name).
    listing = app.backend.listing
    assert listing is not None
    return listing.registries[1].name


async def test_hostile_display_text_is_not_markup(connection: dict[str, Any]) -> None:
    from acr_console.tui.widgets.row_table import Row, RowTable

    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RowTable)
        from rich.text import Text

        table.show_rows([Row("x", tuple(Text(s) for s in ("[/oops]", "[red]x", "", "", "", "", "")), "")])
        await pilot.pause()
        assert str(table.get_row_at(0)[0]) == "[/oops]"


async def test_the_first_list_ends_start_up(connection: dict[str, Any]) -> None:
    import gc

    from acr_console import startup_gc

    defaults = gc.get_threshold()
    startup_gc.begin()  # as the `acr-console` program does
    try:
        app = make_app(connection)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert registry_names(app)
            assert gc.get_threshold() == defaults  # settled once the list was shown
    finally:
        startup_gc.settle(exiting=True)
        gc.unfreeze()
        gc.set_threshold(*defaults)
