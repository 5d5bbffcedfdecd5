"""Credential operations on an existing principal: reset (add a password, optionally retire the old
ones), add a certificate, remove one credential.

Unlike `az ad sp credential reset` (acr-access §4.2, §7.3) nothing is removed by default, old
passwords are removed only after the new one exists (and is saved, when a file was asked for), and
adding a certificate keeps every existing certificate.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..azure import writes_graph
from ..azure.clients import AzureClients
from ..azure.directory import signed_in
from ..azure.errors import AzureCallError
from ..certificates import (
    CertificateInfo,
    GeneratedCertificate,
    addkey_proof,
    generate_self_signed,
    load_private_key_and_certificate,
)
from ..models import Credential, CredentialKind, CredentialOwner
from ..secret import Secret
from .files import save_key_step, save_secret_step
from .plan import Action, Check, Detail, Plan, RunContext, Step, StepOutput, Untouched
from .targets import PrincipalTarget, describe_credential, resolve_principal
from .validation import (
    InputError,
    certificate_file,
    check_credential_name,
    check_key_id,
    check_reference,
    credential_end,
    key_and_certificate_file,
    new_file,
)

DEFAULT_PASSWORD_NAME = "acr-console"


def _owner_label(owner: CredentialOwner) -> str:
    return "application" if owner is CredentialOwner.APPLICATION else "service principal"


def _owner_id(target: PrincipalTarget, owner: CredentialOwner) -> str:
    oid = target.owner_id(owner)
    if oid is None:
        raise InputError(f"the application of {target.display_name} is registered in another tenant and cannot be "
                         "changed from here; use --on service-principal")
    return oid


# -- reset ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResetCredentialRequest:
    principal: str
    replace: bool = False
    on: CredentialOwner = CredentialOwner.APPLICATION
    years: int | None = None
    end_date: str | None = None
    display_name: str | None = None
    out: str | None = None  # where the new secret is written (0600)


def check_reset(req: ResetCredentialRequest, now: datetime | None = None) -> tuple[datetime, Path | None]:
    check_reference(req.principal, "principal")
    check_credential_name(req.display_name)
    end = credential_end(req.years, req.end_date, now or datetime.now(UTC))
    return end, new_file(req.out, "--out")


async def plan_reset_credential(az: AzureClients, req: ResetCredentialRequest) -> Plan:
    end, out = check_reset(req)
    target = await resolve_principal(az, req.principal)
    owner = req.on
    owner_id = _owner_id(target, owner)
    who = await signed_in(az)
    tenant = who.tenant_id or az.connection.tenant_id
    name = req.display_name or DEFAULT_PASSWORD_NAME
    ctx = RunContext()
    ctx.values["result"] = {"appId": target.app_id, "displayName": target.display_name, "tenant": tenant,
                            "on": owner.value, "endDateTime": writes_graph.graph_time(end)}
    old = [c for c in target.credentials(owner) if c.kind is CredentialKind.PASSWORD]
    label = _owner_label(owner)

    known = {c.key_id.lower() for c in old}
    there, add = password_step_functions(az, owner, lambda ctx: owner_id, name, end, known, "keyId")

    steps = [Step("add-password", f"Add password \"{name}\" to the {label}, valid until {end.date().isoformat()}",
                  add, there, lock=owner_id)]
    before_removal = ("add-password",)
    if out is not None:
        steps.append(save_secret_step(out, "add-password", lambda ctx: {
            "appId": target.app_id, "displayName": target.display_name, "tenant": tenant,
            "keyId": ctx.values.get("keyId")}))
        before_removal = ("add-password", "save-secret")
    if req.replace:
        steps += [_remove_step(az, target, c, depends_on=before_removal) for c in old]

    untouched = []
    if old and not req.replace:
        untouched.append(Untouched(f"{len(old)} existing password(s) on the {label}",
                                   "reset appends by default; pass --replace to remove them once the new one exists"))
    certs = [c for c in target.credentials(owner) if c.kind is CredentialKind.CERTIFICATE]
    if certs:
        untouched.append(Untouched(f"{len(certs)} certificate(s) on the {label}", "a password reset never touches "
                                   "certificates"))
    other = CredentialOwner.SERVICE_PRINCIPAL if owner is CredentialOwner.APPLICATION else CredentialOwner.APPLICATION
    others = target.credentials(other)
    if others:
        untouched.append(Untouched(f"{len(others)} credential(s) on the {_owner_label(other)}",
                                   f"only the {label} was chosen (--on)"))
    warnings = []
    if owner is CredentialOwner.SERVICE_PRINCIPAL:
        warnings.append("A password on the service-principal object does not show under App registrations in "
                        "the portal (Azure/azure-cli#23843).")
    if req.replace and old:
        warnings.append("Anything still signing in with the removed passwords stops working.")
    verb = "Replace" if req.replace and old else "Add"
    return Plan("reset-credential", f"{verb} the password of {target.display_name}",
                {**target.target(), "on": owner.value, "replace": req.replace}, steps, warnings, untouched, ctx)


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


def _remove_step(az: AzureClients, target: PrincipalTarget, c: Credential, *,
                 depends_on: tuple[str, ...] = ()) -> Step:
    owner_id = _owner_id(target, c.owner)
    label = _owner_label(c.owner)

    async def gone(ctx: RunContext) -> StepOutput | None:
        doc = await writes_graph.get_credential_owner(az, c.owner, owner_id)
        field = "passwordCredentials" if c.kind is CredentialKind.PASSWORD else "keyCredentials"
        if doc is None or all(str(x.get("keyId", "")).lower() != c.key_id.lower() for x in doc.get(field) or []):
            return StepOutput({"keyId": c.key_id}, note="already removed")
        return None

    async def remove(ctx: RunContext) -> StepOutput:
        if c.kind is CredentialKind.PASSWORD:
            receipt = await writes_graph.remove_password(az, c.owner, owner_id, c.key_id)
        else:
            receipt = await writes_graph.remove_key_credential(az, c.owner, owner_id, c.key_id)
        return StepOutput({"keyId": c.key_id, "kind": c.kind.value, "on": c.owner.value}, receipt.correlation_ids,
                          note="already removed" if receipt.already else None, already=receipt.already)

    return Step(f"remove-{c.owner.value}-{c.key_id}", f"Remove {describe_credential(c)} from the {label}",
                remove, gone, depends_on=depends_on, lock=owner_id, idempotent=True)


def credential_result(plan: Plan) -> dict[str, Any]:
    """The new password's facts for output; the secret itself is added by a front end when asked."""
    r = dict(plan.context.values.get("result", {}))
    r["keyId"] = plan.context.values.get("keyId")
    r["hint"] = plan.context.values.get("hint")
    return r


