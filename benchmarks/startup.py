"""Start-up: importing the entry point, `registries --json` against a running demo sandbox, and the
console from launch to its first frame and to the registry list, in a real pseudo-terminal."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from .common import SandboxProcess, Section, child_env, console_script, median_of, ratio, seconds, timed_run

# Packages that must not load before the first frame or for `registries` (docs/reference/sdk-wiring.md §6.1).
# aiohttp is not one of them: it carries ARM's requests (azure-core's AioHttpTransport), so `registries`
# needs it as it needs azure-identity, and the console imports it on a worker thread at start.
HEAVY = ("msgraph", "kiota_http", "textual", "azure.mgmt.authorization", "azure.mgmt.containerregistry")


# The least a command reading ARM with azure-identity and azure-core over aiohttp (its own async
# transport) must import, with the collector's start-up policy of acr_console/startup_gc.py, so that
# nothing here is slower than it needs to be.
SDK_FLOOR = [sys.executable, "-c", "import gc; gc.set_threshold(50_000, 50, 100); "
             "import asyncio, azure.identity.aio, azure.mgmt.core, aiohttp, azure.core.pipeline.transport._aiohttp; "
             "gc.freeze()"]


def _imported(importtime_stderr: str) -> set[str]:
    names = set()
    for line in importtime_stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+\d+ \|(\s*)(\S+)", line)
        if m:
            names.add(m.group(2))
    return names


def _import_costs(importtime_stderr: str) -> dict[str, float]:
    """Seconds of import (cumulative, as -X importtime counts it) by top-level package."""
    costs: dict[str, float] = {}
    for line in importtime_stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) == 1:  # imported directly by the program, not by another module
            name = m.group(3)
            root = ".".join(name.split(".")[:2]) if name.startswith(("azure.", "acr_console.")) else name.split(".")[0]
            costs[root] = costs.get(root, 0.0) + int(m.group(1)) / 1e6
    return costs


def _heavy_loaded(names: set[str]) -> list[str]:
    return sorted({h for h in HEAVY if any(n == h or n.startswith(h + ".") for n in names)})


def _python_floor(env: dict[str, str], runs: int) -> float:
    return median_of(lambda: timed_run([sys.executable, "-c", "pass"], env)[0], runs)[0]


def _import_seconds(env: dict[str, str]) -> float:
    code = ("import time; t = time.perf_counter(); import acr_console.main; "
            "print(time.perf_counter() - t)")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(proc.stdout.strip())


def tui_launch(cmd: list[str], env: dict[str, str], first: bytes, drawn: bytes,
               size: tuple[int, int] = (120, 40), timeout: float = 30) -> tuple[float, float]:
    """Run the console in a pseudo-terminal; seconds from launch until `first` and `drawn` appear."""
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal's size, then the console itself
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
            os.execve(cmd[0], cmd, {**env, "TERM": "xterm-256color", "COLORTERM": "truecolor"})
        finally:
            os._exit(127)
    buf = b""
    t_first = t_drawn = 0.0
    try:
        deadline = t0 + timeout
        while time.perf_counter() < deadline and not t_drawn:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            now = time.perf_counter() - t0
            if not t_first and first in buf:
                t_first = now
            if drawn in buf:
                t_drawn = now
        if not t_drawn:
            raise RuntimeError(f"the console did not draw {drawn!r} in {timeout:.0f} s; last output: {buf[-400:]!r}")
        os.write(fd, b"q")
        end = time.perf_counter() + 10
        while time.perf_counter() < end:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                pid = 0
                break
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                with contextlib.suppress(OSError):
                    os.read(fd, 65536)
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    return t_first, t_drawn


def run(workdir: Path, runs: int) -> Section:
    sec = Section("Start-up (demo sandbox, no injected latency)")
    env = child_env(workdir)
    floor = _python_floor(env, runs)
    imp, _ = median_of(lambda: _import_seconds(env), runs)
    sec.add("import acr_console.main (entry point)", seconds(imp), f"python -c pass: {seconds(floor)}")
    script = console_script()
    with SandboxProcess(workdir / "demo", env, seed="demo") as sbx:
        data = str(sbx.data_dir)
        cmd = [*script, "--sandbox-data", data, "registries", "--json"]
        # Interleaved, so both see the same state of a noisy host.
        pairs = [(timed_run(cmd, env)[0], timed_run(SDK_FLOOR, env)[0]) for _ in range(runs + 1)][1:]
        samples = [w for w, _ in pairs]
        wall, sdk = statistics.median(samples), statistics.median(f for _, f in pairs)
        sec.add("`registries --json`, process wall", seconds(wall), f"its SDKs' imports alone: {seconds(sdk)}",
                ratio(wall, sdk), "< 0.7 s", wall < 0.7)
        sec.note(f"SDKs' imports alone: a process that only imports what any client of ARM built on "
                 f"azure-identity and azure-core over aiohttp must (`{SDK_FLOOR[-1]}`); samples "
                 f"{', '.join(seconds(f) for _, f in pairs)}.")
        _, proc = timed_run([sys.executable, "-X", "importtime", *cmd[1:]] if cmd[0] == sys.executable else
                            [sys.executable, "-X", "importtime", cmd[0], *cmd[1:]], env)
        loaded = _imported(proc.stderr)
        heavy = _heavy_loaded(loaded)
        sec.add("`registries` loads msgraph, textual or a management SDK", ", ".join(heavy) or "none", "", "",
                "none", not heavy)
        costs = sorted(_import_costs(proc.stderr).items(), key=lambda kv: -kv[1])
        total = sum(c for _, c in costs)
        sec.add("`registries --json`: of which imports", seconds(total), "", "", "", None)
        sec.note(f"`registries --json` samples: {', '.join(seconds(s) for s in samples)}; {len(loaded)} modules "
                 f"imported, {seconds(total)} by -X importtime: "
                 + ", ".join(f"{name} {seconds(c)}" for name, c in costs[:7]) + ".")

        tui = [*script, "--sandbox-data", data]
        launches = []
        tui_launch(tui, env, b"registries", b"contosoprod")  # warm-up
        for _ in range(runs):
            launches.append(tui_launch(tui, env, b"registries", b"contosoprod"))
        first = sorted(x[0] for x in launches)[len(launches) // 2]
        drawn = sorted(x[1] for x in launches)[len(launches) // 2]
        sec.add("console: launch → first frame (pty)", seconds(first), "", "", "< 0.8 s", first < 0.8)
        sec.add("console: launch → registry list drawn (pty)", seconds(drawn), "", "", "< 1.5 s", drawn < 1.5)
        first_frame_modules = _first_frame_modules(env, data)
        heavy_tui = _heavy_loaded(first_frame_modules) if first_frame_modules else ["?"]
        heavy_tui = [h for h in heavy_tui if h != "textual"]
        sec.add("console: msgraph or a management SDK loaded by the first frame", ", ".join(heavy_tui) or
                "none", "", "", "none", not heavy_tui)
    return sec


def _first_frame_modules(env: dict[str, str], data: str) -> set[str]:
    """Modules imported when the console's first screen is mounted (headless, same process)."""
    code = f"""
import sys, asyncio
from acr_console.config import Settings
from acr_console.session import Session, SessionOptions
async def main():
    from acr_console.tui.app import AcrConsoleApp
    with Session(SessionOptions(sandbox_data={data!r}), Settings()) as session:
        app = AcrConsoleApp(session.connect(), session=session)
        async with app.run_test(size=(120, 40)) as pilot:
            print("\\n".join(sorted(sys.modules)))
asyncio.run(main())
"""
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    return set(proc.stdout.split()) if proc.returncode == 0 else set()
