"""`acr-console audit`: what the console changed, from the local audit log (no Azure needed)."""

from __future__ import annotations

import argparse

from rich import box
from rich.table import Table
from rich.text import Text

from ..errors import EXIT_OK
from ..operations.audit import AuditLog
from .output import print_json, print_warning, stdout_console


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:  # argparse then exits 2 naming the option
        raise argparse.ArgumentTypeError(f"{value} is negative; give how many records to show (0: all)")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="the audit log of every write the console made")
    p.add_argument("--json", action="store_true", help="print the records as a JSON list")
    p.add_argument("--limit", type=_limit, default=50, metavar="N", help="the last N records (default 50; 0: all)")
    p.set_defaults(handler=run, needs_azure=False)


def run(args: argparse.Namespace) -> int:
    log = AuditLog()
    records, unreadable = log.read_counted(args.limit or None)
    if unreadable:
        print_warning(f"{unreadable} line(s) of {log.path} could not be read (not UTF-8, not a JSON record, or "
                      "too long) and were skipped")
    if args.json:
        print_json(records)
        return EXIT_OK
    console = stdout_console()
    if not records:
        console.print(Text(f"No audit records yet ({log.path}).", style="dim"))
        return EXIT_OK
    table = Table(title=f"{len(records)} operation(s) · {log.path}", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True)
    table.add_column("Time (UTC)", no_wrap=True)
    table.add_column("Operation", no_wrap=True)
    table.add_column("Target", overflow="fold")
    table.add_column("Result", no_wrap=True)
    table.add_column("Steps", overflow="fold")
    table.add_column("By", overflow="ellipsis", no_wrap=True, max_width=14)
    for r in reversed(records):
        steps = r.get("steps") or []
        counts: dict[str, int] = {}
        for s in steps:
            counts[s.get("status", "?")] = counts.get(s.get("status", "?"), 0) + 1
        target = r.get("target") or {}
        who = r.get("identity") or {}
        result = str(r.get("result", "?"))
        table.add_row(
            Text(str(r.get("time", ""))[:16].replace("T", " ")), Text(str(r.get("operation", ""))),
            Text(str(target.get("principal") or target.get("displayName") or "")),
            Text(result, style="green" if result == "ok" else "bold red"),
            Text(", ".join(f"{n} {k}" for k, n in counts.items())),
            Text(str(who.get("name") or who.get("appId") or "")),
        )
    console.print(table)
    return EXIT_OK
