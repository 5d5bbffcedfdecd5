"""Issue 16: the console survives the sandbox moving. A sandbox served by another process (`acr-console
sandbox serve`) is stopped and started again on another port; the console's next read cannot connect,
the session reads connection.json again (sandbox/launcher.py `moved`, session.py `reconnect_sandbox`)
and the read is made again on the new address: `r` on the registry list shows the registries."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from acr_console.config import Settings
from acr_console.session import Session, SessionOptions
from acr_console.tui.app import AcrConsoleApp

from .conftest import pinned_clock, settle
from .test_registries_screen import registry_names


def serve(data: Path, port: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    conn_path = data / "connection.json"
    proc = subprocess.Popen([sys.executable, "-m", "acr_console", "sandbox", "serve", "--data", str(data),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the sandbox did not start"
        if conn_path.exists():
            doc = json.loads(conn_path.read_text())
            if doc.get("pid") == proc.pid:
                return proc, doc
        time.sleep(0.05)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)


def free_port(other_than: int) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port != other_than:
            return port


async def test_refresh_follows_the_sandbox_to_its_new_port(tmp_path: Path) -> None:
    data = tmp_path / "sandbox"
    first, doc = serve(data, 0)
    session = Session(SessionOptions(sandbox_data=str(data)), Settings())
    second: subprocess.Popen[str] | None = None
    try:
        connection = session.connect()
        assert connection.cloud.resource_manager == doc["resource_manager"]
        app = AcrConsoleApp(connection, session=session, clock=pinned_clock)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert len(registry_names(app)) == 8
            stop(first)
            second, moved = serve(data, free_port(doc["port"]))
            assert moved["resource_manager"] != doc["resource_manager"]
            await pilot.press("r")
            await settle(pilot)
            await settle(pilot)
            assert app.connection.cloud.resource_manager == moved["resource_manager"]
            assert len(registry_names(app)) == 8
    finally:
        session.close()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
