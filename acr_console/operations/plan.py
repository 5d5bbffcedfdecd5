"""What a write is before it runs (a Plan of Steps a person can read) and after (an Outcome with a
StepResult per step).

A step knows how to tell that it is already done by reading Azure, so executing a plan again after
a partial failure finishes what failed and changes nothing else. Step results carry only plain,
non-secret facts (ids, key ids, dates): they go to the audit log. Secrets live in the plan's
context, typed as `Secret`, and never in a result.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..azure.errors import AzureCallError, exit_code_of
from ..errors import EXIT_FAILED, EXIT_NOT_PERMITTED, EXIT_OK, LocalError, exit_code_for_signal
from ..secret import Secret

Detail = str | int | bool | None


class StepStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    ALREADY_DONE = "already-done"
    FAILED = "failed"
    SKIPPED = "skipped"  # a step it depends on did not succeed, or the run was interrupted

    @property
    def ok(self) -> bool:
        return self in (StepStatus.DONE, StepStatus.ALREADY_DONE)

    @property
    def final(self) -> bool:
        return self not in (StepStatus.PENDING, StepStatus.RUNNING)


def _check_details(details: dict[str, Detail]) -> dict[str, Detail]:
    # Results are audited: only plain values get in, so a Secret (or an SDK object holding one)
    # cannot be carried there by accident.
    for key, value in details.items():
        if not isinstance(value, str | int | bool | type(None)):
            raise TypeError(f"step detail {key!r} must be str, int, bool or None, not {type(value).__name__}")
    return details


@dataclass(frozen=True)
class StepOutput:
    """What an action or a check reports: facts to show and audit, correlation ids of the requests."""

    details: dict[str, Detail] = field(default_factory=dict)
    correlation_ids: tuple[str, ...] = ()
    note: str | None = None  # one line for a person, e.g. "already removed"
    # From an action: Azure answered that there was nothing to do (deleting what is gone).
    already: bool = False

    def __post_init__(self) -> None:
        _check_details(self.details)


@dataclass(frozen=True)
class StepError:
    code: str
    message: str
    status: int | None = None
    correlation_id: str | None = None
    hint: str | None = None

    @classmethod
    def of(cls, err: AzureCallError) -> StepError:
        return cls(err.code, err.message, err.status, err.correlation_id, err.hint)

    @classmethod
    def local(cls, err: LocalError) -> StepError:
        # A failure on this machine (a file, the terminal): no status, no correlation id.
        return cls(err.code, str(err))

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.hint:
            text += f" {self.hint}"
        return text


@dataclass(frozen=True)
class StepResult:
    step_id: str
    status: StepStatus
    details: dict[str, Detail] = field(default_factory=dict)
    error: StepError | None = None
    note: str | None = None
    correlation_ids: tuple[str, ...] = ()
    started: datetime | None = None
    finished: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status.ok


class RunContext:
    """State shared by the steps of one plan: ids a step learns for the steps after it (`values`),
    and secrets to hand to the user once (`secrets`). Lives with the plan, so executing the plan
    again gives the checks the ids of what an earlier run created."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.secrets: dict[str, Secret] = {}

    def secret_texts(self) -> list[str]:
        return [s.reveal() for s in self.secrets.values()]


Action = Callable[[RunContext], Awaitable[StepOutput | None]]
# A check returns a StepOutput when the step's effect is already in place, None when it is not.
Check = Callable[[RunContext], Awaitable[StepOutput | None]]


@dataclass
class Step:
    id: str
    description: str  # a sentence a person reads in the plan, e.g. "Remove password 'ab…' (ends 2026-01-01)"
    action: Action
    check: Check | None = None
    depends_on: tuple[str, ...] = ()
    # Steps with the same lock never run at once: Graph rejects concurrent writes to one object.
    lock: str | None = None
    local: bool = False  # touches only this machine (writes a file), sends nothing
    # The action may be sent again safely and says itself when there was nothing to do (a DELETE
    # of what is gone, removing a key no longer there). Its check then only matters when the plan
    # is executed again: the first execution follows the plan's own reads, and skips that round trip.
    idempotent: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.description, "dependsOn": list(self.depends_on),
                "local": self.local}


@dataclass(frozen=True)
class Untouched:
    """Something the plan deliberately leaves alone, why, and how a person would change it."""

    what: str
    why: str
    command: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"what": self.what, "why": self.why, "command": self.command}


