"""The console's connections come from its session: after a failed sign-in, the sandbox keeps the
subscription selection, and a sandbox started for it stops when the console closes."""

from __future__ import annotations

from pathlib import Path

from acr_console.azure.connection import CLOUDS, Auth, AuthMethod, Connection
from acr_console.sandbox.launcher import read_connection
from acr_console.sandbox.seed import DEMO_REGISTRIES, DEMO_SUBSCRIPTIONS
from acr_console.session import Session, SessionOptions
from acr_console.tui.app import AcrConsoleApp
from acr_console.tui.screens.registries import RegistriesScreen
from acr_console.tui.screens.sign_in import SignInFailedScreen
from acr_console.tui.widgets.row_table import RowTable

from .conftest import default_settings, pinned_clock, settle

PROD_SUB = DEMO_SUBSCRIPTIONS[0][0]


async def test_sandbox_after_failed_sign_in_keeps_the_subscriptions_and_stops_with_the_console(tmp_path: Path) -> None:
    data = tmp_path / "sandbox"
    settings = default_settings()
    # As `--subscription PROD --auth env` with no AZURE_* variables: sign-in fails before any request.
    failing = Connection(CLOUDS["AzureCloud"], None, Auth(AuthMethod.ENV), subscriptions=(PROD_SUB,))
    session = Session(SessionOptions(sandbox_data=str(data)), settings)
    app = AcrConsoleApp(failing, settings=settings, session=session, clock=pinned_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SignInFailedScreen)
        await pilot.press("s")  # the sandbox instead: none serves `data`, so the session starts one
        await settle(pilot)
        assert app.connection.sandbox and app.connection.subscriptions == (PROD_SUB,)
        assert isinstance(app.screen, RegistriesScreen)
        # Only the selected subscription's registries, not the demo tenant's every one.
        prod = [name for sub, _, name, *_ in DEMO_REGISTRIES if sub == "prod"]
        assert app.screen.query_one(RowTable).row_count == len(prod) < len(DEMO_REGISTRIES)
        assert read_connection(data) is not None
    assert read_connection(data) is None and not (data / "connection.json").exists()
