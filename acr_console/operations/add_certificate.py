"""add-certificate: add a certificate to a principal's application, keeping every existing one.

The certificate is a file (only its public part is uploaded) or generated here, its private key
written to a new 0600 file before anything is uploaded. With a proof (the key and certificate of one
already on the application) Graph's atomic addKey is used instead of read-modify-write.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..azure import writes_graph
from ..certificates import (
    CertificateInfo,
    GeneratedCertificate,
    addkey_proof,
    generate_self_signed,
    load_private_key_and_certificate,
)
from ..errors import InputError
from ..models import Credential, CredentialKind, CredentialOwner
from ..secret import Secret
from .credentials import owner_id
from .files import save_key_step
from .plan import Plan, RunContext, Step, StepOutput, Untouched
from .registry import ADD_CERTIFICATE as OPERATION
from .registry import Reads
from .targets import PrincipalTarget, describe_credential, resolve_principal
from .validation import (
    certificate_file,
    check_credential_name,
    check_reference,
    credential_end,
    key_and_certificate_file,
    new_file,
)


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


Request = AddCertificateRequest


@dataclass(frozen=True)
class _Valid:
    certificate: CertificateInfo | None  # None: generate one
    out: Path | None
    end: datetime | None
    proof_path: Path | None


@dataclass(frozen=True)
class CheckedAddCertificate:
    reads: Reads
    request: AddCertificateRequest
    target: PrincipalTarget
    app_id: str  # the application's object id
    certificate: CertificateInfo
    generated: GeneratedCertificate | None
    out: Path | None
    existing: tuple[Credential, ...]  # the certificates on the application now
    proof_key: tuple[Any, CertificateInfo] | None  # the private key and certificate that sign the proof


def validate(req: AddCertificateRequest, now: datetime) -> _Valid:
    check_reference(req.principal, "principal")
    check_credential_name(req.display_name)
    if bool(req.file) == bool(req.generate):
        raise InputError("give either a certificate file or generate a new certificate (with a new file for its key)",
                         field="file")
    proof = key_and_certificate_file(req.proof, "proof", now) if req.proof is not None else None
    if req.generate:
        if not req.out:
            raise InputError("a generated certificate needs a new file for its private key: it is written there "
                             "(mode 0600)", field="out")
        return _Valid(None, new_file(req.out, "out"), credential_end(req.years, req.end_date, now), proof)
    if req.out:
        raise InputError("a file for a new key is only for a generated certificate; with a certificate file nothing "
                         "secret is created", field="out")
    if req.years is not None or req.end_date is not None:
        raise InputError("a lifetime does not apply to a certificate file: the certificate's own validity is used",
                         field="years" if req.years is not None else "end_date")
    assert req.file is not None
    return _Valid(certificate_file(req.file, "file", now), None, None, proof)



async def check(req: AddCertificateRequest, reads: Reads) -> CheckedAddCertificate:
    valid = validate(req, reads.now)
    target = await resolve_principal(reads.az, req.principal)
    app_id = owner_id(target, CredentialOwner.APPLICATION, field="principal")
    generated: GeneratedCertificate | None = None
    cert = valid.certificate
    if cert is None:
        assert valid.end is not None
        generated = generate_self_signed(target.display_name, not_after=valid.end)
        cert = generated.info
    existing = tuple(c for c in target.credentials(CredentialOwner.APPLICATION) if c.kind is CredentialKind.CERTIFICATE)
    if any(c.thumbprint == cert.thumbprint for c in existing):
        raise InputError(f"certificate {cert.thumbprint} is already on the application of {target.display_name}",
                         field="file")
    proof_key = None
    if valid.proof_path is not None:
        key, signer = load_private_key_and_certificate(valid.proof_path)
        if all(c.thumbprint != signer.thumbprint for c in existing):
            raise InputError(f"certificate {signer.thumbprint} is not on the application; the proof must be signed "
                             "with one of its current certificates", field="proof")
        proof_key = (key, signer)
    return CheckedAddCertificate(reads, req, target, app_id, cert, generated, valid.out, existing, proof_key)


def plan(c: CheckedAddCertificate) -> Plan:
    az, req, target, app_id, cert, generated, existing, proof_key = (
        c.reads.az, c.request, c.target, c.app_id, c.certificate, c.generated, c.existing, c.proof_key)
    ctx = RunContext()
    if generated is not None:
        ctx.secrets["privateKeyPem"] = Secret(generated.pem.decode())
    new = writes_graph.key_credential(cert, key_id=str(uuid.uuid4()), display_name=req.display_name)
    ctx.values["certificate"] = {"thumbprint": cert.thumbprint, "keyId": new["keyId"], **cert.to_json(),
                                 "certificateFile": str(c.out) if c.out else req.file}

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
        assert c.out is not None
        steps.append(save_key_step(c.out, generated))
    how = "with addKey (proof signed by an existing certificate)" if proof_key else (
        f"keeping its {len(existing)} existing certificate(s)")
    validity = f"valid {cert.not_before.date().isoformat()} to {cert.not_after.date().isoformat()}"
    steps.append(Step("add-certificate", f"Add certificate {cert.thumbprint} ({cert.subject}, {validity}) to the "
                      f"application, {how}", add, there,
                      depends_on=("save-certificate",) if generated else (), lock=app_id))
    untouched = [Untouched(describe_credential(x), "adding a certificate keeps every existing one") for x in existing]
    warnings = []
    if not cert.self_signed:
        warnings.append(f"Issued by {cert.issuer}: Entra checks only the key, not the chain.")
    if cert.has_private_key:
        warnings.append("The file also holds a private key; only the public certificate is uploaded.")
    return Plan(OPERATION.name, f"Add a certificate to {target.display_name}",
                {**target.target(), "thumbprint": cert.thumbprint, "subject": cert.subject,
                 "notAfter": str(cert.to_json()["notAfter"])}, steps, warnings, untouched, ctx)


def certificate_result(plan: Plan) -> dict[str, Any]:
    return dict(plan.context.values.get("certificate", {}))
