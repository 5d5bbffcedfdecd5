"""Fixtures for operations against the sandbox: real SDK clients over loopback HTTPS, no mocks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.operations import AuditLog

from .cleanup import TEST_PREFIX, cleanup

LEGACY_REGISTRY = "contosoprod"
ABAC_REGISTRY = "contosoprodweu"
OTHER_LEGACY_REGISTRY = "contosobase"


def unique(prefix: str = "ops") -> str:
    return f"{TEST_PREFIX}{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def az(connection: dict[str, Any]) -> AsyncIterator[AzureClients]:
    async with AzureClients(sandbox_connection(connection)) as clients:
        yield clients


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.jsonl")


@pytest.fixture(autouse=True)
def _audit_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing a test runs may write into the developer's real log folder.
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(tmp_path / "default-audit.jsonl"))


@pytest.fixture(scope="module", autouse=True)
def _leave_the_shared_sandbox_clean(sandbox_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    cleanup(sandbox_server.connection, AuditLog(tmp_path_factory.mktemp("cleanup") / "audit.jsonl"))
