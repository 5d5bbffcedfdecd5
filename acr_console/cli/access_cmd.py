"""`acr-console access REGISTRY`: who can pull, push and delete, and through which paths."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from ..access import (
    TakeoverIndex,
    federated_credentials,
    filter_entries,
    holder_counts,
    read_federated,
    takeover_paths,
    to_json,
    to_json_with_shared_takeover,
)
from ..azure.authorization import RoleDefinitions
from ..azure.clients import AzureClients
from ..azure.registry_access import find_registry, read_registry_access
from ..azure.takeover_reads import read_takeover_facts
from ..errors import EXIT_OK
from ..models import (
    AccessEntry,
    CredentialTarget,
    DirectoryFacts,
    PathKind,
    PrincipalType,
    RegistryAccess,
    Right,
    TakeoverHow,
    TakeoverPath,
)
from ..operations.validation import check_reference
from ..presentation import (
    ANONYMOUS_STYLE,
    NOT_RETURNED_SHORT,
    admin_user_hint,
    anonymous_hint,
    describe_path,
    registry_heading,
    right_mark,
    shown,
    token_read_warning,
    token_status_text,
    type_label,
)
from .output import print_json, stdout_console

if TYPE_CHECKING:  # rich is imported where a table is drawn: `--json` never needs it (0.05 s)
    from rich.table import Table
    from rich.text import Text

__all__ = ["add_parser", "describe_path", "render_access", "run", "takeover_summary"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("access", help="who can pull, push and delete on a registry, and why")
    p.add_argument("registry", metavar="REGISTRY", help="registry name, login server or resource id")
    p.add_argument("--can", choices=["pull", "push", "delete"], help="only the principals with this right")
    p.add_argument("--json", action="store_true", help="print JSON (shape in the README)")
    p.add_argument("--include-takeover", action="store_true",
                   help="also who can add a credential to each service principal with a right (owners, Entra "
                        "roles, Graph permissions) and its federated credentials; reads Microsoft Graph")
    p.set_defaults(handler=run)


def _mark(entry: AccessEntry, right: Right) -> Text:
    return right_mark(entry, right)  # ◐ on some repositories only, ⊘ sign-in disabled


def _disabled(entry: AccessEntry) -> bool:
    """A directory principal whose sign-in is disabled (accountEnabled false); a registry token's own
    status is shown with the token."""
    return not entry.principal.enabled and entry.token is None


def takeover_summary(paths: tuple[TakeoverPath, ...], federated: int) -> str:
    """One line for the table: how many can take the principal over (and how many of them in two steps),
    and its federated credentials. Counted by who, not by path: one holder with two routes is one."""
    who, two = holder_counts(paths)
    parts = [f"{who} can take over" + (f" ({two} two-step)" if two else "")] if who else []
    if federated:
        parts.append(f"{federated} federated credential" + ("s" if federated > 1 else ""))
    return "\n".join(parts) or "none found"


def describe_takeover(path: TakeoverPath) -> str:
    """``Dana Whitfield (owner of its application)``, ``Priya Raman (Privileged Role Administrator, two
    steps)``, ``V (Application Administrator on its application, via p-app-admins)``."""
    if path.how is TakeoverHow.APPLICATION_OWNER:
        how = "owner of its application"
    elif path.how is TakeoverHow.SERVICE_PRINCIPAL_OWNER:
        how = "owner of its service principal"
    elif path.how is TakeoverHow.DIRECTORY_ROLE and path.scope not in (None, "/"):
        how = f"{path.detail} on its {'application' if path.target is CredentialTarget.APPLICATION else 'object'}"
    else:
        how = path.detail
    via = f", via {' › '.join(path.via_groups)}" if path.via_groups else ""
    return f"{path.by.display_name} ({how}{via}{', two steps' if path.steps == 2 else ''})"


def takeover_lines(entries: tuple[AccessEntry, ...], index: TakeoverIndex) -> list[str]:
    """Who, below the table: the tenant-wide holders once (they can take over every service principal
    listed), then each entry's own paths and federated credentials."""
    lines: list[str] = []
    kinds = sorted({e.principal.application_object_id is not None for e in entries
                    if e.principal.type is PrincipalType.SERVICE_PRINCIPAL and e.principal.object_id}, reverse=True)
    for has_app in kinds:
        common = index.common(has_app)[0]
        if common:
            whom = "every service principal above" if len(kinds) == 1 else (
                "every one above with its application in this tenant" if has_app else
                "every one above whose application is another tenant's")
            lines.append(f"Tenant-wide, these can take over {whom}: " + "; ".join(describe_takeover(p) for p in common))
    for entry in entries:
        # The tenant-wide paths are the same objects in every entry's list (TakeoverIndex.common).
        shared = {id(p) for p in index.common(entry.principal.application_object_id is not None)[0]}
        own = [p for p in takeover_paths(entry, index) if not p.itself and id(p) not in shared]
        ways_in = [read_federated(c).summary(c.subject) for c in federated_credentials(entry, index)]
        parts = ([f"can be taken over by {'; '.join(describe_takeover(p) for p in own)}"] if own else []) + (
            [f"Federated sign-in from {'; '.join(ways_in)}"] if ways_in else [])
        if parts:
            lines.append(f"{entry.principal.display_name}: " + ". ".join(parts))
    return lines


