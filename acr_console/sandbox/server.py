"""Running the sandbox: in the foreground (`acr-console sandbox serve`) or on a background thread
(tests, and `acr-console --sandbox` when no server is serving the data folder yet).

A serving process holds an exclusive lock on `DIR/server.lock` for as long as it serves, and writes
`DIR/connection.json` (mode 0600, it holds the admin secret) atomically once it is listening.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from .app import build_app
from .context import GRAPH_PREFIX, Sandbox, Settings
from .directory import add_password, remove_password
from .launcher import CONNECTION_FILE, LEASE_DIR, LOCK_FILE, SandboxBusy, gate, used_by_others
from .seed import apply_seed
from .tls import ensure_tls

ADMIN_SECRET_NAME = "sandbox-admin"


def _bind(port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: with proto=0 asyncio skips TCP_NODELAY on accepted sockets and every
    # response waits ~40 ms for Nagle and delayed ACK (docs/reference/sdk-wiring.md §5).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(256)
    sock.setblocking(False)
    return sock


def _write_private_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=2)
    os.replace(tmp, path)


def _make_private(data_dir: Path) -> None:
    """The folder 0700 and the sandbox's files 0600, whatever they were before: the database holds
    registry admin passwords, the folder the signing and TLS keys."""
    os.chmod(data_dir, 0o700)
    for folder in (data_dir, data_dir / "tls", data_dir / LEASE_DIR):
        if folder != data_dir and folder.is_dir():
            os.chmod(folder, 0o700)
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() and not path.is_symlink():
                os.chmod(path, 0o600)


# Issue 16: how long a stop lets requests in flight finish before it cuts their connections.
STOP_GRACE = 0.5


class _Server(uvicorn.Server):
    """uvicorn's server, stopping in well under a second with nothing logged.

    uvicorn's graceful shutdown asks each connection to close (`H11Protocol.shutdown`: an idle
    keep-alive one gets `transport.close()`), then waits up to `timeout_graceful_shutdown` for the
    connections to go, and logs an ERROR ("Cancel 0 running task(s), timeout graceful shutdown
    exceeded") when they have not. Over TLS an idle connection does not go: `close()` sends TLS
    close_notify and asyncio waits for the peer's (`ssl_shutdown_timeout`, 30 s by default,
    docs.python.org asyncio-eventloop `loop.create_server`), which an SDK's idle pool never reads. So
    stopping the sandbox took 2 s and logged an ERROR whenever a client kept a connection (issue 16:
    3–4 s). Here the connections still mid-request get STOP_GRACE to finish; then every remaining
    transport is aborted (closed without the TLS goodbye, as a crashed peer's would be), and
    uvicorn's wait finds nothing left."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await asyncio.gather(super().shutdown(sockets), self._abort_lingering())

    async def _abort_lingering(self) -> None:
        deadline = time.monotonic() + STOP_GRACE
        while self.server_state.connections:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            for connection in list(self.server_state.connections):
                cycle = getattr(connection, "cycle", None)
                idle = cycle is None or getattr(cycle, "response_complete", True)
                transport = getattr(connection, "transport", None)
                if transport is not None and (idle or now > deadline):
                    transport.abort()


class SandboxServer:
    def __init__(
        self, data_dir: Path, *, port: int = 0, seed: str = "demo", reset: bool = False,
        settings: Settings | None = None, seed_time: float | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.seed_time = seed_time
        self.port = port
        self.seed = seed
        self.reset = reset
        self.settings = settings or Settings()
        self.sandbox: Sandbox | None = None
        self.connection: dict[str, Any] | None = None
        self._lock_fd: int | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # -- preparation shared by both ways of running ------------------------------------------

    def _prepare(self) -> tuple[socket.socket, uvicorn.Config]:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock_fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise SandboxBusy(f"another process is already serving {self.data_dir}") from None
        # Who holds the lock: the launcher believes a connection file only if its pid is this one.
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, f"{os.getpid()}\n".encode(), 0)
        try:
            return self._prepare_locked()
        except BaseException:
            self._cleanup()
            raise

    def _prepare_locked(self) -> tuple[socket.socket, uvicorn.Config]:
        if self.reset:
            for name in ("sandbox.db", "sandbox.db-wal", "sandbox.db-shm", CONNECTION_FILE):
                with contextlib.suppress(FileNotFoundError):
                    (self.data_dir / name).unlink()
        sb = Sandbox(self.data_dir, self.settings)
        self.sandbox = sb
        store = sb.store
        if store.get_meta("tenant_id") is not None and store.get_meta("seed") is None:
            # Only a version from before seeding was atomic can leave this: say so, change nothing.
            raise ValueError(f"the sandbox data in {self.data_dir} was left half-seeded (a start was "
                             "stopped while seeding); start it with --reset, or delete the folder")
        if not store.is_seeded():
            # One transaction: a process killed while seeding leaves an unseeded store (seeded afresh
            # on the next start), never an almost empty tenant.
            with store.transaction():
                apply_seed(store, self.seed, self.seed_time)
        tls = ensure_tls(self.data_dir)
        _make_private(self.data_dir)
        sock = self._bind_port(store)
        sb.set_port(sock.getsockname()[1])
        config = uvicorn.Config(
            build_app(sb),
            ssl_certfile=str(tls.server_cert),
            ssl_keyfile=str(tls.server_key),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            # uvicorn closes an idle connection after 5 s by default, the same moment httpx's pool
            # (keepalive_expiry=5 s) still deems it reusable: under load a request then goes out on
            # a socket the server is closing (RemoteProtocolError on a POST that cannot be retried).
            # Azure's front ends keep idle connections far longer (the Azure Load Balancer's idle
            # timeout defaults to 4 minutes: learn.microsoft.com/azure/load-balancer/load-balancer-tcp-idle-timeout),
            # so clients see no such race there; neither should they here.
            timeout_keep_alive=240,
            server_header=False,
        )
        self._sock = sock
        return sock, config

    def _bind_port(self, store: Any) -> socket.socket:
        """The port asked for; with none asked, the one this data folder had last time when it is
        free. Entra's authority is a fixed address, and azure-identity's persistent cache and
        AuthenticationRecord are keyed by it (MSAL matches an account's `environment`, the
        authority's host and port): a sandbox that moved on every start would ask a person signed in
        with a device code to sign in again at each command that starts one."""
        if self.port == 0:
            last = store.get_meta("last_port")
            if last is not None and last.isdigit():
                with contextlib.suppress(OSError):  # taken meanwhile: any free port, as before
                    return _bind(int(last))
        sock = _bind(self.port)
        store.set_meta("last_port", str(sock.getsockname()[1]))
        return sock

    def _admin_secret(self) -> tuple[str, str]:
        """A fresh admin secret each start: the store keeps only hashes, so the old one is unknowable."""
        assert self.sandbox is not None
        store = self.sandbox.store
        app_id = store.get_meta("admin_app_id")
        assert app_id is not None
        app = store.by_app_id(app_id, "application")
        assert app is not None
        for cred in list(app.get("passwordCredentials", [])):
            if cred.get("displayName") == ADMIN_SECRET_NAME:
                remove_password(store, app, "application", cred["keyId"])
        now = datetime.now(UTC)
        _, secret = add_password(store, app, "application", display_name=ADMIN_SECRET_NAME,
                                 start=now - timedelta(minutes=5), end=now + timedelta(days=365))
        return app_id, secret

    def _publish(self) -> None:
        assert self.sandbox is not None
        sb = self.sandbox
        client_id, secret = self._admin_secret()
        tls = ensure_tls(self.data_dir)
        connection = {
            "tenant_id": sb.store.tenant_id,
            "authority_host": sb.base_url,
            "resource_manager": sb.base_url + "/",
            "microsoft_graph": sb.base_url + GRAPH_PREFIX,
            "registry_endpoint": sb.base_url,
            "ca_bundle": str(tls.ca_cert.resolve()),
            "subscriptions": [row["id"] for row in sb.store.subscriptions()],
            "page_size": sb.settings.page_size,
            "admin": {"client_id": client_id, "client_secret": secret},
            "pid": os.getpid(),
            "port": int(sb.base_url.rsplit(":", 1)[1]),
            "seed": sb.store.get_meta("seed"),
        }
        _write_private_json(self.data_dir / CONNECTION_FILE, connection)
        # Only now: start() returns once this is set, and its caller may look for the file.
        self.connection = connection

    def _cleanup(self) -> None:
        path = self.data_dir / CONNECTION_FILE
        try:
            current = json.loads(path.read_text())
            if current.get("pid") == os.getpid() and self.connection and current.get("port") == self.connection["port"]:
                path.unlink()
        except (FileNotFoundError, ValueError):
            pass
        if self.sandbox is not None:
            self.sandbox.store.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    async def _serve(self, sock: socket.socket, config: uvicorn.Config) -> None:
        self._server = _Server(config)
        task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if task.done():
                await task  # re-raise why it could not start
                return
            await asyncio.sleep(0.005)
        self._publish()
        await task

    # -- foreground ---------------------------------------------------------------------------

    def serve_forever(self, on_ready: Any = None) -> None:
        """Serve until SIGINT/SIGTERM (uvicorn installs the handlers on the main thread)."""
        sock, config = self._prepare()
        # uvicorn captures SIGINT/SIGTERM while serving and re-raises them once it has stopped;
        # with the default handlers that re-raise would kill the process before the connection
        # file is removed. Quiet handlers make the re-raise a no-op and let cleanup run.
        previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            async def main() -> None:
                serving = asyncio.create_task(self._serve(sock, config))
                while self.connection is None and not serving.done():
                    await asyncio.sleep(0.005)
                if on_ready is not None and self.connection is not None:
                    on_ready(self.connection)
                await serving

            asyncio.run(main())
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._cleanup()

    # -- background thread ----------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> dict[str, Any]:
        sock, config = self._prepare()

        def run() -> None:
            try:
                asyncio.run(self._serve(sock, config))
            except BaseException as exc:  # reported to start() and stop()
                self._error = exc

        self._thread = threading.Thread(target=run, name="acr-console-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while self.connection is None:
            if self._error is not None or not self._thread.is_alive():
                self._cleanup()
                raise RuntimeError(f"the sandbox failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("the sandbox did not start in time")
            time.sleep(0.005)
        return self.connection

    def stop(self) -> None:
        """Stop serving; while another process still uses this sandbox (a lease in `DIR/clients`,
        see launcher.py), keep serving until it is done."""
        if self.connection is None or self._thread is None:
            self._halt()
            return
        told = False
        while True:
            with gate(self.data_dir):
                if not used_by_others(self.data_dir):
                    self._halt()
                    return
            if not told:
                print(f"acr-console: another command is using the sandbox in {self.data_dir}; it keeps "
                      "serving until that command ends", file=sys.stderr, flush=True)
                told = True
            time.sleep(0.2)

    def _halt(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            # Keep-alive TLS connections left open by SDK clients would hold a graceful shutdown.
            self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._cleanup()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
