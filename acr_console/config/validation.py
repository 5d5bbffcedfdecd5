"""Reading and checking the configuration file and `ACR_CONSOLE_*` variables with pydantic-settings.

Imported only when there is a file or a variable to read (see `config/__init__.py`): pydantic-settings gives the
nested environment overrides (`__`), TOML, and errors that name the bad key; the result is
`config.Settings`, so the rest of the program never sees pydantic.
"""

from __future__ import annotations

import contextvars
import dataclasses
import os
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, create_model
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from . import ENV_PREFIX, MAX_CONFIG_DEPTH, OTHER_VARIABLES, ConfigError, Settings

# The file's parsed document while one validation runs (pydantic-settings builds sources itself).
_document: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("acr_console_config")


class _TomlSource(PydanticBaseSettingsSource):
    """The configuration file, parsed and checked by `parse_toml`; none is an empty configuration."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover - unused
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return _document.get({})


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """The TOML document in `text`, no deeper than MAX_CONFIG_DEPTH; a ConfigError names the file."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ConfigError(f"{path}: nested too deeply (a configuration is at most {MAX_CONFIG_DEPTH} tables "
                          "or arrays deep)") from None
    # Iteratively: dotted keys (a.b.c… = 1) nest without tomllib recursing, and so might what reads them.
    pending: list[tuple[Any, int]] = [(doc, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise ConfigError(f"{path}: nested too deeply (a configuration is at most {MAX_CONFIG_DEPTH} tables "
                              "or arrays deep)")
        children = value.values() if isinstance(value, dict) else value
        pending.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return doc


class _Sources(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid")

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


def _field(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return Field(default_factory=f.default_factory)
    return f.default


# The settings model is derived from the dataclass, so a new setting is declared once, in `config`.
_hints = typing.get_type_hints(Settings)
_SettingsModel = create_model(  # type: ignore[call-overload]
    "Settings", __base__=_Sources,
    **{f.name: (_hints[f.name], _field(f)) for f in dataclasses.fields(Settings)},
)


def read_settings(path: Path, text: str) -> Settings:
    """Settings from the file's `text` (read by `config.read_config_file`) and the environment."""
    token = _document.set(parse_toml(path, text) if text else {})
    try:
        model = _SettingsModel()
        return Settings(**{f.name: getattr(model, f.name) for f in dataclasses.fields(Settings)})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration ({_sources(path)}): {problems}") from None
    except ValueError as exc:  # a range Settings checks itself
        raise ConfigError(f"invalid configuration ({_sources(path)}): {exc}") from None
    finally:
        _document.reset(token)


def _sources(path: Path) -> str:
    """Where the settings came from: the file, and the variables when any is set (a bad value may be either's)."""
    named = sorted(k for k in os.environ if k.upper().startswith(ENV_PREFIX) and k not in OTHER_VARIABLES)
    return f"{path}, {', '.join(named)}" if named else str(path)
