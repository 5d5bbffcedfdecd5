"""The route az's registry traffic takes (tests/azcli/proxy.py): login servers to the sandbox, and
nothing else anywhere but the tripwire."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from ..conftest import Tripwire
from .proxy import LoginServerRoute


@pytest.fixture
def own_tripwire() -> Any:
    wire = Tripwire()  # not the run's: what it records here is expected
    yield wire
    wire.close()


def test_login_servers_reach_the_sandbox_and_nothing_else_leaves(connection: dict[str, Any],
                                                                own_tripwire: Tripwire) -> None:
    route = LoginServerRoute(connection["port"], own_tripwire.port)
    try:
        trust = ssl.create_default_context(cafile=connection["ca_bundle"])
        with httpx.Client(proxy=route.url, verify=trust, timeout=10) as http:
            challenge = http.get("https://contosodev.azurecr.io/v2/")
            assert challenge.status_code == 401
            assert 'service="contosodev.azurecr.io"' in challenge.headers["WWW-Authenticate"]
            with pytest.raises(httpx.ProxyError):
                http.get("https://azcliprod.blob.core.windows.net/cli")  # az's version check, were it on
            with pytest.raises(httpx.ProxyError):
                http.get("https://contosodev.azurecr.io:8443/v2/")  # a login server, but not its port
        assert route.routed == ["contosodev.azurecr.io"]
        assert own_tripwire.seen == ["CONNECT azcliprod.blob.core.windows.net:443 HTTP/1.1",
                                     "CONNECT contosodev.azurecr.io:8443 HTTP/1.1"]
    finally:
        route.close()
