"""One name per operation, everywhere: the registry's entries are the CLI's write commands, the TUI's
palette entries and `operation(...)` bindings, and what plans and the audit log call them.

Checked by running every operation through the command line against the sandbox (a principal's
whole life: created, its credentials changed, a role given and taken away, revoked) and by opening
every operation's form from the console's palette and having it plan (reads only). An operation
added to the registry without its command, its form or its palette entry fails here.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from textual.widgets import Input, Select

from acr_console import main as entry_point
from acr_console.cli import main as cli_main
from acr_console.cli.ops_common import WriteCommand
from acr_console.models import PrincipalDetail, Registry
from acr_console.operations import OPERATIONS, AuditLog, operation
from acr_console.operations.registry import REVOKE
from acr_console.sandbox import registry_tokens
from acr_console.sandbox.seed import DEMO_TOKEN_REGISTRY, DEMO_TOKENS
from acr_console.tui import screens
from acr_console.tui.actions import OPERATION_ACTION
from acr_console.tui.commands import ConsoleCommands
from acr_console.tui.operations_ui import OPERATION_UI
from acr_console.tui.screens.confirm_plan import ConfirmPlanScreen
from acr_console.tui.screens.forms.base import OperationForm, dom_name
from acr_console.tui.screens.principal import PrincipalScreen

from ..tui.conftest import make_app, settle
from .cleanup import TEST_PREFIX

NAMES = [op.name for op in OPERATIONS]
REGISTRY, OTHER_REGISTRY = "contosoprod", "contosobase"
TOKEN_REGISTRY = DEMO_TOKEN_REGISTRY
# Flags every write command has that are not request fields: how to run it, not what to do.
RUN_FLAGS = {"help", "yes", "dry_run", "json", "show_secret"}


def write_commands() -> dict[str, WriteCommand]:
    """The CLI's write commands, from the modules cli/main.py lists."""
    found: dict[str, WriteCommand] = {}
    for module in cli_main.COMMAND_MODULES:
        for command in getattr(importlib.import_module(f"acr_console.cli.{module}"), "COMMANDS", ()):
            assert command.name in cli_main.COMMAND_MODULES[module], f"{command.name} is not listed under {module}"
            found[command.name] = command
    return found


def test_names_are_kebab_case_and_unique() -> None:
    assert len(set(NAMES)) == len(NAMES)
    for name in NAMES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name), name
        assert operation(name).module_name.endswith("." + name.replace("-", "_"))


def test_every_operation_is_a_cli_command_whose_arguments_are_its_request_fields() -> None:
    commands = write_commands()
    assert sorted(commands) == sorted(NAMES)
    for name, command in commands.items():
        assert command.operation is operation(name)
        parser = entry_point.build_parser([name])
        sub = next(a for a in parser._actions if a.dest == "command").choices[name]  # type: ignore[union-attr]
        fields = {f.name for f in dataclasses.fields(command.operation.request_type)}
        dests = {a.dest for a in sub._actions} - RUN_FLAGS
        # Each argument gives a request field, so a refusal about that field can name its flag.
        assert dests <= fields, f"{name}: arguments that are no request field: {dests - fields}"
        args = parser.parse_args([name, *_argv(name, _Ctx(Path("/tmp")))])
        assert args.handler == command.run
        assert isinstance(command.request_of(args), command.operation.request_type)


