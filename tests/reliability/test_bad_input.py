"""The bad-input corpus (corpus.py) against every argument of every command, and every field of
every form: a clear message naming the argument (exit 2, no traceback), or "not found" after reads
only (exit 3); never a crash, and never a write: checked in the sandbox's own request log."""

from __future__ import annotations

import io
import sys
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from acr_console.main import main
from acr_console.sandbox.server import SandboxServer

from ..support import certificates
from . import corpus
from .conftest import record

SEEDED = "github-actions-payments"
COUNTS: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    yield
    record("bad input", "cases tried (command line)", sum(COUNTS.values()))


def _writes(rows: list[dict[str, Any]]) -> list[str]:
    """Requests that change something (token requests and reads sent as POST are not writes)."""
    return [f"{r['method']} {r['path']}" for r in rows
            if r["method"] in ("PUT", "PATCH", "DELETE")
            or (r["method"] == "POST" and "/v1.0/" in r["path"]
                and not r["path"].endswith(("/getByIds", "/$batch")))]


def _fill(argv: tuple[str, ...], value: str, tmp_path: Path, files: dict[str, Path]) -> list[str]:
    out = []
    for part in argv:
        if part == "{}":
            out.append(value)
        elif part == "{out}":
            # A new file's path: the entry itself when it is blank, else a name inside the test's folder.
            out.append(value if not value.strip() else str(tmp_path / value))
        elif part == "{fresh}":
            out.append(str(tmp_path / "fresh.pem"))
        elif part == "{good}":
            out.append(str(files["PEM"]))
        else:
            out.append(part.replace("{principal}", SEEDED))
    return out


def run_cli(server: SandboxServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
            argv: list[str]) -> tuple[int, str, str, list[dict[str, Any]]]:
    assert server.sandbox is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO("not-a-secret\n"))
    seq = server.sandbox.store.last_request_seq()
    try:
        code = main(["--sandbox-data", str(server.data_dir), *argv])
    except SystemExit as stop:  # argparse refuses a malformed number itself, with exit 2
        code = int(stop.code or 0)
    out, err = capsys.readouterr()
    return code, out, err, server.sandbox.store.request_log(seq)


def _check(label: str, expected: str, says: str, code: int, out: str, err: str, rows: list[dict[str, Any]]) -> None:
    where = f"{label!r}: exit {code}, {err.strip()[:300]!r}"
    assert "Traceback" not in out + err, where
    assert not [c for c in out + err if unicodedata.category(c) == "Cc" and c != "\n"], f"{where}: control char"
    assert not _writes(rows), f"{where}: wrote {_writes(rows)}"
    if expected == "REFUSED":
        assert code == 2, where
        assert not rows, f"{where}: sent {len(rows)} requests before refusing"
        assert says.lower() in " ".join(err.lower().split()), f"{where}: does not name {says}"
    elif expected == "UNKNOWN":
        assert code == 3, where
    else:
        assert code == 0, where


# Lookups are the same mechanism for every argument that names a principal or a registry: all
# names are tried where the argument is the command's subject, a sample elsewhere.
_SAMPLE = ("markup close", "bidi override", "wrong GUID")


def _argument_cases() -> list[tuple[corpus.Argument, str]]:
    cases = []
    for arg in corpus.ARGUMENTS:
        for label in corpus.TEXT:
            expected = arg.expected(label)
            full = arg.command in ("principal", "access") or arg.kind != "reference"
            if expected == "UNKNOWN" and not full and label not in _SAMPLE:
                continue
            if expected == "ACCEPTED" and arg.name != "--name" and label not in ("markup", "right-to-left"):
                continue  # each accepted value costs a plan; --name takes them all
            cases.append((arg, label))
    return cases


@pytest.mark.parametrize(("arg", "label"), _argument_cases(),
                         ids=[f"{a.command} {a.name} {label}" for a, label in _argument_cases()])