def render_access(access: RegistryAccess, entries: tuple[AccessEntry, ...], title: str,
                  takeover: list[str] | None = None) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
                  expand=False)
    table.add_column("Principal", overflow="fold", max_width=28)
    table.add_column("Type", no_wrap=True)
    table.add_column("Pull", no_wrap=True, justify="center")
    table.add_column("Push", no_wrap=True, justify="center")
    table.add_column("Del", no_wrap=True, justify="center")
    table.add_column("Why", overflow="fold")
    if takeover is not None:
        table.add_column("Takeover", overflow="fold", max_width=30)
    for at, entry in enumerate(entries):
        name = shown(entry.principal.display_name)
        if entry.orphaned:
            name.append(f" ({NOT_RETURNED_SHORT})", style="red")
        if _disabled(entry):
            name.append(" (sign-in disabled)", style="red")
        why = Text("\n").join(describe_path(p, access.registry.role_assignment_mode) for p in entry.paths)
        for path in entry.paths:
            if path.kind is PathKind.ADMIN_USER:  # issue 16: its own plan
                why.append("\n" + admin_user_hint(path), style="dim")
            if path.kind is PathKind.ANONYMOUS_PULL:  # issue 13: the row that must not be missed
                name.stylize(ANONYMOUS_STYLE)
                why.append("\n" + anonymous_hint(path), style="dim")
        status = token_status_text(entry)
        if status is not None:
            name.append(" (disabled)" if entry.token is not None and not entry.token.enabled else "", style="red")
            why = Text("\n").join((why, status))
        cells = [name, Text(type_label(entry.principal.type)),
                 _mark(entry, Right.PULL), _mark(entry, Right.PUSH), _mark(entry, Right.DELETE), why]
        if takeover is not None:
            cells.append(Text(takeover[at]))
        table.add_row(*cells)
    return table


async def run(args: argparse.Namespace, az: AzureClients) -> int:
    from rich.text import Text

    check_reference(args.registry, "registry")  # bad input is refused before anything is sent
    az.prefetch_graph()  # loads beside the registry lookup, which needs only ARM
    registry = await find_registry(az, args.registry)
    access = await read_registry_access(az, registry, RoleDefinitions(az))
    facts: DirectoryFacts | None = None
    if args.include_takeover:
        # Read for the entries shown only: `--can push` narrows the Graph reads too.
        shown_access = dataclasses.replace(access, entries=filter_entries(access, Right(args.can))) if args.can \
            else access
        access, facts = await read_takeover_facts(az, shown_access)
    entries = filter_entries(access, Right(args.can)) if args.can else access.entries
    if args.json:
        doc = to_json(access) if facts is None else to_json_with_shared_takeover(access, facts)
        if args.can:
            doc["entries"] = [e for e in doc["entries"] if e[args.can]]
        print_json(doc)
        return EXIT_OK
    what = f"who can {args.can}" if args.can else "who has access"
    console = stdout_console()
    console.print(registry_heading(access.registry))
    off = sum(1 for e in entries if _disabled(e))
    # A disabled principal is counted apart: it holds the role but cannot sign in.
    count = f"{len(entries) - off} principal(s)" + (f" ({off} with sign-in disabled)" if off else "")
    summaries: list[str] | None = None
    index = TakeoverIndex(facts if facts is not None else DirectoryFacts())
    if facts is not None:
        summaries = [takeover_summary(takeover_paths(e, index), len(federated_credentials(e, index))) for e in entries]
    console.print(render_access(access, entries, f"{what}: {count}", summaries))
    if facts is not None:
        for line in takeover_lines(entries, index):
            console.print(Text(line), soft_wrap=True)
    for entry in entries:  # issue 16: how to take such an assignment away, by id (how, not advice:
        # it may only be too new to have replicated, presentation.NOT_RETURNED)
        for path in entry.paths if entry.orphaned else ():
            if path.assignment_id:
                console.print(Text(f"{path.role} of a principal {NOT_RETURNED_SHORT}, by id: acr-console unassign "
                                   f"--assignment-id {path.assignment_id}", style="dim"), soft_wrap=True)
    warning = token_read_warning(access)
    if warning is not None:
        console.print(warning)
    return EXIT_OK
