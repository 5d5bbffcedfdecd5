"""Errors from Azure, reduced to what a person needs: a code, a plain explanation, a correlation id.

Every SDK exception is translated here so front ends never show a traceback and never show a
secret: messages are rebuilt from the error code and the service's own message only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_NOT_PERMITTED, ConsoleError

# Codes Azure uses for "you may not"; the console names the missing permission when it can.
_PERMISSION_CODES = {"AuthorizationFailed", "Authorization_RequestDenied", "Forbidden", "LinkedAuthorizationFailed"}
_NOT_FOUND_CODES = {"ResourceNotFound", "ResourceGroupNotFound", "SubscriptionNotFound", "Request_ResourceNotFound",
                    "RoleAssignmentNotFound", "RoleDefinitionDoesNotExist", "NotFound"}
_HINTS = {
    "AuthorizationFailed": "Ask an Owner or User Access Administrator for a role that includes this action.",
    "Authorization_RequestDenied": "The signed-in identity lacks the directory permission for this request.",
    "PrincipalNotFound": "The principal is new and not replicated yet, or it was deleted. Retry in a minute.",
    "RoleAssignmentExists": "That role is already assigned at this scope; nothing to do.",
    "TooManyRequests": "Azure is throttling requests; wait and retry.",
    "InvalidAuthenticationToken": "Sign in again.",
    "ExpiredAuthenticationToken": "Sign in again.",
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


def exit_code_of(code: str, status: int | None) -> int:
    """The command's exit code for an error with this code and HTTP status."""
    if code in _PERMISSION_CODES or status == 403:
        return EXIT_NOT_PERMITTED
    if code in _NOT_FOUND_CODES or status == 404:
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
            return (f"The signed-in identity lacks the Microsoft Graph permission {graph_permission(self.operation)} "
                    "(an application permission an administrator grants, with consent).")
        return _HINTS.get(self.code)

    @property
    def exit_code(self) -> int:
        return exit_code_of(self.code, self.status)

    def __str__(self) -> str:
        parts = [f"{self.code}: {self.message}"]
        if self.hint:
            parts.append(self.hint)
        if self.correlation_id:
            parts.append(f"(correlation id {self.correlation_id})")
        return " ".join(parts)


class SignInError(AzureCallError):
    """The credential could not get a token."""


def from_exception(exc: BaseException, operation: str | None = None) -> AzureCallError:
    """Translate any SDK or transport exception into an AzureCallError."""
    if isinstance(exc, AzureCallError):
        return exc
    # Imported here: this module sits on the start-up path and must not pull in the SDKs.
    name = type(exc).__name__
    if name == "ClientAuthenticationError" or name == "CredentialUnavailableError":
        text = str(getattr(exc, "message", None) or exc)
        match = re.search(r"AADSTS\d+", text)
        code = match.group(0) if match else ("CredentialUnavailable" if "Unavailable" in name else "SignInFailed")
        first = text.strip().splitlines()[0] if text.strip() else name
        return SignInError(code, first, getattr(getattr(exc, "response", None), "status_code", None), None, operation)
    if name == "ODataError":
        err = getattr(exc, "error", None)
        code = getattr(err, "code", None) or "GraphError"
        message = getattr(err, "message", None) or str(exc)
        inner = getattr(err, "inner_error", None)
        return AzureCallError(code, message, getattr(exc, "response_status_code", None),
                          getattr(inner, "request_id", None), operation)
    if hasattr(exc, "status_code") and hasattr(exc, "error"):  # azure.core HttpResponseError
        err = getattr(exc, "error", None)
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", {}) or {}
        code = getattr(err, "code", None) or getattr(exc, "reason", None) or "HttpError"
        message = getattr(err, "message", None) or getattr(exc, "message", None) or str(exc)
        return AzureCallError(code, str(message).splitlines()[0], getattr(exc, "status_code", None),
                          headers.get("x-ms-correlation-request-id") or headers.get("x-ms-request-id"), operation)
    # By family, not by leaf class: httpx alone has a dozen (RemoteProtocolError for a dropped
    # connection, ReadTimeout, ...), and a person should see one plain code for all of them.
    lineage = {cls.__name__ for cls in type(exc).__mro__}
    if lineage & {"ServiceRequestError", "ServiceResponseError", "TransportError", "ClientConnectionError",
                  "ServerTimeoutError", "TimeoutError"}:
        detail = scrub(str(exc)) or name
        return AzureCallError("ConnectionFailed", f"could not reach Azure: {detail}", None, None, operation)
    return AzureCallError(name, scrub(str(exc)) or name, None, None, operation)
