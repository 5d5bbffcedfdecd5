"""The sandbox's one door for the console: find the sandbox serving a data folder or start one in
this process, start a private one, or serve one in the foreground.

Sharing. A command that finds a sandbox serving its data folder uses it and holds a lease on it
(`DIR/clients/PID.ID.lease`, an exclusive flock for as long as it uses the sandbox). A process that
started a sandbox in-process and is done with it keeps serving while any other process holds a lease
(`SandboxServer.stop`), then stops: a second command never loses the server under it. Leases and the
owner's last look are serialised by `DIR/clients.lock`, so a command either finds the server with its
lease in place or finds none and starts its own. The kernel drops a dead holder's flock, so a killed
command never keeps a sandbox alive.

Finding. `connection.json` is believed only while `DIR/server.lock` is locked by the process it names
(a server writes its pid into the lock file): a file left by a killed server, whose pid and port were
since reused by other programs, is stale however alive they look.

The console reaches the sandbox only through here, and only from `acr_console.session` (the
import-linter contracts in pyproject.toml say so). Kept free of server imports: connecting to a
running sandbox must not pay for uvicorn and starlette.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_data_path

if TYPE_CHECKING:
    from .context import Settings
    from .server import SandboxServer as SandboxServer

CONNECTION_FILE = "connection.json"
LOCK_FILE = "server.lock"
GATE_FILE = "clients.lock"
LEASE_DIR = "clients"


class SandboxBusy(RuntimeError):
    """Another process is already serving this data folder."""


class DeviceCodeRefused(Exception):
    """Why a device code cannot be approved or declined; the message names the user code only."""


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


def lock_holder(data_dir: Path) -> int | None:
    """The pid written in `DIR/server.lock` while a server holds it locked; None when no server holds
    it; 0 when one does but wrote no pid (yet)."""
    try:
        fd = os.open(data_dir / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 64).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def read_connection(data_dir: Path) -> dict[str, Any] | None:
    """The connection of a live server for `data_dir`, or None (none, or a stale file)."""
    try:
        conn = json.loads((data_dir / CONNECTION_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(conn, dict) or lock_holder(data_dir) != conn.get("pid"):
        return None
    return conn if _alive(conn) else None


@contextlib.contextmanager
def gate(data_dir: Path, wait_s: float = 30.0) -> Iterator[None]:
    """`DIR/clients.lock`, held while a lease is taken and checked, and while an owner decides to stop."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(data_dir / GATE_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SandboxBusy(f"{data_dir / GATE_FILE} stayed locked for {wait_s:.0f} s") from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # closing drops the lock


class Lease:
    """This process uses the sandbox serving a data folder: an exclusive flock on a file of its own."""

    def __init__(self, data_dir: Path) -> None:
        folder = data_dir / LEASE_DIR
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = folder / f"{os.getpid()}.{uuid.uuid4().hex}.lease"
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None


def used_by_others(data_dir: Path) -> bool:
    """Whether a live process other than this one holds a lease on the sandbox in `data_dir`; leases
    of dead processes are removed on the way. (This process's own leases end with it anyway.)"""
    used = False
    for path in (data_dir / LEASE_DIR).glob("*.lease"):
        if path.name.split(".", 1)[0] == str(os.getpid()):
            continue
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            used = True
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # its holder is gone
        finally:
            os.close(fd)
    return used


@dataclass
class SandboxUse:
    """A sandbox this session uses: the server it started (None: another process's), and its lease."""

    connection: dict[str, Any]
    server: SandboxServer | None = None
    lease: Lease | None = None

    def close(self) -> None:
        if self.lease is not None:
            self.lease.release()
            self.lease = None
        if self.server is not None:
            self.server.stop()  # waits while other processes still use it
            self.server = None


def _use_running(data_dir: Path) -> SandboxUse | None:
    with gate(data_dir):
        if read_connection(data_dir) is None:
            return None
        lease = Lease(data_dir)
        conn = read_connection(data_dir)  # again, now that it cannot stop under us
        if conn is None:
            lease.release()
            return None
        return SandboxUse(conn, None, lease)


def moved(data_dir: Path, resource_manager: str) -> bool:
    """Issue 16: whether the sandbox serving `data_dir` is no longer the one at `resource_manager` (its
    ARM URL, port included): connection.json names another address, or no live server (a stopped one
    leaves no believable file). Read again each time, after a request could not connect."""
    conn = read_connection(data_dir)
    return conn is None or conn.get("resource_manager") != resource_manager


def connect_or_start(data_dir: Path, seed: str = "demo", wait_s: float = 15.0) -> SandboxUse:
    """The sandbox serving `data_dir`, or one started now in this process. Close what is returned."""
    use = _use_running(data_dir)
    if use is not None:
        return use
    try:
        conn, server = start(data_dir, seed=seed)
        return SandboxUse(conn, server)
    except SandboxBusy:
        # Another process holds the lock and is still starting: wait for its connection file.
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            use = _use_running(data_dir)
            if use is not None:
                return use
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


def decide_device_code(data_dir: Path, code: str, *, user: str | None, decline: bool) -> tuple[str, str]:
    """Approve or decline a pending device-code sign-in in the sandbox whose data is `data_dir`, as
    the person at Entra's verification page does; works whether or not a server is serving the folder
    (the codes live in its SQLite store). Returns (user code, UPN). Raises FileNotFoundError for a
    folder with no sandbox and DeviceCodeRefused for a code that cannot be decided."""
    from .device_flow import decide
    from .store import Store

    db = data_dir / "sandbox.db"
    if not db.is_file():
        raise FileNotFoundError(f"no sandbox data in {data_dir}")
    store = Store(db)
    try:
        if store.get_meta("tenant_id") is None:
            raise FileNotFoundError(f"no sandbox tenant in {data_dir} (it was never seeded)")
        return decide(store, code, upn=user, decline=decline)
    finally:
        store.close()
