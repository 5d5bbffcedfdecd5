"""`?`: the global keys first, then the keys of the screen below, then every other screen's (as
lazygit's `?` and k9s's `?` list what works everywhere before what works here), the binding ids the
keymap uses, the command line, and a legend of every mark the screens draw."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static

from ..navigation import COMMAND_HELP
from .base import DialogScreen

# Every symbol or short mark a screen draws, and what it means, read from the screens that draw it:
# registry_access.py (the Pull/Push/Del marks and the ! column), presentation.py (scope_text,
# scope_label, expiry_text, mode_label), registries.py (Admin), execution.py (step results).
# One place, so a new mark is explained where people look for it (`?`); add yours here.
LEGEND: tuple[tuple[str, str], ...] = (
    ("✓ / ·", "Pull, Push, Del columns: the principal has that right through at least one path / it has not"),
    ("!", "the column of marks about the principal itself: off, ⚑, ?dir, anon (below)"),
    ("off", "its sign-in is disabled: no new tokens; tokens already issued work until they expire"),
    ("⚑", "latent: it can give itself more (assign roles, read or enable the admin user, create tokens, "
          "import images, push through tasks); the detail pane names which"),
    ("?dir", "role assignments name an object id the directory did not return: deleted, not yet replicated, "
             "or a type not read"),
    ("anon", "anonymous pull is on: anyone who can reach the registry pulls every repository (P turns it off)"),
    ("registry / rg / sub / mg / root", "Scope column: where the role is assigned (the registry, its resource "
                                        "group, subscription, management group, the tenant root)"),
    ("sub ↑ / rg ↑", "inherited: assigned above the registry, at that level, and reaching it"),
    ("+N", "after a scope: N more paths at other scopes (the detail pane lists every path)"),
    ("rg NAME ↓ N registries", "principal view: an assignment at a resource group or subscription reaches the "
                               "N registries listed after it"),
    ("via A › B", "the role comes through group A, which contains group B, which contains the principal"),
    ("(possible: …)", "the path may grant the right: a custom role's wildcard, or the registry's mode is unknown"),
    ("repos: …", "an ABAC condition limits the right to these repositories (team/* is every one under team/)"),
    ("ON ⚠", "Admin column: the registry's admin user is on (a shared user name and password that can push)"),
    ("ABAC / UNKNOWN", "Mode column: Repository roles with conditions decide access / Azure did not state the "
                       "mode, so what differs between the modes is only possible"),
    ("type token", "a registry token: user name and password of the registry's own, repositories from its "
                   "scope map (D disables it, X removes a password)"),
    ("(N d) / (expired)", "a credential that expires within the warning window (yellow) / has expired (red)"),
    ("HIGH / MEDIUM / LOW", "Findings: the severity (red, yellow, blue); fix in the Fix column: Enter shows the "
                            "plan that fixes it"),
    ("✓ ✗ – · …", "plan steps: done, failed, skipped, waiting, running"),
    ("(disabled: read-only)", "a write key in read-only mode: pressing it says it is refused"),
)


def legend_table() -> Table:
    table = Table(box=None, pad_edge=False, show_header=False)
    table.add_column("Mark", no_wrap=True, style="bold")
    table.add_column("Means")
    for mark, meaning in LEGEND:
        table.add_row(Text(mark), Text(meaning))
    return table


def _new_table() -> Table:
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("Key", no_wrap=True)
    table.add_column("Does")
    # Text: a str header is read as markup, and "[keymap]" vanished as a tag.
    table.add_column(Text("Id (for [keymap])"), style="dim", no_wrap=True)
    return table


def _describe(binding: Binding) -> Text:
    description = Text(binding.description)
    if binding.tooltip:
        description.append(f": {binding.tooltip}", style="dim")
    return description


def bindings_table(screen: Screen[object]) -> Table:
    """The keys active on `screen` now, with whether each is enabled (a write in read-only mode is not);
    the app's own are under "Global keys"."""
    table = _new_table()
    seen: set[str] = set()
    active_bindings = [(key, active) for key, active in screen.active_bindings.items() if active.node is not screen.app]
    # The screen's own keys first, then those of the widget with focus (the table's cursor keys).
    active_bindings.sort(key=lambda item: item[1].node is not screen)
    for key, active in active_bindings:
        binding = active.binding
        # Textual's generic keys (focus, copy, scroll) have no id; the console's all have one.
        if binding.id in seen or not binding.description or not binding.id:
            continue
        seen.add(binding.id or key)
        description = _describe(binding)
        if not active.enabled:
            description.append(" (disabled: read-only)", style="italic")
        table.add_row(Text(screen.app.get_key_display(binding)), description, Text(binding.id or ""))
    return table


