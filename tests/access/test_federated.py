"""Federated identity credentials read plainly (issue 17).

Subject formats: GitHub, "OpenID Connect reference" (issuers, claims),
https://docs.github.com/actions/reference/security/oidc, and "About security hardening with OpenID
Connect" ("Example subject claims", "Customizing the subject claims"),
https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect;
Microsoft, "Configure an app to trust an external identity provider" (GitHub Actions entity types
Environment / Branch / Pull request / Tag; Kubernetes ``system:serviceaccount:NS:SA``),
https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust; AKS issuer form,
https://learn.microsoft.com/azure/aks/workload-identity-overview.
"""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acr_console.access import federated_json, matches_repository, read_federated, read_subject
from acr_console.models import FederatedIdentityCredential

GITHUB = "https://token.actions.githubusercontent.com"
AKS = "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/4f1e1a4e-0c2c-4b8f-9f4e-6f1c2a9b0d11/"


@pytest.mark.parametrize(
    ("subject", "repository", "ref_kind", "ref_name"),
    [
        ("repo:contoso/payments:ref:refs/heads/main", "contoso/payments", "branch", "main"),
        ("repo:contoso/payments:ref:refs/heads/release/2026.12", "contoso/payments", "branch", "release/2026.12"),
        ("repo:contoso/payments:ref:refs/tags/v1.2.3", "contoso/payments", "tag", "v1.2.3"),
        ("repo:contoso/payments:environment:production", "contoso/payments", "environment", "production"),
        ("repo:contoso/payments:pull_request", "contoso/payments", "pull-request", None),
        # a ref that is neither a branch nor a tag is shown whole
        ("repo:contoso/payments:ref:refs/pull/42/merge", "contoso/payments", "ref", "refs/pull/42/merge"),
    ],
)
def test_github_default_subjects(subject: str, repository: str, ref_kind: str, ref_name: str | None) -> None:
    reading = read_subject(GITHUB, subject)
    assert reading.kind == "github"
    assert reading.issuer_host == "token.actions.githubusercontent.com"
    assert (reading.repository, reading.ref_kind, reading.ref_name) == (repository, ref_kind, ref_name)
    assert reading.customised is False


def test_github_customised_subject_with_workflow() -> None:
    subject = (
        "repo:contoso/payments:environment:prod:"
        "job_workflow_ref:contoso/shared/.github/workflows/deploy.yml@refs/heads/main"
    )
    reading = read_subject(GITHUB, subject)
    assert reading.repository == "contoso/payments"
    assert (reading.ref_kind, reading.ref_name) == ("environment", "prod")
    assert reading.customised is True
    assert reading.claims == (
        ("repo", "contoso/payments"),
        ("environment", "prod"),
        ("job_workflow_ref", "contoso/shared/.github/workflows/deploy.yml@refs/heads/main"),
    )


def test_github_subject_of_ids_only_names_no_repository() -> None:
    reading = read_subject(GITHUB, "repository_owner_id:1234:repository_id:5678:environment:prod")
    assert reading.kind == "github"
    assert reading.repository is None
    assert (reading.ref_kind, reading.ref_name) == ("environment", "prod")
    assert reading.customised is True
    assert dict(reading.claims)["repository_id"] == "5678"
    assert reading.summary("x") == "github (repository by id) environment prod (customised subject)"


def test_github_customised_repository_claim_key() -> None:
    reading = read_subject(GITHUB, "repository:contoso/payments:ref:refs/heads/main")
    assert (reading.repository, reading.ref_kind, reading.ref_name, reading.customised) == (
        "contoso/payments", "branch", "main", True)


def test_github_enterprise_issuer_and_host_case() -> None:
    reading = read_subject("HTTPS://Token.Actions.GitHubUserContent.com/contoso-enterprise", "repo:a/b:pull_request")
    assert reading.kind == "github"
    assert reading.repository == "a/b"


def test_github_enterprise_server_issuer() -> None:
    reading = read_subject("https://github.contoso.com/_services/token", "repo:platform/api:ref:refs/heads/main")
    assert (reading.kind, reading.issuer_host, reading.repository, reading.ref_name) == (
        "github", "github.contoso.com", "platform/api", "main")
    assert read_subject("https://github.contoso.com/other", "repo:platform/api:ref:refs/heads/main").kind == "other"


@pytest.mark.parametrize("subject", ["repo:", "repo", "repo:a/b:ref", ":repo:a/b", "repo::ref:refs/heads/main"])
def test_github_subject_that_does_not_split_into_pairs_is_customised_without_guess(subject: str) -> None:
    reading = read_subject(GITHUB, subject)
    assert reading.kind == "github"
    assert reading.customised is True
    assert reading.ref_kind is None


