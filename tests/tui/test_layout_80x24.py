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


def table_lines(app: Any) -> list[str]:
    """The access table's lines as drawn (header first), through the widget's line API."""
    table = app.screen.table
    return [table.render_line(y).text for y in range(table.size.height)]


def fits(app: Any) -> bool:
    table = app.screen.table
    return table.virtual_size.width <= table.scrollable_content_region.width


async def rows_drawn(pilot: Any) -> list[str]:
    """Every row's line as drawn, the cursor moved to each in turn so that the table scrolls to it."""
    table = pilot.app.screen.table
    lines = []
    for row in range(table.row_count):
        table.move_cursor(row=row)
        await pilot.pause()
        lines.append(table.render_line(row - table.scroll_offset.y + 1).text)
    return lines


async def names_on_screen(pilot: Any, prefix: str) -> list[str]:
    """The name cell, as drawn, of every row whose name starts with `prefix`: the cursor goes to each
    row in turn and the row's line is read off the screen (the table's line API)."""
    table = pilot.app.screen.table
    names = []
    for row in range(table.row_count):
        table.move_cursor(row=row)
        await pilot.pause()
        line = table.render_line(row - table.scroll_offset.y + 1).text
        cell = line[: table._columns[0].width + 2].strip()
        if cell.startswith(prefix):
            names.append(cell)
    return names


async def test_the_access_view_shows_who_and_why_in_80_columns_and_follows_a_resize(fresh_sandbox: Any) -> None:
    """On a sandbox of its own: the widths follow the data, and the session's shared sandbox gains
    principals with long test names on contosoprod from tests that write (a CI run lost the 120-column
    Scope and Via group columns to one)."""
    from acr_console.tui.widgets.path_detail import PathDetail

    assert fresh_sandbox.connection is not None
    app = make_app(fresh_sandbox.connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_command("acr contosoprod")
        await settle(pilot)
        assert fits(app), "nothing is off to the right at 80 columns"
        # Names get the room: every github-actions-* principal in full (the longest has 28 characters).
        full = sorted(e.principal.display_name for e in app.screen.data.entries
                      if e.principal.display_name.startswith("github-actions-"))
        assert len(full) >= 8 and max(map(len, full)) >= 28
        drawn = await names_on_screen(pilot, "github-")
        assert sorted(drawn) == full, drawn
        # The why of the highlighted row, in the pane under the table: role, scope, group.
        table = app.screen.table
        table.move_cursor(row=table._index[next(e.principal.object_id for e in app.screen.data.entries
                                                if e.principal.display_name == "github-actions-payments")])
        await pilot.pause()
        why = app.screen.query_one(PathDetail).text
        assert "github-actions-payments" in why and "AcrPush" in why and "acr-pushers" in why, why

        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        assert fits(app), "nor at 60 columns"
        shown = await names_on_screen(pilot, "")
        assert len(set(shown)) == len(shown) == len(app.screen.data.entries), shown  # every name told apart
        assert any(name.startswith("git…") for name in shown), shown  # github-actions-*, cut

        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert fits(app)
        header = table_lines(app)[0]
        assert "Scope" in header and "Via group" in header, header  # room for the why in the table


async def test_abac_role_names_are_whole_in_the_table_and_the_detail(connection: dict[str, Any]) -> None:
    from acr_console.tui.widgets.path_detail import PathDetail

    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_command("acr contosoprodweu")  # the ABAC registry of the demo seed
        await settle(pilot)
        assert fits(app)
        lines = "\n".join(await rows_drawn(pilot))
        assert "CR Repository Writer " in lines and "CR Repository Reader " in lines, lines
        entries = app.screen.data.entries
        writer = next(e for e in entries if any(p.role == "Container Registry Repository Writer" for p in e.paths))
        app.screen.table.move_cursor(row=app.screen.table._index[writer.principal.object_id])
        await pilot.pause()
        assert "Container Registry Repository Writer" in app.screen.query_one(PathDetail).text
        assert "CR in Roles: Container Registry" in app.screen.HELP_NOTES


async def test_the_detail_pane_scrolls_with_keys_at_60x20(connection: dict[str, Any]) -> None:
    from acr_console.tui.widgets.path_detail import PathDetail

    app = make_app(connection)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        app.run_command("acr contosoprod")
        await settle(pilot)
        detail = app.screen.query_one(PathDetail)
        table = app.screen.table
        for row in range(table.row_count):  # the first principal whose paths are taller than the pane
            table.move_cursor(row=row)
            await pilot.pause()
            if detail.max_scroll_y > 0:
                break
        assert detail.max_scroll_y > 0, "some principal's paths are taller than the pane at 60x20"
        await pilot.press("tab")
        assert app.focused is detail
        await pilot.press("down", "down")
        await pilot.pause()
        assert detail.scroll_y > 0
        await pilot.press("shift+tab", "down")  # back in the table: the next row, its text from the top
        await pilot.pause()
        assert app.focused is app.screen.table and detail.scroll_y == 0


async def test_the_principal_view_scrolls_with_keys_when_it_is_taller_than_the_terminal(
        connection: dict[str, Any]) -> None:
    from textual.containers import VerticalScroll

    app = make_app(connection)
    async with app.run_test(size=(60, 16)) as pilot:  # at 60x20 this principal just fits
        await settle(pilot)
        app.run_command("sp github-actions-payments")
        await settle(pilot)
        body = app.screen.query_one("#principal-body", VerticalScroll)
        assert body.max_scroll_y > 0
        body.focus()
        await pilot.press("pagedown")
        await pilot.pause()
        assert body.scroll_y > 0


async def test_the_audit_detail_scrolls_with_keys(connection: dict[str, Any], audit_file: Any) -> None:
    import json

    from acr_console.tui.widgets.path_detail import DetailPane

    steps = [{"id": f"s{n}", "description": f"Delete role assignment {n} of 20", "status": "done"} for n in range(20)]
    steps[-1] |= {"status": "failed", "error": {"code": "Forbidden", "message": "the last step failed"}}
    record = {"v": 1, "time": "2026-05-31T10:00:00Z", "operation": "revoke", "title": "Revoke ci-old",
              "target": {"principal": "ci-old"}, "result": "failed", "cloud": "sandbox", "tenant": "t",
              "identity": {"name": "oncall"}, "steps": steps}
    audit_file.write_text(json.dumps(record) + "\n")
    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_command("audit")
        await settle(pilot)
        detail = app.screen.query_one("#audit-detail", DetailPane)
        assert detail.max_scroll_y > 0, "20 steps are taller than the pane"
        await pilot.press("tab")
        assert app.focused is detail
        await pilot.press("end")  # the failed step, at the bottom, is reached from the keyboard
        await pilot.pause()
        assert detail.scroll_y == detail.max_scroll_y > 0
