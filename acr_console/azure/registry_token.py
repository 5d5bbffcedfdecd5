"""The registry's token flow, as `docker login` runs it, to prove a credential works (or no longer does).

1. `GET https://{login server}/v2/` answers 401 with a `Www-Authenticate: Bearer realm=…,service=…` challenge;
2. `GET {realm}?service=…&scope=…` with HTTP Basic `appId:secret` answers `{"access_token"}`, whose
   `access` claim lists the actions the registry actually granted;
3. `GET /v2/` with that token answers 200.

Requests are addressed through `Connection.registry_url`, so against the sandbox they reach its
data-plane endpoint with the login server as the Host header, and on Azure the registry itself.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from ..secret import Secret
from .clients import AzureClients
from .errors import AzureCallError, translated
from .network import client_kwargs

_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_SCOPE = re.compile(r"^(repository|registry|artifact-repository):[^:\s]+:[a-z*,]+$")
TIMEOUT_S = 30.0


def valid_scope(scope: str) -> bool:
    """`repository:NAME:pull,push`, `registry:catalog:*` and the like (docker's scope grammar)."""
    return bool(_SCOPE.match(scope))


@dataclass(frozen=True)
class Grant:
    type: str
    name: str
    actions: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}


@dataclass(frozen=True)
class TokenResult:
    login_server: str
    username: str
    scopes: tuple[str, ...]
    granted: tuple[Grant, ...] = ()
    verified: bool = False  # the token opened /v2/
    missing: tuple[str, ...] = field(default=())  # requested "type:name:action" not granted

    def to_json(self) -> dict[str, Any]:
        return {"loginServer": self.login_server, "username": self.username, "scopes": list(self.scopes),
                "granted": [g.to_json() for g in self.granted], "verified": self.verified,
                "missing": list(self.missing), "ok": not self.missing}


def parse_challenge(header: str) -> dict[str, str]:
    scheme, _, rest = header.strip().partition(" ")
    params = {k.lower(): v for k, v in _CHALLENGE_PARAM.findall(rest)}
    params["scheme"] = scheme.lower()
    return params


def _missing(scopes: tuple[str, ...], granted: tuple[Grant, ...]) -> tuple[str, ...]:
    have = {(g.type, g.name): set(g.actions) for g in granted}
    out = []
    for scope in scopes:
        kind, name, actions = scope.split(":", 2)
        got = have.get((kind, name), set())
        out += [f"{kind}:{name}:{a}" for a in actions.split(",") if a not in got and "*" not in got]
    return tuple(out)


async def _challenge(http: Any, az: AzureClients, login_server: str) -> tuple[str, dict[str, str], dict[str, str]]:
    url, headers = az.connection.registry_url(f"https://{login_server}/v2/")
    ping = await http.get(url, headers=headers)
    if ping.status_code == 404:
        raise AzureCallError("RegistryNotFound", f"no registry answers at {login_server}", 404)
    if ping.status_code == 403:
        raise AzureCallError("Forbidden", f"{login_server} refused the connection (a firewall or network rule)", 403)
    challenge = parse_challenge(ping.headers.get("www-authenticate", ""))
    if ping.status_code != 401 or challenge.get("scheme") != "bearer" or "realm" not in challenge:
        raise AzureCallError("UnexpectedChallenge", f"{login_server}/v2/ answered {ping.status_code} without a "
                         "Bearer challenge; is this a container registry?", ping.status_code)
    return url, headers, challenge


def _refused(login_server: str, who: str, status: int) -> AzureCallError:
    return AzureCallError("Unauthorized", f"{login_server} refused the credentials of {who} (HTTP {status}): the "
                      "secret is wrong, expired or removed, or the principal is disabled, deleted or has no role "
                      "there", status)


def _token_from(answer: Any, login_server: str, login_who: str, key: str = "access_token") -> str:
    if answer.status_code in (401, 403):
        raise _refused(login_server, login_who, answer.status_code)
    if answer.status_code >= 400:
        raise AzureCallError(f"HTTP{answer.status_code}", f"the token service of {login_server} failed",
                         answer.status_code)
    body = answer.json() or {}
    token = body.get(key) or (body.get("token") if key == "access_token" else None)
    if not token:
        raise AzureCallError("NoToken", f"the token service of {login_server} returned no {key}", answer.status_code)
    return str(token)


async def try_registry_login(az: AzureClients, login_server: str, username: str, password: Secret,
                             scopes: tuple[str, ...] = ()) -> TokenResult:
    """Basic appId:secret, as `docker login -u APPID -p SECRET` does; raises AzureCallError when refused."""
    import httpx

    basic = base64.b64encode(f"{username}:{password.reveal()}".encode()).decode()
    async with httpx.AsyncClient(**client_kwargs(az.connection.network, az.ssl_context), timeout=TIMEOUT_S) as http:
        with translated(f"token flow at {login_server}"):
            url, headers, challenge = await _challenge(http, az, login_server)
            params: list[tuple[str, str | int | float | bool | None]] = [
                ("service", challenge.get("service", login_server)), *(("scope", s) for s in scopes)]
            token_url, token_headers = az.connection.registry_url(challenge["realm"])
            answer = await http.get(token_url, params=params,
                                    headers={**token_headers, "Authorization": f"Basic {basic}"})
            token = _token_from(answer, login_server, username)
            check = await http.get(url, headers={**headers, "Authorization": f"Bearer {token}"})
    granted = _granted(token)
    return TokenResult(login_server, username, scopes, granted, check.status_code == 200, _missing(scopes, granted))


async def try_registry_login_with_entra_token(az: AzureClients, login_server: str, entra_token: Secret,
                                              tenant_id: str, scopes: tuple[str, ...] = (),
                                              who: str = "the signed-in principal") -> TokenResult:
    """The `az acr login` path for an Entra token (a certificate principal has no password to send):
    /oauth2/exchange turns it into an ACR refresh token, /oauth2/token into an access token."""
    import httpx

    async with httpx.AsyncClient(**client_kwargs(az.connection.network, az.ssl_context), timeout=TIMEOUT_S) as http:
        with translated(f"token exchange at {login_server}"):
            url, headers, challenge = await _challenge(http, az, login_server)
            service = challenge.get("service", login_server)
            exchange_url, exchange_headers = az.connection.registry_url(f"https://{login_server}/oauth2/exchange")
            answer = await http.post(exchange_url, headers=exchange_headers, data={
                "grant_type": "access_token", "service": service, "tenant": tenant_id,
                "access_token": entra_token.reveal()})
            refresh = _token_from(answer, login_server, who, "refresh_token")
            token_url, token_headers = az.connection.registry_url(challenge["realm"])
            answer = await http.post(token_url, headers=token_headers, data={
                "grant_type": "refresh_token", "service": service, "scope": list(scopes),
                "refresh_token": refresh})
            token = _token_from(answer, login_server, who)
            check = await http.get(url, headers={**headers, "Authorization": f"Bearer {token}"})
    granted = _granted(token)
    return TokenResult(login_server, who, scopes, granted, check.status_code == 200, _missing(scopes, granted))


def _granted(token: str) -> tuple[Grant, ...]:
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False})  # the registry verifies it, not us
    except jwt.PyJWTError:
        return ()
    return tuple(Grant(str(a.get("type", "")), str(a.get("name", "")), tuple(a.get("actions") or ()))
                 for a in claims.get("access") or [] if isinstance(a, dict))
