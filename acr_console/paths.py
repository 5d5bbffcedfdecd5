"""Paths the user typed."""

from __future__ import annotations

import os
from pathlib import Path


def expand_user(path: str | os.PathLike[str]) -> Path:
    """`~` and `~user` expanded as a shell expands them: a `~name` that names no user stays as
    written (bash leaves it so), and the file checks that follow say what is wrong with it.
    `Path.expanduser` raises RuntimeError there instead, which would reach the user as a crash."""
    p = Path(path)
    try:
        return p.expanduser()
    except RuntimeError:
        return p
