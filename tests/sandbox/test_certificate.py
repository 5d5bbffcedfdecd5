"""Sign-in with what Graph just created: a new secret, a new certificate (sync MSAL signs RS256 with
`x5t`, the aio credential PS256 with `x5t#S256`), a certificate added with addKey's proof; and the
refusals: unknown or expired certificate, bad signature, wrong audience, expired secret, disabled."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential
from azure.identity.aio import CertificateCredential as AioCertificateCredential
from cryptography.hazmat.primitives import serialization
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from acr_console.sandbox.directory import add_password

from .graph_support import (
    ARM_SCOPE,
    aio_secret_credential,
    der_b64,
    graph_client,
    pem_bundle,
    raw,
    self_signed,
    ssl_context,
    sync_secret_credential,
    unique,
)

KEY = {"type": "AsymmetricX509Cert", "usage": "Verify"}


async def new_principal(graph: Any, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    app = await raw(graph, "POST", "applications", {"displayName": unique(label)})
    sp = await raw(graph, "POST", "servicePrincipals", {"appId": app["appId"]})
    return app, sp


def cert_credential(conn: dict[str, Any], client_id: str, pem: bytes) -> CertificateCredential:
    return CertificateCredential(conn["tenant_id"], client_id, certificate_data=pem,
                                 authority=conn["authority_host"], disable_instance_discovery=True,
                                 connection_verify=conn["ca_bundle"])


def aio_cert_credential(conn: dict[str, Any], client_id: str, pem: bytes) -> AioCertificateCredential:
    return AioCertificateCredential(conn["tenant_id"], client_id, certificate_data=pem,
                                    authority=conn["authority_host"], disable_instance_discovery=True,
                                    connection_verify=conn["ca_bundle"])


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def token_endpoint(conn: dict[str, Any]) -> str:
    return f"{conn['authority_host']}/{conn['tenant_id']}/oauth2/v2.0/token"


def post_assertion(conn: dict[str, Any], client_id: str, assertion: str) -> httpx.Response:
    form = {"client_id": client_id, "grant_type": "client_credentials", "scope": ARM_SCOPE,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}
    with httpx.Client(verify=ssl_context(conn), trust_env=False) as http:
        return http.post(token_endpoint(conn), data=form)


def assertion(key: Any, cert: Any, client_id: str, aud: str, *, lifetime: int = 600,
              alg: str = "RS256") -> str:
    sha1 = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).digest()
    now = int(time.time())
    return jwt.encode({"aud": aud, "iss": client_id, "sub": client_id, "jti": str(uuid.uuid4()), "nbf": now,
                       "exp": now + lifetime}, key, algorithm=alg,
                      headers={"x5t": base64.urlsafe_b64encode(sha1).decode()})


async def test_graph_made_principal_signs_in_with_its_new_secret(connection: dict[str, Any]) -> None:
    async with graph_client(connection) as graph:
        app, sp = await new_principal(graph, "secret-login")
        cred = await raw(graph, "POST", f"applications/{app['id']}/addPassword",
                         {"passwordCredential": {"displayName": "login"}})
    token = sync_secret_credential(connection, app["appId"], cred["secretText"]).get_token(ARM_SCOPE).token
    claims = claims_of(token)
    assert claims["oid"] == sp["id"] and claims["appid"] == app["appId"]
    assert claims["tid"] == connection["tenant_id"]
    aio = aio_secret_credential(connection, app["appId"], cred["secretText"])
    try:
        assert claims_of((await aio.get_token(ARM_SCOPE)).token)["oid"] == sp["id"]
    finally:
        await aio.close()


async def test_graph_made_principal_signs_in_with_its_new_certificate(connection: dict[str, Any]) -> None:
    key, cert = self_signed("cert-login")
    async with graph_client(connection) as graph:
        app, sp = await new_principal(graph, "cert-login")
        await raw(graph, "PATCH", f"applications/{app['id']}",
                  {"keyCredentials": [{**KEY, "key": der_b64(cert), "displayName": "CN=cert-login"}]})
    pem = pem_bundle(key, cert)
    sync_token = cert_credential(connection, app["appId"], pem).get_token(ARM_SCOPE).token
    assert claims_of(sync_token)["oid"] == sp["id"]
    aio = aio_cert_credential(connection, app["appId"], pem)
    try:
        aio_token = (await aio.get_token("https://graph.microsoft.com/.default")).token
    finally:
        await aio.close()
    assert claims_of(aio_token)["oid"] == sp["id"]
    assert claims_of(aio_token)["aud"].rstrip("/") == "https://graph.microsoft.com"


async def test_certificate_on_the_service_principal_signs_in_too(connection: dict[str, Any]) -> None:
    key, cert = self_signed("sp-cert")
    async with graph_client(connection) as graph:
        app, sp = await new_principal(graph, "sp-cert")
        await raw(graph, "PATCH", f"servicePrincipals/{sp['id']}",
                  {"keyCredentials": [{**KEY, "key": der_b64(cert)}]})
    token = cert_credential(connection, app["appId"], pem_bundle(key, cert)).get_token(ARM_SCOPE).token
    assert claims_of(token)["oid"] == sp["id"]


async def test_add_key_with_proof_then_sign_in_with_the_new_certificate(connection: dict[str, Any]) -> None:
    old_key, old_cert = self_signed("rollover-old")
    new_key, new_cert = self_signed("rollover-new")
    other_key, _ = self_signed("stranger")
    async with graph_client(connection) as graph:
        app, sp = await new_principal(graph, "rollover")
        path = f"applications/{app['id']}"

        def proof(signer: Any, **over: Any) -> str:
            now = int(time.time())
            claims = {"aud": "00000002-0000-0000-c000-000000000000", "iss": app["id"], "nbf": now,
                      "exp": now + 600}
            sha1 = hashlib.sha1(old_cert.public_bytes(serialization.Encoding.DER)).digest()
            return jwt.encode({**claims, **over}, signer, algorithm="RS256",
                              headers={"x5t": base64.urlsafe_b64encode(sha1).decode().rstrip("=")})

        body = {"keyCredential": {**KEY, "key": der_b64(new_cert), "displayName": "new"},
                "passwordCredential": None}
        # No current certificate yet: addKey cannot be proven (use PATCH).
        with pytest.raises(ODataError) as info:
            await raw(graph, "POST", f"{path}/addKey", {**body, "proof": proof(old_key)})
        assert "PATCH" in str(info.value.error.message)
        await raw(graph, "PATCH", path,
                  {"keyCredentials": [{**KEY, "key": der_b64(old_cert), "displayName": "old"}]})
        for bad in (proof(other_key), proof(old_key, aud="https://graph.microsoft.com"),
                    proof(old_key, iss=app["appId"]), proof(old_key, exp=int(time.time()) + 3600)):
            with pytest.raises(ODataError) as info:
                await raw(graph, "POST", f"{path}/addKey", {**body, "proof": bad})
            assert info.value.response_status_code == 400 and "proof" in str(info.value.error.message)
        added = await raw(graph, "POST", f"{path}/addKey", {**body, "proof": proof(old_key)})
        assert added["displayName"] == "new" and added["key"] is None
        keys = (await raw(graph, "GET", path))["keyCredentials"]
        assert [k["displayName"] for k in keys] == ["old", "new"]
    new_login = cert_credential(connection, app["appId"], pem_bundle(new_key, new_cert))
    token = new_login.get_token(ARM_SCOPE).token
    assert claims_of(token)["oid"] == sp["id"]


async def test_unknown_certificate_bad_signature_and_wrong_audience(connection: dict[str, Any]) -> None:
    key, cert = self_signed("refusals")
    other_key, other_cert = self_signed("unregistered")
    async with graph_client(connection) as graph:
        app, _ = await new_principal(graph, "refusals")
        await raw(graph, "PATCH", f"applications/{app['id']}",
                  {"keyCredentials": [{**KEY, "key": der_b64(cert)}]})
    with pytest.raises(ClientAuthenticationError) as info:
        cert_credential(connection, app["appId"], pem_bundle(other_key, other_cert)).get_token(ARM_SCOPE)
    assert "AADSTS700027" in str(info.value)
    aud = token_endpoint(connection)
    for alg in ("RS256", "PS256"):
        r = post_assertion(connection, app["appId"], assertion(key, cert, app["appId"], aud, alg=alg))
        assert r.status_code == 200
    # The registered certificate's thumbprint, but signed with another key.
    forged = assertion(other_key, cert, app["appId"], aud)
    r = post_assertion(connection, app["appId"], forged)
    assert r.status_code == 401 and r.json()["error_codes"] == [700027]
    assert "signature" in r.json()["error_description"]
    elsewhere = "https://login.example.com/token"
    r = post_assertion(connection, app["appId"], assertion(key, cert, app["appId"], elsewhere))
    assert r.status_code == 401 and "audience" in r.json()["error_description"]
    r = post_assertion(connection, app["appId"], assertion(key, cert, app["appId"], aud, lifetime=-3600))
    assert r.status_code == 401 and "expired" in r.json()["error_description"]
    r = post_assertion(connection, app["appId"], assertion(key, cert, "someone-else", aud))
    assert r.status_code == 401 and "iss and sub" in r.json()["error_description"]


async def test_expired_certificate_credential_is_refused(connection: dict[str, Any]) -> None:
    key, cert = self_signed("expired-cert", days=30)
    past = datetime.now(UTC) - timedelta(minutes=1)
    async with graph_client(connection) as graph:
        app, _ = await new_principal(graph, "expired-cert")
        await raw(graph, "PATCH", f"applications/{app['id']}", {"keyCredentials": [
            {**KEY, "key": der_b64(cert), "endDateTime": past.isoformat()}]})
    with pytest.raises(ClientAuthenticationError) as info:
        cert_credential(connection, app["appId"], pem_bundle(key, cert)).get_token(ARM_SCOPE)
    assert "AADSTS700027" in str(info.value) and "expired" in str(info.value)


async def test_expired_secret_is_refused_with_aadsts7000222(connection: dict[str, Any],
                                                            sandbox_server: Any) -> None:
    async with graph_client(connection) as graph:
        app, _ = await new_principal(graph, "expired-secret")
    store = sandbox_server.sandbox.store
    now = datetime.now(UTC)
    _, secret = add_password(store, store.object(app["id"]), "application", start=now - timedelta(days=400),
                             end=now - timedelta(days=35))
    with pytest.raises(ClientAuthenticationError) as info:
        sync_secret_credential(connection, app["appId"], secret).get_token(ARM_SCOPE)
    assert "AADSTS7000222" in str(info.value) and secret not in str(info.value)


async def test_disabled_principal_cannot_sign_in(connection: dict[str, Any]) -> None:
    key, cert = self_signed("disabled")
    async with graph_client(connection) as graph:
        app, sp = await new_principal(graph, "disabled")
        cred = await raw(graph, "POST", f"applications/{app['id']}/addPassword", {"passwordCredential": {}})
        await raw(graph, "PATCH", f"applications/{app['id']}",
                  {"keyCredentials": [{**KEY, "key": der_b64(cert)}]})
        await raw(graph, "PATCH", f"servicePrincipals/{sp['id']}", {"accountEnabled": False})
    with pytest.raises(ClientAuthenticationError) as info:
        sync_secret_credential(connection, app["appId"], cred["secretText"]).get_token(ARM_SCOPE)
    assert "AADSTS7000112" in str(info.value)
    with pytest.raises(ClientAuthenticationError) as info:
        cert_credential(connection, app["appId"], pem_bundle(key, cert)).get_token(ARM_SCOPE)
    assert "AADSTS7000112" in str(info.value)
