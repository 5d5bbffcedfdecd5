"""One session below both front ends: options and profiles → `Connection` → sign-in, and in sandbox
mode the sandbox process this session started, until it closes.

The command line and the console both start here: the entry point (`acr_console.main`) parses the
global options into `SessionOptions`, the chosen front end opens a `Session`, and the session makes
every `Connection` the front end uses (the first one, another way in after a failed sign-in, a
`:profile` switch), owns any sandbox it had to start for them, and stops it when it closes.

This is also the only module that reaches into `acr_console.sandbox`, and only through its launcher
(the import-linter contracts in pyproject.toml hold every layer to that).

No Textual, no SDK, no argparse at run time: the console and every command import this module
before their first request.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from .azure.connection import CLOUDS, Auth, AuthMethod, Connection, sandbox_connection
from .azure.network import NetworkSettings
from .config import AuthName, CloudName, Profile, Settings, check_subscription_id
from .errors import ConsoleError, UsageError
from .paths import expand_user

if TYPE_CHECKING:
    import argparse
    import ssl

    from .sandbox.launcher import SandboxUse

# (verification URI, user code, expiry): what azure-identity's DeviceCodeCredential hands its prompt.
DeviceCodePrompt = Callable[[str, str, Any], None]

# The sign-in screen's way into the local sandbox; its other choices are AuthMethod values.
SANDBOX = "sandbox"

# Global options that take a value: the command line looks past them for the command word.
VALUED_OPTIONS = ("--sandbox-data", "--profile", "--cloud", "--tenant", "--subscription", "--auth", "--client-id",
                  "--ca-bundle")

# A user-assigned managed identity's client id when neither --client-id nor the profile names one:
# the variable DefaultAzureCredential reads for the same purpose (its `managed_identity_client_id`
# "defaults to the value of the environment variable AZURE_CLIENT_ID", azure/identity/_credentials/
# default.py); ManagedIdentityCredential alone does not read it for IMDS, so the console does.
CLIENT_ID_VARIABLE = "AZURE_CLIENT_ID"
# The tenant EnvironmentCredential signs in to (azure/identity/_credentials/environment.py).
TENANT_VARIABLE = "AZURE_TENANT_ID"
# A managed identity's client id is an application id, a GUID (IMDS's `client_id` parameter:
# https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http).
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """Where to connect and how, as the user gave it; anything left unset comes from the profile."""

    profile: str | None = None
    sandbox: bool = False
    sandbox_data: str | None = None  # as typed: `~` is expanded when the options are resolved
    cloud: CloudName | None = None
    tenant: str | None = None
    subscriptions: tuple[str, ...] = ()
    auth: AuthName | None = None
    client_id: str | None = None  # a user-assigned managed identity
    read_only: bool = False
    ca_bundle: str | None = None  # as typed: `~` is expanded when the connection is made
    no_token_cache: bool = False  # device code, browser: keep tokens in memory only

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SessionOptions:
        """The options `add_arguments` declared, from the parsed command line."""
        return cls(profile=args.profile, sandbox=args.sandbox, sandbox_data=args.sandbox_data, cloud=args.cloud,
                   tenant=args.tenant, subscriptions=tuple(args.subscription or ()), auth=args.auth,
                   client_id=args.client_id, read_only=args.read_only, ca_bundle=args.ca_bundle,
                   no_token_cache=args.no_token_cache)


def _subscription_id(value: str) -> str:
    import argparse

    try:
        return check_subscription_id(value)
    except ValueError as exc:  # argparse then exits 2 naming the option, before anything is sent
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The global options (before the command), as the README's table lists them."""
    g = parser.add_argument_group("connection")
    g.add_argument("--sandbox", action="store_true",
                   help="use the local sandbox in the default data folder (started if none is serving)")
    g.add_argument("--sandbox-data", metavar="DIR", help="use the sandbox whose data is in DIR (implies --sandbox)")
    g.add_argument("--profile", metavar="NAME",
                   help="a profile from the configuration file (cloud, tenant, subscriptions, sign-in, read-only); "
                   "the options below override it")
    # Defaults are None so an option given here can be told apart from one the profile supplies.
    g.add_argument("--cloud", choices=sorted(CLOUDS), help="Azure cloud (default AzureCloud)")
    g.add_argument("--tenant", help="tenant id or domain to sign in to")
    g.add_argument("--subscription", action="append", metavar="ID", type=_subscription_id,
                   help="limit to this subscription (repeatable; default: every visible one)")
    g.add_argument("--auth", choices=[m.value for m in AuthMethod if m is not AuthMethod.SECRET],
                   help="how to sign in: Azure CLI (default), device code (over SSH), environment variables, "
                   "managed identity, or a browser")
    g.add_argument("--client-id", metavar="ID",
                   help="with --auth managed-identity: the user-assigned identity's client id "
                   f"(default: the profile's client_id, else ${CLIENT_ID_VARIABLE}, else the system-assigned identity)")
    g.add_argument("--read-only", action="store_true", help="refuse every write before anything is sent")
    g.add_argument("--ca-bundle", metavar="PATH",
                   help="a PEM file of CA certificates to trust besides the system's (e.g. a TLS-inspecting "
                   "proxy's root); REQUESTS_CA_BUNDLE and SSL_CERT_FILE are added too")
    g.add_argument("--no-token-cache", action="store_true",
                   help="with --auth device-code or browser: keep tokens in memory only, and ask again next "
                   "time (default: cached between commands until `acr-console logout`)")


