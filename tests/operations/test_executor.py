"""The executor on plans of plain coroutines: concurrency, dependencies, failures, re-runs, progress.

State lives in a dict standing in for Azure; checks read it, which is what makes a second execution
finish only what is missing.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from acr_console.azure.errors import AzureCallError
from acr_console.operations import Plan, Step, StepOutput, StepStatus, execute
from acr_console.operations.executor import Execution
from acr_console.secret import Secret


class FakeAzure:
    def __init__(self) -> None:
        self.state: dict[str, bool] = {}
        self.calls: list[str] = []
        self.fail: dict[str, int] = {}  # name -> how many more times to fail
        self.running = 0
        self.peak = 0

    def step(self, name: str, *, deps: tuple[str, ...] = (), lock: str | None = None, delay: float = 0.0) -> Step:
        async def check(ctx) -> StepOutput | None:
            return StepOutput({"name": name}, note="already") if self.state.get(name) else None

        async def action(ctx) -> StepOutput:
            self.calls.append(name)
            self.running += 1
            self.peak = max(self.peak, self.running)
            try:
                await asyncio.sleep(delay)
                if self.fail.get(name, 0) > 0:
                    self.fail[name] -= 1
                    raise AzureCallError("ServiceUnavailable", f"{name} failed", 503, "corr-" + name)
                self.state[name] = True
                return StepOutput({"name": name}, ("corr-ok-" + name,))
            finally:
                self.running -= 1

        return Step(name, f"do {name}", action, check, depends_on=deps, lock=lock)


async def test_independent_steps_run_concurrently_and_dependents_wait() -> None:
    az = FakeAzure()
    plan = Plan("t", "test", {}, [az.step("a", delay=0.05), az.step("b", delay=0.05), az.step("c", delay=0.05),
                                  az.step("d", deps=("a", "b", "c"))])
    started = time.monotonic()
    outcome = await execute(plan)
    assert time.monotonic() - started < 0.14  # a, b, c together, not one after another
    assert outcome.ok and az.peak == 3
    assert az.calls[-1] == "d"
    assert outcome.correlation_ids == ["corr-ok-a", "corr-ok-b", "corr-ok-c", "corr-ok-d"]


async def test_bounded_concurrency_and_locks() -> None:
    az = FakeAzure()
    steps = [az.step(f"s{n}", delay=0.02) for n in range(10)]
    await execute(Plan("t", "test", {}, steps), concurrency=3)
    assert az.peak == 3
    az2 = FakeAzure()
    locked = [az2.step(f"l{n}", delay=0.01, lock="same-object") for n in range(4)]
    await execute(Plan("t", "test", {}, locked))
    assert az2.peak == 1


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
    plan = Plan("t", "test", {}, [az.step("fast"), az.step("slow", delay=5), az.step("after", deps=("slow",))])
    execution = Execution(plan)
    task = asyncio.ensure_future(execution.run())
    await asyncio.sleep(0.05)
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
