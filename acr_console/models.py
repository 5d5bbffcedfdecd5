"""Plain data the layers hand to each other.

No SDK, HTTP or Textual imports here: these are the shapes the access analysis
reasons about and the front ends display. The Azure layer maps SDK objects and
raw JSON into them; nothing above the Azure layer ever sees an SDK type.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


class RoleAssignmentMode(enum.StrEnum):
    """How a registry's data plane honours role assignments.

    LEGACY and ABAC are ARM's `properties.roleAssignmentMode` values. UNKNOWN is the console's own: the
    registry's answer did not state a mode (an api-version older than 2025-03-01-preview / 2025-11-01
    has no such property) or stated one the console does not know. An absent mode is never taken for
    legacy: the analysis then reports what differs between the modes as only possible.
    """

    LEGACY = "LegacyRegistryPermissions"
    ABAC = "AbacRepositoryPermissions"
    UNKNOWN = "Unknown"

    @property
    def short(self) -> str:
        """The short name used in JSON output and the UI: ``rbac``, ``abac`` or ``unknown``."""
        return {RoleAssignmentMode.ABAC: "abac", RoleAssignmentMode.UNKNOWN: "unknown"}.get(self, "rbac")

    @classmethod
    def parse(cls, value: str | None) -> RoleAssignmentMode:
        """ARM's value, case-insensitively; UNKNOWN for an absent or unrecognised one."""
        for mode in (cls.LEGACY, cls.ABAC):
            if value and value.lower() == mode.value.lower():
                return mode
        return cls.UNKNOWN



@dataclass(frozen=True, slots=True)
class Subscription:
    id: str  # the bare GUID
    display_name: str
    tenant_id: str | None = None
    state: str = "Enabled"


@dataclass(frozen=True, slots=True)
class Registry:
    id: str  # full ARM resource id
    name: str
    login_server: str
    resource_group: str
    subscription_id: str
    location: str = ""
    sku: str = "Basic"
    admin_user_enabled: bool = False
    role_assignment_mode: RoleAssignmentMode = RoleAssignmentMode.LEGACY
    anonymous_pull_enabled: bool = False


class PrincipalType(enum.StrEnum):
    """What a directory object is, as the JSON output names it."""

    SERVICE_PRINCIPAL = "servicePrincipal"
    MANAGED_IDENTITY = "managedIdentity"
    USER = "user"
    GROUP = "group"
    ADMIN_USER = "adminUser"
    UNKNOWN = "unknown"  # assigned, but the directory did not return it (see AccessEntry.orphaned)
    # Issue 13: anyone on the network, on a registry with anonymousPullEnabled (no directory object).
    ANONYMOUS = "anonymous"
    # -- registry tokens (issue 13 item 4): a token is no directory object; its name signs in
    REGISTRY_TOKEN = "registryToken"


@dataclass(frozen=True, slots=True)
class Principal:
    object_id: str | None
    display_name: str
    type: PrincipalType
    app_id: str | None = None
    enabled: bool = True
    # Object id of the application behind a service principal, when known.
    application_object_id: str | None = None

    @property
    def can_sign_in(self) -> bool:
        return self.type in (
            PrincipalType.SERVICE_PRINCIPAL,
            PrincipalType.MANAGED_IDENTITY,
            PrincipalType.USER,
            PrincipalType.ADMIN_USER,
            PrincipalType.UNKNOWN,
        )


class CredentialKind(enum.StrEnum):
    PASSWORD = "password"
    CERTIFICATE = "certificate"


class CredentialOwner(enum.StrEnum):
    """Which directory object holds a credential; SP-held secrets are invisible under App registrations."""

    APPLICATION = "application"
    SERVICE_PRINCIPAL = "servicePrincipal"
    REGISTRY_TOKEN = "registryToken"  # password1/password2 of an ACR registry token (ARM, not Entra)


@dataclass(frozen=True, slots=True)
class Credential:
    key_id: str
    kind: CredentialKind
    owner: CredentialOwner
    display_name: str | None = None
    hint: str | None = None  # first three characters of a password, as Graph reports it
    start: datetime | None = None
    end: datetime | None = None
    thumbprint: str | None = None  # certificates: hex SHA-1, upper case

    def expired(self, now: datetime) -> bool:
        return self.end is not None and self.end <= now

    def expires_within(self, now: datetime, days: int) -> bool:
        from datetime import timedelta

        return self.end is not None and self.end <= now + timedelta(days=days)


