"""Shared fixtures: a real sandbox on loopback HTTPS, and a host environment that cannot leak.

The development machines export REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE and SSL_CERT_DIR;
anything relying on them would pass here and fail elsewhere, so they are removed for the whole run
and every client must be given the sandbox's CA explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
             "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST"):
    os.environ.pop(_var, None)

from acr_console.sandbox.server import SandboxServer  # noqa: E402


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """One demo sandbox for the whole run. Tests that write must create their own objects."""
    server = SandboxServer(tmp_path_factory.mktemp("sandbox-demo"), seed="demo")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def connection(sandbox_server: SandboxServer) -> dict[str, Any]:
    assert sandbox_server.connection is not None
    return sandbox_server.connection


@pytest.fixture
def fresh_sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox of its own for a test that changes settings or needs a pristine tenant."""
    server = SandboxServer(tmp_path / "sandbox", seed="demo")
    server.start()
    yield server
    server.stop()
