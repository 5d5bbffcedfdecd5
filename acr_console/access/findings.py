"""Findings (issue 18): the rules an auditor applies to a tenant's registries and who can reach them.

Pure: a :class:`~acr_console.models.FindingsSnapshot` in (every registry's access, the credentials of
the principals with a right, the time, the ``[findings]`` settings, and optionally the takeover paths),
a :class:`~acr_console.models.FindingsResult` out. The Azure layer gathers the snapshot
(``azure/findings_scan.py``); the front ends show the result and run a finding's fix through the
operation it names.

Each rule has an id (:class:`~acr_console.models.FindingRule`), a severity, evidence in words, the
source it follows (``RULES[rule].source``, shown in ``findings --json`` and the README's table) and,
where the console has the operation, the fix: the exact ``acr-console`` command and the operation's
request fields, so ``findings --fix`` runs the same plan behind the same confirmation.

Scanners such as Prowler and Microsoft Defender for Cloud flag the registry settings (admin user,
anonymous pull); the rules on credentials, orphaned and disabled principals, scope and breadth join
those settings with who can push and why, which none of them does.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from ..models import (
    AccessEntry,
    AccessPath,
    Credential,
    CredentialKind,
    CredentialOwner,
    Finding,
    FindingFix,
    FindingIgnore,
    FindingRule,
    FindingsResult,
    FindingsSnapshot,
    Latent,
    PathKind,
    Principal,
    PrincipalType,
    Right,
    ScopeLevel,
    Severity,
)

__all__ = ["RULES", "RuleInfo", "evaluate", "finding_json"]


@dataclass(frozen=True)
class RuleInfo:
    severity: Severity
    title: str
    source: str


# The sources are public pages and check ids; each rule's function below says what it reads.
RULES: Mapping[FindingRule, RuleInfo] = {
    FindingRule.ADMIN_USER_ENABLED: RuleInfo(
        Severity.HIGH, "The registry's admin user is enabled",
        "Prowler containerregistry_admin_user_disabled; Azure Policy 'Container registries should have local "
        "admin account disabled' (azure-policy ACR_AdminAccountDisabled_AuditDeny.json); Microsoft Learn, "
        "container-registry-authentication 'Admin account'"),
    FindingRule.ANONYMOUS_PULL_ENABLED: RuleInfo(
        Severity.MEDIUM, "Anyone can pull from the registry without signing in",
        "Azure Policy 'Container registries should have anonymous authentication disabled' (azure-policy "
        "ACR_AnonymousPullDisabled_AuditDeny.json); Microsoft Learn, anonymous-pull-access"),
    FindingRule.SECRET_LONG_LIFETIME: RuleInfo(
        Severity.MEDIUM, "A secret lives longer than allowed, or never ends",
        "Prowler entra_app_registration_credential_not_expired (flags credentials with no end); Microsoft "
        "Graph appManagementPolicy passwordCredentials restriction 'passwordLifetime'"),
    FindingRule.SECRET_ON_SERVICE_PRINCIPAL: RuleInfo(
        Severity.MEDIUM, "A secret on the service principal object, invisible under App registrations",
        "Microsoft Graph servicePrincipal: addPassword (a password on the service principal); the portal's "
        "App registrations > Certificates & secrets lists the application's only (Azure/azure-cli#23843)"),
    FindingRule.EXPIRED_CREDENTIAL_WITH_ACCESS: RuleInfo(
        Severity.LOW, "An expired credential on a principal that still holds rights",
        "Prowler entra_app_registration_credential_not_expired; Microsoft Entra recommendation 'Remove "
        "unused credentials from applications'"),
    FindingRule.DISABLED_PRINCIPAL_ASSIGNED: RuleInfo(
        Severity.MEDIUM, "A principal blocked from signing in still holds a role assignment",
        "CIS Microsoft Azure Foundations Benchmark v5.0.0 5.3.5 'Ensure disabled user accounts do not have "
        "read, write, or owner permissions'; Defender for Cloud 'Blocked accounts with read and write "
        "permissions on Azure resources should be removed' (azure-policy "
        "ASC_RemoveBlockedAccountsWithReadWritePermissions_Audit.json)"),
    FindingRule.ORPHANED_ASSIGNMENT: RuleInfo(
        Severity.MEDIUM, "A role assignment whose principal the directory no longer returns",
        "Microsoft Learn, 'Troubleshoot Azure RBAC': role assignments with identity not found (remove them; "
        "a new principal never inherits them, but they hide in every review)"),
    FindingRule.PUSH_AT_BROAD_SCOPE: RuleInfo(
        Severity.HIGH, "Push granted at a subscription or management group",
        "Microsoft Learn, 'Best practices for Azure RBAC': grant only the access needed, at the narrowest "
        "scope; container-registry-roles: assign at the registry"),
    FindingRule.PUSH_ON_MANY_REGISTRIES: RuleInfo(
        Severity.LOW, "One principal can push to many registries",
        "Microsoft Learn, 'Best practices for Azure RBAC': only grant the access users need (least privilege); "
        "threshold max_push_registries"),
    FindingRule.PRIVILEGED_ROLE_ABOVE_REGISTRY: RuleInfo(
        Severity.MEDIUM, "Owner, Contributor or User Access Administrator above registries (latent push)",
        "Prowler iam_role_user_access_admin_restricted; Microsoft Learn, 'Best practices for Azure RBAC': "
        "limit privileged administrator role assignments; container-registry-roles (Owner and Contributor "
        "manage the registry: admin user, tokens, role assignments)"),
    FindingRule.TOKEN_WITHOUT_EXPIRY: RuleInfo(
        Severity.MEDIUM, "An enabled registry token's password never expires",
        "Azure Policy 'Container registries should have repository scoped access token disabled' (azure-policy "
        "ACR_TokenDisabled_AuditDeny.json); Microsoft Learn, container-registry-token-based-repository-"
        "permissions (passwords with --expiration-in-days)"),
    FindingRule.TAKEOVER_BY_UNPRIVILEGED: RuleInfo(
        Severity.MEDIUM, "Someone without a right of their own can take over a principal that has one",
        "Microsoft Learn, 'Securing service principals' (owners and application administrators can add "
        "credentials); BloodHound AzureHound edges AZAddSecret, AZOwns, AZAppAdmin"),
}

_PRIVILEGED_ROLES = ("Owner", "Contributor", "User Access Administrator")
_BROAD = (ScopeLevel.SUBSCRIPTION, ScopeLevel.MANAGEMENT_GROUP, ScopeLevel.ROOT)
_SIGNS_IN = (PrincipalType.SERVICE_PRINCIPAL, PrincipalType.MANAGED_IDENTITY, PrincipalType.USER)


def evaluate(snapshot: FindingsSnapshot) -> FindingsResult:
    """Every rule not disabled in the settings, over ``snapshot``; ignores in force hide their findings,
    expired ones are noted on the finding they no longer hide. Most severe first, then by rule and target."""
    settings = snapshot.settings
    skipped: list[tuple[FindingRule, str]] = []
    found: list[Finding] = []
    for rule, check in _CHECKS.items():
        if rule.value in settings.disabled_rules:
            skipped.append((rule, "disabled in the configuration ([findings] disabled_rules)"))
        elif rule is FindingRule.TAKEOVER_BY_UNPRIVILEGED and snapshot.takeover is None:
            skipped.append((rule, "takeover paths were not read (findings --include-takeover reads them)"))
        else:
            found.extend(check(snapshot))
    shown: list[Finding] = []
    ignored: list[tuple[Finding, FindingIgnore]] = []
    for finding in found:
        matching = [i for i in settings.ignore if i.rule == finding.rule.value and finding.matches(i.target)]
        active = [i for i in matching if not i.expired(snapshot.now)]
        if active:
            ignored.append((finding, active[0]))
        else:
            shown.append(replace(finding, expired_ignore=matching[0]) if matching else finding)
    shown.sort(key=lambda f: (f.severity.rank, f.rule.value, f.target_id.lower()))
    return FindingsResult(tuple(shown), tuple(ignored), tuple(skipped))


def finding_json(finding: Finding) -> dict[str, object]:
    """The ``findings --json`` shape: ``{"rule", "severity", "target", "evidence", "fix": {"operation",
    "command"} | null, "source"}``, plus ``"ignoreExpired"`` when an expired ignore matched it."""
    doc: dict[str, object] = {
        "rule": finding.rule.value, "severity": finding.severity.value, "target": dict(finding.target),
        "evidence": finding.evidence,
        "fix": {"operation": finding.fix.operation, "command": finding.fix.command} if finding.fix else None,
        "source": finding.source,
    }
    if finding.expired_ignore is not None:
        ig = finding.expired_ignore
        doc["ignoreExpired"] = {"reason": ig.reason, "expires": ig.expires.isoformat() if ig.expires else None}
    return doc


# -- helpers ---------------------------------------------------------------------------------------


def _finding(rule: FindingRule, target: dict[str, str | None], evidence: str, fix: FindingFix | None = None) -> Finding:
    info = RULES[rule]
    clean = {k: v for k, v in target.items() if v}
    return Finding(rule, info.severity, clean, evidence, info.source, fix)


def _fix(operation: str, positional: tuple[tuple[str, str], ...] = (), **options: str) -> FindingFix:
    """The operation's command line (positional arguments, then ``--flag value``) and its request fields
    (each positional's field name and value, then each option's)."""
    flags = [f"--{name.replace('_', '-')} {shlex.quote(value)}" for name, value in options.items()]
    command = " ".join(["acr-console", operation, *(shlex.quote(v) for _f, v in positional), *flags])
    return FindingFix(operation, command, (*positional, *options.items()))


def _remove_credential(p: Principal, c: Credential) -> FindingFix:
    return _fix("remove-credential", (("principal", _ref(p)), ("key_id", c.key_id)))


def _principal_target(p: Principal) -> dict[str, str | None]:
    return {"id": p.app_id or p.object_id or p.display_name, "principal": p.display_name, "appId": p.app_id,
            "objectId": p.object_id, "type": p.type.value}


def _ref(p: Principal) -> str:
    """How a write names the principal: its appId, else its object id."""
    return p.app_id or p.object_id or p.display_name


def _rights_text(rights: Iterable[Right]) -> str:
    held = set(rights)
    wanted = [r.value for r in (Right.PULL, Right.PUSH, Right.DELETE) if r in held]
    return "/".join(wanted or sorted(r.value for r in held)) or "no right"


def _entries(snapshot: FindingsSnapshot) -> Iterator[tuple[str, AccessEntry]]:
    for access in snapshot.accesses:
        for entry in access.entries:
            yield access.registry.name, entry


def _directory_entries(snapshot: FindingsSnapshot) -> Iterator[tuple[str, AccessEntry]]:
    """Entries of directory objects (not the admin user, anonymous pull or a token) with a right."""
    for name, entry in _entries(snapshot):
        if (entry.principal.type in _SIGNS_IN or entry.orphaned) and entry.rights:
            yield name, entry


def _assignments(snapshot: FindingsSnapshot, want: Iterable[tuple[str, AccessEntry]]
                 ) -> dict[str, tuple[AccessEntry, AccessPath, list[str]]]:
    """Each direct role assignment (not through a group) of the given entries, once, with the registries
    it reaches: one assignment at a resource group reaches every registry in it."""
    out: dict[str, tuple[AccessEntry, AccessPath, list[str]]] = {}
    for name, entry in want:
        for path in entry.paths:
            if path.kind is not PathKind.ROLE_ASSIGNMENT or path.via_groups or not path.assignment_id:
                continue
            key = path.assignment_id.lower()
            if key not in out:
                out[key] = (entry, path, [])
            if name not in out[key][2]:
                out[key][2].append(name)
    return out


def _unassign(assignment_id: str) -> FindingFix:
    return _fix("unassign", assignment_id=assignment_id)


def _days(delta: timedelta) -> int:
    return int(delta.total_seconds() // 86400)


def _credential_label(c: Credential) -> str:
    kind = "secret" if c.kind is CredentialKind.PASSWORD else "certificate"
    name = f" '{c.display_name}'" if c.display_name else ""
    return f"{kind}{name} (key id {c.key_id})"


def _reach(snapshot: FindingsSnapshot) -> dict[str, tuple[Principal, dict[str, set[Right]]]]:
    """Each principal with a right, by object id (lower): itself and its rights per registry."""
    out: dict[str, tuple[Principal, dict[str, set[Right]]]] = {}
    for name, entry in _directory_entries(snapshot):
        oid = (entry.principal.object_id or "").lower()
        if oid:
            out.setdefault(oid, (entry.principal, {}))[1].setdefault(name, set()).update(entry.rights)
    return out


# -- the rules -------------------------------------------------------------------------------------


def admin_user_enabled(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Registry.admin_user_enabled: one shared name and password with push and pull on everything."""
    for access in snapshot.accesses:
        reg = access.registry
        if reg.admin_user_enabled:
            yield _finding(FindingRule.ADMIN_USER_ENABLED, {"id": reg.name, "registry": reg.name},
                           f"adminUserEnabled is true on {reg.name}: anyone with its admin password can pull and "
                           "push every repository, and the registry logs them all as one user",
                           _fix("disable-admin-user", registry=reg.name))


