"""What every benchmark shares: a clean environment, sandbox servers in their own processes, the
sandbox's request log, median timings, and the result rows.

Everything talks to 127.0.0.1 only. Sandboxes are separate processes (`acr-console sandbox serve`)
so the client being measured never shares a CPU-bound event loop or a GIL with the server.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sqlite3
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Host variables that re-point TLS trust; the test suite removes them too (docs/reference/sdk-wiring.md §4).
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def child_env(workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of every process the benchmark starts.

    Bytecode is cached (in `workdir`, not in the repository) as it is for an installed package:
    development machines that set PYTHONDONTWRITEBYTECODE would otherwise time the compiler."""
    env = {k: v for k, v in os.environ.items() if k not in CA_VARIABLES and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(key, None)
    # No user configuration file or ACR_CONSOLE_* variable changes what is measured.
    for key in [k for k in env if k.startswith("ACR_CONSOLE_")]:
        env.pop(key)
    (workdir / "no-config.toml").touch()  # empty: no configuration (a file ACR_CONSOLE_CONFIG names must exist)
    env["ACR_CONSOLE_CONFIG"] = str(workdir / "no-config.toml")
    env["ACR_CONSOLE_AUDIT_LOG"] = str(workdir / "audit.jsonl")
    env.update(extra)
    return env


def console_script() -> list[str]:
    """The installed `acr-console` entry point (not a version-manager shim, which adds its own start-up)."""
    script = Path(sys.executable).parent / "acr-console"
    return [str(script)] if script.exists() else [sys.executable, "-m", "acr_console"]


# -- timing -----------------------------------------------------------------------------------------


def median_of(fn: Callable[[], float], runs: int, warmup: int = 1) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    samples = [fn() for _ in range(runs)]
    return statistics.median(samples), samples


def timed_run(cmd: list[str], env: dict[str, str], *, stdin: str | None = None,
              check: bool = True, timeout: float = 120) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - t0
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return elapsed, proc


# -- results ----------------------------------------------------------------------------------------


@dataclass
class Metric:
    section: str
    name: str
    value: str
    reference: str = ""  # lower bound, baseline or "-"
    ratio: str = ""
    target: str = ""
    met: bool | None = None  # None: no target

    @property
    def mark(self) -> str:
        return {True: "✓", False: "✗", None: ""}[self.met]


@dataclass
class Section:
    name: str
    metrics: list[Metric] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: str, reference: str = "", ratio: str = "", target: str = "",
            met: bool | None = None) -> Metric:
        m = Metric(self.name, name, value, reference, ratio, target, met)
        self.metrics.append(m)
        return m

    def note(self, text: str) -> None:
        self.notes.append(text)


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def ratio(value: float, reference: float, *, inverse: bool = False) -> str:
    if reference <= 0 or value <= 0:
        return "-"
    r = reference / value if inverse else value / reference
    return f"{r:.1f}x" if r < 100 else f"{r:.0f}x"


# -- sandbox servers ----------------------------------------------------------------------------------


class SandboxProcess:
    """`acr-console sandbox serve` in its own process, stopped with SIGTERM (by its own pid)."""

    def __init__(self, data_dir: Path, env: dict[str, str], *, seed: str = "demo", latency_ms: float = 0,
                 log_path: Path | None = None) -> None:
        self.data_dir = data_dir
        self.env = env
        self.seed = seed
        self.latency_ms = latency_ms
        self.log_path = log_path or data_dir.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: dict[str, Any] = {}
        self.ready_s = 0.0
        self._token: tuple[str, float] | None = None

    def start(self, timeout: float = 180) -> SandboxProcess:
        cmd = [sys.executable, "-m", "acr_console", "sandbox", "serve", "--data", str(self.data_dir), "--port", "0",
               "--seed", self.seed, "--latency-ms", str(self.latency_ms)]
        conn_file = self.data_dir / "connection.json"
        conn_file.unlink(missing_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = t0 + timeout
        while True:
            if conn_file.exists():
                try:
                    self.conn = json.loads(conn_file.read_text())
                    if self.conn.get("pid") == self.proc.pid:
                        break
                except ValueError:
                    pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"sandbox exited {self.proc.returncode}; see {self.log_path}")
            if time.perf_counter() > deadline:
                self.stop()
                raise TimeoutError(f"sandbox did not start in {timeout:.0f} s; see {self.log_path}")
            time.sleep(0.01)
        self.ready_s = time.perf_counter() - t0
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- talking to it ------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return str(self.conn["authority_host"])

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.conn["ca_bundle"])

    def token(self, scope: str = "https://management.azure.com/.default", client: Any = None) -> str:
        """The admin's access token for `scope`, on `client` (an httpx.Client) when given, so a
        baseline script keeps its one connection."""
        import httpx

        admin = self.conn["admin"]
        with contextlib.nullcontext(client) if client is not None else httpx.Client(
                verify=self.ssl_context(), trust_env=False) as c:
            r = c.post(f"{self.base}/{self.conn['tenant_id']}/oauth2/v2.0/token",
                       data={"grant_type": "client_credentials", "client_id": admin["client_id"],
                             "client_secret": admin["client_secret"], "scope": scope})
            r.raise_for_status()
            return str(r.json()["access_token"])

    def settings(self, **changes: Any) -> dict[str, Any]:
        """GET or PUT the run-time settings (latency_ms, page_size, faults)."""
        import httpx

        headers = {"Authorization": f"Bearer {self.token()}"}
        with httpx.Client(verify=self.ssl_context(), trust_env=False) as c:
            if changes:
                r = c.put(f"{self.base}/_sandbox/settings", json=changes, headers=headers)
            else:
                r = c.get(f"{self.base}/_sandbox/settings", headers=headers)
            r.raise_for_status()
            return dict(r.json())

    # -- its database (read-only: the server keeps writing) ---------------------------------------

    @contextmanager
    def db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(f"file:{self.data_dir / 'sandbox.db'}?mode=ro", uri=True, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    def last_seq(self) -> int:
        with self.db() as db:
            return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM request_log").fetchone()[0])

    def requests_since(self, seq: int) -> list[dict[str, Any]]:
        # The server logs a request as its response starts; give the last ones a moment to land.
        time.sleep(0.05)
        with self.db() as db:
            return [dict(r) for r in db.execute("SELECT * FROM request_log WHERE seq > ? ORDER BY seq", (seq,))]


def pages(count: int, size: int) -> int:
    return max(1, math.ceil(count / size))


def describe_requests(log: list[dict[str, Any]]) -> str:
    """A compact census of a request log: 'ARM 12, Graph 14, token 2'."""
    kinds: dict[str, int] = {}
    for r in log:
        path = r["path"]
        kind = ("token" if "/oauth2/" in path else "Graph" if path.startswith("/graph/") else
                "control" if path.startswith("/_sandbox") else "ARM")
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))


def vm_hwm_kb(pid: int | str = "self") -> int | None:
    """A process's own peak resident set (VmHWM in /proc/PID/status), None once it is gone.

    Not getrusage's ru_maxrss: Linux carries the high-water mark of the memory a process replaces at
    exec into ru_maxrss (exec_mmap → setmax_mm_hiwater_rss), and a child spawned with vfork execs
    from its parent's memory, so ru_maxrss of every command this harness starts is at least the
    harness's own peak. VmHWM belongs to the program's own address space only."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a running process has used so far, from /proc/PID/stat; None once
    it is gone. For a process this harness did not wait for (a sandbox), where rusage cannot tell."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # Fields after the command name, which is in parentheses and may hold spaces: utime and
            # stime are the 14th and 15th fields of the whole line (proc(5)).
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"
