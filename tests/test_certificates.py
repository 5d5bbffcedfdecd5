"""Certificate files as users hand them over: the good ones are read, every bad one is refused with a
message that names the problem and the way out."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from acr_console.certificates import (
    CertificateError,
    addkey_proof,
    check_new_file,
    generate_self_signed,
    load_certificate_file,
    load_private_key_and_certificate,
    write_private_file,
)

from .support import certificates

NOW = datetime.now(UTC)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_pem_der_and_pem_with_key_are_read(certificate_files: dict[str, Path]) -> None:
    cert = certificates.good()
    a = load_certificate_file(certificate_files["PEM"])
    b = load_certificate_file(certificate_files["DER"])
    c = load_certificate_file(certificate_files["PEM with its key"])
    assert a.thumbprint == b.thumbprint == c.thumbprint
    assert a.thumbprint == cert.fingerprint(hashes.SHA1()).hex().upper()
    assert a.subject == "CN=test" and a.self_signed
    assert not a.has_private_key and c.has_private_key
    assert a.der == cert.public_bytes(serialization.Encoding.DER)  # only the public certificate is ever uploaded


def test_every_bad_kind_is_refused_with_its_reason(certificate_files: dict[str, Path]) -> None:
    # Missing, a folder, 10 MB, a key alone, an encrypted key, expired, not yet valid, EC, PKCS#12...
    for label, says in certificates.REFUSED.items():
        with pytest.raises(CertificateError, match=re.escape(says)):
            load_certificate_file(certificate_files[label])


@pytest.mark.parametrize(("content", "needle"), [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"hello, I am not a certificate\x00\x01", "not a certificate"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n", "malformed PEM"),
    (b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "malformed certificate"),
    (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "holds no certificate"),
])
def test_garbage_is_refused_with_a_reason(tmp_path: Path, content: bytes, needle: str) -> None:
    with pytest.raises(CertificateError, match=needle):
        load_certificate_file(write(tmp_path, "x.pem", content))


def test_key_only_and_encrypted_keys(tmp_path: Path) -> None:
    # PEM forms are among the shared kinds; these are the DER and the legacy OpenSSL forms.
    key = certificates.rsa_key()
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    with pytest.raises(CertificateError, match="private key but no certificate"):
        load_certificate_file(write(tmp_path, "key.der", der_key))
    legacy = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                               serialization.BestAvailableEncryption(b"pw"))
    with pytest.raises(CertificateError, match="encrypted"):
        load_certificate_file(write(tmp_path, "legacy.pem", legacy + certificates.good().public_bytes(
            serialization.Encoding.PEM)))


def test_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(CertificateError, match="does not belong"):
        load_certificate_file(write(tmp_path, "mix.pem", certificates.key_pem(other)
                                    + certificates.good().public_bytes(serialization.Encoding.PEM)))


def test_pkcs12_is_refused_with_conversion_advice(tmp_path: Path) -> None:
    # By suffix, and by content under any name (the shared kinds: .pfx, and the bytes in a .pem).
    for name in ("bundle.p12", "bundle.bin"):
        with pytest.raises(CertificateError, match="openssl pkcs12"):
            load_certificate_file(write(tmp_path, name, certificates.pkcs12_bundle()))


def test_generated_certificate_is_usable_and_private(tmp_path: Path) -> None:
    gen = generate_self_signed("ci-pusher", not_after=NOW + timedelta(days=365))
    assert "PRIVATE KEY" not in repr(gen)
    out = check_new_file(tmp_path / "sp.pem")
    write_private_file(out, gen.pem)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    info = load_certificate_file(out)
    assert info.thumbprint == gen.info.thumbprint and info.has_private_key and info.subject == "CN=ci-pusher"
    _key, signer = load_private_key_and_certificate(out)
    assert signer.thumbprint == info.thumbprint
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_files_are_never_overwritten(tmp_path: Path) -> None:
    existing = write(tmp_path, "taken.pem", b"mine")
    with pytest.raises(CertificateError, match="already exists"):
        check_new_file(existing)
    with pytest.raises(CertificateError, match="already exists"):
        write_private_file(existing, b"theirs")
    assert existing.read_bytes() == b"mine"
    with pytest.raises(CertificateError, match="does not exist"):
        check_new_file(tmp_path / "no-such-dir" / "x.pem")


def test_generate_refuses_past_end() -> None:
    with pytest.raises(CertificateError):
        generate_self_signed("x", not_after=NOW - timedelta(days=1))


def test_addkey_proof_claims() -> None:
    import jwt

    key, cert = certificates.rsa_key(), certificates.good()
    from acr_console.certificates import info_of

    token = addkey_proof("app-object-id", key, info_of(cert))
    claims = jwt.decode(token, cert.public_key(), algorithms=["RS256"], audience="00000002-0000-0000-c000-000000000000")
    assert claims["iss"] == "app-object-id"
    assert claims["exp"] - claims["nbf"] == 600


def test_a_tilde_naming_no_user_is_a_file_problem_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As a shell leaves `~nosuchuser` unexpanded; Path.expanduser would raise RuntimeError.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CertificateError, match="~no-such-user-here"):
        load_certificate_file("~no-such-user-here/cert.pem")
    with pytest.raises(CertificateError, match="folder"):
        check_new_file("~no-such-user-here/new-key.pem")
