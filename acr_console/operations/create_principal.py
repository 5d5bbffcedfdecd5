"""Create a principal for one registry: `az ad sp create-for-rbac`, done right.

Differences from the Azure CLI that matter (docs/reference/acr-access.md §4.1, §7): an existing application of that
name is never patched and its passwords never removed; the role is assigned on the registry only,
chosen from the roles the registry's mode honours; the assignment is retried through the directory's
replication delay; a failure after the secret exists still reports the secret's key id and every
object that exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..azure import writes_arm, writes_graph
from ..azure.clients import AzureClients
from ..azure.directory import signed_in
from ..azure.errors import AzureCallError
from ..azure.registry_access import find_registry
from ..certificates import (
    CertificateInfo,
    GeneratedCertificate,
    generate_self_signed,
)
from ..errors import InputError
from ..models import CredentialOwner, Registry
from ..paths import expand_user
from ..secret import Secret
from .assign import check_repositories, check_repository_mode, condition_for, limit_text
from .credentials import password_step_functions
from .files import save_key_step, save_secret_step
from .handover import hand_over_step
from .plan import Plan, RunContext, Step, StepOutput, Untouched
from .registry import CREATE_PRINCIPAL as OPERATION
from .registry import Reads
from .validation import (
    certificate_file,
    check_display_name,
    check_reference,
    check_role_for_mode,
    check_role_name,
    credential_end,
    new_file,
    role_guid,
)

PASSWORD_NAME = "acr-console"


@dataclass(frozen=True)
class CreatePrincipalRequest:
    name: str
    registry: str  # name, login server or resource id
    role: str
    certificate: str | None = None  # None: a password; "generate"; or the path of a public certificate
    out: str | None = None  # where the secret (password, or generated key + certificate) is written, 0600
    years: int | None = None
    end_date: str | None = None
    replication_timeout_s: float = writes_arm.PRINCIPAL_REPLICATION_TIMEOUT_S
    # Issue 16: limit a Repository role to these repositories on an ABAC registry (as assign's).
    repositories: tuple[str, ...] = ()


Request = CreatePrincipalRequest


@dataclass(frozen=True)
class _Valid:
    name: str
    registry: str
    role: str
    kind: str  # "password" | "generate" | "file"
    end: datetime
    certificate: CertificateInfo | None = None
    certificate_path: Path | None = None
    out: Path | None = None


@dataclass(frozen=True)
class CheckedCreatePrincipal:
    reads: Reads
    request: CreatePrincipalRequest
    valid: _Valid
    registry: Registry
    # The application an earlier run of this command made and left without a credential: this run completes it.
    leftover: dict[str, Any] | None
    tenant: str | None


def validate(req: CreatePrincipalRequest, now: datetime) -> _Valid:
    """Everything that can be known wrong without asking Azure; raises InputError."""
    name = check_display_name(req.name)
    registry = check_reference(req.registry, "registry")
    role = check_role_name(req.role)
    check_repositories(req.repositories, role)
    end = credential_end(req.years, req.end_date, now)
    out = new_file(req.out, "out")
    if req.certificate is None:
        return _Valid(name, registry, role, "password", end, out=out)
    if req.certificate == "generate":
        if out is None:
            raise InputError("a generated certificate needs a new file for its private key: it is written there "
                             "(mode 0600) and nowhere else", field="out")
        return _Valid(name, registry, role, "generate", end, out=out)
    if out is not None:
        raise InputError("a file for the secret is only for a password or a generated certificate; with a "
                         "certificate file nothing secret is created (the private key stays where it is)", field="out")
    if req.years is not None or req.end_date is not None:
        raise InputError("a lifetime does not apply to a certificate file: its own validity is used",
                         field="years" if req.years is not None else "end_date")
    info = certificate_file(req.certificate, "certificate", now)
    path = expand_user(req.certificate)
    return _Valid(name, registry, role, "file", info.not_after, certificate=info, certificate_path=path)



async def check(req: CreatePrincipalRequest, reads: Reads) -> CheckedCreatePrincipal:
    c = validate(req, reads.now)
    if c.kind == "password" and c.out is None and reads.hand_over is None:
        raise InputError("a new secret is shown once: give a new file for it (mode 0600), or ask for it to be shown",
                         field="out")
    az = reads.az
    registry = await find_registry(az, c.registry)
    check_role_for_mode(c.role, registry.role_assignment_mode, registry.name)
    check_repository_mode(req.repositories, registry)
    existing = await writes_graph.applications_named(az, c.name)
    leftover = await _unfinished_run(az, existing) if c.kind == "password" else None
    if existing and leftover is None:
        ids = ", ".join(str(a.get("appId")) for a in existing[:3])
        raise InputError(f"an application named '{c.name}' already exists (appId {ids}). The console never "
                         "changes an existing application here: choose another name, or use reset-credential / "
                         "assign on the existing principal", field="name")
    who = await signed_in(az)
    return CheckedCreatePrincipal(reads, req, c, registry, leftover,
                                  who.tenant_id or az.connection.tenant_id)


def plan(checked: CheckedCreatePrincipal) -> Plan:
    az, req, c, registry, leftover, tenant = (checked.reads.az, checked.request, checked.valid, checked.registry,
                                              checked.leftover, checked.tenant)

    ctx = RunContext()
    generated: GeneratedCertificate | None = None
    cert = c.certificate
    if c.kind == "generate":
        generated = generate_self_signed(c.name, not_after=c.end)
        cert = generated.info
        ctx.secrets["privateKeyPem"] = Secret(generated.pem.decode())
    key_cred = writes_graph.key_credential(cert, display_name=f"{c.name} ({PASSWORD_NAME})") if cert else None
    scope = registry.id
    role_def = writes_arm.role_definition_id(registry.subscription_id, role_guid(c.role))
    ctx.values["result"] = {
        "displayName": c.name, "tenant": tenant, "loginServer": registry.login_server, "role": c.role,
        "scope": scope, "registry": registry.name, "kind": c.kind,
        "certificateFile": str(c.out or c.certificate_path) if cert else None,
        "thumbprint": cert.thumbprint if cert else None,
    }
    tag = f"acr-console-op:{uuid.uuid4()}"
    warnings = []
    delivered = leftover.get("delivered") if leftover is not None else None
    if leftover is not None:
        # Running the same command again finishes it, as every other write does.
        ctx.values["app"] = {"id": leftover["id"], "appId": leftover["appId"]}
        if delivered:
            ctx.values["passwordKeyId"] = delivered.get("keyId")
            warnings.append(f"Application '{c.name}' (appId {leftover['appId']}) was made by an earlier run of this "
                            f"command that stopped after handing its password over (key id {delivered.get('keyId')}, "
                            f"{delivered.get('time')}; see 'acr-console audit'). The password is not shown again; "
                            "this run completes the rest.")
        else:
            warnings.append(f"Application '{c.name}' (appId {leftover['appId']}) was made by an earlier run of this "
                            "command that did not finish; it has no credential yet. This run completes it.")
    assignment_name = str(uuid.uuid4())
    steps: list[Step] = []

    if generated is not None:
        steps.append(save_key_step(c.out, generated))  # type: ignore[arg-type]

    async def find_app(ctx: RunContext) -> StepOutput | None:
        known = ctx.values.get("app")
        if known:
            doc = await writes_graph.get_application(az, known["id"])
            if doc is not None:
                return _app_output(doc, "created by an earlier run")
        for doc in await writes_graph.applications_named(az, c.name):
            if tag in (doc.get("tags") or []):  # ours: created by a run whose answer was lost
                ctx.values["app"] = {"id": doc["id"], "appId": doc["appId"]}
                return _app_output(doc, "created by an earlier run of this plan")
            raise AzureCallError("ApplicationExists", f"an application named '{c.name}' (appId {doc.get('appId')}) "
                             "appeared after this plan was made; it was not touched", 409)
        return None

    async def create_app(ctx: RunContext) -> StepOutput:
        doc, receipt = await writes_graph.create_application(
            az, c.name, tags=["acr-console", tag], key_credentials=[key_cred] if key_cred else None)
        ctx.values["app"] = {"id": doc["id"], "appId": doc["appId"]}
        note = await _claim_name(az, c.name, doc)
        return StepOutput(_app_details(doc), receipt.correlation_ids, note=note)

    cert_text = f" with certificate {cert.thumbprint} ({cert.subject})" if cert else ""
    steps.append(Step("application", f"Create application '{c.name}'{cert_text}", create_app, find_app,
                      depends_on=("save-certificate",) if generated else ()))

    async def find_sp(ctx: RunContext) -> StepOutput | None:
        app = ctx.values["app"]
        doc = await writes_graph.service_principal_for_app(az, app["appId"])
        if doc is None:
            return None
        ctx.values["sp"] = {"id": doc["id"]}
        return StepOutput({"servicePrincipalObjectId": doc["id"]}, note="already exists")

    async def create_sp(ctx: RunContext) -> StepOutput:
        doc, receipt = await writes_graph.create_service_principal(az, ctx.values["app"]["appId"])
        ctx.values["sp"] = {"id": doc["id"]}
        return StepOutput({"servicePrincipalObjectId": doc["id"]}, receipt.correlation_ids)

    steps.append(Step("service-principal", "Create its service principal, enabled for sign-in", create_sp, find_sp,
                      depends_on=("application",)))

    handed: tuple[str, ...] = ()
    hand_over = checked.reads.hand_over if c.kind == "password" and not delivered else None
    if c.kind == "password" and not delivered:
        password_there, add_password = password_step_functions(
            az, CredentialOwner.APPLICATION, lambda ctx: ctx.values["app"]["id"], PASSWORD_NAME, c.end, set(),
            "passwordKeyId")

        steps.append(Step("password", f"Add a password to the application, valid until {c.end.date().isoformat()}",
                          add_password, password_there, depends_on=("application",)))
        if c.out is not None:
            steps.append(save_secret_step(c.out, "password", lambda ctx: {
                "appId": ctx.values["app"]["appId"], "displayName": c.name, "tenant": tenant,
                "keyId": ctx.values.get("passwordKeyId")}))
            handed += (steps[-1].id,)
        if hand_over is not None:
            # After the service principal too, so the facts handed over are complete but the role.
            steps.append(hand_over_step(hand_over, OPERATION.name, ("password", "service-principal"), create_facts))
            handed += (steps[-1].id,)

    repositories = check_repositories(req.repositories, c.role)
    condition = condition_for(c.role, repositories)

    async def role_there(ctx: RunContext) -> StepOutput | None:
        found = await writes_arm.find_assignment(az, scope, role_def, ctx.values["sp"]["id"], condition)
        return StepOutput({"assignmentId": found.id}, note="already assigned") if found else None

    async def assign(ctx: RunContext) -> StepOutput:
        ra, receipt = await writes_arm.create_role_assignment(
            az, scope, role_def, ctx.values["sp"]["id"], name=assignment_name,
            replication_timeout_s=req.replication_timeout_s, condition=condition)
        return StepOutput({"assignmentId": ra.id}, receipt.correlation_ids,
                          note="already assigned" if receipt.already else None)

    # The role makes the principal live: never before its secret has reached someone (handover.py).
    limited = f", repositories {limit_text(repositories)} only" if repositories else ""
    steps.append(Step("role", f"Assign {c.role} on registry {registry.name} (that registry only{limited}), retrying "
                      "while the new principal replicates", assign, role_there,
                      depends_on=("service-principal", *handed)))

    untouched = [Untouched("other registries and scopes", "the role is assigned at this registry's scope only")]
    if c.kind == "password":
        warnings.append(f"The password is shown once and never stored by the console; it expires on "
                        f"{c.end.date().isoformat()}.")
    if registry.admin_user_enabled:
        warnings.append(f"{registry.name} has its admin user enabled: a shared password grants full access "
                        "alongside this principal.")
    return Plan(OPERATION.name, f"Create principal '{c.name}' for {registry.name}",
                {"displayName": c.name, "registry": registry.name, "registryId": registry.id, "role": c.role,
                 "credential": c.kind, "mode": registry.role_assignment_mode.short,
                 **({"repositories": ", ".join(repositories)} if repositories else {})},
                steps, warnings, untouched, ctx)


async def _claim_name(az: AzureClients, name: str, ours: dict[str, Any]) -> str | None:
    """Graph lets two applications share a display name, and two operators on two machines (no
    common lock) can both find the name free and both create. Re-read the name after creating: of
    twins, the oldest (then the lowest object id) keeps it; a younger one is ours to remove, before
    it has a credential or a role. Both racers apply the same rule, so exactly one survives."""
    apps = await writes_graph.applications_named(az, name)
    twins = [a for a in apps if a.get("id") != ours["id"]]
    if not twins:
        return None
    apps_known = [*twins, {**ours, "createdDateTime": ours.get("createdDateTime") or "9999"}]
    keeper = min(apps_known, key=lambda a: (str(a.get("createdDateTime") or "9999"), str(a.get("id"))))
    others = ", ".join(str(a.get("appId")) for a in twins)
    if keeper.get("id") == ours["id"]:
        return f"another application named '{name}' appeared at the same time (appId {others}); this one is older " \
               "and keeps the name"
    receipt = await writes_graph.delete_application(az, ours["id"])
    raise AzureCallError("NameTaken", f"another application named '{name}' was created at the same time (appId "
                         f"{others}), probably by another operator; the one this run made ({ours['appId']}) was "
                         "deleted again, and nothing else was changed", 409, receipt.correlation_id)


def _earlier_delivery(app_id: str) -> dict[str, Any] | None:
    """This machine's audit record of the create-principal run that made application `app_id`
    and handed its password over (printed, shown or saved), if there is one."""
    from .audit import AuditLog

    try:
        records = AuditLog().read(fold=False)
    except Exception:  # an unreadable log: the run is not known, so nothing is assumed
        return None
    for record in reversed(records):
        if record.get("operation") != OPERATION.name:
            continue
        steps = {s.get("id"): s for s in record.get("steps", []) if isinstance(s, dict)}
        made = (steps.get("application") or {}).get("details") or {}
        if made.get("appId") != app_id:
            continue
        handed = [steps[i] for i in ("hand-over", "save-secret") if i in steps]
        if any(h.get("status") in ("done", "already-done") for h in handed):
            key = ((steps.get("password") or {}).get("details") or {}).get("keyId")
            return {"time": record.get("time"), "keyId": key}
    return None


async def _unfinished_run(az: AzureClients, apps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one application of this name when the console made it and no credential exists on it or
    its service principal: what a create leaves when it fails before the password (nothing anyone
    could sign in with, nothing to lose). Anything else with the name is someone's and stays refused."""
    if len(apps) != 1:
        return None
    app = apps[0]
    if "acr-console" not in (app.get("tags") or []) or app.get("keyCredentials"):
        return None
    if app.get("passwordCredentials"):
        # A password exists: finish only what this machine's audit log shows was handed over (a run
        # stopped between the secret and the role); anyone else's application stays refused.
        delivered = _earlier_delivery(str(app.get("appId")))
        known = {str(p.get("keyId")) for p in app["passwordCredentials"]}
        if delivered is None or len(known) != 1 or delivered.get("keyId") not in known:
            return None
        return {**app, "delivered": delivered}
    sp = await writes_graph.service_principal_for_app(az, app["appId"])
    if sp is not None and (sp.get("passwordCredentials") or sp.get("keyCredentials")):
        return None
    return app


