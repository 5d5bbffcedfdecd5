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

No Textual or SDK imports: the CLI reads this too.
"""

from __future__ import annotations

import contextvars
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

CONFIG_ENV = "ACR_CONSOLE_CONFIG"

CloudName = Literal["AzureCloud", "AzureChinaCloud", "AzureUSGovernment"]
AuthName = Literal["cli", "device-code", "env", "managed-identity", "browser"]


class ConfigError(Exception):
    """The configuration file or environment is invalid, or names an unknown profile."""


def config_path() -> Path:
    """Where the configuration file is read from."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_path

    return user_config_path("acr-console", appauthor=False) / "config.toml"


class Profile(BaseModel):
    """Where to connect and how: one tenant in one cloud."""

    model_config = ConfigDict(extra="forbid")

    cloud: CloudName = "AzureCloud"
    """The Azure cloud."""
    tenant: str | None = None
    """Tenant id or domain to sign in to; none: the credential's default tenant."""
    subscriptions: list[str] = Field(default_factory=list)
    """Only these subscriptions; empty: every subscription the identity can see."""
    auth: AuthName = "cli"
    """How to sign in: Azure CLI, device code (over SSH), environment variables, managed identity, browser."""
    read_only: bool = False
    """Refuse every write; the console greys write actions and shows a READ-ONLY badge."""
    sandbox: bool = False
    """Open the local sandbox instead of Azure."""
    accent: str | None = None
    """A colour for the status line (e.g. "dark_red" or "#8b0000" for production), so the tenant is never mistaken."""

    @field_validator("accent")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from rich.color import Color, ColorParseError

        try:
            Color.parse(value)
        except ColorParseError:
            raise ValueError(f"'{value}' is not a colour (try a name like 'dark_red' or '#8b0000')") from None
        return value


_toml_path: contextvars.ContextVar[Path | None] = contextvars.ContextVar("acr_console_config_path", default=None)


class _TomlSource(PydanticBaseSettingsSource):
    """The configuration file; a missing file is an empty configuration."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover - unused
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _toml_path.get()
        if path is None or not path.exists():
            return {}
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None


class Settings(BaseSettings):
    """Everything the user can configure."""

    model_config = SettingsConfigDict(env_prefix="ACR_CONSOLE_", env_nested_delimiter="__", extra="forbid")

    default_profile: str | None = None
    """The profile used when --profile is not given."""
    profiles: dict[str, Profile] = Field(default_factory=dict)
    """Named connections."""
    keymap: dict[str, str] = Field(default_factory=dict)
    """Binding id → keys, e.g. {"registries.refresh": "f5"}; ids are listed on the help screen (?)."""
    theme: str | None = None
    """A Textual theme name, e.g. "textual-ansi" to follow the terminal's colours."""
    max_rows: int = Field(default=100_000, ge=100, le=100_000)
    """Most rows a table shows at once; filter (/) to narrow a longer list (tables draw only what is
    on screen, so 100,000 rows cost no more to show than 100)."""
    expiry_warning_days: int = Field(default=30, ge=1, le=365)
    """Credentials ending within this many days are shown in yellow."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: explicit arguments, then the environment, then the file.
        return init_settings, env_settings, _TomlSource(settings_cls)

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
    token = _toml_path.set(path if path is not None else config_path())
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration ({_toml_path.get()}): {problems}") from None
    finally:
        _toml_path.reset(token)


def json_schema() -> dict[str, Any]:
    """The configuration file's JSON schema, for editors."""
    return Settings.model_json_schema()
