"""The sandbox's own robustness, as processes: a start killed while seeding, a stale connection file
whose pid and port were reused, two commands sharing one in-process sandbox, and a data folder that
was world-readable before."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from acr_console.sandbox.launcher import read_connection
from acr_console.sandbox.store import Store

from ..support.sandbox import running_sandbox

PROGRAM = [sys.executable, "-m", "acr_console"]


def _wait_for(predicate: object, what: str, proc: subprocess.Popen[str] | None = None, limit_s: float = 120) -> None:
    """Poll `predicate` (a callable) until true; fail naming `what` after `limit_s` (a hang guard, not
    a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while not predicate():  # type: ignore[operator]
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process ended first: {proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {limit_s} s")
        time.sleep(0.05)


def test_a_start_killed_while_seeding_leaves_no_half_tenant(tmp_path: Path) -> None:
    data = tmp_path / "sbx"
    proc = subprocess.Popen([*PROGRAM, "sandbox", "serve", "--data", str(data), "--port", "0",
                             "--seed", "large:400000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wal = data / "sandbox.db-wal"
        # Seeding is under way once the write-ahead log holds more than the cache can (pages spill).
        _wait_for(lambda: wal.exists() and wal.stat().st_size > 4 * 1024 * 1024, "seeding under way", proc)
        assert not (data / "connection.json").exists()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    store = Store(data / "sandbox.db")
    try:
        assert not store.is_seeded()
        assert store.row("SELECT COUNT(*) FROM directory_objects")[0] == 0  # type: ignore[index]
        assert store.row("SELECT COUNT(*) FROM subscriptions")[0] == 0  # type: ignore[index]
    finally:
        store.close()
    # The next start seeds it afresh, completely.
    with running_sandbox(data, seed="demo") as server:
        assert server.sandbox is not None
        assert server.sandbox.store.get_meta("seed") == "demo"
        assert len(server.sandbox.store.subscriptions()) == 3


@pytest.fixture
def impostor() -> Iterator[int]:
    """A port some other program listens on (plain TCP, no TLS), as a reused port would be."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_a_stale_connection_file_is_seen_through_the_lock(tmp_path: Path, impostor: int) -> None:
    data = tmp_path / "sbx"
    with running_sandbox(data):
        pass
    # A connection file left by a killed server, whose pid (this test's) and port (the impostor's) are
    # alive again with other programs behind them.
    (data / "connection.json").write_text(json.dumps({"pid": os.getpid(), "port": impostor}))
    assert read_connection(data) is None
    run = subprocess.run([*PROGRAM, "--sandbox-data", str(data), "registries", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert {r["name"] for r in json.loads(run.stdout)} >= {"contosoprod", "contosodev"}
    assert "SSL" not in run.stderr


USER = textwrap.dedent('''
    import sys
    from pathlib import Path
    from azure.identity import ClientSecretCredential
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient
    from acr_console.sandbox.launcher import connect_or_start

    use = connect_or_start(Path(sys.argv[1]))
    print("started" if use.server is not None else "shared", flush=True)
    for line in sys.stdin:
        if line.strip() == "list":
            c = use.connection
            cred = ClientSecretCredential(c["tenant_id"], c["admin"]["client_id"], c["admin"]["client_secret"],
                                          authority=c["authority_host"], disable_instance_discovery=True,
                                          connection_verify=c["ca_bundle"])
            acr = ContainerRegistryManagementClient(cred, c["subscriptions"][0], base_url=c["resource_manager"],
                                                    credential_scopes=["https://management.azure.com/.default"],
                                                    connection_verify=c["ca_bundle"], retry_total=0)
            print(len(list(acr.registries.list())), flush=True)
        else:
            print("closing", flush=True)
            use.close()
            print("closed", flush=True)
            break
''')


def test_a_shared_sandbox_outlives_the_command_that_started_it(tmp_path: Path) -> None:
    data = tmp_path / "sbx"
    script = tmp_path / "user.py"
    script.write_text(USER)

    def user() -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, str(script), str(data)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first, second = user(), None
    try:
        assert first.stdout is not None and first.stdin is not None
        assert first.stdout.readline().strip() == "started"
        second = user()
        assert second.stdout is not None and second.stdin is not None
        assert second.stdout.readline().strip() == "shared"
        # The first command is done with it: it says it is closing and keeps serving for the second.
        first.stdin.write("done\n")
        first.stdin.flush()
        assert first.stdout.readline().strip() == "closing"
        assert first.stderr is not None
        assert "another command is using the sandbox" in first.stderr.readline()
        second.stdin.write("list\n")
        second.stdin.flush()
        assert int(second.stdout.readline()) > 0  # served, by the first command's server
        second.stdin.write("done\n")
        second.stdin.flush()
        assert second.wait(timeout=60) == 0
        # Once the second is done, the first stops its server and ends.
        assert first.wait(timeout=60) == 0
        assert read_connection(data) is None and not (data / "connection.json").exists()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def test_the_data_folder_is_made_private_whatever_it_was(tmp_path: Path) -> None:
    data = tmp_path / "sbx"
    with running_sandbox(data):
        pass
    # Opened up by someone (an old version, a copy, a umask of 022).
    os.chmod(data, 0o755)
    for path in [*data.iterdir(), *(data / "tls").iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    with running_sandbox(data):
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "tls").stat().st_mode) == 0o700
        for name in ("sandbox.db", "connection.json", "server.lock", "clients.lock", "tls/server-key.pem",
                     "tls/ca.pem"):
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
