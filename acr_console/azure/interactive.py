"""Interactive sign-in (device code, browser) behind the async credential protocol, cancellable.

azure-identity has no async DeviceCodeCredential or InteractiveBrowserCredential, so their
synchronous `get_token` runs on a thread of its own. Why not `asyncio.to_thread`: it runs on the
loop's default executor, which `asyncio.run` joins when it ends (`loop.shutdown_default_executor`),
and concurrent.futures joins its workers again at interpreter exit (`threading._register_atexit`
in concurrent/futures/thread.py); a device code waits for a person for up to 15 minutes, so q or
Ctrl+C while one was pending hung the process that long. Here each request runs on a daemon
`threading.Thread` whose answer comes back through an asyncio future: cancelling the awaiting task
returns at once, and interpreter exit does not wait for daemon threads.

The thread is also told to stop. MSAL polls the token endpoint in
`msal.oauth2cli.oauth2.Client.obtain_token_by_device_flow`, checking its `exit_condition` every
second, by default `flow.get("expires_at", 0) < time.time()`; MSAL's documented way to end the wait
early is to set the flow's "expires_at" to 0 (`PublicClientApplication.acquire_token_by_device_flow`:
"You can abort the polling loop at any time, by changing the value of the flow's 'expires_at' key
to 0"; msal 1.39). azure-identity keeps the flow to itself (azure/identity/_credentials/
device_code.py, `_request_token`: `flow = app.initiate_device_flow(scopes)`, then
`app.acquire_token_by_device_flow(flow, ...)`; azure-identity 1.27), so the credential made here
hands out its MSAL application through a thin wrapper that notes the flow it starts. A cancelled
flow then ends within a second with MSAL's `authorization_pending`, which azure-identity raises as
a timeout; nobody awaits that answer any more. The browser sign-in's local redirect server cannot
be told to stop; its daemon thread ends with the process (or after azure-identity's 300 s timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .errors import AzureCallError, SignInError, from_exception

DeviceCodePrompt = Callable[[str, str, datetime], None]

# The sign-in that the current thread runs (set on the daemon thread for the whole get_token call):
# how the MSAL wrapper and the prompt find what to note and whom to tell.
_current = threading.local()


class SignIn:
    """One interactive request running on its daemon thread. `cancel()` is the person's: the request
    fails now and its credential asks nobody again (signed out); `stop()` only ends this request."""

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any],
                 owner: ThreadedCredential | None = None) -> None:
        self._loop = loop
        self._future = future
        self._owner = owner
        self._lock = threading.Lock()
        self._flow: dict[str, Any] | None = None
        self.cancelled = False

    def cancel(self) -> None:
        """The person cancelled: fail the request now with a SignInError `SignInCancelled`, stop
        MSAL's polling, and refuse the credential's later requests (another sign-in starts anew
        with a new credential). Idempotent; safe from any thread."""
        if self._owner is not None:
            self._owner.refusal = _cancelled()
        self.stop()

    def stop(self) -> None:
        """Stop MSAL's polling (within its one-second tick) and fail the awaiting request now with
        a SignInError `SignInCancelled`. Idempotent; safe from any thread."""
        with self._lock:
            self.cancelled = True
            if self._flow is not None:
                self._flow["expires_at"] = 0  # MSAL's documented way to stop polling (see above)
        self._deliver(self._future.set_exception, _cancelled())

    def when_done(self, callback: Callable[[], None]) -> None:
        """Call `callback` on the loop once the request has its answer (token, error or cancel);
        call this on the loop's thread."""
        self._future.add_done_callback(lambda _future: callback())

    def _note_flow(self, flow: dict[str, Any]) -> None:
        with self._lock:
            self._flow = flow
            if self.cancelled:
                flow["expires_at"] = 0

    def _deliver(self, setter: Callable[[Any], None], value: Any) -> None:
        def settle() -> None:
            if not self._future.done():
                setter(value)

        # A RuntimeError: the loop has closed, and nobody waits for this answer any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(settle)

    def _run(self, call: Callable[[], Any]) -> None:
        _current.sign_in = self
        try:
            result = call()
        except BaseException as exc:  # handed to the awaiting task, which raises it
            self._deliver(self._future.set_exception, exc)
        else:
            self._deliver(self._future.set_result, result)
        finally:
            _current.sign_in = None


def _cancelled() -> SignInError:
    return SignInError("SignInCancelled", "the sign-in was cancelled before it completed", None, None, "sign in")


def current_sign_in() -> SignIn | None:
    """The interactive request running on this thread (a device-code prompt is called on it), to
    cancel it later; None elsewhere."""
    return getattr(_current, "sign_in", None)


