"""The Textual application: global bindings, keymap, read-only state, navigation between screens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel

from ..azure.connection import Connection
from ..azure.errors import AzureCallError, SignInError, from_exception
from ..config import Settings
from ..models import Principal, PrincipalDetail, Registry
from ..presentation import printable
from .actions import WRITE_ACTIONS
from .backend import Backend
from .commands import ConsoleCommands
from .navigation import CommandError, parse_command
from .screens.registries import RegistriesScreen
from .widgets.status_line import StatusLine

if TYPE_CHECKING:
    from ..sandbox.server import SandboxServer


class AcrConsoleApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "acr-console"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Leave acr-console.", id="app.quit"),
        Binding("question_mark", "help", "Help", tooltip="Keys of this screen and the command line.", id="app.help"),
        Binding("colon", "command_line", "Cmd", tooltip="Type a command: :registries, :sp NAME, :expiring, :audit.",
                id="app.command-line"),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen.", id="app.back", show=False),
    ]

    def __init__(self, connection: Connection, *, settings: Settings | None = None, profile_name: str | None = None,
                 accent: str | None = None, clock: Callable[[], datetime] | None = None,
                 backend: Backend | None = None) -> None:
        super().__init__()
        self.connection = connection
        self.settings = settings or Settings()
        self.profile_name = profile_name
        self.accent = accent
        # Injected in tests and screenshots so "expires in 12 days" is the same on every run.
        self._clock = clock or (lambda: datetime.now(UTC))
        self.backend = backend or Backend(connection)
        self.identity_label = "signing in…"
        # Set while a plan executes: quitting then would leave a write half done.
        self.write_running = False
        self._owned_sandbox: SandboxServer | None = None
        if self.settings.theme:
            self.theme = self.settings.theme

    @property
    def read_only(self) -> bool:
        return self.connection.read_only

    def now(self) -> datetime:
        return self._clock()

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        # Every toast goes through here (screens' notify calls the app's). They quote principal names
        # and Azure's errors: shown literally, never as markup, never with a control character.
        kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        super().notify(printable(message, keep_lines=True), title=printable(title), severity=severity, markup=False,
                       **kwargs)

    def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        self.push_screen(RegistriesScreen())
        self.sign_in()

    # -- sign-in --------------------------------------------------------------------------------

    @work(exclusive=True, group="identity", exit_on_error=False)
    async def sign_in(self) -> None:
        try:
            identity = await self.backend.signed_in_identity()
        except Exception as exc:
            err = from_exception(exc, "sign in")
            self._set_identity(f"not signed in ({err.code})")
            if not self.connection.sandbox or isinstance(err, SignInError):
                from .screens.sign_in import SignInFailedScreen

                self.push_screen(SignInFailedScreen(err), self._sign_in_choice)
            return
        self._set_identity(identity.get("name") or (f"app {identity['app_id']}" if identity.get("app_id")
                                                    else "unknown"))

    def _set_identity(self, label: str) -> None:
        self.identity_label = label
        for screen in self.screen_stack:
            for status in screen.query(StatusLine):
                status.identity = label

    def _sign_in_choice(self, choice: str | None) -> None:
        if choice:
            self.switch_connection(choice)

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def switch_connection(self, choice: str) -> None:
        """Reconnect with another sign-in ('device-code', 'cli') or the local sandbox ('sandbox')."""
        from dataclasses import replace

        from ..azure.connection import Auth, AuthMethod

        if choice == "sandbox":
            import asyncio

            from ..azure.connection import sandbox_connection
            from ..sandbox.launcher import connect_or_start, default_data_dir

            try:
                doc, server = await asyncio.to_thread(connect_or_start, default_data_dir())
            except Exception as exc:
                self.notify(f"Could not open the sandbox: {from_exception(exc)}", severity="error")
                return
            self._owned_sandbox = self._owned_sandbox or server
            connection = sandbox_connection(doc, read_only=self.connection.read_only)
        else:
            method = AuthMethod(choice)
            prompt = self._device_code_prompt if method is AuthMethod.DEVICE_CODE else None
            connection = replace(self.connection, auth=Auth(method, device_code_prompt=prompt))
        await self.use_connection(connection)

    def _device_code_prompt(self, verification_uri: str, user_code: str, expires_on: Any) -> None:
        # Called on the credential's thread; the code is not a secret (it is useless without the user).
        self.call_from_thread(self.notify, f"Open {verification_uri} and enter the code {user_code}",
                              title="Device code sign-in", timeout=300)

    async def use_connection(self, connection: Connection, profile_name: str | None = None,
                             accent: str | None = None) -> None:
        await self.backend.close()
        self.connection = connection
        self.backend = Backend(connection)
        if profile_name is not None:
            self.profile_name, self.accent = profile_name, accent
        self.identity_label = "signing in…"
        while len(self.screen_stack) > 1:
            self.pop_screen()
        await self.push_screen(RegistriesScreen())
        self.sign_in()

    # -- navigation -----------------------------------------------------------------------------

    def action_back(self) -> None:
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def action_command_line(self) -> None:
        from .screens.command_line import CommandLineScreen

        self.push_screen(CommandLineScreen(), lambda text: self.run_command(text) if text else None)

    def run_command(self, text: str) -> None:
        try:
            command = parse_command(text)
        except CommandError as err:
            self.notify(str(err), severity="error")
            return
        arg = command.argument
        if command.name == "registries":
            self.to_root()
        elif command.name == "registry":
            self.open_registry_named(arg)
        elif command.name == "principal":
            self.open_principal(arg)
        elif command.name == "expiring":
            from .screens.expiring import ExpiringScreen

            self.push_screen(ExpiringScreen(int(arg) if arg else self.settings.expiry_warning_days))
        elif command.name == "audit":
            self.open_audit()
        elif command.name == "help":
            self.action_help()
        elif command.name == "quit":
            self.exit(0)
        elif command.name == "profile":
            self.switch_profile(arg)
        elif command.name == "create":
            self.start_operation("create-principal")

    def to_root(self) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def open_registry(self, registry: Registry) -> None:
        from .screens.registry_access import RegistryAccessScreen

        self.push_screen(RegistryAccessScreen(registry))

    @work(exclusive=True, group="lookup", exit_on_error=False)
    async def open_registry_named(self, name: str) -> None:
        try:
            registry = await self.backend.find_registry(name)
        except Exception as exc:
            self.notify(str(from_exception(exc)), severity="error")
            return
        self.open_registry(registry)

    def open_principal(self, ref: str) -> None:
        from .screens.principal import PrincipalScreen

        self.push_screen(PrincipalScreen(ref))

    def open_audit(self) -> None:
        from .screens.audit import AuditScreen

        self.push_screen(AuditScreen())

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def switch_profile(self, name: str) -> None:
        from ..config import ConfigError, load_settings
        from .profiles import connection_for_profile

        try:
            profile_name, profile = load_settings().profile(name)
            connection = await connection_for_profile(self, profile)
        except (ConfigError, AzureCallError) as err:
            self.notify(str(err), severity="error")
            return
        await self.use_connection(connection, profile_name, profile.accent)

    # -- writes ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.read_only:
            return None
        # Quitting while a plan executes would leave a write half done.
        return not (action == "quit" and self.write_running)

    def start_operation(self, kind: str, *, registry: Registry | None = None, principal: Principal | None = None,
                        detail: PrincipalDetail | None = None) -> None:
        if self.read_only:
            self.notify("Read-only: this console does not write. Open it without --read-only to change access.",
                        severity="warning")
            return
        from .operations_ui import start_operation

        start_operation(self, kind, registry=registry, principal=principal, detail=detail)

    async def on_unmount(self) -> None:
        await self.backend.close()
        if self._owned_sandbox is not None:
            import asyncio

            await asyncio.to_thread(self._owned_sandbox.stop)

