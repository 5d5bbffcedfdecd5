"""`acr-console report`: every visible registry × every identity with a right, for the whole tenant
at once (issue 18), as one JSON document, JSON Lines or CSV, written as the registries are read.

The read is `azure.tenant_access.iter_tenant_access` (role assignments once per subscription, one
directory pass); each registry's entries are exactly those `access REGISTRY --json` gives, in its
order. An entry::

    {"registry": NAME, "principal": {"objectId", "appId", "displayName", "type", "enabled"},
     "orphaned": bool, "pull": bool, "push": bool, "delete": bool, "latent": [...],
     "paths": [{"kind", "role", "scopeLevel", "scope", "inherited", "viaGroups", "repositories",
                "confidence", "rights", "assignmentId"}],
     "token": {...}}                      # a registry token's entry only, as in `access --json`

`principal` and `token` are `access --json`'s blocks (access/report.py); a path keeps what says where
a right comes from (role or scope map, scope and its level, the group chain, the repositories a
condition allows) and leaves out `possible`, which `access` shows per path for one registry.

`--format json` (the default) is one document, written as it is read: `generatedAt`, `cloud`,
`tenant`, then `entries` a registry at a time, then `registries` (each with its entry count and, if
its tokens could not be read, why) and `unreadableSubscriptions`. A reader that stops early gets no
valid document, as with any JSON cut short; JSON Lines gives one entry a line for those that stream.
CSV: one row per registry × identity, the paths summarised in one cell.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ..access import TakeoverIndex, federated_credentials, holder_counts, takeover_paths
from ..access.report import entry_json
from ..azure.authorization import RoleDefinitions
from ..azure.clients import AzureClients
from ..azure.errors import AzureCallError
from ..azure.takeover_cache import TakeoverCache
from ..azure.takeover_reads import takeable_principals
from ..azure.tenant_access import iter_tenant_access
from ..errors import EXIT_OK, OutputError, UsageError, describe_os_error
from ..models import AccessPath, RegistryAccess
from .handover import silence_stdout
from .output import compact_json_encoder, json_text, make_console, print_warning

FORMATS = ("json", "jsonl", "csv")
CSV_COLUMNS = ("registry", "principalType", "displayName", "objectId", "appId", "enabled", "orphaned",
               "pull", "push", "delete", "latent", "paths")
TAKEOVER_COLUMNS = ("takeoverHolders", "takeoverTwoStep", "federatedCredentials")  # with --include-takeover


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="every registry × every identity with a right, for the whole tenant")
    p.add_argument("--format", choices=FORMATS, default="json",
                   help="json: one document (default); jsonl: one entry a line; csv: one row per registry × identity")
    p.add_argument("--diff", metavar="BEFORE.json",
                   help="compare the tenant as read now with this earlier report and print what changed, as "
                        "`acr-console diff` does (exit 0 nothing changed, 1 something did); the report itself is "
                        "not printed")
    p.add_argument("--json", action="store_true", help="with --diff: print the difference as JSON")
    p.add_argument("--include-takeover", action="store_true",
                   help="also count, for each service principal with a right, who can take it over (add a "
                        "credential to it) and its federated credentials, as `access --include-takeover` reads them")
    p.add_argument("--save", metavar="FILE",
                   help="write the report to FILE (whole or not at all: a temporary file beside it, renamed at the "
                        "end) instead of standard output; with --diff, the report to compare with next time")
    p.set_defaults(handler=run)


# -- the entries ---------------------------------------------------------------------------------


def report_entries(access: RegistryAccess) -> list[dict[str, Any]]:
    """The registry's entries in the report's shape (module docstring), in `access --json`'s order."""
    # Each path rendered once: a group's members share its paths' objects (and the analysis shares an
    # inherited assignment's paths between registries), so a registry's 300 entries hold few paths.
    # The dicts are shared between entries; the writers only read them.
    rendered: dict[int, dict[str, Any]] = {}

    def path_doc(path: AccessPath) -> dict[str, Any]:
        doc = rendered.get(id(path))
        if doc is None:
            # The StrEnum members themselves, not their `.value` (a descriptor call each, a fifth of
            # this function's time): they are str, so the JSON is the same, sorted the same.
            doc = rendered[id(path)] = {
                "kind": path.kind, "role": path.role, "scopeLevel": path.scope_level, "scope": path.scope,
                "inherited": path.inherited, "viaGroups": list(path.via_groups),
                "repositories": None if path.repositories is None else list(path.repositories),
                "confidence": path.confidence, "rights": sorted(path.rights),
                "assignmentId": path.assignment_id}
        return doc

    name = access.registry.name
    # entry_json's keys are the report's, in its order, after "registry" (the paths the report's own).
    return [entry_json(entry, path_doc, registry=name) for entry in access.entries]


