"""Errors from Azure, reduced to what a person needs: a code, a plain explanation, a correlation id.

Every SDK exception is translated here so front ends never show a traceback and never show a
secret: messages are rebuilt from the error code and the service's own message only.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_NOT_PERMITTED, ConsoleError

# Codes Azure uses for "you may not"; the console names the missing permission when it can.
_PERMISSION_CODES = {"AuthorizationFailed", "Authorization_RequestDenied", "Forbidden", "LinkedAuthorizationFailed"}
# Codes with which ARM and Graph say the object asked for is not there.
_NOT_FOUND_CODES = {"ResourceNotFound", "ResourceGroupNotFound", "SubscriptionNotFound", "Request_ResourceNotFound",
                    "RoleAssignmentNotFound", "RoleDefinitionDoesNotExist", "NotFound", "ItemNotFound"}
# 404s that name a wrong request rather than a missing object (a path Graph does not know, a
# resource type ARM does not know): a bug to report, never "already gone".
_WRONG_REQUEST_CODES = {"BadRequest", "Request_BadRequest", "InvalidResourceType", "InvalidResourceNamespace",
                        "NoRegisteredProviderFound"}
# Right after a principal is created, other directory replicas may not know it yet. ARM says
# PrincipalNotFound (Azure/azure-cli#22208: minutes, even with principalType set). Graph refuses the
# service principal of an application it cannot see yet with one of these messages, whatever the
# status: 403 Authorization_RequestDenied "When using this permission, the backing application of the
# service principal being created must in the local tenant" (Azure/azure-cli#28009,
# hashicorp/terraform-provider-azuread#992), or 400 "The appId '…' of the service principal does not
# reference a valid application object". These are the substrings on which the Azure CLI's
# `az ad sp create-for-rbac` retries, 36 times 5 s apart, keyed on the message alone
# (azure-cli 2.91.0 role/custom.py, create_service_principal_for_rbac).
_NOT_REPLICATED_MESSAGES = (" does not reference ", " does not exist ",
                            "service principal being created must in the local tenant")
_HINTS = {
    "AuthorizationFailed": "Ask an Owner or User Access Administrator for a role that includes this action.",
    "Authorization_RequestDenied": "The signed-in identity lacks the directory permission for this request.",
    "PrincipalNotFound": "The principal is new and not replicated yet, or it was deleted. Retry in a minute.",
    "RoleAssignmentExists": "That role is already assigned at this scope; nothing to do.",
    # troubleshoot-limits.md: 4,000 per subscription (its resource groups and resources included), fixed.
    "RoleAssignmentLimitExceeded": "The subscription holds Azure's fixed maximum of 4,000 role assignments: "
                                   "assign the role to a group instead, or remove assignments no longer needed.",
    "TooManyRequests": "Azure is throttling requests; wait and retry.",
    "InvalidAuthenticationToken": "Sign in again.",
    "ExpiredAuthenticationToken": "Sign in again.",
    # ARM's answer to a token for another resource (a sovereign cloud's token sent to the public
    # ARM, or the reverse): signing in again to the same place changes nothing.
    "InvalidAuthenticationTokenAudience": "The token was issued for another resource or cloud: check that --cloud "
                                          "matches the tenant's cloud, then sign in again.",
}
_SECRETISH = re.compile(r"(eyJ[\w-]{10,}\.[\w-]+\.[\w-]*)|((?:secret|password|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',]+",
                        re.IGNORECASE)


def scrub(text: str) -> str:
    """Remove anything shaped like a JWT or a `secret=...` pair from text that will be shown or logged."""
    return _SECRETISH.sub(lambda m: "<redacted>" if m.group(1) else f"{m.group(2)}<redacted>", text)


def graph_permission(operation: str | None) -> str:
    """The least Microsoft Graph application permission an operation ("METHOD path") needs; Graph's
    own refusal never says."""
    method, _, path = (operation or "").partition(" ")
    path = path.lower()
    if "group" in path or "memberof" in path:
        return "GroupMember.Read.All" if method in ("", "GET") else "GroupMember.ReadWrite.All"
    if method in ("", "GET") or path.endswith(("getbyids", "$batch")):
        return "Application.Read.All (or Directory.Read.All)"
    return "Application.ReadWrite.All"


def is_not_found(code: str, status: int | None) -> bool:
    """Whether an error with this code and HTTP status says the object is not there: what a read
    turns into None and a delete into "already done"."""
    if code in _NOT_FOUND_CODES:
        return True
    return status == 404 and code not in _WRONG_REQUEST_CODES


def exit_code_of(code: str, status: int | None) -> int:
    """The command's exit code for an error with this code and HTTP status."""
    if code in _PERMISSION_CODES or status == 403:
        return EXIT_NOT_PERMITTED
    # Any 404 exits "not found", a wrong request's too: the exit code tells a script what the
    # answer was, is_not_found what the console may conclude from it.
    if is_not_found(code, status) or status == 404:
        return EXIT_NOT_FOUND
    return EXIT_FAILED


