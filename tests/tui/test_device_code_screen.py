"""The console's device-code screen (issue 15): the code and where to enter it, the time left, copy,
cancel, and closing itself when the sign-in completes.

The sign-ins are real: azure-identity's DeviceCodeCredential against the sandbox's device
authorization endpoint (learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code), and the
sandbox's user approves or declines the code as `acr-console sandbox approve` does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from acr_console.azure.connection import sandbox_connection
from acr_console.config import Settings as ConsoleSettings
from acr_console.errors import UsageError
from acr_console.sandbox.context import Settings
from acr_console.screenshots import PINNED_NOW, SIZES, build_app, settle
from acr_console.session import Session, SessionOptions, decide_sandbox_device_code
from acr_console.tui.app import AcrConsoleApp
from acr_console.tui.screens.device_code import DeviceCodeScreen
from acr_console.tui.screens.sign_in import SignInFailedScreen

from ..support.sandbox import running_sandbox

# A bound on waiting for the sandbox and the credential's thread, never a measure.
WAIT_S = 60.0


@pytest.fixture(scope="module")
def device_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # Polls every second, not Entra's five: the test waits on the person, not on the interval.
    with running_sandbox(tmp_path_factory.mktemp("device-code-screen"),
                         settings=Settings(device_code_interval_s=1)) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No sign-in kept from another test (azure/token_store.py keeps it in the state folder)."""
    for name in list(os.environ):
        if name.startswith(("XDG_", "DBUS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    for kind in ("STATE", "CONFIG", "DATA", "CACHE"):
        monkeypatch.setenv(f"XDG_{kind}_HOME", str(tmp_path / kind.lower()))


def _console(data_dir: Path) -> AcrConsoleApp:
    """The console as `acr-console --sandbox-data DIR --auth device-code` opens it."""
    session = Session(SessionOptions(sandbox_data=str(data_dir), auth="device-code"), ConsoleSettings())
    return AcrConsoleApp(session.connect(), settings=ConsoleSettings(), session=session)


async def _until(pilot: Pilot[Any], what: str, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        assert time.monotonic() < deadline, f"never happened: {what}"
        await pilot.pause(0.05)


def _on_screen(app: Any, cls: type, selector: str) -> bool:
    """`cls` is the active screen and has composed `selector` (a pushed screen composes later)."""
    return isinstance(app.screen, cls) and bool(app.screen.query(selector))


async def _code_screen(pilot: Pilot[Any]) -> DeviceCodeScreen:
    await _until(pilot, "the device-code screen",
                 lambda: _on_screen(pilot.app, DeviceCodeScreen, "#device-code-left"))
    screen = pilot.app.screen
    assert isinstance(screen, DeviceCodeScreen)
    return screen


def _text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_the_code_is_shown_copied_and_the_screen_closes_when_signed_in(device_sandbox: Any) -> None:
    app = _console(device_sandbox.data_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _code_screen(pilot)
        code = screen.user_code
        assert _text(screen, "#device-code-code") == code and len(code) >= 8
        assert _text(screen, "#device-code-uri") == "https://microsoft.com/devicelogin"
        # The time left, from the expiry azure-identity passes (the sandbox's 900 s, as Entra's).
        left = _text(screen, "#device-code-left")
        assert left.startswith(("Time left 15:00 (expires at ", "Time left 14:")), left
        await pilot.press("c")
        assert app.clipboard == code
        assert app.identity is None
        approved, upn = decide_sandbox_device_code(str(device_sandbox.data_dir), code, user=None, decline=False)
        assert approved == code
        await _until(pilot, "the screen closing and the console signed in",
                     lambda: not isinstance(app.screen, DeviceCodeScreen) and app.identity is not None)
        assert app.identity is not None and app.identity.name == upn
        assert DeviceCodeScreen not in {type(s) for s in app.screen_stack}


async def test_escape_cancels_the_sign_in_and_d_asks_again(device_sandbox: Any) -> None:
    app = _console(device_sandbox.data_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        first = (await _code_screen(pilot)).user_code
        await pilot.press("escape")
        # Cancelled now, not when the code expires: the console is signed out and says how to go on.
        await _until(pilot, "the signed-out screen", lambda: _on_screen(app, SignInFailedScreen, "#sign-in-reason"))
        assert app.sign_in_error == "SignInCancelled" and app.identity is None
        assert "Signed out" in _text(app.screen, "#sign-in-reason")
        # The cancelled code is of no use any more: MSAL stopped polling, and a new sign-in asks anew.
        await pilot.press("d")
        second = await _code_screen(pilot)
        assert second.user_code != first
        decide_sandbox_device_code(str(device_sandbox.data_dir), second.user_code, user=None, decline=False)
        await _until(pilot, "signed in with the second code", lambda: app.identity is not None)
        assert not isinstance(app.screen, (DeviceCodeScreen, SignInFailedScreen))


async def test_a_declined_code_closes_the_screen_and_says_why(device_sandbox: Any) -> None:
    app = _console(device_sandbox.data_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        code = (await _code_screen(pilot)).user_code
        decide_sandbox_device_code(str(device_sandbox.data_dir), code, user=None, decline=True)
        await _until(pilot, "the sign-in failed screen",
                     lambda: _on_screen(app, SignInFailedScreen, "#sign-in-reason"))
        # Entra's error for a declined code (RFC 8628 section 3.5, `access_denied`; Entra says
        # `authorization_declined`), as azure-identity reports it.
        reason = _text(app.screen, "#sign-in-reason")
        assert reason.startswith("Sign-in failed") and "declined" in reason.lower(), reason
        assert app.identity is None


def test_switching_to_a_sign_in_that_ignores_the_tenant_is_refused() -> None:
    """Session.sign_in_instead applies start-up's rule: a tenant the new way would ignore is an
    error naming why, not silently dropped."""
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    with Session(SessionOptions(tenant=tenant, auth="cli"), ConsoleSettings()) as session:
        connection = session.connect()
        assert session.sign_in_instead(connection, "device-code").tenant_id == tenant
        with pytest.raises(UsageError, match="a managed identity signs in to its own tenant"):
            session.sign_in_instead(connection, "managed-identity")


# -- snapshots -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox-device-code-snap"),
                         seed_time=PINNED_NOW.timestamp()) as server:
        yield server.connection or {}


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The screen shows the expiry in local time; the snapshot is taken in UTC wherever it runs.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot(size: tuple[int, int], pristine: dict[str, Any], utc: None, snap_compare: Any) -> None:
    assert os.environ["TZ"] == "UTC"

    async def show(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        # A code as Entra draws them, 14 min 32 s before it expires on the pinned clock.
        pilot.app.push_screen(DeviceCodeScreen("https://microsoft.com/devicelogin", "F7K2M9QXR",
                                               PINNED_NOW + timedelta(minutes=14, seconds=32)))
        await pilot.pause()

    app = build_app(sandbox_connection(pristine))
    assert snap_compare(app, run_before=show, terminal_size=size)
