"""The console opens the way the program opens it (`tui.launch.prepare` and `console_app`): read-only
from ACR_CONSOLE_READ_ONLY shows and holds; [keymap] ids and themes are checked against what the
console has, before it opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acr_console.config import ConfigError, Settings
from acr_console.sandbox.server import SandboxServer
from acr_console.session import Session, SessionOptions
from acr_console.tui.keymap import binding_ids, check_console_settings
from acr_console.tui.launch import console_app, prepare
from acr_console.tui.screens.forms.base import OperationForm
from acr_console.tui.screens.help import HelpScreen, bindings_table
from acr_console.tui.widgets.status_line import StatusLine

from .conftest import settle


async def test_read_only_from_the_environment_greys_every_write(
        sandbox_server: SandboxServer, no_user_config: Path, monkeypatch: pytest.MonkeyPatch,
        request_seq: Any) -> None:
    no_user_config.write_text("[profiles.ops]\nread_only = false\n")
    monkeypatch.setenv("ACR_CONSOLE_READ_ONLY", "true")
    options = SessionOptions(sandbox_data=str(sandbox_server.data_dir))
    settings, target = prepare(options)
    with Session(options, settings) as session:
        app = console_app(session, target)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert "READ-ONLY" in str(app.screen.query_one(StatusLine).render())
            assert app.screen.check_action("operation", ("create-principal",)) is None
            before = request_seq()
            await pilot.press("n")  # new service principal
            await pilot.pause()
            assert not isinstance(app.screen, OperationForm)
            assert request_seq() == before
            # A profile switch reads the configuration again and stays read-only.
            assert session.profile_target("ops").profile.read_only is True


def test_a_profile_switch_never_lifts_read_only(no_user_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_user_config.write_text("[profiles.ops]\nread_only = false\n")
    session = Session(SessionOptions(read_only=True), Settings())
    assert session.profile_target("ops").profile.read_only is True  # --read-only holds
    session = Session(SessionOptions(), Settings())
    assert session.profile_target("ops").profile.read_only is False
    monkeypatch.setenv("ACR_CONSOLE_READ_ONLY", "1")
    assert session.profile_target("ops").profile.read_only is True  # and so does the variable


async def test_every_id_the_help_screen_shows_is_a_known_binding_id(connection: dict[str, Any]) -> None:
    from .conftest import make_app

    app = make_app(connection)
    known = binding_ids()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_principal("github-actions-payments")
        await settle(pilot)
        for screen in app.screen_stack:
            table = bindings_table(screen)
            shown = [str(cell) for cell in table.columns[2].cells]
            assert shown and set(shown) - {""} <= known, screen
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
    # The README's example, and any id the console declares, pass the check.
    check_console_settings(Settings(keymap={"registries.refresh": "f5", "access.push": "p"}, theme="ansi-dark"))


@pytest.mark.parametrize(("settings", "words"), [
    (Settings(keymap={"registries.refesh": "f5"}), "no binding has the id 'registries.refesh' "
                                                   "(did you mean 'registries.refresh'?)"),
    (Settings(keymap={"refresh": "f5"}), "no binding has the id 'refresh'"),
    (Settings(theme="textual-ansi"), "no theme 'textual-ansi'"),
    (Settings(theme="nrod"), "no theme 'nrod' (did you mean 'nord'?)"),
])
def test_unknown_keymap_ids_and_themes_are_errors(settings: Settings, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_console_settings(settings)
    assert words in str(caught.value)


def test_the_console_does_not_open_on_a_misspelt_keymap_id(sandbox_server: SandboxServer, no_user_config: Path,
                                                           request_seq: Any) -> None:
    """As a process: exit 2 and one line, before any terminal is taken or any request sent."""
    no_user_config.write_text('[keymap]\n"registries.refesh" = "f5"\n')
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ACR_CONSOLE_")}
    env.update(ACR_CONSOLE_CONFIG=str(no_user_config), ACR_CONSOLE_AUDIT_LOG=str(no_user_config.parent / "a.jsonl"))
    before = request_seq()
    result = subprocess.run([str(Path(sys.executable).with_name("acr-console")), "--sandbox-data",
                             str(sandbox_server.data_dir)], capture_output=True, text=True, timeout=120, env=env,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: keymap: no binding has the id 'registries.refesh' (did you mean 'registries.refresh'?); the ids "
        "are in the help screen (?), e.g. registries.refresh"]
    assert request_seq() == before