@dataclass(frozen=True, slots=True)
class RoleDefinition:
    id: str  # ARM id: /subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}
    name: str  # the GUID
    role_name: str  # e.g. "AcrPush"
    description: str = ""
    custom: bool = False
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()
    assignable_scopes: tuple[str, ...] = ()

    @property
    def guid(self) -> str:
        return self.id.rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    id: str
    name: str  # the assignment GUID
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str = "ServicePrincipal"  # ARM's spelling: ServicePrincipal, Group, User, ...
    condition: str | None = None
    condition_version: str | None = None

    @property
    def role_guid(self) -> str:
        return self.role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass(frozen=True, slots=True)
class Group:
    object_id: str
    display_name: str
    # Direct members' object ids (principals or nested groups).
    member_ids: tuple[str, ...] = ()


class Right(enum.StrEnum):
    PULL = "pull"
    PUSH = "push"
    DELETE = "delete"
    SIGN = "sign"
    QUARANTINE_READ = "quarantineRead"
    QUARANTINE_WRITE = "quarantineWrite"
    CATALOG = "catalog"
    # Registry token scope maps grant metadata/read and metadata/write on their own (list tags,
    # lock tags); role assignments always grant them with content/* (capabilities.py).
    METADATA_READ = "metadataRead"
    METADATA_WRITE = "metadataWrite"


class Latent(enum.StrEnum):
    """Rights a principal does not hold but can obtain on its own."""

    GRANT_ROLES = "can-grant-itself-push"
    READ_ADMIN_PASSWORD = "can-read-admin-password"
    ENABLE_ADMIN_USER = "can-enable-admin-user"
    MINT_TOKENS = "can-create-registry-tokens"
    IMPORT_IMAGE = "can-import-images"
    RUN_TASKS = "can-push-via-tasks"


class Confidence(enum.StrEnum):
    DIRECT = "direct"  # the role grants it registry-wide
    CONDITIONAL = "conditional"  # an ABAC condition limits it to some repositories
    # matched only through a wildcard in a custom role (unverified by ACR), or held in one registry
    # mode and not the other on a registry whose mode is unknown
    POSSIBLE = "possible"


class ScopeLevel(enum.StrEnum):
    REGISTRY = "registry"
    RESOURCE_GROUP = "resourceGroup"
    SUBSCRIPTION = "subscription"
    MANAGEMENT_GROUP = "managementGroup"
    ROOT = "root"


class PathKind(enum.StrEnum):
    ROLE_ASSIGNMENT = "role-assignment"
    ADMIN_USER = "admin-user"
    TOKEN = "token"
    # Issue 13: the registry's anonymousPullEnabled; pull only, on every repository.
    ANONYMOUS_PULL = "anonymous-pull"


@dataclass(frozen=True, slots=True)
class AccessPath:
    """One reason a principal holds rights on a registry."""

    kind: PathKind
    rights: frozenset[Right] = frozenset()
    latent: frozenset[Latent] = frozenset()
    role: str | None = None  # role name
    role_definition_id: str | None = None
    assignment_id: str | None = None
    scope: str | None = None
    scope_level: ScopeLevel | None = None
    inherited: bool = False
    via_groups: tuple[str, ...] = ()  # display names, outermost group first
    repositories: tuple[str, ...] | None = None  # None: every repository
    confidence: Confidence = Confidence.DIRECT
    # Issue 16: those of `rights` and `latent` this path grants only possibly (a custom role's wildcard
    # beside its explicit actions), while `confidence` is that of the rest: one assignment, one path.
    possible: frozenset[Right | Latent] = frozenset()


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """What one principal can do on one registry, and every path that says so."""

    principal: Principal
    paths: tuple[AccessPath, ...] = ()
    # Assigned, but the directory did not return the principal: deleted, not replicated yet, or of a
    # type the console does not read. The name is the JSON contract's; it says nothing more.
    orphaned: bool = False
    token: RegistryToken | None = None  # set on the entry of a registry token (PrincipalType.REGISTRY_TOKEN)

    @property
    def rights(self) -> frozenset[Right]:
        out: set[Right] = set()
        for p in self.paths:
            out |= p.rights
        return frozenset(out)

    @property
    def latent(self) -> frozenset[Latent]:
        out: set[Latent] = set()
        for p in self.paths:
            out |= p.latent
        return frozenset(out)

    def can(self, right: Right) -> bool:
        return right in self.rights


