"""reset-credential: add a password to a principal, and optionally retire the old ones once it exists.

Unlike `az ad sp credential reset` (docs/reference/acr-access.md §4.2, §7.3) nothing is removed by default, and old
passwords are removed only after the new one exists (and is saved, when a file was asked for).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..azure import writes_graph
from ..azure.directory import signed_in
from ..errors import InputError
from ..models import Credential, CredentialKind, CredentialOwner
from .credentials import owner_id, owner_label, password_step_functions, remove_credential_step
from .files import save_secret_step
from .handover import hand_over_step
from .plan import Plan, RunContext, Step, Untouched
from .registry import RESET_CREDENTIAL as OPERATION
from .registry import Reads
from .targets import PrincipalTarget, resolve_principal
from .validation import check_credential_name, check_reference, credential_end, new_file

DEFAULT_PASSWORD_NAME = "acr-console"


@dataclass(frozen=True)
class ResetCredentialRequest:
    principal: str
    replace: bool = False
    on: CredentialOwner = CredentialOwner.APPLICATION
    years: int | None = None
    end_date: str | None = None
    display_name: str | None = None
    out: str | None = None  # where the new secret is written (0600)


Request = ResetCredentialRequest


@dataclass(frozen=True)
class CheckedResetCredential:
    reads: Reads
    request: ResetCredentialRequest
    end: datetime
    out: Path | None
    target: PrincipalTarget
    owner_id: str
    tenant: str | None


def validate(req: ResetCredentialRequest, now: datetime) -> tuple[datetime, Path | None]:
    """When the new password expires and where it is saved, once the request is well-formed."""
    check_reference(req.principal, "principal")
    check_credential_name(req.display_name)
    end = credential_end(req.years, req.end_date, now)
    return end, new_file(req.out, "out")



async def check(req: ResetCredentialRequest, reads: Reads) -> CheckedResetCredential:
    end, out = validate(req, reads.now)
    if out is None and reads.hand_over is None:
        raise InputError("a new secret is shown once: give a new file for it (mode 0600), or ask for it to be shown",
                         field="out")
    az = reads.az
    target = await resolve_principal(az, req.principal)
    oid = owner_id(target, req.on)
    who = await signed_in(az)
    return CheckedResetCredential(reads, req, end, out, target, oid, who.tenant_id or az.connection.tenant_id)


def plan(c: CheckedResetCredential) -> Plan:
    az, req, target, end, out, tenant = c.reads.az, c.request, c.target, c.end, c.out, c.tenant
    owner = req.on
    name = req.display_name or DEFAULT_PASSWORD_NAME
    ctx = RunContext()
    ctx.values["result"] = {"appId": target.app_id, "displayName": target.display_name, "tenant": tenant,
                            "on": owner.value, "endDateTime": writes_graph.graph_time(end)}
    old: list[Credential] = [x for x in target.credentials(owner) if x.kind is CredentialKind.PASSWORD]
    label = owner_label(owner)

    known = {x.key_id.lower() for x in old}
    there, add = password_step_functions(az, owner, lambda ctx: c.owner_id, name, end, known, "keyId")

    steps = [Step("add-password", f"Add password \"{name}\" to the {label}, valid until {end.date().isoformat()}",
                  add, there, lock=c.owner_id)]
    # Every delivery of the new password comes before any removal (handover.py).
    before_removal: tuple[str, ...] = ("add-password",)
    if out is not None:
        steps.append(save_secret_step(out, "add-password", lambda ctx: {
            "appId": target.app_id, "displayName": target.display_name, "tenant": tenant,
            "keyId": ctx.values.get("keyId")}))
        before_removal += ("save-secret",)
    if c.reads.hand_over is not None:
        steps.append(hand_over_step(c.reads.hand_over, OPERATION.name, ("add-password",), credential_facts))
        before_removal += (steps[-1].id,)
    if req.replace:
        steps += [remove_credential_step(az, target, x, depends_on=before_removal) for x in old]

    untouched = []
    if old and not req.replace:
        untouched.append(Untouched(f"{len(old)} existing password(s) on the {label}",
                                   "reset appends by default; pass --replace to remove them once the new one exists"))
    certs = [x for x in target.credentials(owner) if x.kind is CredentialKind.CERTIFICATE]
    if certs:
        untouched.append(Untouched(f"{len(certs)} certificate(s) on the {label}", "a password reset never touches "
                                   "certificates"))
    other = CredentialOwner.SERVICE_PRINCIPAL if owner is CredentialOwner.APPLICATION else CredentialOwner.APPLICATION
    others = target.credentials(other)
    if others:
        untouched.append(Untouched(f"{len(others)} credential(s) on the {owner_label(other)}",
                                   f"only the {label} was chosen (--on)"))
    warnings = []
    if owner is CredentialOwner.SERVICE_PRINCIPAL:
        warnings.append("A password on the service-principal object does not show under App registrations in "
                        "the portal (Azure/azure-cli#23843).")
    if req.replace and old:
        warnings.append("Anything still signing in with the removed passwords stops working.")
    verb = "Replace" if req.replace and old else "Add"
    # Removing secrets someone may still use: the console asks for the principal's name first.
    return Plan(OPERATION.name, f"{verb} the password of {target.display_name}",
                {**target.target(), "on": owner.value, "replace": req.replace}, steps, warnings, untouched, ctx,
                typed_confirmation=req.replace)


def credential_result(plan: Plan) -> dict[str, Any]:
    """The new password's facts for output; the secret itself is added by a front end when asked."""
    return credential_facts(plan.context)


def credential_facts(ctx: RunContext) -> dict[str, Any]:
    r = dict(ctx.values.get("result", {}))
    r["keyId"] = ctx.values.get("keyId")
    r["hint"] = ctx.values.get("hint")
    return r
