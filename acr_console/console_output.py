"""What every front end prints on a terminal: rich consoles that never let directory text steer it,
and the one-line `error:` and `warning:` messages on stderr.

Below both front ends: the command line prints its results and errors here, and the console prints
the errors that stop it before its first screen (a bad configuration file, a profile that does not
exist) the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

# rich is imported where it is used: `--json` output never needs it (0.1 s of start-up).


def make_console(*, stderr: bool = False, soft_wrap: bool = False) -> Console:
    """Every console the command line prints with: highlight=False, so directory text is never
    recoloured, and a render hook that shows control characters instead of sending them (see
    presentation.printable): whatever a table or message quotes, the terminal only displays it."""
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, soft_wrap=soft_wrap)
    console.push_render_hook(_printable_hook())
    # rich's own answer to a closed pipe is SystemExit(1) with no word, which would also skip what a
    # write still has to say (the undelivered password's key id): the pipe error goes to the caller.
    console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]
    return console


def _broken_pipe() -> None:
    import errno

    raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def _printable_hook() -> Any:
    from rich.console import RenderHook
    from rich.segment import Segment

    from .presentation import printable

    class Printable:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __rich_console__(self, console: Any, options: Any) -> Any:
            for segment in console.render(self.inner, options):
                if segment.control or segment.text.isprintable():
                    yield segment
                else:
                    yield Segment(printable(segment.text, keep_lines=True), segment.style)

    class Hook(RenderHook):
        def process_renderables(self, renderables: list[Any]) -> list[Any]:
            return [Printable(r) for r in renderables]

    return Hook()


def _stderr() -> Console:
    # soft_wrap: an error is one line a person can grep and a script can parse, whatever the width.
    return make_console(stderr=True, soft_wrap=True)


def print_error(message: str) -> None:
    from rich.text import Text

    console = _stderr()
    console.print(Text("error: ", style="bold red") + Text(message))


def print_warning(message: str) -> None:
    from rich.text import Text

    console = _stderr()
    console.print(Text("warning: ", style="bold yellow") + Text(message))
