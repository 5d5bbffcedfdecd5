"""disable-token: set a registry token's status to disabled, so its passwords no longer sign in.

"The token must have the `Enabled` status" to authenticate (MicrosoftDocs/azure-management-docs
`container-registry-token-based-repository-permissions.md`, "Disable or delete token"); the request
is `PATCH tokens/{t} {"properties": {"status": "disabled"}}`, what `az acr token update --status
disabled` sends (azure-cli `acr/token.py`). The passwords and the scope map are kept: enabling the
token again restores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..azure import writes_tokens
from ..azure.registry_access import read_token
from .plan import Plan, RunContext, Step, StepOutput, Untouched
from .registry import DISABLE_TOKEN as OPERATION
from .registry import Reads
from .token_target import TokenTarget, check_token_name, resolve_token
from .validation import check_reference


@dataclass(frozen=True)
class DisableTokenRequest:
    registry: str  # name, login server or resource id
    token: str  # the token's name


Request = DisableTokenRequest


@dataclass(frozen=True)
class CheckedDisableToken:
    reads: Reads
    target: TokenTarget


def validate(req: DisableTokenRequest, now: datetime) -> str:
    """The token's name, once the request is well-formed."""
    check_reference(req.registry, "registry")
    return check_token_name(req.token)


async def check(req: DisableTokenRequest, reads: Reads) -> CheckedDisableToken:
    name = validate(req, reads.now)
    return CheckedDisableToken(reads, await resolve_token(reads.az, req.registry, name))


def plan(c: CheckedDisableToken) -> Plan:
    az, target = c.reads.az, c.target
    registry, token = target.registry, target.token
    title = f"Disable token {token.name} on {registry.name}"
    untouched = [
        Untouched(f"its password(s) {', '.join(p.name for p in token.passwords) or '(none)'}",
                  "kept: enabling the token again brings them back; remove one with remove-token-password",
                  target.by_hand("credential delete") + " --password1 --password2"),
        Untouched(f"scope map {token.scope_map_name}", "other tokens may use it"),
        Untouched("registry access tokens already issued to it",
                  "the token service's access tokens live until they expire (75 minutes in Azure/acr "
                  "docs/AAD-OAuth.md's example)"),
    ]
    if not token.enabled:
        return Plan(OPERATION.name, title, target.target(), [], [f"{token.name} is already disabled; nothing to do."],
                    untouched, RunContext())

    async def disabled(ctx: RunContext) -> StepOutput | None:
        now = await read_token(az, registry, token.name)
        if now is None or not now.enabled:
            return StepOutput({"tokenId": token.id, "status": "disabled"},
                              note="already disabled" if now is not None else "the token is gone")
        return None

    async def disable(ctx: RunContext) -> StepOutput:
        receipt = await writes_tokens.disable_token(az, registry, token.name)
        return StepOutput({"tokenId": token.id, "status": "disabled"}, receipt.correlation_ids,
                          note="already disabled" if receipt.already else None, already=receipt.already)

    step = Step("disable-token", f"Disable registry token {token.name} on {registry.name} (status enabled → "
                f"disabled; by hand: {target.by_hand('update')} --status disabled)", disable, disabled,
                lock=token.id, idempotent=True)
    warnings = [f"Whoever signs in as {token.name} (scope map {token.scope_map_name}) loses that access."]
    return Plan(OPERATION.name, title, target.target(), [step], warnings, untouched, RunContext())
