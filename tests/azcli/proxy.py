"""The one way off loopback a client we did not write gets: registry login servers, and only to the sandbox.

The Azure CLI connects to a registry by its login server name (`https://R.azurecr.io/v2/`, then
`/oauth2/exchange` and `/oauth2/token` there: azure-cli 2.91.0 `command_modules/acr/_docker_utils.py`).
It honours HTTPS_PROXY (requests does), so it is pointed here. A `CONNECT <name>.azurecr.io:443`
is tunnelled to the sandbox's listener, which serves every registry by its Host (SNI and certificate:
acr_console/sandbox/tls.py). Every other request is handed, byte for byte, to the test run's tripwire
(tests/conftest.py), which refuses it and records it, so the run fails as it would for any other
client that tried to leave the machine.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

LOGIN_SERVER_SUFFIX = ".azurecr.io"
_HEAD_LIMIT = 65536


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _HEAD_LIMIT:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ, b)
    sel.register(b, selectors.EVENT_READ, a)
    try:
        while True:
            for key, _ in sel.select(timeout=60):
                src: socket.socket = key.fileobj  # type: ignore[assignment]
                data = src.recv(65536)
                if not data:
                    return
                key.data.sendall(data)
    except OSError:
        return
    finally:
        sel.close()


class LoginServerRoute:
    """A CONNECT proxy on loopback: `*.azurecr.io:443` → the sandbox; anything else → the tripwire."""

    def __init__(self, sandbox_port: int, tripwire_port: int | None = None) -> None:
        self.sandbox_port = sandbox_port
        self.tripwire_port = tripwire_port  # None: refuse here (403) and remember in `refused`
        self.routed: list[str] = []  # the login servers clients reached through here
        self.refused: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(32)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, name="login-server-route", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(30)
            try:
                head = _read_head(conn)
            except OSError:
                return
            method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
            target = rest.split(" ", 1)[0]
            host, _, port = target.rpartition(":")
            if method == "CONNECT" and port == "443" and host.lower().endswith(LOGIN_SERVER_SUFFIX):
                self.routed.append(host.lower())
                upstream_port = self.sandbox_port
                reply: bytes | None = b"HTTP/1.1 200 Connection Established\r\n\r\n"
            elif self.tripwire_port is None:
                self.refused.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
                with contextlib.suppress(OSError):
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            else:
                upstream_port = self.tripwire_port
                reply = None
            try:
                with socket.create_connection(("127.0.0.1", upstream_port), timeout=30) as upstream:
                    if reply is None:
                        upstream.sendall(head)  # the tripwire reads the request line, records it, refuses
                    else:
                        conn.sendall(reply)
                    conn.settimeout(None)
                    upstream.settimeout(None)
                    _pipe(conn, upstream)
            except OSError:
                return

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()


def main() -> None:
    """`python -m tests.azcli.proxy --sandbox-port PORT`: the route for a shell, to run the Azure CLI
    by hand (README, "Clients we did not write"); prints the proxy URL for HTTPS_PROXY."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--sandbox-port", type=int, required=True, help="the sandbox's port (connection.json)")
    args = parser.parse_args()
    route = LoginServerRoute(args.sandbox_port)
    print(f"HTTPS_PROXY={route.url}  (*{LOGIN_SERVER_SUFFIX}:443 to 127.0.0.1:{args.sandbox_port}; "
          "anything else refused)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        route.close()


if __name__ == "__main__":
    main()
