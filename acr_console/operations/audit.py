"""The audit log: JSON lines in the user's log folder, two per executed operation.

An intent record (`"phase": "started"`) is written before the first request, and a write whose
intent cannot be recorded is refused: a process killed outright (SIGKILL, a power cut) still
leaves a trace. The outcome record (`"phase": "finished"`, the same `run` id) follows with what
each step did. Reading folds the two: a run with no outcome shows as `unfinished`.

What was asked, by whom, against which tenant, what each step did, and the correlation ids that
let Microsoft support find the requests. Never a secret or a token: records are built only from
plan targets and step results (plain values, see plan.py), every string passes through
`azure.errors.scrub`, and the secrets the run holds are struck out of the line before it is written.
"""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..azure.errors import scrub
from ..errors import AuditError, UsageError, describe_os_error
from ..paths import expand_user
from .plan import Outcome, Plan, result_json

ENV_VAR = "ACR_CONSOLE_AUDIT_LOG"
FILE_NAME = "audit.jsonl"
RECORD_VERSION = 1
UNFINISHED = "unfinished"  # the result shown for a run whose outcome record never came
# A record is a few KB; a longer line is not one (a file that is not the log, a runaway write), and
# reading it whole could take any amount of memory. It is skipped and counted as unreadable.
MAX_LINE_BYTES = 1 << 20


def default_path() -> Path:
    override = os.environ.get(ENV_VAR)
    if override:
        return expand_user(override)
    from platformdirs import user_log_path

    return user_log_path("acr-console", appauthor=False) / FILE_NAME


@dataclass(frozen=True)
class Actor:
    """Where an operation ran and who ran it (from the token's claims; display only)."""

    cloud: str
    tenant_id: str | None
    object_id: str | None = None
    app_id: str | None = None
    name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"objectId": self.object_id, "appId": self.app_id, "name": self.name}


def _scrubbed(value: Any, forbidden: list[str]) -> Any:
    if isinstance(value, str):
        text = scrub(value)
        for secret in forbidden:
            text = text.replace(secret, "<redacted>")
        return text
    if isinstance(value, dict):
        return {k: _scrubbed(v, forbidden) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v, forbidden) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (a Secret, an SDK object) has no business in the log.
    raise TypeError(f"refusing to audit a {type(value).__name__}")


def _time(value: Any) -> str:
    return str(value.isoformat()).replace("+00:00", "Z")


def _record(plan: Plan, actor: Actor, *, run: str | None, phase: str, started: Any, time: Any, result: str,
            steps: list[dict[str, Any]], correlation_ids: list[str]) -> dict[str, Any]:
    """One line of the log, in the one shape every record has (intent and outcome alike)."""
    return {
        "v": RECORD_VERSION,
        **({"run": run, "phase": phase} if run else {}),
        "time": _time(time),
        "started": _time(started),
        "cloud": actor.cloud,
        "tenant": actor.tenant_id,
        "identity": actor.to_json(),
        "operation": plan.operation,
        "title": plan.title,
        "target": dict(plan.target),
        "result": result,
        "steps": steps,
        "untouched": [u.to_json() for u in plan.untouched],
        "correlationIds": correlation_ids,
    }


def intent_for(plan: Plan, actor: Actor, run: str, started: Any) -> dict[str, Any]:
    """What is about to be done: the plan's steps as planned, before any request."""
    steps = [{"id": s.id, "description": s.description, "status": "pending"} for s in plan.steps]
    return _record(plan, actor, run=run, phase="started", started=started, time=started, result=UNFINISHED,
                   steps=steps, correlation_ids=[])


def record_for(outcome: Outcome, actor: Actor, run: str | None = None) -> dict[str, Any]:
    plan = outcome.plan
    record = _record(plan, actor, run=run, phase="finished", started=outcome.started, time=outcome.finished,
                     result="ok" if outcome.ok else ("interrupted" if outcome.interrupted else "failed"),
                     steps=[result_json(plan.step(sid), r) for sid, r in outcome.results.items()],
                     correlation_ids=outcome.correlation_ids)
    if outcome.stopped_by is not None:
        record["stoppedBy"] = outcome.to_json()["stoppedBy"]
    return record


def checkpoint_for(plan: Plan, run: str, done: list[dict[str, Any]], now: Any) -> dict[str, Any]:
    """A secret was handed over: recorded at once (not only in the outcome), so a process killed
    outright afterwards still leaves the fact that lets a re-run finish without a new secret."""
    return {"v": RECORD_VERSION, "run": run, "phase": "progress", "time": _time(now), "operation": plan.operation,
            "title": plan.title, "target": dict(plan.target), "steps": done}


def new_run_id() -> str:
    return str(uuid.uuid4())


