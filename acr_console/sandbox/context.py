"""The sandbox's running state, shared by every route: store, token issuer, settings, URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request

from .errors import ApiError
from .store import Store
from .tokens import InvalidToken, TokenIssuer

PUBLIC_ARM_AUDIENCES = {"https://management.azure.com/", "https://management.core.windows.net/"}
PUBLIC_GRAPH_AUDIENCES = {"https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"}
PUBLIC_ACR_AUDIENCE = "https://containerregistry.azure.net"
GRAPH_PREFIX = "/graph"
# The values each choice setting takes, the default first.
CHOICES: dict[str, tuple[str, ...]] = {
    "transitive_service_principals": ("omit", "include"),
    "bare_transitive_cast": ("empty", "error"),
    "registry_unknown_properties": ("ignore", "reject"),
}


@dataclass
class Settings:
    """Knobs a run can turn, from the command line or from tests while serving."""

    page_size: int = 100
    latency_ms: float = 0.0
    # Seconds after a principal is created during which ARM answers PrincipalNotFound for it, and
    # after an application is created during which Graph refuses to create its service principal
    # (403 Authorization_RequestDenied, as Azure/azure-cli#28009 logged).
    replication_delay_s: float = 0.0
    # Whether v1.0 `/groups/{id}/transitiveMembers` lists service principals. Microsoft documents
    # nothing either way (docs/reference/real-azure.md, "Open"); users report them missing
    # (microsoftgraph/microsoft-graph-docs#13029, #3410): "omit" (the default) or "include".
    transitive_service_principals: str = "omit"
    # An OData cast on a transitive list (`/transitiveMembers/microsoft.graph.group`) sent without both
    # `ConsistencyLevel: eventual` and `$count=true`: "empty" (200 with an empty value, as measured on a
    # tenant) or "error" (400 Request_UnsupportedQuery, as Graph documents for other advanced-only queries).
    bare_transitive_cast: str = "empty"
    # faults.FaultRule objects (or a spec string, parsed on first use); see faults.py for the grammar.
    # Count-limited rules count down in place, so replace the list to re-arm them.
    faults: list[Any] = field(default_factory=list)
    # The container registry api-versions this cloud or region serves (api_versions.py); None: every
    # version azure-rest-api-specs publishes. A shorter list plays a cloud that lags behind, e.g. the
    # uksouth list of 2024-11 that AzGovViz#266 quotes, which ends at 2023-11-01-preview.
    registry_api_versions: list[str] | None = None
    # What a registry PUT/PATCH naming a property its api-version lacks gets: "ignore" (dropped, as
    # the Container Registry team describes it) or "reject" (400 InvalidRequestContent).
    registry_unknown_properties: str = "ignore"
    # The device authorization grant (entra_device.py): how long a code lives (Entra: 900 s, the doc's
    # "15 minutes") and the polling interval it asks for (Entra: 5 s). Tests shorten both.
    device_code_lifetime_s: int = 900
    device_code_interval_s: int = 5


@dataclass(frozen=True)
class Caller:
    """Who a bearer token says is calling."""

    object_id: str  # the service principal's object id
    app_id: str
    tenant_id: str
    roles: tuple[str, ...] = ()  # Graph application permissions
    # "app" for an application's own token (client credentials), "user" for a person's (the token's
    # `idtyp`): a person's delegated permissions reach only as far as their own rights.
    kind: str = "app"


def _permissions(claims: dict[str, Any]) -> tuple[str, ...]:
    """An app token's `roles`; for a user's token its delegated `scp`. The sandbox's only user is a
    Global Administrator, for whom a delegated permission reaches as far as the application permission
    of the same name; `Directory.AccessAsUser.All` acts as the user, so as `Directory.ReadWrite.All`
    (learn.microsoft.com/graph/permissions-reference)."""
    if claims.get("idtyp") != "user":
        return tuple(claims.get("roles", ()))
    scopes = str(claims.get("scp", "")).split()
    if "Directory.AccessAsUser.All" in scopes:
        scopes.append("Directory.ReadWrite.All")
    return tuple(scopes)


class Sandbox:
    def __init__(self, data_dir: Path, settings: Settings | None = None) -> None:
        self.data_dir = data_dir
        self.store = Store(data_dir / "sandbox.db")
        self.settings = settings or Settings()
        self.base_url = "https://127.0.0.1"  # replaced with the bound port once listening
        self._issuer: TokenIssuer | None = None

    @property
    def issuer(self) -> TokenIssuer:
        if self._issuer is None:
            self._issuer = TokenIssuer(self.data_dir, f"https://sts.windows.net/{self.store.tenant_id}/")
        return self._issuer

    def set_port(self, port: int) -> None:
        self.base_url = f"https://127.0.0.1:{port}"

    @property
    def graph_base(self) -> str:
        return self.base_url + GRAPH_PREFIX

    @property
    def arm_audiences(self) -> set[str]:
        return PUBLIC_ARM_AUDIENCES | {self.base_url, self.base_url + "/"}

    @property
    def graph_audiences(self) -> set[str]:
        return PUBLIC_GRAPH_AUDIENCES | {self.graph_base, self.graph_base + "/"}

    def issuable(self, audience: str) -> bool:
        """Whether Entra here knows a resource with this audience: ARM, Graph, or the container
        registry (`https://containerregistry.azure.net`, which ACR's token exchange accepts). Any other
        is a resource with no service principal in the tenant (AADSTS500011)."""
        known = self.arm_audiences | self.graph_audiences | {PUBLIC_ACR_AUDIENCE}
        return audience.rstrip("/").lower() in {a.rstrip("/").lower() for a in known}

    def _challenge(self, plane: str, message: str) -> dict[str, str]:
        """The WWW-Authenticate header a refused token gets, in the shape each service sends (ARM
        names the tenant's authority, Graph its own client id)."""
        if plane == "arm":
            detail = message.replace('"', "'")
            value = (f'Bearer authorization_uri="{self.base_url}/{self.store.tenant_id}", error="invalid_token", '
                     f'error_description="{detail}"')
        else:
            value = (f'Bearer realm="", authorization_uri="{self.base_url}/common/oauth2/authorize", '
                     'client_id="00000003-0000-0000-c000-000000000000"')
        return {"WWW-Authenticate": value}

    def authenticate(self, request: Request, plane: str) -> Caller:
        """The caller behind a request's bearer token, or ApiError 401 in the plane's shape."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        code = "InvalidAuthenticationToken"
        if scheme.lower() != "bearer" or not token:
            message = "Authentication failed. The 'Authorization' header is missing."
            raise ApiError(401, "AuthenticationFailed" if plane == "arm" else code, message,
                           self._challenge(plane, message))
        audiences = self.arm_audiences if plane == "arm" else self.graph_audiences
        try:
            claims = self.issuer.verify(token.strip(), audiences)
        except InvalidToken as exc:
            status_code = "ExpiredAuthenticationToken" if "expired" in str(exc) else code
            message = f"Access token validation failure: {exc}."
            if exc.wrong_audience is not None and plane == "arm":
                # ARM names this case apart (clients such as azure-tools-for-java#2341 test for the
                # code), with the audiences it takes.
                status_code = "InvalidAuthenticationTokenAudience"
                allowed = ",".join(f"'{a}'" for a in ("https://management.core.windows.net/",
                                                      "https://management.core.windows.net",
                                                      "https://management.azure.com/", "https://management.azure.com"))
                message = (f"The access token has been obtained for wrong audience or resource "
                           f"'{exc.wrong_audience}'. It should exactly match with one of the allowed audiences "
                           f"{allowed}.")
            elif exc.wrong_audience is not None:
                # Graph's words for it (learn.microsoft.com/graph/resolve-auth-errors).
                message = "Access token validation failure. Invalid audience."
            raise ApiError(401, status_code, message, self._challenge(plane, message)) from None
        if claims.get("tid") != self.store.tenant_id:
            message = "The access token is from the wrong tenant."
            raise ApiError(401, code, message, self._challenge(plane, message))
        caller = Caller(
            object_id=str(claims.get("oid", "")),
            app_id=str(claims.get("appid", "")),
            tenant_id=str(claims["tid"]),
            roles=_permissions(claims),
            kind="user" if claims.get("idtyp") == "user" else "app",
        )
        # A person's token is logged by their UPN, an application's by its client id.
        request.state.principal = str(claims.get("upn") or caller.app_id)
        return caller
