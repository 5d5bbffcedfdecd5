"""The one way the tests start a sandbox: `running_sandbox` for a test or a fixture with more to do,
`sandbox_fixture` for a fixture that is only a sandbox.

Every sandbox is a real `SandboxServer` on loopback HTTPS in this process, in a folder of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from acr_console.sandbox.context import Settings
from acr_console.sandbox.faults import parse_faults
from acr_console.sandbox.server import SandboxServer

Scope = Literal["session", "package", "module", "class", "function"]


@contextlib.contextmanager
def running_sandbox(folder: Path, *, seed: str = "demo", settings: Settings | None = None, faults: str | None = None,
                    seed_time: float | None = None) -> Iterator[SandboxServer]:
    """A sandbox serving `folder` (seeded with `seed` if new) until the block ends.

    `faults` is a spec in the grammar of `acr_console/sandbox/faults.py`, armed from the first request
    (what `sandbox serve --faults` does); `settings` are the sandbox's other knobs.
    """
    settings = settings or Settings()
    if faults is not None:
        settings = dataclasses.replace(settings, faults=parse_faults(faults))
    with SandboxServer(folder, seed=seed, settings=settings, seed_time=seed_time) as server:
        assert server.connection is not None
        yield server


def sandbox_fixture(folder: str, *, scope: Scope = "module", seed: str = "demo", faults: str | None = None,
                    seed_time: float | None = None, doc: str | None = None) -> Any:
    """A fixture that yields a sandbox of its own, started in a new temporary folder named after
    `folder` and stopped when `scope` ends. Assign it to the fixture's name:
    `registry_sandbox = sandbox_fixture("registry-plane")`."""

    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
        with running_sandbox(tmp_path_factory.mktemp(folder), seed=seed, faults=faults,
                             seed_time=seed_time) as server:
            yield server

    fixture.__doc__ = doc or f"A sandbox of its own (seed {seed!r}), for the {scope}."
    made: Callable[..., Any] = pytest.fixture(scope=scope)(fixture)
    return made
