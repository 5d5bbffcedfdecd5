"""Find the sandbox serving a data folder, or start one in this process for as long as it runs.

Kept free of server imports: connecting to a running sandbox must not pay for uvicorn and starlette.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_data_path

if TYPE_CHECKING:
    from .server import SandboxServer

CONNECTION_FILE = "connection.json"


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
    from .server import SandboxBusy, SandboxServer

    server = SandboxServer(data_dir, seed=seed)
    try:
        return server.start(), server
    except SandboxBusy:
        # Another process holds the lock and is still starting: wait for its connection file.
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            conn = read_connection(data_dir)
            if conn is not None:
                return conn, None
            time.sleep(0.05)
        raise
