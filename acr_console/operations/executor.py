"""Running a plan: independent steps at once (bounded), a result for every step, never an exception
half-way through.

Each step first asks its check whether its effect is already in place (read from Azure, not
remembered), so a plan executed again after a partial failure only does what is still missing.
An idempotent step (a delete) skips that read on the plan's first execution: the plan was made
from fresh reads, and the action itself reports when there was nothing left to do.
A step whose dependency did not succeed is skipped, not attempted: deleting an application while
its credentials could not be removed would leave nothing to find the remains by.

Stopping (`Execution.stop`, what a signal asks for) is not cancelling: the steps in flight finish
(or, after a grace period, are cancelled and reported as unknown), the rest are skipped. A step
cut off mid-request leaves Azure in a state nobody knows; one allowed to finish leaves a result.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections import Counter
from collections.abc import Callable

from ..azure.errors import AzureCallError, from_exception
from ..errors import LocalError
from .plan import Outcome, Plan, Step, StepError, StepOutput, StepResult, StepStatus, signal_name, utcnow

ProgressCallback = Callable[[Step, StepResult], None]
# Independent steps in flight at once. A revoke's 50 assignment deletes go out in four waves (eight
# before), which fit inside its critical path (the credential chain on one object, let in first:
# see _Gate); more at once only adds connections and TLS handshakes to the client's one event loop.
DEFAULT_CONCURRENCY = 16
# How long the steps in flight may take to finish once a stop was asked for. A write's own retries
# are bounded well below this (azure/retry.py); past it the process is probably stuck, and the
# person (or a service manager's stop timeout, systemd's default 90 s) is waiting.
STOP_GRACE_S = 30.0


class _Run:
    """The mutable state of one execution; `outcome()` can be called at any moment, also after an
    interruption, which is how an interrupted run still gets its audit record."""

    def __init__(self, plan: Plan, on_progress: ProgressCallback | None) -> None:
        self.plan = plan
        self.on_progress = on_progress
        self.started = utcnow()
        self.results: dict[str, StepResult] = {s.id: StepResult(s.id, StepStatus.PENDING) for s in plan.steps}
        self.finished_events = {s.id: asyncio.Event() for s in plan.steps}
        self.interrupted = False
        self.stopped_by: int | None = None  # the signal that asked the run to stop
        self.tasks: list[asyncio.Future[None]] = []

    def record(self, step: Step, result: StepResult) -> None:
        self.results[step.id] = result
        if result.status.final:
            self.finished_events[step.id].set()
        if self.on_progress is not None:
            # A broken progress display must not stop a revoke half-way.
            with contextlib.suppress(Exception):
                self.on_progress(step, result)

    def outcome(self) -> Outcome:
        results = dict(self.results)
        for sid, result in results.items():
            if result.status is StepStatus.PENDING:
                results[sid] = StepResult(sid, StepStatus.SKIPPED, note="not started: the run was interrupted")
            elif result.status is StepStatus.RUNNING:
                results[sid] = StepResult(
                    sid, StepStatus.FAILED, started=result.started, finished=utcnow(),
                    error=StepError("Interrupted", "interrupted while running; whether it took effect is unknown "
                                    "until the plan is run again"))
        return Outcome(self.plan, results, self.started, utcnow(), interrupted=self.interrupted,
                       stopped_by=self.stopped_by)


class _Gate:
    """At most `slots` steps at once; waiting steps are let in by priority (lowest first), then in
    order. A step in a chain that shares a lock goes before independent steps, so the chain (the
    run's critical path) never queues behind a wave of deletes that could run at any time."""

    def __init__(self, slots: int) -> None:
        self._free = max(1, slots)
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a place while being cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


async def _run_step(run: _Run, step: Step, gate: _Gate, locks: dict[str, asyncio.Lock], first: bool,
                    priority: int) -> None:
    for dep in step.depends_on:
        await run.finished_events[dep].wait()
    blocked = [d for d in step.depends_on if not run.results[d].ok]
    if blocked:
        names = ", ".join(f"'{run.plan.step(d).description}'" for d in blocked)
        run.record(step, StepResult(step.id, StepStatus.SKIPPED, note=f"not attempted: {names} did not succeed"))
        return
    lock = locks.setdefault(step.lock, asyncio.Lock()) if step.lock else contextlib.nullcontext()
    async with lock:
        await gate.acquire(priority)
        try:
            if run.stopped_by is not None:  # asked to stop: nothing new starts
                run.record(step, StepResult(step.id, StepStatus.SKIPPED,
                                            note=f"not started: stopped by {signal_name(run.stopped_by)}"))
                return
            await _attempt(run, step, first)
        finally:
            gate.release()


async def _attempt(run: _Run, step: Step, first: bool) -> None:
    started = utcnow()
    run.record(step, StepResult(step.id, StepStatus.RUNNING, started=started))
    status = StepStatus.DONE
    try:
        output: StepOutput | None = None
        if step.check is not None and not (first and step.idempotent):
            output = await step.check(run.plan.context)
            if output is not None:
                status = StepStatus.ALREADY_DONE
        if status is StepStatus.DONE:
            output = await step.action(run.plan.context)
            if output is not None and output.already:
                status = StepStatus.ALREADY_DONE
    except LocalError as exc:  # this machine failed (a file, the terminal), not Azure
        run.record(step, StepResult(step.id, StepStatus.FAILED, error=StepError.local(exc), started=started,
                                    finished=utcnow()))
        return
    except Exception as exc:  # every failure becomes this step's result, never the caller's exception
        err = exc if isinstance(exc, AzureCallError) else from_exception(exc, step.description)
        run.record(step, StepResult(step.id, StepStatus.FAILED, error=StepError.of(err),
                                    correlation_ids=(err.correlation_id,) if err.correlation_id else (),
                                    started=started, finished=utcnow()))
        return
    output = output or StepOutput()
    run.record(step, StepResult(step.id, status, details=dict(output.details), note=output.note,
                                correlation_ids=output.correlation_ids, started=started, finished=utcnow()))


async def execute(plan: Plan, on_progress: ProgressCallback | None = None, *,
                  concurrency: int = DEFAULT_CONCURRENCY) -> Outcome:
    """Run every step of `plan`; returns an Outcome with one StepResult per step.

    `on_progress(step, result)` is called when a step starts (status RUNNING) and when it ends.
    """
    run = _Run(plan, on_progress)
    await _execute(run, concurrency)
    return run.outcome()


async def _execute(run: _Run, concurrency: int) -> None:
    gate = _Gate(concurrency)
    locks: dict[str, asyncio.Lock] = {}
    first = run.plan.executions == 0
    run.plan.executions += 1
    # Steps that share a lock run one after another: the longest such chain is the run's critical
    # path, so its steps are let in first (priority: minus the chain's length); independent steps
    # (assignment deletes) fill the remaining places around it.
    chain = Counter(s.lock for s in run.plan.steps if s.lock)
    tasks = [asyncio.ensure_future(_run_step(run, s, gate, locks, first, -chain[s.lock] if s.lock else -1))
             for s in run.plan.steps]
    run.tasks = list(tasks)
    try:
        # return_exceptions: a step cancelled after a stop's grace period ends only that step.
        await asyncio.gather(*tasks, return_exceptions=True)
        if run.stopped_by is not None:
            run.interrupted = True
    except BaseException:
        run.interrupted = True
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class Execution:
    """An execution whose outcome is available even when it is interrupted (Ctrl+C, a closed
    TUI screen): `outcome()` then reports unstarted steps as skipped and running ones as unknown."""

    def __init__(self, plan: Plan, on_progress: ProgressCallback | None = None, *,
                 concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self._run = _Run(plan, on_progress)
        self._concurrency = concurrency

    async def run(self) -> Outcome:
        await _execute(self._run, self._concurrency)
        return self._run.outcome()

    def outcome(self) -> Outcome:
        return self._run.outcome()

    def stop(self, signum: int, *, grace_s: float = STOP_GRACE_S) -> None:
        """Let the steps in flight finish, start no other; cancel what is still running after
        `grace_s`. A second stop cancels at once (a second Ctrl+C means now)."""
        run = self._run
        if run.stopped_by is not None:
            grace_s = 0.0
        else:
            run.stopped_by = signum
        loop = asyncio.get_running_loop()
        loop.call_later(grace_s, lambda: [t.cancel() for t in run.tasks if not t.done()])
