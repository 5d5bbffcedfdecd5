"""remove-credential: remove one password or certificate of a principal, named by its key id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..azure.errors import AzureCallError
from ..models import Credential
from .credentials import remove_credential_step
from .plan import Plan, RunContext, Untouched
from .registry import REMOVE_CREDENTIAL as OPERATION
from .registry import Reads
from .targets import PrincipalTarget, resolve_principal
from .validation import check_key_id, check_reference


@dataclass(frozen=True)
class RemoveCredentialRequest:
    principal: str
    key_id: str


Request = RemoveCredentialRequest


@dataclass(frozen=True)
class CheckedRemoveCredential:
    reads: Reads
    key_id: str  # lower case
    target: PrincipalTarget
    credential: Credential


def validate(req: RemoveCredentialRequest, now: datetime) -> str:
    """The key id in lower case, once the request is well-formed."""
    check_reference(req.principal, "principal")
    return check_key_id(req.key_id)



async def check(req: RemoveCredentialRequest, reads: Reads) -> CheckedRemoveCredential:
    key_id = validate(req, reads.now)
    target = await resolve_principal(reads.az, req.principal)
    matches = [c for c in target.credentials() if c.key_id.lower() == key_id]
    if not matches:
        raise AzureCallError("CredentialNotFound",
                             f"{target.display_name} has no credential with key id {key_id} on its "
                             "application or service principal (see 'acr-console principal')", 404)
    return CheckedRemoveCredential(reads, key_id, target, matches[0])


def plan(c: CheckedRemoveCredential) -> Plan:
    target, key_id, credential = c.target, c.key_id, c.credential
    step = remove_credential_step(c.reads.az, target, credential)
    remaining = [x for x in target.credentials() if x.key_id.lower() != key_id]
    warnings = [] if remaining else [f"{target.display_name} will have no credential left to sign in with."]
    return Plan(OPERATION.name, f"Remove a credential of {target.display_name}",
                {**target.target(), "keyId": key_id, "kind": credential.kind.value, "on": credential.owner.value},
                [step], warnings,
                [Untouched(f"{len(remaining)} other credential(s)", "only the named key id is removed")]
                if remaining else [], RunContext())