@dataclass(frozen=True, slots=True)
class Target:
    """What one connection is made from: a profile, with the command line's options applied."""

    profile: Profile
    profile_name: str | None = None
    sandbox_data: Path | None = None  # when profile.sandbox: its data folder; None: the user's default


def resolve(options: SessionOptions, settings: Settings) -> Target:
    """Fill what the options leave unset from the chosen profile (--profile, else the configuration's
    default); the options win, and read-only from any side (--read-only, the profile, the
    configuration's own `read_only` or ACR_CONSOLE_READ_ONLY) sticks."""
    if options.profile is not None and not options.profile.strip():
        # An empty name would silently fall back to the default profile, perhaps production's.
        raise UsageError("--profile: no profile name given; name one from the configuration file")
    for subscription in options.subscriptions:  # the command line checked them already; the console's options too
        try:
            check_subscription_id(subscription)
        except ValueError as exc:
            raise UsageError(f"--subscription: {exc}") from None
    name, profile = settings.profile(options.profile)
    merged = replace(
        profile,
        cloud=options.cloud or profile.cloud,
        tenant=options.tenant or profile.tenant,
        subscriptions=options.subscriptions or tuple(profile.subscriptions),
        auth=options.auth or profile.auth,
        client_id=options.client_id if options.client_id is not None else profile.client_id,
        read_only=options.read_only or settings.read_only or profile.read_only,
        sandbox=bool(options.sandbox or options.sandbox_data or profile.sandbox),
        ca_bundle=options.ca_bundle or profile.ca_bundle,
    )
    if merged.client_id is not None and not _GUID.fullmatch(merged.client_id):
        source = "--client-id" if options.client_id is not None else "the profile's `client_id`"
        shown = merged.client_id if len(merged.client_id) <= 60 and merged.client_id.isprintable() else "that value"
        raise UsageError(f"{source}: '{shown}' is not a client id (a GUID; `az identity show --name NAME "
                         "--resource-group GROUP --query clientId` gives a user-assigned identity's)")
    if not merged.sandbox:
        _check_sign_in(merged, options)
    return Target(merged, name, expand_user(options.sandbox_data) if options.sandbox_data else None)


