"""Entra-style access tokens: RS256 JWTs signed by a key kept in the data folder, with a JWKS."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .tls import _write_private

TOKEN_LIFETIME_S = 3599


def _b64url_uint(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class InvalidToken(Exception):
    """Why a bearer token was refused; the message never contains the token."""

    reason: str
    wrong_audience: str | None = None  # set when the token is sound but for another resource

    def __str__(self) -> str:
        return self.reason


class TokenIssuer:
    def __init__(self, data_dir: Path, issuer: str) -> None:
        key_path = data_dir / "signing-key.pem"
        if key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _write_private(
                key_path,
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
        self._key = key
        self.public_key = key.public_key()
        der = self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()
        self.issuer = issuer

    def jwks(self) -> dict[str, Any]:
        numbers = self.public_key.public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": self.kid,
                    "n": _b64url_uint(numbers.n),
                    "e": _b64url_uint(numbers.e),
                }
            ]
        }

    def issue(self, claims: dict[str, Any], lifetime_s: int = TOKEN_LIFETIME_S) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_s,
            "uti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(body, self._key, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, token: str, audiences: set[str]) -> dict[str, Any]:
        """Check signature, expiry and audience; audiences compare without a trailing slash."""
        try:
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=["RS256"],
                options={"verify_aud": False, "require": ["exp", "aud"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token is not valid: {type(exc).__name__}") from None
        aud = str(claims.get("aud", "")).rstrip("/").lower()
        if aud not in {a.rstrip("/").lower() for a in audiences}:
            raise InvalidToken(f"the token's audience '{claims.get('aud')}' is not accepted here",
                               wrong_audience=str(claims.get("aud")))
        return claims