def _app_details(doc: dict[str, Any]) -> dict[str, Any]:
    return {"applicationObjectId": doc["id"], "appId": doc["appId"]}


def _app_output(doc: dict[str, Any], note: str) -> StepOutput:
    return StepOutput(_app_details(doc), note=note)


def create_result(plan: Plan) -> dict[str, Any]:
    """The result in the Azure CLI's key names where they overlap; never the secret (a front end adds
    `password` only where the user asked for it)."""
    return create_facts(plan.context)


def create_facts(ctx: RunContext) -> dict[str, Any]:
    r = ctx.values["result"]
    app = ctx.values.get("app") or {}
    app_id = app.get("appId")
    doc: dict[str, Any] = {
        "appId": app_id, "displayName": r["displayName"], "tenant": r["tenant"],
        "applicationObjectId": app.get("id"), "servicePrincipalObjectId": (ctx.values.get("sp") or {}).get("id"),
        "loginServer": r["loginServer"], "role": r["role"], "scope": r["scope"],
    }
    if r["kind"] == "password":
        doc["passwordKeyId"] = ctx.values.get("passwordKeyId")
        doc["dockerLogin"] = f"docker login {r['loginServer']} --username {app_id} --password-stdin"
        doc["azLogin"] = (f"az login --service-principal --username {app_id} --tenant {r['tenant']} "
                          "--password <password>")
    else:
        doc["certificateFile"] = r["certificateFile"]
        doc["thumbprint"] = r["thumbprint"]
        doc["azLogin"] = (f"az login --service-principal --username {app_id} --tenant {r['tenant']} "
                          f"--certificate {r['certificateFile']}")
        doc["dockerLogin"] = f"az acr login --name {r['registry']}"
    return doc
