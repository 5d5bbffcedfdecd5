"""A plain reading of a federated identity credential: which workload signs in with it.

A federated identity credential lets a workload exchange a token from ``issuer`` whose ``sub`` claim
equals ``subject`` (exactly, case-sensitively) for an Entra token of the application, with no secret
(Microsoft, "Workload identity federation", https://learn.microsoft.com/entra/workload-id/workload-identity-federation
and "Configure an app to trust an external identity provider",
https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust).

- **GitHub Actions**: issuer ``https://token.actions.githubusercontent.com`` (or with an enterprise's
  slug appended: ``…/ENTERPRISE``), or ``https://HOSTNAME/_services/token`` on GitHub Enterprise Server
  (GitHub, "OpenID Connect reference", https://docs.github.com/actions/reference/security/oidc). The
  default subject is ``repo:ORG/REPO:`` followed by
  ``environment:NAME``, ``ref:refs/heads/BRANCH``, ``ref:refs/tags/TAG`` or ``pull_request``; an
  organisation or repository can customise it into other ``key:value`` pairs, e.g.
  ``repo:ORG/REPO:environment:prod:job_workflow_ref:ORG/REPO/.github/workflows/x.yml@refs/heads/main``
  or ``repository_owner_id:12:repository_id:34:environment:prod`` (GitHub, "About security hardening
  with OpenID Connect", https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect,
  sections "Example subject claims" and "Customizing the subject claims").
- **Kubernetes** (AKS workload identity, or any cluster's service-account issuer): subject
  ``system:serviceaccount:NAMESPACE:NAME``; AKS issuers are ``https://REGION.oic.prod-aks.azure.com/
  TENANT/GUID/`` (https://learn.microsoft.com/azure/aks/workload-identity-overview).
- Anything else is read as its issuer's host and the subject, unchanged.

Nothing here is validated against the issuer: this is what the credential says, not proof that such a
workflow exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from acr_console.models import FederatedIdentityCredential

GITHUB_ISSUER_HOST = "token.actions.githubusercontent.com"
GITHUB_SERVER_ISSUER_PATH = "/_services/token"  # GitHub Enterprise Server: https://HOSTNAME/_services/token
AKS_ISSUER_SUFFIX = ".oic.prod-aks.azure.com"
KUBERNETES_SUBJECT_PREFIX = "system:serviceaccount:"

# GitHub's subject keys that take no value ("pull_request" in the default format).
_VALUELESS = frozenset({"pull_request"})
# The subject keys of GitHub's default formats; any other key means a customised subject.
_DEFAULT_KEYS = frozenset({"repo", "environment", "ref", "pull_request"})


@dataclass(frozen=True, slots=True)
class FederatedReading:
    """What a federated credential's issuer and subject say, in plain terms.

    ``kind`` is ``github``, ``kubernetes`` or ``other``. GitHub: ``repository`` (``ORG/REPO``, or None
    when a customised subject names only ids), ``ref_kind`` (``branch``, ``tag``, ``environment``,
    ``pull-request``, ``ref`` for another ref, or None), ``ref_name``, ``claims`` (every ``key:value``
    pair of the subject, in order), ``customised``. Kubernetes: ``namespace``, ``service_account``,
    ``aks``. All kinds: ``issuer_host``.
    """

    kind: str
    issuer_host: str
    repository: str | None = None
    ref_kind: str | None = None
    ref_name: str | None = None
    claims: tuple[tuple[str, str], ...] = ()
    customised: bool = False
    namespace: str | None = None
    service_account: str | None = None
    aks: bool = False

    def summary(self, subject: str) -> str:
        """One line for a table: ``github contoso/payments branch main``, ``kubernetes ns/sa``, …"""
        if self.kind == "github":
            where = self.repository or "(repository by id)"
            ref = f" {self.ref_kind} {self.ref_name}" if self.ref_kind and self.ref_name else (
                f" {self.ref_kind}" if self.ref_kind else "")
            return f"github {where}{ref}" + (" (customised subject)" if self.customised else "")
        if self.kind == "kubernetes":
            return f"kubernetes {self.namespace}/{self.service_account}" + (" (AKS)" if self.aks else "")
        return f"{self.issuer_host or '(no issuer host)'} {subject}"


def _host_and_path(issuer: str) -> tuple[str, str]:
    try:
        parts = urlsplit(issuer.strip())
        return (parts.hostname or "").lower(), parts.path.rstrip("/").lower()
    except ValueError:  # a malformed URL (e.g. a bad IPv6 literal) is read as no host
        return "", ""


def _github_claims(subject: str) -> tuple[tuple[str, str], ...] | None:
    """The subject's ``key:value`` pairs, or None when it does not split into such pairs.

    Repository names (letters, digits, ``-``, ``_``, ``.``) and git refs (``git check-ref-format``
    forbids ``:``) hold no ``:``, so splitting on it reads the default formats exactly;
    ``pull_request`` stands alone. A value that did hold ``:`` (an environment name, say) reads as
    extra pairs, and the subject is then marked customised rather than misread silently.
    """
    parts = subject.split(":")
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(parts):
        key = parts[i]
        if not key:
            return None
        if key in _VALUELESS:
            out.append((key, ""))
            i += 1
            continue
        if i + 1 >= len(parts) or not parts[i + 1]:
            return None
        out.append((key, parts[i + 1]))
        i += 2
    return tuple(out)


def _github(issuer_host: str, subject: str) -> FederatedReading:
    claims = _github_claims(subject)
    if claims is None:
        return FederatedReading(kind="github", issuer_host=issuer_host, customised=True)
    values = dict(claims)
    repository = values.get("repo") or values.get("repository")
    ref_kind: str | None = None
    ref_name: str | None = None
    if "environment" in values:
        ref_kind, ref_name = "environment", values["environment"]
    elif "ref" in values:
        ref = values["ref"]
        for prefix, kind in (("refs/heads/", "branch"), ("refs/tags/", "tag")):
            if ref.startswith(prefix) and len(ref) > len(prefix):
                ref_kind, ref_name = kind, ref[len(prefix):]
                break
        else:
            ref_kind, ref_name = "ref", ref
    elif "pull_request" in values:
        ref_kind = "pull-request"
    keys = [k for k, _ in claims]
    default = len(keys) == 2 and keys[0] == "repo" and keys[1] in _DEFAULT_KEYS
    return FederatedReading(
        kind="github",
        issuer_host=issuer_host,
        repository=repository,
        ref_kind=ref_kind,
        ref_name=ref_name,
        claims=claims,
        customised=not default,
    )


def read_subject(issuer: str, subject: str) -> FederatedReading:
    """Read an issuer and subject as GitHub Actions, Kubernetes or other."""
    host, path = _host_and_path(issuer)
    if host == GITHUB_ISSUER_HOST or (host and path == GITHUB_SERVER_ISSUER_PATH):
        return _github(host, subject)
    if subject.startswith(KUBERNETES_SUBJECT_PREFIX):
        rest = subject[len(KUBERNETES_SUBJECT_PREFIX):].split(":")
        if len(rest) == 2 and all(rest):
            return FederatedReading(
                kind="kubernetes",
                issuer_host=host,
                namespace=rest[0],
                service_account=rest[1],
                aks=host.endswith(AKS_ISSUER_SUFFIX),
            )
    return FederatedReading(kind="other", issuer_host=host)


def read_federated(credential: FederatedIdentityCredential) -> FederatedReading:
    return read_subject(credential.issuer, credential.subject)


def reading_json(reading: FederatedReading, subject: str) -> dict[str, Any]:
    """The ``reading`` object of ``access --include-takeover --json`` (only str, bool, None, list, dict)."""
    doc: dict[str, Any] = {"kind": reading.kind, "issuerHost": reading.issuer_host}
    if reading.kind == "github":
        doc |= {
            "repository": reading.repository,
            "refKind": reading.ref_kind,
            "refName": reading.ref_name,
            "claims": [[k, v] for k, v in reading.claims],
            "customised": reading.customised,
        }
    elif reading.kind == "kubernetes":
        doc |= {"namespace": reading.namespace, "serviceAccount": reading.service_account, "aks": reading.aks}
    else:
        doc["subject"] = subject
    doc["summary"] = reading.summary(subject)
    return doc


def federated_json(credential: FederatedIdentityCredential) -> dict[str, Any]:
    """One element of an entry's ``"federated"`` list."""
    return {
        "name": credential.name,
        "issuer": credential.issuer,
        "subject": credential.subject,
        "audiences": list(credential.audiences),
        "reading": reading_json(read_federated(credential), credential.subject),
    }


def matches_repository(reading: FederatedReading, query: str) -> bool:
    """Whether a filter like ``/org/repo`` or ``org/repo`` names this GitHub reading's repository
    (case-insensitively: GitHub's owner and repository names are)."""
    wanted = query.strip().strip("/").lower()
    return bool(wanted) and reading.kind == "github" and (reading.repository or "").lower() == wanted