@dataclass
class AzureCallError(ConsoleError):
    """A failed call to Azure, safe to print. (Not azure-core's `AzureError`, which the SDKs raise.)"""

    code: str
    message: str
    status: int | None = None
    correlation_id: str | None = None
    operation: str | None = None

    def __post_init__(self) -> None:
        self.message = scrub(self.message)
        super().__init__(self.message)

    @property
    def hint(self) -> str | None:
        if self.code == "Authorization_RequestDenied":
            if self.not_replicated:
                return ("The application was created moments ago and this directory replica does not know it yet; "
                        "run the same command again in a minute.")
            return (f"The signed-in identity lacks the Microsoft Graph permission {graph_permission(self.operation)} "
                    "(an application permission an administrator grants, with consent).")
        return _HINTS.get(self.code)

    @property
    def exit_code(self) -> int:  # type: ignore[override]  # ConsoleError's class attribute, computed here
        return exit_code_of(self.code, self.status)

    @property
    def not_found(self) -> bool:
        """The object asked for is not there (see is_not_found)."""
        return is_not_found(self.code, self.status)

    @property
    def not_replicated(self) -> bool:
        """A principal created moments ago that this directory replica or ARM does not know yet."""
        if self.code == "PrincipalNotFound":
            return True
        if self.not_found:
            return False  # the object the request addressed is absent: waiting does not bring it
        return any(m in self.message for m in _NOT_REPLICATED_MESSAGES)

    def __str__(self) -> str:
        parts = [f"{self.code}: {self.message}"]
        if self.hint:
            parts.append(self.hint)
        if self.correlation_id:
            parts.append(f"(correlation id {self.correlation_id})")
        return " ".join(parts)


class SignInError(AzureCallError):
    """The credential could not get a token."""


# The command azure-identity's AzureCliCredential names when it is handed a claims challenge it
# cannot answer: "... az login --claims-challenge {base64 claims} [--tenant T] [--scope S]"
# (azure/identity/_credentials/azure_cli.py, CLAIMS_UNSUPPORTED_ERROR, azure-identity 1.27; the
# flag needs Azure CLI 2.76.0 or later, as that message says). Base64 of the claims JSON, a tenant
# id and a scope URL: no secret in it.
_CLAIMS_COMMAND = re.compile(r"az login --claims-challenge [A-Za-z0-9+/=_-]+(?: --tenant \S+)?(?: --scope \S+)?")


@dataclass
class ClaimsChallengeError(SignInError):
    """A claims challenge the credential cannot answer; `command` is what the person runs instead."""

    command: str = ""

    @property
    def hint(self) -> str | None:
        return f"Run `{self.command}` (Azure CLI 2.76.0 or later), then run this command again."


def _loaded(module: str, name: str) -> type[BaseException] | None:
    """An exception class from a module that is already imported, else None.

    An exception of a class whose module was never imported cannot have been raised, so the test
    costs nothing and keeps the SDKs off the start-up path this module sits on."""
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def _types(*names: tuple[str, str]) -> tuple[type[BaseException], ...]:
    return tuple(t for t in (_loaded(m, n) for m, n in names) if t is not None)


def from_exception(exc: BaseException, operation: str | None = None) -> AzureCallError:
    """Translate any SDK or transport exception into an AzureCallError: the one place that knows
    the SDKs' exception types."""
    if isinstance(exc, AzureCallError):
        return exc
    name = type(exc).__name__
    # azure-identity's CredentialUnavailableError is a ClientAuthenticationError, which is an
    # HttpResponseError: the sign-in test comes first.
    if isinstance(exc, _types(("azure.core.exceptions", "ClientAuthenticationError"))):
        text = str(getattr(exc, "message", None) or exc)
        claims = _CLAIMS_COMMAND.search(text)
        if claims:
            return ClaimsChallengeError(
                "ClaimsChallenge", "Azure asks for a sign-in with additional claims (Conditional Access or "
                "continuous access evaluation), which the Azure CLI credential cannot request",
                None, None, operation, command=claims.group(0).strip())
        match = re.search(r"AADSTS\d+", text)
        unavailable = isinstance(exc, _types(("azure.identity", "CredentialUnavailableError")))
        code = match.group(0) if match else ("CredentialUnavailable" if unavailable else "SignInFailed")
        first = text.strip().splitlines()[0] if text.strip() else name
        return SignInError(code, first, getattr(getattr(exc, "response", None), "status_code", None), None, operation)
    if isinstance(exc, _types(("kiota_abstractions.api_error", "APIError"))):
        # msgraph's ODataError carries Graph's error object; kiota's plain APIError only a message.
        err = getattr(exc, "error", None)
        code = getattr(err, "code", None) or "GraphError"
        message = getattr(err, "message", None) or getattr(exc, "message", None) or str(exc)
        inner = getattr(err, "inner_error", None)
        return AzureCallError(code, message, getattr(exc, "response_status_code", None),
                              getattr(inner, "request_id", None), operation)
    if isinstance(exc, _types(("azure.core.exceptions", "HttpResponseError"))):
        err = getattr(exc, "error", None)
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", {}) or {}
        code = getattr(err, "code", None) or getattr(exc, "reason", None) or "HttpError"
        message = getattr(err, "message", None) or getattr(exc, "message", None) or str(exc)
        return AzureCallError(code, str(message).splitlines()[0], getattr(exc, "status_code", None),
                              headers.get("x-ms-correlation-request-id") or headers.get("x-ms-request-id"), operation)
    # By family, not by leaf class: httpx alone has a dozen (RemoteProtocolError for a dropped
    # connection, ReadTimeout, ...), and a person should see one plain code for all of them.
    unreachable: tuple[type[BaseException], ...] = (
        TimeoutError, *_types(("azure.core.exceptions", "ServiceRequestError"),
                              ("azure.core.exceptions", "ServiceResponseError"), ("httpx", "TransportError")))
    if isinstance(exc, unreachable):
        detail = scrub(str(exc)) or name
        return AzureCallError("ConnectionFailed", f"could not reach Azure: {detail}", None, None, operation)
    return AzureCallError(name, scrub(str(exc)) or name, None, None, operation)


@contextlib.contextmanager
def translated(operation: str | None = None) -> Iterator[None]:
    """Run a block whose SDK or transport exceptions leave it as AzureCallErrors naming
    `operation` (the SDK's own traceback is dropped: it can hold request details)."""
    try:
        yield
    except AzureCallError:
        raise
    except Exception as exc:
        raise from_exception(exc, operation) from None
