"""Certificates for service-principal sign-in: read what a user hands over, or make a new one.

Pure: no Azure, no UI. Everything a user can get wrong about a certificate file is caught here with
a message that says what is wrong and what to do, before anything is sent anywhere. Only the public
certificate is ever uploaded; a private key found in the same file stays on this machine.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .errors import UsageError
from .paths import expand_user

MAX_FILE_BYTES = 1024 * 1024
# Clocks disagree a little; a certificate made a minute ago on another machine is still fine.
CLOCK_SKEW = timedelta(minutes=5)
GENERATED_KEY_BITS = 2048

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_KEY_LABELS = {b"PRIVATE KEY", b"RSA PRIVATE KEY", b"EC PRIVATE KEY", b"DSA PRIVATE KEY", b"OPENSSH PRIVATE KEY"}
_PKCS12_SUFFIXES = {".pfx", ".p12"}


class CertificateError(UsageError):
    """A certificate file that cannot be used; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class CertificateInfo:
    """A public certificate and the facts a person checks before trusting it with sign-in."""

    der: bytes = field(repr=False)
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    thumbprint: str  # SHA-1, hex upper case: what the Azure portal shows
    thumbprint_sha256: str
    serial: str
    has_private_key: bool = False  # the file also held the matching key (it was not read further)

    @property
    def public_der_b64(self) -> str:
        """What Graph's keyCredential.key takes."""
        return base64.b64encode(self.der).decode()

    @property
    def custom_key_identifier(self) -> str:
        """Graph's default customKeyIdentifier: base64 of the SHA-1 thumbprint bytes."""
        return base64.b64encode(bytes.fromhex(self.thumbprint)).decode()

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer

    def to_json(self) -> dict[str, object]:
        return {
            "thumbprint": self.thumbprint, "thumbprintSha256": self.thumbprint_sha256, "subject": self.subject,
            "issuer": self.issuer, "notBefore": _iso(self.not_before), "notAfter": _iso(self.not_after),
        }


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def info_of(cert: x509.Certificate, *, has_private_key: bool = False) -> CertificateInfo:
    der = cert.public_bytes(serialization.Encoding.DER)
    return CertificateInfo(
        der=der,
        subject=cert.subject.rfc4514_string() or "(empty subject)",
        issuer=cert.issuer.rfc4514_string() or "(empty issuer)",
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        thumbprint=hashlib.sha1(der).hexdigest().upper(),  # the thumbprint Azure shows is SHA-1
        thumbprint_sha256=hashlib.sha256(der).hexdigest().upper(),
        serial=format(cert.serial_number, "X"),
        has_private_key=has_private_key,
    )


# -- reading ---------------------------------------------------------------------------------


def load_certificate_file(path: str | os.PathLike[str], *, now: datetime | None = None) -> CertificateInfo:
    """The public certificate in a PEM, CRT/DER or PEM-with-private-key file, checked for use."""
    p = expand_user(path)
    shown = str(path)
    if p.suffix.lower() in _PKCS12_SUFFIXES:
        raise CertificateError(_pkcs12_message(shown))
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise CertificateError(f"{shown}: no such file") from None
    except OSError as exc:
        raise CertificateError(f"{shown}: cannot read it ({exc.strerror})") from None
    if not p.is_file():
        raise CertificateError(f"{shown}: not a regular file")
    if size == 0:
        raise CertificateError(f"{shown}: the file is empty; expected a PEM or DER certificate")
    if size > MAX_FILE_BYTES:
        raise CertificateError(f"{shown}: the file is {size // 1024} KiB; a certificate file is at most 1 MiB. "
                               "Is this the right file?")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise CertificateError(f"{shown}: cannot read it ({exc.strerror})") from None
    return parse_certificate_bytes(data, shown, now=now)


def parse_certificate_bytes(data: bytes, name: str = "the file", *, now: datetime | None = None) -> CertificateInfo:
    if not data.strip():
        raise CertificateError(f"{name}: the file is empty; expected a PEM or DER certificate")
    if len(data) > MAX_FILE_BYTES:
        raise CertificateError(f"{name}: larger than 1 MiB; a certificate file is far smaller. Is this the right file?")
    if b"-----BEGIN" in data:
        cert, has_key = _from_pem(data, name)
    else:
        cert, has_key = _from_der(data, name), False
    _check_usable(cert, name, now or datetime.now(UTC))
    return info_of(cert, has_private_key=has_key)


