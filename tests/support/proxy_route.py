"""A proxy.py plugin for tests/cli/test_proxy_and_ca.py: tunnels asked for port FROM go to port TO.

The test points the console at a loopback port where nothing listens (its connection file names
it), so a request that does not go through the proxy cannot reach the sandbox at all; the proxy,
and only the proxy, forwards that port to the sandbox's real one. Uses proxy.py's documented plugin
hook `before_upstream_connection` (https://github.com/abhinavsingh/proxy.py#http-proxy-plugins),
which may return the request with another upstream host or port. The ports come from the
environment the test starts the proxy with (ACR_TEST_PROXY_FROM_PORT, ACR_TEST_PROXY_TO_PORT).
"""

from __future__ import annotations

import os

from proxy.http.parser import HttpParser
from proxy.http.proxy import HttpProxyBasePlugin


class RouteToSandbox(HttpProxyBasePlugin):
    def before_upstream_connection(self, request: HttpParser) -> HttpParser | None:
        if request.port == int(os.environ["ACR_TEST_PROXY_FROM_PORT"]):
            request.port = int(os.environ["ACR_TEST_PROXY_TO_PORT"])
        return request
