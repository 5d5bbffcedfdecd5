"""Cancel means cancel (issue 15): Ctrl+C, or q in the console, while a device code waits for the
person ends the process at once and leaves nothing running.

Before the fix, the sign-in ran on asyncio's default executor (`asyncio.to_thread`), which
`asyncio.run` joins when it ends (`BaseEventLoop.shutdown_default_executor`), so the process
waited until the code expired. Each code here lives 120 s (the sandbox's `device_code_lifetime_s`):
a process that ends within the bound below did not wait for it. The bound is generous (shared CI
machines); what the process really takes is measured in benchmarks and the README, not here.

The sign-ins are real: azure-identity's DeviceCodeCredential against the sandbox's device
authorization endpoint (learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import fcntl
import os
import pty
import re
import selectors
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from acr_console.azure.connection import sandbox_connection
from acr_console.azure.errors import SignInError
from acr_console.azure.interactive import (
    SignIn,
    ThreadedCredential,
    cancellable_device_code_credential,
    current_sign_in,
    guarded_prompt,
)
from acr_console.sandbox.context import Settings
from tests.support.sandbox import running_sandbox

CODE = re.compile(r"enter the code (\S+)\.")
LIFETIME_S = 120
# Far below the code's lifetime: passing means the process did not wait for the code.
EXIT_BOUND_S = 10.0
# How long to wait for a code to be shown at all (sandbox start and imports on a busy machine).
SHOWN_WITHIN_S = 90.0
# Textual's output, with its escape sequences taken out, so the screen's words can be matched.
ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|[@-Z\\-_])")


@pytest.fixture(scope="module")
def device_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_sandbox(tmp_path_factory.mktemp("sign-in-cancel"),
                         settings=Settings(device_code_lifetime_s=LIFETIME_S)) as server:
        yield server


def _env(tmp_path: Path) -> dict[str, str]:
    """A person at a fresh account (as tests/cli/test_sign_in_cache.py makes one): no sign-in kept
    from an earlier run, so a code is asked for."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ACR_CONSOLE_", "XDG_", "DBUS_"))}
    return {**keep, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"), "ACR_CONSOLE_AUDIT_LOG": str(tmp_path / "audit.jsonl")}


def _read_code(stream: IO[str], lines: list[str]) -> str | None:
    for line in stream:
        lines.append(line)
        found = CODE.search(line)
        if found:
            return found.group(1)
    return None


def test_ctrl_c_while_a_device_code_waits_exits_at_once(device_sandbox: Any, tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "acr_console", "--sandbox-data", str(device_sandbox.data_dir),
                             "--auth", "device-code", "access", "contosoprod", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
    assert proc.stderr is not None and proc.stdout is not None
    try:
        lines: list[str] = []
        found: list[str | None] = []
        reader = threading.Thread(target=lambda: found.append(_read_code(proc.stderr, lines)),  # type: ignore[arg-type]
                                  daemon=True)
        reader.start()
        reader.join(SHOWN_WITHIN_S)
        assert found and found[0], f"no device code shown: {''.join(lines)}"
        # The whole prompt: where, the code, and how long it lives (120 s: "2 minutes").
        assert "It expires in 2 minutes, at " in lines[-1], lines[-1]
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=LIFETIME_S)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    rest = proc.stderr.read()
    assert proc.returncode == 130, rest
    assert took < EXIT_BOUND_S, f"exit took {took:.1f} s after SIGINT: it waited for the code"
    assert "Traceback" not in rest, rest
    assert proc.stdout.read() == ""


def _credential(doc: dict[str, Any], prompt: Any) -> Any:
    """The console's device-code credential for the sandbox's user, as `--sandbox --auth
    device-code` makes it (azure/credentials.py), tokens in memory only."""
    cls = cancellable_device_code_credential()
    return ThreadedCredential(cls(prompt_callback=guarded_prompt(prompt), tenant_id=doc["tenant_id"],
                                  authority=doc["authority_host"], disable_instance_discovery=True,
                                  connection_verify=doc["ca_bundle"]), interactive=True)


def _arm_scope(doc: dict[str, Any]) -> str:
    return sandbox_connection(doc).cloud.arm_scope


def test_a_cancelled_request_stops_msals_polling(device_sandbox: Any) -> None:
    """In process: the awaiting task is cancelled, its answer comes at once, and the thread that
    polled Entra ends (MSAL's `expires_at = 0`), long before the code's 120 s."""
    polling: list[threading.Thread] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        shown = asyncio.Event()

        def prompt(uri: str, code: str, expires_on: Any) -> None:
            polling.append(threading.current_thread())
            loop.call_soon_threadsafe(shown.set)

        credential = _credential(device_sandbox.connection, prompt)
        task = asyncio.ensure_future(credential.get_token(_arm_scope(device_sandbox.connection)))
        await shown.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert len(polling) == 1 and polling[0].daemon
    polling[0].join(EXIT_BOUND_S)
    assert not polling[0].is_alive(), "MSAL kept polling after the request was cancelled"


def test_cancel_fails_the_waiting_request_with_a_sign_in_error(device_sandbox: Any) -> None:
    """What the console's Escape does: the request fails now with SignInCancelled; the thread ends."""
    held: list[tuple[SignIn | None, threading.Thread]] = []

    async def main() -> SignInError:
        loop = asyncio.get_running_loop()
        shown = asyncio.Event()

        def prompt(uri: str, code: str, expires_on: Any) -> None:
            held.append((current_sign_in(), threading.current_thread()))
            loop.call_soon_threadsafe(shown.set)

        credential = _credential(device_sandbox.connection, prompt)
        task = asyncio.ensure_future(credential.get_token(_arm_scope(device_sandbox.connection)))
        await shown.wait()
        sign_in = held[0][0]
        assert sign_in is not None
        sign_in.cancel()
        with pytest.raises(SignInError) as raised:
            await task
        await credential.close()
        return raised.value

    err = asyncio.run(main())
    assert err.code == "SignInCancelled"
    held[0][1].join(EXIT_BOUND_S)
    assert not held[0][1].is_alive(), "MSAL kept polling after the sign-in was cancelled"


# -- the console under a pseudo-terminal -------------------------------------------------------


class Console:
    """`python -m acr_console` on a pseudo-terminal of 120x40, its screen read as text."""

    def __init__(self, data_dir: Path, tmp_path: Path) -> None:
        self.fd, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**_env(tmp_path), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        self.proc = subprocess.Popen([sys.executable, "-m", "acr_console", "--sandbox-data", str(data_dir),
                                      "--auth", "device-code"],
                                     stdin=child, stdout=child, stderr=child, env=env, start_new_session=True)
        os.close(child)
        self.text = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def wait_for(self, words: str, within: float) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.fd, selectors.EVENT_READ)
        deadline = time.monotonic() + within
        while words not in ESCAPES.sub("", self.text):
            left = deadline - time.monotonic()
            assert left > 0 and self.proc.poll() is None, f"{words!r} never shown: {ESCAPES.sub('', self.text)[-2000:]}"
            if selector.select(left):
                self._read()

    def _read(self) -> None:
        with contextlib.suppress(OSError):  # EIO: the child closed the terminal
            self.text += self._decoder.decode(os.read(self.fd, 65536))

    def exit_after(self, keys: bytes | None = None, sig: int | None = None) -> float:
        """Send `keys` (or the signal `sig`); the seconds until the process has exited."""
        started = time.monotonic()
        if keys is not None:
            os.write(self.fd, keys)
        else:
            assert sig is not None
            self.proc.send_signal(sig)
        # Keep reading, so the console never blocks writing to a full terminal.
        while self.proc.poll() is None and time.monotonic() - started < LIFETIME_S:
            selector = selectors.DefaultSelector()
            selector.register(self.fd, selectors.EVENT_READ)
            if selector.select(0.1):
                self._read()
        return time.monotonic() - started

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        os.close(self.fd)


@pytest.mark.parametrize(("keys", "sig"), [(b"q", None), (b"\x11", None), (None, signal.SIGINT)],
                         ids=["q", "ctrl+q", "SIGINT"])
def test_quitting_the_console_while_a_code_waits_exits_at_once(device_sandbox: Any, tmp_path: Path,
                                                               keys: bytes | None, sig: int | None) -> None:
    console = Console(device_sandbox.data_dir, tmp_path)
    try:
        console.wait_for("Sign in with a device code", SHOWN_WITHIN_S)
        console.wait_for("(expires at ", SHOWN_WITHIN_S)  # the countdown runs
        took = console.exit_after(keys, sig)
        assert console.proc.poll() is not None, f"still running {took:.0f} s after quitting"
    finally:
        console.close()
    assert took < EXIT_BOUND_S, f"exit took {took:.1f} s: it waited for the code"
    assert "Traceback" not in ESCAPES.sub("", console.text)
