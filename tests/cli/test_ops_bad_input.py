"""Bad input to the write commands: a clear message, exit 2, and not one request that changes anything.

Checked against the sandbox's own request log, so "nothing sent" is what the server saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acr_console.main import main

REGISTRY = "contosoprod"


@pytest.fixture(autouse=True)
def audit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(path))
    return path


@pytest.fixture(scope="module")
def files(certificate_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The shared certificate files (tests/support/certificates.py), and a file --out must not overwrite."""
    existing = tmp_path_factory.mktemp("out") / "existing.pem"
    existing.write_bytes(b"something precious")
    return {**certificate_files, "existing": existing}


def create(*extra: str, name: str = "bad-input-test", role: str = "AcrPush") -> list[str]:
    return ["create-principal", "--name", name, "--registry", REGISTRY, "--role", role, "--yes", "--show-secret",
            *extra]


# Each case: the words the error must hold; "--flag: " first names the field the refusal is about.
CASES: list[tuple[str, Any, str | tuple[str, ...]]] = [
    ("empty name", lambda f: create(name=""), ("--name: ", "empty")),
    ("whitespace name", lambda f: create(name="   "), "empty"),
    ("control characters", lambda f: create(name="evil\x1b[2Jname"), ("--name: ", "control")),
    ("bidi override", lambda f: create(name="abc\u202eexe"), "control"),
    ("very long name", lambda f: create(name="x" * 300), "at most 256"),
    ("unknown role", lambda f: create(role="Owner"), ("--role: ", "unknown role")),
    ("past end date", lambda f: create("--end-date", "2020-01-01"), ("--end-date: ", "in the past")),
    ("far future", lambda f: create("--years", "50"), ("--years: ", "at most 10")),
    ("not a date", lambda f: create("--end-date", "tomorrow"), "not a date"),
    ("garbage cert", lambda f: create("--certificate", str(f["garbage"])), "not a certificate"),
    ("empty cert", lambda f: create("--certificate", str(f["empty"])), "empty"),
    ("malformed cert", lambda f: create("--certificate", str(f["malformed PEM"])), "malformed"),
    ("key only", lambda f: create("--certificate", str(f["PEM key only"])), "no certificate"),
    ("encrypted key", lambda f: create("--certificate", str(f["encrypted key"])), "encrypted"),
    ("10 MB file", lambda f: create("--certificate", str(f["10 MB"])), "1 MiB"),
    ("pkcs12", lambda f: create("--certificate", str(f["PKCS#12 (.pfx)"])), "openssl pkcs12"),
    ("missing file", lambda f: create("--certificate", "/nonexistent/x.pem"), ("--certificate: ", "no such file")),
    ("generate without out", lambda f: create("--certificate", "generate"), ("--out: ", "private key")),
    ("out exists", lambda f: create("--out", str(f["existing"])), ("--out: ", "already exists")),
    ("reset past date", lambda f: ["reset-credential", "someone", "--end-date", "2001-01-01", "--show-secret",
                                   "--yes"], "in the past"),
    ("reset long display name", lambda f: ["reset-credential", "someone", "--display-name", "d" * 200,
                                           "--show-secret", "--yes"],
     ("--display-name: ", "at most 120")),
    ("add-cert expired-ish garbage", lambda f: ["add-certificate", "someone", "--file", str(f["garbage"]), "--yes"],
     "not a certificate"),
    ("add-cert generate no out", lambda f: ["add-certificate", "someone", "--generate", "--yes"],
     ("--out: ", "private key")),
    ("remove bad key id", lambda f: ["remove-credential", "someone", "not-a-guid", "--yes"], "not a key id"),
    ("assign unknown role", lambda f: ["assign", "someone", "--registry", REGISTRY, "--role", "SuperPush", "--yes"],
     "unknown role"),
    ("unassign unknown role", lambda f: ["unassign", "someone", "--registry", REGISTRY, "--role", "Nope", "--yes"],
     "unknown role"),
    ("revoke empty principal", lambda f: ["revoke", " ", "--registry", REGISTRY, "--yes"], "no principal"),
    ("test-login bad scope", lambda f: ["test-login", REGISTRY, "--username", "x", "--password-stdin", "--scope",
                                        "pull everything"], "not a registry scope"),
]


@pytest.mark.parametrize(("label", "argv", "needle"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_and_sends_nothing(label: str, argv: Any, needle: str | tuple[str, ...],
                                             files: dict[str, Path],
                                             sandbox_server: Any, capsys: pytest.CaptureFixture[str]) -> None:
    seq = sandbox_server.sandbox.store.last_request_seq()
    code = main(["--sandbox-data", str(sandbox_server.data_dir), *argv(files)])
    _, err = capsys.readouterr()
    assert code == 2, err
    for words in (needle,) if isinstance(needle, str) else needle:
        assert words in err
    assert "Traceback" not in err
    assert sandbox_server.sandbox.store.last_request_seq() == seq, "a request was sent"
    assert files["existing"].read_bytes() == b"something precious"


def test_mode_mismatch_is_refused_after_reads_only(sandbox_server: Any, capsys: pytest.CaptureFixture[str]) -> None:
    seq = sandbox_server.sandbox.store.last_request_seq()
    code = main(["--sandbox-data", str(sandbox_server.data_dir), "create-principal", "--name", "mode-mismatch",
                 "--registry", "contosoprodweu", "--role", "AcrPush", "--yes", "--show-secret"])
    _, err = capsys.readouterr()
    assert code == 2 and "does not grant access on contosoprodweu" in err
    writes = [r for r in sandbox_server.sandbox.store.request_log(seq)
              if r["method"] in ("PUT", "PATCH", "DELETE") or (r["method"] == "POST" and "/v1.0/applications" in
                                                                r["path"])]
    assert writes == []
