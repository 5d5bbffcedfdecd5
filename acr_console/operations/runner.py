"""Executing a plan for real: the read-only guard, one writer per target, the audit trail, signals,
and the executor, together.

Front ends call `run_plan`. In order, and nothing is sent before the last of the refusals:
  1. read-only mode refuses (ReadOnlyError, exit 4);
  2. the plan's claims are taken (operations/locks.py): another operator's write on the same target
     is waited for briefly, then refused by name (BusyError, exit 1); a plan made before another
     write on its target finished is stale and refused (BusyError);
  3. the intent record is written to the audit log, fsynced (AuditError, exit 1, if it cannot be);
  4. the plan runs; SIGINT, SIGTERM and SIGHUP stop it the same way: the steps in flight finish,
     the rest are skipped (executor.Execution.stop), and the outcome says which signal;
  5. the outcome record is written. If that fails the run still returns its Outcome (what was done
     has been done) with `audit_error` set, for the front end to report.
It never raises for a failed step (the Outcome says what happened).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ..azure.clients import AzureClients
from ..azure.directory import signed_in
from ..azure.writes import ensure_writable
from ..errors import AuditError, BusyError
from ..models import SignedInIdentity
from .audit import Actor, AuditLog, new_run_id
from .executor import DEFAULT_CONCURRENCY, Execution, ProgressCallback
from .locks import Holder, claimed, lock_folder
from .plan import Outcome, Plan, Step, StepResult, result_json, utcnow

# Steps after which the audit log gets a checkpoint at once: a secret reached its destination.
CHECKPOINTS = ("hand-over", "save-secret", "save-certificate")
# SIGHUP is what an SSH session that drops sends; SIGTERM what `timeout`, systemd and CI cancels do.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


async def actor_of(az: AzureClients) -> Actor:
    conn = az.connection
    try:
        who = await signed_in(az)
    except Exception:  # the audit record must not be lost because the token could not be read
        who = SignedInIdentity()
    return Actor(cloud=conn.label, tenant_id=who.tenant_id or conn.tenant_id, object_id=who.object_id,
                 app_id=who.app_id, name=who.name)


@contextlib.contextmanager
def _stop_on_signals(execution: Execution) -> Iterator[None]:
    """While a plan runs, a stop signal asks the execution to stop (in-flight steps finish) rather
    than killing the process mid-request or cancelling the steps at once (Ctrl+C's default).
    Only on the main thread's loop: signal handlers can be set nowhere else."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    installed = []
    for sig in STOP_SIGNALS:
        try:
            loop.add_signal_handler(sig, execution.stop, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # no signals here (another loop kind)
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
            # remove_signal_handler leaves the default action; put back what was there (asyncio.run's
            # own SIGINT handler, Textual's), so a signal after the run acts as before it.
            handler = previous[sig]
            if handler is not None:
                signal.signal(sig, handler)


async def run_plan(az: AzureClients, plan: Plan, on_progress: ProgressCallback | None = None, *,
                   audit: AuditLog | None = None, concurrency: int = DEFAULT_CONCURRENCY,
                   on_wait: Callable[[Holder | None], None] | None = None) -> Outcome:
    """Execute `plan` and audit it (see the module docstring for the order of refusals)."""
    if plan.empty:
        return Execution(plan).outcome()
    ensure_writable(az.connection, plan.title)
    log = audit if audit is not None else AuditLog()
    target = str(plan.target.get("principal") or plan.target.get("displayName") or plan.target.get("token")
                 or plan.target.get("registry") or plan.title)
    async with claimed(plan.claims, operation=plan.operation, target=target, folder=lock_folder(log.path),
                       plan=plan.uid, on_wait=on_wait) as held:
        if plan.read_at is not None:
            writer = held.written_since(plan.read_at.timestamp(), plan.uid)
            if writer is not None:
                raise BusyError(f"{target} was changed after this plan was made, by {writer.describe()}; "
                                "nothing was changed. Run the command again to see a plan of what is there now.")
        # Who acts is read beside the execution, not before it; the intent names the connection's tenant.
        conn = az.connection
        actor_task = asyncio.ensure_future(actor_of(az))
        run = new_run_id()
        try:
            log.begin(plan, Actor(cloud=conn.label, tenant_id=conn.tenant_id), run, utcnow())
        except AuditError:
            actor_task.cancel()
            raise
        done: dict[str, dict[str, Any]] = {}

        def progress(step: Step, result: StepResult) -> None:
            if result.status.final:
                done[step.id] = result_json(step, result)
                if step.id in CHECKPOINTS and result.ok:
                    # Lost only if the process is then killed outright: the outcome record still comes.
                    with contextlib.suppress(AuditError):
                        log.checkpoint(plan, run, list(done.values()), utcnow())
            if on_progress is not None:
                on_progress(step, result)

        execution = Execution(plan, progress, concurrency=concurrency)
        try:
            with _stop_on_signals(execution):
                return await execution.run()
        finally:
            try:
                actor = await actor_task
            except BaseException:  # interrupted meanwhile: the record names what the connection knows
                actor_task.cancel()
                actor = Actor(cloud=conn.label, tenant_id=conn.tenant_id)
            outcome = execution.outcome()
            try:
                log.write(outcome, actor, run=run)
            except AuditError as err:
                plan.context.values["auditError"] = str(err)