@dataclass
class Plan:
    operation: str  # the operation's one name (operations/registry.py): "create-principal", "revoke", ...
    title: str
    # What the plan was made for, read when it was made: shown, audited, never re-resolved.
    target: dict[str, Detail]
    steps: list[Step]
    warnings: list[str] = field(default_factory=list)
    untouched: list[Untouched] = field(default_factory=list)
    context: RunContext = field(default_factory=RunContext)
    # It takes away something someone may rely on (access, secrets in use): a front end asks for
    # the principal's name to be typed before it runs.
    typed_confirmation: bool = False
    executions: int = 0  # how many times an executor has started on this plan
    # When the reads it was made from began (Operation.prepare sets it): a write by someone else
    # on the same target after this makes the plan stale (operations/locks.py).
    read_at: datetime | None = None
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        _check_details(self.target)
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate step ids in plan {self.operation}")
        known: set[str] = set()
        for step in self.steps:  # listed in dependency order, which also rules out cycles
            missing = [d for d in step.depends_on if d not in known]
            if missing:
                raise ValueError(f"step {step.id} depends on {missing}, which must come before it")
            known.add(step.id)

    @property
    def empty(self) -> bool:
        return not self.steps

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    @property
    def claims(self) -> tuple[str, ...]:
        """What one writer at a time may change (operations/locks.py), from the target: a principal
        by appId, a registry token by id, a new principal's name; otherwise the registry."""
        t = self.target
        if self.operation == "create-principal":
            return (f"name:{str(t.get('displayName') or '').casefold()}",)
        for key, kind in (("appId", "principal"), ("tokenId", "token"), ("registryId", "registry")):
            if t.get(key):
                return (f"{kind}:{str(t[key]).lower()}",)
        return ()

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation, "title": self.title, "target": dict(self.target),
            "steps": [s.to_json() for s in self.steps], "warnings": list(self.warnings),
            "untouched": [u.to_json() for u in self.untouched],
        }


@dataclass
class Outcome:
    plan: Plan
    results: dict[str, StepResult]
    started: datetime
    finished: datetime
    interrupted: bool = False
    # The signal that stopped the run (SIGINT, SIGTERM, SIGHUP), when one did.
    stopped_by: int | None = None

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r.ok for r in self.results.values())

    def by_status(self, status: StepStatus) -> list[StepResult]:
        return [r for r in self.results.values() if r.status is status]

    @property
    def failed(self) -> list[StepResult]:
        return self.by_status(StepStatus.FAILED)

    @property
    def changed_anything(self) -> bool:
        return bool(self.by_status(StepStatus.DONE))

    @property
    def exit_code(self) -> int:
        if self.ok:
            return EXIT_OK
        if self.stopped_by is not None:
            return exit_code_for_signal(self.stopped_by)
        failed = self.failed
        # Refused for want of a right, and nothing else went wrong: "not permitted", as a read says it.
        if failed and not self.interrupted and all(
                r.error and exit_code_of(r.error.code, r.error.status) == EXIT_NOT_PERMITTED for r in failed):
            return EXIT_NOT_PERMITTED
        return EXIT_FAILED

    @property
    def correlation_ids(self) -> list[str]:
        return list(dict.fromkeys(c for r in self.results.values() for c in r.correlation_ids))

    @property
    def secrets(self) -> dict[str, Secret]:
        return self.plan.context.secrets

    @property
    def audit_error(self) -> str | None:
        """Why the outcome record could not be written (runner.run_plan), if it could not."""
        value = self.plan.context.values.get("auditError")
        return str(value) if value else None

    def detail(self, step_id: str, key: str) -> Detail:
        result = self.results.get(step_id)
        return result.details.get(key) if result else None

    def summary(self) -> str:
        counts = {s: len(self.by_status(s)) for s in StepStatus if self.by_status(s)}
        parts = [f"{n} {s.value}" for s, n in counts.items()]
        verdict = "complete" if self.ok else ("interrupted" if self.interrupted else "incomplete")
        if self.stopped_by is not None:
            verdict += f" by {signal_name(self.stopped_by)}"
        return f"{self.plan.title}: {verdict} ({', '.join(parts) or 'nothing to do'})"

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.plan.operation,
            "ok": self.ok,
            "interrupted": self.interrupted,
            "stoppedBy": signal_name(self.stopped_by) if self.stopped_by is not None else None,
            "target": dict(self.plan.target),
            "steps": [result_json(self.plan.step(sid), r) for sid, r in self.results.items()],
            "untouched": [u.to_json() for u in self.plan.untouched],
            "warnings": list(self.plan.warnings),
            "correlationIds": self.correlation_ids,
        }


def result_json(step: Step, r: StepResult) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": step.id, "description": step.description, "status": r.status.value}
    if r.note:
        doc["note"] = r.note
    if r.details:
        doc["details"] = dict(r.details)
    if r.error:
        doc["error"] = {"code": r.error.code, "message": r.error.message, "status": r.error.status,
                        "correlationId": r.error.correlation_id}
    if r.correlation_ids:
        doc["correlationIds"] = list(r.correlation_ids)
    return doc


def signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def utcnow() -> datetime:
    return datetime.now(UTC)
