"""The executor on plans of plain coroutines: concurrency, dependencies, failures, re-runs, progress.

State lives in a dict standing in for Azure; checks read it, which is what makes a second execution
finish only what is missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from acr_console.azure.errors import AzureCallError
from acr_console.operations import Plan, Step, StepOutput, StepStatus, execute
from acr_console.operations.executor import Execution
from acr_console.secret import Secret


class FakeAzure:
    """Steps whose actions record what ran, how many ran at once, and can be held at a gate until the
    test lets them go: concurrency is observed, never inferred from how long a run took."""

    def __init__(self) -> None:
        self.state: dict[str, bool] = {}
        self.calls: list[str] = []
        self.events: list[str] = []  # "start NAME" / "end NAME", in the order they happened
        self.fail: dict[str, int] = {}  # name -> how many more times to fail
        self.running = 0
        self.peak = 0
        self.gate = asyncio.Event()  # held steps wait here until the test opens it
        self._changed = asyncio.Condition()

    def step(self, name: str, *, deps: tuple[str, ...] = (), lock: str | None = None, held: bool = False) -> Step:
        async def check(ctx) -> StepOutput | None:
            return StepOutput({"name": name}, note="already") if self.state.get(name) else None

        async def action(ctx) -> StepOutput:
            self.calls.append(name)
            self.events.append(f"start {name}")
            self.running += 1
            self.peak = max(self.peak, self.running)
            async with self._changed:
                self._changed.notify_all()
            try:
                if held:
                    await self.gate.wait()
                else:
                    await asyncio.sleep(0)  # let every other ready step run first
                if self.fail.get(name, 0) > 0:
                    self.fail[name] -= 1
                    raise AzureCallError("ServiceUnavailable", f"{name} failed", 503, "corr-" + name)
                self.state[name] = True
                return StepOutput({"name": name}, ("corr-ok-" + name,))
            finally:
                self.running -= 1
                self.events.append(f"end {name}")
                async with self._changed:
                    self._changed.notify_all()

        return Step(name, f"do {name}", action, check, depends_on=deps, lock=lock)

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until `condition` holds (checked whenever a step starts or ends); then let every
        other ready task run, so a step the executor would wrongly start as well has started too."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), GATE_TIMEOUT_S)
        for _ in range(20):
            await asyncio.sleep(0)

    async def until_running(self, n: int) -> None:
        """Wait until `n` steps are inside their action at once."""
        await self.until(lambda: self.running >= n)


# A bound on waiting at a gate, never a measure: a gate still shut after it means the steps that
# should have met there never did (they ran one after another, or not at all).
GATE_TIMEOUT_S = 10


async def test_independent_steps_run_concurrently_and_dependents_wait() -> None:
    az = FakeAzure()
    plan = Plan("t", "test", {}, [az.step("a", held=True), az.step("b", held=True), az.step("c", held=True),
                                  az.step("d", deps=("a", "b", "c"))])
    run = asyncio.ensure_future(execute(plan))
    await az.until_running(3)  # a, b and c at the gate together, not one after another
    assert sorted(az.calls) == ["a", "b", "c"]  # d waits for them
    az.gate.set()
    outcome = await run
    assert outcome.ok and az.peak == 3
    assert az.events.index("start d") > max(az.events.index(f"end {n}") for n in "abc")
    assert outcome.correlation_ids == ["corr-ok-a", "corr-ok-b", "corr-ok-c", "corr-ok-d"]


async def test_bounded_concurrency_and_locks() -> None:
    az = FakeAzure()
    steps = [az.step(f"s{n}", held=True) for n in range(10)]
    run = asyncio.ensure_future(execute(Plan("t", "test", {}, steps), concurrency=3))
    await az.until_running(3)
    assert az.running == 3 and len(az.calls) == 3  # the other seven wait for a place
    az.gate.set()
    assert (await run).ok and az.peak == 3 and len(az.calls) == 10
    az2 = FakeAzure()
    locked = [az2.step(f"l{n}", held=True, lock="same-object") for n in range(4)]
    run = asyncio.ensure_future(execute(Plan("t", "test", {}, locked)))
    await az2.until_running(1)
    assert az2.running == 1 and len(az2.calls) == 1  # the others wait for the lock
    az2.gate.set()
    assert (await run).ok and az2.peak == 1 and len(az2.calls) == 4


async def test_failure_skips_dependents_and_rerun_finishes_only_what_failed() -> None:
    az = FakeAzure()
    az.fail["b"] = 1
    plan = Plan("t", "test", {}, [az.step("a"), az.step("b"), az.step("c", deps=("b",)), az.step("d")])
    first = await execute(plan)
    assert not first.ok and first.exit_code == 1
    status = {k: r.status for k, r in first.results.items()}
    assert status == {"a": StepStatus.DONE, "b": StepStatus.FAILED, "c": StepStatus.SKIPPED, "d": StepStatus.DONE}
    assert first.results["b"].error.code == "ServiceUnavailable"
    assert first.results["b"].error.correlation_id == "corr-b"
    assert "did not succeed" in (first.results["c"].note or "")
    az.calls.clear()
    second = await execute(plan)
    assert second.ok
    assert sorted(az.calls) == ["b", "c"]  # a and d were not repeated
    assert second.results["a"].status is StepStatus.ALREADY_DONE
    third = await execute(plan)
    assert all(r.status is StepStatus.ALREADY_DONE for r in third.results.values())
    assert not third.changed_anything


async def test_unexpected_exceptions_become_results_never_escape() -> None:
    async def boom(ctx):
        raise RuntimeError("kaboom")

    async def bad_check(ctx):
        raise KeyError("missing")

    plan = Plan("t", "test", {}, [Step("x", "explode", boom), Step("y", "bad check", boom, bad_check)])
    outcome = await execute(plan)
    assert [r.status for r in outcome.results.values()] == [StepStatus.FAILED, StepStatus.FAILED]
    assert outcome.results["x"].error.code == "RuntimeError"


async def test_progress_reports_start_and_end_and_survives_a_broken_callback() -> None:
    az = FakeAzure()
    seen: list[tuple[str, StepStatus]] = []

    def progress(step, result) -> None:
        seen.append((step.id, result.status))
        raise ValueError("the display broke")

    await execute(Plan("t", "test", {}, [az.step("a"), az.step("b", deps=("a",))]), progress)
    assert seen == [("a", StepStatus.RUNNING), ("a", StepStatus.DONE), ("b", StepStatus.RUNNING),
                    ("b", StepStatus.DONE)]


async def test_interrupted_run_still_has_an_outcome() -> None:
    az = FakeAzure()
    plan = Plan("t", "test", {}, [az.step("fast"), az.step("slow", held=True), az.step("after", deps=("slow",))])
    execution = Execution(plan)
    task = asyncio.ensure_future(execution.run())
    await az.until(lambda: "end fast" in az.events and "start slow" in az.events)  # slow held at the gate
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    outcome = execution.outcome()
    assert outcome.interrupted and not outcome.ok
    assert outcome.results["fast"].status is StepStatus.DONE
    assert outcome.results["slow"].status is StepStatus.FAILED
    assert outcome.results["slow"].error.code == "Interrupted"
    assert outcome.results["after"].status is StepStatus.SKIPPED


def test_plans_refuse_bad_shapes_and_secret_details() -> None:
    async def noop(ctx):
        return None

    with pytest.raises(ValueError, match="duplicate"):
        Plan("t", "t", {}, [Step("a", "a", noop), Step("a", "a", noop)])
    with pytest.raises(ValueError, match="must come before"):
        Plan("t", "t", {}, [Step("a", "a", noop, depends_on=("b",)), Step("b", "b", noop)])
    with pytest.raises(TypeError):
        StepOutput({"password": Secret("hunter2")})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        Plan("t", "t", {"secret": Secret("x")}, [])  # type: ignore[dict-item]


def test_secret_never_shows() -> None:
    s = Secret("s3cr3t-value")
    assert "s3cr3t" not in repr(s) + str(s) + f"{s}" + f"{s!s:>5}"
    assert s.reveal() == "s3cr3t-value" and s.hint == "s3c"
    import json
    import pickle

    with pytest.raises(TypeError):
        json.dumps({"x": s})
    with pytest.raises(TypeError):
        pickle.dumps(s)


async def test_a_stop_lets_the_step_in_flight_finish_and_starts_nothing_else() -> None:
    """What a hang-up, SIGTERM or Ctrl+C asks of a running plan (operations/runner.py)."""
    import signal

    az = FakeAzure()
    plan = Plan("t", "test", {}, [az.step("a", held=True), az.step("b", deps=("a",)), az.step("c", deps=("a",))])
    execution = Execution(plan, concurrency=1)
    run = asyncio.ensure_future(execution.run())
    await az.until_running(1)
    execution.stop(signal.SIGHUP)
    az.gate.set()  # the request in flight comes back
    outcome = await run
    assert outcome.results["a"].status is StepStatus.DONE  # finished, not cut off
    assert [outcome.results[s].status for s in "bc"] == [StepStatus.SKIPPED] * 2
    assert outcome.results["b"].note == "not started: stopped by SIGHUP"
    assert az.calls == ["a"]
    assert outcome.interrupted and outcome.stopped_by == signal.SIGHUP and outcome.exit_code == 129
    assert outcome.to_json()["stoppedBy"] == "SIGHUP" and "interrupted by SIGHUP" in outcome.summary()


async def test_a_second_stop_cancels_at_once_and_the_step_is_reported_unknown() -> None:
    import signal

    az = FakeAzure()
    plan = Plan("t", "test", {}, [az.step("a", held=True), az.step("b", deps=("a",))])
    execution = Execution(plan)
    run = asyncio.ensure_future(execution.run())
    await az.until_running(1)
    execution.stop(signal.SIGTERM)
    execution.stop(signal.SIGTERM)  # the gate never opens: only the cancel ends the step
    outcome = await asyncio.wait_for(run, GATE_TIMEOUT_S)
    a = outcome.results["a"]
    assert a.status is StepStatus.FAILED and a.error is not None and a.error.code == "Interrupted"
    assert outcome.results["b"].status is StepStatus.SKIPPED
    assert outcome.exit_code == 143
