"""How the TUI is built, checked rather than remembered: every modal is a DialogScreen styled by
the one `dialog` class in app.tcss, and no dialog grows its own copy of the box's CSS again."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.screen import ModalScreen

import acr_console.tui as tui_pkg
from acr_console.tui.screens.base import DialogScreen

# What the dialog class in app.tcss decides for every dialog's box.
BOX_PROPERTIES = ("align:", "border: thick", "background: $surface")


def tui_classes() -> list[type]:
    classes: list[type] = []
    for info in pkgutil.walk_packages(tui_pkg.__path__, tui_pkg.__name__ + "."):
        module = importlib.import_module(info.name)
        classes += [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__]
    return classes


def test_every_modal_is_a_dialog_screen_without_its_own_box_css() -> None:
    modals = [c for c in tui_classes() if issubclass(c, ModalScreen)]
    assert len(modals) >= 8  # the six dialogs, the form base and its forms
    for cls in modals:
        assert issubclass(cls, DialogScreen), cls.__name__
        assert "dialog" in cls.DEFAULT_CLASSES.split(), cls.__name__
        css = cls.__dict__.get("DEFAULT_CSS", "")
        assert not any(p in css for p in BOX_PROPERTIES), f"{cls.__name__} styles its own box; use app.tcss"
