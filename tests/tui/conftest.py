"""Helpers for driving the console against the real sandbox: a pinned clock, an audit file of the
test's own, settling workers without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from acr_console.azure.connection import sandbox_connection
from acr_console.config import Settings
from acr_console.tui.app import AcrConsoleApp

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


async def settle(pilot: Pilot[Any], rounds: int = 30) -> None:
    """Wait until no worker runs and every message is handled (a worker may start another)."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            await pilot.pause()
            return


@pytest.fixture(autouse=True)
def audit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Writes are audited to the test's own file, never the user's."""
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(path))
    return path


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("ACR_CONSOLE_CONFIG", str(path))
    return path


@pytest.fixture
def request_seq(sandbox_server: Any) -> Callable[[], int]:
    assert sandbox_server.sandbox is not None
    return sandbox_server.sandbox.store.last_request_seq
