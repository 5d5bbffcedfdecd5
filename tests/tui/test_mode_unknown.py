"""The console on a cloud whose registry answers do not state the mode (a region serving only older
api-versions, tests/azure/test_registry_api_versions.py): the registry list and the access view say
"mode unknown", and the paths that depend on the mode say why they are only possible."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Static

from acr_console.sandbox.server import SandboxServer
from acr_console.tui.screens.registry_access import RegistryAccessScreen
from acr_console.tui.widgets.path_detail import PathDetail
from acr_console.tui.widgets.row_table import RowTable

from ..support.sandbox import sandbox_fixture
from .conftest import make_app, settle

# Versions up to 2023-11-01-preview only: no roleAssignmentMode anywhere (AzGovViz#266, uksouth 2024-11).
LAGGING = ["2021-09-01", "2022-12-01", "2023-07-01", "2023-11-01-preview"]

lagging_sandbox = sandbox_fixture("tui-mode-unknown", seed="demo")


@pytest.fixture
def lagging(lagging_sandbox: SandboxServer) -> Iterator[SandboxServer]:
    lagging_sandbox.settings.registry_api_versions = LAGGING
    yield lagging_sandbox
    lagging_sandbox.settings.registry_api_versions = None


async def test_registry_list_and_access_view_mark_mode_unknown(lagging: SandboxServer) -> None:
    assert lagging.connection is not None
    app = make_app(lagging.connection)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#registries-table", RowTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert len(rows) == 8
        assert {str(row[3]) for row in rows} == {"UNKNOWN"}  # the Mode column, never RBAC
        target = next(i for i, row in enumerate(rows) if str(row[1]) == "contosoprodweu")
        for _ in range(target):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RegistryAccessScreen)
        heading = str(app.screen.query_one("#access-heading", Static).render())
        assert "mode UNKNOWN (not stated by Azure" in heading
        access = app.screen.query_one("#access-table", RowTable)
        names = [str(access.get_row_at(i)[0]) for i in range(access.row_count)]
        assert "github-actions-web" in names  # AcrPush: push in legacy mode, nothing in ABAC
        for _ in range(names.index("github-actions-web")):
            await pilot.press("down")
        await settle(pilot)
        detail = app.screen.query_one(PathDetail).text
        assert "(possible: mode unknown)" in detail
        await pilot.press("q")
