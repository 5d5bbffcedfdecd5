"""Entra's device authorization grant and refresh tokens: signing a person in.

`POST /{tenant}/oauth2/v2.0/devicecode` starts a sign-in; the token endpoint then answers
`grant_type=urn:ietf:params:oauth:grant-type:device_code` polls with `authorization_pending` until
someone approves the code (`acr-console sandbox approve`), and `grant_type=refresh_token` for any
resource the tenant knows, as Entra's multi-resource refresh tokens do. Source: "Microsoft identity
platform and the OAuth 2.0 device authorization grant flow"
(learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code) and what MSAL Python sends and reads
(msal/oauth2cli/oauth2.py `initiate_device_flow`, `obtain_token_by_device_flow`; msal/application.py
`acquire_token_by_device_flow`): form fields `client_id`, `scope`, `device_code` (and `code`, `claims`,
`client_info=1`); it reads `user_code`, `device_code`, `verification_uri`, `expires_in`, `interval`,
`message`, then `access_token`, `refresh_token`, `id_token` (whose `iss` must equal the discovery
document's `issuer`, msal/oauth2cli/oidc.py) and `client_info`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import device_flow
from .context import Sandbox
from .errors import entra_error

# What `verification_uri` names: Entra's page for typing a code. There is none in the sandbox (a
# code is approved with `acr-console sandbox approve`), so the real address is shown, as Entra does.
VERIFICATION_URI = "https://microsoft.com/devicelogin"
# Delegated permissions a person's Graph token carries: those the sandbox's Graph checks, as the Azure
# CLI's first-party app holds them on Microsoft Graph.
GRAPH_DELEGATED = ("Application.ReadWrite.All", "Directory.AccessAsUser.All", "Group.ReadWrite.All",
                   "GroupMember.ReadWrite.All", "User.Read")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def audience_of(scope: str) -> str | None:
    """`https://x/.default` asks for a token whose audience is `https://x/`."""
    for part in scope.split():
        if part.endswith("/.default"):
            return part.removesuffix(".default")
        if part.endswith(".default"):
            return part.removesuffix("/.default")
    return None


def client_refusal(sb: Sandbox, client_id: str) -> Response | None:
    """None for a client that may use a public-client grant; otherwise Entra's answer."""
    if not client_id:
        return entra_error("bad_request", why="The request body must contain the following parameter: 'client_id'.")
    if client_id in device_flow.PUBLIC_CLIENTS:
        return None
    app = sb.store.by_app_id(client_id, "application")
    if app is None:
        return entra_error("unknown_client", client=client_id, tenant=sb.store.tenant_id)
    if not app.get("isFallbackPublicClient"):
        return entra_error("public_client_required")
    return None


async def devicecode(sb: Sandbox, request: Request) -> Response:
    form = await request.form()
    client_id = str(form.get("client_id", "")).lower()
    refused = client_refusal(sb, client_id)
    if refused is not None:
        return refused
    scope = str(form.get("scope", ""))
    audience = audience_of(scope)
    if audience is None:
        return entra_error("invalid_scope", scope=scope)
    if not sb.issuable(audience):
        return entra_error("unknown_resource", resource=audience, tenant=sb.store.tenant_id)
    device_flow.ensure_admin_user(sb.store)  # someone to approve it
    lifetime = int(sb.settings.device_code_lifetime_s)
    interval = int(sb.settings.device_code_interval_s)
    device_code, user_code = device_flow.new_code(sb.store, client_id, scope, lifetime_s=lifetime,
                                                  interval_s=interval)
    return JSONResponse(
        {
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": VERIFICATION_URI,
            "expires_in": lifetime,
            "interval": interval,
            "message": f"To sign in, use a web browser to open the page {VERIFICATION_URI} and enter the code "
                       f"{user_code} to authenticate.",
        },
        headers=NO_STORE,
    )


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def user_tokens(sb: Sandbox, request: Request, user_id: str, client_id: str, scope: str) -> Response:
    """The token response for a person: access token for the scope's resource, a refresh token, an ID
    token for the client, and `client_info` (MSAL's home account id)."""
    user = sb.store.object(user_id, "user")
    if user is None or not user.get("accountEnabled", True):
        return entra_error("invalid_refresh_token")
    audience = audience_of(scope)
    if audience is None:
        return entra_error("invalid_scope", scope=scope)
    if not sb.issuable(audience):
        return entra_error("unknown_resource", resource=audience, tenant=sb.store.tenant_id)
    tid = sb.store.tenant_id
    upn = str(user["userPrincipalName"])
    graph = audience.rstrip("/").lower() in {a.rstrip("/").lower() for a in sb.graph_audiences}
    scp = " ".join(GRAPH_DELEGATED) if graph else "user_impersonation"
    claims: dict[str, Any] = {
        "aud": audience, "tid": tid, "oid": user_id, "sub": user_id, "upn": upn, "unique_name": upn,
        "preferred_username": upn, "name": user.get("displayName", upn), "scp": scp, "appid": client_id,
        "idtyp": "user", "amr": ["pwd"], "ver": "1.0",
    }
    access_token = sb.issuer.issue(claims)
    id_token = sb.issuer.issue({
        "iss": f"{sb.base_url}/{tid}/v2.0", "aud": client_id, "tid": tid, "oid": user_id, "sub": user_id,
        "preferred_username": upn, "name": user.get("displayName", upn), "ver": "2.0",
    })
    granted = " ".join(f"{audience}{s}" for s in scp.split()) + f" {audience}.default"
    request.state.principal = upn
    return JSONResponse(
        {
            "token_type": "Bearer", "scope": granted, "expires_in": 3599, "ext_expires_in": 3599,
            "access_token": access_token,
            "refresh_token": device_flow.issue_refresh_token(sb.store, user_id, client_id),
            "id_token": id_token,
            "client_info": _b64url(json.dumps({"uid": user_id, "utid": tid}).encode()),
        },
        headers=NO_STORE,
    )


async def device_code_grant(sb: Sandbox, request: Request, form: Any) -> Response:
    client_id = str(form.get("client_id", "")).lower()
    refused = client_refusal(sb, client_id)
    if refused is not None:
        return refused
    device_code = str(form.get("device_code", "") or form.get("code", ""))
    if not device_code:
        return entra_error("bad_request",
                           why="The request body must contain the following parameter: 'device_code'.")
    found = device_flow.poll(sb.store, device_code, client_id)
    if found.outcome == "approved":
        assert found.user_id is not None
        return user_tokens(sb, request, found.user_id, client_id, found.scope)
    if found.outcome == "redeemed":
        return entra_error("code_redeemed")
    if found.outcome == "slow_down":
        return entra_error("slow_down", interval=str(found.interval))
    return entra_error(found.outcome)


async def refresh_token_grant(sb: Sandbox, request: Request, form: Any) -> Response:
    client_id = str(form.get("client_id", "")).lower()
    refused = client_refusal(sb, client_id)
    if refused is not None:
        return refused
    token = str(form.get("refresh_token", ""))
    if not token:
        return entra_error("bad_request",
                           why="The request body must contain the following parameter: 'refresh_token'.")
    status, user_id = device_flow.redeem_refresh_token(sb.store, token, client_id)
    if status == "expired":
        return entra_error("expired_refresh_token")
    if user_id is None:
        return entra_error("invalid_refresh_token")
    return user_tokens(sb, request, user_id, client_id, str(form.get("scope", "")))
