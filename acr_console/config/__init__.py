"""The user's configuration: profiles (one per tenant or cloud, like k9s contexts), key bindings, display.

A TOML file in the user config folder (`~/.config/acr-console/config.toml` on Linux, or the file
named by `ACR_CONSOLE_CONFIG`), overridden by `ACR_CONSOLE_*` environment variables (`__` nests:
`ACR_CONSOLE_PROFILES__PROD__READ_ONLY=true`). Everything fails closed: unknown keys are errors, not
silently ignored (a misspelt `read_ony = true` must not leave a production profile writable), and so
are unknown `ACR_CONSOLE_*` variables, a file `ACR_CONSOLE_CONFIG` names that is missing or
unreadable, and a file that is not a regular file, too large or nested too deep. Example::

    default_profile = "prod"
    read_only = false                 # true: refuse every write, whatever the profile

    [profiles.prod]
    cloud = "AzureCloud"
    tenant = "contoso.onmicrosoft.com"
    subscriptions = ["00000000-0000-0000-0000-000000000000"]
    auth = "device-code"
    read_only = true
    accent = "dark_red"
    proxy = "http://proxy.contoso.com:3128"     # else HTTPS_PROXY; NO_PROXY applies either way
    ca_bundle = "~/contoso-root.pem"            # added to the system's CAs (also REQUESTS_CA_BUNDLE)
    token_cache = "memory"                      # device code/browser: ask every time (default "persistent")

    [profiles.demo]
    sandbox = true

    [keymap]
    "registries.refresh" = "f5"

    [findings]                        # `acr-console findings` (issue 18)
    max_secret_lifetime_days = 365    # a secret living longer is a finding (1–3650)
    max_push_registries = 5           # a principal pushing to more registries is a finding
    disabled_rules = ["push-on-many-registries"]

    [[findings.ignore]]               # hide one finding for a reason, until a date (then it shows again)
    rule = "admin-user-enabled"
    target = "contosodev"
    reason = "legacy build agents; CHG-1234"
    expires = 2027-03-31

No Textual or SDK imports: the CLI reads this too. Nor pydantic, until there is something to check:
with no file and no `ACR_CONSOLE_*` variable the settings are the defaults below, and importing
pydantic-settings (~0.15 s) would only delay every command's first request. When there is, it is
validated by `config.validation` (pydantic-settings) into these same dataclasses.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from ..errors import UsageError
from ..models import FindingSettings
from ..paths import expand_user

CONFIG_ENV = "ACR_CONSOLE_CONFIG"
ENV_PREFIX = "ACR_CONSOLE_"

# `ACR_CONSOLE_*` variables that are not settings: each is read, by its exact name, elsewhere. Any
# other variable with the prefix that names no setting is an error (a misspelt ACR_CONSOLE_READONLY
# must not pass for read-only), so a new variable of this kind is added here.
OTHER_VARIABLES: Mapping[str, str] = {
    CONFIG_ENV: "the configuration file's path (this module)",
    "ACR_CONSOLE_AUDIT_LOG": "the audit log's path (operations/audit.py)",
    "ACR_CONSOLE_AZ_VENV": "the Azure CLI the tests run (tests/azcli/install.sh)",
}

# A configuration is a few hundred bytes; a larger file is a mistake (the wrong path), not settings.
MAX_CONFIG_BYTES = 1 << 20
# The deepest value a valid file holds is four tables or arrays down (profiles.NAME.subscriptions[i]);
# tomllib has no limit of its own (it recurses: a few thousand `[` raise RecursionError) and dotted
# keys nest without recursing at all, so anything deeper than this is refused before it is validated.
MAX_CONFIG_DEPTH = 8

# A subscription id is a GUID: ARM's common `SubscriptionIdParameter` is `"format": "uuid"`
# (azure-rest-api-specs specification/common-types/resource-management/v5/types.json). Checked
# before anything is sent: a mistyped id otherwise costs a round of requests and ends "not found".
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# The keys of azure/connection.py's CLOUDS (tests/azure/test_clouds.py checks they are the same).
CloudName = Literal["AzureCloud", "AzureChinaCloud", "AzureUSGovernment", "AzureUSGovernmentDoD"]
AuthName = Literal["cli", "device-code", "env", "managed-identity", "browser"]
TokenCacheName = Literal["persistent", "memory"]

MAX_ROWS_RANGE = (100, 100_000)
EXPIRY_WARNING_RANGE = (1, 365)


class ConfigError(UsageError):
    """The configuration file or environment is invalid, or names an unknown profile."""


def check_subscription_id(value: str) -> str:
    """`value` if it is a subscription id (a GUID); ValueError saying what one looks like otherwise."""
    if not _GUID.fullmatch(value):
        shown = value if len(value) <= 60 and value.isprintable() else repr(value[:60])
        raise ValueError(f"'{shown}' is not a subscription id (a GUID such as "
                         "00000000-0000-0000-0000-000000000000; `az account list -o table` lists yours)")
    return value


@dataclass(frozen=True)
class Profile:
    """Where to connect and how: one tenant in one cloud."""

    # Read by pydantic when it validates a file; unknown keys are errors.
    __pydantic_config__ = {"extra": "forbid"}

    cloud: CloudName = "AzureCloud"
    """The Azure cloud."""
    tenant: str | None = None
    """Tenant id or domain to sign in to; none: the credential's default tenant."""
    subscriptions: tuple[str, ...] = ()
    """Only these subscriptions; empty: every subscription the identity can see."""
    auth: AuthName = "cli"
    """How to sign in: Azure CLI, device code (over SSH), environment variables, managed identity, browser."""
    client_id: str | None = None
    """With `auth = "managed-identity"`: the user-assigned identity's client id (else AZURE_CLIENT_ID,
    else the host's system-assigned identity)."""
    read_only: bool = False
    """Refuse every write; the console greys write actions and shows a READ-ONLY badge."""
    sandbox: bool = False
    """Open the local sandbox instead of Azure."""
    accent: str | None = None
    """A colour for the status line (e.g. "dark_red" or "#8b0000" for production), so the tenant is never mistaken."""
    proxy: str | None = None
    """An HTTP(S) proxy for every request (e.g. "http://proxy.example.com:3128"), in place of HTTPS_PROXY/HTTP_PROXY;
    NO_PROXY still applies."""
    ca_bundle: str | None = None
    """A PEM file of CA certificates trusted besides the system's (a TLS-inspecting proxy's root);
    `--ca-bundle` wins."""
    token_cache: TokenCacheName = "persistent"
    """With device-code or browser sign-in: "persistent" keeps the sign-in between commands (until
    `acr-console logout`), "memory" asks again every command (as `--no-token-cache`)."""

    def __post_init__(self) -> None:
        for sub in self.subscriptions:
            check_subscription_id(sub)
        if self.proxy is not None:
            from ..azure.network import check_proxy_url

            try:
                check_proxy_url(self.proxy)
            except ValueError as exc:
                raise ValueError(f"proxy: the value {exc}") from None
        if self.accent is not None:
            from rich.color import Color, ColorParseError

            try:
                Color.parse(self.accent)
            except ColorParseError:
                raise ValueError(f"accent: '{self.accent}' is not a colour "
                                 "(try a name like 'dark_red' or '#8b0000')") from None


