"""disable-anonymous-pull: turn a registry's anonymous pull off (issue 13).

With `anonymousPullEnabled` anyone who can reach the registry pulls every repository without signing
in (MicrosoftDocs/azure-management-docs `articles/container-registry/anonymous-pull-access.md`). One
step: `PATCH registries/R {"properties": {"anonymousPullEnabled": false}}`, what `az acr update
--name R --anonymous-pull-enabled false` sends (azure/registry_switches.py;
operations/registry_switch.py builds the step). The step reads the registry first, so running the
plan again on a registry already closed reports "already done" and sends no write. Role assignments,
registry tokens and the admin user are another matter and stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..azure.registry_switches import ANONYMOUS_PULL
from ..models import Registry
from .plan import Plan, RunContext, Untouched
from .registry import DISABLE_ANONYMOUS_PULL as OPERATION
from .registry import Reads
from .registry_switch import CheckedSwitch, check_switch, state_warning, switch_off_step
from .validation import check_reference


@dataclass(frozen=True)
class DisableAnonymousPullRequest:
    registry: str  # name, login server or resource id


Request = DisableAnonymousPullRequest


def validate(req: DisableAnonymousPullRequest, now: datetime) -> None:
    check_reference(req.registry, "registry")


async def check(req: DisableAnonymousPullRequest, reads: Reads) -> CheckedSwitch:
    validate(req, reads.now)
    return await check_switch(reads, req.registry, ANONYMOUS_PULL)


def by_hand(registry: Registry) -> str:
    """The Azure CLI command that does the same (anonymous-pull-access.md)."""
    return f"az acr update --name {registry.name} --anonymous-pull-enabled false"


def plan(c: CheckedSwitch) -> Plan:
    registry = c.registry
    step = switch_off_step(c, ANONYMOUS_PULL, "disable-anonymous-pull",
                           f"Turn anonymous pull off on registry {registry.name} (anonymousPullEnabled false)")
    warnings = [state_warning(
        c, off=f"Anonymous pull is already off on {registry.name}: nothing will change.",
        unknown=f"Azure's answer did not say whether anonymous pull is on for {registry.name} (an api-version "
                "without the property); the step sets it off either way.",
        on="Clients that pull without signing in (docker pull or Kubernetes nodes without a pull secret, public "
           "consumers) get 401 from then on: give the ones that should keep pulling a principal with a pull role "
           "first."),
        f"The same by hand: {by_hand(registry)}"]
    untouched = [Untouched(f"role assignments, registry tokens and the admin user of {registry.name}",
                           "this changes only what clients without credentials may do",
                           f"acr-console access {registry.name} --can pull")]
    return Plan(OPERATION.name, f"Turn anonymous pull off on {registry.name}",
                {"registry": registry.name, "registryId": registry.id}, [step], warnings, untouched, RunContext())
