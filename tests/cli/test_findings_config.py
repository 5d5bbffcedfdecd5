"""Issue 18: the `[findings]` table of the configuration file (thresholds, rules turned off, ignores with a
reason and an expiry) and its environment overrides; a bad value is one `error:` line naming the key,
from the real program, before anything is sent (as every other setting: config/validation.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from acr_console.config import ConfigError, load_settings
from acr_console.models import FindingIgnore, FindingSettings

ENTRY = Path(sys.executable).with_name("acr-console")

GOOD = """
[findings]
max_secret_lifetime_days = 180
max_push_registries = 3
disabled_rules = ["push-on-many-registries"]

[[findings.ignore]]
rule = "admin-user-enabled"
target = "contosodev"
reason = "legacy build agents; CHG-1234"
expires = 2027-03-31

[[findings.ignore]]
rule = "orphaned-assignment"
target = "contosobase"
reason = "kept for the audit trail"
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    path.touch()
    monkeypatch.setenv("ACR_CONSOLE_CONFIG", str(path))
    return path


def test_the_findings_table_is_read(config: Path) -> None:
    config.write_text(GOOD)
    assert load_settings().findings == FindingSettings(
        max_secret_lifetime_days=180, max_push_registries=3, disabled_rules=("push-on-many-registries",),
        ignore=(FindingIgnore("admin-user-enabled", "contosodev", "legacy build agents; CHG-1234", date(2027, 3, 31)),
                FindingIgnore("orphaned-assignment", "contosobase", "kept for the audit trail", None)))


def test_no_table_is_the_defaults(config: Path) -> None:
    config.write_text("read_only = false\n")
    assert load_settings().findings == FindingSettings()
    assert FindingSettings().max_secret_lifetime_days == 365 and FindingSettings().max_push_registries == 5


def test_the_environment_overrides_a_threshold(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text(GOOD)
    monkeypatch.setenv("ACR_CONSOLE_FINDINGS__MAX_PUSH_REGISTRIES", "9")
    settings = load_settings().findings
    assert settings.max_push_registries == 9 and settings.max_secret_lifetime_days == 180


@pytest.mark.parametrize(("text", "words"), [
    ("[findings]\nmax_push_registries = 0\n", "max_push_registries: 0 is outside 1–100,000"),
    ("[findings]\nmax_secret_lifetime_days = 5000\n", "max_secret_lifetime_days: 5000 is outside 1–3,650"),
    ("[findings]\nmax_secret_lifetime_days = 'a year'\n", "findings.max_secret_lifetime_days"),
    ("[findings]\nmax_push_registrie = 3\n", "findings.max_push_registrie"),
    ("[findings]\ndisabled_rules = ['admin-user']\n", "disabled_rules: 'admin-user' is no rule"),
    ("[[findings.ignore]]\nrule = 'nope'\ntarget = 'x'\nreason = 'y'\n", "rule: 'nope' is no rule"),
    ("[[findings.ignore]]\nrule = 'admin-user-enabled'\ntarget = 'x'\nreason = ' '\n", "reason: empty"),
    ("[[findings.ignore]]\nrule = 'admin-user-enabled'\ntarget = 'x'\n", "findings.ignore.0.reason"),
    ("[[findings.ignore]]\nrule = 'admin-user-enabled'\ntarget = 'x'\nreason = 'y'\nexpires = 'soon'\n",
     "findings.ignore.0.expires"),
    ("[[findings.ignore]]\nrule = 'admin-user-enabled'\ntarget = 'x'\nreason = 'y'\nuntil = 2027-01-01\n",
     "findings.ignore.0.until"),
])
def test_bad_values_name_the_key(config: Path, text: str, words: str) -> None:
    config.write_text(text)
    with pytest.raises(ConfigError, match="invalid configuration") as raised:
        load_settings()
    assert words in str(raised.value)


def test_the_program_says_so_in_one_line_before_connecting(tmp_path: Path) -> None:
    """No sandbox exists at --sandbox-data: the configuration is refused before any connection is tried."""
    path = tmp_path / "config.toml"
    path.write_text("[findings]\nmax_push_registries = -1\n")
    env = {**os.environ, "ACR_CONSOLE_CONFIG": str(path)}
    result = subprocess.run([str(ENTRY), "--sandbox-data", str(tmp_path / "none"), "findings", "--json"],
                            capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: invalid configuration")
    assert "max_push_registries: -1 is outside" in lines[0] and result.stdout == ""
    assert not (tmp_path / "none").exists()
