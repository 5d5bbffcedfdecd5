"""Write SVG screenshots of the console's main screens, from the demo sandbox, at 80x24 and 120x40.

    python -m acr_console.screenshots [--out screenshots] [--only NAME]

A sandbox of its own (demo seed, in a temporary folder) is started and stopped by a session, so
the pictures never depend on what a developer's sandbox holds. The clock is pinned so expiry text
does not drift. No secret is ever on screen here: the secret screen is not among the scenes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .azure.connection import Connection
    from .tui.app import AcrConsoleApp

SIZES = ((80, 24), (120, 40))
# The date every screenshot and snapshot is taken "on".
PINNED_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

Scene = Callable[[Any], Awaitable[None]]


async def settle(pilot: Any, rounds: int = 30) -> None:
    """Until no worker runs and every message is handled (a worker may start another)."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            await pilot.pause()
            return


async def _registries(pilot: Any) -> None:
    await settle(pilot)


async def _access(pilot: Any) -> None:
    await settle(pilot)
    pilot.app.run_command("acr contosoprod")
    await settle(pilot)
    await pilot.press("1")  # who can push
    await settle(pilot)


async def _principal(pilot: Any) -> None:
    # A seeded principal mid-rotation: one secret expiring soon, its replacement beside it. (Not the
    # sandbox admin, whose secret is new at every start.)
    await settle(pilot)
    pilot.app.run_command("sp github-actions-payments")
    await settle(pilot)


async def _expiring(pilot: Any) -> None:
    await settle(pilot)
    pilot.app.run_command("expiring 90")
    await settle(pilot)


async def _help(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


async def _create_form(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    for node in pilot.app.screen.query("Input"):
        node.cursor_blink = False  # a blinking cursor would make every picture different
    await pilot.pause()


async def _tenant(pilot: Any) -> None:
    # Issue 18: `t` on the registry list: every identity with a right, the widest first.
    await settle(pilot)
    await pilot.press("t")
    await settle(pilot)


async def _findings(pilot: Any) -> None:
    # Issue 18: `f` on the registry list: most severe first, the highlighted finding in full below.
    await settle(pilot)
    await pilot.press("f")
    await settle(pilot)


SCENES: dict[str, Scene] = {
    "registries": _registries,
    "registry-access": _access,
    "principal": _principal,
    "expiring": _expiring,
    "tenant": _tenant,
    "findings": _findings,
    "help": _help,
    "create-principal": _create_form,
}


def build_app(connection: Connection) -> AcrConsoleApp:
    from .config import Settings
    from .tui.app import AcrConsoleApp

    return AcrConsoleApp(connection, settings=Settings(), clock=lambda: PINNED_NOW)


async def capture(connection: Connection, scene: str, size: tuple[int, int]) -> str:
    app = build_app(connection)
    async with app.run_test(size=size) as pilot:
        await SCENES[scene](pilot)
        svg = app.export_screenshot(title=f"acr-console: {scene}")
        await pilot.press("q")
    return svg


async def write_all(connection: Connection, out: Path, only: list[str] | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for scene in only or list(SCENES):
        for width, height in SIZES:
            path = out / f"{scene}-{width}x{height}.svg"
            path.write_text(await capture(connection, scene, (width, height)), encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acr_console.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="screenshots", help="folder for the SVG files (default screenshots/)")
    parser.add_argument("--only", action="append", choices=sorted(SCENES), help="only this scene (repeatable)")
    args = parser.parse_args(argv)
    from .config import Settings
    from .session import Session, SessionOptions

    # The session starts and stops the sandbox, as it does for the console: seeded "on" the pinned
    # date, so credential expiry shown on screen never drifts.
    with (tempfile.TemporaryDirectory(prefix="acr-console-screens-") as tmp,
          Session(SessionOptions(), Settings()) as session):
        connection = session.start_sandbox(Path(tmp) / "sandbox", seed="demo", seed_time=PINNED_NOW.timestamp())
        written = asyncio.run(write_all(connection, Path(args.out), args.only))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
