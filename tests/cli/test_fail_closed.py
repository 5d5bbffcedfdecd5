"""Read-only fails closed: a configuration, variable, audit log path or input the console cannot use
as given is an error (one `error:` line, exit 2) and nothing is sent; ACR_CONSOLE_READ_ONLY refuses
writes. Every case runs the installed `acr-console` program as a process against the shared demo
sandbox, and "nothing sent" is the sandbox's own request log (tests/support/sandbox.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acr_console.sandbox.server import SandboxServer

PROGRAM = Path(sys.executable).with_name("acr-console")
# A bound on a process that should end at once, never a measure: a FIFO read would hang for ever.
TIMEOUT_S = 120
ASSIGN = ("assign", "github-actions-payments", "--registry", "contosoprod", "--role", "AcrPull", "--yes")


def run(sandbox: SandboxServer | None, *args: str, env: dict[str, str], stdin: bytes = b"",
        ) -> subprocess.CompletedProcess[str]:
    where = ("--sandbox-data", str(sandbox.data_dir)) if sandbox is not None else ()
    done = subprocess.run([str(PROGRAM), *where, *args], input=stdin, capture_output=True, timeout=TIMEOUT_S,
                          env=env)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(errors="replace"),
                                       done.stderr.decode(errors="replace"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The test's own environment: no ACR_CONSOLE_* variable of the developer's, an empty
    configuration file, an audit log of its own; the proxies the suite's tripwire set stay."""
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("ACR_CONSOLE_")}
    config = tmp_path / "config.toml"
    config.touch()
    return {**clean, "ACR_CONSOLE_CONFIG": str(config), "ACR_CONSOLE_AUDIT_LOG": str(tmp_path / "audit.jsonl")}


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def sent_since(sandbox: SandboxServer, seq: int) -> list[dict[str, Any]]:
    assert sandbox.sandbox is not None
    return sandbox.sandbox.store.request_log(seq)


def last_seq(sandbox: SandboxServer) -> int:
    assert sandbox.sandbox is not None
    return sandbox.sandbox.store.last_request_seq()


# -- the configuration file ----------------------------------------------------------------------

def _fifo(tmp: Path) -> str:
    os.mkfifo(tmp / "config.fifo")
    return str(tmp / "config.fifo")


def _write(name: str, data: bytes) -> Callable[[Path], str]:
    def make(tmp: Path) -> str:
        (tmp / name).write_bytes(data)
        return str(tmp / name)
    return make