def anonymous_pull_enabled(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Registry.anonymous_pull_enabled: every repository readable without credentials."""
    for access in snapshot.accesses:
        reg = access.registry
        if reg.anonymous_pull_enabled:
            yield _finding(FindingRule.ANONYMOUS_PULL_ENABLED, {"id": reg.name, "registry": reg.name},
                           f"anonymousPullEnabled is true on {reg.name}: anyone who can reach "
                           f"{reg.login_server} can pull every repository without signing in",
                           _fix("disable-anonymous-pull", registry=reg.name))


def _credentialed(snapshot: FindingsSnapshot) -> Iterator[tuple[Principal, Credential, dict[str, set[Right]]]]:
    for oid, (principal, registries) in sorted(_reach(snapshot).items()):
        for credential in snapshot.credentials.get(oid, ()):
            yield principal, credential, registries


def _where(registries: dict[str, set[Right]]) -> str:
    names = sorted(registries)
    shown = ", ".join(f"{_rights_text(registries[n])} on {n}" for n in names[:3])  # e.g. "pull/push on contosoprod"
    return shown + (f" and {len(names) - 3} more registries" if len(names) > 3 else "")


def _credential_target(p: Principal, c: Credential) -> dict[str, str | None]:
    return {**_principal_target(p), "id": c.key_id, "keyId": c.key_id, "on": c.owner.value}


def secret_long_lifetime(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Passwords (not certificates) of principals with a right whose end is more than
    ``max_secret_lifetime_days`` after their start, or that have no end."""
    limit = snapshot.settings.max_secret_lifetime_days
    for principal, c, registries in _credentialed(snapshot):
        if c.kind is not CredentialKind.PASSWORD or c.expired(snapshot.now):
            continue
        if c.end is None:
            why = "never expires"
        elif c.start is not None and _days(c.end - c.start) > limit:
            why = f"lives {_days(c.end - c.start)} days (limit {limit})"
        else:
            continue
        on = " --on service-principal" if c.owner is CredentialOwner.SERVICE_PRINCIPAL else ""
        yield _finding(FindingRule.SECRET_LONG_LIFETIME, _credential_target(principal, c),
                       f"{principal.display_name}'s {_credential_label(c)} {why}; it can {_where(registries)}. "
                       f"Rotate it: acr-console reset-credential {_ref(principal)} --years 1{on} --out FILE, then "
                       f"remove this one")


def secret_on_service_principal(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Passwords held by the service principal object rather than its application: they sign in like
    any other, but the portal's App registrations blade never shows them."""
    for principal, c, registries in _credentialed(snapshot):
        if (c.kind is CredentialKind.PASSWORD and c.owner is CredentialOwner.SERVICE_PRINCIPAL
                and principal.type is PrincipalType.SERVICE_PRINCIPAL and not c.expired(snapshot.now)):
            yield _finding(FindingRule.SECRET_ON_SERVICE_PRINCIPAL, _credential_target(principal, c),
                           f"{principal.display_name} has a {_credential_label(c)} on its service principal object, "
                           f"not shown under App registrations; it can {_where(registries)}",
                           _remove_credential(principal, c))


def expired_credential_with_access(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Expired passwords and certificates of principals that still hold a right: a dormant identity's
    rights outlive its way in, and the next credential added to it inherits them."""
    for principal, c, registries in _credentialed(snapshot):
        if c.expired(snapshot.now) and c.end is not None:
            ago = _days(snapshot.now - c.end)
            yield _finding(FindingRule.EXPIRED_CREDENTIAL_WITH_ACCESS, _credential_target(principal, c),
                           f"{principal.display_name}'s {_credential_label(c)} expired {ago} days ago; the principal "
                           f"can still {_where(registries)}",
                           _remove_credential(principal, c))


def disabled_principal_assigned(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Direct role assignments of principals whose sign-in is disabled (accountEnabled false)."""
    disabled = ((n, e) for n, e in _directory_entries(snapshot) if not e.orphaned and not e.principal.enabled)
    for assignment_id, (entry, path, regs) in sorted(_assignments(snapshot, disabled).items()):
        p = entry.principal
        yield _finding(FindingRule.DISABLED_PRINCIPAL_ASSIGNED,
                       {**_principal_target(p), "id": path.assignment_id, "assignmentId": path.assignment_id,
                        "registry": ", ".join(sorted(regs))},
                       f"{p.display_name} is disabled (accountEnabled false) but still holds {path.role} "
                       f"({_rights_text(path.rights)}) on {', '.join(sorted(regs))}; enabling it again restores it",
                       _unassign(path.assignment_id or assignment_id))


def orphaned_assignment(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Role assignments whose principal the directory did not return (deleted, most often)."""
    orphans = ((n, e) for n, e in _entries(snapshot) if e.orphaned)
    for assignment_id, (entry, path, regs) in sorted(_assignments(snapshot, orphans).items()):
        p = entry.principal
        yield _finding(FindingRule.ORPHANED_ASSIGNMENT,
                       {"id": path.assignment_id, "assignmentId": path.assignment_id, "objectId": p.object_id,
                        "registry": ", ".join(sorted(regs))},
                       f"{path.role} ({_rights_text(path.rights)}) on {', '.join(sorted(regs))} is assigned to "
                       f"{p.object_id}, which the directory does not return (deleted, or not replicated yet)",
                       _unassign(path.assignment_id or assignment_id))


def push_at_broad_scope(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Direct assignments granting push whose scope is a subscription, a management group or the root."""
    broad = ((n, e) for n, e in _directory_entries(snapshot) if not e.orphaned)
    for assignment_id, (entry, path, regs) in sorted(_assignments(snapshot, broad).items()):
        if Right.PUSH not in path.rights or path.scope_level not in _BROAD:
            continue
        p = entry.principal
        level = path.scope_level.value if path.scope_level else "broad"
        yield _finding(FindingRule.PUSH_AT_BROAD_SCOPE,
                       {**_principal_target(p), "id": path.assignment_id, "assignmentId": path.assignment_id,
                        "scope": path.scope},
                       f"{p.display_name} holds {path.role} at the {level} {path.scope}, which grants push on "
                       f"{len(regs)} registr{'y' if len(regs) == 1 else 'ies'} ({', '.join(sorted(regs))}) and on "
                       "every registry created there later; assign it at each registry instead",
                       _unassign(path.assignment_id or assignment_id))


def push_on_many_registries(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Principals that can push to more than ``max_push_registries`` registries, by any path."""
    limit = snapshot.settings.max_push_registries
    for _oid, (principal, registries) in sorted(_reach(snapshot).items()):
        pushing = sorted(n for n, rights in registries.items() if Right.PUSH in rights)
        if len(pushing) > limit:
            shown = ", ".join(pushing[:5]) + (f" and {len(pushing) - 5} more" if len(pushing) > 5 else "")
            yield _finding(FindingRule.PUSH_ON_MANY_REGISTRIES, _principal_target(principal),
                           f"{principal.display_name} can push to {len(pushing)} registries (limit {limit}): {shown}")


def privileged_role_above_registry(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Owner, Contributor or User Access Administrator (or any role that lets its holder grant roles)
    assigned above a registry: no push of its own in ABAC mode, but the holder can give itself push,
    enable the admin user or mint tokens (AccessPath.latent)."""
    seen: set[str] = set()
    for name, entry in _entries(snapshot):
        for path in entry.paths:
            if (path.kind is not PathKind.ROLE_ASSIGNMENT or not path.assignment_id
                    or path.scope_level in (None, ScopeLevel.REGISTRY)
                    or not (path.role in _PRIVILEGED_ROLES or Latent.GRANT_ROLES in path.latent)):
                continue
            key = path.assignment_id.lower()
            if key in seen:
                continue
            seen.add(key)
            p = entry.principal
            holder = f"group {path.via_groups[0]}" if path.via_groups else (p.object_id if entry.orphaned
                                                                           else p.display_name)
            latent = ", ".join(sorted(x.value for x in path.latent)) or "manages the registries"
            level = path.scope_level.value if path.scope_level else "scope"
            target = {"id": path.assignment_id, "assignmentId": path.assignment_id, "scope": path.scope,
                      "principal": path.via_groups[0] if path.via_groups else p.display_name,
                      "objectId": None if path.via_groups else p.object_id}
            yield _finding(FindingRule.PRIVILEGED_ROLE_ABOVE_REGISTRY, target,
                           f"{holder} holds {path.role} at the {level} {path.scope} (above {name} and its "
                           f"neighbours): {latent}")


def token_without_expiry(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Enabled registry tokens with a password that has no expiry (a disabled token cannot sign in)."""
    for access in snapshot.accesses:
        reg = access.registry
        for entry in access.entries:
            token = entry.token
            if token is None or not token.enabled:
                continue
            for password in token.passwords:
                if password.expiry is None:
                    yield _finding(
                        FindingRule.TOKEN_WITHOUT_EXPIRY,
                        {"id": f"{reg.name}/{token.name}/{password.name}", "registry": reg.name, "token": token.name,
                         "password": password.name},
                        f"token {token.name} on {reg.name} ({_rights_text(entry.rights)}) has {password.name} with no "
                        "expiry; generate one with an expiry (az acr token credential generate --expiration-in-days) "
                        "and remove this one",
                        _fix("remove-token-password", (("token", token.name),), registry=reg.name,
                             password=password.name))


def takeover_by_unprivileged(snapshot: FindingsSnapshot) -> Iterator[Finding]:
    """Users and service principals that hold no right on any registry themselves, yet can add a
    credential to principals that do (takeover.py's paths): their reach is those principals'. One finding
    per such holder, naming whom it can take over and how (a tenant-wide role reaches every principal)."""
    reach = _reach(snapshot)
    takeover = snapshot.takeover or {}
    holders: dict[str, tuple[Principal, dict[str, str], set[str], dict[str, set[Right]]]] = {}
    for oid, (principal, registries) in sorted(reach.items()):
        for path in takeover.get(oid, ()):
            by = path.by
            by_id = (by.object_id or "").lower()
            if path.itself or by.type not in _SIGNS_IN or not by_id or by_id in reach:
                continue
            _by, hows, victims, rights = holders.setdefault(by_id, (by, {}, set(), {}))
            via = f" through group {' > '.join(path.via_groups)}" if path.via_groups else ""
            hows.setdefault(f"{path.how.value}: {path.detail}{via}", "two steps" if path.steps == 2 else "")
            victims.add(principal.display_name)
            for name, held in registries.items():
                rights.setdefault(name, set()).update(held)
    for by_id, (by, hows, victims, rights) in sorted(holders.items()):
        named = sorted(victims)
        whom = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        how = "; ".join(f"{h} ({steps})" if steps else h for h, steps in sorted(hows.items()))
        pushing = sorted(n for n, held in rights.items() if Right.PUSH in held)
        yield _finding(
            FindingRule.TAKEOVER_BY_UNPRIVILEGED,
            {"id": by.object_id or by_id, "principal": by.display_name, "objectId": by.object_id,
             "type": by.type.value},
            f"{by.display_name} ({by.type.value}) has no right on any registry but can add a credential to "
            f"{len(named)} principal(s) that do ({whom}) by {how}; through them it reaches {len(rights)} "
            f"registr{'y' if len(rights) == 1 else 'ies'}, with push on {len(pushing)}")


_CHECKS = {
    FindingRule.ADMIN_USER_ENABLED: admin_user_enabled,
    FindingRule.ANONYMOUS_PULL_ENABLED: anonymous_pull_enabled,
    FindingRule.SECRET_LONG_LIFETIME: secret_long_lifetime,
    FindingRule.SECRET_ON_SERVICE_PRINCIPAL: secret_on_service_principal,
    FindingRule.EXPIRED_CREDENTIAL_WITH_ACCESS: expired_credential_with_access,
    FindingRule.DISABLED_PRINCIPAL_ASSIGNED: disabled_principal_assigned,
    FindingRule.ORPHANED_ASSIGNMENT: orphaned_assignment,
    FindingRule.PUSH_AT_BROAD_SCOPE: push_at_broad_scope,
    FindingRule.PUSH_ON_MANY_REGISTRIES: push_on_many_registries,
    FindingRule.PRIVILEGED_ROLE_ABOVE_REGISTRY: privileged_role_above_registry,
    FindingRule.TOKEN_WITHOUT_EXPIRY: token_without_expiry,
    FindingRule.TAKEOVER_BY_UNPRIVILEGED: takeover_by_unprivileged,
}
