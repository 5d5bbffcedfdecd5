"""The big tenant in the console: 20,000 rows in the table widget, and the registry access view of
the `large:20000` tenant's biggest registry (2,300 principals) at 50 ms per request.

No view lists every principal of a tenant (the console starts from registries; the palette offers
the principals met so far), so the widget is measured with 20,000 synthetic principal rows, and the
real view on the biggest registry the seed has. Each probe runs in a fresh process (its peak RSS is
its own); see benchmarks/tui_probe.py.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from .common import SandboxProcess, Section, child_env, rss_mb, seconds
from .who_can_push import LATENCY_MS, PRINCIPALS, _registry_census


def _probe(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.tui_probe", *args], env=env, capture_output=True,
                          text=True, timeout=300, cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode != 0:
        raise RuntimeError(f"tui_probe {' '.join(args)}: {proc.stderr.strip()[-1500:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _median_runs(args: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    results = [_probe(args, env) for _ in range(max(1, runs))]
    out = dict(results[0])
    for key in ("first_rows_s", "filter_s", "filter_max_s", "rss_kb", "pagedown_s"):
        if key in out:
            out[key] = statistics.median(r[key] for r in results)
    return out


def run(workdir: Path, runs: int) -> Section:
    sec = Section("Big tenant in the console (headless Textual, 120x40)")
    env = child_env(workdir)
    runs = max(3, runs // 2 + 1)  # each probe is a whole process with its own imports
    w = _median_runs(["widget", "--rows", "20000"], env, runs)
    sec.add("20,000-row table: rows handed over → first rows painted", seconds(w["first_rows_s"]))
    sec.add("20,000-row table: filter keystroke → repaint (median)", seconds(w["filter_s"]), "", "",
            "< 100 ms", w["filter_s"] < 0.1)
    sec.add("20,000-row table: peak RSS of the process", rss_mb(w["rss_kb"]), "", "", "< 300 MB",
            w["rss_kb"] < 300 * 1024)
    sec.note(f"20,000 synthetic principal rows (nine cells each) in the console's RowTable behind its FilterBar; "
             f"keystroke samples {', '.join(f'{s * 1000:.0f}' for s in w['filter_samples'])} ms (slowest "
             f"{seconds(w['filter_max_s'])}); PageDown {seconds(w['pagedown_s'])} a press including Pilot's pause.")

    with SandboxProcess(workdir / "large", env, seed=f"large:{PRINCIPALS}", latency_ms=LATENCY_MS,
                        log_path=workdir / "large-tui.log") as sbx:
        name = _registry_census(sbx)[0]["name_lower"]
        a = _median_runs(["access", "--data", str(sbx.data_dir), "--registry", name], env, runs)
    sec.add(f"access view ({a['rows']:,} principals, {LATENCY_MS} ms/request): open → first rows",
            seconds(a["first_rows_s"]))
    sec.add("access view: filter keystroke → repaint (median)", seconds(a["filter_s"]), "", "", "< 100 ms",
            a["filter_s"] < 0.1)
    sec.add("access view: peak RSS of the console process", rss_mb(a["rss_kb"]), "", "", "< 300 MB",
            a["rss_kb"] < 300 * 1024)
    sec.note(f"Access view of `{name}` in the real app (AcrConsoleApp, RegistryAccessScreen) against the sandbox; "
             "'open → first rows' includes every request of the who-can-push read.")
    return sec
