"""The bad-input corpus (corpus.py) against every argument of every command, and every field of
every form: a clear message naming the argument (exit 2, no traceback), or "not found" after reads
only (exit 3); never a crash, and never a write: checked in the sandbox's own request log."""

from __future__ import annotations

import io
import re
import sys
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from acr_console.main import main
from acr_console.sandbox.server import SandboxServer

from . import corpus
from .conftest import record

SEEDED = "github-actions-payments"
COUNTS: dict[str, int] = {}


def _cert(key: Any, *, days_before: int = 1, days_after: int = 365) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "corpus")])
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=days_before))
            .not_valid_after(now + timedelta(days=days_after)).sign(key, hashes.SHA256()))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("corpus-files")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    good = _cert(key)
    pem = good.public_bytes(serialization.Encoding.PEM)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    content = {
        "garbage": b"\x00\x01\x02 not a certificate \xff",
        "empty": b"",
        "PEM key only": key_pem,
        "encrypted key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.BestAvailableEncryption(b"pw")) + pem,
        "expired": _cert(key, days_before=400, days_after=-1).public_bytes(serialization.Encoding.PEM),
        "not yet valid": _cert(key, days_before=-30, days_after=400).public_bytes(serialization.Encoding.PEM),
        "PKCS#12 (.pfx)": pkcs12.serialize_key_and_certificates(b"x", key, good, None,
                                                                serialization.BestAvailableEncryption(b"p")),
        "EC key": _cert(ec_key).public_bytes(serialization.Encoding.PEM),
        "malformed PEM": b"-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n",
        "DER": good.public_bytes(serialization.Encoding.DER),
        "PEM": pem,
        "PEM with its key": key_pem + pem,
    }
    content["PKCS#12 bytes in .pem"] = content["PKCS#12 (.pfx)"]
    paths: dict[str, Path] = {}
    for n, (label, data) in enumerate(content.items()):
        suffix = ".pfx" if label == "PKCS#12 (.pfx)" else ".der" if label == "DER" else ".pem"
        paths[label] = d / f"file-{n}{suffix}"
        paths[label].write_bytes(data)
    paths["10 MB"] = d / "big.pem"
    with paths["10 MB"].open("wb") as fh:
        fh.truncate(10 * 1024 * 1024)
    paths["a folder"] = d
    paths["missing"] = d / "missing.pem"
    return paths


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
                                           files: dict[str, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = _fill(arg.argv, corpus.TEXT[label], tmp_path, files)
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
def test_numbers_and_dates(name: str, argv: tuple[str, ...], sandbox_server: SandboxServer, files: dict[str, Path],
                           tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    option = name.split()[-1]
    for value in _values("years" if option == "--years" else "dates"):
        code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch, _fill(argv, value, tmp_path, files))
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
def test_certificate_files(option: str, sandbox_server: SandboxServer, files: dict[str, Path], tmp_path: Path,
                           capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    arg = next(a for a in corpus.ARGUMENTS if f"{a.command} {a.name}" == option)
    for label in corpus.CERTIFICATE_FILES:
        code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch,
                                       _fill(arg.argv, str(files[label]), tmp_path, files))
        _check(label, "REFUSED", option.split()[-1], code, out, err, rows)
        COUNTS["certificates"] = COUNTS.get("certificates", 0) + 1
    if option != "add-certificate --proof":
        for label in corpus.GOOD_CERTIFICATE_FILES:
            code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch,
                                           _fill(arg.argv, str(files[label]), tmp_path, files))
            _check(label, "ACCEPTED", option, code, out, err, rows)
            COUNTS["certificates"] = COUNTS.get("certificates", 0) + 1


def test_global_options(sandbox_server: SandboxServer, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    for label in corpus.MALFORMED | {"markup", "emoji"}:
        for argv in (["--subscription", corpus.TEXT[label], "registries"],
                     ["--profile", corpus.TEXT[label], "registries"]):
            code, out, err, rows = run_cli(sandbox_server, capsys, monkeypatch, argv)
            assert code in (2, 3), (label, argv[0], code, err)
            assert "Traceback" not in out + err and not _writes(rows)
            assert re.search(r"subscription|profile", err, re.I), (label, err)
            COUNTS["global"] = COUNTS.get("global", 0) + 1
