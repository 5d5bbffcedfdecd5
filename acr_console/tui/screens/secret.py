"""A new secret, shown once: masked until revealed, with the login commands, copied by OSC 52.

The Secret object lives only in this screen; leaving the screen drops it. It never goes into a
notification, a log, a table or a screenshot (masked by default; the screenshots never reveal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from ...errors import OutputError
from ...operations.registry import ADD_CERTIFICATE, CREATE_PRINCIPAL, RESET_CREDENTIAL
from ...presentation import shown
from .base import DialogScreen

if TYPE_CHECKING:
    from textual.app import App

    from ...operations import Outcome, Plan
    from ...secret import Secret


@dataclass
class SecretView:
    title: str
    secret: Secret | None  # a client secret; None when the new credential is a file on disk
    facts: list[tuple[str, str]] = field(default_factory=list)
    commands: list[tuple[str, str]] = field(default_factory=list)  # (label, command), none holding the secret


def secret_view(plan: Plan, outcome: Outcome, acr_suffix: str) -> SecretView | None:
    """What to show of the new credential, for the operations that make one (Operation.makes_secret);
    `acr_suffix` is the cloud's registry login-server suffix (Cloud.acr_suffix)."""
    from ...operations import certificate_result, create_result, credential_result

    if plan.operation == ADD_CERTIFICATE.name:
        facts = certificate_result(plan)
        return SecretView(f"New certificate for {plan.target.get('principal')}", None,
                          [(k, str(v)) for k, v in facts.items() if v is not None and k != "pem"], [])
    facts = create_result(plan) if plan.operation == CREATE_PRINCIPAL.name else credential_result(plan)
    return password_view(plan.operation, facts, outcome.secrets.get("password"), acr_suffix)


def password_view(operation: str, r: Mapping[str, Any], secret: Secret | None, acr_suffix: str) -> SecretView | None:
    """A new password with its facts (create_result's or credential_result's keys)."""
    if operation == CREATE_PRINCIPAL.name:
        facts = [("appId", str(r.get("appId"))), ("tenant", str(r.get("tenant"))),
                 ("registry", str(r.get("loginServer"))), ("role", str(r.get("role")))]
        if r.get("certificateFile"):
            facts.append(("certificate and key", str(r["certificateFile"])))
        return SecretView(f"New principal {r.get('displayName')}", secret, facts,
                          [("docker", str(r.get("dockerLogin"))), ("az", str(r.get("azLogin")))])
    if operation == RESET_CREDENTIAL.name:
        app_id, tenant = r.get("appId"), r.get("tenant")
        facts = [("appId", str(app_id)), ("tenant", str(tenant)), ("key id", str(r.get("keyId"))),
                 ("expires", str(r.get("endDateTime")))]
        return SecretView(f"New secret for {r.get('displayName')}", secret, facts,
                          [("docker", f"docker login <registry>{acr_suffix} --username {app_id} --password-stdin"),
                           ("az", f"az login --service-principal --username {app_id} --tenant {tenant} "
                                  "--password <secret>")])
    return None


class ScreenHandOver:
    """Shows a new password on its own screen the moment it exists, over the running plan: the
    plan's removals wait for that screen to be up (operations/handover.py)."""

    description = "Show the new password on screen"

    def __init__(self, app: App[object], acr_suffix: str) -> None:
        self.app = app
        self.acr_suffix = acr_suffix

    async def deliver(self, operation: str, facts: dict[str, Any], secret: Secret) -> None:
        view = password_view(operation, facts, secret, self.acr_suffix)
        if view is None:
            raise OutputError(f"no way to show a password made by {operation}")
        await self.app.push_screen(SecretScreen(view))