@dataclass(frozen=True, slots=True)
class RegistryAccess:
    registry: Registry
    entries: tuple[AccessEntry, ...] = ()
    # Why the registry's tokens and scope maps could not be read (e.g. no tokens/read), else None:
    # the entries then lack any token, and the front ends say so.
    token_read_error: str | None = None


# -- registry tokens and scope maps (ARM `registries/{r}/tokens`, `…/scopeMaps`) --------------------


@dataclass(frozen=True, slots=True)
class ScopeMap:
    """A registry's scope map: the repository actions a token gets, e.g. `repositories/team/*/content/write`."""

    id: str
    name: str
    actions: tuple[str, ...] = ()
    type: str = "UserDefined"  # or "SystemDefined" (_repositories_pull, …)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class TokenPassword:
    name: str  # "password1" or "password2"
    expiry: datetime | None = None  # None: never expires
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class RegistryToken:
    """A registry token: a user name with up to two passwords and one scope map (no Entra identity)."""

    id: str
    name: str
    status: str = "enabled"  # "enabled" | "disabled", as ARM spells it
    scope_map_id: str | None = None
    passwords: tuple[TokenPassword, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.status.lower() == "enabled"

    @property
    def scope_map_name(self) -> str | None:
        return self.scope_map_id.rstrip("/").rsplit("/", 1)[-1] if self.scope_map_id else None


@dataclass(frozen=True, slots=True)
class PrincipalDetail:
    """A service principal with its application, credentials, assignments and groups."""

    principal: Principal
    application_display_name: str | None = None
    credentials: tuple[Credential, ...] = ()
    assignments: tuple[RoleAssignment, ...] = ()
    groups: tuple[Group, ...] = ()
    role_names: dict[str, str] = field(default_factory=dict)  # role definition guid -> role name


@dataclass(frozen=True, slots=True)
class SignedInIdentity:
    """Who the console acts as: the claims of its ARM token (read, not verified: display only), with
    an app-only identity's display name looked up in the directory when it can be."""

    tenant_id: str | None = None
    object_id: str | None = None
    app_id: str | None = None
    name: str | None = None


# -- issue 17: who can take over a principal (the directory facts the takeover analysis reads) ------
# Names follow Microsoft Graph v1.0's resources: unifiedRoleDefinition, unifiedRoleAssignment,
# appRoleAssignment, federatedIdentityCredential. Owners of an application or a
# service principal are plain :class:`Principal` values (Graph returns users and service principals).


@dataclass(frozen=True, slots=True)
class DirectoryRoleDefinition:
    """A Microsoft Entra role (Graph ``unifiedRoleDefinition``).

    ``allowed_resource_actions`` are its ``rolePermissions[].allowedResourceActions`` when read; a
    built-in role read without them is judged by its ``template_id`` from
    :mod:`acr_console.access.entra_roles`.
    """

    id: str
    display_name: str
    template_id: str | None = None  # equal to id for built-in roles
    is_built_in: bool = True
    allowed_resource_actions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DirectoryRoleAssignment:
    """A Microsoft Entra role assignment (Graph ``unifiedRoleAssignment``, active; PIM eligibility is not
    read). ``directory_scope_id``: ``/`` the tenant, ``/{objectId}`` one application (or service
    principal), ``/administrativeUnits/{id}`` an administrative unit (which holds only users, groups and
    devices, so never reaches an application: see :mod:`acr_console.access.takeover`)."""

    id: str
    principal_id: str
    role_definition_id: str
    directory_scope_id: str = "/"


@dataclass(frozen=True, slots=True)
class AppRoleAssignment:
    """An application permission granted to a principal (Graph ``appRoleAssignment``).

    Only those on Microsoft Graph's service principal matter here; ``permission`` is the granted app
    role's ``value`` (e.g. ``Application.ReadWrite.All``), resolved by the reader from that service
    principal's ``appRoles`` (or the table of :mod:`acr_console.access.entra_roles`)."""

    id: str
    principal_id: str
    app_role_id: str
    resource_id: str  # object id of the resource's service principal (Microsoft Graph's)
    permission: str | None = None
    principal_display_name: str | None = None
    principal_type: str | None = None  # Graph's spelling: ServicePrincipal, User, Group


@dataclass(frozen=True, slots=True)
class FederatedIdentityCredential:
    """A workload's way to sign in as an application without a secret (Graph
    ``federatedIdentityCredential``): a token from ``issuer`` whose ``sub`` equals ``subject`` and whose
    ``aud`` is one of ``audiences``."""

    id: str
    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...] = ("api://AzureADTokenExchange",)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class DirectoryFacts:
    """What the reads of issue 17 fetched, for the principals that hold a right on a registry.

    Keys are object ids (any case): ``application_owners`` and ``federated_credentials`` by the
    application's object id, ``service_principal_owners`` by the service principal's. ``principals``
    names every directory object the facts mention (role holders, permission holders, owners);
    ``groups`` are the groups among them, with members, for expansion.
    """

    principals: tuple[Principal, ...] = ()
    groups: tuple[Group, ...] = ()
    application_owners: dict[str, tuple[Principal, ...]] = field(default_factory=dict)
    service_principal_owners: dict[str, tuple[Principal, ...]] = field(default_factory=dict)
    role_definitions: tuple[DirectoryRoleDefinition, ...] = ()
    role_assignments: tuple[DirectoryRoleAssignment, ...] = ()
    app_role_assignments: tuple[AppRoleAssignment, ...] = ()  # on Microsoft Graph's service principal
    federated_credentials: dict[str, tuple[FederatedIdentityCredential, ...]] = field(default_factory=dict)


