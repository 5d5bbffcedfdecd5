"""Certificate files as users hand them over, good and bad: every kind the tests feed the console,
built here once, from one key pair.

`tests/test_certificates.py` reads them with the loader itself; `tests/cli` and `tests/reliability`
hand them to the commands (and `--proof`) and expect the refusal, or the plan for a good one. The
session fixture `certificate_files` (tests/conftest.py) writes them once per test process.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

# The refused kinds, each with words its refusal says (acr_console/certificates.py).
REFUSED: dict[str, str] = {
    "garbage": "not a certificate",
    "empty": "the file is empty",
    "10 MB": "at most 1 MiB",
    "PEM key only": "private key but no certificate",
    "encrypted key": "encrypted",
    "expired": "expired on",
    "not yet valid": "not valid until",
    "PKCS#12 (.pfx)": "openssl pkcs12",
    "PKCS#12 bytes in .pem": "openssl pkcs12",
    "EC key": "RSA certificates only",
    "malformed PEM": "malformed certificate",
    "a folder": "not a regular file",
    "missing": "no such file",
}
# Formats that are fine: only the public certificate is ever uploaded. All three hold `good()`.
ACCEPTED: tuple[str, ...] = ("DER", "PEM", "PEM with its key")


@functools.cache
def rsa_key() -> rsa.RSAPrivateKey:
    """The one RSA key of the files (RSA keys take a while to make)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None, *, days_before: int = 1,
                days_after: int = 365, cn: str = "test") -> x509.Certificate:
    """A self-signed certificate valid from `days_before` days ago to `days_after` days ahead."""
    key = key or rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=days_before))
            .not_valid_after(now + timedelta(days=days_after)).sign(key, hashes.SHA256()))


@functools.cache
def good() -> x509.Certificate:
    """The certificate of the accepted files, for `rsa_key()`."""
    return certificate()


def key_pem(key: rsa.RSAPrivateKey | None = None, password: bytes | None = None) -> bytes:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return (key or rsa_key()).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def pkcs12_bundle() -> bytes:
    """The key and `good()` as PKCS#12, behind a password, the way a .pfx is exported."""
    return pkcs12.serialize_key_and_certificates(b"x", rsa_key(), good(), None,
                                                 serialization.BestAvailableEncryption(b"p"))


def write_certificate_files(folder: Path) -> dict[str, Path]:
    """Every kind of REFUSED and ACCEPTED, as a path in `folder` (made if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    pem = good().public_bytes(serialization.Encoding.PEM)
    content = {
        "garbage": b"\x00\x01\x02 not a certificate \xff",
        "empty": b"",
        "PEM key only": key_pem(),
        "encrypted key": key_pem(password=b"pw") + pem,
        "expired": certificate(days_before=400, days_after=-1).public_bytes(serialization.Encoding.PEM),
        "not yet valid": certificate(days_before=-30, days_after=400).public_bytes(serialization.Encoding.PEM),
        "PKCS#12 (.pfx)": pkcs12_bundle(),
        "PKCS#12 bytes in .pem": pkcs12_bundle(),
        "EC key": certificate(ec.generate_private_key(ec.SECP256R1())).public_bytes(serialization.Encoding.PEM),
        "malformed PEM": b"-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n",
        "DER": good().public_bytes(serialization.Encoding.DER),
        "PEM": pem,
        "PEM with its key": key_pem() + pem,
    }
    paths: dict[str, Path] = {}
    for n, (label, data) in enumerate(content.items()):
        suffix = ".pfx" if label == "PKCS#12 (.pfx)" else ".der" if label == "DER" else ".pem"
        paths[label] = folder / f"file-{n}{suffix}"
        paths[label].write_bytes(data)
    paths["10 MB"] = folder / "big.pem"
    with paths["10 MB"].open("wb") as fh:
        fh.truncate(10 * 1024 * 1024)
    paths["a folder"] = folder
    paths["missing"] = folder / "missing.pem"
    assert set(paths) == set(REFUSED) | set(ACCEPTED)
    return paths