class SecretScreen(DialogScreen[None]):
    DEFAULT_CLASSES = "dialog -success"
    DEFAULT_CSS = """
    SecretScreen #secret-value {
        margin: 1 0;
        text-style: bold;
    }
    """

    BINDINGS = [
        Binding("v", "reveal", "Reveal", tooltip="Show or hide the secret.", id="secret.reveal"),
        Binding("c", "copy_secret", "Copy secret", tooltip="Copy the secret (OSC 52).", id="secret.copy"),
        Binding("d", "copy_command('docker')", "Copy docker", tooltip="Copy the docker login command.",
                id="secret.copy-docker"),
        Binding("z", "copy_command('az')", "Copy az", tooltip="Copy the az login command.", id="secret.copy-az"),
        Binding("escape", "close", "Close (forget)", tooltip="Close; the secret is gone from memory.",
                id="secret.close"),
    ]

    def __init__(self, view: SecretView, failure: Text | None = None) -> None:
        super().__init__()
        self._view: SecretView | None = view
        self.revealed = False
        # Whether the person has the secret (copied or revealed): until then leaving asks first.
        # A certificate's key is a file on disk: nothing here is lost by leaving.
        self.kept = view.secret is None
        self._failure = failure

    def compose(self) -> ComposeResult:
        view = self._view
        assert view is not None
        with Vertical():
            yield Static(shown(view.title, style="bold"))
            if view.secret is not None:
                yield Static(Text("Shown once: the console does not store it. Copy it now.", style="yellow"))
            yield Static(self._secret_text(), id="secret-value")
            facts = Text()
            for label, value in view.facts:
                facts.append(f"{label}: ", style="dim")
                facts.append(f"{value}\n")
            for label, command in view.commands:
                facts.append(f"{label}: ", style="dim")
                facts.append(f"{command}\n", style="cyan")
            yield Static(facts, id="secret-facts")
            keys = "v reveal · c copy secret · d/z copy a command · Escape closes and forgets"
            yield Static(Text(keys if view.secret is not None else "d/z copy a command · Escape closes",
                              style="dim"))
            # A plan that failed after the secret was made: the failure below it, the secret kept above.
            failure = Static(self._failure or "", id="secret-failure")
            failure.display = self._failure is not None
            yield failure

    def show_failure(self, failure: Text) -> None:
        """The plan that made this secret has finished with a failure: say so under the secret."""
        self._failure = failure
        node = self.query_one("#secret-failure", Static)
        node.update(failure)
        node.display = True

    def _secret_text(self) -> Text:
        view = self._view
        if view is None or view.secret is None:
            return Text("No secret: the credential is the file named below.", style="dim")
        if not self.revealed:
            return Text("●" * 24 + f"   (starts '{view.secret.hint}', press v to reveal)")
        return Text(view.secret.reveal())

    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        self.kept = True
        self.query_one("#secret-value", Static).update(self._secret_text())

    def action_copy_secret(self) -> None:
        if self._view is None or self._view.secret is None:
            return
        self.app.copy_to_clipboard(self._view.secret.reveal())
        self.kept = True
        # Says that it was copied, never what.
        self.notify("Copied the secret to the clipboard (OSC 52). In tmux: set -g set-clipboard on.")

    def action_copy_command(self, which: str) -> None:
        if self._view is None:
            return
        for label, command in self._view.commands:
            if label == which:
                self.app.copy_to_clipboard(command)
                self.notify(f"Copied the {which} command.")

    def action_close(self) -> None:
        if self.kept:
            self.dismiss(None)
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.dismiss(None)

        # Asked once per Escape; the question's own Escape (or Enter on its first button) stays.
        self.app.push_screen(LeaveSecretScreen(), answered)

    def on_unmount(self) -> None:
        # Drop every reference this screen holds; the Secret is then unreachable.
        self._view = None
        for node in self.query("#secret-value").results(Static):
            node.update("")


LEAVE_QUESTION = "The secret is shown only now. Leave without copying it?"


class LeaveSecretScreen(DialogScreen[bool]):
    """Asked before a secret nobody has copied or revealed is forgotten. Focus starts on Stay."""

    DEFAULT_CLASSES = "dialog -warning"
    BINDINGS = [
        Binding("escape", "stay", "Stay", tooltip="Back to the secret.", id="secret-leave.stay"),
        Binding("y", "leave", "Leave", tooltip="Leave; the secret is gone for good.", id="secret-leave.leave"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(LEAVE_QUESTION, style="bold yellow"), id="secret-leave-question")
            yield Static(Text("After you leave, nobody can read it again: the only way back is a new secret.",
                              style="dim"))
            with Horizontal():
                yield Button("Stay (Escape)", id="secret-leave-stay", compact=True)
                yield Button("Leave without it (y)", id="secret-leave-go", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#secret-leave-stay", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "secret-leave-go")

    def action_stay(self) -> None:
        self.dismiss(False)

    def action_leave(self) -> None:
        self.dismiss(True)
