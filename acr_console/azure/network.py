"""The network every HTTP stack of the process shares: which certificates it trusts and which
requests go through a proxy.

Decided once per connection (`NetworkSettings`, made by the session) and handed to every transport:
azure-core's aiohttp transport (ARM and the credential's token requests: transport.py), the Graph
client and the registry token service's client (httpx), and the interactive credentials' requests
session (sync_transport.py). Every one is built with `trust_env=False` and this module's settings
instead of letting its library read the environment itself, because:
- httpx reads environment proxies only for a client built without its own `transport=` (the Graph
  client has one: the retry layer of resilience.py), so half the stacks would ignore them;
- with `trust_env=True` an explicit SSLContext wins over SSL_CERT_FILE anyway, and `SSL_CERT_FILE`
  and `REQUESTS_CA_BUNDLE` must *add* a CA to the system store here (a TLS-inspecting proxy's root
  beside the public roots), not replace it;
- a profile's `proxy` must take the environment's place without losing NO_PROXY, which httpx's
  `proxy=` argument does (it ignores NO_PROXY).

Proxies: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case), read by the standard
library's `urllib.request.getproxies_environment` (which also drops `HTTP_PROXY` under CGI, httpoxy)
and turned into httpx mount patterns exactly as httpx's own `get_environment_proxies` does
(httpx/_utils.py), so the rules are httpx's: `NO_PROXY=*` means no proxy; a name matches itself and
its subdomains; an IP address matches only itself. aiohttp, which takes a proxy per request, is
given `proxy_for`'s choice: the same patterns matched in the order httpx tries its mounts (the
requests session of sync_transport.py matches them the same way).
One difference, for the local sandbox: when NO_PROXY is not set at all, loopback addresses
(localhost, 127.0.0.1, ::1) go direct, as Go's net/http always does; a NO_PROXY that is set is used
as given. The Azure CLI honours the same
variables through requests (https://learn.microsoft.com/cli/azure/use-azure-cli-successfully#work-behind-a-proxy).

CAs: `--ca-bundle` (or a profile's `ca_bundle`), `REQUESTS_CA_BUNDLE` (what the Azure CLI reads) and
`SSL_CERT_FILE` (what OpenSSL reads) are each added to the system's store; each must be a PEM file
of certificates, checked before any request (`check_ca_bundle`).

Standard library only at import time: httpx is imported where transports are built.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import ssl
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

# The variables whose CA bundle is added to the system store, in the order they are read.
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
# Direct when NO_PROXY is unset: the sandbox listens on 127.0.0.1 and a proxy cannot reach it.
LOOPBACK = ("localhost", "127.0.0.1", "::1")
PROXY_SCHEMES = ("http", "https")
PEM_MARKER = b"-----BEGIN CERTIFICATE-----"
MAX_BUNDLE_BYTES = 64 << 20  # the system's bundle is ~200 kB; a larger file is not a CA bundle


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    """Trust and proxies for one connection."""

    ca_bundles: tuple[str, ...] = ()  # PEM files added to the store (after the system's, or the pinned one)
    # httpx mount pattern → proxy URL, or None for a direct connection; empty: everything direct.
    routes: tuple[tuple[str, str | None], ...] = ()


def check_proxy_url(url: str) -> str:
    """`url` if it names an HTTP(S) proxy (`http://host:port`, a bare `host:port` as curl takes it);
    ValueError otherwise. The URL may hold credentials, so it is never quoted back."""
    full = url if "://" in url else f"http://{url}"
    try:
        parts = urlsplit(full)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("is not a proxy URL (e.g. http://proxy.example.com:3128)") from None
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        raise ValueError("is not an http:// or https:// proxy URL (e.g. http://proxy.example.com:3128)")
    return full


def check_ca_bundle(path: str) -> str:
    """`path` if it is a readable file of PEM certificates; ValueError saying what is wrong otherwise.

    Only the PEM marker is looked for here: parsing a bundle costs about 60 ms (the system's, 140
    certificates) and it is parsed once, into the one context (`ssl_context`); a PEM file that
    OpenSSL still cannot read fails there, before any request too."""
    if not os.path.exists(path):
        raise ValueError(f"{path} does not exist")
    if not os.path.isfile(path):
        raise ValueError(f"{path} is not a file (name a PEM file of CA certificates)")
    try:
        with open(path, "rb") as f:
            text = f.read(MAX_BUNDLE_BYTES)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    if PEM_MARKER not in text:
        raise ValueError(f"{path} holds no PEM certificate (a CA bundle is certificates between "
                         "-----BEGIN CERTIFICATE----- lines; convert DER with `openssl x509 -inform der`)")
    return path


def ca_bundles_from(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """(variable, path) for each CA variable set (non-empty) in `environ`."""
    return tuple((name, environ[name]) for name in CA_VARIABLES if environ.get(name))


def proxy_routes(proxy: str | None = None) -> tuple[tuple[str, str | None], ...]:
    """httpx mount patterns from the process environment's proxy variables, `proxy` (a profile's)
    taking the place of HTTPS_PROXY/HTTP_PROXY/ALL_PROXY; NO_PROXY (or the loopback default)
    applies to both. A variable set to an empty string counts as unset (as urllib has it). A proxy
    URL that is not http(s):// (a SOCKS ALL_PROXY) is a ValueError naming the variable."""
    found = urllib.request.getproxies_environment()
    routes: dict[str, str | None] = {}
    if proxy:
        routes["all://"] = check_proxy_url(proxy)
    else:
        for scheme, pattern in (("http", "http://"), ("https", "https://"), ("all", "all://")):
            if found.get(scheme):
                try:
                    routes[pattern] = check_proxy_url(found[scheme])
                except ValueError as exc:
                    raise ValueError(f"{scheme.upper()}_PROXY {exc}") from None
    if not routes:
        return ()
    no_proxy = found.get("no")
    hosts = LOOPBACK if no_proxy is None else tuple(h.strip() for h in no_proxy.split(","))
    for host in hosts:
        if host == "*":
            return ()
        if host:
            routes[_bypass_pattern(host)] = None
    return tuple(routes.items())


