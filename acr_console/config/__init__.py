"""The user's configuration: profiles (one per tenant or cloud, like k9s contexts), key bindings, display.

A TOML file in the user config folder (`~/.config/acr-console/config.toml` on Linux, or the file
named by `ACR_CONSOLE_CONFIG`), overridden by `ACR_CONSOLE_*` environment variables (`__` nests:
`ACR_CONSOLE_PROFILES__PROD__READ_ONLY=true`). Unknown keys are errors, not silently ignored: a
misspelt `read_ony = true` must not leave a production profile writable. Example::

    default_profile = "prod"

    [profiles.prod]
    cloud = "AzureCloud"
    tenant = "contoso.onmicrosoft.com"
    subscriptions = ["00000000-0000-0000-0000-000000000000"]
    auth = "device-code"
    read_only = true
    accent = "dark_red"

    [profiles.demo]
    sandbox = true

    [keymap]
    "registries.refresh" = "f5"

No Textual or SDK imports: the CLI reads this too. Nor pydantic, until there is something to check:
with no file and no `ACR_CONSOLE_*` variable the settings are the defaults below, and importing
pydantic-settings (~0.15 s) would only delay every command's first request. When there is, it is
validated by `config.validation` (pydantic-settings) into these same dataclasses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from ..errors import UsageError
from ..paths import expand_user

CONFIG_ENV = "ACR_CONSOLE_CONFIG"
ENV_PREFIX = "ACR_CONSOLE_"

CloudName = Literal["AzureCloud", "AzureChinaCloud", "AzureUSGovernment"]
AuthName = Literal["cli", "device-code", "env", "managed-identity", "browser"]

MAX_ROWS_RANGE = (100, 100_000)
EXPIRY_WARNING_RANGE = (1, 365)


class ConfigError(UsageError):
    """The configuration file or environment is invalid, or names an unknown profile."""


def config_path() -> Path:
    """Where the configuration file is read from."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return expand_user(override)
    from platformdirs import user_config_path

    return user_config_path("acr-console", appauthor=False) / "config.toml"


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
    read_only: bool = False
    """Refuse every write; the console greys write actions and shows a READ-ONLY badge."""
    sandbox: bool = False
    """Open the local sandbox instead of Azure."""
    accent: str | None = None
    """A colour for the status line (e.g. "dark_red" or "#8b0000" for production), so the tenant is never mistaken."""

    def __post_init__(self) -> None:
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
    """A Textual theme name, e.g. "textual-ansi" to follow the terminal's colours."""
    max_rows: int = 100_000
    """Most rows a table shows at once (100–100,000); filter (/) to narrow a longer list (tables draw
    only what is on screen, so 100,000 rows cost no more to show than 100)."""
    expiry_warning_days: int = 30
    """Credentials ending within this many days (1–365) are shown in yellow."""

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
    """Read and validate the configuration; a ConfigError names the file and the bad key."""
    path = path if path is not None else config_path()
    if not _overridden() and not path.exists():
        return Settings()
    from .validation import read_settings

    return read_settings(path)


def _overridden() -> bool:
    """Whether a variable names a setting (`ACR_CONSOLE_MAX_ROWS`, `ACR_CONSOLE_PROFILES__X__...`);
    others with the prefix (the configuration's path, the audit log's) are not settings. Case is
    ignored, as pydantic-settings ignores it."""
    names = tuple(ENV_PREFIX + f.name.upper() for f in fields(Settings))
    return any(key.upper() == name or key.upper().startswith(name + "__") for key in os.environ for name in names)
