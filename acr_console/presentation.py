"""Formatting shared by both front ends: how a path, a principal type, a scope or an expiry reads.

Plain functions returning rich.text.Text (never markup strings): directory text such as display
names is untrusted, and Text shows it exactly as typed in a terminal table and in a Textual widget.
No Textual import here, so the CLI can use it without paying for Textual.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from .access.resource_ids import REGISTRY_TYPE, try_parse_resource_id
from .models import (
    AccessEntry,
    AccessPath,
    Confidence,
    Credential,
    CredentialOwner,
    Latent,
    PathKind,
    PrincipalType,
    Registry,
    RegistryAccess,
    Right,
    RoleAssignment,
    RoleAssignmentMode,
    ScopeLevel,
    Severity,
)

# Characters a terminal obeys instead of showing: C0 controls (ESC starts colour, cursor, title and
# OSC 52 clipboard sequences), DEL, C1 controls (0x9B is a one-byte CSI), and the bidirectional
# overrides and isolates that make a name display as something it is not. Directory text comes
# from anyone who may register an application, so each is shown as a visible stand-in, one
# character for one character (spans over the text stay valid): C0 as its Unicode control picture
# (ESC as "␛"), the others as "�". Rich and Textual strip only BEL, BS, VT, FF and CR.
_NEUTRALISE = {
    **{c: 0x2400 + c for c in range(0x20)},
    0x7F: 0x2421,
    **{c: 0xFFFD for c in range(0x80, 0xA0)},
    **{c: 0xFFFD for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}
# Inside text laid out in lines, a line break and a tab are layout, not an attack.
_NEUTRALISE_KEEP_LINES = {c: v for c, v in _NEUTRALISE.items() if c not in (0x0A, 0x09)}


def printable(text: str, *, keep_lines: bool = False) -> str:
    """`text` with every control character replaced by a visible stand-in (see above)."""
    return text.translate(_NEUTRALISE_KEEP_LINES if keep_lines else _NEUTRALISE)


def shown(text: str | None, style: str = "") -> Text:
    """Untrusted text (a display name, a message quoting one) as a Text that shows it literally:
    no markup is read and no control character reaches the terminal."""
    return Text(printable(text or ""), style=style)


def printable_text(text: Text, *, keep_lines: bool = True) -> Text:
    """A copy of a styled Text with its characters neutralised; styles and spans are kept."""
    safe = printable(text.plain, keep_lines=keep_lines)
    if safe == text.plain:
        return text
    copy = text.copy()
    copy.plain = safe
    return copy


# How near an expiry must be to be called out; the radar and the colouring use the same number.
EXPIRY_WARNING_DAYS = 30

TYPE_LABEL: dict[str, str] = {
    PrincipalType.SERVICE_PRINCIPAL.value: "SP",
    PrincipalType.MANAGED_IDENTITY.value: "MI",
    PrincipalType.USER.value: "user",
    PrincipalType.ADMIN_USER.value: "admin",
    # Not returned by the directory: deleted, not replicated yet, or a type the view does not read.
    PrincipalType.UNKNOWN.value: "unknown",
    PrincipalType.GROUP.value: "group",
    PrincipalType.ANONYMOUS.value: "anyone",  # issue 13: anonymous pull
    PrincipalType.REGISTRY_TOKEN.value: "token",
}

# A role assignment whose principal `directoryObjects/getByIds` did not return. Only that much is
# known: Graph leaves out deleted objects, objects its replica does not have yet (moments after they
# were created), and types the request did not ask for (the console asks for service principals,
# users and groups). So the console says what is known and never tells anyone to delete it.
NOT_RETURNED_SHORT = "not returned by the directory"
NOT_RETURNED = (f"{NOT_RETURNED_SHORT}: role assignments name this object id, but Microsoft Entra ID did not "
                "return it. It may have been deleted, be too new to have replicated, or be of a type this view "
                "does not read (it reads service principals, users and groups). Look the object id up in "
                "Entra ID to learn which.")

LEVEL_LABEL: dict[ScopeLevel, str] = {
    ScopeLevel.REGISTRY: "registry",
    ScopeLevel.RESOURCE_GROUP: "resource group",
    ScopeLevel.SUBSCRIPTION: "subscription",
    ScopeLevel.MANAGEMENT_GROUP: "management group",
    ScopeLevel.ROOT: "root",
}

# Short forms for narrow table columns.
LEVEL_SHORT: dict[ScopeLevel, str] = {
    ScopeLevel.REGISTRY: "registry",
    ScopeLevel.RESOURCE_GROUP: "rg",
    ScopeLevel.SUBSCRIPTION: "sub",
    ScopeLevel.MANAGEMENT_GROUP: "mg",
    ScopeLevel.ROOT: "root",
}

LATENT_LABEL: dict[Latent, str] = {
    Latent.GRANT_ROLES: "can grant itself push (role assignments)",
    Latent.READ_ADMIN_PASSWORD: "can read the admin user's password",
    Latent.ENABLE_ADMIN_USER: "can enable the admin user",
    Latent.MINT_TOKENS: "can create registry tokens",
    Latent.IMPORT_IMAGE: "can import images",
    Latent.RUN_TASKS: "can push through registry tasks",
}


# Issue 18: a finding's severity, wherever it is shown (`findings` and the console's findings view).
SEVERITY_STYLE: dict[Severity, str] = {Severity.HIGH: "bold red", Severity.MEDIUM: "yellow", Severity.LOW: "blue"}


# Issue 13: anonymous pull, the widest grant there is, stands out wherever it is shown.
ANONYMOUS_STYLE = "bold reverse red"
ANONYMOUS_PATH_TEXT = "anonymous pull enabled on the registry: anyone who can reach it pulls every repository"


def type_label(ptype: PrincipalType | str) -> str:
    value = ptype.value if isinstance(ptype, PrincipalType) else ptype
    return TYPE_LABEL.get(value, value)


# Why a registry's mode can be unknown, said where the mode is shown: its answer did not state it.
MODE_UNKNOWN_LABEL = "UNKNOWN (not stated by Azure; what differs between the modes is only possible)"
MODE_UNKNOWN_SHORT = "UNKNOWN"


def mode_label(mode: RoleAssignmentMode, *, short: bool = False) -> str:
    if mode is RoleAssignmentMode.UNKNOWN:
        return MODE_UNKNOWN_SHORT if short else MODE_UNKNOWN_LABEL
    if short:
        return mode.short.upper()
    return "ABAC (repository permissions)" if mode is RoleAssignmentMode.ABAC else "RBAC (legacy)"


def mode_style(mode: RoleAssignmentMode) -> str:
    """How a mode stands out in a list: ABAC in magenta, unknown in yellow (a warning), legacy plain."""
    return {RoleAssignmentMode.ABAC: "bold magenta", RoleAssignmentMode.UNKNOWN: "bold yellow"}.get(mode, "")


def registry_heading(registry: Registry) -> Text:
    """Name, login server, mode and the admin user, the facts that change what "can push" means."""
    text = Text(registry.name, style="bold")
    text.append(f" ({registry.login_server}) · mode ")
    mode = registry.role_assignment_mode
    text.append(mode_label(mode), style=mode_style(mode) if mode is RoleAssignmentMode.UNKNOWN else "")
    text.append(" · admin user ")
    if registry.admin_user_enabled:
        text.append("ON", style="bold yellow")
    else:
        text.append("off")
    if registry.anonymous_pull_enabled:  # issue 13: said only when on, the exception
        text.append(" · ")
        text.append("anonymous pull ON: anyone can pull", style=ANONYMOUS_STYLE)
    return text


def admin_user_hint(path: AccessPath, *, by_hand: bool = False) -> str:
    """How to disable the admin user, for the registry its path is on (its scope is the registry id)."""
    name = printable((path.scope or "R").rstrip("/").rsplit("/", 1)[-1])
    text = f"disable it: acr-console disable-admin-user --registry {name}"
    if by_hand:
        text += f" (by hand: az acr update --name {name} --admin-enabled false)"
    return text


def anonymous_hint(path: AccessPath, *, by_hand: bool = False) -> str:
    """How to turn anonymous pull off, for the registry a path is on (its scope is the registry id)."""
    name = printable((path.scope or "R").rstrip("/").rsplit("/", 1)[-1])
    text = f"turn it off: acr-console disable-anonymous-pull --registry {name}"
    if by_hand:
        text += f" (by hand: az acr update --name {name} --anonymous-pull-enabled false)"
    return text


def scope_text(path: AccessPath) -> Text:
    """Where an assignment sits, short, with inheritance marked: "rg ↑" = inherited from the RG."""
    if path.kind is PathKind.ADMIN_USER:
        return Text("registry")
    level = LEVEL_SHORT.get(path.scope_level, "scope") if path.scope_level else "scope"
    text = Text(level)
    if path.inherited:
        text.append(" ↑", style="dim")
    return text


def describe_path(path: AccessPath, mode: RoleAssignmentMode | None = None) -> Text:
    """One line a person reads: role, where it is assigned, the group chain, the repositories.

    `mode`, the registry's, names why a path is only possible: on a registry whose mode is unknown,
    because the modes disagree about it (or a custom role's wildcard), otherwise the wildcard."""
    if path.kind is PathKind.ADMIN_USER:
        text = Text("admin user enabled on the registry", style="yellow")
        return text.append_text(path_rights(path))  # pull, push, delete (issue 16)
    if path.kind is PathKind.ANONYMOUS_PULL:
        return Text(ANONYMOUS_PATH_TEXT, style="bold red")
    if path.kind is PathKind.TOKEN:
        return describe_token_path(path)
    text = Text(printable(path.role or "?"), style="bold")
    level = LEVEL_LABEL.get(path.scope_level, "scope") if path.scope_level else "scope"
    text.append(f" @ {level}")
    if path.inherited:
        text.append(" (inherited)", style="dim")
    if path.via_groups:
        text.append(" via ")
        text.append(printable(" › ".join(path.via_groups)))
    why = "mode unknown" if mode is RoleAssignmentMode.UNKNOWN else "wildcard"
    text.append_text(path_rights(path, why))
    if path.confidence is Confidence.POSSIBLE:
        text.append(f" (possible: {why})", style="magenta")
    if path.latent and not path.rights:
        text.append(" latent: " + ", ".join(sorted(x.value for x in path.latent)), style="red")
    return text


# Issue 16: the rights a path grants, named; the data rights first, as the table's columns.
_RIGHT_ORDER = {Right.PULL: 0, Right.PUSH: 1, Right.DELETE: 2}


def path_rights(path: AccessPath, why_possible: str = "wildcard") -> Text:
    """": pull, push on team/*" — what one path grants and where (issue 16). Rights it grants only
    possibly beside sure ones (AccessPath.possible) are named apart."""
    text = Text()
    sure = [r for r in path.rights if r not in path.possible]
    if not path.rights and not path.possible:
        return text
    ordered = sorted(sure, key=lambda r: (_RIGHT_ORDER.get(r, 9), r.value))
    if ordered:
        text.append(": " + ", ".join(r.value for r in ordered), style="green")
    if path.rights and path.repositories is not None:
        text.append(" on " + printable(", ".join(path.repositories) or "(condition not understood)"), style="cyan")
    maybe = sorted(path.possible, key=lambda r: (_RIGHT_ORDER.get(r, 9) if isinstance(r, Right) else 10, r.value))
    if maybe:
        text.append(f" (possibly {', '.join(r.value for r in maybe)}: {why_possible})", style="magenta")
    return text


# A right held by a principal whose sign-in is disabled (accountEnabled false): the console and `access`.
DISABLED_MARK = "⊘"


def right_mark(entry: AccessEntry, right: Right) -> Text:
    """The mark of one right in an access table: ✓ on every repository, ◐ on some only (the paths say
    which: "push on team/*"), ⊘ held but the principal's sign-in is disabled, · not at all (issue 16:
    a repository-limited push read as full push, a disabled pusher as an able one)."""
    if not entry.can(right):
        return Text("·", style="dim")
    if not entry.principal.enabled:  # granted, but its sign-in is disabled: it can do nothing now
        return Text(DISABLED_MARK, style="red")
    from .access import reach  # the analysis is loaded only where access is shown

    return Text("✓", style="bold green") if reach(entry, right) is None else Text("◐", style="bold cyan")


def can_text(entry: AccessEntry) -> str:
    """"pull, push on team/*" — which of pull, push and delete an entry holds, and where when on some
    repositories only (issue 16); "nothing directly" when none."""
    from .access import reach

    parts = []
    for right in (Right.PULL, Right.PUSH, Right.DELETE):
        if entry.can(right):
            where = reach(entry, right)
            parts.append(right.value if where is None else
                         f"{right.value} on {', '.join(where) or '(condition not understood)'}")
    return printable(", ".join(parts)) if parts else "nothing directly"


def entry_roles(entry: AccessEntry) -> str:
    names = [p.role or "?" for p in entry.paths if p.kind in (PathKind.ROLE_ASSIGNMENT, PathKind.TOKEN)]
    if any(p.kind is PathKind.ADMIN_USER for p in entry.paths):
        names.insert(0, "admin user")
    if any(p.kind is PathKind.ANONYMOUS_PULL for p in entry.paths):
        names.insert(0, "anonymous pull")
    return printable(", ".join(dict.fromkeys(names)))


def entry_scope(entry: AccessEntry) -> Text:
    """The narrowest scope among an entry's paths, then "+N" when others exist."""
    parts = [scope_text(p) for p in entry.paths]
    if not parts:
        return Text("")
    text = parts[0].copy()
    distinct = {str(p) for p in parts}
    if len(distinct) > 1:
        text.append(f" +{len(distinct) - 1}", style="dim")
    return text


def entry_via(entry: AccessEntry) -> str:
    groups = [p.via_groups[0] for p in entry.paths if p.via_groups]
    return printable(", ".join(dict.fromkeys(groups)))


def days_left(credential: Credential, now: datetime) -> float | None:
    if credential.end is None:
        return None
    return (credential.end - now).total_seconds() / 86400


def expiry_text(credential: Credential, now: datetime, warn_days: int = EXPIRY_WARNING_DAYS) -> Text:
    """The end date, red when expired, yellow within `warn_days`; the colour is backed by words for
    terminals without colour."""
    if credential.end is None:
        return Text("never", style="dim")
    days = days_left(credential, now)
    label = credential.end.strftime("%Y-%m-%d")
    if days is not None and days <= 0:
        return Text(f"{label} (expired)", style="bold red")
    if days is not None and days <= warn_days:
        return Text(f"{label} ({int(days)} d)", style="bold yellow")
    return Text(label)


def short_id(value: str | None, keep: int = 8) -> str:
    """The first characters of a GUID: enough to tell principals apart in a narrow column."""
    if not value:
        return ""
    return value if len(value) <= keep else value[:keep] + "…"


def scope_label(scope: str, registries: list[Registry] | None = None, subscription_name: str | None = None) -> Text:
    """An assignment's scope in a person's words: a registry's name, or the group or subscription it
    spans (with the registries inside it, when the list is known)."""
    low = scope.rstrip("/").lower()
    parsed = try_parse_resource_id(scope)
    for reg in registries or ():
        if reg.id.lower() == low:
            return Text(reg.name, style="bold")
    if parsed is not None and parsed.is_type(REGISTRY_TYPE) and len(parsed.blocks) == 1:
        return Text(parsed.name or scope, style="bold")
    inside = [r.name for r in registries or () if r.id.lower().startswith(low + "/")]
    if parsed is None or parsed.blocks or parsed.subscription is None:
        text = Text(printable(scope))
    elif parsed.resource_group is not None:
        text = Text(f"rg {parsed.resource_group}")
    else:
        text = Text(printable(f"sub {subscription_name or parsed.subscription}"))
    if inside:
        text.append(f" ↓ {len(inside)} registr{'y' if len(inside) == 1 else 'ies'}: " + ", ".join(inside), style="dim")
    return text


# -- registry tokens (issue 13 item 4) ------------------------------------------------------------

CREDENTIAL_OWNER_SHORT: dict[str, str] = {
    CredentialOwner.APPLICATION.value: "app",
    CredentialOwner.SERVICE_PRINCIPAL.value: "SP",
    CredentialOwner.REGISTRY_TOKEN.value: "token",
}


def owner_short(credential: Credential) -> str:
    """Where a credential lives, for a narrow column: app, SP, or token (a registry token's password)."""
    return CREDENTIAL_OWNER_SHORT.get(credential.owner.value, credential.owner.value)


def describe_token_path(path: AccessPath) -> Text:
    """A token's path: its scope map, what it grants and where ("grants nothing" when disabled or
    when its scope map is gone)."""
    text = Text("token", style="bold")
    text.append(" scope map ")
    text.append(printable(path.role or "?"), style="bold")
    if not path.rights:
        text.append(": grants nothing", style="red")
        return text
    text.append(": " + ", ".join(sorted(r.value for r in path.rights)))
    if path.repositories is None:
        text.append(" on every repository", style="cyan")
    else:
        text.append(" repos: " + printable(", ".join(path.repositories)), style="cyan")
    return text


def token_status_text(entry: AccessEntry) -> Text | None:
    """What a person must know about a token entry beyond its paths: disabled, or no usable password."""
    token = entry.token
    if token is None:
        return None
    if not token.enabled:
        return Text("token DISABLED: it grants nothing until enabled again", style="bold red")
    if not token.passwords:
        return Text("no password: nobody can sign in with it until one is generated", style="yellow")
    return None


def token_read_warning(access: RegistryAccess) -> Text | None:
    """Said when the registry's tokens could not be read, so a missing token is not taken for none."""
    if access.token_read_error is None:
        return None
    return Text("registry tokens not read (" + printable(access.token_read_error) + "): a token that can push "
                "would not be listed", style="yellow")


def role_cell(role_name: str, assignment: RoleAssignment) -> Text:
    """A role as the principal view lists it, with what its ABAC condition limits (issue 16):
    "Container Registry Repository Writer · pull, push only on team/*"."""
    from .access import condition_limits

    text = shown(role_name, style="bold")
    limits = condition_limits(assignment.condition, assignment.condition_version or "2.0")
    if limits is not None:
        text.append(" · " + printable(limits), style="cyan")
    return text

