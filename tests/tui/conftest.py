"""Helpers for driving the console against the real sandbox: a pinned clock, an audit file of the
test's own, settling workers without sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button

from acr_console.azure.connection import sandbox_connection
from acr_console.config import Settings
from acr_console.tui.app import AcrConsoleApp
from acr_console.tui.screens.confirm_plan import ConfirmPlanScreen
from acr_console.tui.screens.execution import ExecutionScreen

# Every date on screen is relative to this, so expiry colours and snapshots never drift.
PINNED_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def pinned_clock() -> datetime:
    return PINNED_NOW


def default_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


def make_app(connection: dict[str, Any], *, read_only: bool = False, **kwargs: Any) -> AcrConsoleApp:
    kwargs.setdefault("settings", default_settings())
    kwargs.setdefault("clock", pinned_clock)
    return AcrConsoleApp(sandbox_connection(connection, read_only=read_only), **kwargs)


# A bound on waiting for the console's workers, never a measure: each reads a loopback sandbox in
# milliseconds, so a worker still running after this is stuck, and the test says which one.
SETTLE_TIMEOUT_S = 10.0


async def settle(pilot: Pilot[Any], timeout: float = SETTLE_TIMEOUT_S) -> None:
    """Wait until no worker runs and every message is handled (a handler may start another worker).

    Raises AssertionError naming the workers still running after `timeout` seconds, and re-raises
    a worker's failure. Waits on the workers themselves (Textual's `Worker.wait`), not by sleeping.
    """
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        # Unfinished, not just running: a worker a handler has just created is still PENDING until
        # the loop starts it, and a check for RUNNING ones alone returns before it has begun.
        running = [w for w in app.workers if not w.is_finished]
        if not running:
            await pilot.pause()  # handle what the last worker posted; that may start another
            if all(w.is_finished for w in app.workers):
                return
            continue
        # Not asyncio.timeout around WorkerManager.wait_for_complete: that swallows the
        # cancellation a timeout is made of, and would wait on.
        waiting = asyncio.ensure_future(app.workers.wait_for_complete(running))
        done, _ = await asyncio.wait({waiting}, timeout=max(0.0, deadline - loop.time()))
        if not done:
            waiting.add_done_callback(_retrieve)  # it ends when the app cancels its workers on exit
            stuck = ", ".join(f"{w.name!r} ({w.state.name.lower()}, on {type(w.node).__name__})"
                              for w in running if not w.is_finished)
            raise AssertionError(f"workers still running after {timeout:g} s: {stuck}")
        waiting.result()  # a worker's failure fails the test


async def run_confirmed(pilot: Pilot[Any]) -> ExecutionScreen:
    """Press Run on the confirmation on top and return the execution screen once its plan has an
    outcome. Each settle is bounded; on a loaded machine the run may need another round."""
    confirm = pilot.app.screen
    assert isinstance(confirm, ConfirmPlanScreen)
    confirm.query_one("#confirm-run", Button).press()
    for _ in range(5):
        await settle(pilot)
        execution = next((s for s in pilot.app.screen_stack if isinstance(s, ExecutionScreen)), None)
        if execution is not None and execution.outcome is not None:
            return execution
    raise AssertionError("the plan has no outcome after five rounds of settling")


def _retrieve(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()  # read, so asyncio does not report it as never retrieved


@pytest.fixture(autouse=True)
def audit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Writes are audited to the test's own file, never the user's."""
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(path))
    return path


@pytest.fixture(autouse=True)
def no_user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path_factory.mktemp("user-config") / "config.toml"  # not in tmp_path: some tests list it
    path.touch()  # empty: no configuration (a file ACR_CONSOLE_CONFIG names must exist)
    monkeypatch.setenv("ACR_CONSOLE_CONFIG", str(path))
    return path


@pytest.fixture
def request_seq(sandbox_server: Any) -> Callable[[], int]:
    assert sandbox_server.sandbox is not None
    return sandbox_server.sandbox.store.last_request_seq
