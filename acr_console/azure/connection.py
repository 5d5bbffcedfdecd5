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
    acr_suffix: str = ".azurecr.io"


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
        "AzureUSGovernment", "https://login.microsoftonline.us", "https://management.usgovcloudapi.net/",
        "https://graph.microsoft.us", "https://management.usgovcloudapi.net/.default",
        "https://graph.microsoft.us/.default", ".azurecr.us",
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
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    # Where a device-code prompt goes (the CLI prints it, the TUI shows a screen).
    device_code_prompt: Callable[[str, str, Any], None] | None = field(default=None, compare=False, repr=False)


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
