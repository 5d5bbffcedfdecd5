"""Reading and checking the configuration file and `ACR_CONSOLE_*` variables with pydantic-settings.

Imported only when there is a file or a variable to read (see `config/__init__.py`): pydantic-settings gives the
nested environment overrides (`__`), TOML, and errors that name the bad key; the result is
`config.Settings`, so the rest of the program never sees pydantic.
"""

from __future__ import annotations

import contextvars
import dataclasses
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, create_model
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from . import ENV_PREFIX, ConfigError, Settings

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


def read_settings(path: Path) -> Settings:
    token = _toml_path.set(path)
    try:
        model = _SettingsModel()
        return Settings(**{f.name: getattr(model, f.name) for f in dataclasses.fields(Settings)})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration ({path}): {problems}") from None
    except ValueError as exc:  # a range Settings checks itself
        raise ConfigError(f"invalid configuration ({path}): {exc}") from None
    finally:
        _toml_path.reset(token)
