"""Clients for the Graph, certificate and registry-plane tests, wired as docs/reference/sdk-wiring.md §3.4 says:
unmodified msgraph-sdk over its own httpx client, the sandbox's CA given explicitly."""

from __future__ import annotations

import base64
import json
import ssl
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ARM_SCOPE = "https://management.azure.com/.default"


def ssl_context(conn: dict[str, Any]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=conn["ca_bundle"])


def aio_secret_credential(conn: dict[str, Any], client_id: str | None = None,
                          secret: str | None = None) -> Any:
    from azure.identity.aio import ClientSecretCredential

    return ClientSecretCredential(
        conn["tenant_id"], client_id or conn["admin"]["client_id"], secret or conn["admin"]["client_secret"],
        authority=conn["authority_host"], disable_instance_discovery=True,
        connection_verify=conn["ca_bundle"],
    )


def sync_secret_credential(conn: dict[str, Any], client_id: str, secret: str) -> Any:
    from azure.identity import ClientSecretCredential

    return ClientSecretCredential(conn["tenant_id"], client_id, secret, authority=conn["authority_host"],
                                  disable_instance_discovery=True, connection_verify=conn["ca_bundle"])


@asynccontextmanager
async def graph_client(conn: dict[str, Any], credential: Any = None) -> AsyncIterator[Any]:
    """A GraphServiceClient on the sandbox, closed (with its credential) on exit."""
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.graph_request_adapter import options as graph_options
    from msgraph_core import GraphClientFactory

    cred = credential or aio_secret_credential(conn)
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ssl_context(conn)), options=graph_options)
    auth = AzureIdentityAuthenticationProvider(cred, scopes=[GRAPH_SCOPE], allowed_hosts=["127.0.0.1"])
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = f"{conn['microsoft_graph']}/v1.0"
    try:
        yield GraphServiceClient(request_adapter=adapter)
    finally:
        await http.aclose()
        await cred.close()


async def raw(graph: Any, method: str, path_or_url: str, body: Any = None,
              headers: dict[str, str] | None = None) -> Any:
    """The raw-JSON path (docs/reference/sdk-wiring.md §6.2): the adapter sends, ODataError maps errors, no models."""
    from kiota_abstractions.method import Method
    from kiota_abstractions.request_information import RequestInformation
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    adapter = graph.request_adapter
    ri = RequestInformation()
    ri.http_method = Method[method]
    absolute = path_or_url.startswith("https://")
    ri.url = path_or_url if absolute else f"{adapter.base_url}/{path_or_url.lstrip('/')}"
    ri.headers.try_add("Accept", "application/json")
    for key, value in (headers or {}).items():
        ri.headers.try_add(key, value)
    if body is not None:
        ri.headers.try_add("Content-Type", "application/json")
        ri.content = json.dumps(body).encode()
    data = await adapter.send_primitive_async(ri, "bytes", {"XXX": ODataError})
    return json.loads(data) if data else None


async def graph_token(conn: dict[str, Any]) -> str:
    cred = aio_secret_credential(conn)
    try:
        return (await cred.get_token(GRAPH_SCOPE)).token
    finally:
        await cred.close()


def unique(label: str) -> str:
    return f"test-{label}-{uuid.uuid4().hex[:8]}"


def self_signed(common_name: str, days: int = 30) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days)).sign(key, hashes.SHA256()))
    return key, cert


def der_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def pem_bundle(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM)
