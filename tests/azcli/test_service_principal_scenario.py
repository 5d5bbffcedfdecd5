"""The Azure documentation's own scenario for this product, run line by line with the unmodified
Azure CLI 2.91.0 against a fresh `--seed empty` sandbox.

Sources, in the order the steps follow them:
- Azure-Samples/azure-cli-samples `container-registry/create-registry/create-registry-service-principal-assign-role.sh`
  (`az group create`, `az acr create`, then the two scripts below, verbatim), with
  `container-registry/service-principal-create/service-principal-create.sh` and
  `container-registry/service-principal-assign-role/service-principal-assign-role.sh`;
- MicrosoftDocs/azure-management-docs `articles/container-registry/container-registry-auth-service-principal.md`:
  `docker login` with the appId and secret, `az ad sp credential reset`, a certificate on the
  principal, `az login --service-principal` with it, then `az acr login`;
- the az reference pages for `az acr login --expose-token`, `az acr update --admin-enabled`,
  `az acr credential show`, `az role assignment delete`, `az ad sp delete`.

Every step asserts what Azure answers (exit status, JSON shape) and then asks the sandbox's own
services what the step changed: the registry token service says who may pull and push, Entra's
token endpoint says which secrets still sign in. Nothing here trusts az's report of its own work.
"""

from __future__ import annotations

import base64
import hashlib
import re
import ssl
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from acr_console.roles import builtin_by_name
from acr_console.sandbox.client_versions import AZURE_CLI_2_91_0
from acr_console.sandbox.server import SandboxServer

from ..conftest import Tripwire
from .azcli import Hidden, Machines
from .proxy import LoginServerRoute

RESOURCE_GROUP = "msdocs-container-registry-rg-1"
REGISTRY = "msdocscontainerregistry1"
LOGIN_SERVER = f"{REGISTRY}.azurecr.io"
SERVICE_PRINCIPAL = "msdocs-acr-service-principal-1"
TAG = "create-registry-service-principal-assign-role"
REPOSITORY = "samples/hello-world"
NULL_GUID = "00000000-0000-0000-0000-000000000000"
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class Sandbox:
    """The ground truth: the sandbox's registry token service and Entra token endpoint, reached as
    `docker login` and any confidential client reach them."""

    def __init__(self, server: SandboxServer, route: LoginServerRoute) -> None:
        assert server.connection is not None
        self.server = server
        self.connection = server.connection
        self.tenant = self.connection["tenant_id"]
        # Through the same route az takes: the login server by name, the sandbox's CA only.
        trust = ssl.create_default_context(cafile=self.connection["ca_bundle"])
        self.registry = httpx.Client(proxy=route.url, verify=trust, timeout=30)
        self.entra = httpx.Client(verify=trust, timeout=30, trust_env=False)

    def close(self) -> None:
        self.registry.close()
        self.entra.close()

    def docker_login(self, username: str, password: str, *actions: str) -> httpx.Response:
        """What `docker login` then `docker push` do: GET /v2/ for the challenge, then GET the realm
        with Basic credentials, `account`, `service` and the scope (distribution/distribution
        docs/content/spec/auth/token.md; Azure/acr docs/Token-BasicAuth.md)."""
        challenge = self.registry.get(f"https://{LOGIN_SERVER}/v2/")
        assert challenge.status_code == 401
        params = dict(_CHALLENGE.findall(challenge.headers["WWW-Authenticate"]))
        query = {"account": username, "client_id": "docker", "offline_token": "true",
                 "service": params["service"], "scope": f"repository:{REPOSITORY}:{','.join(actions)}"}
        return self.registry.get(f"{params['realm']}?{urlencode(query)}", auth=(username, password))

    def refresh_to_access(self, refresh_token: str, *actions: str) -> httpx.Response:
        """What a client does with `az acr login --expose-token`'s token (Azure/acr docs/AAD-OAuth.md)."""
        return self.registry.post(f"https://{LOGIN_SERVER}/oauth2/token", data={
            "grant_type": "refresh_token", "service": LOGIN_SERVER, "refresh_token": refresh_token,
            "scope": f"repository:{REPOSITORY}:{','.join(actions)}"})

    @staticmethod
    def granted(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
        return sorted(a for entry in claims["access"] if entry["name"] == REPOSITORY for a in entry["actions"])

    def sign_in(self, app_id: str, secret: str) -> httpx.Response:
        """Client credentials at Entra's v2.0 token endpoint, as MSAL sends them."""
        return self.entra.post(f"{self.connection['authority_host']}/{self.tenant}/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": app_id, "client_secret": secret,
            "scope": self.connection["resource_manager"] + ".default"})

    def api_versions(self) -> set[tuple[str, str]]:
        """(first path segment after the provider, api-version) of every ARM request so far."""
        seen = set()
        for row in self.server.sandbox.store.request_log() if self.server.sandbox else []:
            if row["api_version"]:
                seen.add((_surface(row["path"]), row["api_version"]))
        return seen


