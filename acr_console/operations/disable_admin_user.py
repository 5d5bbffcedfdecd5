"""disable-admin-user: turn a registry's admin user off (issue 16).

The admin user is the registry's own account (user name = the registry's name, two passwords) with
pull, push and delete on every repository; "Disabling the admin account ... cuts off all its users"
(MicrosoftDocs/azure-management-docs `articles/container-registry/container-registry-authentication.md`,
"Admin account"; docs/reference/acr-access.md §2.3). One step: `PATCH registries/R {"properties":
{"adminUserEnabled": false}}` (azure/writes_arm.py `disable_admin_user`), what `az acr update --name R
--admin-enabled false` does. The step reads the registry first, so running the plan again on a registry
whose admin user is already off reports "already done" and sends no write. The passwords are not
regenerated: turned on again, the admin user signs in with the same ones (`az acr credential
renew` makes new ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..azure import writes_arm
from ..azure.registry_access import find_registry
from ..models import Registry
from .plan import Plan, RunContext, Step, StepOutput, Untouched
from .registry import DISABLE_ADMIN_USER as OPERATION
from .registry import Reads
from .validation import check_reference


@dataclass(frozen=True)
class DisableAdminUserRequest:
    registry: str  # name, login server or resource id


Request = DisableAdminUserRequest


@dataclass(frozen=True)
class CheckedDisableAdminUser:
    reads: Reads
    registry: Registry
    enabled: bool | None  # as read when the plan was made; None: the answer did not say


def validate(req: DisableAdminUserRequest, now: datetime) -> None:
    check_reference(req.registry, "registry")


async def check(req: DisableAdminUserRequest, reads: Reads) -> CheckedDisableAdminUser:
    validate(req, reads.now)
    registry = await find_registry(reads.az, req.registry)
    return CheckedDisableAdminUser(reads, registry, await writes_arm.read_admin_user_enabled(reads.az, registry))


def by_hand(registry: Registry) -> str:
    """The Azure CLI command that does the same (container-registry-authentication.md)."""
    return f"az acr update --name {registry.name} --admin-enabled false"


def plan(c: CheckedDisableAdminUser) -> Plan:
    registry, az = c.registry, c.reads.az

    async def already_off(ctx: RunContext) -> StepOutput | None:
        if await writes_arm.read_admin_user_enabled(az, registry) is False:
            return StepOutput({"registryId": registry.id, "adminUserEnabled": False}, note="already off")
        return None

    async def turn_off(ctx: RunContext) -> StepOutput:
        receipt = await writes_arm.disable_admin_user(az, registry)
        return StepOutput({"registryId": registry.id, "adminUserEnabled": False}, receipt.correlation_ids)

    step = Step("disable-admin-user", f"Disable the admin user of registry {registry.name} (adminUserEnabled false)",
                turn_off, already_off)
    warnings: list[str] = []
    if c.enabled is False:
        warnings.append(f"The admin user of {registry.name} is already off: nothing will change.")
    elif c.enabled is None:
        warnings.append(f"Azure's answer did not say whether the admin user of {registry.name} is on; the step "
                        "sets it off either way.")
    else:
        warnings.append(f"Everything that signs in as {registry.name} with an admin password (docker login, "
                        "pipelines, App Service or Container Instances pulling with it) gets 401 from then on: "
                        "give the ones that should keep working a principal with a role first.")
    warnings.append(f"The same by hand: {by_hand(registry)}")
    untouched = [Untouched(f"the admin passwords of {registry.name}", "kept: turned on again, the admin user signs "
                           "in with the same passwords", f"az acr credential renew --name {registry.name} "
                           "--password-name password"),
                 Untouched(f"role assignments, registry tokens and anonymous pull of {registry.name}",
                           "this changes only the admin user", f"acr-console access {registry.name}")]
    return Plan(OPERATION.name, f"Disable the admin user of {registry.name}",
                {"registry": registry.name, "registryId": registry.id}, [step], warnings, untouched, RunContext())
