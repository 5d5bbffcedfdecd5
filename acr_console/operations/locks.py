"""One writer per target on this machine: an advisory lock per claim (a principal, a registry, a
token, a new principal's name) while a plan runs, with a note of who holds it.

Graph and ARM have no locks a client can take (ETags exist for a few objects, not for an
application's credentials), so two operators resetting one principal at once each remove what
the other just added. Within one machine, which is where an on-call team's consoles run (a jump
host), a lock file per claim in the audit folder serialises them: the second waits a short while,
then is refused with the holder's operation, process id and start time. A plan made before
another writer finished on the same claim is stale (its reads predate that write) and is refused
too, rather than run: the person (or script) runs the command again and sees a fresh plan.

The lock is filelock's (flock(2) on POSIX): the kernel drops it when the process dies, so a
console killed mid-write never leaves a stale lock. The note beside it (`<claim hash>.json`) is
written after the lock is taken and marked released when it is let go.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import BusyError

# Long enough for the other operator's plan to finish (a reset or an assignment takes a second or
# two), short enough that a script does not hang behind someone's open confirmation prompt.
WAIT_S = 10.0
_POLL_S = 0.1


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a claim, from the note beside its lock."""

    operation: str
    pid: int
    started: float  # epoch seconds
    target: str
    released: float | None = None
    plan: str = ""  # the plan's uid: running one plan again is not someone else's write

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.operation} on {self.target} (process {self.pid}, started {when})"

    @classmethod
    def read(cls, path: Path) -> Holder | None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(doc["operation"]), int(doc["pid"]), float(doc["started"]), str(doc["target"]),
                       float(doc["released"]) if doc.get("released") is not None else None, str(doc.get("plan", "")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        doc: dict[str, Any] = {"operation": self.operation, "pid": self.pid, "started": self.started,
                               "target": self.target, "released": self.released, "plan": self.plan}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)  # a reader sees the old note or the new one, never half


def lock_folder(audit_path: Path) -> Path:
    return audit_path.parent / "locks"


def _paths(folder: Path, claim: str) -> tuple[Path, Path]:
    # Hashed: a claim holds a display name, which may hold any character.
    digest = hashlib.sha256(claim.encode()).hexdigest()[:32]
    return folder / f"{digest}.lock", folder / f"{digest}.json"


@dataclass
class Held:
    """The claims this process holds, and who had each before (for the staleness check)."""

    previous: list[Holder]

    def written_since(self, epoch: float, plan: str) -> Holder | None:
        """Another plan that was still writing on one of these claims after `epoch` (when our
        plan's reads began): our plan may no longer describe what is there. A holder that died
        without letting go is dated by its start, the last moment it is known to have lived."""
        later = [h for h in self.previous
                 if h.plan != plan and (h.released if h.released is not None else h.started) > epoch]
        return max(later, key=lambda h: h.started) if later else None


@contextlib.asynccontextmanager
async def claimed(claims: tuple[str, ...], *, operation: str, target: str, folder: Path, plan: str = "",
                  wait_s: float = WAIT_S, on_wait: Callable[[Holder | None], None] | None = None
                  ) -> AsyncIterator[Held]:
    """Hold every claim (in sorted order, so two writers never wait on each other crosswise);
    raises BusyError naming the holder when one is still held after `wait_s`."""
    from filelock import FileLock, Timeout

    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        from ..errors import AuditError, describe_os_error

        raise AuditError(f"the audit log's folder {folder.parent} cannot hold the write locks ({folder.name}/): "
                         f"{describe_os_error(exc)}; nothing was sent") from None
    locks: list[tuple[Any, Path]] = []
    previous: list[Holder] = []
    try:
        for claim in sorted(set(claims)):
            lock_path, note_path = _paths(folder, claim)
            lock = FileLock(str(lock_path), mode=0o600)
            deadline = time.monotonic() + wait_s
            told = False
            while True:
                try:
                    lock.acquire(timeout=0)
                    break
                except Timeout:
                    holder = Holder.read(note_path)
                    if time.monotonic() >= deadline:
                        who = holder.describe() if holder else "another acr-console process"
                        raise BusyError(f"{target} is being changed by {who}; nothing was changed. Run the "
                                        "command again when it has finished.") from None
                    if not told and on_wait is not None:
                        on_wait(holder)
                        told = True
                    # Asynchronous wait: a signal (Ctrl+C) is handled at once, not after the wait.
                    await asyncio.sleep(_POLL_S)
            locks.append((lock, note_path))
            before = Holder.read(note_path)
            if before is not None:
                previous.append(before)
            Holder(operation, os.getpid(), time.time(), target, plan=plan).write(note_path)
        yield Held(previous)
    finally:
        for lock, note_path in reversed(locks):
            mine = Holder.read(note_path)
            if mine is not None and mine.pid == os.getpid():
                with contextlib.suppress(OSError):
                    Holder(mine.operation, mine.pid, mine.started, mine.target, time.time(), mine.plan).write(note_path)
            lock.release()
