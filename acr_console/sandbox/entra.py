"""Microsoft Entra ID: OIDC discovery, JWKS and the v2.0 token endpoint (client credentials here; the
device authorization grant and refresh tokens in entra_device.py)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import entra_device
from .context import Sandbox
from .errors import entra_error

# RFC 8628 §3.4, as Entra takes it (v2-oauth2-device-code, "Authenticating the user").
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _parse_time(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def routes(sb: Sandbox) -> list[Route]:
    def tenant_ok(tenant: str) -> bool:
        return tenant.lower() in {sb.store.tenant_id, "organizations"}

    async def discovery(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        if not tenant_ok(tenant):
            return entra_error("tenant_not_found", tenant=tenant)
        tid = sb.store.tenant_id
        base = f"{sb.base_url}/{tid}"
        return JSONResponse(
            {
                "issuer": f"{sb.base_url}/{tid}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                          "client_secret_basic"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "sandbox",
            }
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(sb.issuer.jwks())

    async def token(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        if not tenant_ok(tenant):
            return entra_error("tenant_not_found", tenant=tenant)
        form = await request.form()
        grant = str(form.get("grant_type", ""))
        if grant == DEVICE_CODE_GRANT:
            return await entra_device.device_code_grant(sb, request, form)
        if grant == "refresh_token":
            return await entra_device.refresh_token_grant(sb, request, form)
        if grant != "client_credentials":
            return entra_error("unsupported_grant", grant=grant)
        client_id = str(form.get("client_id", "")).lower()
        scope = str(form.get("scope", ""))
        audience = entra_device.audience_of(scope)
        if audience is None:
            return entra_error("invalid_scope", scope=scope)
        if not sb.issuable(audience):
            return entra_error("unknown_resource", resource=audience, tenant=sb.store.tenant_id)
        app = sb.store.by_app_id(client_id, "application") if client_id else None
        sp = sb.store.by_app_id(client_id, "servicePrincipal") if client_id else None
        # Entra tells the two apart: no application at all is AADSTS700016 (400 unauthorized_client);
        # an application whose service principal is gone (`az ad sp delete`) is AADSTS7000229
        # (401 invalid_client). tests/sandbox/test_entra_errors.py cites the sources.
        if app is None:
            return entra_error("unknown_client", client=client_id, tenant=sb.store.tenant_id)
        if sp is None:
            return entra_error("missing_service_principal", client=client_id, tenant=sb.store.tenant_id)
        failure = authenticate_client(sb, form, app, sp, f"{sb.base_url}/{tenant}/oauth2/v2.0/token")
        if failure is not None:
            return failure
        if not sp.get("accountEnabled", True):
            return entra_error("disabled", client=client_id)
        claims: dict[str, Any] = {
            "aud": audience,
            "tid": sb.store.tenant_id,
            "oid": sp["id"],
            "sub": sp["id"],
            "appid": client_id,
            "idtyp": "app",
            "ver": "1.0",
        }
        roles = [r["permission"] for r in sb.store.rows(
            "SELECT permission FROM directory_grants WHERE principal_id = ?", (sp["id"],))]
        if roles:
            claims["roles"] = roles
        access_token = sb.issuer.issue(claims)
        request.state.principal = client_id
        return JSONResponse(
            {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access_token},
            headers={"Cache-Control": "no-store"},
        )

    async def devicecode(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        if not tenant_ok(tenant):
            return entra_error("tenant_not_found", tenant=tenant)
        return await entra_device.devicecode(sb, request)

    return [
        Route("/{tenant}/v2.0/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/devicecode", devicecode, methods=["POST"]),
        Route("/{tenant}/discovery/v2.0/keys", jwks, methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
    ]


def authenticate_client(
    sb: Sandbox, form: Any, app: dict[str, Any], sp: dict[str, Any], token_endpoint: str
) -> Response | None:
    """Check a client secret (or, once supported, a client assertion). None means authenticated."""
    client_id = app["appId"]
    secret = form.get("client_secret")
    assertion = form.get("client_assertion")
    if assertion is not None:
        from .assertions import verify_client_assertion

        return verify_client_assertion(sb, str(assertion), app, token_endpoint)
    if not secret:
        return entra_error("bad_request", why="The request body must contain client_secret or client_assertion.")
    match = sb.store.match_password([app["id"], sp["id"]], str(secret))
    if match is None:
        return entra_error("invalid_secret", client=client_id)
    owner_id, key_id = match
    owner = app if owner_id == app["id"] else sp
    cred = next((c for c in owner.get("passwordCredentials", []) if c.get("keyId") == key_id), None)
    end = _parse_time(cred.get("endDateTime")) if cred else None
    if cred is None or (end is not None and end <= time.time()):
        return entra_error("expired_secret", client=client_id)
    return None
