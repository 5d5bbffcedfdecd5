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