def _check_sign_in(profile: Profile, options: SessionOptions) -> None:
    """A tenant or client id the chosen sign-in would silently ignore is a usage error (exit 2),
    before anything is sent: signing in elsewhere than asked is worse than not signing in."""
    source = "--tenant" if options.tenant else "the profile's `tenant`"
    if profile.auth == "managed-identity" and profile.tenant:
        raise UsageError(f"{source}: a managed identity signs in to its own tenant (the host's), which cannot be "
                         "chosen; leave the tenant out, or sign in another way (--auth)")
    if profile.auth == "env" and profile.tenant:
        env_tenant = os.environ.get(TENANT_VARIABLE, "")
        if profile.tenant.casefold() != env_tenant.strip().casefold():
            now = f"'{env_tenant}'" if env_tenant else "unset"
            raise UsageError(f"{source}: --auth env signs in to the tenant ${TENANT_VARIABLE} names ({now}), "
                             f"not '{profile.tenant}'; set {TENANT_VARIABLE} instead, or leave the tenant out")
    if options.client_id is not None and profile.auth != "managed-identity":
        raise UsageError(f"--client-id names a user-assigned managed identity; it needs --auth managed-identity "
                         f"(the sign-in is '{profile.auth}')")


def managed_identity_client_id(profile: Profile) -> str | None:
    """The user-assigned identity to sign in as: --client-id or the profile's, else $AZURE_CLIENT_ID,
    else None (the host's system-assigned identity)."""
    return profile.client_id or os.environ.get(CLIENT_ID_VARIABLE, "").strip() or None


def network_settings(profile: Profile, *, from_option: bool = False) -> NetworkSettings:
    """Trust and proxies for a connection to `profile` (azure/network.py says how), checked before
    anything is sent: a CA bundle that is missing or not PEM, or a proxy URL that is not http(s), is
    a UsageError naming where it came from."""
    import os

    from .azure.network import ca_bundles_from, check_ca_bundle, proxy_routes

    named = [("--ca-bundle" if from_option else "ca_bundle in the profile", str(expand_user(profile.ca_bundle)))
             ] if profile.ca_bundle else []
    bundles: list[str] = []
    for source, path in [*named, *ca_bundles_from(os.environ)]:
        try:
            bundles.append(check_ca_bundle(path))
        except ValueError as exc:
            todo = "name a PEM file of CA certificates" if source in {n for n, _ in named} else "correct or unset it"
            raise UsageError(f"{source}: {exc}; {todo}") from None
    try:
        routes = proxy_routes(profile.proxy)
    except ValueError as exc:
        where = "proxy in the profile: the value" if profile.proxy else "the environment's"
        raise UsageError(f"{where} {exc}; correct or unset it") from None
    return NetworkSettings(ca_bundles=tuple(dict.fromkeys(bundles)), routes=routes)


def trust(network: NetworkSettings, pinned: str | None) -> ssl.SSLContext:
    """The one SSLContext of a connection (azure/network.py), built here so that a bundle OpenSSL
    cannot read is a UsageError before anything is sent."""
    from .azure.network import ssl_context

    try:
        return ssl_context(network, pinned)
    except ValueError as exc:
        raise UsageError(f"{exc}; name a PEM file of CA certificates") from None


def _print_device_code(verification_uri: str, user_code: str, expires_on: object) -> None:
    # The code is not a secret: it is useless without the person signing in. One line, printed
    # once (a pipe or a log gets no countdown); azure-identity passes the expiry as a UTC datetime.
    from .azure.interactive import expiry_phrase

    print(f"To sign in, open {verification_uri} on any device and enter the code {user_code}."
          f"{expiry_phrase(expires_on)} Ctrl+C cancels.", file=sys.stderr)


