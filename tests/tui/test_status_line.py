"""The status line names who the console acts as, from the app's typed identity, on every screen."""

from __future__ import annotations

from typing import Any

from acr_console.models import SignedInIdentity
from acr_console.tui.widgets.status_line import StatusLine, identity_label

from .conftest import make_app, settle

APP_ID = "0b8f6c1e-2d3a-4e5f-9a7b-1c2d3e4f5a6b"


def test_identity_label_names_the_identity_or_the_state_of_sign_in() -> None:
    assert identity_label(None, None) == "signing in…"
    assert identity_label(None, "AADSTS700016") == "not signed in (AADSTS700016)"
    assert identity_label(SignedInIdentity(app_id=APP_ID, name="ci-bot"), None) == "ci-bot"
    assert identity_label(SignedInIdentity(app_id=APP_ID), None) == f"app {APP_ID}"
    assert identity_label(SignedInIdentity(app_id=APP_ID), None, narrow=True) == "app 0b8f6c1e…"
    assert identity_label(SignedInIdentity(), None) == "unknown"


def test_a_display_name_is_never_taken_for_an_app_id() -> None:
    # The label used to be a string, shortened when it began with "app ": a name that did was cut.
    name = "app registry pusher for the payments team"
    assert identity_label(SignedInIdentity(app_id=APP_ID, name=name), None, narrow=True) == name


async def test_every_status_line_follows_the_apps_identity(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.identity is not None and app.identity.name == "acr-console-sandbox-admin"
        assert app.identity.app_id == connection["admin"]["client_id"]
        assert app.identity.tenant_id == connection["tenant_id"]
        app.run_command("expiring")
        await settle(pilot)
        app.identity = SignedInIdentity(app_id=APP_ID)  # as if the directory had no name for it
        await pilot.pause()
        for screen in app.screen_stack:  # the list below too, not only the screen on top
            assert f"as app {APP_ID}" in str(screen.query_one(StatusLine).render())


async def test_the_status_line_names_the_managed_identity_in_use() -> None:
    from textual.app import App, ComposeResult
    from textual.reactive import reactive

    from acr_console.azure.connection import CLOUDS, Auth, AuthMethod, Connection

    def line_for(auth: Auth) -> type[App[None]]:
        class Host(App[None]):
            identity: reactive[SignedInIdentity | None] = reactive(None)
            sign_in_error: reactive[str | None] = reactive(None)

            def compose(self) -> ComposeResult:
                yield StatusLine(Connection(CLOUDS["AzureUSGovernment"], None, auth))

        return Host

    for auth, shown in [(Auth(AuthMethod.MANAGED_IDENTITY, client_id=APP_ID), f"via managed identity {APP_ID}"),
                        (Auth(AuthMethod.MANAGED_IDENTITY), "via system-assigned managed identity")]:
        app = line_for(auth)()
        async with app.run_test(size=(140, 10)) as pilot:
            await pilot.pause()
            text = str(app.query_one(StatusLine).render())
            assert text.startswith("AzureUSGovernment") and shown in text, text
