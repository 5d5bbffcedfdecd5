"""Bad input in every form shows the error under the field and sends nothing to Azure."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Select, Static

from acr_console.models import (
    Credential,
    CredentialKind,
    CredentialOwner,
    Principal,
    PrincipalDetail,
    PrincipalType,
)
from acr_console.tui.screens.forms.add_certificate import AddCertificateForm
from acr_console.tui.screens.forms.assign_role import AssignRoleForm
from acr_console.tui.screens.forms.base import OperationForm
from acr_console.tui.screens.forms.create_principal import CreatePrincipalForm
from acr_console.tui.screens.forms.disable_anonymous_pull import DisableAnonymousPullForm
from acr_console.tui.screens.forms.reset_credential import ResetCredentialForm

from .conftest import PINNED_NOW, make_app, settle

PRINCIPAL = Principal("5b0c5f7e-0000-4000-8000-000000000001", "ci-push [prod]", PrincipalType.SERVICE_PRINCIPAL,
                      app_id="5b0c5f7e-0000-4000-8000-000000000002", application_object_id="app-object")
DETAIL = PrincipalDetail(PRINCIPAL, "ci-push [prod]", credentials=(
    Credential("11111111-1111-4111-8111-111111111111", CredentialKind.PASSWORD, CredentialOwner.APPLICATION,
               "old", "abc", PINNED_NOW - timedelta(days=300), PINNED_NOW + timedelta(days=10)),
))


def error_of(form: OperationForm, field: str) -> str:
    return str(form.query_one(f"#error-{field}", Static).render())


async def submit(pilot: Any, form: OperationForm) -> None:
    form.submit()
    await settle(pilot)


async def open_form(pilot: Any, form: OperationForm) -> OperationForm:
    pilot.app.push_screen(form)
    await settle(pilot)
    return form


@pytest.mark.parametrize("values, field, words", [
    ({"name": ""}, "name", "empty"),
    ({"name": " padded "}, "name", "spaces"),
    ({"name": "ok-name", "years": "abc"}, "years", "whole number"),
    ({"name": "ok-name", "years": "40"}, "years", "10 years"),
    ({"name": "ok-name", "credential": "generate"}, "out", "new file"),
    ({"name": "ok-name", "credential": "file", "certificate": "/nonexistent/cert.pem"}, "certificate", ""),
    ({"name": "ok-name", "credential": "file"}, "certificate", "path"),
])
async def test_create_form_rejects_bad_input(connection: dict[str, Any], request_seq: Any,
                                             values: dict[str, str], field: str, words: str) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")  # from the registry browser: a form for the highlighted registry
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CreatePrincipalForm)
        if "credential" in values:
            form.query_one("#field-credential", Select).value = values["credential"]
            await pilot.pause()
        for name in ("name", "years", "certificate"):
            if name in values:
                form.query_one(f"#field-{name}", Input).value = values[name]
        before = request_seq()
        await submit(pilot, form)
        assert app.screen is form, "an invalid form must stay open"
        assert words in error_of(form, field)
        assert form.query_one(f"#group-{field}").display
        assert request_seq() == before, "nothing may be sent for invalid input"


async def test_create_form_roles_follow_the_registry_mode(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        listing = app.backend.listing
        assert listing is not None
        form = await open_form(pilot, CreatePrincipalForm(listing.registries))
        abac = next(r for r in listing.registries if r.name == "contosoprodweu")
        form.query_one("#field-registry", Select).value = abac.id
        await pilot.pause()
        options = [str(o[0]) for o in form.query_one("#field-role", Select)._options]
        assert "AcrPush" not in options and "Container Registry Repository Writer" in options


@pytest.mark.parametrize("years, words", [("0", "1 to 10"), ("x", "whole number"), ("11", "10 years")])
async def test_reset_form_rejects_bad_lifetime(connection: dict[str, Any], request_seq: Any, years: str,
                                               words: str) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, ResetCredentialForm(DETAIL))
        form.query_one("#field-years", Input).value = years
        before = request_seq()
        await submit(pilot, form)
        assert app.screen is form
        assert words in error_of(form, "years")
        assert request_seq() == before


async def test_reset_form_lists_what_replace_removes(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, ResetCredentialForm(DETAIL))
        assert "kept" in str(form.query_one("#reset-removed", Static).render())
        form.query_one("#field-mode", Select).value = "replace"
        await pilot.pause()
        text = str(form.query_one("#reset-removed", Static).render())
        assert "1 secret(s) will be removed" in text and "'abc…'" in text


@pytest.mark.parametrize("source, file, out, field", [
    ("file", "", "", "file"),
    ("file", "/nonexistent/c.pem", "", "file"),
    ("file", "NOT-A-CERT", "", "file"),
    ("generate", "", "", "out"),
    ("generate", "", "EXISTING", "out"),
])
async def test_add_certificate_form_rejects_bad_input(connection: dict[str, Any], request_seq: Any, tmp_path: Path,
                                                      source: str, file: str, out: str, field: str) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    file = str(junk) if file == "NOT-A-CERT" else file
    out = str(junk) if out == "EXISTING" else out
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, AddCertificateForm(DETAIL))
        form.query_one("#field-source", Select).value = source
        await pilot.pause()
        form.query_one("#field-file", Input).value = file
        form.query_one("#field-out", Input).value = out
        before = request_seq()
        await submit(pilot, form)
        assert app.screen is form
        assert error_of(form, field)
        assert request_seq() == before


async def test_assign_form_needs_a_principal(connection: dict[str, Any], request_seq: Any) -> None:
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.backend.listing is not None
        form = await open_form(pilot, AssignRoleForm(app.backend.listing.registries))
        before = request_seq()
        await submit(pilot, form)
        assert "no principal given" in error_of(form, "principal")
        assert request_seq() == before
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, OperationForm)


@pytest.mark.parametrize("form_type", [CreatePrincipalForm, AssignRoleForm, DisableAnonymousPullForm])
async def test_forms_open_when_no_registry_is_known(connection: dict[str, Any], request_seq: Any,
                                                    form_type: type[OperationForm]) -> None:
    """With no registry to preselect (none listed yet, or none visible), a form opens blank and asks
    for one: Textual 8's blank Select value is Select.NULL; Select.BLANK (False) crashed the form."""
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, form_type([], None))  # type: ignore[call-arg]
        assert form.query_one("#field-registry", Select).value is Select.NULL
        for name_field in form.query("#field-name").results(Input):  # fields above the registry: valid
            name_field.value = "ci-no-registry"
        before = request_seq()
        await submit(pilot, form)
        assert app.screen is form, "a form without a registry must stay open"
        assert "registry" in error_of(form, "registry")
        assert request_seq() == before, "nothing may be sent without a registry"
