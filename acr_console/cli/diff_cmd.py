"""`acr-console diff BEFORE.json AFTER.json`: what changed between two tenant access reports (issue 18).

Reads two `report --format json` files; no Azure. Exit 0 when nothing changed (one summary line),
1 when something did (as diff(1) does, for a scheduled job), 2 when a file is missing, not JSON, not
a report, or of another tenant or cloud. `report --diff BEFORE.json` calls :func:`print_diff` with
the report it has just made.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..access.report_diff import (
    ReportDiff,
    check_comparable,
    check_report,
    diff_reports,
    pair_key,
    path_label,
    principal_label,
    registry_label,
    summary_line,
)
from ..errors import EXIT_FAILED, EXIT_OK, UsageError, describe_os_error
from .output import print_json, print_warning, stdout_console

if TYPE_CHECKING:
    from rich.table import Table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="rights gained and lost between two `report --format json` files")
    p.add_argument("before", metavar="BEFORE.json", help="the earlier report")
    p.add_argument("after", metavar="AFTER.json", help="the later report")
    p.add_argument("--json", action="store_true",
                   help="print the difference as JSON (gained, lost, pathsAdded, pathsRemoved)")
    p.set_defaults(handler=run, needs_azure=False)


def load_report(path: str) -> dict[str, Any]:
    """A report file, parsed and checked; UsageError naming the file and what is wrong with it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a report: the file is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {describe_os_error(exc)}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = ("; several JSON documents (JSON Lines?): diff reads one `report --format json` document"
                if exc.msg == "Extra data" else "")
        raise UsageError(f"{path}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}){hint}") from None
    except RecursionError:  # nesting deeper than Python's parser goes: not a report either
        raise UsageError(f"{path}: not a report: nested too deeply") from None
    return check_report(doc, path)


def run(args: argparse.Namespace) -> int:
    return print_diff(load_report(args.before), load_report(args.after), as_json=args.json,
                      before_name=args.before, after_name=args.after)


def print_diff(before: dict[str, Any], after: dict[str, Any], *, as_json: bool, before_name: str = "the earlier report",
               after_name: str = "this report") -> int:
    """Print what changed from ``before`` to ``after`` (report documents), and return the exit code:
    0 nothing changed, 1 something did. UsageError when either is not a report or they are of
    different tenants or clouds (nothing printed then)."""
    check_report(before, before_name)
    check_report(after, after_name)
    for warning in check_comparable(before, after, before_name, after_name):
        print_warning(warning)
    diff = diff_reports(before, after)
    if as_json:
        print_json(diff.to_json())
    elif not diff.changed:
        stdout_console().print(summary_line(diff), markup=False, highlight=False, soft_wrap=True)
    else:
        console = stdout_console()
        for registry in diff.registries_added:
            console.print(f"+ registry {registry_label(registry)} is in the later report only", style="green",
                          markup=False)
        for registry in diff.registries_removed:
            console.print(f"- registry {registry_label(registry)} is in the earlier report only", style="red",
                          markup=False)
        if diff.changed_pairs():
            console.print(render_diff(diff))
        console.print(summary_line(diff), markup=False, highlight=False, soft_wrap=True)
    return EXIT_FAILED if diff.changed else EXIT_OK


def render_diff(diff: ReportDiff) -> Table:
    """One row per registry × identity that changed: rights gained (+) and lost (-), paths added and
    removed."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from ..presentation import shown, type_label

    rights: dict[Any, Text] = {}
    paths: dict[Any, Text] = {}

    def add(store: dict[Any, Text], item: dict[str, Any], line: str, style: str) -> None:
        cell = store.setdefault(pair_key(item), Text())
        if cell.plain:
            cell.append("\n")
        cell.append(line, style=style)

    for item in diff.gained:
        add(rights, item, " ".join(f"+{r}" for r in item["rights"]), "green")
    for item in diff.lost:
        add(rights, item, " ".join(f"-{r}" for r in item["rights"]), "red")
    for item in diff.paths_added:
        add(paths, item, f"+ {path_label(item['path'])}", "green")
    for item in diff.paths_removed:
        add(paths, item, f"- {path_label(item['path'])}", "red")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("Registry", no_wrap=True)
    table.add_column("Identity", overflow="fold", max_width=28)
    table.add_column("Type", no_wrap=True)
    table.add_column("Rights", no_wrap=True)
    table.add_column("Paths", overflow="fold")
    pairs = sorted(diff.changed_pairs(), key=lambda p: (registry_label(p[0]).lower(), principal_label(p[1]).lower()))
    for registry, principal in pairs:
        key = pair_key({"registry": registry, "principal": principal})
        table.add_row(shown(registry_label(registry)), shown(principal_label(principal)),
                      Text(type_label(str(principal.get("type") or ""))), rights.get(key, Text("")),
                      paths.get(key, Text("")))
    return table
