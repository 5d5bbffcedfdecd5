"""Where the console connects and how it signs in: a cloud's endpoints, or the sandbox's.

Only endpoints, trust and the credential differ between real Azure and the sandbox; everything
above the client factory is the same code path.
"""

from __future__ import annotations

import enum
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .network import NetworkSettings


@dataclass(frozen=True, slots=True)
class Cloud:
    name: str
    authority_host: str
    resource_manager: str
    microsoft_graph: str  # base URL; API versions live under it ("/v1.0")
    # Scopes keep the public names even against the sandbox: it checks audiences as Azure does,
    # which catches wiring mistakes.
    arm_scope: str
    graph_scope: str
    # What a registry's login server ends with: NAME + this. Printed in hints (`docker login ...`).
    acr_suffix: str = ".azurecr.io"


# The one table of clouds. tests/azure/test_clouds.py compares it at run time with the SDKs' own
# tables, so a drift is a failing test, not a sign-in that fails in one cloud only:
# - authority hosts: azure-identity's `AzureAuthorityHosts` (azure/identity/_constants.py);
# - ARM endpoint and audience: azure-mgmt-core's `get_arm_endpoints` (azure/mgmt/core/tools.py),
#   which for US Government asks for `https://management.core.usgovcloudapi.net/.default` (the
#   classic audience, `activeDirectoryResourceId` of `az cloud show -n AzureUSGovernment`), not the
#   ARM host's own name;
# - Microsoft Graph: msgraph-core's `NationalClouds` (msgraph_core/_enums.py), after
#   https://learn.microsoft.com/graph/deployments ("Microsoft Graph for US Government L5 (DOD)" is
#   dod-graph.microsoft.us; DoD tenants sign in at login.microsoftonline.us and use US Government's
#   ARM, https://learn.microsoft.com/azure/azure-government/documentation-government-developer-guide);
# - registry suffixes: https://learn.microsoft.com/azure/azure-government/documentation-government-services-containers
#   (azurecr.us) and https://learn.microsoft.com/azure/china/resources-developer-guide (azurecr.cn).
_US_GOV_ARM = "https://management.usgovcloudapi.net/"
_US_GOV_ARM_SCOPE = "https://management.core.usgovcloudapi.net/.default"
CLOUDS: dict[str, Cloud] = {
    "AzureCloud": Cloud(
        "AzureCloud", "https://login.microsoftonline.com", "https://management.azure.com/",
        "https://graph.microsoft.com", "https://management.azure.com/.default",
        "https://graph.microsoft.com/.default",
    ),
    "AzureChinaCloud": Cloud(
        "AzureChinaCloud", "https://login.chinacloudapi.cn", "https://management.chinacloudapi.cn/",
        "https://microsoftgraph.chinacloudapi.cn", "https://management.chinacloudapi.cn/.default",
        "https://microsoftgraph.chinacloudapi.cn/.default", ".azurecr.cn",
    ),
    "AzureUSGovernment": Cloud(
        "AzureUSGovernment", "https://login.microsoftonline.us", _US_GOV_ARM,
        "https://graph.microsoft.us", _US_GOV_ARM_SCOPE, "https://graph.microsoft.us/.default", ".azurecr.us",
    ),
    # Azure Government's DoD regions: the same sign-in and ARM as US Government, their own Graph.
    "AzureUSGovernmentDoD": Cloud(
        "AzureUSGovernmentDoD", "https://login.microsoftonline.us", _US_GOV_ARM,
        "https://dod-graph.microsoft.us", _US_GOV_ARM_SCOPE, "https://dod-graph.microsoft.us/.default",
        ".azurecr.us",
    ),
}


class AuthMethod(enum.StrEnum):
    CLI = "cli"
    DEVICE_CODE = "device-code"
    ENV = "env"
    MANAGED_IDENTITY = "managed-identity"
    BROWSER = "browser"
    # A client id and secret handed over directly: the sandbox's admin, or a pipeline's principal.
    SECRET = "secret"


