"""Entra's answers to a client that is not (or no longer) in the tenant.

- No application with that appId: HTTP 400 `unauthorized_client`, "AADSTS700016: Application with
  identifier '{appId}' was not found in the directory '{tenant}'. This can happen if the application
  has not been installed by the administrator of the tenant or consented to by any user in the tenant.
  You may have sent your authentication request to the wrong tenant." (Azure/azure-powershell#9156).
- The application exists, its service principal does not (`az ad sp delete`): HTTP 401
  `invalid_client`, "AADSTS7000229: The client application {appId} is missing service principal in
  the tenant {tenantId}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119"
  (Azure/Commercial-Marketplace-SaaS-Accelerator#830; Azure/azure-sdk-for-net#46762 shows MSAL's
  `ErrorCode: invalid_client`).
"""

from __future__ import annotations

import ssl
import uuid
from typing import Any

import httpx

from .graph_support import ARM_SCOPE, graph_client, raw, unique
from .test_certificate import new_principal, token_endpoint


def sign_in(conn: dict[str, Any], client_id: str, secret: str) -> httpx.Response:
    with httpx.Client(verify=ssl.create_default_context(cafile=conn["ca_bundle"]), trust_env=False) as http:
        return http.post(token_endpoint(conn), data={"grant_type": "client_credentials", "client_id": client_id,
                                                     "client_secret": secret, "scope": ARM_SCOPE})


def test_an_unknown_application_is_aadsts700016(connection: dict[str, Any]) -> None:
    client = str(uuid.uuid4())
    r = sign_in(connection, client, "whatever")
    body = r.json()
    assert r.status_code == 400 and body["error"] == "unauthorized_client" and body["error_codes"] == [700016]
    assert body["error_description"].startswith(
        f"AADSTS700016: Application with identifier '{client}' was not found in the directory "
        f"'{connection['tenant_id']}'. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You may have sent your "
        "authentication request to the wrong tenant. Trace ID: ")


async def test_an_application_whose_service_principal_was_deleted_is_aadsts7000229(
        connection: dict[str, Any]) -> None:
    async with graph_client(connection) as graph:
        app, sp = await new_principal(graph, "sp-deleted")
        secret = (await raw(graph, "POST", f"applications/{app['id']}/addPassword",
                            {"passwordCredential": {"displayName": unique("login")}}))["secretText"]
        assert sign_in(connection, app["appId"], secret).status_code == 200
        await raw(graph, "DELETE", f"servicePrincipals/{sp['id']}")  # what `az ad sp delete` sends
        for attempt in (secret, "a wrong secret"):
            r = sign_in(connection, app["appId"], attempt)
            body = r.json()
            assert r.status_code == 401 and body["error"] == "invalid_client"
            assert body["error_codes"] == [7000229]
            assert body["error_description"].startswith(
                f"AADSTS7000229: The client application {app['appId']} is missing service principal in the "
                f"tenant {connection['tenant_id']}. See instructions here: "
                "https://go.microsoft.com/fwlink/?linkid=2225119 Trace ID: ")
        # Deleting the application too makes it unknown.
        await raw(graph, "DELETE", f"applications/{app['id']}")
        assert sign_in(connection, app["appId"], secret).json()["error_codes"] == [700016]
