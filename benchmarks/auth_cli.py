"""Sign-in through the Azure CLI: `access REGISTRY --json --auth cli` on the demo tenant, with a
stand-in `az` that takes 0.7 s (as a real one does: Python's start-up and MSAL's cache), beside the
same read signed in with a client secret.

The stand-in (tests/support/fake_az/az) hands out the sandbox admin's tokens and leaves a file per
call, so the count of `az` processes is read, not inferred. azure-identity's AzureCliCredential
caches nothing (Azure/azure-sdk-for-python#40636): every token the SDKs ask for is an `az` process
unless the console's token cache (acr_console/azure/token_cache.py) answers it.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
from collections import Counter
from pathlib import Path

from .common import ROOT, SandboxProcess, Section, child_env, console_script, median_of, ratio, seconds, timed_run
from .who_can_push import _registry_census

AZ_DELAY_S = 0.7
FAKE_AZ = ROOT / "tests" / "support" / "fake_az"


def _az_calls(calls: Path) -> Counter[str]:
    """`az` processes per resource asked for, from the stand-in's call files."""
    per: Counter[str] = Counter()
    for f in calls.iterdir() if calls.exists() else ():
        args = json.loads(f.read_text())
        per[args[args.index("--resource") + 1] if "--resource" in args else "?"] += 1
    return per


def run(workdir: Path, runs: int) -> Section:
    sec = Section(f"Sign-in through the Azure CLI (`demo`, stand-in `az` {AZ_DELAY_S} s)")
    env = child_env(workdir)
    sbx = SandboxProcess(workdir / "demo-cli", env, seed="demo")
    with sbx:
        name = _registry_census(sbx)[0]["name_lower"]  # the demo's busiest registry
        calls = workdir / "az-calls"
        cli_env = child_env(workdir, PATH=f"{FAKE_AZ}{os.pathsep}{env.get('PATH', '')}",
                            FAKE_AZ_CONNECTION=str(sbx.data_dir / "connection.json"),
                            FAKE_AZ_CALLS=str(calls), FAKE_AZ_DELAY=str(AZ_DELAY_S))
        base = [*console_script(), "--sandbox-data", str(sbx.data_dir)]
        read = ["access", name, "--json"]

        secret_wall, secret_samples = median_of(lambda: timed_run([*base, *read], env)[0], runs)
        counts: list[Counter[str]] = []

        def cli_run() -> float:
            shutil.rmtree(calls, ignore_errors=True)
            wall = timed_run([*base, "--auth", "cli", *read], cli_env)[0]
            counts.append(_az_calls(calls))
            return wall

        cli_wall, cli_samples = median_of(cli_run, runs)
        sec.add(f"`access {name} --json`, client secret: process wall", seconds(secret_wall))
        sec.add(f"`access {name} --json --auth cli` (stand-in az {AZ_DELAY_S} s): process wall", seconds(cli_wall),
                f"secret {seconds(secret_wall)}", ratio(cli_wall, secret_wall))
        most = max(sum(c.values()) for c in counts)
        per_scope = max(max(c.values()) for c in counts)
        sec.add(f"`access {name} --json --auth cli`: az calls per run (most in any run)", f"{most}",
                "one per scope: 2", "", "≤ 1 per scope", per_scope <= 1)
        sec.note(f"`--auth cli` samples: {', '.join(seconds(s) for s in cli_samples)}; secret samples: "
                 f"{', '.join(seconds(s) for s in secret_samples)}; az calls per run by resource: "
                 f"{', '.join(str(dict(c)) for c in counts[-1:])}; median extra over the secret "
                 f"{seconds(statistics.median(cli_samples) - secret_wall)}.")
    return sec
