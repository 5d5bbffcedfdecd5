"""azure-core's own async transport (aiohttp) for ARM and the credential, on the connection's network.

azure-core's `AioHttpTransport` is the transport its async clients use by default and the one its
team maintains; on this project's benchmark machine it cost about half the client CPU of an ARM GET
that the previous hand-written httpx transport did (0.5 ms against 1.25 ms for a small body, 1.1 ms
against 2.5 ms for a 100-item page). It maps aiohttp's errors to azure-core's, so the retry policy
sees what it expects: a connection that fails or drops → ServiceRequestError, a connect timeout →
ServiceRequestTimeoutError, a read timeout → ServiceResponseTimeoutError
(azure/core/pipeline/transport/_aiohttp.py, `AioHttpTransport.send`). Its price is one more HTTP
library in the process (Graph keeps httpx): importing aiohttp takes about 0.09 s on a worker thread
(it builds two SSL contexts at import), so a command of a few requests (`registries --json` on the
demo tenant) took 0.07 s longer, while the 500-registry report used 1.4–1.9 s less CPU.

The one thing it does not take from this console is the proxy: it reads the environment itself
(`use_env_settings`) or a `proxies=` mapping by scheme, neither of which knows a profile's proxy or
NO_PROXY's rules as network.py applies them to every stack. Its `send` also takes a single `proxy=`
per request, handed to aiohttp as is (`proxy = config.pop("proxy", None)`, same function), so this
subclass passes the proxy network.py's routes choose for each URL (`network.proxy_for`).
"""

from __future__ import annotations

from typing import Any

from azure.core.pipeline.transport import AioHttpTransport

from . import network


class RoutedAioHttpTransport(AioHttpTransport):
    """AioHttpTransport whose requests go through the proxy `settings` route their URL to (or direct)."""

    def __init__(self, settings: network.NetworkSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._network = settings

    async def send(self, request: Any, **config: Any) -> Any:
        if self._network.routes and "proxy" not in config:
            config["proxy"] = network.proxy_for(self._network, request.url)
        return await super().send(request, **config)