class ThreadedCredential:
    """A synchronous azure-identity credential behind the async protocol, each request on a daemon
    thread (see the module's docstring).

    The SDK offers no adapter for its synchronous interactive credentials; this one is small.
    """

    def __init__(self, sync_credential: Any, *, interactive: bool = False) -> None:
        self._sync = sync_credential
        self._interactive = interactive
        self._one_at_a_time: asyncio.Lock | None = None
        self._running: set[SignIn] = set()
        # Set when an interactive sign-in ended without a token (cancelled, declined, expired): every
        # later request fails the same way instead of asking the person again. The requests queued
        # behind that one (Graph behind ARM, each read of a screen) would each show a new code,
        # which is how a declined or expired code used to be followed by another. Signing in again
        # is a new connection, so a new credential (the console's sign-in screen, another command).
        self.refusal: AzureCallError | None = None

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        if self.refusal is not None:
            raise dataclasses.replace(self.refusal)  # a new exception per raise
        if not self._interactive:
            return await self._on_thread(*scopes, **kwargs)
        # A person signs in once for ARM and Graph. azure-identity keeps tokens asked for with CAE
        # and without it in two MSAL caches (two public client applications: azure/identity/
        # _internal/msal_credentials.py, `_get_app`), and ARM's pipeline asks without CAE while
        # kiota asks with it, so each would start a device flow of its own. Every request here asks
        # with CAE (ARM and Graph both honour it), and one at a time: the second scope waits for the
        # first sign-in, then is answered silently from the refresh token MSAL keeps.
        kwargs["enable_cae"] = True
        if self._one_at_a_time is None:
            self._one_at_a_time = asyncio.Lock()
        async with self._one_at_a_time:
            if self.refusal is not None:
                raise dataclasses.replace(self.refusal)  # a new exception per raise
            try:
                return await self._on_thread(*scopes, **kwargs)
            except Exception as exc:
                if self.refusal is None:
                    self.refusal = from_exception(exc, "sign in")
                raise

    async def _on_thread(self, *scopes: str, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        sign_in = SignIn(loop, future, self)
        # As asyncio.to_thread does: the thread sees the caller's context variables.
        context = contextvars.copy_context()
        call = lambda: context.run(self._sync.get_token, *scopes, **kwargs)  # noqa: E731
        thread = threading.Thread(target=sign_in._run, args=(call,), name="acr-console sign-in", daemon=True)
        self._running.add(sign_in)
        try:
            thread.start()
            return await future
        except asyncio.CancelledError:
            sign_in.stop()  # the caller left (Ctrl+C, quit, a closed session): stop asking
            raise
        finally:
            self._running.discard(sign_in)

    async def close(self) -> None:
        for sign_in in list(self._running):  # a request still waiting for a person ends with it
            sign_in.stop()
        self._sync.close()

    async def __aenter__(self) -> ThreadedCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _NotingApp:
    """An MSAL PublicClientApplication that tells the running SignIn about each device flow it
    starts, so that cancel() can end the flow's polling; everything else is MSAL's own."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def initiate_device_flow(self, *args: Any, **kwargs: Any) -> Any:
        flow = self._app.initiate_device_flow(*args, **kwargs)
        sign_in = current_sign_in()
        if sign_in is not None and isinstance(flow, dict):
            sign_in._note_flow(flow)
        return flow


def cancellable_device_code_credential() -> type:
    """azure-identity's DeviceCodeCredential, whose device flow a cancelled request stops (see the
    module's docstring); it takes the same arguments."""
    from azure.identity import DeviceCodeCredential

    class CancellableDeviceCodeCredential(DeviceCodeCredential):
        def _get_app(self, **app_kwargs: Any) -> Any:
            # azure-identity's one way to its MSAL application (msal_credentials.py, `_get_app`).
            return _NotingApp(super()._get_app(**app_kwargs))

    return CancellableDeviceCodeCredential


def guarded_prompt(prompt: DeviceCodePrompt | None) -> DeviceCodePrompt:
    """The `prompt_callback` for the credential: `prompt`, except for a request already cancelled
    (the code would be shown after the person left)."""

    def show(verification_uri: str, user_code: str, expires_on: datetime) -> None:
        sign_in = current_sign_in()
        if sign_in is not None and sign_in.cancelled:
            return
        if prompt is not None:
            prompt(verification_uri, user_code, expires_on)
        else:  # as azure-identity does without a callback, but on stderr: stdout may be JSON
            print(f"To sign in, open {verification_uri} and enter the code {user_code}.", file=sys.stderr)

    return show


def seconds_left(expires_on: datetime, now: float | None = None) -> int:
    """Whole seconds until `expires_on` (azure-identity passes an aware UTC datetime), never below 0."""
    return max(0, int(expires_on.timestamp() - (time.time() if now is None else now)))


def expiry_phrase(expires_on: object, now: float | None = None) -> str:
    """" It expires in 15 minutes, at 14:05." (local time), or "" for an expiry that is not a
    datetime (azure-identity always passes one; another caller might not)."""
    if not isinstance(expires_on, datetime) or expires_on.tzinfo is None:
        return ""
    left = seconds_left(expires_on, now)
    minutes = round(left / 60)
    span = "less than a minute" if minutes < 1 else "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f" It expires in {span}, at {expires_on.astimezone().strftime('%H:%M')}."
