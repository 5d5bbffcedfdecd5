"""The sandbox's one door for the console: find the sandbox serving a data folder or start one in
this process, start a private one, or serve one in the foreground.

The console reaches the sandbox only through here, and only from `acr_console.session` (the
import-linter contracts in pyproject.toml say so). Kept free of server imports: connecting to a
running sandbox must not pay for uvicorn and starlette.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_data_path

if TYPE_CHECKING:
    from .context import Settings
    from .server import SandboxServer as SandboxServer

CONNECTION_FILE = "connection.json"


class SandboxBusy(RuntimeError):
    """Another process is already serving this data folder."""


def default_data_dir() -> Path:
    return user_data_path("acr-console", appauthor=False) / "sandbox"


def _alive(conn: dict[str, Any]) -> bool:
    pid = conn.get("pid")
    port = conn.get("port")
    if not isinstance(pid, int) or not isinstance(port, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def read_connection(data_dir: Path) -> dict[str, Any] | None:
    """The connection of a live server for `data_dir`, or None."""
    try:
        conn = json.loads((data_dir / CONNECTION_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return conn if _alive(conn) else None


def connect_or_start(
    data_dir: Path, seed: str = "demo", wait_s: float = 15.0
) -> tuple[dict[str, Any], SandboxServer | None]:
    """(connection, server we started or None). The caller stops a server it was handed."""
    conn = read_connection(data_dir)
    if conn is not None:
        return conn, None
    try:
        return start(data_dir, seed=seed)
    except SandboxBusy:
        # Another process holds the lock and is still starting: wait for its connection file.
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            conn = read_connection(data_dir)
            if conn is not None:
                return conn, None
            time.sleep(0.05)
        raise


def start(
    data_dir: Path, *, seed: str = "demo", seed_time: float | None = None
) -> tuple[dict[str, Any], SandboxServer]:
    """(connection, server) of a sandbox started now in this process; the caller stops it.
    SandboxBusy when another process serves `data_dir`."""
    from .server import SandboxServer

    server = SandboxServer(data_dir, seed=seed, seed_time=seed_time)
    return server.start(), server


def sandbox_settings(*, page_size: int = 100, latency_ms: float = 0.0, replication_delay_s: float = 0.0,
                     faults: str = "") -> Settings:
    """The knobs of a served sandbox; ValueError names a bad item of the fault spec."""
    from .context import Settings
    from .faults import parse_faults

    return Settings(page_size=page_size, latency_ms=latency_ms, replication_delay_s=replication_delay_s,
                    faults=parse_faults(faults) if faults else [])


def serve(data_dir: Path, *, port: int = 0, seed: str = "demo", reset: bool = False, settings: Settings | None = None,
          ready: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Serve in the foreground until SIGINT or SIGTERM; `ready(connection)` once listening.
    SandboxBusy when another process serves `data_dir`; ValueError for an unknown seed; OSError
    when the port cannot be bound."""
    from .server import SandboxServer

    SandboxServer(data_dir, port=port, seed=seed, reset=reset, settings=settings).serve_forever(ready)
