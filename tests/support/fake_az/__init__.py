"""The stand-in `az` (the executable `az` in this folder) and what tests need around it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent


def fake_az_env(connection_file: Path | None, calls: Path, *, delay: float = 0.0,
                base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment with the stand-in first on PATH, answering with tokens of the sandbox whose
    connection.json is `connection_file` (None: it answers as an `az` nobody signed in to), and
    recording each call in `calls`."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{FOLDER}{os.pathsep}{env.get('PATH', '')}"
    env["FAKE_AZ_CALLS"] = str(calls)
    env["FAKE_AZ_DELAY"] = str(delay)
    env.pop("FAKE_AZ_CONNECTION", None)
    if connection_file is not None:
        env["FAKE_AZ_CONNECTION"] = str(connection_file)
    return env


def az_calls(calls: Path) -> list[list[str]]:
    """The arguments of every call made so far, oldest first."""
    if not calls.exists():
        return []
    found: list[list[str]] = []
    for f in sorted(calls.iterdir()):
        args: Any = json.loads(f.read_text())
        found.append([str(a) for a in args])
    return found


def resource_of(args: list[str]) -> str:
    """The --resource (or --scope) an `az account get-access-token` call asked for."""
    for flag in ("--resource", "--scope"):
        if flag in args:
            return args[args.index(flag) + 1]
    return ""
