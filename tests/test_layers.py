"""The layering rule, checked on the source: each layer imports only those below it.

models/roles → access → azure → operations → cli, tui. The sandbox stands apart and shares only
the role data. Read from the AST, so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "acr_console"

# Which first-party modules each area may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "models": set(),
    "roles": set(),
    "secret": set(),
    "startup_gc": set(),
    "paths": set(),
    "certificates": {"errors", "secret", "paths"},
    "access": {"errors", "models", "roles"},
    "azure": {"errors", "models", "roles", "access", "secret", "certificates"},
    "operations": {"errors", "models", "roles", "access", "azure", "secret", "certificates", "paths"},
    "presentation": {"errors", "models", "roles", "access", "secret"},
    "config": {"errors", "models", "azure", "paths"},
    "cli": {"errors", "models", "roles", "access", "azure", "operations", "presentation", "secret", "certificates",
            "config", "sandbox", "tui", "startup_gc", "paths"},
    "tui": {"errors", "models", "roles", "access", "azure", "operations", "presentation", "secret", "certificates",
            "config", "cli", "sandbox", "startup_gc"},
    "screenshots": {"errors", "models", "azure", "tui", "sandbox", "config", "cli"},
    "sandbox": {"roles"},
    "data": set(),
    "__init__": set(),
}
# Third-party modules that only some areas may import.
SDK_PREFIXES = ("azure.", "msgraph", "kiota", "httpx", "aiohttp", "msal")
SDK_ALLOWED = {"azure", "sandbox"}
TEXTUAL_ALLOWED = {"tui", "screenshots"}


def _area(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    package_parts = ("acr_console", *path.relative_to(PACKAGE).parts[:-1])
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join((*base, node.module)) if node.module else ".".join(base)
                if not node.module:
                    names.extend(f"{module}.{a.name}" for a in node.names)
                    continue
                names.append(module)
            elif node.module:
                names.append(node.module)
    return names


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_respect_layers(path: Path) -> None:
    area = _area(path)
    assert area in ALLOWED, f"{area} is a new area: add it to ALLOWED with the layers it may use"
    for name in _imports(path):
        if name.startswith("acr_console."):
            target = name.split(".")[1]
            if target in ("__main__",):
                continue
            assert target == area or target in ALLOWED[area], f"{area} must not import {name}"
        elif name.startswith(SDK_PREFIXES) or name in ("httpx", "aiohttp", "msgraph"):
            assert area in SDK_ALLOWED, f"{area} must not talk to an SDK directly ({name})"
        elif name.split(".")[0] == "textual":
            assert area in TEXTUAL_ALLOWED, f"{area} must not import Textual ({name})"
