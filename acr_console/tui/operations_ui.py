"""Starting a write from any screen: the form, the plan, the confirmation, the execution.

Each operation of the registry (operations/registry.py) has one row in OPERATION_UI: what it needs
from the screen it starts on, and its form. The palette and the screens' bindings start operations
by their one name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..models import Principal, PrincipalDetail, Registry
from ..operations import registry as ops
from ..presentation import printable

if TYPE_CHECKING:
    from rich.text import Text

    from ..azure.clients import AzureClients
    from ..operations import Outcome, Plan
    from .app import AcrConsoleApp
    from .screens.execution import AfterRun
    from .screens.forms.base import OperationForm


@dataclass(frozen=True)
class OperationContext:
    """What the screen an operation starts on shows."""

    registries: list[Registry]
    registry: Registry | None = None
    principal: Principal | None = None
    detail: PrincipalDetail | None = None  # the principal with its credentials (the principal screen)
    signed_in_object_id: str | None = None  # the identity the console acts as, when known


@dataclass(frozen=True)
class OperationUI:
    help: str  # the palette's line under the operation's title
    form: Callable[[OperationContext], OperationForm]
    needs: str = ""  # "principal" or "detail": refused with a hint where the screen shows none
    # Read and shown under the result once the plan has run (or had nothing to do).
    after_run: AfterRun | None = None


# Forms are imported when one opens: Textual's form widgets are not needed for the first frame.
def _create(c: OperationContext) -> OperationForm:
    from .screens.forms.create_principal import CreatePrincipalForm

    return CreatePrincipalForm(c.registries, c.registry)


def _reset(c: OperationContext) -> OperationForm:
    from .screens.forms.reset_credential import ResetCredentialForm

    assert c.detail is not None
    return ResetCredentialForm(c.detail)


def _certificate(c: OperationContext) -> OperationForm:
    from .screens.forms.add_certificate import AddCertificateForm

    assert c.detail is not None
    return AddCertificateForm(c.detail)


def _remove(c: OperationContext) -> OperationForm:
    from .screens.forms.remove_credential import RemoveCredentialForm

    assert c.detail is not None
    return RemoveCredentialForm(c.detail)


def _assign(c: OperationContext) -> OperationForm:
    from .screens.forms.assign_role import AssignRoleForm

    return AssignRoleForm(c.registries, c.registry, c.principal)


def _unassign(c: OperationContext) -> OperationForm:
    from .screens.forms.assign_role import UnassignRoleForm

    return UnassignRoleForm(c.registries, c.registry, c.principal)


def _revoke(c: OperationContext) -> OperationForm:
    from .screens.forms.revoke import RevokeForm

    assert c.principal is not None
    # Started from a registry's list (a registry, no principal detail): scoped to it (issue 16).
    return RevokeForm(c.principal, c.registries, c.registry, from_registry=c.registry is not None and c.detail is None,
                      signed_in_object_id=c.signed_in_object_id)


async def _revoke_remaining(az: AzureClients, outcome: Outcome) -> Text:
    from .revoke_remaining import remaining_text

    return await remaining_text(az, outcome)


def _disable_anonymous_pull(c: OperationContext) -> OperationForm:
    from .screens.forms.disable_anonymous_pull import DisableAnonymousPullForm

    return DisableAnonymousPullForm(c.registries, c.registry)


def _disable_token(c: OperationContext) -> OperationForm:
    from .screens.forms.registry_token import DisableTokenForm

    return DisableTokenForm(c.registries, c.registry, c.principal)


def _remove_token_password(c: OperationContext) -> OperationForm:
    from .screens.forms.registry_token import RemoveTokenPasswordForm

    return RemoveTokenPasswordForm(c.registries, c.registry, c.principal)


def _disable_admin_user(c: OperationContext) -> OperationForm:
    from .screens.forms.disable_admin_user import DisableAdminUserForm

    return DisableAdminUserForm(c.registries, c.registry)


OPERATION_UI: dict[str, OperationUI] = {
    ops.CREATE_PRINCIPAL.name: OperationUI("Create a principal with a registry role and a secret or certificate.",
                                           _create),
    ops.RESET_CREDENTIAL.name: OperationUI("Add or replace a principal's client secret.", _reset, "detail"),
    ops.ADD_CERTIFICATE.name: OperationUI("Add a certificate credential to a principal.", _certificate, "detail"),
    ops.REMOVE_CREDENTIAL.name: OperationUI("Remove one secret or certificate of a principal.", _remove, "detail"),
    ops.ASSIGN.name: OperationUI("Give a principal a role on a registry.", _assign),
    ops.UNASSIGN.name: OperationUI("Take a principal's role on a registry away.", _unassign),
    ops.REVOKE.name: OperationUI("Remove a principal's credentials and registry roles.", _revoke, "principal",
                                 after_run=_revoke_remaining),
    ops.DISABLE_ANONYMOUS_PULL.name: OperationUI("Make pulling from a registry need a credential (anonymous pull off).",
                                                 _disable_anonymous_pull),
    # registry tokens (issue 13 item 4)
    ops.DISABLE_TOKEN.name: OperationUI("Disable a registry token: its passwords stop signing in.", _disable_token),
    ops.REMOVE_TOKEN_PASSWORD.name: OperationUI("Remove password1 or password2 of a registry token.",
                                                _remove_token_password),
    # issue 16
    ops.DISABLE_ADMIN_USER.name: OperationUI("Disable a registry's admin user: its passwords stop signing in.",
                                             _disable_admin_user),
}


def start_operation(app: AcrConsoleApp, name: str, *, registry: Registry | None = None,
                    principal: Principal | None = None, detail: PrincipalDetail | None = None) -> None:
    op = ops.operation(name)
    ui = OPERATION_UI[op.name]
    registries = app.backend.listing.registries if app.backend.listing is not None else []
    principal = principal or (detail.principal if detail is not None else None)
    if (ui.needs == "detail" and detail is None) or (ui.needs == "principal" and principal is None):
        where = "open it (:sp NAME)" if ui.needs == "detail" else "highlight it or open it (:sp NAME)"
        app.notify(f"{op.title} needs a principal: {where}, then start it there.", severity="warning")
        return
    me = app.identity.object_id if app.identity is not None else None
    form = ui.form(OperationContext(registries, registry, principal, detail, me))
    app.push_screen(form, lambda plan: confirm_and_run(app, plan))


MAX_TYPED_NAME = 120


def typed_confirmation(plan: Plan) -> str | None:
    """The name to type before this plan may run (see Plan.typed_confirmation), or None."""
    if plan.typed_confirmation:
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
    after_run = OPERATION_UI[plan.operation].after_run
    if plan.empty and after_run is not None:
        # Nothing to write, so nothing to confirm; but what is left is still worth reading (a revoke
        # with nothing of its own to delete may leave access through a group).
        app.push_screen(ExecutionScreen(plan, after_run))
        return
    if plan.empty:
        app.notify(f"{plan.title}: nothing to do.", severity="information")
        return

    def confirmed(ok: bool | None) -> None:
        if ok:
            app.push_screen(ExecutionScreen(plan, after_run), lambda changed: _reload(app) if changed else None)

    app.push_screen(ConfirmPlanScreen(plan, typed_confirmation(plan)), confirmed)


def _reload(app: AcrConsoleApp) -> None:
    """A write changed Azure: every view on the screen stack may now be wrong, not only the one the
    write started from (revoke from a principal, Escape back to the registry: the principal must be
    gone without `r`). Each screen that reads (`load`) reads again at once, bypassing caches; the ones
    below the top update while hidden, so they are current when shown again. The one place every
    write's result arrives (ExecutionScreen's dismissal), so no screen needs a case of its own."""
    from .screens.list_screen import ListScreen

    app.backend.principals.clear()
    for screen in app.screen_stack:
        if isinstance(screen, ListScreen):
            screen.load(refresh=True)
            continue
        reload = getattr(screen, "load", None)
        if callable(reload):
            reload()
