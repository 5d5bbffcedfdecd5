"""Access tokens kept in the process, per request key, in front of whatever credential signs in.

Why by hand: neither azure-core nor azure-identity offers a cache that can sit in front of an
arbitrary credential. azure-core's BearerTokenCredentialPolicy keeps one token per pipeline (every
ARM management client has its own), and kiota's AzureIdentityAccessTokenProvider keeps none: it
calls `get_token` for every Graph request (kiota_authentication_azure,
azure_identity_access_token_provider.py). azure-identity caches inside its MSAL-based credentials
only; AzureCliCredential runs `az account get-access-token` on every call by design
(Azure/azure-sdk-for-python#40636: "by design that we don't cache access token from azure cli in
memory"; the concern there, a later `az login` as someone else, does not arise within one command
or one console session, which is all this cache lives for).

What it does:
- one entry per (scopes, claims, tenant, enable_cae), shared by `get_token` (azure-core's
  AsyncTokenCredential, what kiota calls) and `get_token_info` (AsyncSupportsTokenInfo, what
  azure-core's BearerTokenCredentialPolicy prefers when the credential has it);
- an entry is served until its `refresh_on` when the credential gave one, else until five minutes
  before `expires_on` (azure-core's own rule, `_should_refresh_token` in
  azure/core/pipeline/policies/_authentication.py, and azure-identity's DEFAULT_REFRESH_OFFSET of
  300 s), and never after `expires_on`;
- concurrent first requests for one key start one request to the credential; the others await it
  (and share its failure: sixteen `az` processes failing the same way help nobody). The request
  runs as a task of its own, so a caller that is cancelled leaves the others their answer;
- a request with claims (a claims challenge) always goes to the credential, as MSAL bypasses its
  cache for one; a token it gets also replaces the entry without claims, which the service has
  just refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions

# azure-identity's DEFAULT_REFRESH_OFFSET (azure/identity/_constants.py): a token without
# refresh_on is renewed this many seconds before it expires.
REFRESH_OFFSET_S = 300

Key = tuple[tuple[str, ...], str | None, str | None, bool]


def _fresh(info: AccessTokenInfo, now: float) -> bool:
    if info.expires_on <= now:
        return False
    refresh_on = getattr(info, "refresh_on", None)
    if refresh_on:
        return now < min(refresh_on, info.expires_on)
    return now < info.expires_on - REFRESH_OFFSET_S


class CachingCredential:
    """An async credential that answers from a per-key token cache and asks `inner` only when the
    key's token is missing or due for refresh (see the module's docstring)."""

    def __init__(self, inner: Any, *, clock: Callable[[], float] = time.time) -> None:
        self.inner = inner
        self._clock = clock
        self._tokens: dict[Key, AccessTokenInfo] = {}
        self._pending: dict[Key, asyncio.Task[AccessTokenInfo]] = {}

    # -- the two protocols ---------------------------------------------------------------------

    async def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        opts: dict[str, Any] = {k: v for k, v in (options or {}).items() if v is not None}
        key: Key = (scopes, opts.get("claims"), opts.get("tenant_id"), bool(opts.get("enable_cae", False)))
        return await self._get(key, lambda: self._ask(scopes, opts))

    async def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                        enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        from azure.core.credentials import AccessToken

        opts: dict[str, Any] = {"claims": claims, "tenant_id": tenant_id, "enable_cae": enable_cae or None}
        opts = {k: v for k, v in opts.items() if v is not None}
        if kwargs:
            # Options outside the key (none of the console's callers pass any): not cached.
            info = await self._ask(scopes, opts, extra=kwargs)
        else:
            key: Key = (scopes, claims, tenant_id, bool(enable_cae))
            info = await self._get(key, lambda: self._ask(scopes, opts))
        # kiota accepts only an AccessToken (it checks isinstance), whatever the credential returns.
        return AccessToken(info.token, int(info.expires_on))

    # -- the cache -----------------------------------------------------------------------------

    async def _get(self, key: Key, ask: Callable[[], Awaitable[AccessTokenInfo]]) -> AccessTokenInfo:
        scopes, claims, tenant_id, cae = key
        if claims:
            info = await ask()
            self._tokens[key] = self._tokens[(scopes, None, tenant_id, cae)] = info
            return info
        cached = self._tokens.get(key)
        if cached is not None and _fresh(cached, self._clock()):
            return cached
        loop = asyncio.get_running_loop()
        task = self._pending.get(key)
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._pending[key] = loop.create_task(self._fill(key, ask))
            # Read the outcome even if every caller was cancelled, so asyncio reports nothing.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return await asyncio.shield(task)

    async def _fill(self, key: Key, ask: Callable[[], Awaitable[AccessTokenInfo]]) -> AccessTokenInfo:
        try:
            info = await ask()
            self._tokens[key] = info
            return info
        finally:
            if self._pending.get(key) is asyncio.current_task():
                del self._pending[key]

    async def _ask(self, scopes: tuple[str, ...], opts: dict[str, Any],
                   extra: dict[str, Any] | None = None) -> AccessTokenInfo:
        """One request to the inner credential, through get_token_info when it has one (azure-core's
        policy makes the same choice) and the request carries nothing else."""
        from azure.core.credentials import AccessTokenInfo

        if hasattr(self.inner, "get_token_info") and not extra:
            info: AccessTokenInfo = await self.inner.get_token_info(*scopes, options=opts)
            return info
        token = await self.inner.get_token(*scopes, **opts, **(extra or {}))
        return AccessTokenInfo(token.token, int(token.expires_on))

    # -- lifetime ------------------------------------------------------------------------------

    async def close(self) -> None:
        # A request still running (an `az` process) is stopped, not waited for: the caller is leaving.
        for task in self._pending.values():
            task.cancel()
        self._pending.clear()
        self._tokens.clear()
        await self.inner.close()

    async def __aenter__(self) -> CachingCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