_SURFACES = (  # path marker → the name client_versions uses; the first match wins
    ("/providers/microsoft.authorization/roleassignments", "Microsoft.Authorization/roleAssignments"),
    ("/providers/microsoft.authorization/roledefinitions", "Microsoft.Authorization/roleDefinitions"),
    ("/providers/microsoft.containerregistry/registries", "Microsoft.ContainerRegistry/registries"),
    ("/resources", "Microsoft.Resources/resources"),
    ("/locations", "Microsoft.Resources/subscriptions/locations"),
    ("/resourcegroups/", "Microsoft.Resources/resourceGroups"),
)


def _surface(path: str) -> str:
    """The ARM surface a path belongs to, as the api-version table names it."""
    low = path.lower()
    return next((name for marker, name in _SURFACES if marker in low), "Microsoft.Resources/subscriptions")


@pytest.fixture
def sandbox(empty_sandbox: SandboxServer, login_server_route: LoginServerRoute) -> Any:
    truth = Sandbox(empty_sandbox, login_server_route)
    yield truth
    truth.close()


def _aadsts(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error"], body["error_description"].split(":", 1)[0]


def test_the_documented_service_principal_scenario_passes_every_step(
    machines: Machines, sandbox: Sandbox, login_server_route: LoginServerRoute, tripwire: Tripwire,
) -> None:
    conn = sandbox.connection
    admin_id, admin_secret = conn["admin"]["client_id"], Hidden(conn["admin"]["client_secret"])
    acr_pull, acr_push = builtin_by_name("AcrPull"), builtin_by_name("AcrPush")
    assert acr_pull is not None and acr_push is not None
    secrets = machines.secrets

    # -- the operator's machine: signed in as the sandbox's admin principal -----------------------
    admin = machines.new("operator")
    # One argument, `--password=VALUE`: a secret may begin with '-' (Entra's alphabet holds it), which
    # az's argparse takes for an option (azure-cli `profile/_help.py`, `az login`: "Use --password=secret
    # if the first character of the password is '-'"): one secret in 66 here, and it failed a CI run.
    accounts = admin.json("login", "--service-principal", "--username", admin_id,
                          Hidden(f"--password={admin_secret}"), "--tenant", sandbox.tenant)
    assert {a["id"] for a in accounts} == set(conn["subscriptions"])
    assert all(a["tenantId"] == sandbox.tenant and a["user"]["type"] == "servicePrincipal" for a in accounts)

    # create-registry-service-principal-assign-role.sh: the resource group and the registry.
    group = admin.json("group", "create", "--name", RESOURCE_GROUP, "--location", "East US", "--tag", TAG)
    assert group["location"] == "eastus" and group["tags"] == {TAG: ""}  # the display name, resolved
    registry = admin.json("acr", "create", "--resource-group", RESOURCE_GROUP, "--name", REGISTRY,
                          "--sku", "Basic")
    assert registry["loginServer"] == LOGIN_SERVER and registry["sku"]["name"] == "Basic"
    assert registry["adminUserEnabled"] is False and registry["provisioningState"] == "Succeeded"

    # service-principal-create.sh, line by line.
    registry_id = admin.tsv("acr", "show", "--name", REGISTRY, "--query", "id")  # no resource group
    assert registry_id == registry["id"]
    password = Hidden(admin.tsv("ad", "sp", "create-for-rbac", "--name", SERVICE_PRINCIPAL, "--scopes",
                                registry_id, "--role", "acrpull", "--query", "password"))
    secrets.append(password)
    user_name = admin.tsv("ad", "sp", "list", "--display-name", SERVICE_PRINCIPAL, "--query", "[].appId")
    assert re.fullmatch(r"[0-9a-f-]{36}", user_name), user_name
    app_id = user_name
    # docker login with them (the article's "Use with docker login"): AcrPull pulls, never pushes.
    assert sandbox.granted(sandbox.docker_login(app_id, password, "pull", "push")) == ["pull"]

    # service-principal-assign-role.sh, with acrpush.
    assignment = admin.json("role", "assignment", "create", "--assignee", app_id, "--scope", registry_id,
                            "--role", "acrpush")
    assert assignment["roleDefinitionId"].endswith(acr_push.guid)
    assert assignment["scope"] == registry_id and assignment["principalType"] == "ServicePrincipal"
    assert sandbox.granted(sandbox.docker_login(app_id, password, "pull", "push")) == ["pull", "push"]

    # -- az ad sp credential reset: plain, --append, plain, --create-cert ---------------------------
    def reset(*extra: str) -> dict[str, Any]:
        out: dict[str, Any] = admin.json("ad", "sp", "credential", "reset", "--id", app_id, *extra)
        assert out["appId"] == app_id and out["tenant"] == sandbox.tenant
        if out.get("password"):
            out["password"] = Hidden(out["password"])
            secrets.append(out["password"])
        return out

    def signs_in(secret: str) -> bool:
        response = sandbox.sign_in(app_id, secret)
        if response.status_code == 200:
            return True
        assert _aadsts(response) == (401, "invalid_client", "AADSTS7000215"), response.text
        return False

    first = reset()["password"]
    assert signs_in(first)
    # az resets the service principal's passwords; the one create-for-rbac put on the application
    # is another object's and still signs in (azure-cli role/custom.py reset_service_principal_credential).
    assert signs_in(password)
    second = reset("--append")["password"]
    assert signs_in(first) and signs_in(second)
    third = reset()["password"]
    assert not signs_in(first) and not signs_in(second) and signs_in(third)

    with_cert = reset("--create-cert")
    assert with_cert["password"] is None
    pem_path = Path(with_cert["fileWithCertAndPrivateKey"])
    assert pem_path.parent == admin.home and stat.S_IMODE(pem_path.stat().st_mode) == 0o600
    assert not signs_in(third)  # --create-cert without --append removed the passwords first
    pem = pem_path.read_bytes()
    certificate = x509.load_pem_x509_certificate(pem)
    thumbprint = hashlib.sha1(certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    (key,) = admin.json("ad", "sp", "credential", "list", "--id", app_id, "--cert")
    assert key["customKeyIdentifier"] == thumbprint  # Graph's default: the SHA-1 thumbprint in hex
    assert key["type"] == "AsymmetricX509Cert" and key["usage"] == "Verify" and key["key"] is None
    assert key["displayName"] == "CN=CLI-Login"
    secrets.append(base64.b64encode(pem).decode())

    # -- the build machine: signed in as the principal with its certificate -------------------------
    build = machines.new("build-agent")
    cert_file = build.home / "sp.pem"
    cert_file.write_bytes(pem)
    cert_file.chmod(0o600)
    accounts = build.json("login", "--service-principal", "--username", app_id, "--certificate", str(cert_file),
                          "--tenant", sandbox.tenant)
    # The principal sees the subscription its registry role sits in.
    assert [a["id"] for a in accounts] == [registry_id.split("/")[2]]
    assert accounts[0]["user"] == {"name": app_id, "type": "servicePrincipal"}

    # az acr login --name R --expose-token: the principal can read no registry in ARM (AcrPush has
    # no registries/read), so az falls back to R.azurecr.io and exchanges its Entra token there.
    exposed = build.json("acr", "login", "--name", REGISTRY, "--expose-token")
    secrets += [exposed["accessToken"], exposed["refreshToken"]]
    exposed.update({key: Hidden(exposed[key]) for key in ("accessToken", "refreshToken")})
    assert exposed["loginServer"] == LOGIN_SERVER and exposed["username"] == NULL_GUID
    assert exposed["accessToken"] == exposed["refreshToken"]
    assert LOGIN_SERVER in login_server_route.routed
    assert sandbox.granted(sandbox.refresh_to_access(exposed["refreshToken"], "pull", "push")) == ["pull", "push"]
    principal_token = exposed["refreshToken"]

    # The same for the admin, which finds the registry through ARM.
    admin_exposed = admin.json("acr", "login", "--name", REGISTRY, "--expose-token")
    secrets += [admin_exposed["accessToken"]]
    admin_exposed.update({key: Hidden(admin_exposed[key]) for key in ("accessToken", "refreshToken")})
    assert admin_exposed["loginServer"] == LOGIN_SERVER and admin_exposed["username"] == NULL_GUID
    assert sandbox.granted(sandbox.refresh_to_access(admin_exposed["refreshToken"], "pull", "push")) == [
        "pull", "push"]

    # -- the admin user -----------------------------------------------------------------------------
    updated = admin.json("acr", "update", "--name", REGISTRY, "--admin-enabled", "true")
    assert updated["adminUserEnabled"] is True
    credentials = admin.json("acr", "credential", "show", "--name", REGISTRY)
    secrets += [p["value"] for p in credentials["passwords"]]
    assert credentials["username"] == REGISTRY
    assert [p["name"] for p in credentials["passwords"]] == ["password", "password2"]
    for p in credentials["passwords"]:
        assert sandbox.granted(sandbox.docker_login(REGISTRY, Hidden(p["value"]), "pull", "push")) == [
            "pull", "push"]

    # -- taking access away ---------------------------------------------------------------------------
    admin.run("role", "assignment", "delete", "--assignee", app_id, "--scope", registry_id, "--role", "acrpush")
    left = admin.json("role", "assignment", "list", "--assignee", app_id, "--scope", registry_id)
    assert [a["roleDefinitionId"].rsplit("/", 1)[-1] for a in left] == [acr_pull.guid]
    # The token az handed out now pulls and no longer pushes.
    assert sandbox.granted(sandbox.refresh_to_access(principal_token, "pull", "push")) == ["pull"]

    admin.run("ad", "sp", "delete", "--id", app_id)
    assert admin.json("ad", "sp", "list", "--display-name", SERVICE_PRINCIPAL) == []
    # The application is still there: Entra answers AADSTS7000229, not AADSTS700016.
    assert _aadsts(sandbox.sign_in(app_id, password)) == (401, "invalid_client", "AADSTS7000229")
    assert sandbox.docker_login(app_id, password, "pull").status_code == 401
    assert sandbox.refresh_to_access(principal_token, "pull").status_code == 401
    # A machine with no cached token: az login fails with Entra's message.
    fresh = machines.new("new-build-agent")
    refused = fresh.run("login", "--service-principal", "--username", app_id, Hidden(f"--password={password}"),
                        "--tenant", sandbox.tenant, ok=False)
    assert refused.returncode != 0 and f"AADSTS7000229: The client application {app_id} is missing service " \
        f"principal in the tenant {sandbox.tenant}" in refused.stderr

    # -- what the run sent --------------------------------------------------------------------------
    sent = sandbox.api_versions()
    unknown = {(surface, v) for surface, v in sent if AZURE_CLI_2_91_0.get(surface) != v}
    assert not unknown, f"api-versions az sent that client_versions.AZURE_CLI_2_91_0 does not list: {unknown}"
    assert {surface for surface, _ in sent} == set(AZURE_CLI_2_91_0)  # and the table lists nothing more
    assert not tripwire.seen, f"az tried to leave loopback: {tripwire.seen}"
