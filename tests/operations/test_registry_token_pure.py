"""The pure parts of the registry token flow: addressing, challenges, scopes, what was not granted."""

from __future__ import annotations

from acr_console.azure.connection import CLOUDS, Auth, AuthMethod, Connection
from acr_console.azure.registry_token import Grant, _missing, parse_challenge, valid_scope


def conn(endpoint: str | None) -> Connection:
    return Connection(CLOUDS["AzureCloud"], "t", Auth(AuthMethod.CLI), registry_endpoint=endpoint)


def test_registry_url_on_azure_and_on_the_sandbox() -> None:
    assert conn(None).registry_url("https://r.azurecr.io/v2/") == ("https://r.azurecr.io/v2/", {})
    url, headers = conn("https://127.0.0.1:8443").registry_url("https://r.azurecr.io/oauth2/token?x=1")
    assert url == "https://127.0.0.1:8443/oauth2/token?x=1" and headers == {"Host": "r.azurecr.io"}


def test_challenge_and_scopes() -> None:
    c = parse_challenge('Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io"')
    assert c == {"scheme": "bearer", "realm": "https://r.azurecr.io/oauth2/token", "service": "r.azurecr.io"}
    assert valid_scope("repository:team/app:pull,push") and valid_scope("registry:catalog:*")
    assert not valid_scope("pull everything") and not valid_scope("repository:x")
    granted = (Grant("repository", "team/app", ("pull",)),)
    assert _missing(("repository:team/app:pull,push",), granted) == ("repository:team/app:push",)
    assert _missing(("registry:catalog:*",), (Grant("registry", "catalog", ("*",)),)) == ()