def registry_json(access: RegistryAccess, entries: int) -> dict[str, Any]:
    reg = access.registry
    doc: dict[str, Any] = {
        "id": reg.id, "name": reg.name, "loginServer": reg.login_server, "subscriptionId": reg.subscription_id,
        "resourceGroup": reg.resource_group, "mode": reg.role_assignment_mode.short,
        "adminUserEnabled": reg.admin_user_enabled, "anonymousPullEnabled": reg.anonymous_pull_enabled,
        "entries": entries,
    }
    if access.token_read_error is not None:
        doc["tokenReadError"] = access.token_read_error
    return doc


def path_summary(path: dict[str, Any], token: dict[str, Any] | None = None) -> str:
    """One path in a few words, for a spreadsheet cell."""
    kind = path["kind"]
    if kind == "anonymous-pull":
        return "anonymous pull"
    if kind == "admin-user":
        return "admin user"
    if kind == "token":
        name = token["name"] if token else "?"
        text = f"token {name} (scope map {path['role']})"
    else:
        text = f"{path['role']} at {path['scopeLevel']}"
    if path["viaGroups"]:
        text += " via " + " > ".join(path["viaGroups"])
    if path["repositories"] is not None:
        text += " on " + ", ".join(path["repositories"])
    if path["confidence"] != "direct":
        text += f" ({path['confidence']})"
    return text


# A cell a spreadsheet would take for a formula: directory text (any user can name an application
# "=HYPERLINK(…)") is prefixed with an apostrophe, as OWASP's "CSV Injection" page advises, so it
# is shown, never evaluated.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def takeover_cells(entry: dict[str, Any]) -> list[str]:
    counts = entry.get("takeover")
    if counts is None:
        return ["", "", ""]
    return [str(counts["holders"]), str(counts["twoStep"]), str(counts["federated"])]


def csv_row(entry: dict[str, Any]) -> list[str]:
    p = entry["principal"]
    paths = "; ".join(path_summary(path, entry.get("token")) for path in entry["paths"])
    values = (entry["registry"], p["type"], p["displayName"], p["objectId"], p["appId"], p["enabled"],
              entry["orphaned"], entry["pull"], entry["push"], entry["delete"], " ".join(entry["latent"]), paths)
    return [_cell(v) for v in values]