@dataclass(frozen=True, slots=True)
class Auth:
    method: AuthMethod
    # The secret's application, or with a managed identity the user-assigned identity's client id
    # (None: the host's system-assigned identity).
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    # Where a device-code prompt goes (the CLI prints it, the TUI shows a screen).
    device_code_prompt: Callable[[str, str, Any], None] | None = field(default=None, compare=False, repr=False)
    # Device code and browser: keep the sign-in between commands (token_store.py); False keeps tokens
    # in memory only (`--no-token-cache`, a profile's `token_cache = "memory"`).
    persist_tokens: bool = True
    # Told once per interactive sign-in which store keeps the tokens (the CLI prints it on stderr).
    sign_in_notice: Callable[[str], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Connection:
    cloud: Cloud
    tenant_id: str | None
    auth: Auth
    ca_bundle: str | None = None  # the only CA trusted (the sandbox's own); None: the system's trust store
    # CAs added to the store and the proxies, for every HTTP stack (network.py); made by the session.
    network: NetworkSettings = field(default_factory=NetworkSettings)
    # The one context built from those (network.ssl_context), by the session; None: built by the clients.
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)
    subscriptions: tuple[str, ...] = ()  # empty: every subscription the identity can see
    sandbox: bool = False
    read_only: bool = False
    registry_endpoint: str | None = None  # data-plane URL when registries are not reached by name
    # Seconds to wait for any one answer (connect, or between reads); a stalled request then fails
    # or is retried instead of holding the console for azure-core's default of five minutes.
    timeout_s: float = 60.0

    @property
    def sign_in_label(self) -> str:
        """How the connection signs in, naming the identity where the user chose one (the status
        line and sign-in errors show it: with several identities on a host, which one matters)."""
        method = self.auth.method
        if method is AuthMethod.MANAGED_IDENTITY:
            mi = self.auth.client_id
            return f"managed identity {mi}" if mi else "system-assigned managed identity"
        return {AuthMethod.CLI: "Azure CLI", AuthMethod.DEVICE_CODE: "device code", AuthMethod.ENV: "environment",
                AuthMethod.BROWSER: "browser", AuthMethod.SECRET: "client secret"}[method]

    @property
    def is_microsoft_authority(self) -> bool:
        return self.cloud.authority_host in {c.authority_host for c in CLOUDS.values()}

    @property
    def label(self) -> str:
        return "sandbox" if self.sandbox else self.cloud.name

    def registry_url(self, url: str) -> tuple[str, dict[str, str]]:
        """Where to send a registry data-plane request for `url` (https://{login server}/...), and
        the headers that choose the registry. On Azure that is the URL itself; with a
        `registry_endpoint` (the sandbox) the request goes there with the login server as Host."""
        if self.registry_endpoint is None:
            return url, {}
        parts = urlsplit(url)
        base = urlsplit(self.registry_endpoint)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, "")), {"Host": parts.netloc}


def sandbox_connection(doc: dict[str, Any], *, read_only: bool = False,
                       subscriptions: tuple[str, ...] = ()) -> Connection:
    """A Connection from the sandbox's connection.json."""
    public = CLOUDS["AzureCloud"]
    cloud = replace(
        public,
        name="sandbox",
        authority_host=doc["authority_host"],
        resource_manager=doc["resource_manager"],
        microsoft_graph=doc["microsoft_graph"].rstrip("/"),
    )
    admin = doc["admin"]
    return Connection(
        cloud=cloud,
        tenant_id=doc["tenant_id"],
        auth=Auth(AuthMethod.SECRET, admin["client_id"], admin["client_secret"]),
        # null in connection.json: trust the system store and added CAs only (a test of --ca-bundle).
        ca_bundle=doc.get("ca_bundle"),
        subscriptions=subscriptions,
        sandbox=True,
        read_only=read_only,
        registry_endpoint=doc.get("registry_endpoint"),
    )
