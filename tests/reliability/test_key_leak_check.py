"""The private-key leak check (tests/support/key_leaks.py) is honest both ways.

It must not fire on the public half, which the certificate carries and the console shows and stores
(the old check searched the first lines of the key's PEM, the modulus, and so passed or failed with
the certificate subject's length mod 3); and it must fire on the private key planted anywhere: in a
log record, on a screen, in JSON, as DER base64 at each of the three alignments, as PKCS#1 PEM.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from rich.console import Console

from acr_console.certificates import generate_self_signed

from ..support.key_leaks import KeyNeedles, base64_alignments


def _key_and_cert(name: str) -> tuple[str, x509.Certificate, KeyNeedles]:
    made = generate_self_signed(name, not_after=datetime.now(UTC) + timedelta(days=30))
    pem = made.pem.decode()
    cert = x509.load_pem_x509_certificate(made.pem[made.pem.index(b"-----BEGIN CERTIFICATE"):])
    return pem, cert, KeyNeedles.of_pem(pem)


@pytest.mark.parametrize("length", range(1, 7))
def test_the_public_half_is_not_a_leak_whatever_the_name_length(length: int) -> None:
    """Everything public about the key, as the console and Graph show it, at every alignment."""
    _, cert, needles = _key_and_cert("n" * length)
    der = cert.public_bytes(serialization.Encoding.DER)
    public = cert.public_key()
    modulus = public.public_numbers().n.to_bytes(256, "big")  # type: ignore[union-attr]
    public_texts = [
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        json.dumps({"keyCredentials": [{"key": base64.b64encode(der).decode(), "type": "AsymmetricX509Cert"}]}),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        modulus.hex(), *base64_alignments(modulus),
        *(base64.b64encode(b"\0" * k + der).decode() for k in range(3)),
    ]
    for text in public_texts:
        assert needles.found_in(text) == [], text[:80]
    assert needles.found_in(der) == []


@pytest.mark.parametrize("shift", range(3))
def test_a_planted_der_key_is_found_at_every_alignment(shift: int) -> None:
    pem, _, needles = _key_and_cert("planted")
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    planted = base64.b64encode(b"\x01" * shift + der).decode()
    assert needles.found_in(f"token={planted} and more")
    assert needles.found_in(base64.urlsafe_b64encode(b"\x01" * shift + der).decode().rstrip("="))
    assert needles.found_in(b"header" + der)  # raw bytes, e.g. a database file
    # PKCS#1 ("BEGIN RSA PRIVATE KEY") holds the same private numbers at other offsets.
    traditional = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    assert needles.found_in(base64.b64encode(b"\x01" * shift + traditional).decode())


def test_a_planted_key_is_found_in_a_log_a_screen_and_json(caplog: pytest.LogCaptureFixture) -> None:
    pem, _, needles = _key_and_cert("planted-elsewhere")
    key_block = pem[: pem.index("-----BEGIN CERTIFICATE")]
    body = [line for line in key_block.splitlines() if line and not line.startswith("-----")]
    # The armour off, one line of the body only: a line from the middle (the private numbers).
    middle = body[len(body) // 2]
    caplog.set_level(logging.DEBUG)
    logging.getLogger("azure.core").debug("request body: %s", middle)
    assert needles.found_in(caplog.text), "a PEM body line in a log record"
    console = Console(record=True, width=40, color_system=None)
    console.print("the key: " + "".join(body))  # wrapped over many screen lines
    assert needles.found_in(console.export_text()), "a key wrapped on a screen"
    assert needles.found_in(json.dumps({"privateKeyPem": key_block})), "a key in JSON, line breaks escaped"
    assert needles.found_in(key_block)  # whole, armour included
