"""Secrets go only where the user asked: the secret screen, an `--out` file (0600), `--json` or
`--show-secret` output. Credentials are created, reset and added through the command line and the
console, in a home, state, config and temp folder of the test's own; then every file written
there, every captured output and log record, the exception texts, and the sandbox's request log
and database (which keeps secrets as salted hashes only) are searched for each secret and for any
access token (a JWT: "eyJ...").
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import stat
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from acr_console.main import main
from acr_console.sandbox.server import SandboxServer

from ..support.key_leaks import KeyNeedles
from ..tui.conftest import make_app, settle
from ..tui.test_flows import confirm_and_run, create_principal, open_principal, submit_form
from .conftest import record

JWT = re.compile(r"eyJ[\w-]{10,}\.[\w-]{10,}\.")


@pytest.fixture
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME, the XDG folders and TMPDIR of the test's own, with no override of where the console
    writes: the audit log goes where it goes for a user (platformdirs), and is searched there."""
    home = tmp_path / "home"
    for sub in ("state", "config", "data", "cache", "tmp", "work"):
        (home / sub).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_STATE_HOME", "state"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_CACHE_HOME", "cache"), ("TMPDIR", "tmp")):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.delenv("ACR_CONSOLE_AUDIT_LOG", raising=False)
    monkeypatch.delenv("ACR_CONSOLE_CONFIG", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.chdir(home / "work")
    return home


async def _cli(server: SandboxServer, capsys: pytest.CaptureFixture[str], *args: str,
               stdin: str = "") -> tuple[int, str, str]:
    """The command line in-process, on a thread of its own (it runs its own event loop)."""
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = await asyncio.to_thread(main, ["--sandbox-data", str(server.data_dir), *args])
    finally:
        sys.stdin = saved
    out, err = capsys.readouterr()
    return code, out, err


async def test_secrets_only_where_asked(sandbox_server: SandboxServer, private_home: Path,
                                        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every SDK's logger, at its most talkative
    assert sandbox_server.sandbox is not None
    seq = sandbox_server.sandbox.store.last_request_seq()
    work = private_home / "work"
    secrets: list[str] = []
    allowed: dict[str, set[str]] = {}  # where each secret may be: names of outputs and files
    elsewhere: list[tuple[str, str]] = []  # (what, text) that may hold no secret at all
    name = f"optest-hygiene-{uuid.uuid4().hex[:8]}"

    # The command line: --json, --out, --show-secret, a generated key.
    code, out, err = await _cli(sandbox_server, capsys, "create-principal", "--name", name, "--registry",
                          "contosoprod", "--role", "AcrPull", "--json", "--yes")
    assert code == 0, err
    created = json.loads(out)
    secrets.append(created["password"])
    allowed[created["password"]] = {"create --json stdout"}
    elsewhere.append(("create --json stderr", err))
    app_id = created["appId"]

    code, out, err = await _cli(sandbox_server, capsys, "reset-credential", app_id, "--out",
                          str(work / "reset.json"), "--yes")
    assert code == 0, err
    reset = json.loads((work / "reset.json").read_text())["password"]
    secrets.append(reset)
    allowed[reset] = {"reset.json"}
    elsewhere.append(("reset --out output", out + err))

    code, out, err = await _cli(sandbox_server, capsys, "reset-credential", app_id, "--show-secret", "--yes")
    assert code == 0, err
    shown = re.search(r"^\s*password: (\S+)$", out, re.M)
    assert shown, out
    secrets.append(shown.group(1))
    allowed[shown.group(1)] = {"reset --show-secret stdout"}
    elsewhere.append(("reset --show-secret stderr", err))

    code, out, err = await _cli(sandbox_server, capsys, "add-certificate", app_id, "--generate", "--out",
                          str(work / "key.pem"), "--yes")
    assert code == 0, err
    # Private keys are searched for by their own private bytes (tests/support/key_leaks.py), never by
    # the public modulus the certificate also carries.
    keys = {"key.pem": KeyNeedles.of_pem((work / "key.pem").read_text())}
    elsewhere.append(("add-certificate output", out + err))

    # A failed sign-in with a wrong secret: its error text must not echo what was typed.
    code, out, err = await _cli(sandbox_server, capsys, "test-login", "contosoprod", "--username", app_id,
                                "--password-stdin", stdin=created["password"] + "x\n")
    elsewhere.append(("test-login with a wrong secret", out + err))

    # The console: create (secret screen), reset through the form, a generated certificate.
    app = make_app(sandbox_server.connection, clock=lambda: datetime.now(UTC))
    tui_name = f"optest-hygiene-tui-{uuid.uuid4().hex[:8]}"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        first = await create_principal(pilot, tui_name)
        secrets.append(first)
        allowed[first] = {"secret screen"}
        await open_principal(pilot, tui_name)
        await pilot.press("C")
        await settle(pilot)
        app.screen.query_one("#field-source", Select).value = "generate"
        await pilot.pause()
        app.screen.query_one("#field-out", Input).value = str(work / "tui-key.pem")
        await submit_form(pilot)
        execution = await confirm_and_run(pilot)
        assert execution.outcome.ok, execution.outcome.summary()
        elsewhere.append(("console screen after adding a certificate", app.export_screenshot()))
        execution.action_close()
        await settle(pilot)
        keys["tui-key.pem"] = KeyNeedles.of_pem((work / "tui-key.pem").read_text())
        elsewhere.append(("console notifications", " ".join(n.message for n in app._notifications)))
        elsewhere.append(("console screen", app.export_screenshot()))

    # Certificate key files are the owner's alone.
    for key_file in ("key.pem", "tui-key.pem", "reset.json"):
        assert stat.S_IMODE(os.stat(work / key_file).st_mode) == 0o600, key_file

    # Every file the program wrote under the private home (the audit log among them).
    written = {str(p.relative_to(private_home)): p.read_bytes().decode("utf-8", "replace")
               for p in private_home.rglob("*") if p.is_file()}
    assert any(k.endswith("audit.jsonl") for k in written), sorted(written)
    requested = {"work/reset.json": "reset.json", "work/key.pem": "key.pem", "work/tui-key.pem": "tui-key.pem"}
    elsewhere += [(f"file {k}", v) for k, v in written.items() if k not in requested]
    elsewhere.append(("log records", caplog.text))
    elsewhere += [("sandbox request log", json.dumps(r)) for r in sandbox_server.sandbox.store.request_log(seq)]
    db = sandbox_server.data_dir / "sandbox.db"
    elsewhere += [(f"sandbox {p.name}", p.read_bytes().decode("latin-1")) for p in db.parent.glob("sandbox.db*")]

    found = [(what, s[:6] + "…") for what, text in elsewhere for s in secrets if s in text]
    def key_leaks(places: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(what, f"private key of {file}: {hits}") for what, text in places
                for file, needles in keys.items() if (hits := needles.found_in(text))]

    found += key_leaks(elsewhere)
    # The negative control: the same search over the same places plus one line of a key's PEM body
    # logged at DEBUG finds that line, and only it.
    pem_body = [line for line in (work / "key.pem").read_text().split("-----BEGIN CERTIFICATE")[0].splitlines()
                if line and not line.startswith("-----")]
    logging.getLogger("acr_console").debug("planted: %s", pem_body[len(pem_body) // 2])
    planted = [*elsewhere, ("planted log records", caplog.text)]
    assert [what for what, _ in key_leaks(planted)] == ["planted log records"]
    tokens = [what for what, text in elsewhere if not what.startswith("sandbox") and JWT.search(text)]
    for label, name_of in requested.items():
        for s in secrets:
            if s in written[label] and name_of not in allowed[s]:
                found.append((label, s[:6] + "…"))
        for file, needles in keys.items():
            if file != name_of and needles.found_in(written[label], armour=False):
                found.append((label, f"private key of {file}"))
    # The files asked for do hold their own key (the search would find a leak).
    assert all(needles.found_in(written[f"work/{file}"]) for file, needles in keys.items())
    assert not found, found
    assert not tokens, tokens
    record("secret hygiene", "secrets created", len(secrets) + len(keys))
    record("secret hygiene", "places searched", len(elsewhere))
    record("secret hygiene", "secrets found where not asked for", len(found))
    record("secret hygiene", "tokens found in logs or files", len(tokens))
