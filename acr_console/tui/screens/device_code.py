"""A device-code sign-in waiting for the person: where to go, the code, the time left, copy, cancel.

Not a toast: a code lives up to 15 minutes (Entra's `expires_in`, which azure-identity hands the
prompt as an expiry time), a toast a few seconds. The code is no secret: it is useless without
the person signing in, so it is shown plainly, selectable, and copied on request (OSC 52, as the
secret screen copies). The app closes this screen when the sign-in it belongs to has its answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from ...presentation import printable
from .base import DialogScreen


def time_left(expires_on: datetime, now: datetime) -> str:
    """"14:32" (minutes:seconds), or "" once the code has expired."""
    seconds = int((expires_on - now).total_seconds())
    if seconds <= 0:
        return ""
    return f"{seconds // 60}:{seconds % 60:02d}"


class DeviceCodeScreen(DialogScreen[bool]):
    """Dismissed with True when the person cancels the sign-in, False when it ended otherwise."""

    DEFAULT_CSS = """
    DeviceCodeScreen .device-code-big {
        text-style: bold;
        color: $accent;
        padding: 0 2;
        margin: 0 0 1 0;
    }
    DeviceCodeScreen #device-code-code {
        border: round $accent;
        width: auto;
        padding: 1 4;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy_code", "Copy code", tooltip="Copy the code to the clipboard (OSC 52).",
                id="device-code.copy"),
        Binding("escape", "cancel", "Cancel sign-in",
                tooltip="Stop waiting for the code; the console stays signed out.",
                id="device-code.cancel"),
        # A modal screen hides the app's own bindings (Textual's Screen._modal_binding_chain), and
        # q must quit here too: quitting ends the pending sign-in (azure/interactive.py).
        Binding("q", "app.quit", "Quit", tooltip="Leave acr-console; the sign-in ends with it.",
                id="device-code.quit"),
    ]

    def __init__(self, verification_uri: str, user_code: str, expires_on: datetime) -> None:
        super().__init__()
        self.verification_uri = printable(verification_uri)
        self.user_code = printable(user_code)
        self.expires_on = expires_on

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Sign in with a device code", style="bold"))
            yield Static("On any device (a phone, a laptop), open")
            yield Static(self.verification_uri, id="device-code-uri", classes="device-code-big")
            yield Static("and enter the code")
            yield Static(self.user_code, id="device-code-code", classes="device-code-big")
            yield Static(self._left(), id="device-code-left")
            yield Static(Text("c copies the code · Escape cancels the sign-in · q quits", style="dim"))

    def on_mount(self) -> None:
        # The countdown: once a second is what it shows; the app's clock, so screenshots are stable.
        self.set_interval(1, self._tick)

    def _left(self) -> Text:
        left = time_left(self.expires_on, self.console.now())
        if not left:
            return Text("The code has expired. Escape closes; sign in again from the next screen.", style="bold red")
        at = self.expires_on.astimezone().strftime("%H:%M")
        style = "yellow" if self.expires_on.timestamp() - self.console.now().timestamp() < 60 else ""
        text = Text("Time left ")
        text.append(left, style=style or "bold")
        text.append(f" (expires at {at}). Waiting for you to enter the code…", style="dim")
        return text

    def _tick(self) -> None:
        self.query_one("#device-code-left", Static).update(self._left())

    def show_code(self, verification_uri: str, user_code: str, expires_on: datetime) -> None:
        """A newer code for the same sign-in (the last one expired): show it instead."""
        self.verification_uri, self.user_code = printable(verification_uri), printable(user_code)
        self.expires_on = expires_on
        self.query_one("#device-code-uri", Static).update(self.verification_uri)
        self.query_one("#device-code-code", Static).update(self.user_code)
        self._tick()

    def action_copy_code(self) -> None:
        self.app.copy_to_clipboard(self.user_code)
        self.notify(f"Copied the code {self.user_code} (OSC 52). In tmux: set -g set-clipboard on.")

    def action_cancel(self) -> None:
        self.dismiss(True)
