"""Every write as a plan: build it (reads only), show it, execute it with a result per step, audit it.

No Textual here. Every write is one entry of `registry.OPERATIONS` (its one name, its module), and
a front end does, for any of them:

    op = operation("revoke")                                            # or the REVOKE entry
    request = RevokeRequest("ci-pusher", registry="contosoprod", disable=True)
    op.validate(request)                                                # nothing sent yet
    plan = await op.prepare(request, Reads(az))                         # check (reads only), then plan
    show(plan.title, plan.steps, plan.warnings, plan.untouched)          # then ask
    outcome = await run_plan(az, plan, on_progress=lambda step, result: ...)
    for step_id, result in outcome.results.items(): ...                 # done / already-done / failed / skipped

Input is checked before anything is sent (InputError, naming the request field: exit 2). `run_plan`
refuses in read-only mode before any request, never raises for a failed step, and writes the
audit record even when interrupted. New secrets are in `outcome.secrets` (typed `Secret`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each name lives, imported on first use (PEP 562): a read-only command that needs only
# `operations.validation` must not load every operation and the certificate code (0.2 s).
_EXPORTS = {
    "Actor": ".audit",
    "AddCertificateRequest": ".add_certificate",
    "AssignRequest": ".assign",
    "AuditLog": ".audit",
    "CertificateError": "..certificates",
    "CreatePrincipalRequest": ".create_principal",
    "DisableAnonymousPullRequest": ".disable_anonymous_pull",
    "DisableAdminUserRequest": ".disable_admin_user",
    "DisableTokenRequest": ".disable_token",
    "Execution": ".executor",
    "InputError": "..errors",
    "OPERATIONS": ".registry",
    "Operation": ".registry",
    "Outcome": ".plan",
    "Plan": ".plan",
    "ProgressCallback": ".executor",
    "Reads": ".registry",
    "RemoveCredentialRequest": ".remove_credential",
    "RemoveTokenPasswordRequest": ".remove_token_password",
    "ResetCredentialRequest": ".reset_credential",
    "RevokeRequest": ".revoke",
    "RunContext": ".plan",
    "Step": ".plan",
    "StepError": ".plan",
    "StepOutput": ".plan",
    "StepResult": ".plan",
    "StepStatus": ".plan",
    "UnassignRequest": ".unassign",
    "Untouched": ".plan",
    "certificate_result": ".add_certificate",
    "create_result": ".create_principal",
    "credential_result": ".reset_credential",
    "execute": ".executor",
    "operation": ".registry",
    "operation_for": ".registry",
    "prepare": ".registry",
    "run_plan": ".runner",
}

if TYPE_CHECKING:  # for type checkers and editors: the same names, eagerly
    from ..certificates import CertificateError
    from ..errors import InputError
    from .add_certificate import AddCertificateRequest, certificate_result
    from .assign import AssignRequest
    from .audit import Actor, AuditLog
    from .create_principal import CreatePrincipalRequest, create_result
    from .disable_admin_user import DisableAdminUserRequest
    from .disable_anonymous_pull import DisableAnonymousPullRequest
    from .disable_token import DisableTokenRequest
    from .executor import Execution, ProgressCallback, execute
    from .plan import Outcome, Plan, RunContext, Step, StepError, StepOutput, StepResult, StepStatus, Untouched
    from .registry import OPERATIONS, Operation, Reads, operation, operation_for, prepare
    from .remove_credential import RemoveCredentialRequest
    from .remove_token_password import RemoveTokenPasswordRequest
    from .reset_credential import ResetCredentialRequest, credential_result
    from .revoke import RevokeRequest
    from .runner import run_plan
    from .unassign import UnassignRequest


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "OPERATIONS",
    "Actor",
    "AddCertificateRequest",
    "AssignRequest",
    "AuditLog",
    "CertificateError",
    "CreatePrincipalRequest",
    "DisableAdminUserRequest",
    "DisableAnonymousPullRequest",
    "DisableTokenRequest",
    "Execution",
    "InputError",
    "Operation",
    "Outcome",
    "Plan",
    "ProgressCallback",
    "Reads",
    "RemoveCredentialRequest",
    "RemoveTokenPasswordRequest",
    "ResetCredentialRequest",
    "RevokeRequest",
    "RunContext",
    "Step",
    "StepError",
    "StepOutput",
    "StepResult",
    "StepStatus",
    "UnassignRequest",
    "Untouched",
    "certificate_result",
    "create_result",
    "credential_result",
    "execute",
    "operation",
    "operation_for",
    "prepare",
    "run_plan",
]