class Session:
    """The connections one front end uses, and the sandbox processes it started for them.

    `connect` may start a sandbox (a second or two): the console calls it on a thread. A sandbox
    that was already serving is used (under a lease) and left running; one started here is stopped by
    `close`, after any other command that shares it has finished.
    """

    def __init__(self, options: SessionOptions, settings: Settings, *,
                 device_code_prompt: DeviceCodePrompt | None = None) -> None:
        self.options = options
        self.settings = settings
        # Read when a device code arrives, not when the connection is made: the console sets its
        # own after the first connection exists. None: printed to stderr.
        self.device_code_prompt = device_code_prompt
        self.target: Target | None = None  # what the latest connection was made from
        # Where the latest interactive sign-in keeps its tokens ("token cache: …"), once per sign-in;
        # the console sets `sign_in_notice` to show it, else it is printed on stderr.
        self.sign_in_notice: Callable[[str], None] | None = None
        self._used: list[SandboxUse] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self, target: Target | None = None) -> Connection:
        """A connection to `target` (default: the session's options and profile)."""
        target = target or resolve(self.options, self.settings)
        profile = target.profile
        subscriptions = tuple(profile.subscriptions)
        if profile.sandbox:
            from .sandbox.launcher import connect_or_start, default_data_dir

            use = connect_or_start(target.sandbox_data or default_data_dir())
            self._used.append(use)
            connection = sandbox_connection(use.connection, read_only=profile.read_only,
                                            subscriptions=subscriptions)
            if self.options.auth == AuthMethod.DEVICE_CODE and (self.options.sandbox or self.options.sandbox_data):
                # `--sandbox --auth device-code`: the sandbox's user signs in as a person does; the
                # code is approved with `acr-console sandbox approve --data DIR CODE`.
                connection = replace(connection, auth=self._auth(AuthMethod.DEVICE_CODE, profile))
            if self.options.auth == AuthMethod.CLI and (self.options.sandbox or self.options.sandbox_data):
                # `--sandbox --auth cli`: sign in through AzureCliCredential, i.e. whatever `az` is
                # first on PATH (the tests' and benchmarks' stand-in hands out sandbox tokens).
                # Otherwise the sandbox's admin secret, whatever --auth says.
                connection = replace(connection, auth=self._auth(AuthMethod.CLI, profile))
            if profile.auth == AuthMethod.MANAGED_IDENTITY:
                # The host's identity against the sandbox's ARM and Graph: what the tests do with a
                # stand-in IMDS that hands out sandbox tokens (tests/cli/test_managed_identity.py).
                connection = replace(connection, auth=self._auth(AuthMethod.MANAGED_IDENTITY, profile))
        else:
            connection = Connection(cloud=CLOUDS[profile.cloud], tenant_id=profile.tenant,
                                    auth=self._auth(AuthMethod(profile.auth), profile), subscriptions=subscriptions,
                                    read_only=profile.read_only)
        network = network_settings(profile, from_option=bool(self.options.ca_bundle))
        connection = replace(connection, network=network, ssl_context=trust(network, connection.ca_bundle))
        self.target = target
        return connection

    def reconnect_sandbox(self, connection: Connection) -> Connection | None:
        """After a request to the sandbox could not connect (issue 16): a connection to the sandbox now
        serving the same data folder, which may have been stopped and started on another port
        (connection.json is read again; none serving: one is started here, as `--sandbox` does); None
        when `connection` is not this session's sandbox, or the sandbox is still where it was (the
        failure is something else). The lease on the old server is let go. Blocking: call it on a
        thread."""
        target = self.target
        if not connection.sandbox or target is None or not target.profile.sandbox:
            return None
        from .sandbox.launcher import default_data_dir, moved

        if not moved(target.sandbox_data or default_data_dir(), connection.cloud.resource_manager):
            return None
        old = connection.cloud.resource_manager
        for use in [u for u in self._used if u.server is None and u.connection.get("resource_manager") == old]:
            self._used.remove(use)
            use.close()
        return self.connect(target)

    def profile_target(self, name: str) -> Target:
        """The profile `name` as it is in the configuration now (read again: it may have changed),
        without the command line's options: switching profile means leaving them behind, except
        --read-only, which no switch may lift."""
        from .config import load_settings

        return resolve(SessionOptions(profile=name, read_only=self.options.read_only), load_settings())

    def sign_in_instead(self, connection: Connection, choice: str) -> Connection:
        """After sign-in failed on `connection`: the same place with another way to sign in
        (an AuthMethod value), or the local sandbox (`SANDBOX`) with the same subscriptions and
        read-only setting."""
        if choice == SANDBOX:
            current = self.target or resolve(self.options, self.settings)
            profile = replace(current.profile, sandbox=True, subscriptions=connection.subscriptions,
                              read_only=connection.read_only)
            sandbox_data = expand_user(self.options.sandbox_data) if self.options.sandbox_data else None
            return self.connect(Target(profile, current.profile_name, sandbox_data))
        current = self.target or resolve(self.options, self.settings)
        if not current.profile.sandbox:
            # As at start-up: a tenant the new way in would ignore is refused (UsageError), not
            # dropped. The command line's --client-id named the identity of the way being left.
            auth: AuthName = AuthMethod(choice).value  # type: ignore[assignment]  # the same names
            _check_sign_in(replace(current.profile, auth=auth), replace(self.options, client_id=None))
        return replace(connection, auth=self._auth(AuthMethod(choice), current.profile))

    def start_sandbox(self, data_dir: Path, *, seed: str = "demo", seed_time: float | None = None) -> Connection:
        """A sandbox of this session's own, newly started in `data_dir` (seeded as of `seed_time`),
        stopped when the session closes."""
        from .sandbox.launcher import SandboxUse, start

        doc, server = start(data_dir, seed=seed, seed_time=seed_time)
        self._used.append(SandboxUse(doc, server))
        return sandbox_connection(doc)

    def close(self) -> None:
        """Let go of every sandbox this session used, newest first; idempotent. One it started is
        stopped, once no other command uses it (sandbox/launcher.py, "Sharing")."""
        while self._used:
            self._used.pop().close()

    def _auth(self, method: AuthMethod, profile: Profile) -> Auth:
        prompt = self._device_code if method is AuthMethod.DEVICE_CODE else None
        client_id = managed_identity_client_id(profile) if method is AuthMethod.MANAGED_IDENTITY else None
        persist = not self.options.no_token_cache and profile.token_cache != "memory"
        return Auth(method, client_id=client_id, device_code_prompt=prompt, persist_tokens=persist,
                    sign_in_notice=self._notice)

    def _notice(self, text: str) -> None:
        if self.sign_in_notice is not None:
            self.sign_in_notice(text)
        else:
            print(f"acr-console: {text}", file=sys.stderr)

    def _device_code(self, verification_uri: str, user_code: str, expires_on: Any) -> None:
        (self.device_code_prompt or _print_device_code)(verification_uri, user_code, expires_on)


