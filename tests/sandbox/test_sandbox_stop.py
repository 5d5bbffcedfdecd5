"""Issue 16: the sandbox stops cleanly while clients keep connections open: no ERROR line, exit 0.

uvicorn's graceful shutdown waited for idle keep-alive TLS connections that never close (asyncio
waits for the peer's TLS close_notify, `ssl_shutdown_timeout`: docs.python.org, asyncio event loop,
`loop.create_server`), then logged "ERROR: Cancel 0 running task(s), timeout graceful shutdown
exceeded" after `timeout_graceful_shutdown` (sandbox/server.py `_Server`). How long a stop takes is
measured in benchmarks, never asserted here.
"""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _serve(data: Path) -> tuple[subprocess.Popen[str], dict[str, object]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "acr_console", "sandbox", "serve", "--data", str(data), "--port", "0", "--seed", "demo"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    conn_path = data / "connection.json"
    deadline = time.monotonic() + 60
    while not conn_path.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "connection.json never appeared"
        time.sleep(0.05)
    return proc, json.loads(conn_path.read_text())


def test_stop_with_idle_keep_alive_connections_logs_no_error(tmp_path: Path) -> None:
    proc, conn = _serve(tmp_path / "d")
    clients: list[httpx.Client] = []
    try:
        context = ssl.create_default_context(cafile=str(conn["ca_bundle"]))
        for _ in range(3):  # three idle pooled connections, as SDK clients leave them
            client = httpx.Client(verify=context)
            clients.append(client)
            answer = client.get(f"{conn['resource_manager']}subscriptions?api-version=2022-12-01")
            assert answer.status_code == 401  # reached the server, no token sent
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert "ERROR" not in err, err
        assert "timeout graceful shutdown" not in err
        assert not (tmp_path / "d" / "connection.json").exists()
    finally:
        for client in clients:
            client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
