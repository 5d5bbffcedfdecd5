"""The synchronous (requests) transport of the interactive credentials, on the connection's network.

azure-identity has no async DeviceCodeCredential or InteractiveBrowserCredential: they send their
token requests with azure-core's RequestsTransport. Left to itself that transport reads the
environment (`trust_env`): it ignores a profile's `proxy`, and `REQUESTS_CA_BUNDLE` or
`connection_verify=PATH` *replace* the trusted roots instead of adding to the system's. So the
credentials get a `RequestsTransport(session=…)` (azure-core's documented way to hand it a configured
session, azure/core/pipeline/transport/_requests_basic.py) whose session
- has `trust_env=False`, so requests reads no proxy or CA variable of its own (network.py read them);
- sends each request through the proxy the connection's routes choose for its URL, matched by httpx's
  own `URLPattern` (what httpx uses for the async stacks' `mounts=`), so NO_PROXY means the same
  for every stack in the process;
- verifies TLS with the connection's one SSLContext (the system store plus every added CA, or the
  sandbox's pinned CA). requests has no `ssl_context=` argument; its documented way to use one is a
  subclass of HTTPAdapter that puts it into urllib3's pool keyword arguments ("To override these
  settings, one may subclass this class…", requests/adapters.py,
  `build_connection_pool_key_attributes`, requests ≥ 2.32). The adapter also skips requests'
  `cert_verify`, which would set the pool's `ca_certs` to certifi's bundle, and urllib3 loads
  `ca_certs` *into* the context it is given (urllib3/util/ssl_.py, `ssl_wrap_socket`): the shared
  context would gain certifi's roots, even the sandbox's pinned one.
"""

from __future__ import annotations

from typing import Any

from .connection import Connection


def requests_transport(conn: Connection) -> Any:
    """An azure-core RequestsTransport for `conn`'s proxies and trust."""
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    from . import network

    context = conn.ssl_context or network.ssl_context(conn.network, conn.ca_bundle)
    routes = sorted_routes(conn.network.routes)

    class Adapter(HTTPAdapter):
        def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None,
                                                 ) -> tuple[dict[str, Any], dict[str, Any]]:
            host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
            pool.pop("ca_certs", None)
            pool.pop("ca_cert_dir", None)
            pool["cert_reqs"] = "CERT_REQUIRED"
            pool["ssl_context"] = context
            return host, pool

        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            conn.cert_reqs = "CERT_REQUIRED"  # the trust is the context's (see the module's docstring)

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            kwargs["proxies"] = _proxies_for(request.url, routes)
            return super().send(request, *args, **kwargs)

    session = requests.Session()
    session.trust_env = False
    # azure-core's own adapter has retries off (its pipeline retries); so does this one.
    adapter = Adapter(max_retries=Retry(total=False, redirect=False, raise_on_status=False))
    for prefix in ("http://", "https://"):
        session.mount(prefix, adapter)
    return RequestsTransport(session=session, session_owner=True, connection_timeout=conn.timeout_s,
                             read_timeout=conn.timeout_s)


def sorted_routes(routes: tuple[tuple[str, str | None], ...]) -> list[tuple[Any, str | None]]:
    """The routes as httpx's URLPatterns, in the order httpx tries its mounts (most specific first:
    httpx/_client.py sorts `mounts` by URLPattern's priority)."""
    from httpx._utils import URLPattern

    return sorted(((URLPattern(pattern), proxy) for pattern, proxy in routes), key=lambda r: r[0])


def _proxies_for(url: str, routes: list[tuple[Any, str | None]]) -> dict[str, str]:
    """requests' `proxies=` for one URL: the first route whose pattern matches (httpx's order, most
    specific first), or none (direct)."""
    from httpx import URL

    target = URL(url)
    for pattern, proxy in routes:
        if pattern.matches(target):
            return {target.scheme: proxy} if proxy else {}
    return {}

