"""Work done once per test run, by whichever process of the run starts it first; every process of
the run can wait for its result.

pytest-xdist runs a session fixture once in each worker. Its documented recipe for work that must
happen once per run ("Making session-scoped fixtures execute only once",
https://pytest-xdist.readthedocs.io/en/stable/how-to.html#making-session-scoped-fixtures-execute-only-once)
is a file lock in the folder that all workers of a run share: the first to take the lock does the
work and writes its result; the others wait on the lock, then read the result. `OncePerRun` is that
recipe with the work started early and in the background (so it overlaps the rest of the run): the
process that takes the lock keeps it while the work runs, and the work's completion callback writes
the result and lets go. A process that ends without writing the result loses the lock with it, so a
waiter is told instead of waiting forever.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock, Timeout


def run_folder(config: pytest.Config) -> Path:
    """The temporary folder every process of this run shares: under xdist the workers' own
    temporary folders sit side by side in the run's folder, so that is their parent."""
    factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
    base = factory.getbasetemp()
    return base.parent if hasattr(config, "workerinput") else base


class OncePerRun:
    """The result (JSON) of one piece of work, named `name`, done once in this run."""

    def __init__(self, config: pytest.Config, name: str) -> None:
        folder = run_folder(config)
        self.name = name
        self._result = folder / f"{name}.json"
        self._lock_path = folder / f"{name}.lock"
        # Not thread-local: the completion callback, on the executor's thread, releases it.
        self._held = FileLock(self._lock_path, thread_local=False)
        self._written = threading.Event()
        self.started_here = False

    def start(self, work: Callable[[], concurrent.futures.Future[Any]]) -> bool:
        """Start `work` (which returns a future of a JSON value) unless a process of this run has;
        True if this call started it."""
        try:
            self._held.acquire(timeout=0)
        except Timeout:
            return False
        if self._result.exists():  # done already: whoever held the lock has finished
            self._held.release()
            return False
        self.started_here = True
        try:
            future = work()
        except BaseException:
            self._write({"error": traceback.format_exc()})
            raise
        future.add_done_callback(self._finished)
        return True

    def _finished(self, future: concurrent.futures.Future[Any]) -> None:
        try:
            value = future.result()
        except BaseException as exc:
            self._write({"error": "".join(traceback.format_exception(exc))})
        else:
            self._write({"result": value})

    def _write(self, payload: dict[str, Any]) -> None:
        try:
            partial = self._result.with_suffix(".partial")
            partial.write_text(json.dumps(payload))
            os.replace(partial, self._result)  # readers see the whole file or none
        finally:
            self._held.release()
            self._written.set()

    def result(self, timeout: float) -> Any:
        """The work's result, waiting at most `timeout` seconds while it runs (in any process of the
        run, this one included: a second lock on the same file waits for the first)."""
        try:
            with FileLock(self._lock_path, timeout=timeout):
                text = self._result.read_text() if self._result.exists() else None
        except Timeout:
            raise AssertionError(f"{self.name} did not finish within {timeout:.0f} s") from None
        if text is None:
            raise AssertionError(f"the process that started {self.name} ended without its result")
        payload = json.loads(text)
        if "error" in payload:
            raise AssertionError(f"{self.name} failed:\n{payload['error']}")
        return payload["result"]

    def wait_written(self, timeout: float) -> None:
        """In the process that started the work: wait until its result is written, so the process
        does not end (and take the work with it) while other processes wait for it."""
        if self.started_here and not self._written.wait(timeout):
            raise AssertionError(f"{self.name} did not finish within {timeout:.0f} s")
