"""Riding out what the SDKs' own retry policies leave to the caller, in one place for each stack
(the waiting itself is retry.py's).

- A token the service refuses as expired or invalid while the credential still holds it valid (the
  clocks disagree, the token was revoked): a new one is fetched past every cache, once, and the
  request is sent again. Without this a long-lived console fails every call until it is restarted,
  because azure-identity keeps handing out the refused token until its own expiry time.
- Microsoft Graph reads that meet a dropped connection, a timeout or a 500/502: msgraph retries only
  429/503/504, while azure-core already retries all of these for ARM. Only requests that cannot
  change anything are repeated; a write whose answer was lost is reported as unknown instead (the
  plan's checks find out on the next run).

Imported when a client is built, never at start-up: it pulls in azure-core and httpx.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from azure.mgmt.core.policies import AsyncARMChallengeAuthenticationPolicy

from .retry import TRANSIENT, Again, retrying

# Error codes with which ARM and Graph refuse a token (Graph uses the second for expired ones too).
REFUSED_TOKEN_CODES = frozenset({"ExpiredAuthenticationToken", "InvalidAuthenticationToken"})
READ_RETRIES = 2
_TRANSIENT_STATUS = frozenset({500, 502})
# POST actions that only read: they may be repeated like a GET.
_READ_ACTIONS = ("/directoryObjects/getByIds",)


def refused_token(status: int, body: bytes | str | None) -> bool:
    if status != 401 or not body:
        return False
    try:
        doc = json.loads(body)
    except ValueError:
        return False
    err = doc.get("error") if isinstance(doc, dict) else None
    return isinstance(err, dict) and err.get("code") in REFUSED_TOKEN_CODES


def _fresh_claims() -> str:
    # The claims of a CAE challenge: "a token issued from now on" is one no cache can answer.
    return json.dumps({"access_token": {"nbf": {"essential": True, "value": str(int(time.time()))}}})


async def fresh_token(credential: Any, scope: str, **kwargs: Any) -> Any:
    """A token for `scope` that no cache supplied; it also replaces the credential's cached one."""
    try:
        return await credential.get_token(scope, claims=_fresh_claims(), **kwargs)
    except Exception:
        # The Azure CLI credential takes no claims; it caches nothing either, so plainly asking works.
        return await credential.get_token(scope, **kwargs)


class RenewingARMAuthPolicy(AsyncARMChallengeAuthenticationPolicy):
    """ARM's challenge policy, plus one retry with a fresh token when the token is refused."""

    async def send(self, request: Any) -> Any:
        response = await super().send(request)
        http = response.http_response
        if http.status_code != 401 or request.context.options.get("stream"):
            return response
        try:
            body = http.body()
        except Exception:  # a body that was not loaded: not worth a second try
            return response
        if not refused_token(http.status_code, body):
            return response
        token = await fresh_token(self._credential, *self._scopes)
        request.http_request.headers["Authorization"] = f"Bearer {token.token}"
        # The policy's own cache was cleared by the 401; the next request reads the renewed token.
        return await self.next.send(request)


def _repeatable(request: httpx.Request) -> bool:
    method = request.method.upper()
    if method in ("GET", "HEAD"):
        return True
    if method != "POST":
        return False
    path = request.url.path
    if path.endswith(_READ_ACTIONS):
        return True
    if path.endswith("/$batch"):
        # The console batches reads only; a batch holding a write is never repeated.
        try:
            inner = json.loads(request.content or b"{}").get("requests", [])
        except ValueError:
            return False
        return all(str(r.get("method", "GET")).upper() == "GET" for r in inner)
    return False


class ResilientGraphTransport(httpx.AsyncBaseTransport):
    """Wraps the network transport under msgraph's middleware, so every retry of kiota's passes here too."""

    def __init__(self, inner: httpx.AsyncBaseTransport, credential: Any, scope: str, *, cae: bool) -> None:
        self._inner = inner
        self._credential = credential
        self._scope = scope
        self._cae = cae

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        repeatable = _repeatable(request)
        renewed = False
        discarded: list[httpx.Response] = []

        async def send() -> httpx.Response:
            nonlocal renewed
            while discarded:  # a transient answer that is being retried: nobody reads it
                await discarded.pop().aclose()
            response = await self._inner.handle_async_request(request)
            if response.status_code == 401 and not renewed:
                await response.aread()
                if refused_token(401, response.content):
                    renewed = True
                    token = await fresh_token(self._credential, self._scope, enable_cae=self._cae)
                    request.headers["Authorization"] = f"Bearer {token.token}"
                    await response.aclose()
                    # Part of the same try: a refused token does not use one up.
                    response = await self._inner.handle_async_request(request)
            if response.status_code in _TRANSIENT_STATUS and repeatable:
                discarded.append(response)
                raise Again(answer=response)
            return response

        try:
            return await retrying(send, backoff=TRANSIENT, attempts=READ_RETRIES + 1,
                                  retry_on=lambda exc: repeatable and isinstance(exc, httpx.TransportError))
        except Again as last:  # out of tries: the last transient answer is the answer
            return last.answer

    async def aclose(self) -> None:
        await self._inner.aclose()

