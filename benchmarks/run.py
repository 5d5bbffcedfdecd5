"""Run every benchmark, print the table, write benchmarks/results.md.

    python -m benchmarks                 # everything (about 3 minutes on 2 cores)
    python -m benchmarks --only startup  # one section: startup, seed, access, takeover, revoke, tui, auth-cli, tenant
    python -m benchmarks --runs 7        # more samples per whole-process timing (default 5)
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from .common import ROOT, Section

SECTIONS = ("startup", "seed", "access", "takeover", "revoke", "tui", "auth-cli", "tenant")
RESULTS = ROOT / "benchmarks" / "results.md"


def _machine() -> str:
    cores = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{usable} cores ({cpu}), Python {platform.python_version()}, {platform.system()} "
            f"{platform.release()}")


def cpu_speed() -> float:
    """Seconds for a fixed pure-Python loop (best of three): shared hosts vary from run to run, so
    the table says how fast this machine was while it was measured."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - t0)
    return best


def io_pressure() -> str:
    """Share of the last minute some task waited on I/O (Linux PSI): imports read from disk when the
    host has reclaimed the page cache, which slows start-up figures."""
    try:
        for line in Path("/proc/pressure/io").read_text().splitlines():
            if line.startswith("some"):
                return line.split("avg60=")[1].split()[0] + " %"
    except (OSError, IndexError):
        pass
    return "n/a"


def table(sections: list[Section]) -> list[str]:
    lines = ["| metric | value | lower bound or baseline | ratio | target |", "|---|---|---|---|---|"]
    for sec in sections:
        lines.append(f"| **{sec.name}** | | | | |")
        for m in sec.metrics:
            target = f"{m.target} {m.mark}".strip()
            lines.append(f"| {m.name} | {m.value} | {m.reference} | {m.ratio} | {target} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable)")
    parser.add_argument("--runs", type=int, default=5, help="samples per whole-process timing, after a warm-up")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (sandboxes, logs)")
    parser.add_argument("--no-write", action="store_true", help="print the table only; leave results.md alone")
    args = parser.parse_args(argv)
    chosen = args.only or list(SECTIONS)
    workdir = Path(tempfile.mkdtemp(prefix="acr-console-bench-"))
    started = time.perf_counter()
    sections: list[Section] = []
    load_before, speed_before, io_before = os.getloadavg()[0], cpu_speed(), io_pressure()
    print(f"machine: {_machine()}; CPU check {speed_before * 1000:.0f} ms", flush=True)
    print(f"work folder: {workdir}", flush=True)
    try:
        for name in SECTIONS:
            if name not in chosen:
                continue
            print(f"-- {name} …", flush=True)
            t0 = time.perf_counter()
            module_name = {"access": "who_can_push", "auth-cli": "auth_cli", "tenant": "tenant_report"}.get(name, name)
            module = __import__(f"benchmarks.{module_name}", fromlist=["run"])
            section = module.run(workdir, args.runs)
            sections.append(section)
            for line in table([section])[2:]:
                print(line, flush=True)
            print(f"   ({time.perf_counter() - t0:.0f} s)", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    total = time.perf_counter() - started
    out = table(sections)
    notes = [f"- *{s.name}*: {n}" for s in sections for n in s.notes]
    load = (f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; CPU check (a 2M-step Python "
            f"loop, best of 3) {speed_before * 1000:.0f} ms before, {cpu_speed() * 1000:.0f} ms after; I/O pressure "
            f"(PSI some, avg60) {io_before} before, {io_pressure()} after")
    header = [f"Machine: {_machine()}; {load}.", f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `python -m benchmarks"
              f"{' --only ' + ' --only '.join(chosen) if args.only else ''}`, {total:.0f} s in all; "
              f"whole-process timings are the median of {args.runs} runs after a warm-up."]
    print()
    print("\n".join([*header, "", *out]))
    if notes:
        print("\n" + "\n".join(notes))
    if not args.no_write:
        body = ["# Benchmark results", "", "Written by `python -m benchmarks` (see `benchmarks/README.md`).", "",
                *header, "", *out, ""]
        if notes:
            body += ["Notes:", "", *notes, ""]
        RESULTS.write_text("\n".join(body))
        print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
