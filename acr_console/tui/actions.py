"""Action names shared by screens, the palette and read-only checks."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

from ..operations.registry import Operation

# Every write starts with one action, `operation('<name>')`, the name being the operation's one name
# (operations/registry.py). Read-only mode disables it everywhere (check_action → None greys it in
# the footer); the operations layer refuses writes too, so this is the first fence, not the only one.
OPERATION_ACTION = "operation"
WRITE_ACTIONS = frozenset({OPERATION_ACTION})


def operation_binding(key: str, screen: str, op: Operation[Any, Any], description: str, tooltip: str) -> Binding:
    """The binding that starts `op` on a screen; its id, `<screen>.<operation name>`, is what [keymap] rebinds
    (screen first: Textual's keymap is global by id, and one key may suit one screen and not another)."""
    return Binding(key, f"{OPERATION_ACTION}({op.name!r})", description, tooltip=tooltip, id=f"{screen}.{op.name}")
