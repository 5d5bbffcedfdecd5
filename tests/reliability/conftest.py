"""Shared by the reliability suite: sandboxes of its own (faults are global to a sandbox), tokens
that expire on demand, the request log read back, and the figures the README quotes.

The figures are printed at the end of the run and written as JSON (to `$ACR_RELIABILITY_FIGURES`
when set, else into pytest's temporary folder), so they are read from a run, never typed by hand.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acr_console.sandbox.server import SandboxServer
from acr_console.sandbox.tokens import InvalidToken

from ..support.once import OncePerRun

PREFIX = "rel-"
FIGURES: dict[str, Any] = {}
# The fault matrix of this run (test_fault_matrix.py), once started; a bound on waiting for it
# (alone it takes about half a minute).
MATRIX_RUN = pytest.StashKey[OncePerRun]()
MATRIX_TIMEOUT_S = 600.0


def unique(label: str) -> str:
    return f"{PREFIX}{label}-{uuid.uuid4().hex[:8]}"


def record(section: str, key: str, value: Any) -> None:
    """Keep a figure for the end-of-run summary."""
    FIGURES.setdefault(section, {})[key] = value


def fault_notes(server: SandboxServer, since: int) -> list[str]:
    """The faults the sandbox injected after request `since`, from its own request log."""
    assert server.sandbox is not None
    return [r["note"] for r in server.sandbox.store.request_log(since) if (r.get("note") or "").startswith("fault")]


async def wait_for_log(server: SandboxServer, since: int, done: Callable[[list[dict[str, Any]]], bool],
                       timeout_s: float = 30.0) -> list[dict[str, Any]]:
    """Poll the request log until `done(rows)`: a request the client gave up on is logged (and its
    write applied) only when the sandbox finishes it, after the injected delay. `timeout_s` bounds
    the wait (the delays injected are a second or two); past it the test fails, saying so."""
    assert server.sandbox is not None
    deadline = time.monotonic() + timeout_s
    while not done(rows := server.sandbox.store.request_log(since)):
        if time.monotonic() > deadline:
            raise AssertionError(f"the request log never showed what was awaited within {timeout_s:g} s")
        await asyncio.sleep(0.05)
    return rows


class TokenClock:
    """Makes the sandbox refuse, as expired, every access token it issued before `expire_all()`.

    The clients still hold those tokens valid for an hour (the expires_in they were given), which is
    what a token that expires mid-operation looks like to them when clocks disagree or the token is
    revoked. The sandbox has no setting for token lifetimes, so this wraps its token issuer in place
    (it runs in this process); no waiting is needed, and tokens issued later are accepted again.
    """

    def __init__(self, server: SandboxServer) -> None:
        assert server.sandbox is not None
        self.issuer = server.sandbox.issuer
        self.issued: list[str] = []
        self.expired: set[str] = set()
        self.refused = 0
        self._issue, self._verify = self.issuer.issue, self.issuer.verify

    def __enter__(self) -> TokenClock:
        def issue(claims: dict[str, Any], *args: Any, **kwargs: Any) -> str:
            token = self._issue(claims, *args, **kwargs)
            self.issued.append(token)
            return token

        def verify(token: str, audiences: set[str]) -> dict[str, Any]:
            if token in self.expired:
                self.refused += 1
                raise InvalidToken("the token has expired")
            return self._verify(token, audiences)

        self.issuer.issue = issue  # type: ignore[method-assign]
        self.issuer.verify = verify  # type: ignore[method-assign]
        return self

    def expire_all(self) -> None:
        self.expired.update(self.issued)

    def __exit__(self, *exc: object) -> None:
        self.issuer.issue = self._issue  # type: ignore[method-assign]
        self.issuer.verify = self._verify  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Audit log and configuration of the test's own: nothing may land in the developer's folders.
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    (tmp_path / "config.toml").touch()  # empty: no configuration (a file ACR_CONSOLE_CONFIG names must exist)
    monkeypatch.setenv("ACR_CONSOLE_CONFIG", str(tmp_path / "config.toml"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The fault matrix's checks run last: its cases run in a process of their own from the end of
    collection on (see below), so on two cores the rest of the suite runs beside them."""
    matrix = [i for i in items if "matrix" in getattr(i, "fixturenames", ())]
    items[:] = [i for i in items if i not in matrix] + matrix


def pytest_collection_finish(session: pytest.Session) -> None:
    # After deselection (-k, -m): only a run that will check the matrix starts it. Every xdist
    # worker collects every test, so each gets here; the first of the run starts it, the others
    # find it started (tests/support/once.py).
    if session.config.option.collectonly:
        return
    if any("matrix" in getattr(i, "fixturenames", ()) for i in session.items):
        from .test_fault_matrix import start_matrix

        session.config.stash[MATRIX_RUN] = start_matrix(session.config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # The process running the matrix stays until it is written: other workers may be waiting for it
    # (unless the run is being cut short: then nobody is).
    once = session.config.stash.get(MATRIX_RUN, None)
    stopping = exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop or session.shouldfail
    if once is not None and not stopping:
        once.wait_written(MATRIX_TIMEOUT_S)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not FIGURES:
        return
    target = os.environ.get("ACR_RELIABILITY_FIGURES")
    path = Path(target) if target else Path(str(config._tmp_path_factory.getbasetemp())) / "reliability-figures.json"  # type: ignore[attr-defined]
    path.write_text(json.dumps(FIGURES, indent=2, sort_keys=True) + "\n")
    terminalreporter.section("reliability figures")
    for section, values in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{section}:")
        for key, value in sorted(values.items()):
            terminalreporter.write_line(f"  {key}: {value}")
    terminalreporter.write_line(f"(written to {path})")
