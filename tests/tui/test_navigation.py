"""Keys, the `:` command line, help, the palette, read-only refusal."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input

from acr_console.tui.actions import WRITE_ACTIONS
from acr_console.tui.commands import ConsoleCommands
from acr_console.tui.navigation import CommandError, parse_command
from acr_console.tui.screens.expiring import ExpiringScreen
from acr_console.tui.screens.forms.base import OperationForm
from acr_console.tui.screens.help import HelpScreen
from acr_console.tui.screens.registries import RegistriesScreen
from acr_console.tui.screens.registry_access import RegistryAccessScreen
from acr_console.tui.widgets.path_detail import DetailPane

from .conftest import make_app, settle


def test_parse_command() -> None:
    assert parse_command(":sp ci-push prod").argument == "ci-push prod"
    assert parse_command("reg").name == "registries"
    assert parse_command("expiring 90").argument == "90"
    for bad in ("", "frobnicate", "sp", "expiring soon"):
        with pytest.raises(CommandError):
            parse_command(bad)


async def type_command(pilot: Any, text: str) -> None:
    await pilot.press("colon")
    await pilot.pause()
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")
    await settle(pilot)


async def test_command_line_jumps_and_escape_goes_back(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_command(pilot, "acr contosodev")
        assert isinstance(app.screen, RegistryAccessScreen)
        assert app.screen.registry.name == "contosodev"
        await type_command(pilot, "expiring 7")
        assert isinstance(app.screen, ExpiringScreen)
        assert app.screen.within_days == 7
        await type_command(pilot, "registries")
        assert isinstance(app.screen, RegistriesScreen)
        await type_command(pilot, "nonsense")
        assert any("unknown command" in n.message for n in app._notifications)


async def test_help_lists_bindings_with_ids(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        from rich.console import Console

        from acr_console.tui.screens.help import bindings_table

        console = Console(width=200, record=True)
        console.print(bindings_table(app.screen.below))
        text = console.export_text()
        assert "registries.refresh" in text  # the app's own keys are under "Global keys" (test_keys_and_filters)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RegistriesScreen)


async def test_every_binding_has_an_id_and_tooltip(connection: dict[str, Any]) -> None:
    import importlib
    import inspect
    import pkgutil

    import acr_console.tui.screens as screens_pkg
    import acr_console.tui.widgets as widgets_pkg
    from acr_console.tui.app import AcrConsoleApp

    classes: list[type] = [AcrConsoleApp]
    for pkg in (screens_pkg, widgets_pkg):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            module = importlib.import_module(info.name)
            classes += [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__]
    from textual.binding import Binding

    checked = 0
    for cls in classes:
        for b in cls.__dict__.get("BINDINGS", []):
            if isinstance(b, Binding):
                assert b.id and b.tooltip, f"{cls.__name__} {b.key}"
                checked += 1
                # No write on a multiplexer prefix or ctrl+d/k/s.
                if b.action.split("(")[0] in WRITE_ACTIONS:
                    assert not b.key.startswith("ctrl+"), b
    assert checked > 30


async def test_read_only_refuses_writes(connection: dict[str, Any], request_seq: Any) -> None:
    app = make_app(connection, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.check_action("operation", ("create-principal",)) is None
        before = request_seq()
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, OperationForm)
        app.start_operation("create-principal")
        await pilot.pause()
        assert not isinstance(app.screen, OperationForm)
        assert any(n.message.startswith("read-only: ") for n in app._notifications)
        assert request_seq() == before
        # The palette offers no write at all.
        provider = ConsoleCommands(screen)
        assert provider._operations() == []


async def test_palette_finds_registries_by_name(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        provider = ConsoleCommands(app.screen)
        hits = [hit async for hit in provider.search("payments")]
        assert any("contosopayments" in (h.text or "") for h in hits)
        hit = next(h for h in hits if h.text == "registry contosopayments")
        hit.command()
        await settle(pilot)
        assert isinstance(app.screen, RegistryAccessScreen)
        assert app.screen.registry.name == "contosopayments"


async def test_keymap_from_config_rebinds(connection: dict[str, Any]) -> None:
    from .conftest import default_settings

    app = make_app(connection, settings=default_settings(keymap={"registries.refresh": "f5"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        calls: list[bool] = []
        screen = app.screen
        assert isinstance(screen, RegistriesScreen)
        screen.load = lambda refresh=False: calls.append(refresh)  # type: ignore[method-assign]
        await pilot.press("f5")
        await pilot.pause()
        assert calls == [True]


async def test_sign_in_failure_says_why_and_offers_ways_in() -> None:
    from acr_console.azure.connection import CLOUDS, Auth, AuthMethod, Connection
    from acr_console.tui.app import AcrConsoleApp
    from acr_console.tui.screens.sign_in import SignInFailedScreen

    from .conftest import default_settings

    # The environment credential without AZURE_* variables fails before any request is made.
    app = AcrConsoleApp(Connection(CLOUDS["AzureCloud"], None, Auth(AuthMethod.ENV)), settings=default_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SignInFailedScreen)
        reason = str(screen.query_one("#sign-in-reason").render())
        assert "Sign-in failed" in reason and "Choose another way in" in reason
        assert {b.id for b in screen.query("Button")} >= {"device-code", "cli", "sandbox"}
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RegistriesScreen)
        assert app.identity is None and app.sign_in_error is not None
        from acr_console.tui.widgets.status_line import StatusLine

        assert f"as not signed in ({app.sign_in_error})" in str(app.screen.query_one(StatusLine).render())


async def test_audit_view_reads_the_audit_file(connection: dict[str, Any], audit_file: Any) -> None:
    import json

    from acr_console.tui.screens.audit import AuditScreen
    from acr_console.tui.widgets.row_table import RowTable

    record = {"v": 1, "time": "2026-05-31T10:00:00Z", "operation": "revoke", "title": "Revoke ci-old",
              "target": {"principal": "ci-old"}, "result": "failed", "cloud": "sandbox", "tenant": "t",
              "identity": {"name": "oncall"},
              "steps": [{"id": "a", "description": "Remove AcrPush", "status": "done"},
                        {"id": "b", "description": "Disable sign-in", "status": "failed",
                         "error": {"code": "Forbidden", "message": "no"}}]}
    audit_file.write_text(json.dumps(record) + "\nnot json\n")
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_command("audit")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        table = app.screen.query_one(RowTable)
        assert table.row_count == 1
        assert [str(c) for c in table.get_row_at(0)] == ["2026-05-31 10:00:00", "revoke", "ci-old", "failed", "1/2"]
        assert "Forbidden" in app.screen.query_one("#audit-detail", DetailPane).text


async def test_quit_is_refused_while_a_write_runs(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.write_running = True
        assert app.check_action("quit", ()) is False
        app.write_running = False
        assert app.check_action("quit", ()) is True


async def test_audit_view_says_when_the_file_cannot_be_read(connection: dict[str, Any], audit_file: Any) -> None:
    audit_file.mkdir()  # a folder where the file should be: reading it fails
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_command("audit")
        await settle(pilot)
        message = str(app.screen.query_one("#audit-message").render())
        assert message.startswith("Could not read the audit log."), message


async def test_a_new_connection_starts_again_from_a_fresh_registry_list(connection: dict[str, Any]) -> None:
    from acr_console.azure.connection import sandbox_connection
    from acr_console.tui.widgets.filter_bar import FilterBar
    from acr_console.tui.widgets.status_line import StatusLine

    from .test_registries_screen import registry_names

    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        first_list = app.screen
        await pilot.press("slash", *"payments", "enter")
        await type_command(pilot, "acr contosodev")
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await app.use_connection(sandbox_connection(connection), "second", None)
        await settle(pilot)
        assert app.screen is first_list  # nothing read through the old connection is left open
        assert len(app.screen_stack) == 1
        assert len(registry_names(app)) == 8 and not app.screen.query_one(FilterBar).value
        status = str(app.screen.query_one(StatusLine).render())
        assert "[second]" in status and "acr-console-sandbox-admin" in status
        await pilot.press("escape")  # the list is the bottom: Escape stays on it
        await pilot.pause()
        assert app.screen is app.screen_stack[0]


async def test_command_line_help_is_shown_as_written(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await pilot.pause()
        # Read as markup, "[DAYS]" was taken for a style and vanished.
        assert ":expiring [DAYS]" in str(app.screen.query_one("#command-help").render())