# -- writers -------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, out: TextIO, head: dict[str, Any]) -> None:
        self.out = out
        self.head = head
        self.encode = compact_json_encoder()  # json_text(entry, pretty=False), one encoder for all

    def start(self) -> None:
        return None

    def registry(self, access: RegistryAccess, entries: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def finish(self, registries: list[dict[str, Any]], unreadable: list[dict[str, Any]]) -> None:
        return None


class _JsonWriter(_Writer):
    """One document, a line per entry: valid JSON once finished, whatever was between."""

    def __init__(self, out: TextIO, head: dict[str, Any]) -> None:
        super().__init__(out, head)
        self.first = True

    def start(self) -> None:
        opening = json_text(self.head, pretty=False)
        self.out.write(opening[:-1] + ',"entries":[')

    def registry(self, access: RegistryAccess, entries: list[dict[str, Any]]) -> None:
        if entries:  # one write a registry, each entry on a line of its own
            self.out.write(("\n" if self.first else ",\n") + ",\n".join(map(self.encode, entries)))
            self.first = False

    def finish(self, registries: list[dict[str, Any]], unreadable: list[dict[str, Any]]) -> None:
        rest = json_text({"registries": registries, "unreadableSubscriptions": unreadable}, pretty=False)
        self.out.write("\n]," + rest[1:] + "\n")


class _JsonLinesWriter(_Writer):
    def registry(self, access: RegistryAccess, entries: list[dict[str, Any]]) -> None:
        if entries:
            self.out.write("".join(self.encode(entry) + "\n" for entry in entries))


class _CsvWriter(_Writer):
    def __init__(self, out: TextIO, head: dict[str, Any]) -> None:
        super().__init__(out, head)
        # RFC 4180 line ends, as spreadsheets expect; the csv module quotes commas, quotes and newlines.
        self.writer = csv.writer(out, lineterminator="\r\n")

    def start(self) -> None:
        self.writer.writerow(CSV_COLUMNS + (TAKEOVER_COLUMNS if self.head.get("takeover") else ()))

    def registry(self, access: RegistryAccess, entries: list[dict[str, Any]]) -> None:
        with_takeover = bool(self.head.get("takeover"))
        self.writer.writerows(csv_row(e) + (takeover_cells(e) if with_takeover else []) for e in entries)


WRITERS: dict[str, type[_Writer]] = {"json": _JsonWriter, "jsonl": _JsonLinesWriter, "csv": _CsvWriter}


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on standard error when it is a terminal; nothing when it is piped or a file."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("reading registries"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=make_console(stderr=True), transient=True) as bar:
        task = bar.add_task("registries", total=None)

        def tell(done: int, known: int) -> None:
            bar.update(task, completed=done, total=known or None)

        yield tell


async def _tenant(az: AzureClients) -> str | None:
    if az.connection.tenant_id:
        return az.connection.tenant_id
    with contextlib.suppress(AzureCallError):
        return (await az.signed_in_identity()).tenant_id
    return None


def _check_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """The options' own mistakes, and the earlier report read and checked: all before any request."""
    from .diff_cmd import load_report

    if args.json and not args.diff:
        raise UsageError("--json goes with --diff (the report is JSON already: --format json)")
    if args.diff and args.format != "json":
        raise UsageError("--diff compares JSON reports: leave out --format, or use --format json")
    if args.save:
        folder = Path(args.save).parent
        if not folder.is_dir():
            raise UsageError(f"--save {args.save}: the folder {folder} does not exist")
        if Path(args.save).is_dir():
            raise UsageError(f"--save {args.save}: is a folder; name a file")
    return load_report(args.diff) if args.diff else None


async def run(args: argparse.Namespace, az: AzureClients) -> int:
    before = _check_options(args)
    if args.save or before is not None:
        return await _run_to_file(args, az, before)
    try:
        errors = await _write_report(sys.stdout, args.format, az, include_takeover=args.include_takeover)
    except BrokenPipeError:
        raise  # the reader went away (`| head`): the command line's SIGPIPE handling (cli/main.py)
    except (OSError, ValueError) as exc:  # ENOSPC; a ValueError when standard output was closed
        if isinstance(exc, ValueError) and not sys.stdout.closed:
            raise
        silence_stdout()
        raise OutputError(f"the report could not be written to standard output: {describe_os_error(exc)}") from None
    _warn_unreadable(errors)
    return EXIT_OK


async def _run_to_file(args: argparse.Namespace, az: AzureClients, before: dict[str, Any] | None) -> int:
    """The report into a file (--save FILE, or a temporary one to compare), then the comparison. The file
    is written beside its destination and renamed only when whole, so a run that is interrupted or
    fails leaves an earlier FILE as it was (os.replace is atomic on one filesystem: POSIX rename(2))."""
    from .diff_cmd import load_report, print_diff

    folder = Path(args.save).parent if args.save else None
    fd, tmp = tempfile.mkstemp(prefix=".acr-console-report-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="" if args.format == "csv" else None) as out:
            try:
                errors = await _write_report(out, args.format, az, include_takeover=args.include_takeover)
            except OSError as exc:
                raise OutputError(f"the report could not be written to {args.save or tmp}: "
                                  f"{describe_os_error(exc)}") from None
        after = load_report(tmp) if before is not None else None
        if args.save:
            os.replace(tmp, args.save)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _warn_unreadable(errors)
    if before is None or after is None:
        return EXIT_OK
    return print_diff(before, after, as_json=args.json, before_name=args.diff,
                      after_name=args.save or "the tenant as read now")


async def _write_report(out: TextIO, fmt: str, az: AzureClients, *,
                        include_takeover: bool = False) -> dict[str, AzureCallError]:
    """The whole report to `out`, a registry at a time as each is read; the subscriptions whose
    registries could not be listed (left out)."""
    head: dict[str, Any] = {"generatedAt": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                            "cloud": az.connection.cloud.name, "tenant": await _tenant(az)}
    if include_takeover:
        head["takeover"] = True
    # The tenant-wide takeover facts once, each service principal's owners once however many
    # registries it reaches (azure/takeover_cache.py).
    takeover = TakeoverCache(keep_owners=True) if include_takeover else None
    writer = WRITERS[fmt](out, head)
    errors: dict[str, AzureCallError] = {}
    registries: list[dict[str, Any]] = []
    with _progress() as tell:
        writer.start()
        async with contextlib.aclosing(iter_tenant_access(az, RoleDefinitions(az), progress=tell,
                                                          errors=errors)) as stream:
            async for access in stream:
                entries = report_entries(access)
                if takeover is not None:
                    await _add_takeover(az, takeover, access, entries)
                writer.registry(access, entries)
                out.flush()  # this registry is out before the next one is awaited
                registries.append(registry_json(access, len(entries)))
    registries.sort(key=lambda r: r["name"].lower())
    unreadable = [{"subscriptionId": sub, "error": f"{err.code}: {err.message}"}
                  for sub, err in sorted(errors.items())]
    writer.finish(registries, unreadable)
    out.flush()
    return errors


async def _add_takeover(az: AzureClients, cache: TakeoverCache, access: RegistryAccess,
                        entries: list[dict[str, Any]]) -> None:
    """Each entry's `takeover`: {"holders", "twoStep", "federated"} for a service principal with a right
    (how many can take it over, of them only in two steps, its federated credentials: the counts of
    `access --include-takeover`), null for anything else."""
    joined, facts = await cache.read(az, access)
    index = TakeoverIndex(facts)
    readable = set(map(id, takeable_principals(joined)))
    for entry, doc in zip(joined.entries, entries, strict=True):
        if id(entry.principal) not in readable:
            doc["takeover"] = None
            continue
        holders, two_step = holder_counts(takeover_paths(entry, index))
        doc["takeover"] = {"holders": holders, "twoStep": two_step,
                           "federated": len(federated_credentials(entry, index))}


def _warn_unreadable(errors: dict[str, AzureCallError]) -> None:
    for sub, err in sorted(errors.items()):
        print_warning(f"the registries of subscription {sub} could not be listed, so the report leaves them out "
                      f"({err.code}: {err.message})")
