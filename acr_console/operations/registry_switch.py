"""What the operations that turn a registry setting off share (disable-anonymous-pull,
disable-admin-user): the registry and the setting as read when the plan was made, and the one step
that turns it off. The step reads the registry first, so running the plan again on a registry where
the setting is already off reports "already done" and sends no write (azure/registry_switches.py
says what is sent)."""

from __future__ import annotations

from dataclasses import dataclass

from ..azure.registry_access import find_registry
from ..azure.registry_switches import Switch, read_switch, switch_off
from ..models import Registry
from .plan import Detail, RunContext, Step, StepOutput
from .registry import Reads


@dataclass(frozen=True)
class CheckedSwitch:
    reads: Reads
    registry: Registry
    enabled: bool | None  # as read when the plan was made; None: the answer did not say


async def check_switch(reads: Reads, reference: str, switch: Switch) -> CheckedSwitch:
    registry = await find_registry(reads.az, reference)
    return CheckedSwitch(reads, registry, await read_switch(reads.az, registry, switch))


def switch_off_step(c: CheckedSwitch, switch: Switch, step_id: str, description: str) -> Step:
    registry, az = c.registry, c.reads.az
    done: dict[str, Detail] = {"registryId": registry.id, switch.property: False}

    async def already_off(ctx: RunContext) -> StepOutput | None:
        if await read_switch(az, registry, switch) is False:
            return StepOutput(done, note="already off")
        return None

    async def turn_off(ctx: RunContext) -> StepOutput:
        receipt = await switch_off(az, registry, switch)
        return StepOutput(done, receipt.correlation_ids)

    return Step(step_id, description, turn_off, already_off)


def state_warning(c: CheckedSwitch, off: str, unknown: str, on: str) -> str:
    """The plan's first warning: what turning it off changes (`on`), or that it is already `off`, or
    that Azure's answer did not say (`unknown`); the step sets it off either way."""
    return off if c.enabled is False else unknown if c.enabled is None else on
