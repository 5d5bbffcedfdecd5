"""80x24 first (issue 16): the status line keeps its safety signals, the access view shows who and
why without scrolling sideways, names follow the terminal's width, the detail panes scroll."""

from __future__ import annotations

from typing import Any

from textual.color import Color

from acr_console.tui.widgets.status_line import StatusLine

from .conftest import make_app, settle

PROFILE = "payments-production-westeurope"  # 30 characters
assert len(PROFILE) == 30


def line_of(app: Any) -> str:
    return str(app.screen.query_one(StatusLine).render())


async def test_the_status_line_keeps_read_only_the_profile_and_the_identity_at_80_columns(
        connection: dict[str, Any]) -> None:
    app = make_app(connection, read_only=True, profile_name=PROFILE, accent="#8b0000")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_command("acr contosoprod")
        await settle(pilot)
        status = app.screen.query_one(StatusLine)
        line = line_of(app)
        assert status.content_region.width == 78
        assert len(line) <= 78, line  # nothing of it falls off the right edge
        assert line.startswith(" READ-ONLY "), line
        assert "[payments-prod…]" in line, line  # the profile, cut with …
        assert "as acr-console-sandbox-admin" in line, line
        # The breadcrumb comes last, cut from the left: its end names the screen.
        assert "›" in line and line.endswith("prod"), line
        # The accent colours the whole line (the widget's background), not only its characters.
        assert status.styles.background == Color.parse("#8b0000")
        strip = status.render_line(0)
        assert all(seg.style is not None and seg.style.bgcolor is not None
                   and seg.style.bgcolor.triplet == Color.parse("#8b0000").rich_color.triplet
                   for seg in strip if not (seg.style and seg.style.reverse)), list(strip)


async def test_at_120_columns_the_status_line_has_room_for_everything(connection: dict[str, Any]) -> None:
    app = make_app(connection, read_only=True, profile_name=PROFILE)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.run_command("acr contosoprod")
        await settle(pilot)
        line = line_of(app)
        assert line.startswith(" READ-ONLY ") and f"[{PROFILE}]" in line, line
        assert f"tenant {connection['tenant_id'][:8]}…" in line and line.endswith("contosoprod"), line