# (label, the value of ACR_CONSOLE_CONFIG made in a temporary folder, words the error must hold)
CONFIG_CASES: list[tuple[str, Callable[[Path], str], tuple[str, ...]]] = [
    ("missing", lambda tmp: "/no/such/file", ("/no/such/file", "does not exist", "ACR_CONSOLE_CONFIG")),
    ("missing folder on the way", lambda tmp: str(tmp / "nope" / "config.toml"), ("does not exist",)),
    ("empty variable", lambda tmp: "", ("ACR_CONSOLE_CONFIG is set but empty",)),
    ("a folder", lambda tmp: str(tmp), ("is a folder",)),
    ("a FIFO", _fifo, ("config.fifo", "not a regular file")),
    ("/dev/zero", lambda tmp: "/dev/zero", ("/dev/zero", "not a regular file")),
    ("too large", _write("big.toml", b"# padding\n" * 110_000), ("1,048,576",)),
    ("nested arrays", _write("deep.toml", b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n"), ("nested too deeply",)),
    ("nested dotted keys", _write("dotted.toml", b".".join([b"k"] * 40) + b" = 1\n"), ("nested too deeply",)),
    ("not UTF-8", _write("latin1.toml", b"[profiles.caf\xe9]\nread_only = true\n"), ("not UTF-8",)),
    ("not TOML", _write("bad.toml", b"read_only = = true\n"), ("bad.toml",)),
]


@pytest.mark.parametrize(("label", "value", "words"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_a_configuration_that_cannot_be_used_stops_a_write_before_anything_is_sent(
        label: str, value: Callable[[Path], str], words: tuple[str, ...], sandbox_server: SandboxServer,
        env: dict[str, str], tmp_path: Path) -> None:
    env["ACR_CONSOLE_CONFIG"] = value(tmp_path)
    seq = last_seq(sandbox_server)
    result = run(sandbox_server, *ASSIGN, env=env)
    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    for w in words:
        assert w in line
    assert sent_since(sandbox_server, seq) == []
    assert not Path(env["ACR_CONSOLE_AUDIT_LOG"]).exists()


def test_an_empty_file_or_dev_null_is_no_configuration(sandbox_server: SandboxServer, env: dict[str, str]) -> None:
    for value in (env["ACR_CONSOLE_CONFIG"], os.devnull):
        result = run(sandbox_server, "registries", "--json", env={**env, "ACR_CONSOLE_CONFIG": value})
        assert result.returncode == 0, result.stderr
        assert "contosoprod" in {r["name"] for r in json.loads(result.stdout)}


# -- ACR_CONSOLE_* variables ---------------------------------------------------------------------

@pytest.mark.parametrize(("variable", "nearest"), [
    ("ACR_CONSOLE_READONLY", "ACR_CONSOLE_READ_ONLY"),
    ("ACR_CONSOLE_AUDITLOG", "ACR_CONSOLE_AUDIT_LOG"),
    ("ACR_CONSOLE_CONFG", "ACR_CONSOLE_CONFIG"),
    ("acr_console_max_row", "ACR_CONSOLE_MAX_ROWS"),
])
def test_an_unknown_variable_is_an_error_naming_the_nearest_one(
        variable: str, nearest: str, sandbox_server: SandboxServer, env: dict[str, str]) -> None:
    seq = last_seq(sandbox_server)
    result = run(sandbox_server, *ASSIGN, env={**env, variable: "true"})
    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert f"unknown environment variable {variable} (did you mean {nearest}?)" in line
    assert sent_since(sandbox_server, seq) == []


def test_read_only_from_the_environment_refuses_writes_and_allows_reads(
        sandbox_server: SandboxServer, env: dict[str, str]) -> None:
    env = {**env, "ACR_CONSOLE_READ_ONLY": "true"}
    seq = last_seq(sandbox_server)
    result = run(sandbox_server, *ASSIGN, env=env)
    assert result.returncode == 4, result.stderr
    assert "read-only mode" in one_error_line(result) and "nothing was sent" in result.stderr
    assert sent_since(sandbox_server, seq) == []
    assert not Path(env["ACR_CONSOLE_AUDIT_LOG"]).exists()
    # Reads go on; a variable that is not a setting but is known (the tests' Azure CLI) is no error.
    result = run(sandbox_server, "registries", "--json", env={**env, "ACR_CONSOLE_AZ_VENV": "/elsewhere"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)


def test_read_only_sticks_whichever_side_sets_it(sandbox_server: SandboxServer, env: dict[str, str]) -> None:
    """The variable makes a writable profile read-only; a profile's read_only is not lifted by it."""
    Path(env["ACR_CONSOLE_CONFIG"]).write_text(
        '[profiles.ops]\nread_only = false\n\n[profiles.support]\nread_only = true\n')
    seq = last_seq(sandbox_server)
    for profile, variable in (("ops", "true"), ("support", "false")):
        result = run(sandbox_server, "--profile", profile, *ASSIGN, env={**env, "ACR_CONSOLE_READ_ONLY": variable})
        assert result.returncode == 4, (profile, result.stderr)
        assert "read-only mode" in one_error_line(result)
    assert sent_since(sandbox_server, seq) == []


def test_a_value_that_is_not_a_boolean_is_an_error(sandbox_server: SandboxServer, env: dict[str, str]) -> None:
    seq = last_seq(sandbox_server)
    result = run(sandbox_server, *ASSIGN, env={**env, "ACR_CONSOLE_READ_ONLY": "maybe"})
    assert result.returncode == 2
    line = one_error_line(result)
    assert "read_only" in line and "ACR_CONSOLE_READ_ONLY" in line
    assert sent_since(sandbox_server, seq) == []


# -- subscriptions -------------------------------------------------------------------------------

def test_a_malformed_subscription_is_refused_before_any_request(sandbox_server: SandboxServer,
                                                                 env: dict[str, str]) -> None:
    seq = last_seq(sandbox_server)
    result = run(sandbox_server, "--subscription", "contoso-prod", "registries", env=env)
    assert result.returncode == 2
    assert "error: argument --subscription: 'contoso-prod' is not a subscription id" in result.stderr
    assert "Traceback" not in result.stderr
    # The same in a profile: checked when the file is read.
    Path(env["ACR_CONSOLE_CONFIG"]).write_text('[profiles.prod]\nsubscriptions = ["prod"]\n')
    result = run(sandbox_server, "--profile", "prod", "registries", env=env)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "profiles.prod" in line and "'prod' is not a subscription id" in line
    assert sent_since(sandbox_server, seq) == []


# -- the audit log -------------------------------------------------------------------------------

def _audit_fifo(tmp: Path) -> str:
    os.mkfifo(tmp / "audit.fifo")
    return str(tmp / "audit.fifo")


AUDIT_PATHS: list[tuple[str, Callable[[Path], str], str]] = [
    ("/dev/zero", lambda tmp: "/dev/zero", "not a regular file"),
    ("a FIFO", _audit_fifo, "not a regular file"),
    ("a folder", lambda tmp: str(tmp), "is a folder"),
]


@pytest.mark.parametrize(("label", "value", "words"), AUDIT_PATHS, ids=[c[0] for c in AUDIT_PATHS])
def test_an_audit_log_that_is_not_a_regular_file_stops_a_write_and_is_not_read(
        label: str, value: Callable[[Path], str], words: str, sandbox_server: SandboxServer, env: dict[str, str],
        tmp_path: Path) -> None:
    env["ACR_CONSOLE_AUDIT_LOG"] = value(tmp_path)
    seq = last_seq(sandbox_server)
    result = run(sandbox_server, *ASSIGN, env=env)
    assert result.returncode == 2, result.stderr
    assert words in one_error_line(result) and "ACR_CONSOLE_AUDIT_LOG" in result.stderr
    assert sent_since(sandbox_server, seq) == []
    result = run(None, "audit", env=env)  # /dev/zero was read for ever (4.8 GB in 6 s)
    assert result.returncode == 2 and words in one_error_line(result)


GOOD = {"v": 1, "time": "2026-05-01T10:00:00Z", "operation": "assign", "target": {"principal": "ci-good"},
        "result": "ok", "steps": [{"status": "done"}]}


def test_audit_skips_and_counts_lines_it_cannot_read(env: dict[str, str]) -> None:
    log = Path(env["ACR_CONSOLE_AUDIT_LOG"])
    good = json.dumps(GOOD).encode()
    later = json.dumps({**GOOD, "target": {"principal": "ci-later"}}).encode()
    # A record with one byte that is not UTF-8, a torn line, a JSON list, a 2 MiB line with no end.
    log.write_bytes(good + b"\n" + good.replace(b"ci-good", b"ci-\xffbad") + b"\n" + b'{"v": 1, "ti\n' +
                    b"[1, 2]\n" + later + b"\n" + b"x" * (2 << 20))
    result = run(None, "audit", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert [r["target"]["principal"] for r in json.loads(result.stdout)] == ["ci-good", "ci-later"]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: 4 line(s) of ") and "skipped" in lines[0]
    result = run(None, "audit", "--limit", "1", env=env)
    assert result.returncode == 0 and "ci-later" in result.stdout and "ci-good" not in result.stdout


@pytest.mark.parametrize("limit", ["-1", "-50", "ten"])
def test_audit_limit_must_be_a_count(limit: str, env: dict[str, str]) -> None:
    result = run(None, "audit", "--limit", limit, env=env)
    assert result.returncode == 2
    assert "error: argument --limit:" in result.stderr and "Traceback" not in result.stderr


# -- a secret on standard input ------------------------------------------------------------------

SECRETS: list[tuple[str, bytes, str]] = [
    ("10 MB", b"s" * 10_000_000 + b"\n", "longer than 8,192 characters"),
    ("10 MB with no line end", b"s" * 10_000_000, "longer than 8,192 characters"),
    ("8,193 characters", "é".encode() * 8193 + b"\n", "longer than 8,192 characters"),
    ("not UTF-8", b"secr\xff\xfet\n", "not UTF-8"),
]


@pytest.mark.parametrize(("label", "stdin", "words"), SECRETS, ids=[c[0] for c in SECRETS])
def test_a_secret_that_cannot_be_one_is_refused_unsent(label: str, stdin: bytes, words: str,
                                                       sandbox_server: SandboxServer, env: dict[str, str]) -> None:
    seq = last_seq(sandbox_server)
    result = run(sandbox_server, "test-login", "contosoprod.azurecr.io", "--username",
                 "00000000-0000-0000-0000-000000000001", "--password-stdin", env=env, stdin=stdin)
    assert result.returncode == 2, result.stderr
    assert words in one_error_line(result)
    assert sent_since(sandbox_server, seq) == []


# -- the SDK's log lines -------------------------------------------------------------------------

def test_a_failed_sign_in_is_one_error_line(env: dict[str, str], tmp_path: Path) -> None:
    """azure-identity logs the failure at WARNING ("AzureCliCredential.get_token_info failed: Azure
    CLI not found on path"); Python's last-resort handler printed it above the console's own line."""
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run(None, "--auth", "cli", "registries", env={**env, "PATH": str(empty)})
    assert result.returncode != 0
    assert "Azure CLI not found" in one_error_line(result)


# -- standard output closed --------------------------------------------------------------------------

@pytest.mark.parametrize("args", [("registries", "--json"), ("access", "contosoprod"), ASSIGN],
                         ids=["registries", "access", "assign"])
def test_a_closed_standard_output_is_refused_before_anything_is_sent(
        args: tuple[str, ...], sandbox_server: SandboxServer, env: dict[str, str]) -> None:
    # `acr-console … >&-`: descriptor 1 closed before the program starts (POSIX sh, "Redirection":
    # `>&-` closes the descriptor). Python then has sys.stdout None; before this check the in-process
    # sandbox's logging set-up failed with "ValueError: Unable to configure formatter 'default'".
    seq = last_seq(sandbox_server)
    done = subprocess.run([str(PROGRAM), "--sandbox-data", str(sandbox_server.data_dir), *args],
                          stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=TIMEOUT_S, env=env,
                          preexec_fn=lambda: os.close(1))
    result = subprocess.CompletedProcess(done.args, done.returncode, "", done.stderr.decode(errors="replace"))
    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert "standard output is closed" in line and "/dev/null" in line
    assert sent_since(sandbox_server, seq) == []
    assert not Path(env["ACR_CONSOLE_AUDIT_LOG"]).exists()
