"""The `:` command line (issue 16): what is typed is shown, names complete, history, direct routes."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App
from textual.widgets import Input

from acr_console.tui.screens.command_line import CommandLineScreen

from .conftest import make_app, settle


def screen_text(app: App[Any]) -> list[str]:
    """The lines the top screen draws, as text (its compositor's strips: what the terminal gets)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (60, 20)])
async def test_command_line_shows_what_is_typed(connection: dict[str, Any], size: tuple[int, int]) -> None:
    app = make_app(connection)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(app.screen, CommandLineScreen)
        await pilot.press(*"acr contosodev")
        await pilot.pause()
        field = app.screen.query_one(Input)
        assert field.value == "acr contosodev"
        assert field.content_region.height == 1, field.content_region
        lines = screen_text(app)
        assert any("acr contosodev" in line for line in lines), "\n".join(lines)


async def open_command_line(pilot: Any) -> Input:
    await pilot.press("colon")
    await settle(pilot)  # the names it completes are read once (every registry's access)
    assert isinstance(pilot.app.screen, CommandLineScreen)
    return pilot.app.screen.query_one(Input)


def known_principal(app: Any, name: str) -> Any:
    return next(p for p in app.backend.principals.values() if p.display_name == name)


async def test_tab_completes_registry_and_principal_names_and_app_ids(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        field = await open_command_line(pilot)
        await pilot.press(*"rev", "tab")  # the command word first
        assert field.value == "revoke"
        # Tab straight after typing, before the grey suggestion (a worker) is there: as in a terminal
        # where the keys arrive together, or while the console is reading.
        field.value = "sp github-actions-pay"
        field.cursor_position = len(field.value)
        await pilot.press("tab")
        assert field.value == "sp github-actions-payments"
        field.value = ""
        await pilot.press(*"acr contosop")
        await settle(pilot)
        assert field._suggestion == "acr contosopayments"  # shown grey after the cursor
        await pilot.press("tab")
        assert field.value == "acr contosopayments"
        field.value = ""
        await pilot.press(*"sp github-actions-pa")
        await settle(pilot)
        await pilot.press("tab")
        assert field.value == "sp github-actions-payments"
        payments = known_principal(app, "github-actions-payments")
        field.value = ""
        await pilot.press(*f"revoke {payments.app_id[:8]}")
        await settle(pilot)
        await pilot.press("right")  # → accepts too, as in Textual's Input
        assert field.value == f"revoke {payments.app_id}"
        # Several matches: the help row lists them, so github-actions-* are told apart before Enter.
        field.value = ""
        await pilot.press(*"sp github-actions-")
        await settle(pilot)
        help_row = str(app.screen.query_one("#command-help").render())
        assert "matches:" in help_row and "github-actions-cart" in help_row, help_row


async def test_up_and_down_walk_the_sessions_command_history(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for command in ("acr contosodev", "expiring 7"):
            field = await open_command_line(pilot)
            await pilot.press(*command, "enter")
            await settle(pilot)
        field = await open_command_line(pilot)
        await pilot.press(*"aud")
        await pilot.press("up")
        assert field.value == "expiring 7"
        await pilot.press("up")
        assert field.value == "acr contosodev"
        await pilot.press("up")  # the oldest stays
        assert field.value == "acr contosodev"
        await pilot.press("down", "down")  # past the newest: what was being typed
        assert field.value == "aud"
        await pilot.press("up", "enter")
        await settle(pilot)
        assert app.command_history == ["acr contosodev", "expiring 7"]  # the same again is kept once


@pytest.mark.parametrize("command", ["sp", "revoke"])
async def test_an_unknown_principal_says_not_found_and_opens_nothing(connection: dict[str, Any],
                                                                     command: str) -> None:
    from acr_console.tui.screens.registries import RegistriesScreen

    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for ref in ("no-such-principal", "00000000-0000-4000-8000-00000000dead"):
            await open_command_line(pilot)
            await pilot.press(*f"{command} {ref}", "enter")
            await settle(pilot)
            assert isinstance(app.screen, RegistriesScreen), app.screen  # no empty principal view
            message = list(app._notifications)[-1].message
            assert message.startswith("not found:") and ref in message, message


async def test_sp_by_app_id_opens_the_principal(connection: dict[str, Any]) -> None:
    from acr_console.tui.screens.principal import PrincipalScreen

    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_command_line(pilot)
        payments = known_principal(app, "github-actions-payments")
        await pilot.press(*f"sp {payments.app_id}", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PrincipalScreen)
        assert app.screen.detail is not None and app.screen.detail.principal.app_id == payments.app_id
        assert payments.app_id in str(app.screen.query_one("#principal-identity").render())


@pytest.mark.parametrize("by", ["app_id", "display_name"])
async def test_revoke_opens_the_full_revoke_form_for_that_principal(connection: dict[str, Any], by: str,
                                                                   request_seq: Any) -> None:
    from textual.widgets import Checkbox, Select

    from acr_console.tui.screens.forms.revoke import ALL, RevokeForm
    from acr_console.tui.screens.principal import PrincipalScreen

    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_command_line(pilot)
        payments = known_principal(app, "github-actions-payments")
        await pilot.press(*f"revoke {getattr(payments, by)}", "enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RevokeForm)
        assert form.principal.app_id == payments.app_id
        # The full revoke, as R in the principal view: every registry, credentials and sign-in.
        assert form.query_one("#field-registry", Select).value == ALL
        assert form.query_one("#field-credentials", Checkbox).value is True
        assert form.query_one("#field-disable", Checkbox).value is True
        # Under the form, the principal's view: where the result is read after.
        assert isinstance(app.screen_stack[-2], PrincipalScreen)
        before = request_seq()
        await pilot.press("escape")  # nothing sent
        await settle(pilot)
        assert request_seq() == before
        assert isinstance(app.screen, PrincipalScreen)


async def test_keys_typed_in_one_go_after_colon_all_reach_the_line_in_order(connection: dict[str, Any]) -> None:
    """A terminal delivers `:rev`, Tab, space and a paste in one read (tmux send-keys does too): each
    must land on the command line in the order typed, none on the list below (`r` reads it again)."""
    from textual import events

    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        payments = "github-actions-payments"
        for key, char in (("colon", ":"), ("r", "r"), ("e", "e"), ("v", "v"), ("tab", "\t"), ("space", " ")):
            app.post_message(events.Key(key, char))
        app.post_message(events.Paste(payments))
        await settle(pilot)
        assert isinstance(app.screen, CommandLineScreen)
        assert app.screen.query_one(Input).value == f"revoke {payments}"
        await pilot.press("enter")
        await settle(pilot)
        from acr_console.tui.screens.forms.revoke import RevokeForm

        assert isinstance(app.screen, RevokeForm) and app.screen.principal.display_name == payments
