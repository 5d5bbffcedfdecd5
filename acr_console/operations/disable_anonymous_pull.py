"""disable-anonymous-pull: turn a registry's anonymous pull off (issue 13).

With `anonymousPullEnabled` anyone who can reach the registry pulls every repository without
signing in (MicrosoftDocs/azure-management-docs `articles/container-registry/anonymous-pull-access.md`).
One step: `PATCH registries/R {"properties": {"anonymousPullEnabled": false}}`, what `az acr update
--name R --anonymous-pull-enabled false` sends (azure/anonymous_pull.py). The step reads the registry
first, so running the plan again on a registry already closed reports "already done" and sends no write.
Role assignments, registry tokens and the admin user are another matter and stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..azure import anonymous_pull
from ..azure.registry_access import find_registry
from ..models import Registry
from .plan import Plan, RunContext, Step, StepOutput, Untouched
from .registry import DISABLE_ANONYMOUS_PULL as OPERATION
from .registry import Reads
from .validation import check_reference


@dataclass(frozen=True)
class DisableAnonymousPullRequest:
    registry: str  # name, login server or resource id


Request = DisableAnonymousPullRequest


@dataclass(frozen=True)
class CheckedDisableAnonymousPull:
    reads: Reads
    registry: Registry
    enabled: bool | None  # as read when the plan was made; None: the answer did not say


def validate(req: DisableAnonymousPullRequest, now: datetime) -> None:
    check_reference(req.registry, "registry")


async def check(req: DisableAnonymousPullRequest, reads: Reads) -> CheckedDisableAnonymousPull:
    validate(req, reads.now)
    registry = await find_registry(reads.az, req.registry)
    return CheckedDisableAnonymousPull(reads, registry, await anonymous_pull.read_anonymous_pull(reads.az, registry))


def by_hand(registry: Registry) -> str:
    """The Azure CLI command that does the same (anonymous-pull-access.md)."""
    return f"az acr update --name {registry.name} --anonymous-pull-enabled false"


def plan(c: CheckedDisableAnonymousPull) -> Plan:
    registry, az = c.registry, c.reads.az

    async def already_off(ctx: RunContext) -> StepOutput | None:
        if await anonymous_pull.read_anonymous_pull(az, registry) is False:
            return StepOutput({"registryId": registry.id, "anonymousPullEnabled": False}, note="already off")
        return None

    async def turn_off(ctx: RunContext) -> StepOutput:
        receipt = await anonymous_pull.disable_anonymous_pull(az, registry)
        return StepOutput({"registryId": registry.id, "anonymousPullEnabled": False}, receipt.correlation_ids)

    step = Step("disable-anonymous-pull",
                f"Turn anonymous pull off on registry {registry.name} (anonymousPullEnabled false)",
                turn_off, already_off)
    warnings: list[str] = []
    if c.enabled is False:
        warnings.append(f"Anonymous pull is already off on {registry.name}: nothing will change.")
    elif c.enabled is None:
        warnings.append(f"Azure's answer did not say whether anonymous pull is on for {registry.name} (an "
                        "api-version without the property); the step sets it off either way.")
    else:
        warnings.append("Clients that pull without signing in (docker pull or Kubernetes nodes without a pull "
                        "secret, public consumers) get 401 from then on: give the ones that should keep pulling "
                        "a principal with a pull role first.")
    warnings.append(f"The same by hand: {by_hand(registry)}")
    untouched = [Untouched(f"role assignments, registry tokens and the admin user of {registry.name}",
                           "this changes only what clients without credentials may do",
                           f"acr-console access {registry.name} --can pull")]
    return Plan(OPERATION.name, f"Turn anonymous pull off on {registry.name}",
                {"registry": registry.name, "registryId": registry.id}, [step], warnings, untouched, RunContext())