def test_every_operation_has_a_form_and_a_palette_entry_and_bindings_use_its_name() -> None:
    assert sorted(OPERATION_UI) == sorted(NAMES)
    bound = set()
    for info in pkgutil.walk_packages(screens.__path__, screens.__name__ + "."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            for b in cls.__dict__.get("BINDINGS", []):
                if isinstance(b, Binding) and b.action.startswith(f"{OPERATION_ACTION}("):
                    name = b.action.removeprefix(f"{OPERATION_ACTION}(").strip("')\"")
                    assert name in NAMES, b
                    assert b.id and b.id.endswith(f".{name}"), b
                    bound.add(name)
    # The keys the README lists still start these; the rest are in the palette (checked below).
    assert {"create-principal", "reset-credential", "add-certificate", "assign", "revoke"} <= bound


def _fill(form: OperationForm, detail: PrincipalDetail, registries: list[Registry], tmp: Path) -> None:
    """What a person fills in before "Review plan", where a form's defaults are not enough."""
    name = form.OPERATION.name
    if name == "create-principal":
        form.query_one("#field-name", Input).value = f"{TEST_PREFIX}palette-{uuid.uuid4().hex[:8]}"
    elif name == "add-certificate":
        form.query_one("#field-source", Select).value = "generate"
        form.query_one("#field-out", Input).value = str(tmp / "palette-key.pem")
    elif name == "remove-credential":
        form.query_one("#field-key-id", Select).value = detail.credentials[0].key_id
    elif name in ("disable-token", "remove-token-password"):  # the demo's token: planned, never run here
        form.query_one("#field-registry", Select).value = next(r.id for r in registries if r.name == TOKEN_REGISTRY)
        form.query_one("#field-token", Input).value = DEMO_TOKENS[0][0]
    elif name == "assign":  # from a principal the form asks which registry, choosing none itself (issue 16)
        form.query_one("#field-registry", Select).value = registries[0].id
    elif name == "unassign":  # one of the principal's own roles on a registry, so there is a step
        by_id = {r.id.lower(): r for r in registries}
        mine = next(a for a in detail.assignments
                    if a.principal_id.lower() == str(detail.principal.object_id).lower() and a.scope.lower() in by_id)
        form.query_one("#field-registry", Select).value = by_id[mine.scope.lower()].id
        form.query_one("#field-role", Select).value = detail.role_names[mine.role_guid]


async def test_the_palette_opens_each_operations_form_which_plans_it(connection: dict[str, Any], tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACR_CONSOLE_CONFIG", str(tmp_path / "config.toml"))
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_principal("github-actions-payments")  # every operation has what it needs here
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PrincipalScreen) and screen.detail is not None
        assert app.backend.listing is not None
        entries = ConsoleCommands(screen)._operations()
        assert [title for title, _, _ in entries] == [f"{op.title}…" for op in OPERATIONS]
        for op, (_, _, start) in zip(OPERATIONS, entries, strict=True):
            start()
            await settle(pilot)
            form = app.screen
            assert isinstance(form, OperationForm) and form.OPERATION is op, op.name
            # The form's fields are its request's fields (an error about a field lands under it).
            fields = {dom_name(f.name) for f in dataclasses.fields(op.request_type)}
            groups = {str(g.id).removeprefix("group-") for g in form.query(".field")}
            unknown = groups - fields - form.SELECTORS
            assert not unknown, f"{op.name}: form fields that are no request field: {unknown}"
            _fill(form, screen.detail, app.backend.listing.registries, tmp_path)
            await pilot.pause()
            form.submit()
            await settle(pilot)
            confirm = app.screen
            assert isinstance(confirm, ConfirmPlanScreen), f"{op.name}: {form.query_one('#form-error').render()}"
            # Made by reading the sandbox; named by the entry; typed to confirm where the plan says so.
            assert confirm.plan.operation == op.name
            assert (confirm.typed_name is not None) == (op is REVOKE)
            confirm.action_cancel()
            await settle(pilot)
            assert app.screen is screen


@dataclasses.dataclass
class _Ctx:
    tmp: Path
    app_id: str = "00000000-0000-0000-0000-000000000000"
    key_id: str = "00000000-0000-0000-0000-000000000000"
    name: str = dataclasses.field(default_factory=lambda: f"{TEST_PREFIX}registry-{uuid.uuid4().hex[:8]}")
    token: str = dataclasses.field(default_factory=lambda: f"{TEST_PREFIX}tok-{uuid.uuid4().hex[:8]}")


# How the test runs each operation on one principal, in the registry's order: its whole life.
ARGV: dict[str, Callable[[_Ctx], list[str]]] = {
    "create-principal": lambda c: ["--name", c.name, "--registry", REGISTRY, "--role", "AcrPush"],
    "reset-credential": lambda c: [c.app_id],
    "add-certificate": lambda c: [c.app_id, "--generate", "--out", str(c.tmp / "key.pem")],
    "remove-credential": lambda c: [c.app_id, c.key_id],
    "assign": lambda c: [c.app_id, "--registry", OTHER_REGISTRY, "--role", "AcrPull"],
    "unassign": lambda c: [c.app_id, "--registry", OTHER_REGISTRY, "--role", "AcrPull"],
    "revoke": lambda c: [c.app_id, "--all-registries", "--remove-credentials", "--disable", "--delete-application"],
    # Off already on contosoprod: the shared sandbox keeps contosobase's anonymous pull for other tests.
    "disable-anonymous-pull": lambda c: ["--registry", REGISTRY],
    # A token of the test's own (made below), so the demo's ci-team-push stays as seeded.
    "disable-token": lambda c: ["--registry", TOKEN_REGISTRY, c.token],
    "remove-token-password": lambda c: ["--registry", TOKEN_REGISTRY, c.token, "--password", "password1"],
    # Off already on contosoprod: the shared sandbox keeps contosodev's admin user for other tests.
    "disable-admin-user": lambda c: ["--registry", REGISTRY],
}


def _argv(name: str, ctx: _Ctx) -> list[str]:
    return ARGV[name](ctx)


def test_each_operation_runs_by_its_name_and_plans_and_audits_under_it(
        sandbox_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    audit = tmp_path / "audit.jsonl"
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(audit))
    assert sorted(ARGV) == sorted(NAMES), "every operation needs a line here"
    ctx = _Ctx(tmp_path)
    store = sandbox_server.sandbox.store
    registry = store.resource_named("Microsoft.ContainerRegistry/registries", TOKEN_REGISTRY)
    token, _ = registry_tokens.seed_token(store, registry, ctx.token, "team-push",
                                          passwords={"password1": None, "password2": None})
    try:
        _run_each_operation(sandbox_server, ctx, capsys)
    finally:
        registry_tokens.delete_child(store, token)
    assert [r["operation"] for r in AuditLog(audit).read()] == NAMES


def _run_each_operation(sandbox_server: Any, ctx: _Ctx, capsys: pytest.CaptureFixture[str]) -> None:
    for name in NAMES:
        base = ["--sandbox-data", str(sandbox_server.data_dir), name, *_argv(name, ctx), "--json"]
        assert entry_point.main([*base, "--dry-run"]) == 0, capsys.readouterr().err
        assert json.loads(capsys.readouterr().out)["plan"]["operation"] == name
        code = entry_point.main([*base, "--yes"])
        out, err = capsys.readouterr()
        assert code == 0, err
        doc = json.loads(out)
        assert doc.get("outcome", doc)["operation"] == name
        ctx.app_id = doc.get("appId", ctx.app_id)
        if name == "reset-credential":
            ctx.key_id = doc["keyId"]  # the password it added, removed next


def test_a_read_command_imports_no_write_code() -> None:
    code = ("import sys; from acr_console.main import build_parser; build_parser(['access', 'contosoprod']); "
            "print(sorted(m for m in sys.modules if m.startswith(('acr_console.operations.', 'acr_console.cli.ops_'))"
            " and m.rsplit('.', 1)[1] not in ('registry', 'validation')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
