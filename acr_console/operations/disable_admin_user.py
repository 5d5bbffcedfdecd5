"""disable-admin-user: turn a registry's admin user off (issue 16).

The admin user is the registry's own account (user name = the registry's name, two passwords) with
pull, push and delete on every repository; "Disabling the admin account ... cuts off all its users"
(MicrosoftDocs/azure-management-docs
`articles/container-registry/container-registry-authentication.md`, "Admin account";
docs/reference/acr-access.md §2.3). One step: `PATCH registries/R {"properties":
{"adminUserEnabled": false}}` (azure/registry_switches.py), what `az acr update --name R
--admin-enabled false` does (operations/registry_switch.py builds it). The step reads the registry
first, so running the plan again on a registry whose admin user is already off reports "already
done" and sends no write. The passwords are not regenerated: turned on again, the admin user signs
in with the same ones (`az acr credential renew` makes new ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..azure.registry_switches import ADMIN_USER
from ..models import Registry
from .plan import Plan, RunContext, Untouched
from .registry import DISABLE_ADMIN_USER as OPERATION
from .registry import Reads
from .registry_switch import CheckedSwitch, check_switch, state_warning, switch_off_step
from .validation import check_reference


@dataclass(frozen=True)
class DisableAdminUserRequest:
    registry: str  # name, login server or resource id


Request = DisableAdminUserRequest


def validate(req: DisableAdminUserRequest, now: datetime) -> None:
    check_reference(req.registry, "registry")


async def check(req: DisableAdminUserRequest, reads: Reads) -> CheckedSwitch:
    validate(req, reads.now)
    return await check_switch(reads, req.registry, ADMIN_USER)


def by_hand(registry: Registry) -> str:
    """The Azure CLI command that does the same (container-registry-authentication.md)."""
    return f"az acr update --name {registry.name} --admin-enabled false"


def plan(c: CheckedSwitch) -> Plan:
    registry = c.registry
    step = switch_off_step(c, ADMIN_USER, "disable-admin-user",
                           f"Disable the admin user of registry {registry.name} (adminUserEnabled false)")
    warnings = [state_warning(
        c, off=f"The admin user of {registry.name} is already off: nothing will change.",
        unknown=f"Azure's answer did not say whether the admin user of {registry.name} is on; the step sets it "
                "off either way.",
        on=f"Everything that signs in as {registry.name} with an admin password (docker login, pipelines, App "
           "Service or Container Instances pulling with it) gets 401 from then on: give the ones that should keep "
           "working a principal with a role first."),
        f"The same by hand: {by_hand(registry)}"]
    untouched = [Untouched(f"the admin passwords of {registry.name}", "kept: turned on again, the admin user signs "
                           "in with the same passwords", f"az acr credential renew --name {registry.name} "
                           "--password-name password"),
                 Untouched(f"role assignments, registry tokens and anonymous pull of {registry.name}",
                           "this changes only the admin user", f"acr-console access {registry.name}")]
    return Plan(OPERATION.name, f"Disable the admin user of {registry.name}",
                {"registry": registry.name, "registryId": registry.id}, [step], warnings, untouched, RunContext())
