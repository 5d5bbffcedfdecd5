"""Sandbox start-up: a new data folder seeded with `demo`, and with `large:20000` (the tenant the
other sections use, left in the work folder for them), from launch to `connection.json`."""

from __future__ import annotations

import shutil
from pathlib import Path

from .common import SandboxProcess, Section, child_env, median_of, seconds
from .who_can_push import PRINCIPALS


def run(workdir: Path, runs: int) -> Section:
    sec = Section("Sandbox seeding (new data folder → serving)")
    env = child_env(workdir)
    count = iter(range(1000))

    def demo() -> float:
        data = workdir / f"demo-seed-{next(count)}"
        with SandboxProcess(data, env, seed="demo") as sbx:
            took = sbx.ready_s
        shutil.rmtree(data, ignore_errors=True)
        return took

    wall, samples = median_of(demo, runs)
    sec.add("`sandbox serve --seed demo`, new folder → serving", seconds(wall), "", "", "< 3 s", wall < 3)
    large = workdir / "large"
    if not (large / "sandbox.db").exists():
        with SandboxProcess(large, env, seed=f"large:{PRINCIPALS}") as sbx:
            seeded = sbx.ready_s
        sec.add(f"`sandbox serve --seed large:{PRINCIPALS}`, new folder → serving (1 run)", seconds(seeded), "", "",
                "< 60 s", seeded < 60)
    with SandboxProcess(large, env, seed=f"large:{PRINCIPALS}") as sbx:
        again = sbx.ready_s
    sec.add(f"the same `large:{PRINCIPALS}` folder, restarted (already seeded)", seconds(again))
    sec.note(f"demo samples: {', '.join(seconds(s) for s in samples)}.")
    return sec
