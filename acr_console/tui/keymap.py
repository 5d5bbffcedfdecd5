"""The configuration's `[keymap]` and `theme`, checked against what the console has before it opens.

Textual's `App.set_keymap` ignores an id no binding has, so a misspelt id would leave its key where
it was without a word; an unknown theme raises `InvalidThemeError` from inside the app. Both are
configuration errors here: exit 2, one line naming the nearest id or theme there is.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Iterable

from textual.binding import Binding
from textual.dom import DOMNode
from textual.theme import BUILTIN_THEMES

from ..config import ConfigError, Settings


def binding_ids() -> frozenset[str]:
    """Every binding id declared by a class of the console (app, screens, forms, widgets), and by
    Textual's own that declare one. Screens are imported where they open, so every module of the
    console is imported first: a binding of a screen not yet opened is still a binding."""
    package = importlib.import_module(__package__ or "acr_console.tui")
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
    ids: set[str] = set()
    pending: list[type] = [DOMNode]
    while pending:
        cls = pending.pop()
        ids.update(b.id for b in vars(cls).get("BINDINGS", ()) if isinstance(b, Binding) and b.id)
        pending.extend(cls.__subclasses__())
    return frozenset(ids)


def check_console_settings(settings: Settings) -> None:
    """ConfigError for a `[keymap]` id no binding has, or a `theme` Textual does not have (the
    console registers no theme of its own: Textual's built-in ones are every name there is)."""
    if settings.keymap:
        known = binding_ids()
        for binding_id in settings.keymap:
            if binding_id not in known:
                raise ConfigError(f"keymap: no binding has the id '{binding_id}'{_nearest(binding_id, known)}; "
                                  "the ids are in the help screen (?), e.g. registries.refresh")
    if settings.theme is not None and settings.theme not in BUILTIN_THEMES:
        raise ConfigError(f"theme: no theme '{settings.theme}'{_nearest(settings.theme, BUILTIN_THEMES)}; "
                          f"themes: {', '.join(sorted(BUILTIN_THEMES))}")


def _nearest(name: str, known: Iterable[str]) -> str:
    match = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""