# -- add certificate ------------------------------------------------------------------------


@dataclass(frozen=True)
class AddCertificateRequest:
    principal: str
    file: str | None = None
    generate: bool = False
    out: str | None = None  # where a generated certificate and its key go (0600)
    years: int | None = None
    end_date: str | None = None
    display_name: str | None = None
    # A PEM with the key and certificate of a certificate already on the application: uses Graph's
    # atomic addKey instead of read-modify-write.
    proof: str | None = None


@dataclass(frozen=True)
class CheckedCertificate:
    certificate: CertificateInfo | None
    out: Path | None
    end: datetime | None
    proof_path: Path | None


def check_add_certificate(req: AddCertificateRequest, now: datetime | None = None) -> CheckedCertificate:
    now = now or datetime.now(UTC)
    check_reference(req.principal, "principal")
    check_credential_name(req.display_name)
    if bool(req.file) == bool(req.generate):
        raise InputError("give either --file PATH (an existing certificate) or --generate --out PATH")
    proof = key_and_certificate_file(req.proof, "--proof", now) if req.proof is not None else None
    if req.generate:
        if not req.out:
            raise InputError("--generate needs --out PATH: the new private key is written there (mode 0600)")
        return CheckedCertificate(None, new_file(req.out, "--out"), credential_end(req.years, req.end_date, now),
                                  proof)
    if req.out:
        raise InputError("--out is for --generate; with --file nothing secret is created")
    if req.years is not None or req.end_date is not None:
        raise InputError("--years and --end-date do not apply to --file: the certificate's own validity is used")
    return CheckedCertificate(certificate_file(req.file, "--file", now), None, None, proof)  # type: ignore[arg-type]