def serve_sandbox(data: str | None, *, port: int, seed: str, reset: bool, page_size: int, latency_ms: float,
                  replication_delay_s: float, faults: str, ready: Callable[[dict[str, Any], Path], None]) -> None:
    """Serve the sandbox whose data is in `data` (default: the user's) in the foreground until
    SIGINT or SIGTERM; `ready(connection, data folder)` once it accepts connections. Its failures
    are the console's errors: a busy folder or a port in use exit 1, a bad seed or fault spec 2."""
    from .sandbox.launcher import SandboxBusy, default_data_dir, sandbox_settings, serve

    try:
        settings = sandbox_settings(page_size=page_size, latency_ms=latency_ms,
                                    replication_delay_s=replication_delay_s, faults=faults)
    except ValueError as exc:
        raise UsageError(f"--faults: {exc}") from None
    data_dir = expand_user(data) if data else default_data_dir()
    try:
        serve(data_dir, port=port, seed=seed, reset=reset, settings=settings, ready=lambda doc: ready(doc, data_dir))
    except SandboxBusy as exc:
        raise ConsoleError(f"{exc}; use that server, or stop it first") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise ConsoleError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None


def decide_sandbox_device_code(data: str | None, code: str, *, user: str | None, decline: bool) -> tuple[str, str]:
    """Approve (or decline) a pending device code of the sandbox whose data is in `data` (default:
    the user's), as its user `user` would on microsoft.com/devicelogin; (the code, the user's UPN).
    The codes live in the sandbox's store, so this works while the server runs in another process,
    or none does. No sandbox there: UsageError (exit 2); a code that cannot be decided: exit 1."""
    from .sandbox.launcher import DeviceCodeRefused, decide_device_code, default_data_dir

    data_dir = expand_user(data) if data else default_data_dir()
    try:
        return decide_device_code(data_dir, code, user=user, decline=decline)
    except FileNotFoundError as exc:
        raise UsageError(f"{exc}; start one with `acr-console sandbox serve --data {data_dir}`") from None
    except DeviceCodeRefused as exc:
        raise ConsoleError(str(exc)) from None
