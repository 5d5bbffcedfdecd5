"""Executing a plan for real: the read-only guard, the executor, and the audit record, together.

Front ends call `run_plan`; it never raises for a failed step (the Outcome says what happened), and
an interrupted run still leaves its audit record.
"""

from __future__ import annotations

import asyncio

from ..azure.clients import AzureClients
from ..azure.directory import signed_in
from ..azure.writes import ensure_writable
from ..models import SignedInIdentity
from .audit import Actor, AuditLog
from .executor import DEFAULT_CONCURRENCY, Execution, ProgressCallback
from .plan import Outcome, Plan


async def actor_of(az: AzureClients) -> Actor:
    conn = az.connection
    try:
        who = await signed_in(az)
    except Exception:  # the audit record must not be lost because the token could not be read
        who = SignedInIdentity()
    return Actor(cloud=conn.label, tenant_id=who.tenant_id or conn.tenant_id, object_id=who.object_id,
                 app_id=who.app_id, name=who.name)


async def run_plan(az: AzureClients, plan: Plan, on_progress: ProgressCallback | None = None, *,
                   audit: AuditLog | None = None, concurrency: int = DEFAULT_CONCURRENCY) -> Outcome:
    """Execute `plan` and audit it. Refuses (ReadOnlyError) before anything is sent in read-only mode."""
    if not plan.empty:
        ensure_writable(az.connection, plan.title)
    # Who acts is needed only for the audit record: it is read beside the execution, not before it.
    actor_task = asyncio.ensure_future(actor_of(az))
    execution = Execution(plan, on_progress, concurrency=concurrency)
    log = audit if audit is not None else AuditLog()
    try:
        return await execution.run()
    finally:
        try:
            actor = await actor_task
        except BaseException:  # interrupted meanwhile: the record names what the connection knows
            actor_task.cancel()
            conn = az.connection
            actor = Actor(cloud=conn.label, tenant_id=conn.tenant_id, object_id=None, app_id=None, name=None)
        if not plan.empty:
            log.write(execution.outcome(), actor)
