"""Forms are submitted from the keyboard (issue 16): ctrl+s from any field, Enter on the last one;
after a failed review focus is on the field in error, never on Cancel; errors speak the form's
labels; the assign form opened from a principal asks which registry instead of choosing one."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, Select, Static

from acr_console.tui.screens.forms.assign_role import AssignRoleForm
from acr_console.tui.screens.forms.base import OperationForm
from acr_console.tui.screens.forms.create_principal import CreatePrincipalForm

from .conftest import make_app, settle


def error_of(form: OperationForm, field: str) -> str:
    return str(form.query_one(f"#error-{field}", Static).render())


async def open_create_form(pilot: Any) -> CreatePrincipalForm:
    await settle(pilot)
    await pilot.press("n")  # from the registry list, as a person would
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, CreatePrincipalForm)
    return form


async def test_ctrl_s_reviews_from_any_field_and_focus_goes_to_the_field_in_error(
        connection: dict[str, Any], request_seq: Any) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_create_form(pilot)
        assert form.focused is form.query_one("#field-name", Input)
        await pilot.press(*"ok-name")
        form.query_one("#field-years", Input).focus()
        await pilot.press("a", "b", "c")
        form.query_one("#field-name", Input).focus()  # ctrl+s from another field than the bad one
        before = request_seq()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and "whole number" in error_of(form, "years")
        assert form.focused is form.query_one("#field-years", Input)
        assert request_seq() == before, "nothing may be sent for invalid input"


async def test_enter_moves_to_the_next_field_and_on_the_last_one_reviews(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_create_form(pilot)
        await pilot.press("enter")  # an empty name: Enter there moves on, it does not review
        await settle(pilot)
        assert error_of(form, "name") == "" and form.focused is not form.query_one("#field-name", Input)
        form.query_one("#field-years", Input).focus()  # the last field shown for a password
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form and "empty" in error_of(form, "name")
        assert form.focused is form.query_one("#field-name", Input)


async def test_after_a_plan_that_failed_focus_is_on_a_field_never_on_cancel(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.backend.listing is not None
        form = AssignRoleForm(app.backend.listing.registries)
        app.push_screen(form)
        await settle(pilot)
        await pilot.press(*"no-such-principal-anywhere")
        await pilot.press("ctrl+s")  # valid locally; reading the directory finds no such principal
        await settle(pilot)
        assert app.screen is form
        shown = error_of(form, "principal") + str(form.query_one("#form-error", Static).render())
        assert "no-such-principal-anywhere" in shown, shown
        assert form.focused is not None and form.focused.id != "form-cancel"
        assert form.focused is form.query_one("#field-principal", Input)
        assert not form.query_one("#form-submit").disabled


async def test_the_assign_form_from_a_principal_asks_for_the_registry(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_command("sp github-actions-payments")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AssignRoleForm)
        registry = form.query_one("#field-registry", Select)
        assert registry.value is Select.NULL, "no registry is chosen for the person"
        assert form.focused is registry
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "choose a registry" in error_of(form, "registry") and form.focused is registry


async def test_form_errors_use_the_forms_labels_not_flags_or_none(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_create_form(pilot)
        form.show_error(None, "pass --years to choose, or --nothing-here; appId None")
        await pilot.pause()
        message = str(form.query_one("#form-error", Static).render())
        assert message == "pass “Lifetime in years (1–10; default 1)” to choose, or --nothing-here; appId —", message


async def test_ctrl_c_says_how_to_quit_in_plain_words(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        notes = [n.message for n in app._notifications]
        assert notes and notes[-1] == "Press ctrl+q or q to quit acr-console.", notes


async def test_at_60x20_the_confirmation_keeps_its_typed_name_and_buttons_on_screen(
        connection: dict[str, Any]) -> None:
    from textual.widgets import Button

    from acr_console.tui.screens.confirm_plan import ConfirmPlanScreen

    app = make_app(connection)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        app.run_command("sp github-actions-payments")
        await settle(pilot)
        await pilot.press("S")  # reset the secret: replacing asks for the name typed
        await settle(pilot)
        app.screen.query_one("#field-mode", Select).value = "replace"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConfirmPlanScreen) and screen.typed_name == "github-actions-payments"
        for widget in (screen.query_one("#confirm-typed", Input), screen.query_one("#confirm-cancel", Button),
                       screen.query_one("#confirm-run", Button)):
            region = widget.region
            assert region.height >= 1 and region.bottom <= 20 and region.right <= 60, (widget, region)
            found, _ = screen.get_widget_at(region.x + 1, region.y)  # what is drawn there is the widget
            assert found is widget, (widget, found)
        assert app.focused is screen.query_one("#confirm-cancel", Button)