def _bypass_pattern(host: str) -> str:
    """The httpx mount pattern NO_PROXY's `host` stands for (as httpx's get_environment_proxies)."""
    if "://" in host:
        return host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"all://{host}" if host.lower() == "localhost" else f"all://*{host}"
    return f"all://[{host}]" if address.version == 6 else f"all://{host}"


def ssl_context(settings: NetworkSettings, pinned: str | None = None) -> ssl.SSLContext:
    """One context for every transport: the system's store with each of `settings.ca_bundles`
    added, or, for a connection that pins its CA (the sandbox's own), that CA alone. A bundle that
    OpenSSL cannot read is a ValueError naming it (nothing has been sent yet)."""
    if pinned:
        return ssl.create_default_context(cafile=pinned)
    context = ssl.create_default_context()
    # OpenSSL reads SSL_CERT_FILE/SSL_CERT_DIR *instead of* its compiled-in store; load that too, so
    # the variables add to the system's store. Each file once: a bundle that is the store already
    # (REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt, common on CI and Nix) costs nothing.
    paths = ssl.get_default_verify_paths()
    loaded = {os.path.realpath(paths.cafile)} if paths.cafile else set()
    if paths.capath != paths.openssl_capath and os.path.isdir(paths.openssl_capath):
        context.load_verify_locations(capath=paths.openssl_capath)
    system = [paths.openssl_cafile] if os.path.isfile(paths.openssl_cafile) else []
    for bundle in (*system, *settings.ca_bundles):
        real = os.path.realpath(bundle)
        if real in loaded:
            continue
        loaded.add(real)
        try:
            context.load_verify_locations(cafile=bundle)
        except (ssl.SSLError, OSError) as exc:
            raise ValueError(f"CA bundle {bundle} cannot be read as PEM certificates ({exc})") from None
    return context


def mounts(settings: NetworkSettings, make: Callable[[httpx.Proxy | None], httpx.AsyncBaseTransport],
           ) -> dict[str, httpx.AsyncBaseTransport | None]:
    """The `mounts=` of an httpx client: a transport through each proxy (`make(proxy)`), None
    (the client's own, direct transport) where NO_PROXY exempts."""
    import httpx

    made: dict[str, httpx.AsyncBaseTransport] = {}
    out: dict[str, httpx.AsyncBaseTransport | None] = {}
    for pattern, url in settings.routes:
        if url is None:
            out[pattern] = None
        else:
            if url not in made:
                made[url] = make(httpx.Proxy(url))
            out[pattern] = made[url]
    return out


def proxy_for(settings: NetworkSettings, url: str) -> str | None:
    """The proxy a request to `url` goes through, or None (direct): the first of `settings.routes`
    whose pattern matches the URL, most specific first, matched by httpx's own `URLPattern` in the
    order httpx tries its `mounts=` (httpx/_client.py `_transport_for_url`; URLPattern's ordering,
    httpx/_utils.py), so a URL goes the same way whichever stack sends it."""
    if not settings.routes:
        return None
    import httpx

    target = httpx.URL(url)
    for pattern, proxy in _patterns(settings.routes):
        if pattern.matches(target):
            return proxy
    return None


@functools.lru_cache(maxsize=8)
def _patterns(routes: tuple[tuple[str, str | None], ...]) -> list[tuple[Any, str | None]]:
    from httpx._utils import URLPattern

    return sorted(((URLPattern(pattern), proxy) for pattern, proxy in routes), key=lambda r: r[0])


def client_kwargs(settings: NetworkSettings, context: ssl.SSLContext, **transport: Any) -> dict[str, Any]:
    """What an httpx.AsyncClient of this network is built with (besides its timeout): trust,
    proxies, and `transport` options for both the direct and the proxied transports."""
    import httpx

    return {
        "verify": context, "trust_env": False,
        "transport": httpx.AsyncHTTPTransport(verify=context, **transport),
        "mounts": mounts(settings, lambda proxy: httpx.AsyncHTTPTransport(verify=context, proxy=proxy, **transport)),
    }
