"""What every screen of the console shares. Full screens: the status line, the footer, read-only
checks. Dialogs: one style, the `dialog` class in app.tcss."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer

from ..actions import WRITE_ACTIONS
from ..widgets.status_line import StatusLine

if TYPE_CHECKING:
    from ..app import AcrConsoleApp
    from ..backend import Backend

ResultT = TypeVar("ResultT")


class ConsoleScreen(Screen[None]):
    """A full screen: status line on top, footer below, `compose_body` between."""

    CRUMB = ""

    @property
    def console(self) -> AcrConsoleApp:
        return cast("AcrConsoleApp", self.app)

    @property
    def backend(self) -> Backend:
        return self.console.backend

    def compose(self) -> ComposeResult:
        status = StatusLine(self.console.connection, profile=self.console.profile_name, accent=self.console.accent,
                            id="status")
        status.crumb = self.crumb()
        yield status
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def crumb(self) -> str:
        return self.CRUMB

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.console.read_only:
            return None  # shown greyed in the footer, and refused if pressed
        return True


class DialogScreen(ModalScreen[ResultT]):
    """A modal dialog: its first container is a box in the middle of the screen, styled by the
    `dialog` class in app.tcss. A subclass adds a modifier to DEFAULT_CLASSES: `-warning`,
    `-success` or `-error` colour the border by what the dialog is about; `-bar` docks the box at
    the bottom as a borderless bar (the `:` command line)."""

    DEFAULT_CLASSES = "dialog"
    # Under 24 rows the box's scrolling body is shorter (app.tcss `.dialog.-short`): Textual sets the
    # class on the screen from its height (Screen.VERTICAL_BREAKPOINTS), again on every resize.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (24, "-tall")]

    @property
    def console(self) -> AcrConsoleApp:
        return cast("AcrConsoleApp", self.app)