async def plan_add_certificate(az: AzureClients, req: AddCertificateRequest) -> Plan:
    checked = check_add_certificate(req)
    target = await resolve_principal(az, req.principal)
    app_id = _owner_id(target, CredentialOwner.APPLICATION)
    ctx = RunContext()
    generated: GeneratedCertificate | None = None
    cert = checked.certificate
    if cert is None:
        assert checked.end is not None
        generated = generate_self_signed(target.display_name, not_after=checked.end)
        cert = generated.info
        ctx.secrets["privateKeyPem"] = Secret(generated.pem.decode())
    existing = [c for c in target.credentials(CredentialOwner.APPLICATION) if c.kind is CredentialKind.CERTIFICATE]
    if any(c.thumbprint == cert.thumbprint for c in existing):
        raise InputError(f"certificate {cert.thumbprint} is already on the application of {target.display_name}")
    new = writes_graph.key_credential(cert, key_id=str(uuid.uuid4()), display_name=req.display_name)
    proof_key = None
    if checked.proof_path is not None:
        key, signer = load_private_key_and_certificate(checked.proof_path)
        if all(c.thumbprint != signer.thumbprint for c in existing):
            raise InputError(f"--proof: certificate {signer.thumbprint} is not on the application; the proof must "
                             "be signed with one of its current certificates")
        proof_key = (key, signer)
    ctx.values["certificate"] = {"thumbprint": cert.thumbprint, "keyId": new["keyId"], **cert.to_json(),
                                 "certificateFile": str(checked.out) if checked.out else req.file}

    async def there(ctx: RunContext) -> StepOutput | None:
        for k in await writes_graph.key_credentials_of(az, CredentialOwner.APPLICATION, app_id):
            if k.get("keyId") == new["keyId"] or k.get("customKeyIdentifier") == new["customKeyIdentifier"]:
                return StepOutput({"keyId": k.get("keyId"), "thumbprint": cert.thumbprint}, note="already added")
        return None

    async def add(ctx: RunContext) -> StepOutput:
        if proof_key is not None:
            token = addkey_proof(app_id, proof_key[0], proof_key[1])
            doc, receipt = await writes_graph.add_key(az, app_id, new, token)
            key_id = doc.get("keyId") or new["keyId"]
        else:
            receipt = await writes_graph.append_key_credential(az, CredentialOwner.APPLICATION, app_id, new)
            key_id = new["keyId"]
        ctx.values["certificate"]["keyId"] = key_id
        return StepOutput({"keyId": key_id, "thumbprint": cert.thumbprint}, receipt.correlation_ids)

    steps: list[Step] = []
    if generated is not None:
        steps.append(save_key_step(checked.out, generated))  # type: ignore[arg-type]
    how = "with addKey (proof signed by an existing certificate)" if proof_key else (
        f"keeping its {len(existing)} existing certificate(s)")
    validity = f"valid {cert.not_before.date().isoformat()} to {cert.not_after.date().isoformat()}"
    steps.append(Step("add-certificate", f"Add certificate {cert.thumbprint} ({cert.subject}, {validity}) to the "
                      f"application, {how}", add, there,
                      depends_on=("save-certificate",) if generated else (), lock=app_id))
    untouched = [Untouched(describe_credential(c), "adding a certificate keeps every existing one") for c in existing]
    warnings = []
    if not cert.self_signed:
        warnings.append(f"Issued by {cert.issuer}: Entra checks only the key, not the chain.")
    if cert.has_private_key:
        warnings.append("The file also holds a private key; only the public certificate is uploaded.")
    return Plan("add-certificate", f"Add a certificate to {target.display_name}",
                {**target.target(), "thumbprint": cert.thumbprint, "subject": cert.subject,
                 "notAfter": cert.to_json()["notAfter"]}, steps, warnings, untouched, ctx)


def certificate_result(plan: Plan) -> dict[str, Any]:
    return dict(plan.context.values.get("certificate", {}))


# -- remove one credential ------------------------------------------------------------------


async def plan_remove_credential(az: AzureClients, principal: str, key_id: str) -> Plan:
    check_reference(principal, "principal")
    key_id = check_key_id(key_id)
    target = await resolve_principal(az, principal)
    matches = [c for c in target.credentials() if c.key_id.lower() == key_id]
    if not matches:
        raise AzureCallError("CredentialNotFound",
                             f"{target.display_name} has no credential with key id {key_id} on its "
                             "application or service principal (see 'acr-console principal')", 404)
    c = matches[0]
    step = _remove_step(az, target, c)
    remaining = [x for x in target.credentials() if x.key_id.lower() != key_id]
    warnings = [] if remaining else [f"{target.display_name} will have no credential left to sign in with."]
    return Plan("remove-credential", f"Remove a credential of {target.display_name}",
                {**target.target(), "keyId": key_id, "kind": c.kind.value, "on": c.owner.value}, [step], warnings,
                [Untouched(f"{len(remaining)} other credential(s)", "only the named key id is removed")]
                if remaining else [], RunContext())