def _pkcs12_message(name: str) -> str:
    return (f"{name}: PKCS#12 (.pfx/.p12) files are not read, since they bundle a private key behind a password. "
            f"Convert it to PEM with: openssl pkcs12 -in {name} -out cert.pem -nodes "
            "(or -nokeys to keep only the public certificate), then pass the .pem file")


def _looks_like_pkcs12(data: bytes) -> bool:
    # PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, ... }
    if len(data) < 8 or data[0] != 0x30:
        return False
    length_byte = data[1]
    offset = 2 + (length_byte & 0x7F if length_byte & 0x80 else 0)
    return data[offset: offset + 3] == b"\x02\x01\x03"


def _from_der(data: bytes, name: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(data)
    except ValueError:
        pass
    if _looks_like_pkcs12(data):
        raise CertificateError(_pkcs12_message(name))
    for loader in (serialization.load_der_private_key,):
        try:
            loader(data, password=None)
        except (ValueError, TypeError):
            continue
        raise CertificateError(f"{name}: holds a private key but no certificate. Upload the certificate "
                               "(the .crt/.cer or '-----BEGIN CERTIFICATE-----' file) instead")
    raise CertificateError(f"{name}: not a certificate. Expected PEM ('-----BEGIN CERTIFICATE-----') "
                           "or DER (.cer/.crt) data")


def _from_pem(data: bytes, name: str) -> tuple[x509.Certificate, bool]:
    blocks = [(m.group(1), m.group(0)) for m in _PEM_BLOCK.finditer(data)]
    if not blocks:
        raise CertificateError(f"{name}: malformed PEM: a '-----BEGIN' line without its matching '-----END' line")
    certs = [pem for label, pem in blocks if label in (b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE")]
    keys = [(label, pem) for label, pem in blocks if label in _KEY_LABELS or label == b"ENCRYPTED PRIVATE KEY"]
    if any(label == b"PKCS12" for label, _ in blocks):
        raise CertificateError(_pkcs12_message(name))
    encrypted = any(label == b"ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in pem for label, pem in keys)
    if not certs:
        if keys:
            raise CertificateError(
                f"{name}: holds a private key but no certificate. Sign-in needs the certificate too: "
                "append the '-----BEGIN CERTIFICATE-----' block to this file, or pass the certificate file")
        labels = ", ".join(sorted({label.decode() for label, _ in blocks}))
        raise CertificateError(f"{name}: holds no certificate (found: {labels}). "
                               "Expected a '-----BEGIN CERTIFICATE-----' block")
    if encrypted:
        raise CertificateError(
            f"{name}: the private key in it is encrypted. 'az login --service-principal' and the Azure SDKs need "
            "an unencrypted key next to the certificate: decrypt it with 'openssl pkey -in KEY -out key.pem', "
            "or pass a file with only the certificate (the key is never uploaded)")
    try:
        cert = x509.load_pem_x509_certificate(certs[0])
    except ValueError as exc:
        raise CertificateError(f"{name}: malformed certificate: the CERTIFICATE block does not decode "
                               f"({_first_line(exc)}). Export the certificate again") from None
    if keys:
        _check_key_matches(cert, keys[0][1], name)
    return cert, bool(keys)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]


def _check_key_matches(cert: x509.Certificate, key_pem: bytes, name: str) -> None:
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise CertificateError(f"{name}: the private key in it is encrypted; decrypt it with "
                               "'openssl pkey -in KEY -out key.pem' or pass only the certificate") from None
    except (ValueError, Exception) as exc:  # malformed key material raises several types
        raise CertificateError(f"{name}: the private key in it is malformed ({_first_line(exc)})") from None
    pub = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    mine = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if pub != mine:
        raise CertificateError(f"{name}: the private key does not belong to the certificate in the same file; "
                               "sign-in with this file would fail")


def _check_usable(cert: x509.Certificate, name: str, now: datetime) -> None:
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        kind = type(cert.public_key()).__name__.removeprefix("_").removesuffix("PublicKey")
        raise CertificateError(f"{name}: the certificate has a {kind} key; Microsoft Entra ID signs applications in "
                               "with RSA certificates only")
    if cert.not_valid_after_utc <= now:
        raise CertificateError(f"{name}: the certificate expired on {_iso(cert.not_valid_after_utc)}; "
                               "issue or generate a new one (--generate)")
    if cert.not_valid_before_utc > now + CLOCK_SKEW:
        raise CertificateError(f"{name}: the certificate is not valid until {_iso(cert.not_valid_before_utc)}; "
                               "check the issuing machine's clock or wait until then")


def load_private_key_and_certificate(path: str | os.PathLike[str], *, now: datetime | None = None
                                     ) -> tuple[rsa.RSAPrivateKey, CertificateInfo]:
    """A PEM holding a certificate and its unencrypted key (for an addKey proof)."""
    p = expand_user(path)
    info = load_certificate_file(p, now=now)
    if not info.has_private_key:
        raise CertificateError(f"{path}: holds a certificate but no private key; the proof needs both")
    for m in _PEM_BLOCK.finditer(p.read_bytes()):
        if m.group(1) in _KEY_LABELS:
            key = serialization.load_pem_private_key(m.group(0), password=None)
            if isinstance(key, rsa.RSAPrivateKey):
                return key, info
    raise CertificateError(f"{path}: the private key is not an RSA key")


# -- making ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedCertificate:
    """A new self-signed certificate and its private key; the PEM is key first, then certificate,
    the form `az login --service-principal --certificate` and CertificateCredential take."""

    info: CertificateInfo
    pem: bytes = field(repr=False)

    def __repr__(self) -> str:  # the key must never appear in a log or a traceback
        return f"GeneratedCertificate({self.info.subject}, {self.info.thumbprint})"


def generate_self_signed(common_name: str, *, not_after: datetime, now: datetime | None = None) -> GeneratedCertificate:
    now = now or datetime.now(UTC)
    if not_after <= now:
        raise CertificateError("the certificate's end date must be in the future")
    key = rsa.generate_private_key(public_exponent=65537, key_size=GENERATED_KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "acr-console")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return GeneratedCertificate(info_of(cert, has_private_key=True),
                                key_pem + cert.public_bytes(serialization.Encoding.PEM))


def check_new_file(path: str | os.PathLike[str]) -> Path:
    """Where a new secret file may go: not an existing file, in an existing folder. Checked before
    anything is sent, so a secret created in Azure always has somewhere to land."""
    p = expand_user(path)
    if p.exists() or p.is_symlink():
        raise CertificateError(f"{path}: already exists; the console never overwrites a file. Choose a new path")
    if not p.parent.is_dir():
        raise CertificateError(f"{path}: the folder {p.parent} does not exist")
    if not os.access(p.parent, os.W_OK):
        raise CertificateError(f"{path}: the folder {p.parent} is not writable")
    return p


def write_private_file(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to a new file readable by its owner only (0600), atomically, never replacing
    an existing file: written to a temporary name, then hard-linked into place (which fails if the
    name exists), so a reader never sees half a key and a race never clobbers someone's file."""
    p = expand_user(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, p)
        except FileExistsError:
            raise CertificateError(f"{path}: already exists; the console never overwrites a file") from None
        except OSError:
            # A file system without hard links: exclusive create still never replaces a file.
            _write_exclusive(p, data)
    finally:
        tmp.unlink(missing_ok=True)
    return p


def _write_exclusive(p: Path, data: bytes) -> None:
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CertificateError(f"{p}: already exists; the console never overwrites a file") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def addkey_proof(application_object_id: str, key: rsa.RSAPrivateKey, signer: CertificateInfo,
                 *, now: datetime | None = None) -> str:
    """The proof-of-possession JWT Graph's addKey wants: signed with a certificate already on the
    application, audience the AAD Graph id, issuer the application's object id, ten minutes valid."""
    import jwt

    now = now or datetime.now(UTC)
    x5t = base64.urlsafe_b64encode(bytes.fromhex(signer.thumbprint)).decode().rstrip("=")
    claims = {"aud": "00000002-0000-0000-c000-000000000000", "iss": application_object_id,
              "nbf": int(now.timestamp()), "exp": int((now + timedelta(minutes=10)).timestamp())}
    return jwt.encode(claims, key, algorithm="RS256", headers={"x5t": x5t, "kid": signer.thumbprint})
