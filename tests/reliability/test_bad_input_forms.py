"""The bad-input corpus in the console's forms: every text field of every form gets every entry; a
refused one shows its error under that field, in words that name no command-line flag and no
Python value, the form stays open, and nothing is sent."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Select, Static

from acr_console.models import Credential, CredentialKind, CredentialOwner, Principal, PrincipalDetail, PrincipalType
from acr_console.tui.screens.forms.add_certificate import AddCertificateForm
from acr_console.tui.screens.forms.assign_role import AssignRoleForm, UnassignRoleForm
from acr_console.tui.screens.forms.base import OperationForm
from acr_console.tui.screens.forms.create_principal import CreatePrincipalForm
from acr_console.tui.screens.forms.reset_credential import ResetCredentialForm

from ..tui.conftest import PINNED_NOW, make_app, settle
from . import corpus
from .conftest import record

PRINCIPAL = Principal("5b0c5f7e-0000-4000-8000-000000000001", "ci-push", PrincipalType.SERVICE_PRINCIPAL,
                      app_id="5b0c5f7e-0000-4000-8000-000000000002", application_object_id="app-object")
DETAIL = PrincipalDetail(PRINCIPAL, "ci-push", credentials=(
    Credential("11111111-1111-4111-8111-111111111111", CredentialKind.PASSWORD, CredentialOwner.APPLICATION,
               "old", "abc", PINNED_NOW - timedelta(days=300), PINNED_NOW + timedelta(days=10)),
))
TRIED: list[int] = []


@pytest.fixture
def request_seq(sandbox_server: Any) -> Callable[[], int]:
    return sandbox_server.sandbox.store.last_request_seq


def _refused_text(kind: str) -> list[str]:
    """Corpus entries a field of this kind must refuse without asking Azure."""
    arg = corpus.Argument("form", "field", (), kind)
    # An empty optional field means "not given" in a form (the default applies), not an error.
    return [label for label in corpus.TEXT if arg.expected(label) == "REFUSED" and corpus.TEXT[label].strip()]


# form, field, kind, how the form is set up before typing (credential source and the like)
FIELDS: list[tuple[str, str, str, dict[str, str]]] = [
    ("create", "name", "display-name", {}),
    ("create", "out", "new-path", {}),
    ("create", "certificate", "path", {"credential": "file"}),
    ("reset", "display-name", "credential-name", {}),
    ("add-certificate", "file", "path", {"source": "file"}),
    ("add-certificate", "out", "new-path", {"source": "generate"}),
    ("add-certificate", "display-name", "credential-name", {"source": "generate"}),
    ("assign", "principal", "reference", {}),
    ("unassign", "principal", "reference", {}),
]
YEAR_FIELDS = [("create", {}), ("reset", {}), ("add-certificate", {"source": "generate"})]


def _form(kind: str, app: Any) -> OperationForm:
    registries = app.backend.listing.registries
    return {"create": lambda: CreatePrincipalForm(registries), "reset": lambda: ResetCredentialForm(DETAIL),
            "add-certificate": lambda: AddCertificateForm(DETAIL),
            "assign": lambda: AssignRoleForm(registries), "unassign": lambda: UnassignRoleForm(registries)}[kind]()


async def _try(pilot: Any, form: OperationForm, field: str, value: str, request_seq: Callable[[], int],
               tmp_path: Path) -> None:
    if field == "out" and value.strip():
        value = str(tmp_path / value)  # a new file's name, inside the test's folder
    form.query_one(f"#field-{field}", Input).value = value
    before = request_seq()
    # A refusal is decided synchronously, before any worker: no waiting is needed to see it.
    form.submit()
    where = f"{field}={value[:40]!r}"
    assert pilot.app.screen is form, f"{where}: the form closed"
    error = str(form.query_one(f"#error-{field}", Static).render())
    assert error.strip(), f"{where}: no error under the field (form error: " \
                          f"{form.query_one('#form-error', Static).render()})"
    assert form.query_one(f"#group-{field}").display, f"{where}: the error is under a hidden field"
    # The form speaks its own language: the field is the one the error is under, not a flag.
    assert not re.search(r"--[a-z]|\bNone\b", error), f"{where}: {error!r}"
    assert request_seq() == before, f"{where}: sent a request"
    form.query_one(f"#field-{field}", Input).value = ""
    TRIED.append(1)


async def _open(pilot: Any, kind: str, setup: dict[str, str], tmp_path: Path) -> OperationForm:
    form = _form(kind, pilot.app)
    pilot.app.push_screen(form)
    await settle(pilot)
    for name, choice in setup.items():
        form.query_one(f"#field-{name}", Select).value = choice
    await pilot.pause()
    if kind == "create":
        form.query_one("#field-name", Input).value = "corpus-form"
    if setup.get("source") == "generate" or setup.get("credential") == "generate":
        form.query_one("#field-out", Input).value = str(tmp_path / "new.pem")
    return form


async def test_every_form_field_refuses_the_corpus(connection: dict[str, Any], request_seq: Callable[[], int],
                                                   tmp_path: Path) -> None:
    app = make_app(connection)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for kind, field, field_kind, setup in FIELDS:
            form = await _open(pilot, kind, setup, tmp_path)
            labels = _refused_text(field_kind)
            if field_kind == "reference":
                # Only what is malformed is refused without a lookup; a well-formed unknown name is
                # looked up (reads only) and reported under the form.
                labels = [label for label in labels if label in corpus.MALFORMED]
            for label in labels:
                await _try(pilot, form, field, corpus.TEXT[label], request_seq, tmp_path)
            form.dismiss(None)
            await pilot.pause()
        for kind, setup in YEAR_FIELDS:
            form = await _open(pilot, kind, setup, tmp_path)
            for value in [v for v in corpus.YEARS if v] + [corpus.TEXT[k] for k in ("markup", "emoji", "CSI escape")]:
                await _try(pilot, form, "years", value, request_seq, tmp_path)
            form.dismiss(None)
            await pilot.pause()


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Any:
    yield
    record("bad input", "cases tried (console forms)", len(TRIED))