def test_every_argument_against_the_corpus(arg: corpus.Argument, label: str, sandbox_server: SandboxServer,
                                           certificate_files: dict[str, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = _fill(arg.argv, corpus.TEXT[label], tmp_path, certificate_files)
    code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch, argv)
    _check(label, arg.expected(label), arg.says, code, out, err, rows)
    if arg.expected(label) == "ACCEPTED" and arg.kind == "display-name":
        # The plan names the principal literally: markup not read, nothing sent to the terminal raw.
        assert corpus.TEXT[label] in out, out
    COUNTS["text"] = COUNTS.get("text", 0) + 1


def _values(kind: str) -> list[str]:
    now = datetime.now(UTC)
    subst = {"{now+30m}": (now + timedelta(minutes=30)).isoformat(), "{now-1d}": (now - timedelta(days=1)).isoformat()}
    if kind == "years":
        return corpus.YEARS
    return [subst.get(v, v) for v in corpus.END_DATES]


@pytest.mark.parametrize(("name", "argv"), corpus.NUMBERS + corpus.DATES,
                         ids=[n for n, _ in corpus.NUMBERS + corpus.DATES])
def test_numbers_and_dates(name: str, argv: tuple[str, ...], sandbox_server: SandboxServer,
                           certificate_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    option = name.split()[-1]
    for value in _values("years" if option == "--years" else "dates"):
        code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch,
                                       _fill(argv, value, tmp_path, certificate_files))
        _check(value, "REFUSED", option, code, out, err, rows)
        COUNTS["numbers"] = COUNTS.get("numbers", 0) + 1


def test_expiring_window(sandbox_server: SandboxServer, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    for value in corpus.WITHIN:
        code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch, ["expiring", "--within", value])
        _check(value, "REFUSED", "--within", code, out, err, rows)
        COUNTS["within"] = COUNTS.get("within", 0) + 1


def test_test_login_scopes(sandbox_server: SandboxServer, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    for value in corpus.SCOPES:
        code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch,
                                       ["test-login", "contosoprod", "--username", SEEDED, "--password-stdin",
                                        "--scope", value])
        _check(value, "REFUSED", "--scope", code, out, err, rows)
        COUNTS["scopes"] = COUNTS.get("scopes", 0) + 1


@pytest.mark.parametrize("option", ["create-principal --certificate", "add-certificate --file",
                                    "add-certificate --proof"])
def test_certificate_files(option: str, sandbox_server: SandboxServer, certificate_files: dict[str, Path],
                           tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    arg = next(a for a in corpus.ARGUMENTS if f"{a.command} {a.name}" == option)
    for label in certificates.REFUSED:
        code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch,
                                       _fill(arg.argv, str(certificate_files[label]), tmp_path, certificate_files))
        _check(label, "REFUSED", option.split()[-1], code, out, err, rows)
        assert certificates.REFUSED[label] in " ".join(err.split()), (label, err)
        COUNTS["certificates"] = COUNTS.get("certificates", 0) + 1
    if option != "add-certificate --proof":
        for label in certificates.ACCEPTED:
            code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch,
                                           _fill(arg.argv, str(certificate_files[label]), tmp_path, certificate_files))
            _check(label, "ACCEPTED", option, code, out, err, rows)
            COUNTS["certificates"] = COUNTS.get("certificates", 0) + 1


def test_global_options(sandbox_server: SandboxServer, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A subscription id that is not a GUID, or a profile the configuration lacks, is bad usage: exit 2
    naming the option, before any request (README: "Exit codes", "Bad input")."""
    for label in corpus.MALFORMED | {"markup", "emoji", "wrong GUID"}:
        for argv in (["--subscription", corpus.TEXT[label], "registries"],
                     ["--profile", corpus.TEXT[label], "registries"]):
            code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch, argv)
            _check(label, "REFUSED", argv[0].removeprefix("--"), code, out, err, rows)
            COUNTS["global"] = COUNTS.get("global", 0) + 1
    # A well-formed id of no visible subscription names nothing: exit 3, after reads only.
    code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch,
                                   ["--subscription", corpus.TEXT["unknown GUID"], "registries"])
    _check("unknown GUID", "UNKNOWN", "--subscription", code, out, err, rows)
    assert "subscription" in err.lower(), err
    COUNTS["global"] = COUNTS.get("global", 0) + 1
