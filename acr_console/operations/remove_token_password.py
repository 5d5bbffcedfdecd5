"""remove-token-password: remove password1 or password2 of a registry token; the other one keeps working.

The request is `PATCH tokens/{t} {"properties": {"credentials": {"passwords": [{"name": <kept>}]}}}`,
naming the passwords to keep, as `az acr token credential delete --password1` sends it (azure-cli
`acr/token.py`, `acr_token_credential_delete`). A password cannot be brought back, only generated anew
(`az acr token credential generate`; "The passwords can't be retrieved again, but new ones can be
generated", container-registry-token-based-repository-permissions.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..azure import writes_tokens
from ..azure.registry_access import read_token
from .plan import Plan, RunContext, Step, StepOutput, Untouched
from .registry import REMOVE_TOKEN_PASSWORD as OPERATION
from .registry import Reads
from .token_target import TokenTarget, check_password_name, check_token_name, resolve_token
from .validation import check_reference


@dataclass(frozen=True)
class RemoveTokenPasswordRequest:
    registry: str  # name, login server or resource id
    token: str  # the token's name
    password: str  # "password1" or "password2"


Request = RemoveTokenPasswordRequest


@dataclass(frozen=True)
class CheckedRemoveTokenPassword:
    reads: Reads
    target: TokenTarget
    password: str


def validate(req: RemoveTokenPasswordRequest, now: datetime) -> tuple[str, str]:
    """(token name, password name), once the request is well-formed."""
    check_reference(req.registry, "registry")
    return check_token_name(req.token), check_password_name(req.password)


async def check(req: RemoveTokenPasswordRequest, reads: Reads) -> CheckedRemoveTokenPassword:
    name, password = validate(req, reads.now)
    return CheckedRemoveTokenPassword(reads, await resolve_token(reads.az, req.registry, name), password)


def plan(c: CheckedRemoveTokenPassword) -> Plan:
    az, target, password = c.reads.az, c.target, c.password
    registry, token = target.registry, target.token
    title = f"Remove {password} of token {token.name} on {registry.name}"
    details = {**target.target(), "password": password}
    present = {p.name: p for p in token.passwords}
    others = [n for n in present if n != password]
    untouched = [Untouched(f"{n} of {token.name}", "only the named password is removed") for n in others]
    if password not in present:
        return Plan(OPERATION.name, title, details, [], [f"{token.name} has no {password}; nothing to do."],
                    untouched, RunContext())
    expiry = present[password].expiry

    async def gone(ctx: RunContext) -> StepOutput | None:
        now = await read_token(az, registry, token.name)
        if now is None or password not in {p.name for p in now.passwords}:
            return StepOutput({"tokenId": token.id, "password": password}, note="already removed")
        return None

    async def remove(ctx: RunContext) -> StepOutput:
        receipt = await writes_tokens.remove_token_password(az, registry, token.name, password)
        return StepOutput({"tokenId": token.id, "password": password}, receipt.correlation_ids,
                          note="already removed" if receipt.already else None, already=receipt.already)

    ends = f"expires {expiry.date().isoformat()}" if expiry else "never expires"
    step = Step(f"remove-{password}", f"Remove {password} ({ends}) of registry token {token.name} on "
                f"{registry.name}, keeping {', '.join(others) or 'no password'} (by hand: "
                f"{target.by_hand('credential delete')} --{password})", remove, gone, lock=token.id, idempotent=True)
    warnings = [f"Whoever signs in as {token.name} with {password} can no longer do so."]
    if not others:
        warnings.append(f"{token.name} will have no password left: nobody can sign in with it until one is "
                        f"generated ({target.by_hand('credential generate')}).")
    return Plan(OPERATION.name, title, details, [step], warnings, untouched, RunContext())