def class_bindings(cls: type[DOMNode]) -> list[Binding]:
    """The bindings a class declares and inherits, as Textual merges them (DOMNode._merge_bindings,
    Textual 8.2.8): base classes first, a subclass's key replacing the base's; one Binding per key."""
    keys: dict[str, list[Binding]] = {}
    for base in reversed(cls.__mro__):
        if not (isinstance(base, type) and issubclass(base, DOMNode)):
            continue
        if not base._inherit_bindings:
            keys.clear()
        declared: dict[str, list[Binding]] = {}
        for binding in Binding.make_bindings(base.__dict__.get("BINDINGS", [])):
            declared.setdefault(binding.key, []).append(binding)
        keys.update(declared)
    return [b for bindings in keys.values() for b in bindings]


def class_bindings_table(app: App[object], classes: Iterable[type[DOMNode]], keymap: dict[str, str], *,
                         generic: bool = False) -> Table:
    """Every described binding of `classes`, one row per binding id (its keys together), with the
    keys the user's [keymap] gives them. Textual's generic ones (no id: focus, scroll) only if `generic`."""
    rows: dict[str, tuple[list[str], Binding]] = {}
    for cls in classes:
        for binding in class_bindings(cls):
            if not binding.description or binding.system or not (binding.id or generic):
                continue
            if binding.id and binding.id in keymap:
                binding = dataclasses.replace(binding, key=keymap[binding.id])
            name = binding.id or f"{binding.action}:{binding.description}"
            keys, _ = rows.setdefault(name, ([], binding))
            display = app.get_key_display(binding)
            if display not in keys:
                keys.append(display)
    table = _new_table()
    for keys, binding in rows.values():
        table.add_row(Text(" ".join(keys)), _describe(binding), Text(binding.id or ""))
    return table


def screen_sections() -> Sequence[tuple[str, Sequence[type[DOMNode]]]]:
    """Each screen (and the widgets with keys of their own) as `?` lists them, in the order a person
    meets them. Imported here, not at the top: most open on demand."""
    from ..widgets.filter_bar import FilterBar
    from ..widgets.row_table import RowTable
    from .audit import AuditScreen
    from .command_line import CommandLineScreen
    from .confirm_plan import ConfirmPlanScreen
    from .execution import ExecutionScreen
    from .expiring import ExpiringScreen
    from .findings import FindingsScreen
    from .forms.base import OperationForm
    from .principal import PrincipalScreen
    from .registries import RegistriesScreen
    from .registry_access import RegistryAccessScreen
    from .secret import SecretScreen
    from .tenant import TenantScreen

    return (
        ("Registries", (RegistriesScreen,)),
        ("Registry access", (RegistryAccessScreen,)),
        ("Principal", (PrincipalScreen,)),
        ("Expiring credentials", (ExpiringScreen,)),
        ("Tenant", (TenantScreen,)),
        ("Findings", (FindingsScreen,)),
        ("Audit log", (AuditScreen,)),
        ("Every list (the tables above)", (RowTable,)),
        ("The / filter", (FilterBar,)),
        ("The : command line", (CommandLineScreen,)),
        ("Forms", (OperationForm,)),
        ("Plan confirmation", (ConfirmPlanScreen,)),
        ("Plan run", (ExecutionScreen,)),
        ("New secret", (SecretScreen,)),
    )


def global_table(app: App[object], keymap: dict[str, str]) -> Table:
    table = class_bindings_table(app, (type(app),), keymap, generic=True)  # ctrl+q has no id
    # Not a BINDINGS entry: Textual binds the palette through App.COMMAND_PALETTE_BINDING.
    palette = Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "Palette",
                      tooltip="Any registry or principal by name, appId or object id; any view or operation.")
    table.add_row(Text(app.get_key_display(palette)), _describe(palette), Text(""))
    return table


class HelpScreen(DialogScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", tooltip="Close the help.", id="help.close"),
    ]

    def __init__(self, below: Screen[object]) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        keymap = dict(getattr(getattr(self.app, "settings", None), "keymap", None) or {})
        with VerticalScroll():
            yield Static(Text("Global keys (every screen)", style="bold"))
            yield Static(global_table(self.app, keymap), id="help-global")
            here = type(self.below)
            yield Static(Text("\nKeys on this screen", style="bold"))
            yield Static(bindings_table(self.below), id="help-here")
            notes = getattr(self.below, "HELP_NOTES", None)  # what a screen's marks mean, if it says
            if isinstance(notes, str) and notes:
                yield Static(Text("\n" + notes))
            for title, classes in screen_sections():
                if here in classes:
                    continue  # listed above, as it is now
                yield Static(Text(f"\n{title}", style="bold"))
                yield Static(class_bindings_table(self.app, classes, keymap), classes="help-section")
            yield Static(Text("\nCommand line (:)", style="bold"))
            yield Static(Text(COMMAND_HELP + "\nTab or → completes names and appIds; ↑/↓ recall earlier commands."))
            yield Static(Text("\nLegend", style="bold"))
            yield Static(legend_table(), id="help-legend")
            yield Static(Text(
                "\nEscape goes back (on a list with a kept filter it clears the filter first). Writes are on "
                "upper-case keys and always ask first; in read-only mode they are greyed out and say they are "
                "refused. Rebind keys in the [keymap] table of the config file by the ids above.", style="dim"))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
