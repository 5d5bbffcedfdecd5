"""The Textual application: global bindings, theme, and the Azure clients the screens use."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType

from ..azure.clients import AzureClients
from ..azure.connection import Connection
from ..azure.errors import from_exception
from .screens.registries import RegistriesScreen
from .widgets.status_line import StatusLine


class AcrConsoleApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "acr-console"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Leave acr-console.", id="app.quit"),
    ]

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection
        # Built lazily on first use, on this app's event loop (aiohttp sessions are loop-bound).
        self._azure: AzureClients | None = None

    @property
    def azure(self) -> AzureClients:
        if self._azure is None:
            self._azure = AzureClients(self.connection)
        return self._azure

    def on_mount(self) -> None:
        self.push_screen(RegistriesScreen())
        self.sign_in()

    @work(exclusive=True, group="identity", exit_on_error=False)
    async def sign_in(self) -> None:
        try:
            identity = await self.azure.signed_in_identity()
            label = identity.get("name") or (f"app {identity['app_id']}" if identity.get("app_id") else "unknown")
        except Exception as exc:
            label = f"not signed in ({from_exception(exc).code})"
        for screen in self.screen_stack:
            for status in screen.query(StatusLine):
                status.identity = label

    async def on_unmount(self) -> None:
        if self._azure is not None:
            await self._azure.close()