def test_kubernetes_on_aks() -> None:
    reading = read_subject(AKS, "system:serviceaccount:payments:deployer")
    assert (reading.kind, reading.namespace, reading.service_account, reading.aks) == (
        "kubernetes", "payments", "deployer", True)
    assert reading.summary("…") == "kubernetes payments/deployer (AKS)"


def test_kubernetes_elsewhere_is_not_aks() -> None:
    issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    reading = read_subject(issuer, "system:serviceaccount:default:app")
    assert (reading.kind, reading.namespace, reading.service_account, reading.aks) == (
        "kubernetes", "default", "app", False)


@pytest.mark.parametrize(
    "subject", ["system:serviceaccount:ns", "system:serviceaccount:ns:sa:extra", "system:serviceaccount::sa"]
)
def test_malformed_kubernetes_subject_is_other(subject: str) -> None:
    assert read_subject(AKS, subject).kind == "other"


def test_other_issuer_keeps_host_and_subject() -> None:
    cred = FederatedIdentityCredential(id="f1", name="gitlab", issuer="https://gitlab.example.com",
                                       subject="project_path:team/app:ref_type:branch:ref:main")
    doc = federated_json(cred)
    assert doc == {
        "name": "gitlab",
        "issuer": "https://gitlab.example.com",
        "subject": "project_path:team/app:ref_type:branch:ref:main",
        "audiences": ["api://AzureADTokenExchange"],
        "reading": {
            "kind": "other",
            "issuerHost": "gitlab.example.com",
            "subject": "project_path:team/app:ref_type:branch:ref:main",
            "summary": "gitlab.example.com project_path:team/app:ref_type:branch:ref:main",
        },
    }


def test_malformed_issuer_url_reads_as_no_host() -> None:
    reading = read_subject("https://[::1", "whatever")
    assert (reading.kind, reading.issuer_host) == ("other", "")
    assert reading.summary("whatever") == "(no issuer host) whatever"


def test_github_json_shape() -> None:
    cred = FederatedIdentityCredential(
        id="f2", name="payments-main", issuer=GITHUB, subject="repo:contoso/payments:ref:refs/heads/main")
    assert federated_json(cred)["reading"] == {
        "kind": "github",
        "issuerHost": "token.actions.githubusercontent.com",
        "repository": "contoso/payments",
        "refKind": "branch",
        "refName": "main",
        "claims": [["repo", "contoso/payments"], ["ref", "refs/heads/main"]],
        "customised": False,
        "summary": "github contoso/payments branch main",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [("/contoso/payments", True), ("contoso/payments", True), ("Contoso/Payments/", True),
     ("/contoso/pay", False), ("/", False), ("", False)],
)
def test_filter_by_github_repository(query: str, expected: bool) -> None:
    reading = read_subject(GITHUB, "repo:contoso/payments:environment:prod")
    assert matches_repository(reading, query) is expected


def test_filter_never_matches_other_kinds() -> None:
    reading = read_subject("https://gitlab.example.com", "repo:contoso/payments:environment:prod")
    assert reading.kind == "other"
    assert matches_repository(reading, "/contoso/payments") is False


# -- properties ---------------------------------------------------------------------------------------

# GitHub owner and repository names: letters, digits, '-', '_', '.' (owners: no '_' or '.').
_owner = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=20)
_repo = st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=30)
# A branch name valid for git check-ref-format: no ':', no space, no '..'; '/' separated parts.
_part = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=12)
_branch = st.lists(_part, min_size=1, max_size=4).map("/".join)


@settings(max_examples=200, deadline=None)
@given(owner=_owner, repo=_repo, name=_branch, kind=st.sampled_from(["heads", "tags", "environment"]))
def test_github_reading_recovers_what_the_subject_was_built_from(owner: str, repo: str, name: str, kind: str) -> None:
    tail = f"environment:{name}" if kind == "environment" else f"ref:refs/{kind}/{name}"
    reading = read_subject(GITHUB, f"repo:{owner}/{repo}:{tail}")
    expected_kind = {"heads": "branch", "tags": "tag", "environment": "environment"}[kind]
    assert (reading.repository, reading.ref_kind, reading.ref_name, reading.customised) == (
        f"{owner}/{repo}", expected_kind, name, False)
    assert matches_repository(reading, f"/{owner.upper()}/{repo}")


@settings(max_examples=300, deadline=None)
@given(issuer=st.one_of(st.text(max_size=60), st.just(GITHUB), st.just(AKS)), subject=st.text(max_size=80))
def test_any_text_reads_without_error_and_serialises(issuer: str, subject: str) -> None:
    cred = FederatedIdentityCredential(id="x", name="n", issuer=issuer, subject=subject)
    doc = federated_json(cred)
    assert doc["reading"]["kind"] in {"github", "kubernetes", "other"}
    assert json.loads(json.dumps(doc)) == doc
    assert read_federated(cred) == read_subject(issuer, subject)