def fold_runs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per run, in the order written: the outcome where there is one, else the intent
    (result `unfinished`: the process ended before it could say how the run went). Checkpoints
    (`progress`) are for re-runs, not for reading."""
    finished = {r["run"] for r in records if r.get("phase") == "finished" and r.get("run")}
    return [r for r in records if r.get("phase") != "progress"
            and not (r.get("phase") == "started" and r.get("run") in finished)]


class AuditLog:
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = expand_user(path) if path is not None else default_path()

    def begin(self, plan: Plan, actor: Actor, run: str, started: Any) -> dict[str, Any]:
        """The intent record; raises AuditError (and the write must not start) when it cannot be written."""
        forbidden = sorted(plan.context.secret_texts(), key=len, reverse=True)
        return self._append(_scrubbed(intent_for(plan, actor, run, started), [f for f in forbidden if f]))

    def checkpoint(self, plan: Plan, run: str, done: list[dict[str, Any]], now: Any) -> dict[str, Any]:
        forbidden = sorted(plan.context.secret_texts(), key=len, reverse=True)
        return self._append(_scrubbed(checkpoint_for(plan, run, done, now), [f for f in forbidden if f]))

    def write(self, outcome: Outcome, actor: Actor, *, extra_forbidden: Iterable[str] = (),
              run: str | None = None) -> dict[str, Any]:
        # Longest first, so a secret containing another is struck out whole.
        forbidden = sorted({*outcome.plan.context.secret_texts(), *extra_forbidden}, key=len, reverse=True)
        return self._append(_scrubbed(record_for(outcome, actor, run), [f for f in forbidden if f]))

    def _append(self, record: dict[str, Any]) -> dict[str, Any]:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # O_NONBLOCK: a FIFO with no reader fails at once (ENXIO) instead of hanging the write.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o600)
        except OSError as exc:
            raise AuditError(f"the audit log {self.path} cannot be written: {describe_os_error(exc)}") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                # /dev/zero, /dev/full, a FIFO or a terminal would swallow (or never take) the record.
                raise AuditError(f"the audit log {self.path} is not a regular file")
            # An existing file created under a looser umask is tightened; the log names principals.
            os.fchmod(fd, 0o600)
            # One write of one line with O_APPEND: concurrent consoles never interleave records.
            data = line.encode()
            if os.write(fd, data) != len(data):
                raise AuditError(f"the audit log {self.path} took only part of a record (disk full?)")
            # On disk before the first request goes out (intent) and before the result is shown.
            os.fsync(fd)
        except OSError as exc:
            raise AuditError(f"the audit log {self.path} cannot be written: {describe_os_error(exc)}") from None
        finally:
            os.close(fd)
        return record

    def check_path(self) -> None:
        """The log must be a regular file, or not exist yet (its folder is made on the first write).
        A folder, a FIFO (opening it blocks until someone reads) or a device (`/dev/zero` reads for
        ever, `/dev/null` keeps nothing) is refused with a UsageError before anything is written."""
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:  # e.g. a part of the path is a file
            raise UsageError(f"audit log {self._named()}: {exc.strerror or exc}; {_FIX}") from None
        if stat.S_ISDIR(mode):
            raise UsageError(f"audit log {self._named()} is a folder; {_FIX}")
        if not stat.S_ISREG(mode):
            raise UsageError(f"audit log {self._named()} is not a regular file (a pipe, socket or device); {_FIX}")

    def read(self, limit: int | None = None, *, fold: bool = True) -> list[dict[str, Any]]:
        """Records, oldest first, one per run (fold_runs) unless `fold` is False; lines that are not
        JSON (a torn write, an edit) are skipped."""
        return self.read_counted(limit, fold=fold)[0]

    def read_counted(self, limit: int | None = None, *, fold: bool = True) -> tuple[list[dict[str, Any]], int]:
        """(the last `limit` records, oldest first; how many lines could not be read): a line that
        is not UTF-8, not a JSON object, or longer than MAX_LINE_BYTES is skipped and counted.
        Streamed line by line, so a long log costs the records kept, not its size."""
        self.check_path()
        try:
            # O_NONBLOCK: a FIFO swapped in since the check must not block the open.
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return [], 0
        # A run is up to four lines (intent, a checkpoint or two, outcome): keep enough to fold.
        records: deque[dict[str, Any]] = deque(maxlen=(limit * 4 if fold else limit) if limit else None)
        unreadable = 0
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UsageError(f"audit log {self._named()} is not a regular file; {_FIX}")
            while line := f.readline(MAX_LINE_BYTES + 1):
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    while (rest := f.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                        pass  # the rest of an overlong line
                    unreadable += 1
                    continue
                if not line.strip():
                    continue
                try:
                    doc = json.loads(line.decode("utf-8"))
                except ValueError:  # UnicodeDecodeError is one
                    doc = None
                if isinstance(doc, dict):
                    records.append(doc)
                else:
                    unreadable += 1
        kept = fold_runs(list(records)) if fold else list(records)
        return (kept[-limit:] if limit else kept), unreadable

    def _named(self) -> str:
        return f"{self.path} (named by {ENV_VAR})" if os.environ.get(ENV_VAR) else str(self.path)


_FIX = f"point {ENV_VAR} at a file (it is created if missing), or unset it"
