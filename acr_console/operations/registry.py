"""Every write the console makes, each under one name.

An operation's name is its CLI command, the argument of the TUI's `operation` action and the last
part of its binding ids, its palette entry, `Plan.operation` and the audit record's `operation`.
Each lives in `operations/<name with underscores>.py`, and every one has the same shape:

    Request                               a frozen dataclass; the CLI's arguments and the TUI's form
                                          both build it (its field names are theirs too)
    validate(request, now)                what can be known wrong without asking Azure (forms call it
                                          before sending anything); raises InputError(field=...), and
                                          returns what `check` needs of it (a date, a parsed file)
    async check(request, reads) -> Checked…   validate, then read what the plan needs; refuses with
                                          InputError(field=...) or AzureCallError (not found)
    plan(checked) -> Plan                 the steps, made from the checked facts; reads and sends nothing

This module lists them and imports an operation's module only when it is used (PEP 562 in
`operations/__init__.py` keeps the same economy): a read-only command never loads write code.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

if TYPE_CHECKING:
    from ..azure.clients import AzureClients
    from .add_certificate import AddCertificateRequest, CheckedAddCertificate
    from .assign import AssignRequest, CheckedAssign
    from .create_principal import CheckedCreatePrincipal, CreatePrincipalRequest
    from .disable_admin_user import DisableAdminUserRequest
    from .disable_anonymous_pull import DisableAnonymousPullRequest
    from .disable_token import CheckedDisableToken, DisableTokenRequest
    from .handover import HandOver
    from .plan import Plan
    from .registry_switch import CheckedSwitch
    from .remove_credential import CheckedRemoveCredential, RemoveCredentialRequest
    from .remove_token_password import CheckedRemoveTokenPassword, RemoveTokenPasswordRequest
    from .reset_credential import CheckedResetCredential, ResetCredentialRequest
    from .revoke import CheckedRevoke, RevokeRequest
    from .unassign import CheckedUnassign, UnassignRequest


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Reads:
    """What a check may consult: Azure, to read only, and the time the plan is made at; and how the
    front end hands a new password over (handover.py), so a plan that makes one can order its
    delivery before anything destructive. None: only an --out file can take a new password."""

    az: AzureClients
    now: datetime = field(default_factory=_now)
    hand_over: HandOver | None = None


RequestT = TypeVar("RequestT")
CheckedT = TypeVar("CheckedT")


class OperationModule(Protocol[RequestT, CheckedT]):
    """What `operations/<name>.py` provides (see the module docstring)."""

    Request: type[RequestT]

    def validate(self, request: RequestT, now: datetime) -> object: ...

    async def check(self, request: RequestT, reads: Reads) -> CheckedT: ...

    def plan(self, checked: CheckedT) -> Plan: ...


@dataclass(frozen=True)
class Operation(Generic[RequestT, CheckedT]):
    name: str  # kebab-case, the one name (see the module docstring)
    title: str  # what a person calls it: the form's title, the palette's entry
    # Its plan may end with a new secret (a password, or a private key written to a file), which
    # a front end must hand over once.
    makes_secret: bool = False

    @property
    def module_name(self) -> str:
        return f"{__package__}.{self.name.replace('-', '_')}"

    def module(self) -> OperationModule[RequestT, CheckedT]:
        module: ModuleType = importlib.import_module(self.module_name)
        return cast("OperationModule[RequestT, CheckedT]", module)

    @property
    def request_type(self) -> type[RequestT]:
        return self.module().Request

    def validate(self, request: RequestT, now: datetime | None = None) -> None:
        self.module().validate(request, now or _now())

    async def check(self, request: RequestT, reads: Reads) -> CheckedT:
        return await self.module().check(request, reads)

    def plan(self, checked: CheckedT) -> Plan:
        return self.module().plan(checked)

    async def prepare(self, request: RequestT, reads: Reads) -> Plan:
        """check, then plan: what every front end does with a request."""
        plan = self.plan(await self.check(request, reads))
        plan.read_at = reads.now
        return plan


CREATE_PRINCIPAL: Operation[CreatePrincipalRequest, CheckedCreatePrincipal] = Operation(
    "create-principal", "New service principal", makes_secret=True)
RESET_CREDENTIAL: Operation[ResetCredentialRequest, CheckedResetCredential] = Operation(
    "reset-credential", "Reset credential", makes_secret=True)
ADD_CERTIFICATE: Operation[AddCertificateRequest, CheckedAddCertificate] = Operation(
    "add-certificate", "Add certificate", makes_secret=True)
REMOVE_CREDENTIAL: Operation[RemoveCredentialRequest, CheckedRemoveCredential] = Operation(
    "remove-credential", "Remove credential")
ASSIGN: Operation[AssignRequest, CheckedAssign] = Operation("assign", "Assign role")
UNASSIGN: Operation[UnassignRequest, CheckedUnassign] = Operation("unassign", "Remove role")
REVOKE: Operation[RevokeRequest, CheckedRevoke] = Operation("revoke", "Revoke principal")
# Issue 13: a registry's anonymous pull.
DISABLE_ANONYMOUS_PULL: Operation[DisableAnonymousPullRequest, CheckedSwitch] = Operation(
    "disable-anonymous-pull", "Turn off anonymous pull")

OPERATIONS: tuple[Operation[Any, Any], ...] = (CREATE_PRINCIPAL, RESET_CREDENTIAL, ADD_CERTIFICATE, REMOVE_CREDENTIAL,
                                               ASSIGN, UNASSIGN, REVOKE)
OPERATIONS += (DISABLE_ANONYMOUS_PULL,)  # issue 13

# registry tokens (issue 13 item 4)
DISABLE_TOKEN: Operation[DisableTokenRequest, CheckedDisableToken] = Operation(
    "disable-token", "Disable registry token")
REMOVE_TOKEN_PASSWORD: Operation[RemoveTokenPasswordRequest, CheckedRemoveTokenPassword] = Operation(
    "remove-token-password", "Remove token password")

OPERATIONS += (DISABLE_TOKEN, REMOVE_TOKEN_PASSWORD)  # issue 13 item 4

# Issue 16: the admin user's path ends with its own plan.
DISABLE_ADMIN_USER: Operation[DisableAdminUserRequest, CheckedSwitch] = Operation(
    "disable-admin-user", "Disable admin user")
OPERATIONS += (DISABLE_ADMIN_USER,)
_BY_NAME = {op.name: op for op in OPERATIONS}


def operation(name: str) -> Operation[Any, Any]:
    """The operation of this name; KeyError names the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no operation named {name!r}; known: {', '.join(_BY_NAME)}") from None


def operation_for(request: object) -> Operation[Any, Any]:
    """The operation whose Request this is."""
    # By the request's module, so only that operation's module is imported.
    op = _BY_NAME.get(type(request).__module__.rpartition(".")[2].replace("_", "-"))
    if op is not None and type(request) is op.request_type:
        return op
    raise TypeError(f"{type(request).__name__} is not the request of any operation")


async def prepare(request: object, reads: Reads) -> Plan:
    """The plan for any operation's request: `operation_for(request).prepare(request, reads)`."""
    return await operation_for(request).prepare(request, reads)
