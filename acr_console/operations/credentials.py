"""What the credential operations share: the step that adds a password safely, the step that
removes one credential, and how an owner object is named (reset-credential, add-certificate,
remove-credential, create-principal and revoke use them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..azure import writes_graph
from ..azure.clients import AzureClients
from ..errors import InputError
from ..models import Credential, CredentialKind, CredentialOwner
from .plan import Action, Check, Detail, RunContext, Step, StepOutput
from .targets import PrincipalTarget, describe_credential


def owner_label(owner: CredentialOwner) -> str:
    return "application" if owner is CredentialOwner.APPLICATION else "service principal"


def owner_id(target: PrincipalTarget, owner: CredentialOwner, *, field: str = "on") -> str:
    """The object id of the owner; refused (as input to `field`) when it is an application in another tenant."""
    oid = target.owner_id(owner)
    if oid is None:
        hint = "; choose the service principal object instead" if field == "on" else ""
        raise InputError(f"the application of {target.display_name} is registered in another tenant and cannot be "
                         f"changed from here{hint}", field=field)
    return oid


def password_step_functions(az: AzureClients, owner: CredentialOwner, owner_of: Callable[[RunContext], str],
                            name: str | None,
                            end: datetime, known: set[str], key: str) -> tuple[Check, Action]:
    """The check and action of a step that adds one password, safe to run again after any failure.

    The new key id is remembered under `ctx.values[key]`. When an earlier attempt's answer was lost
    (a dropped connection, a timeout), the password it may have created is recognised by its display
    name and end time; nobody received its secret, so it is removed and reported, and a new one added.
    """

    async def there(ctx: RunContext) -> StepOutput | None:
        key_id = ctx.values.get(key)
        if not key_id and not ctx.values.get(f"{key}:attempted"):
            return None  # never tried: nothing to look for
        doc = await writes_graph.get_credential_owner(az, owner, owner_of(ctx))
        passwords = (doc or {}).get("passwordCredentials") or []
        if key_id and any(p.get("keyId") == key_id for p in passwords):
            return StepOutput({"keyId": key_id}, note="added by an earlier run of this plan")
        ctx.values[f"{key}:unanswered"] = writes_graph.unanswered_passwords(passwords, display_name=name, end=end,
                                                                            known=known)
        return None

    async def add(ctx: RunContext) -> StepOutput:
        removed: list[str] = []
        ids: list[str] = []
        for key_id in ctx.values.pop(f"{key}:unanswered", []):
            ids += (await writes_graph.remove_password(az, owner, owner_of(ctx), key_id)).correlation_ids
            removed.append(key_id)
        ctx.values[f"{key}:attempted"] = True
        meta, secret, receipt = await writes_graph.add_password(az, owner, owner_of(ctx), display_name=name,
                                                                end=end)
        ctx.values[key] = meta.get("keyId")
        ctx.values["hint"] = meta.get("hint")
        ctx.secrets["password"] = secret
        details: dict[str, Detail] = {"keyId": meta.get("keyId"), "hint": meta.get("hint"),
                                      "endDateTime": meta.get("endDateTime")}
        note = None
        if removed:
            details["removedUnansweredKeyIds"] = ", ".join(removed)
            note = (f"first removed {len(removed)} password(s) an earlier attempt created without its answer "
                    f"arriving (key id {', '.join(removed)}; their secrets were never received)")
        return StepOutput(details, (*ids, *receipt.correlation_ids), note=note)

    return there, add


def remove_credential_step(az: AzureClients, target: PrincipalTarget, c: Credential, *,
                           depends_on: tuple[str, ...] = ()) -> Step:
    oid = owner_id(target, c.owner)
    label = owner_label(c.owner)

    async def gone(ctx: RunContext) -> StepOutput | None:
        doc = await writes_graph.get_credential_owner(az, c.owner, oid)
        field = "passwordCredentials" if c.kind is CredentialKind.PASSWORD else "keyCredentials"
        if doc is None or all(str(x.get("keyId", "")).lower() != c.key_id.lower() for x in doc.get(field) or []):
            return StepOutput({"keyId": c.key_id}, note="already removed")
        return None

    async def remove(ctx: RunContext) -> StepOutput:
        if c.kind is CredentialKind.PASSWORD:
            receipt = await writes_graph.remove_password(az, c.owner, oid, c.key_id)
        else:
            receipt = await writes_graph.remove_key_credential(az, c.owner, oid, c.key_id)
        return StepOutput({"keyId": c.key_id, "kind": c.kind.value, "on": c.owner.value}, receipt.correlation_ids,
                          note="already removed" if receipt.already else None, already=receipt.already)

    return Step(f"remove-{c.owner.value}-{c.key_id}", f"Remove {describe_credential(c)} from the {label}",
                remove, gone, depends_on=depends_on, lock=oid, idempotent=True)


