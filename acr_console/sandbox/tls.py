"""The sandbox's own certificate authority and server certificate.

Written by hand on top of `cryptography` rather than with trustme: the CA must persist in the data
folder across restarts (clients keep trusting `ca.pem`), and the code is a dozen builder calls.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


# Registries answer at `<name>.azurecr.io` (their loginServer). A client we did not write, such as the
# Azure CLI, connects to that name itself (`https://<loginServer>/v2/`), reaching this listener through
# a proxy that routes the name here (tests/azcli/proxy.py); the certificate must then name it. Only
# clients given this sandbox's own CA trust it.
LOGIN_SERVER_WILDCARD = "*.azurecr.io"


def _names_login_servers(server_cert: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(server_cert.read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    return LOGIN_SERVER_WILDCARD in names.get_values_for_type(x509.DNSName)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ensure_tls(data_dir: Path) -> TlsFiles:
    """Create the CA and a server certificate for 127.0.0.1/localhost once; reuse them after."""
    tls_dir = data_dir / "tls"
    files = TlsFiles(tls_dir / "ca.pem", tls_dir / "server.pem", tls_dir / "server-key.pem")
    present = files.ca_cert.exists() and files.server_cert.exists() and files.server_key.exists()
    if present and _names_login_servers(files.server_cert):
        return files
    # Otherwise issue the set (anew, for a data folder from before the certificate named the
    # registries' login servers: the CA key was never kept, so the old CA cannot sign the new name).
    tls_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = dt.datetime.now(dt.UTC)
    ca_key = _new_key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acr-console sandbox CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # ECDSA for the key that signs every TLS handshake: the sandbox answers on one event loop, and
    # an RSA-2048 signature per new connection cost it 0.7 ms each (a client opening 20 connections
    # at once queued 14 ms of them); P-256 signs in a twelfth of that. Clients verify either alike.
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost"),
                 x509.DNSName(LOGIN_SERVER_WILDCARD)]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    # The CA key is not kept: the server certificate is issued once and the CA never signs again,
    # so nothing on disk can mint a certificate this machine's clients would trust.
    files.ca_cert.write_bytes(ca_cert.public_bytes(pem))
    files.server_cert.write_bytes(server_cert.public_bytes(pem))
    _write_private(
        files.server_key,
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    return files
