"""Certificate keys in every encoding Graph takes, and `customKeyIdentifier` as Graph returns it.

Sources:
- azure-cli 2.91.0 `command_modules/role/custom.py`: `az ad sp credential reset --create-cert` PATCHes
  the service principal with `{"keyCredentials": [{"@odata.type": "#microsoft.graph.keyCredential",
  "displayName": null, "endDateTime": …, "key": <PEM body, a line break every 64 characters>, "keyId",
  "startDateTime", "type": "AsymmetricX509Cert", "usage": "Verify"}]}` and no customKeyIdentifier,
  "automatically computed by Graph service as certificate thumbprint" (its comment, Azure/azure-cli#20561).
  The documented scenario (MicrosoftDocs/azure-management-docs `container-registry-auth-service-principal.md`,
  "Use with certificate") works on Azure, so Graph takes that form;
- keyCredential resource (learn.microsoft.com/graph/api/resources/keycredential): `key` is Binary,
  customKeyIdentifier "defaults to the thumbprint of the certificate";
  `concepts/applications-how-to-add-certificate.md` shows it as `"BB5D1064437D8720A5C53078185E6A361A78B10A"`;
- OData JSON format 4.01 §7.1: Edm.Binary is base64url (RFC 4648 §5), which Graph also reads.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from .graph_support import ARM_SCOPE, der_b64, graph_client, pem_bundle, raw, unique
from .test_certificate import cert_credential, claims_of, new_principal


def cli_login_certificate() -> tuple[rsa.RSAPrivateKey, x509.Certificate, datetime, datetime]:
    """A certificate as `_create_self_signed_cert` makes it (CN=CLI-Login, serial 1000, one year, a
    second of slack either side), and the credential dates az sends with it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CLI-Login")])
    start = datetime.now(UTC).replace(microsecond=0)
    end = start + timedelta(days=365)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1000).not_valid_before(start - timedelta(seconds=1))
            .not_valid_after(end + timedelta(seconds=1)).sign(key, hashes.SHA256()))
    return key, cert, start, end


def pem_body(cert: x509.Certificate) -> str:
    """What az puts in `key`: the PEM with its header and footer stripped (`_get_public`)."""
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return re.sub(r"-+[A-z\s]+-+", "", pem).strip()


def thumbprint(cert: x509.Certificate) -> str:
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


async def bad_request(call: Any) -> str:
    try:
        await call
    except ODataError as err:
        assert err.response_status_code == 400 and err.error is not None
        assert err.error.code == "Request_BadRequest"
        return str(err.error.message)
    raise AssertionError("Graph took it")


async def test_the_key_az_sends_with_line_breaks_is_taken_and_signs_in(connection: dict[str, Any]) -> None:
    key, cert, start, end = cli_login_certificate()
    body = pem_body(cert)
    assert "\n" in body  # the form under test
    async with graph_client(connection) as graph:
        app, sp = await new_principal(graph, "az-create-cert")
        await raw(graph, "PATCH", f"servicePrincipals/{sp['id']}", {"keyCredentials": [{
            "@odata.type": "#microsoft.graph.keyCredential", "displayName": None,
            "endDateTime": end.strftime("%Y-%m-%dT%H:%M:%SZ"), "key": body,
            "keyId": "2f0c1f6e-6a0e-4b5e-9d2a-1c7f0e3d5b11",
            "startDateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "type": "AsymmetricX509Cert",
            "usage": "Verify"}]})
        (listed,) = (await raw(graph, "GET", f"servicePrincipals/{sp['id']}"))["keyCredentials"]
        (selected,) = (await raw(graph, "GET", f"servicePrincipals/{sp['id']}?$select=keyCredentials"))[
            "keyCredentials"]
    assert listed["keyId"] == "2f0c1f6e-6a0e-4b5e-9d2a-1c7f0e3d5b11"
    assert listed["customKeyIdentifier"] == thumbprint(cert)  # 40 upper-case hex characters
    assert listed["displayName"] == "CN=CLI-Login" and listed["key"] is None
    assert listed["startDateTime"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert selected["key"] == der_b64(cert)  # stored as the DER, returned as plain base64
    # `az login --service-principal --certificate`: MSAL signs RS256 with x5t (SHA-1).
    token = cert_credential(connection, app["appId"], pem_bundle(key, cert)).get_token(ARM_SCOPE).token
    assert claims_of(token)["oid"] == sp["id"]


async def test_base64url_with_or_without_padding_is_taken(connection: dict[str, Any]) -> None:
    forms = []
    for _ in range(2):
        _, cert, _, _ = cli_login_certificate()
        forms.append((cert, base64.urlsafe_b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()))
    (first, padded), (second, unpadded) = forms[0], (forms[1][0], forms[1][1].rstrip("="))
    async with graph_client(connection) as graph:
        app = await raw(graph, "POST", "applications", {"displayName": unique("b64url"), "keyCredentials": [
            {"type": "AsymmetricX509Cert", "usage": "Verify", "key": padded},
            {"type": "AsymmetricX509Cert", "usage": "Verify", "key": unpadded}]})
        listed = (await raw(graph, "GET", f"applications/{app['id']}"))["keyCredentials"]
    assert [k["customKeyIdentifier"] for k in listed] == [thumbprint(first), thumbprint(second)]


async def test_what_is_not_a_der_certificate_is_refused(connection: dict[str, Any]) -> None:
    _, cert, _, _ = cli_login_certificate()
    der = cert.public_bytes(serialization.Encoding.DER)
    async with graph_client(connection) as graph:
        app = await raw(graph, "POST", "applications", {"displayName": unique("bad-keys")})
        for bad, why in ((base64.b64encode(b"definitely not a certificate").decode(), "not an X.509 certificate"),
                         (base64.b64encode(der + b"\x00trailing").decode(), "not an X.509 certificate"),
                         ("@@not base64@@", "not valid base64"),
                         ("   \n ", "empty"),
                         ("ab-_cd+/", "mixes the base64 and base64url alphabets")):
            message = await bad_request(raw(graph, "PATCH", f"applications/{app['id']}", {"keyCredentials": [
                {"type": "AsymmetricX509Cert", "usage": "Verify", "key": bad}]}))
            assert "keyCredentials[0].key" in message and why in message, (bad[:12], message)


async def test_a_custom_key_identifier_the_client_sends_is_kept(connection: dict[str, Any]) -> None:
    """Only its default is the thumbprint; a value in the payload is the client's (keyCredential page)."""
    _, cert, _, _ = cli_login_certificate()
    mine = base64.b64encode(b"my label").decode()
    async with graph_client(connection) as graph:
        app = await raw(graph, "POST", "applications", {"displayName": unique("cki"), "keyCredentials": [
            {"type": "AsymmetricX509Cert", "usage": "Verify", "key": der_b64(cert), "customKeyIdentifier": mine}]})
        (listed,) = (await raw(graph, "GET", f"applications/{app['id']}"))["keyCredentials"]
    assert listed["customKeyIdentifier"] == mine
