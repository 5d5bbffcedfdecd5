"""SVG snapshots of the main screens at 80x24 and 120x40, from a pristine demo sandbox and a pinned
clock. The scenes are the screenshot script's, so the README pictures and these never disagree.

Update after an intended change: `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acr_console.azure.connection import sandbox_connection
from acr_console.screenshots import PINNED_NOW, SCENES, SIZES, build_app, settle

from ..support.sandbox import running_sandbox


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A demo sandbox no test writes to: other tests create principals in the shared one."""
    with running_sandbox(tmp_path_factory.mktemp("sandbox-snapshots"), seed_time=PINNED_NOW.timestamp()) as server:
        yield server.connection or {}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scene", list(SCENES))
def test_screen(scene: str, size: tuple[int, int], pristine: dict[str, Any], snap_compare: Any) -> None:
    # Built outside the assert: pytest would print the connection (with the admin secret) on failure.
    app = build_app(sandbox_connection(pristine))
    assert snap_compare(app, run_before=SCENES[scene], terminal_size=size)


async def _confirm_revoke(pilot: Any) -> None:
    """The confirmation of a revoke from the principal view: the plan, the typed name, the buttons.
    A plan without dates (a reset's says "valid until" a year from the real today)."""
    await settle(pilot)
    pilot.app.run_command("sp github-actions-payments")
    await settle(pilot)
    await pilot.press("R")
    await settle(pilot)
    await pilot.press("ctrl+s")
    await settle(pilot)
    for node in pilot.app.screen.query("Input"):
        node.cursor_blink = False  # a blinking cursor would make every picture different
    await pilot.pause()


# Issue 16: at 60x20 the confirmation's typed name and buttons are on screen.
@pytest.mark.parametrize("size", ((60, 20), *SIZES), ids=lambda s: f"{s[0]}x{s[1]}")
def test_confirm_plan(size: tuple[int, int], pristine: dict[str, Any], snap_compare: Any) -> None:
    app = build_app(sandbox_connection(pristine))
    assert snap_compare(app, run_before=_confirm_revoke, terminal_size=size)


def test_screenshot_script_writes_svgs(tmp_path: Path) -> None:
    from acr_console.screenshots import main

    assert main(["--out", str(tmp_path), "--only", "registries"]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["registries-120x40.svg", "registries-80x24.svg"]
    svg = (tmp_path / "registries-80x24.svg").read_text()
    assert svg.startswith("<svg") and "contosoprod" in svg


async def _takeover_detail(pilot: Any) -> None:
    """Issue 17: contosoprod's access with github-actions-payments highlighted, its detail pane scrolled
    to who can take it over (Dana Whitfield, the tenant-wide holders once) and its federated credentials."""
    from rich.console import Console
    from rich.text import Text
    from textual.widgets import Static

    from acr_console.models import AccessEntry
    from acr_console.tui.widgets.path_detail import PathDetail

    await settle(pilot)
    pilot.app.run_command("acr contosoprod")
    await settle(pilot)
    screen = pilot.app.screen
    screen.table.move_cursor(row=next(i for i, r in enumerate(screen.visible_rows()) if isinstance(r.data, AccessEntry)
                                      and r.data.principal.display_name == "github-actions-payments"))
    await settle(pilot)
    pane = screen.query_one(PathDetail)
    static = pane.query_one(Static)
    content = static.content
    assert isinstance(content, Text)
    # The line the takeover section starts on, as the pane wraps it.
    lines = content.wrap(Console(width=static.size.width), static.size.width)
    start = next(n for n, line in enumerate(lines) if line.plain.startswith("takeover:"))
    pane.scroll_to(y=start, animate=False)
    await settle(pilot)


async def _principal_owners(pilot: Any) -> None:
    """Issue 17: github-actions-payments' principal view scrolled to its owners and federated credentials."""
    await settle(pilot)
    pilot.app.run_command("sp github-actions-payments")
    await settle(pilot)
    owners = pilot.app.screen.query_one("#principal-owners")
    pilot.app.screen.query_one("#principal-body").scroll_to_widget(owners, animate=False, top=True)
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_access_takeover_detail(size: tuple[int, int], pristine: dict[str, Any], snap_compare: Any) -> None:
    app = build_app(sandbox_connection(pristine))
    assert snap_compare(app, run_before=_takeover_detail, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_principal_owners_and_federated(size: tuple[int, int], pristine: dict[str, Any], snap_compare: Any) -> None:
    app = build_app(sandbox_connection(pristine))
    assert snap_compare(app, run_before=_principal_owners, terminal_size=size)
