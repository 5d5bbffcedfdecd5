"""The sandbox's certificate names the registries' login servers, so a client that connects to
`<name>.azurecr.io` itself (the Azure CLI: `https://<loginServer>/v2/`, azure-cli 2.91.0
`command_modules/acr/_docker_utils.py`) verifies it against the sandbox's CA like any registry."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from acr_console.sandbox.tls import LOGIN_SERVER_WILDCARD, ensure_tls

from .graph_support import self_signed


def handshake(conn: dict[str, Any], server_name: str) -> str:
    ctx = ssl.create_default_context(cafile=conn["ca_bundle"])
    with socket.create_connection(("127.0.0.1", conn["port"]), timeout=10) as raw_sock, \
            ctx.wrap_socket(raw_sock, server_hostname=server_name) as tls:
        tls.sendall(f"GET /v2/ HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n".encode())
        return tls.recv(65536).decode("latin-1")


def test_a_login_server_name_verifies_and_reaches_its_registry(connection: dict[str, Any]) -> None:
    answer = handshake(connection, "contosodev.azurecr.io")
    assert answer.startswith("HTTP/1.1 401")
    assert 'realm="https://contosodev.azurecr.io/oauth2/token",service="contosodev.azurecr.io"' in answer
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(connection, "contosodev.example.com")


def test_an_older_data_folder_gets_a_certificate_that_names_them(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path)
    _, old = self_signed("127.0.0.1")  # what a data folder made before held: no login-server name
    files.server_cert.write_bytes(old.public_bytes(serialization.Encoding.PEM))
    renewed = ensure_tls(tmp_path)
    cert = x509.load_pem_x509_certificate(renewed.server_cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert LOGIN_SERVER_WILDCARD in names.get_values_for_type(x509.DNSName)
    ca = x509.load_pem_x509_certificate(renewed.ca_cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    assert ensure_tls(tmp_path).server_cert.read_bytes() == renewed.server_cert.read_bytes()  # kept from now on
