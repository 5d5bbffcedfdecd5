"""Every write as a plan: build it (reads only), show it, execute it with a result per step, audit it.

No Textual here. A front end does, for any operation:

    plan = await plan_revoke(az, RevokeRequest("ci-pusher", registry="contosoprod", disable=True))
    show(plan.title, plan.steps, plan.warnings, plan.untouched)          # then ask
    outcome = await run_plan(az, plan, on_progress=lambda step, result: ...)
    for step_id, result in outcome.results.items(): ...                 # done / already-done / failed / skipped

Input is checked before anything is sent (InputError and CertificateError: exit 2). `run_plan`
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
    "AddCertificateRequest": ".credentials",
    "AuditLog": ".audit",
    "CertificateError": "..certificates",
    "CreatePrincipalRequest": ".create",
    "Execution": ".executor",
    "InputError": ".validation",
    "Outcome": ".plan",
    "Plan": ".plan",
    "ProgressCallback": ".executor",
    "ResetCredentialRequest": ".credentials",
    "RevokeRequest": ".revoke",
    "RunContext": ".plan",
    "Step": ".plan",
    "StepError": ".plan",
    "StepOutput": ".plan",
    "StepResult": ".plan",
    "StepStatus": ".plan",
    "Untouched": ".plan",
    "certificate_result": ".credentials",
    "check_add_certificate": ".credentials",
    "check_create": ".create",
    "check_reset": ".credentials",
    "check_revoke": ".revoke",
    "create_result": ".create",
    "credential_result": ".credentials",
    "execute": ".executor",
    "plan_add_certificate": ".credentials",
    "plan_assign": ".assign",
    "plan_create_principal": ".create",
    "plan_remove_credential": ".credentials",
    "plan_reset_credential": ".credentials",
    "plan_revoke": ".revoke",
    "plan_unassign": ".assign",
    "run_plan": ".runner",
}

if TYPE_CHECKING:  # for type checkers and editors: the same names, eagerly
    from ..certificates import CertificateError
    from .assign import plan_assign, plan_unassign
    from .audit import Actor, AuditLog
    from .create import CreatePrincipalRequest, check_create, create_result, plan_create_principal
    from .credentials import (
        AddCertificateRequest,
        ResetCredentialRequest,
        certificate_result,
        check_add_certificate,
        check_reset,
        credential_result,
        plan_add_certificate,
        plan_remove_credential,
        plan_reset_credential,
    )
    from .executor import Execution, ProgressCallback, execute
    from .plan import Outcome, Plan, RunContext, Step, StepError, StepOutput, StepResult, StepStatus, Untouched
    from .revoke import RevokeRequest, check_revoke, plan_revoke
    from .runner import run_plan
    from .validation import InputError


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Actor",
    "AddCertificateRequest",
    "AuditLog",
    "CertificateError",
    "CreatePrincipalRequest",
    "Execution",
    "InputError",
    "Outcome",
    "Plan",
    "ProgressCallback",
    "ResetCredentialRequest",
    "RevokeRequest",
    "RunContext",
    "Step",
    "StepError",
    "StepOutput",
    "StepResult",
    "StepStatus",
    "Untouched",
    "certificate_result",
    "check_add_certificate",
    "check_create",
    "check_reset",
    "check_revoke",
    "create_result",
    "credential_result",
    "execute",
    "plan_add_certificate",
    "plan_assign",
    "plan_create_principal",
    "plan_remove_credential",
    "plan_reset_credential",
    "plan_revoke",
    "plan_unassign",
    "run_plan",
]
