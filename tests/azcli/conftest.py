"""Fixtures for running the unmodified Azure CLI against a sandbox (tests/azcli/azcli.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from acr_console.sandbox.server import SandboxServer

from ..conftest import Tripwire
from ..support.sandbox import running_sandbox
from .azcli import AZ_VERSION, INSTALL, Machines, az_venv, find_az
from .proxy import LoginServerRoute


@pytest.fixture(scope="session")
def az_executable() -> Path:
    """The pinned Azure CLI. Missing is a failure, never a skip: the README's test command installs it."""
    exe = find_az()
    if exe is None:
        pytest.fail(f"azure-cli {AZ_VERSION} is not installed in {az_venv()}: run {INSTALL} "
                    "(the README's test command does; ACR_CONSOLE_AZ_VENV chooses another folder)",
                    pytrace=False)
    return exe


@pytest.fixture
def empty_sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    """A fresh `--seed empty` sandbox: a tenant, its subscriptions and the admin principal only."""
    with running_sandbox(tmp_path / "sandbox", seed="empty") as server:
        yield server


@pytest.fixture
def login_server_route(empty_sandbox: SandboxServer, tripwire: Tripwire) -> Iterator[LoginServerRoute]:
    assert empty_sandbox.connection is not None
    route = LoginServerRoute(empty_sandbox.connection["port"], tripwire.port)
    yield route
    route.close()


@pytest.fixture
def machines(az_executable: Path, empty_sandbox: SandboxServer, login_server_route: LoginServerRoute,
             tmp_path: Path) -> Machines:
    """`machines.new("name")`: an Azure CLI on a machine of its own, pointed at the sandbox."""
    assert empty_sandbox.connection is not None
    return Machines(az_executable, tmp_path, empty_sandbox.connection, login_server_route.url)
