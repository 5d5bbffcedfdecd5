"""The audit log: one JSON line per executed operation, in the user's log folder.

What was asked, by whom, against which tenant, what each step did, and the correlation ids that
let Microsoft support find the requests. Never a secret or a token: records are built only from
plan targets and step results (plain values, see plan.py), every string passes through
`azure.errors.scrub`, and the secrets the run holds are struck out of the line before it is written.
"""

from __future__ import annotations

import json
import os
import stat
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..azure.errors import scrub
from ..errors import UsageError
from ..paths import expand_user
from .plan import Outcome, result_json

ENV_VAR = "ACR_CONSOLE_AUDIT_LOG"
FILE_NAME = "audit.jsonl"
RECORD_VERSION = 1
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


def record_for(outcome: Outcome, actor: Actor) -> dict[str, Any]:
    plan = outcome.plan
    return {
        "v": RECORD_VERSION,
        "time": outcome.finished.isoformat().replace("+00:00", "Z"),
        "started": outcome.started.isoformat().replace("+00:00", "Z"),
        "cloud": actor.cloud,
        "tenant": actor.tenant_id,
        "identity": actor.to_json(),
        "operation": plan.operation,
        "title": plan.title,
        "target": dict(plan.target),
        "result": "ok" if outcome.ok else ("interrupted" if outcome.interrupted else "failed"),
        "steps": [result_json(plan.step(sid), r) for sid, r in outcome.results.items()],
        "untouched": [u.to_json() for u in plan.untouched],
        "correlationIds": outcome.correlation_ids,
    }


class AuditLog:
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = expand_user(path) if path is not None else default_path()

    def write(self, outcome: Outcome, actor: Actor, *, extra_forbidden: Iterable[str] = ()) -> dict[str, Any]:
        # Longest first, so a secret containing another is struck out whole.
        forbidden = sorted({*outcome.plan.context.secret_texts(), *extra_forbidden}, key=len, reverse=True)
        record: dict[str, Any] = _scrubbed(record_for(outcome, actor), [f for f in forbidden if f])
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # An existing file created under a looser umask is tightened; the log names principals.
            os.fchmod(fd, 0o600)
            # One write of one line with O_APPEND: concurrent consoles never interleave records.
            os.write(fd, line.encode())
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

    def read(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Records, oldest first; lines that are not JSON (a torn write, an edit) are skipped."""
        return self.read_counted(limit)[0]

    def read_counted(self, limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
        """(the last `limit` records, oldest first; how many lines could not be read): a line that
        is not UTF-8, not a JSON object, or longer than MAX_LINE_BYTES is skipped and counted.
        Streamed line by line, so a long log costs the records kept, not its size."""
        self.check_path()
        try:
            # O_NONBLOCK: a FIFO swapped in since the check must not block the open.
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return [], 0
        records: deque[dict[str, Any]] = deque(maxlen=limit or None)
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
        return list(records), unreadable

    def _named(self) -> str:
        return f"{self.path} (named by {ENV_VAR})" if os.environ.get(ENV_VAR) else str(self.path)


_FIX = f"point {ENV_VAR} at a file (it is created if missing), or unset it"
