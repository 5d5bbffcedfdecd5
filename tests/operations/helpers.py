"""Signing in as a principal the way its users will: the unmodified azure-identity credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential

ARM_SCOPE = "https://management.azure.com/.default"


def _common(conn: dict[str, Any]) -> dict[str, Any]:
    return {"authority": conn["authority_host"], "disable_instance_discovery": True,
            "connection_verify": conn["ca_bundle"]}


def token_with_secret(conn: dict[str, Any], app_id: str, secret: str) -> str:
    cred = ClientSecretCredential(conn["tenant_id"], app_id, secret, **_common(conn))
    try:
        return cred.get_token(ARM_SCOPE).token
    finally:
        cred.close()


def token_with_certificate(conn: dict[str, Any], app_id: str, pem_path: Path) -> str:
    cred = CertificateCredential(conn["tenant_id"], app_id, certificate_path=str(pem_path), **_common(conn))
    try:
        return cred.get_token(ARM_SCOPE).token
    finally:
        cred.close()


def sign_in_refused(conn: dict[str, Any], app_id: str, secret: str) -> str:
    """The AADSTS code of a refused sign-in; fails the test if the sign-in works."""
    try:
        token_with_secret(conn, app_id, secret)
    except ClientAuthenticationError as exc:
        text = str(exc)
        return next((w for w in text.replace(":", " ").split() if w.startswith("AADSTS")), text[:80])
    raise AssertionError(f"{app_id} could still sign in")