class TakeoverHow(enum.StrEnum):
    """How someone can add a credential to a principal (or give themselves the right to)."""

    APPLICATION_OWNER = "application-owner"
    SERVICE_PRINCIPAL_OWNER = "service-principal-owner"
    DIRECTORY_ROLE = "directory-role"
    GRAPH_PERMISSION = "graph-permission"


class CredentialTarget(enum.StrEnum):
    """Which object the new credential goes on (both sign in as the service principal)."""

    APPLICATION = "application"
    SERVICE_PRINCIPAL = "servicePrincipal"


@dataclass(frozen=True, slots=True)
class TakeoverPath:
    """One way ``by`` can sign in as a principal: add a credential to it (``steps`` 1), or first give
    itself a right that lets it (``steps`` 2)."""

    by: Principal
    how: TakeoverHow
    detail: str  # the role's or permission's name
    target: CredentialTarget
    steps: int = 1
    scope: str | None = None  # a directory role's directoryScopeId
    via_groups: tuple[str, ...] = ()  # display names, outermost group first
    itself: bool = False  # ``by`` is the principal taken over (it can add credentials to itself)


# -- issue 18: findings (the rules are access/findings.py; their settings come from the config file) --


class FindingRule(enum.StrEnum):
    """The id of each rule of :mod:`acr_console.access.findings`; the config file names rules by it."""

    ADMIN_USER_ENABLED = "admin-user-enabled"
    ANONYMOUS_PULL_ENABLED = "anonymous-pull-enabled"
    SECRET_LONG_LIFETIME = "secret-long-lifetime"
    SECRET_ON_SERVICE_PRINCIPAL = "secret-on-service-principal"
    EXPIRED_CREDENTIAL_WITH_ACCESS = "expired-credential-with-access"
    DISABLED_PRINCIPAL_ASSIGNED = "disabled-principal-assigned"
    ORPHANED_ASSIGNMENT = "orphaned-assignment"
    PUSH_AT_BROAD_SCOPE = "push-at-broad-scope"
    PUSH_ON_MANY_REGISTRIES = "push-on-many-registries"
    PRIVILEGED_ROLE_ABOVE_REGISTRY = "privileged-role-above-registry"
    TOKEN_WITHOUT_EXPIRY = "token-without-expiry"
    TAKEOVER_BY_UNPRIVILEGED = "takeover-by-unprivileged"


