"""Proofs made with a certificate's private key: client assertions at the token endpoint, and the
proof-of-possession JWT that Graph's addKey and removeKey want.

Both look the signing certificate up among the keyCredentials by thumbprint, check its credential
dates, then let PyJWT check the signature with the certificate's public key.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from starlette.responses import Response

from .context import Sandbox
from .directory import InvalidKey, load_certificate, parse_time, thumbprints
from .errors import entra_error

# RS256 from MSAL (sync credentials), PS256 from azure-identity's aio CertificateCredential
# (docs/reference/sdk-wiring.md §3.1).
ALGORITHMS = ["RS256", "PS256"]
# Graph's proof audience is the AAD Graph application id (application-addkey.md).
PROOF_AUDIENCE = "00000002-0000-0000-c000-000000000000"
PROOF_MAX_LIFETIME_S = 600
CLOCK_SKEW_S = 300  # Entra tolerates five minutes of client clock skew


@dataclass(frozen=True)
class Signer:
    credential: dict[str, Any]
    certificate: x509.Certificate


class ProofError(ValueError):
    """Why a JWT made with a certificate was refused (never contains the JWT)."""


def _public_key(signer: Signer) -> Any:
    return signer.certificate.public_key()


def _b64url_decode(value: str) -> bytes:
    text = value.strip().rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _certificates(owners: list[dict[str, Any]]) -> list[Signer]:
    out = []
    for owner in owners:
        for cred in owner.get("keyCredentials") or []:
            if cred.get("type", "AsymmetricX509Cert") != "AsymmetricX509Cert" or not cred.get("key"):
                continue
            try:
                out.append(Signer(cred, load_certificate(cred["key"])))
            except InvalidKey:
                continue
    return out


def find_signer(header: dict[str, Any], owners: list[dict[str, Any]]) -> Signer | None:
    """The certificate whose SHA-1 (`x5t`) or SHA-256 (`x5t#S256`) thumbprint the JWT header names.

    MSAL pads `x5t` with '=' and the aio credential does not; the padding is stripped before
    decoding. A hex `kid` (the thumbprint as the portal shows it) is accepted as a fallback."""
    wanted_sha1: bytes | None = None
    wanted_sha256: bytes | None = None
    try:
        if header.get("x5t"):
            wanted_sha1 = _b64url_decode(str(header["x5t"]))
        if header.get("x5t#S256"):
            wanted_sha256 = _b64url_decode(str(header["x5t#S256"]))
        if wanted_sha1 is None and wanted_sha256 is None and header.get("kid"):
            wanted_sha1 = bytes.fromhex(str(header["kid"]))
    except (binascii.Error, ValueError):
        return None
    if wanted_sha1 is None and wanted_sha256 is None:
        return None
    for signer in _certificates(owners):
        sha1, sha256 = thumbprints(signer.certificate)
        if sha1 == wanted_sha1 or sha256 == wanted_sha256:
            return signer
    return None


def credential_current(cred: dict[str, Any], now: float | None = None) -> str | None:
    """None when the keyCredential is within its dates, else why not."""
    now = time.time() if now is None else now
    try:
        if cred.get("startDateTime") and parse_time(cred["startDateTime"]).timestamp() > now + CLOCK_SKEW_S:
            return "the certificate credential is not valid yet"
        if cred.get("endDateTime") and parse_time(cred["endDateTime"]).timestamp() <= now:
            return "the certificate credential has expired"
    except ValueError:
        return "the certificate credential has unreadable dates"
    return None


def verify_client_assertion(
    sb: Sandbox, assertion: str, app: dict[str, Any], token_endpoint: str
) -> Response | None:
    """Check a `client_assertion` (RFC 7523) against the application's certificates, and those on
    its service principal (`az ad sp credential reset --cert` puts them there and sign-in works).

    None means authenticated; otherwise the Entra error to send back."""
    client_id = app["appId"]
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        return entra_error("invalid_assertion", why="the client assertion is not a well-formed JWT.")
    sp = sb.store.by_app_id(client_id, "servicePrincipal")
    signer = find_signer(header, [app, *([sp] if sp else [])])
    if signer is None:
        return entra_error("unknown_certificate", client=client_id)
    why = credential_current(signer.credential)
    if why is not None:
        return entra_error("invalid_assertion", why=f"{why} (keyId {signer.credential.get('keyId')}).")
    audiences = _token_endpoint_aliases(sb, token_endpoint)
    try:
        claims = jwt.decode(
            assertion, _public_key(signer), algorithms=ALGORITHMS,
            audience=audiences, leeway=CLOCK_SKEW_S,
            options={"require": ["exp", "aud", "iss", "sub"]},
        )
    except jwt.InvalidAudienceError:
        return entra_error("invalid_assertion",
                           why=f"the audience must be the token endpoint {token_endpoint}.")
    except jwt.ExpiredSignatureError:
        return entra_error("invalid_assertion", why="the client assertion has expired.")
    except jwt.ImmatureSignatureError:
        return entra_error("invalid_assertion", why="the client assertion is not valid yet (nbf).")
    except jwt.InvalidSignatureError:
        return entra_error("invalid_assertion", why="the client assertion contains an invalid signature.")
    except jwt.PyJWTError as exc:
        return entra_error("invalid_assertion", why=f"{type(exc).__name__}.")
    if str(claims.get("iss", "")).lower() != client_id or str(claims.get("sub", "")).lower() != client_id:
        return entra_error("invalid_assertion", why="iss and sub must both be the client id.")
    return None


def _token_endpoint_aliases(sb: Sandbox, token_endpoint: str) -> list[str]:
    """The endpoint the client called, and the same with the tenant's id or the v1 path, which
    Entra accepts as assertion audiences too."""
    tid = sb.store.tenant_id
    return list(dict.fromkeys([
        token_endpoint,
        f"{sb.base_url}/{tid}/oauth2/v2.0/token",
        f"{sb.base_url}/{tid}/oauth2/token",
    ]))


def verify_proof(proof: str, app: dict[str, Any]) -> Signer:
    """The certificate that signed an addKey/removeKey proof; raises ProofError.

    The proof must be signed by a certificate the application already has and that is within its
    dates, `aud` the AAD Graph id, `iss` the application's object id, and live at most 10 minutes."""
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.PyJWTError:
        raise ProofError("the proof is not a well-formed JWT") from None
    current = [c for c in app.get("keyCredentials") or [] if credential_current(c) is None]
    if not _certificates([{"keyCredentials": current}]):
        raise ProofError("the application has no valid certificate to sign a proof with; use PATCH instead")
    signer = find_signer(header, [{"keyCredentials": current}])
    if signer is None:
        # Some clients leave the thumbprint out of the header: try every current certificate.
        for candidate in _certificates([{"keyCredentials": current}]):
            try:
                jwt.decode(proof, _public_key(candidate), algorithms=ALGORITHMS,
                           options={"verify_aud": False, "verify_exp": False, "verify_nbf": False})
            except jwt.PyJWTError:
                continue
            signer = candidate
            break
    if signer is None:
        raise ProofError("the proof is not signed by a current certificate of the application")
    try:
        claims = jwt.decode(proof, _public_key(signer), algorithms=ALGORITHMS,
                            audience=PROOF_AUDIENCE, leeway=CLOCK_SKEW_S,
                            options={"require": ["aud", "iss", "nbf", "exp"]})
    except jwt.InvalidAudienceError:
        raise ProofError(f"the proof's audience must be {PROOF_AUDIENCE}") from None
    except jwt.ExpiredSignatureError:
        raise ProofError("the proof has expired") from None
    except jwt.InvalidSignatureError:
        raise ProofError("the proof's signature is invalid") from None
    except jwt.PyJWTError as exc:
        raise ProofError(f"the proof is invalid ({type(exc).__name__})") from None
    if str(claims.get("iss", "")).lower() != app["id"].lower():
        raise ProofError("the proof's issuer must be the application's object id")
    if float(claims["exp"]) - float(claims["nbf"]) > PROOF_MAX_LIFETIME_S:
        raise ProofError("the proof may be valid for at most 10 minutes (exp - nbf)")
    return signer
