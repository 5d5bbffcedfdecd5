"""Profiles and settings: TOML file, environment overrides, unknown keys rejected, --profile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from acr_console.config import ConfigError, load_settings
from acr_console.main import build_parser
from acr_console.session import SessionOptions, resolve

CONFIG = """
default_profile = "support"

[profiles.support]
tenant = "contoso.onmicrosoft.com"
auth = "device-code"
read_only = true

[profiles.prod]
cloud = "AzureUSGovernment"
subscriptions = ["11111111-1111-1111-1111-111111111111"]
accent = "#8b0000"

[keymap]
"registries.refresh" = "f5"
"""


def test_profiles_from_file(no_user_config: Path) -> None:
    no_user_config.write_text(CONFIG)
    settings = load_settings()
    assert settings.keymap == {"registries.refresh": "f5"}
    name, profile = settings.profile(None)
    assert (name, profile.read_only, profile.auth) == ("support", True, "device-code")
    assert settings.profile("prod")[1].cloud == "AzureUSGovernment"
    with pytest.raises(ConfigError, match="no profile 'nope'"):
        settings.profile("nope")


def test_environment_overrides_the_file(no_user_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_user_config.write_text(CONFIG)
    monkeypatch.setenv("ACR_CONSOLE_PROFILES__SUPPORT__READ_ONLY", "false")
    monkeypatch.setenv("ACR_CONSOLE_MAX_ROWS", "500")
    settings = load_settings()
    assert settings.profiles["support"].read_only is False
    assert settings.profiles["support"].tenant == "contoso.onmicrosoft.com"
    assert settings.max_rows == 500


@pytest.mark.parametrize("text, where", [
    ("[profiles.x]\nread_ony = true\n", "profiles.x.read_ony"),
    ("colour = 1\n", "colour"),
    ("[profiles.x]\naccent = 'not-a-colour'\n", "accent"),
    ("[profiles.x]\ncloud = 'Mars'\n", "cloud"),
    ("max_rows = 5\n", "max_rows"),
])
def test_bad_configuration_is_named(no_user_config: Path, text: str, where: str) -> None:
    no_user_config.write_text(text)
    with pytest.raises(ConfigError, match=where):
        load_settings()


def test_profile_option_fills_unset_options(no_user_config: Path) -> None:
    no_user_config.write_text(CONFIG)
    args = build_parser().parse_args(["--profile", "prod", "--tenant", "fabrikam", "registries"])
    target = resolve(SessionOptions.from_args(args), load_settings())
    p = target.profile
    assert (p.cloud, p.tenant, p.auth) == ("AzureUSGovernment", "fabrikam", "cli")
    assert p.subscriptions == ("11111111-1111-1111-1111-111111111111",)
    assert p.accent == "#8b0000" and p.read_only is False and target.profile_name == "prod"
    # The default profile applies without --profile, and read-only from it sticks.
    target = resolve(SessionOptions.from_args(build_parser().parse_args(["registries"])), load_settings())
    assert target.profile.read_only is True and target.profile_name == "support"


def test_no_file_means_defaults(no_user_config: Path) -> None:
    target = resolve(SessionOptions(), load_settings())
    assert (target.profile.cloud, target.profile.auth, target.profile.read_only) == ("AzureCloud", "cli", False)
    assert target.profile_name is None and target.profile.sandbox is False


def test_variables_alone_are_read_and_checked(no_user_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACR_CONSOLE_PROFILES__CI__SANDBOX", "true")
    monkeypatch.setenv("ACR_CONSOLE_DEFAULT_PROFILE", "ci")
    name, profile = load_settings().profile(None)
    assert (name, profile.sandbox, profile.cloud) == ("ci", True, "AzureCloud")
    monkeypatch.setenv("ACR_CONSOLE_EXPIRY_WARNING_DAYS", "0")
    with pytest.raises(ConfigError, match="expiry_warning_days: 0 is outside 1–365"):
        load_settings()


def test_nothing_to_read_loads_no_validator(no_user_config: Path) -> None:
    # Every command reads the settings before its first request; with no file and no variable there
    # is nothing to validate, so pydantic (~0.15 s of imports) must stay out of the process.
    code = ("import sys; from acr_console.config import load_settings; s = load_settings(); "
            "print(s.max_rows, sorted(m for m in sys.modules if m.split('.')[0].startswith('pydantic')))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACR_CONSOLE_")}
    env["ACR_CONSOLE_CONFIG"] = str(no_user_config)
    env["ACR_CONSOLE_AUDIT_LOG"] = str(no_user_config.with_name("audit.jsonl"))  # prefixed, but not a setting
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["100000", "[]"]


def test_other_prefixed_variables_are_not_settings(no_user_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", "/tmp/elsewhere.jsonl")
    monkeypatch.setenv("acr_console_max_rows", "200")  # a setting, whatever its case
    assert load_settings().max_rows == 200
