"""The `:` command line (k9s style): nouns to jump to, e.g. `:sp ci-push`, `:revoke APPID`, `:expiring`.

What is typed shows on one row at every size; Tab or → accepts the grey completion (command words,
then the registry names, principal names and appIds the console has loaded); ↑/↓ walk the session's
history of commands, as a shell's do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Static

from ..navigation import COMMAND_HELP, completions
from .base import DialogScreen

NameSource = Callable[[str], Iterable[str]]

# How many of the names that match the help row lists while an argument is typed.
SHOWN_MATCHES = 6


class CommandSuggester(Suggester):
    """Textual's Suggester over `completions`: the first match, shown grey after the cursor."""

    def __init__(self, names: NameSource) -> None:
        # No cache: the names grow while the console reads (a registry's access, the palette's load).
        super().__init__(use_cache=False, case_sensitive=False)
        self.names = names

    async def get_suggestion(self, value: str) -> str | None:
        found = completions(value, self.names)
        return found[0] if found else None


class CommandInput(Input):
    """The command line's field. Tab and ↑/↓ are handled here, in the field's own queue, in the order
    typed: as bindings they would run only once the key had bubbled up to the app, after the keys
    typed behind it (`rev`, Tab, space, a paste, all in one read from the terminal) had reached the
    field, so Tab would complete the wrong text or none."""

    ROUTED = {"tab": "complete", "up": "history_back", "down": "history_forward"}

    async def _on_key(self, event: events.Key) -> None:
        routed = self.ROUTED.get(event.key)
        screen = self.screen
        if routed is not None and isinstance(screen, CommandLineScreen):
            event.stop()
            event.prevent_default()
            getattr(screen, f"action_{routed}")()
            return
        await super()._on_key(event)


class CommandLineScreen(DialogScreen[str | None]):
    DEFAULT_CLASSES = "dialog -bar"
    DEFAULT_CSS = """
    CommandLineScreen #command-help {
        color: $text-muted;
        height: auto;
    }
    CommandLineScreen #command-row {
        height: 1;
    }
    CommandLineScreen #command-prompt {
        width: 2;
        color: $accent;
        text-style: bold;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the command line.", id="command-line.cancel"),
        Binding("tab", "complete", "Complete", tooltip="Accept the grey completion (→ does too).",
                id="command-line.complete"),
        Binding("up", "history_back", "Older", tooltip="The command typed before (this session).",
                id="command-line.history-back"),
        Binding("down", "history_forward", "Newer", tooltip="The command typed after, then what you were typing.",
                id="command-line.history-forward"),
    ]

    def __init__(self, names: NameSource | None = None, history: list[str] | None = None) -> None:
        super().__init__()
        self.names: NameSource = names or (lambda kind: ())
        # The app's list, appended to on Enter: it lives as long as the console does.
        self.history = history if history is not None else []
        self._history_at: int | None = None  # index into history while walking it
        self._draft = ""  # what was typed before ↑, given back by ↓ past the newest

    def compose(self) -> ComposeResult:
        with Vertical(id="command-box"):
            # Text, not markup: as markup "[DAYS]" in the help was read as a style and vanished.
            yield Static(Text(COMMAND_HELP), id="command-help")
            with Horizontal(id="command-row"):
                yield Static(":", id="command-prompt")
                # compact: one row and no border, focused or not. Without it Textual's `Input:focus`
                # rule put a tall border back on a one-row input, leaving no row for the text.
                yield CommandInput(id="command-input", compact=True, suggester=CommandSuggester(self.names))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def field(self) -> Input:
        return self.query_one("#command-input", Input)

    @on(Input.Changed, "#command-input")
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#command-help", Static).update(self.help_for(event.value))

    def help_for(self, value: str) -> Text:
        """The commands, or, while an argument is typed, the loaded names that match it."""
        if " " not in value.strip():
            return Text(COMMAND_HELP)
        found = completions(value, self.names)
        if not found:
            return Text(COMMAND_HELP)
        names = [f.partition(" ")[2] for f in found]
        text = Text(f"{len(names)} match{'' if len(names) == 1 else 'es'}: ", style="bold")
        text.append(" · ".join(names[:SHOWN_MATCHES]))
        if len(names) > SHOWN_MATCHES:
            text.append(f" · +{len(names) - SHOWN_MATCHES} more")
        text.append("   Tab completes", style="dim")
        return text

    @on(Input.Submitted, "#command-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip().lstrip(":").strip()
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self.dismiss(text or None)

    def action_complete(self) -> None:
        # Worked out here, not taken from the Input's grey suggestion: that one is computed in a
        # worker, and keys typed fast (or while the console reads) reach Tab before it is ready.
        field = self.field
        found = completions(field.value, self.names)
        if found and field.cursor_at_end:
            field.value = found[0]
            field.cursor_position = len(field.value)

    def action_history_back(self) -> None:
        self.history_step(-1)

    def action_history_forward(self) -> None:
        self.history_step(1)

    def history_step(self, step: int) -> None:
        if not self.history:
            return
        field = self.field
        if self._history_at is None:
            if step > 0:
                return
            self._draft = field.value
            at: int | None = len(self.history) - 1
        else:
            at = self._history_at + step
            if at < 0:
                at = 0
            elif at >= len(self.history):
                at = None
        self._history_at = at
        field.value = self.history[at] if at is not None else self._draft
        field.cursor_position = len(field.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
