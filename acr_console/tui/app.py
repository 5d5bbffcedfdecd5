"""The Textual application: global bindings, keymap, read-only state, navigation between screens."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events, on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen

from ..azure.connection import Connection
from ..azure.errors import SignInError, from_exception
from ..azure.interactive import SignIn, current_sign_in
from ..config import Settings
from ..errors import ConsoleError
from ..models import Principal, PrincipalDetail, Registry, SignedInIdentity
from ..presentation import printable
from ..session import SANDBOX, Session, SessionOptions
from .actions import OPERATION_ACTION, WRITE_ACTIONS
from .backend import Backend
from .commands import ConsoleCommands
from .navigation import CommandError, parse_command
from .screens.registries import RegistriesScreen

if TYPE_CHECKING:
    from .screens.device_code import DeviceCodeScreen


class DeviceCodeArrived(Message):
    """A device code to show, posted from the credential's thread."""

    def __init__(self, verification_uri: str, user_code: str, expires_on: Any, sign_in: SignIn | None) -> None:
        super().__init__()
        self.verification_uri, self.user_code, self.expires_on, self.sign_in = (verification_uri, user_code,
                                                                                expires_on, sign_in)


class AcrConsoleApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "acr-console"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Leave acr-console.", id="app.quit"),
        Binding("question_mark", "help", "Help", tooltip="Keys of this screen and the command line.", id="app.help"),
        # priority: handled as the key arrives, before the keys after it are sent on to the screen
        # below (`:rev` typed in one go sent `r`, refresh, to the list); not in a text field or a
        # dialog (check_action), where ':' is typed or the app's keys do not apply.
        Binding("colon", "command_line", "Cmd", tooltip="Type a command: :registries, :sp NAME, :revoke APPID, "
                ":expiring, :audit.", id="app.command-line", priority=True),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen.", id="app.back", show=False),
    ]

    # Who the console acts as (None while signing in), or why sign-in failed: every screen's
    # status line watches these.
    identity: reactive[SignedInIdentity | None] = reactive(None, init=False)
    sign_in_error: reactive[str | None] = reactive(None, init=False)

    def __init__(self, connection: Connection, *, settings: Settings | None = None, session: Session | None = None,
                 profile_name: str | None = None, accent: str | None = None,
                 clock: Callable[[], datetime] | None = None, backend: Backend | None = None) -> None:
        super().__init__()
        self.connection = connection
        self.settings = settings or Settings()
        # Makes every later connection (another way in, a profile) and stops, when the console
        # closes, any sandbox it started for them. Device codes then show here, not on stderr.
        self.session = session or Session(SessionOptions(), self.settings)
        self.session.device_code_prompt = self._device_code_prompt
        self.session.sign_in_notice = self._sign_in_notice
        self._device_code_screen: DeviceCodeScreen | None = None  # the device-code screen while it is up
        self._device_code_sign_in: SignIn | None = None  # the sign-in it belongs to
        self.profile_name = profile_name
        self.accent = accent
        # Injected in tests and screenshots so "expires in 12 days" is the same on every run.
        self._clock = clock or (lambda: datetime.now(UTC))
        self.backend = backend or Backend(connection)
        # Set while a plan executes: quitting then would leave a write half done.
        self.write_running = False
        # What was run on the `:` command line, oldest first; ↑ there walks it (this session only).
        self.command_history: list[str] = []
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

    def action_help_quit(self) -> None:
        # Textual's ctrl+c hint (App.action_help_quit, 8.2.8) is markup ("Press [b]q[/b] …"), and every
        # toast here is plain text (notify above): say it in plain words, naming every quit key.
        keys = [key for key, active in self.active_bindings.items() if active.binding.action in ("quit", "app.quit")]
        if keys:
            self.notify(f"Press {' or '.join(keys)} to quit acr-console.", title="Do you want to quit?")

    def get_default_screen(self) -> Screen[None]:
        # The registry list is the bottom of the stack: Escape goes back to it and no further
        # (Textual's App.action_back stops at the last screen).
        return RegistriesScreen()

    def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        self.sign_in()

    # -- sign-in --------------------------------------------------------------------------------

    @work(exclusive=True, group="identity", exit_on_error=False)
    async def sign_in(self) -> None:
        try:
            identity = await self.backend.signed_in_identity()
        except Exception as exc:
            err = from_exception(exc, "sign in")
            self.sign_in_error = err.code
            if not self.connection.sandbox or isinstance(err, SignInError):
                from .screens.sign_in import SignInFailedScreen

                self.push_screen(SignInFailedScreen(err), self._sign_in_choice)
            return
        self.identity = identity

    def _sign_in_choice(self, choice: str | None) -> None:
        if choice:
            self.switch_connection(choice)

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def switch_connection(self, choice: str) -> None:
        """Reconnect with another sign-in ('device-code', 'cli') or the local sandbox ('sandbox')."""
        try:
            # On a thread: opening the sandbox may mean starting it.
            connection = await asyncio.to_thread(self.session.sign_in_instead, self.connection, choice)
        except ConsoleError as err:  # a way in that cannot honour the tenant (Session._check_sign_in)
            self.notify(str(err), severity="error")
            return
        except Exception as exc:
            self.notify(f"Could not open the sandbox: {from_exception(exc)}" if choice == SANDBOX
                        else str(from_exception(exc)), severity="error")
            return
        await self.use_connection(connection)

    def _device_code_prompt(self, verification_uri: str, user_code: str, expires_on: Any) -> None:
        # Called on the credential's thread, inside the sign-in it belongs to (so current_sign_in()
        # is that one); post_message is Textual's thread-safe way in, and does not block the thread.
        self.post_message(DeviceCodeArrived(verification_uri, user_code, expires_on, current_sign_in()))

    @on(DeviceCodeArrived)
    def _show_device_code(self, message: DeviceCodeArrived) -> None:
        from .screens.device_code import DeviceCodeScreen

        sign_in = message.sign_in
        if sign_in is not None and sign_in.cancelled:
            return
        expires_on = message.expires_on if isinstance(message.expires_on, datetime) else self.now()
        shown = self._device_code_screen
        if shown is not None and shown.is_attached:
            shown.show_code(message.verification_uri, message.user_code, expires_on)
        else:
            shown = self._device_code_screen = DeviceCodeScreen(message.verification_uri, message.user_code,
                                                                expires_on)
            self.push_screen(shown, lambda cancelled: self._device_code_closed(shown, cancelled))
        self._device_code_sign_in = sign_in
        if sign_in is not None:
            # The screen goes when its sign-in has an answer: a token, a refusal, an expired code.
            sign_in.when_done(lambda: self._close_device_code(shown))

    def _close_device_code(self, screen: Screen[Any]) -> None:
        if screen.is_attached and screen in self.screen_stack:
            screen.dismiss(False)

    def _device_code_closed(self, screen: Screen[Any], cancelled: bool | None) -> None:
        if self._device_code_screen is screen:
            self._device_code_screen = None
            sign_in, self._device_code_sign_in = self._device_code_sign_in, None
            if cancelled and sign_in is not None:
                # Fails the pending sign-in now with SignInCancelled (and stops MSAL's polling): the
                # reads waiting on it fail, and sign_in() offers the ways in again.
                sign_in.cancel()

    def _sign_in_notice(self, text: str) -> None:
        # Called on the credential's thread after an interactive sign-in: where its tokens are kept.
        self.call_from_thread(self.notify, text, title="Signed in")

    async def use_connection(self, connection: Connection, profile_name: str | None = None,
                             accent: str | None = None) -> None:
        await self.backend.close()
        self.connection = connection
        self.backend = Backend(connection)
        if profile_name is not None:
            self.profile_name, self.accent = profile_name, accent
        self.identity, self.sign_in_error = None, None  # signing in again
        # Everything open was read through the old connection: close it, and read the list again
        # (queued after the pops, which run in order on the app's queue).
        self.to_root()
        self.call_later(self.registry_list.start_over)
        self.sign_in()

    async def sandbox_moved(self) -> bool:
        """Issue 16: after a read could not connect to the sandbox, follow it to where it serves now
        (the session reads connection.json again) and read everything again there; False when this is
        no sandbox connection or the sandbox has not moved."""
        if not self.connection.sandbox:
            return False
        try:
            connection = await asyncio.to_thread(self.session.reconnect_sandbox, self.connection)
        except Exception:  # a sandbox that cannot be started now: the read's own failure is shown
            return False
        if connection is None:
            return False
        await self.use_connection(connection)
        self.notify("The sandbox moved to another address: reconnected, reading again.", severity="information")
        return True

    # -- navigation -----------------------------------------------------------------------------

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_command_line(self) -> None:
        from .screens.command_line import CommandLineScreen

        if not self.backend.principals:
            self.load_names()
        # Awaited: the app handles the next key only once the line is up and focused. Keys typed
        # right after ':' (`:rev`, all in one read from the terminal) went to the screen below, where
        # `r` read the list again.
        await self.push_screen(CommandLineScreen(self.completion_names, self.command_history),
                               lambda text: self.run_command(text) if text else None)

    def completion_names(self, kind: str) -> list[str]:
        """The names the command line completes, of one kind (navigation.ARGUMENT_KIND): what the
        console has read so far, never a request per keystroke."""
        backend = self.backend
        if kind == "registry":
            return [r.name for r in backend.listing.registries] if backend.listing is not None else []
        if kind == "principal":
            known = list(backend.principals.values())
            return [p.display_name for p in known] + [p.app_id for p in known if p.app_id]
        if kind == "profile":
            return list(self.settings.profiles)
        return []

    @work(exclusive=True, group="names", exit_on_error=False)
    async def load_names(self) -> None:
        """Principals are met through registry access: read it once, as the palette does, so every
        one completes. A failure leaves completion to what is known; the screens report errors."""
        with contextlib.suppress(Exception):  # completion is a convenience; nothing to tell here
            await self.backend.all_access()

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
        elif command.name in ("principal", "revoke"):
            self.open_principal_checked(arg, revoke=command.name == "revoke")
        elif command.name == "expiring":
            from .screens.expiring import ExpiringScreen

            self.push_screen(ExpiringScreen(int(arg) if arg else self.settings.expiry_warning_days))
        elif command.name == "audit":
            self.open_audit()
        elif command.name == "findings":
            self.open_findings()
        elif command.name == "help":
            self.action_help()
        elif command.name == "quit":
            self.exit(0)
        elif command.name == "profile":
            self.switch_profile(arg)
        elif command.name == "create":
            self.start_operation("create-principal")

    @property
    def registry_list(self) -> RegistriesScreen:
        """The default screen, at the bottom of the stack."""
        return cast(RegistriesScreen, self.screen_stack[0])

    def to_root(self) -> None:
        """Back to the registry list, closing every screen and dialog above it."""
        self.registry_list.pop_until_active()

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

    @work(exclusive=True, group="lookup", exit_on_error=False)
    async def open_principal_checked(self, ref: str, *, revoke: bool = False) -> None:
        """`:sp REF` and `:revoke REF`: read the principal first, and open its view only if it exists
        (an empty view would still offer its write keys). `revoke` then opens the full revoke form on
        it, as R in that view does."""
        from .screens.principal import PrincipalScreen

        try:
            detail = await self.backend.principal(ref)
        except Exception as exc:
            err = from_exception(exc, "find the principal")
            if err.code == "Request_ResourceNotFound":
                self.notify(f"not found: no service principal has the appId, object id or name '{ref}'. "
                            "Tab on the command line completes the names the console has read.",
                            severity="error")
            else:
                self.notify(str(err), severity="error")
            return
        with contextlib.suppress(Exception):  # scope names only; the registry list reports its own failure
            await self.backend.registries()
        self.push_screen(PrincipalScreen(ref, detail=detail))
        if revoke:
            from ..operations.registry import REVOKE

            self.start_operation(REVOKE.name, principal=detail.principal, detail=detail)

    def open_audit(self) -> None:
        from .screens.audit import AuditScreen

        self.push_screen(AuditScreen())

    def open_findings(self) -> None:
        from .screens.findings import FindingsScreen

        self.push_screen(FindingsScreen())

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def switch_profile(self, name: str) -> None:
        try:
            target = self.session.profile_target(name)
            connection = await asyncio.to_thread(self.session.connect, target)
        except ConsoleError as err:
            self.notify(str(err), severity="error")
            return
        await self.use_connection(connection, target.profile_name, target.profile.accent)

    # -- writes ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.read_only:
            return None
        if action == "command_line":
            from textual.widgets import Input

            return not (self.screen.is_modal or isinstance(self.focused, Input))
        # Quitting while a plan executes would leave a write half done.
        return not (action == "quit" and self.write_running)

    def on_key(self, event: events.Key) -> None:
        """A write key in read-only mode: its binding is disabled (greyed in the footer, check_action
        None), so Textual would drop the key without a word. Say why instead."""
        if not self.read_only:
            return
        active = self.screen.active_bindings.get(event.key)
        if active is None or active.enabled:
            return
        action, _, arguments = active.binding.action.partition("(")
        if action.rpartition(".")[2] in WRITE_ACTIONS:
            self.notify_read_only(arguments.rstrip(")").strip("'\"") if action.endswith(OPERATION_ACTION) else "")

    def notify_read_only(self, operation_name: str) -> None:
        from ..operations.registry import operation

        try:
            title = operation(operation_name).title
        except (KeyError, ValueError):
            title = "this write"
        self.notify(f"read-only: {title} is refused. The console was opened read-only (--read-only or the "
                    "profile's read_only); open it without to change access.", severity="warning")

    def start_operation(self, kind: str, *, registry: Registry | None = None, principal: Principal | None = None,
                        detail: PrincipalDetail | None = None) -> None:
        if self.read_only:
            self.notify_read_only(kind)
            return
        from .operations_ui import start_operation

        start_operation(self, kind, registry=registry, principal=principal, detail=detail)

    async def on_unmount(self) -> None:
        await self.backend.close()
        await asyncio.to_thread(self.session.close)