class Severity(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for the most severe: findings are listed most severe first."""
        return (Severity.HIGH, Severity.MEDIUM, Severity.LOW).index(self)


@dataclass(frozen=True)
class FindingIgnore:
    """One entry of ``[[findings.ignore]]``: hide ``rule``'s finding on ``target`` (a finding's target id,
    or any of its target's values: a registry's name, a principal's appId, object id or display name, an
    assignment id, a key id; case-insensitive) for ``reason``, until ``expires`` (a date; the ignore holds
    through that day, UTC). An expired ignore no longer hides the finding, which then says so."""

    __pydantic_config__ = {"extra": "forbid"}  # read by pydantic when the config file is validated

    rule: str
    target: str
    reason: str
    expires: date | None = None

    def __post_init__(self) -> None:
        if self.rule not in {r.value for r in FindingRule}:
            raise ValueError(f"rule: '{self.rule}' is no rule (rules: {', '.join(r.value for r in FindingRule)})")
        if not self.target.strip():
            raise ValueError("target: empty; name the finding's target (e.g. a registry or an appId)")
        if not self.reason.strip():
            raise ValueError(f"reason: empty for the ignore of {self.rule} on {self.target}; say why it is accepted")

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and self.expires < now.date()


MAX_SECRET_LIFETIME_RANGE = (1, 3650)
MAX_PUSH_REGISTRIES_RANGE = (1, 100_000)


@dataclass(frozen=True)
class FindingSettings:
    """The ``[findings]`` section of the config file: thresholds, rules turned off, and ignores."""

    __pydantic_config__ = {"extra": "forbid"}

    max_secret_lifetime_days: int = 365
    """A secret whose end is more than this many days after its start (1–3650) is a finding."""
    max_push_registries: int = 5
    """A principal that can push to more than this many registries (1–100,000) is a finding."""
    disabled_rules: tuple[str, ...] = ()
    """Rule ids not evaluated at all."""
    ignore: tuple[FindingIgnore, ...] = ()
    """Findings accepted for a reason, until a date."""

    def __post_init__(self) -> None:
        for name, (low, high) in (("max_secret_lifetime_days", MAX_SECRET_LIFETIME_RANGE),
                                  ("max_push_registries", MAX_PUSH_REGISTRIES_RANGE)):
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"{name}: {value} is outside {low:,}–{high:,}")
        known = {r.value for r in FindingRule}
        for rule in self.disabled_rules:
            if rule not in known:
                raise ValueError(f"disabled_rules: '{rule}' is no rule (rules: {', '.join(sorted(known))})")


@dataclass(frozen=True, slots=True)
class FindingFix:
    """The console's operation that fixes a finding: ``command`` is its exact command line (to copy),
    ``arguments`` the operation's request fields, from which ``findings --fix`` builds the same request."""

    operation: str  # an operation's name (operations/registry.py)
    command: str
    arguments: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    rule: FindingRule
    severity: Severity
    # What the finding is about, as JSON shows it: "id" (what --target and ignores match first), and as
    # they apply "registry", "principal", "appId", "objectId", "type", "assignmentId", "scope", "keyId",
    # "on" (which object holds a credential), "token", "password".
    target: Mapping[str, str]
    evidence: str
    source: str
    fix: FindingFix | None = None
    expired_ignore: FindingIgnore | None = None  # an ignore that matched it but has expired

    @property
    def target_id(self) -> str:
        return self.target.get("id", "")

    def matches(self, wanted: str) -> bool:
        """Whether ``wanted`` names this finding's target: its id or any of its values, any case."""
        low = wanted.strip().lower()
        return bool(low) and any(str(v).lower() == low for v in self.target.values())


@dataclass(frozen=True, slots=True)
class FindingsSnapshot:
    """Everything the rules look at, read once. ``credentials``: each principal's credentials (on its
    application and its service principal), by object id in lower case; a principal absent from it was
    not read (a managed identity, a user). ``takeover``: each principal's takeover paths by object id,
    or None when they were not read (the takeover rule is then skipped, and the result says so)."""

    accesses: tuple[RegistryAccess, ...]
    now: datetime
    settings: FindingSettings = field(default_factory=FindingSettings)
    credentials: Mapping[str, tuple[Credential, ...]] = field(default_factory=dict)
    takeover: Mapping[str, tuple[TakeoverPath, ...]] | None = None


@dataclass(frozen=True, slots=True)
class FindingsResult:
    findings: tuple[Finding, ...]
    ignored: tuple[tuple[Finding, FindingIgnore], ...] = ()  # hidden by an ignore still in force
    skipped_rules: tuple[tuple[FindingRule, str], ...] = ()  # (rule, why it was not evaluated)