@dataclass(frozen=True)
class Settings:
    """Everything the user can configure."""

    default_profile: str | None = None
    """The profile used when --profile is not given."""
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    """Named connections."""
    keymap: Mapping[str, str] = field(default_factory=dict)
    """Binding id → keys, e.g. {"registries.refresh": "f5"}; ids are listed on the help screen (?)."""
    theme: str | None = None
    """A Textual theme name, e.g. "ansi-dark" to follow the terminal's colours."""
    read_only: bool = False
    """Refuse every write whatever the profile (`ACR_CONSOLE_READ_ONLY=true`): a profile's own
    `read_only` and `--read-only` add to it, never take it away."""
    max_rows: int = 100_000
    """Most rows a table shows at once (100–100,000); filter (/) to narrow a longer list (tables draw
    only what is on screen, so 100,000 rows cost no more to show than 100)."""
    expiry_warning_days: int = 30
    """Credentials ending within this many days (1–365) are shown in yellow."""
    findings: FindingSettings = field(default_factory=FindingSettings)
    """`acr-console findings`: thresholds, rules turned off, and findings ignored for a reason until a date
    (the `[findings]` table and its `[[findings.ignore]]` entries; see models.FindingSettings)."""

    def __post_init__(self) -> None:
        for name, (low, high) in (("max_rows", MAX_ROWS_RANGE), ("expiry_warning_days", EXPIRY_WARNING_RANGE)):
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"{name}: {value} is outside {low:,}–{high:,}")

    def profile(self, name: str | None) -> tuple[str | None, Profile]:
        """(name, profile) for --profile NAME, else the default profile, else built-in defaults."""
        wanted = name or self.default_profile
        if wanted is None:
            return None, Profile()
        if wanted not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError(f"no profile '{wanted}' in {config_path()} (profiles: {known})")
        return wanted, self.profiles[wanted]


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate the configuration; a ConfigError names the file or variable and what to do.

    `path` (else the file `ACR_CONSOLE_CONFIG` names) must exist; the default file may be absent.
    """
    check_variables()
    required = path is not None or CONFIG_ENV in os.environ
    path = path if path is not None else config_path()
    text = read_config_file(path, required=required)
    if not text and not _overridden():
        return Settings()
    from .validation import read_settings

    return read_settings(path, text or "")


def config_path() -> Path:
    """Where the configuration file is read from."""
    override = os.environ.get(CONFIG_ENV)
    if override is not None:
        if not override.strip():
            raise ConfigError(f"{CONFIG_ENV} is set but empty: name a configuration file, or unset it")
        return expand_user(override)
    from platformdirs import user_config_path

    return user_config_path("acr-console", appauthor=False) / "config.toml"


def read_config_file(path: Path, *, required: bool) -> str | None:
    """The file's text; None when it does not exist and need not. Only a regular file of at most
    MAX_CONFIG_BYTES in UTF-8 is read: a FIFO would block the console before its first screen, a
    device (`/dev/zero`) would be read for ever. `os.devnull` is an empty configuration (as
    `GIT_CONFIG_GLOBAL=/dev/null` is for git)."""
    where = f"{path} (named by {CONFIG_ENV})" if CONFIG_ENV in os.environ else str(path)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        if required:
            raise ConfigError(f"configuration file {where} does not exist: create it, or point {CONFIG_ENV} "
                              "at an existing file (an empty file, or /dev/null, is no configuration)") from None
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {where}: {exc.strerror or exc}") from None
    if stat.S_ISCHR(info.st_mode) and os.path.samefile(path, os.devnull):
        return ""
    _check_regular(info.st_mode, where)
    if info.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"configuration file {where} is {info.st_size:,} bytes, more than a configuration "
                          f"file may be ({MAX_CONFIG_BYTES:,}): is it the right file?")
    try:
        # O_NONBLOCK: a FIFO put in the file's place since the stat above must not block the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {where}: {exc.strerror or exc}; "
                          "check its permissions") from None
    with os.fdopen(fd, "rb") as f:
        _check_regular(os.fstat(fd).st_mode, where)
        data = f.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"configuration file {where} is more than {MAX_CONFIG_BYTES:,} bytes: is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"configuration file {where} is not UTF-8 text (byte {exc.start}); "
                          "TOML files are UTF-8") from None


def _check_regular(mode: int, where: str) -> None:
    if stat.S_ISDIR(mode):
        raise ConfigError(f"configuration file {where} is a folder: name the TOML file (e.g. config.toml in it)")
    if not stat.S_ISREG(mode):
        raise ConfigError(f"configuration file {where} is not a regular file (a pipe, socket or device): "
                          "name a TOML file")


def _setting_variables() -> tuple[str, ...]:
    return tuple(ENV_PREFIX + f.name.upper() for f in fields(Settings))


def check_variables() -> None:
    """Every `ACR_CONSOLE_*` variable names a setting (any case, as pydantic-settings reads them) or
    one of OTHER_VARIABLES (exactly: they are read by their exact name); else a ConfigError names
    the nearest known one."""
    settings = _setting_variables()
    for key in sorted(os.environ):
        upper = key.upper()
        if not upper.startswith(ENV_PREFIX) or key in OTHER_VARIABLES:
            continue
        if any(upper == name or upper.startswith(name + "__") for name in settings):
            continue
        known = [*settings, *OTHER_VARIABLES]
        nearest = difflib.get_close_matches(upper, known, n=1, cutoff=0.6)
        hint = f" (did you mean {nearest[0]}?)" if nearest else f" (known: {', '.join(known)})"
        shown = key if key.isprintable() else repr(key)
        raise ConfigError(f"unknown environment variable {shown}{hint}: correct its name or unset it; "
                          "nested settings use two underscores, e.g. ACR_CONSOLE_PROFILES__PROD__READ_ONLY")


def _overridden() -> bool:
    """Whether a variable names a setting (`ACR_CONSOLE_MAX_ROWS`, `ACR_CONSOLE_PROFILES__X__...`);
    others with the prefix (the configuration's path, the audit log's) are not settings. Case is
    ignored, as pydantic-settings ignores it."""
    names = _setting_variables()
    return any(key.upper() == name or key.upper().startswith(name + "__") for key in os.environ for name in names)
