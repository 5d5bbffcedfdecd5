"""Shown when sign-in fails: why, and the ways out (device code over SSH, Azure CLI, the sandbox)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from ...azure.errors import AzureCallError
from .base import DialogScreen

_ADVICE = {
    "CredentialUnavailable": "The chosen sign-in method has nothing to offer here (no `az login`, no environment "
                             "variables, no managed identity).",
    "AADSTS700016": "The application was not found in the tenant: check --tenant.",
    "AADSTS90002": "The tenant was not found: check --tenant.",
    "SignInCancelled": "Nothing is read until you sign in: press d for a new device code, or choose another way.",
}


class SignInFailedScreen(DialogScreen[str | None]):
    DEFAULT_CLASSES = "dialog -error"

    BINDINGS = [
        Binding("escape", "cancel", "Close", tooltip="Stay signed out; reads will fail.", id="sign-in.close"),
        Binding("d", "choose('device-code')", "Device code", tooltip="Sign in with a code on any device (SSH).",
                id="sign-in.device-code"),
        Binding("c", "choose('cli')", "Azure CLI", tooltip="Reuse `az login`.", id="sign-in.cli"),
        Binding("s", "choose('sandbox')", "Sandbox", tooltip="Open the local sandbox instead.", id="sign-in.sandbox"),
    ]

    def __init__(self, error: AzureCallError) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        cancelled = self.error.code == "SignInCancelled"
        why = Text("Signed out\n" if cancelled else "Sign-in failed\n", style="bold" if cancelled else "bold red")
        why.append(str(self.error))
        advice = _ADVICE.get(self.error.code)
        if advice:
            why.append("\n" + advice, style="italic")
        why.append("\n\nChoose another way in:")
        with Vertical():
            yield Static(why, id="sign-in-reason")
            with Horizontal():
                yield Button("Device code (d)", id="device-code", variant="primary", compact=True)
                yield Button("Azure CLI (c)", id="cli", compact=True)
                yield Button("Sandbox (s)", id="sandbox", compact=True)
                yield Button("Close", id="close", compact=True)

    def on_mount(self) -> None:
        if self.error.code == "SignInCancelled":
            self.remove_class("-error")  # the person's choice, not a failure: the plain dialog border

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "close" else event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    def action_cancel(self) -> None:
        self.dismiss(None)
