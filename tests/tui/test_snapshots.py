"""SVG snapshots of the main screens at 80x24 and 120x40, from a pristine demo sandbox and a pinned
clock. The scenes are the screenshot script's, so the README pictures and these never disagree.

Update after an intended change: `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acr_console.sandbox.server import SandboxServer
from acr_console.screenshots import SCENES, SIZES, build_app

from .conftest import graph_available

SNAPSHOTS = Path(__file__).parent / "__snapshots__" / "test_snapshots"
# Scenes that read role assignments and the directory need the sandbox's Graph.
NEEDS_GRAPH = {"registry-access", "principal", "expiring"}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A demo sandbox no test writes to: other tests create principals in the shared one."""
    server = SandboxServer(tmp_path_factory.mktemp("sandbox-snapshots"), seed="demo")
    connection = server.start()
    yield connection
    server.stop()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scene", list(SCENES))
def test_screen(scene: str, size: tuple[int, int], pristine: dict[str, Any], snap_compare: Any,
                request: pytest.FixtureRequest) -> None:
    if scene in NEEDS_GRAPH:
        if not graph_available(pristine):
            pytest.skip("the sandbox does not serve Microsoft Graph yet")
        if not (SNAPSHOTS / f"{request.node.name}.svg").exists() and not request.config.getoption("--snapshot-update"):
            pytest.skip("no baseline yet: run with --snapshot-update once the sandbox's demo tenant is final")
    assert snap_compare(build_app(pristine), run_before=SCENES[scene], terminal_size=size)


def test_screenshot_script_writes_svgs(tmp_path: Path) -> None:
    from acr_console.screenshots import main

    assert main(["--out", str(tmp_path), "--only", "registries"]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["registries-120x40.svg", "registries-80x24.svg"]
    svg = (tmp_path / "registries-80x24.svg").read_text()
    assert svg.startswith("<svg") and "contosoprod" in svg
