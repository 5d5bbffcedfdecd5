"""Error responses in the shapes each Azure surface uses, so SDKs map them to their own exceptions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from starlette.responses import JSONResponse


class ApiError(Exception):
    """Raised by a route; the app turns it into the right shape for the plane it came from."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def arm_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status,
        headers={"x-ms-correlation-request-id": str(uuid.uuid4()), **(headers or {})},
    )


def graph_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    request_id = str(uuid.uuid4())
    return JSONResponse(
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": request_id,
                    "client-request-id": request_id,
                },
            }
        },
        status_code=status,
        headers={"request-id": request_id, **(headers or {})},
    )


# Entra's AADSTS codes for the failures the sandbox reproduces.
AADSTS = {
    # No application with this appId in the tenant (Azure/azure-powershell#9156 and many CI logs).
    "unknown_client": ("unauthorized_client", 400, "AADSTS700016",
                       "Application with identifier '{client}' was not found in the directory '{tenant}'. "
                       "This can happen if the application has not been installed by the administrator of "
                       "the tenant or consented to by any user in the tenant. You may have sent your "
                       "authentication request to the wrong tenant."),
    # The application exists but its service principal does not (deleted, or never created):
    # Azure/Commercial-Marketplace-SaaS-Accelerator#830, Azure/azure-sdk-for-net#46762.
    "missing_service_principal": ("invalid_client", 401, "AADSTS7000229",
                                  "The client application {client} is missing service principal in the "
                                  "tenant {tenant}. See instructions here: "
                                  "https://go.microsoft.com/fwlink/?linkid=2225119"),
    "invalid_secret": ("invalid_client", 401, "AADSTS7000215",
                       "Invalid client secret provided. Ensure the secret being sent in the request is the "
                       "client secret value, not the client secret ID, for a secret added to app '{client}'."),
    "expired_secret": ("invalid_client", 401, "AADSTS7000222",
                       "The provided client secret keys for app '{client}' are expired."),
    "disabled": ("unauthorized_client", 400, "AADSTS7000112", "Application '{client}' is disabled."),
    "unknown_certificate": ("invalid_client", 401, "AADSTS700027",
                            "The certificate with identifier used to sign the client assertion is not "
                            "registered on application '{client}'."),
    "invalid_assertion": ("invalid_client", 401, "AADSTS700027", "Client assertion failed validation: {why}"),
    "bad_request": ("invalid_request", 400, "AADSTS900144", "{why}"),
    "unsupported_grant": ("unsupported_grant_type", 400, "AADSTS70003",
                          "The app requested an unsupported grant type '{grant}'."),
    "invalid_scope": ("invalid_scope", 400, "AADSTS1002012", "The provided value for scope {scope} is not valid."),
    # A scope naming a resource the tenant has no service principal for: "AADSTS500011: The resource
    # principal named … was not found in the tenant named …" (Entra's error-code reference,
    # learn.microsoft.com/entra/identity-platform/reference-error-codes, InvalidResourceServicePrincipalNotFound).
    "unknown_resource": ("invalid_resource", 400, "AADSTS500011",
                         "The resource principal named {resource} was not found in the tenant named {tenant}. "
                         "This can happen if the application has not been installed by the administrator of "
                         "the tenant or consented to by any user in the tenant. You might have sent your "
                         "authentication request to the wrong tenant."),
    "tenant_not_found": ("invalid_request", 400, "AADSTS90002", "Tenant '{tenant}' not found."),
    # The device authorization grant (learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code,
    # "Expected errors"); the AADSTS numbers are those of Entra's error-code reference
    # (learn.microsoft.com/entra/identity-platform/reference-error-codes) and of answers captured from
    # login.microsoftonline.com (AADSTS70016 pending, AADSTS70020 expired, quoted in msal-node's test
    # fixtures and on Microsoft Q&A 981553).
    "authorization_pending": ("authorization_pending", 400, "AADSTS70016",
                              "OAuth 2.0 device flow error. Authorization is pending. Continue polling."),
    # Not in Microsoft's table: RFC 8628 §3.5 defines it, and MSAL handles it (adds 5 s to its interval).
    "slow_down": ("slow_down", 400, "AADSTS70016",
                  "OAuth 2.0 device flow error. The client is polling too often: wait {interval} seconds "
                  "between requests."),
    "expired_token": ("expired_token", 400, "AADSTS70020",
                      "The provided value for the input parameter 'device_code' is not valid. This device code "
                      "has expired."),
    # Entra's reference has no code of its own for a declined device code; UserDeclinedConsent is the
    # one it lists for a user who refuses.
    "authorization_declined": ("authorization_declined", 400, "AADSTS65004",
                               "User declined to consent to access the app."),
    "bad_verification_code": ("bad_verification_code", 400, "AADSTS70018",
                              "The provided value for the input parameter 'device_code' is not valid."),
    "code_redeemed": ("invalid_grant", 400, "AADSTS54005",
                      "OAuth2 Authorization code was already redeemed, please retry with a new valid code or "
                      "use an existing refresh token."),
    # A confidential client (an app registration not marked as a public client) using a public-client
    # flow: learn.microsoft.com/entra/identity-platform/reference-error-codes, AADSTS7000218.
    "public_client_required": ("invalid_client", 401, "AADSTS7000218",
                               "The request body must contain the following parameter: 'client_assertion' or "
                               "'client_secret'."),
    "invalid_refresh_token": ("invalid_grant", 400, "AADSTS9002313",
                              "Invalid request. Request is malformed or invalid."),
    "expired_refresh_token": ("invalid_grant", 400, "AADSTS700082",
                              "The refresh token has expired due to inactivity."),
}


def entra_error(kind: str, **fields: str) -> JSONResponse:
    error, status, code, template = AADSTS[kind]
    trace = str(uuid.uuid4())
    corr = str(uuid.uuid4())
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    description = f"{code}: {template.format(**fields)} Trace ID: {trace} Correlation ID: {corr} Timestamp: {now}"
    return JSONResponse(
        {
            "error": error,
            "error_description": description,
            "error_codes": [int(code.removeprefix("AADSTS"))],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": corr,
        },
        status_code=status,
    )
