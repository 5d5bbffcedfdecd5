"""Starting a write from any screen: the form, the plan, the confirmation, the execution."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import Principal, PrincipalDetail, Registry
from ..presentation import printable

if TYPE_CHECKING:
    from ..operations import Plan
    from .app import AcrConsoleApp


def start_operation(app: AcrConsoleApp, kind: str, *, registry: Registry | None = None,
                    principal: Principal | None = None, detail: PrincipalDetail | None = None) -> None:
    from .screens.forms.add_certificate import AddCertificateForm
    from .screens.forms.assign_role import AssignRoleForm
    from .screens.forms.create_principal import CreatePrincipalForm
    from .screens.forms.reset_credential import ResetCredentialForm
    from .screens.forms.revoke import RevokeForm

    registries = app.backend.listing.registries if app.backend.listing is not None else []
    principal = principal or (detail.principal if detail is not None else None)
    if kind == "create":
        form = CreatePrincipalForm(registries, registry)
    elif kind == "assign":
        form = AssignRoleForm(registries, registry, principal)
    elif kind in ("reset", "certificate"):
        if detail is None:
            app.notify("Open the principal first (:sp NAME), then press S or C.", severity="warning")
            return
        form = ResetCredentialForm(detail) if kind == "reset" else AddCertificateForm(detail)
    elif kind == "revoke":
        if principal is None:
            app.notify("Open the principal first (:sp NAME), then press R.", severity="warning")
            return
        form = RevokeForm(principal, registries, registry)
    else:
        raise ValueError(f"unknown operation {kind}")
    app.push_screen(form, lambda plan: confirm_and_run(app, plan))


MAX_TYPED_NAME = 120


def typed_confirmation(plan: Plan) -> str | None:
    """The name to type before this plan may run: revoke, and a reset that removes secrets."""
    if plan.operation == "revoke" or (plan.operation == "reset-credential" and plan.target.get("replace")):
        name = str(plan.target.get("principal") or "")
        # A name nobody can type (control characters, shown as stand-ins; thousands of characters)
        # would make the plan impossible to confirm: the appId is asked for instead.
        if name and printable(name) == name and len(name) <= MAX_TYPED_NAME:
            return name
        return str(plan.target.get("appId"))
    return None


def confirm_and_run(app: AcrConsoleApp, plan: Plan | None) -> None:
    from .screens.confirm_plan import ConfirmPlanScreen
    from .screens.execution import ExecutionScreen

    if plan is None:
        return
    if plan.empty:
        app.notify(f"{plan.title}: nothing to do.", severity="information")
        return

    def confirmed(ok: bool | None) -> None:
        if ok:
            app.push_screen(ExecutionScreen(plan), lambda changed: _reload(app) if changed else None)

    app.push_screen(ConfirmPlanScreen(plan, typed_confirmation(plan)), confirmed)


def _reload(app: AcrConsoleApp) -> None:
    """What the screen below shows may have changed; read it again."""
    app.backend.principals.clear()
    reload = getattr(app.screen, "load", None)
    if callable(reload):
        reload()
