"""Shared fixtures: a real sandbox on loopback HTTPS, and a host environment that cannot leak.

The development machines export REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE and SSL_CERT_DIR;
anything relying on them would pass here and fail elsewhere, so they are removed for the whole run
and every client must be given the sandbox's CA explicitly.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
             "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST"):
    os.environ.pop(_var, None)

from hypothesis import settings as hypothesis_settings  # noqa: E402

from acr_console.sandbox.server import SandboxServer  # noqa: E402

from .support.certificates import write_certificate_files  # noqa: E402
from .support.sandbox import sandbox_fixture  # noqa: E402

# CI must not turn red on an example nobody saw locally: there the search is derandomized (the same
# examples every run); on a developer's machine it keeps exploring and remembers what it found.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


class Tripwire:
    """A proxy that refuses everything and remembers who asked (docs/reference/sdk-wiring.md §7).

    HTTPS_PROXY points here and NO_PROXY exempts loopback, so a mis-wired client that tries to
    reach a real Azure host fails fast, names the host, and never leaves the machine.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    first = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    first = "?"
                self.seen.append(first)
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def close(self) -> None:
        self._sock.close()


@pytest.fixture(scope="session", autouse=True)
def tripwire() -> Iterator[Tripwire]:
    wire = Tripwire()
    proxy = f"http://127.0.0.1:{wire.port}"
    saved = {k: os.environ.get(k) for k in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "NO_PROXY",
                                             "no_proxy")}
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        os.environ[key] = proxy
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    yield wire
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    wire.close()
    assert not wire.seen, f"something tried to leave loopback: {wire.seen}"


sandbox_server = sandbox_fixture(
    "sandbox-demo", scope="session",
    doc="One demo sandbox for the whole run. Tests that write must create their own objects.")


@pytest.fixture
def connection(sandbox_server: SandboxServer) -> dict[str, Any]:
    assert sandbox_server.connection is not None
    return sandbox_server.connection


fresh_sandbox = sandbox_fixture(
    "sandbox", scope="function",
    doc="A sandbox of its own for a test that changes settings or needs a pristine tenant.")


@pytest.fixture(scope="session")
def certificate_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every kind of certificate file, good and bad, by label (tests/support/certificates.py)."""
    return write_certificate_files(tmp_path_factory.mktemp("certificates"))
