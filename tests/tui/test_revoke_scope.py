"""Issue 16: a revoke proposes what fits where it starts. From a registry's list (`R` on contosoprod):
that registry's role assignments only; removing every credential and disabling sign-in act on the
whole tenant, so they are opt-in, their consequence written under them, and the plan's title says so.
Managed identities (Azure manages their service principal: Microsoft Graph, servicePrincipal resource,
servicePrincipalType "ManagedIdentity": "can't be updated or modified directly") and the console's own
identity (the sandbox admin, acr-console-sandbox-admin) get a stronger warning, and nothing tenant-wide
is ticked for them even on the principal view. Every revoke is confirmed by typing the name.

Nothing is run: each plan is looked at and cancelled, so the shared demo tenant is unchanged."""

from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox, Select, Static

from acr_console.tui.screens.confirm_plan import ConfirmPlanScreen
from acr_console.tui.screens.forms.revoke import ALL, RevokeForm
from acr_console.tui.screens.principal import PrincipalScreen
from acr_console.tui.screens.registry_access import RegistryAccessScreen
from acr_console.tui.widgets.row_table import RowTable

from .conftest import make_app, settle


async def revoke_from_registry(pilot: Any, registry: str, principal: str) -> RevokeForm:
    app = pilot.app
    app.run_command(f"acr {registry}")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, RegistryAccessScreen)
    table = screen.query_one("#access-table", RowTable)
    for index in range(table.row_count):
        table.move_cursor(row=index)
        if table.current_row is not None and table.current_row.data.principal.display_name == principal:
            break
    assert screen.current_entry is not None and screen.current_entry.principal.display_name == principal
    await pilot.press("R")
    await settle(pilot)
    form = app.screen
    assert isinstance(form, RevokeForm)
    return form


async def revoke_from_principal(pilot: Any, principal: str) -> RevokeForm:
    pilot.app.run_command(f"sp {principal}")
    await settle(pilot)
    assert isinstance(pilot.app.screen, PrincipalScreen) and pilot.app.screen.detail is not None
    await pilot.press("R")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, RevokeForm)
    return form


def ticked(form: RevokeForm, name: str) -> bool:
    return form.query_one(f"#field-{name}", Checkbox).value


def text_of(form: RevokeForm, selector: str) -> str:
    return str(form.query_one(selector, Static).render())


async def review(pilot: Any) -> ConfirmPlanScreen:
    form = pilot.app.screen
    assert isinstance(form, RevokeForm)
    form.submit()
    await settle(pilot)
    confirm = pilot.app.screen
    assert isinstance(confirm, ConfirmPlanScreen), text_of(form, "#form-error")
    return confirm


async def cancel(pilot: Any) -> None:
    await pilot.press("escape")  # the confirmation: nothing is sent
    await settle(pilot)
    assert not isinstance(pilot.app.screen, (ConfirmPlanScreen, RevokeForm))


async def test_revoke_from_a_registry_proposes_that_registrys_roles_only(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        form = await revoke_from_registry(pilot, "contosoprod", "github-actions-web")
        prod = next(r for r in form.registries if r.name == "contosoprod")
        assert form.query_one("#field-registry", Select).value == prod.id
        assert not ticked(form, "credentials") and not ticked(form, "disable"), "tenant-wide damage is opt-in"
        assert "Tenant-wide" in text_of(form, "#consequence-credentials")
        assert "Tenant-wide" in text_of(form, "#consequence-disable")
        confirm = await review(pilot)
        assert confirm.plan.title == "Revoke github-actions-web on contosoprod"
        assert confirm.plan.target["removeCredentials"] is False and confirm.plan.target["disable"] is False
        assert confirm.typed_name == "github-actions-web"
        await cancel(pilot)

        # Opting in: the title no longer says "on contosoprod" as if that were all.
        form = await revoke_from_registry(pilot, "contosoprod", "github-actions-web")
        form.query_one("#field-credentials", Checkbox).value = True
        await pilot.pause()
        confirm = await review(pilot)
        assert confirm.plan.title == ("Revoke github-actions-web: its roles on contosoprod; "
                                      "tenant-wide: remove every credential")
        await cancel(pilot)


async def test_the_principal_view_keeps_the_full_revoke(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        form = await revoke_from_principal(pilot, "github-actions-web")
        assert form.query_one("#field-registry", Select).value == ALL
        assert ticked(form, "credentials") and ticked(form, "disable")
        assert not form.query_one("#revoke-danger", Static).display
        confirm = await review(pilot)
        assert confirm.plan.title.startswith("Revoke github-actions-web: its roles on all ")
        assert confirm.plan.title.endswith("tenant-wide: remove every credential, disable its sign-in")
        await cancel(pilot)


async def test_a_managed_identity_is_never_pre_ticked_and_warns_strongly(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for start in ("registry", "principal"):
            if start == "registry":
                form = await revoke_from_registry(pilot, "contosoprod", "func-thumbnailer-prod")
            else:
                form = await revoke_from_principal(pilot, "func-thumbnailer-prod")
            assert not ticked(form, "credentials") and not ticked(form, "disable")
            # Azure issues its credentials: there are none to remove, the box is not offered.
            assert form.query_one("#field-credentials", Checkbox).disabled
            assert "no secret or certificate of its own" in text_of(form, "#consequence-credentials")
            assert not form.query_one("#revoke-danger", Static).display
            form.query_one("#field-disable", Checkbox).value = True
            await pilot.pause()
            danger = form.query_one("#revoke-danger", Static)
            assert danger.display and "is a managed identity" in str(danger.render())
            confirm = await review(pilot)
            assert "is a managed identity" in confirm.plan.warnings[0]
            assert confirm.typed_name == "func-thumbnailer-prod", "typed confirmation"
            await cancel(pilot)


async def test_the_consoles_own_identity_is_never_pre_ticked_and_warns_strongly(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.identity is not None and app.identity.object_id
        form = await revoke_from_principal(pilot, "acr-console-sandbox-admin")
        assert form.is_self
        assert not ticked(form, "credentials") and not ticked(form, "disable")
        form.query_one("#field-disable", Checkbox).value = True
        await pilot.pause()
        danger = form.query_one("#revoke-danger", Static)
        assert danger.display and "the identity this console signs in as" in str(danger.render())
        confirm = await review(pilot)
        assert "the identity this console signs in as" in confirm.plan.warnings[0]
        assert confirm.typed_name == "acr-console-sandbox-admin"
        await cancel(pilot)
