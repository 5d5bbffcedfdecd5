"""The console's first frame must not wait for the Azure SDKs, and the TUI never imports one."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import acr_console.tui

HEAVY = ("azure.mgmt", "azure.identity", "azure.core", "msgraph", "kiota", "aiohttp", "httpx", "uvicorn",
         "starlette", "cryptography", "pydantic")


def test_starting_the_tui_imports_no_sdk() -> None:
    code = ("import sys, acr_console.tui.app, acr_console.tui.launch; "
            f"print(sorted(m for m, mod in sys.modules.items() if mod is not None and m.startswith({HEAVY!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_tui_source_never_names_an_sdk() -> None:
    root = Path(acr_console.tui.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(HEAVY), f"{path.name} imports {name}"
