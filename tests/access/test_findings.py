"""Issue 18's findings rules (access/findings.py), each on hand-built models: what fires, what does not,
the evidence, the fix (the operation and the exact command line), and the settings: thresholds, rules
turned off, ignores in force and expired, and the takeover rule skipped when its facts were not read."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from acr_console.access.findings import RULES, evaluate, finding_json
from acr_console.models import (
    AccessEntry,
    AccessPath,
    Credential,
    CredentialKind,
    CredentialOwner,
    CredentialTarget,
    Finding,
    FindingIgnore,
    FindingRule,
    FindingSettings,
    FindingsSnapshot,
    Latent,
    PathKind,
    Principal,
    PrincipalType,
    Registry,
    RegistryAccess,
    RegistryToken,
    Right,
    ScopeLevel,
    Severity,
    TakeoverHow,
    TakeoverPath,
    TokenPassword,
)

from .factories import MG_SCOPE, RG_SCOPE, SUB_SCOPE, registry, sp, user

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PULL_PUSH = frozenset({Right.PULL, Right.PUSH})


def reg(name: str, **changes: object) -> Registry:
    base = registry(registry_id=f"{RG_SCOPE}/providers/Microsoft.ContainerRegistry/registries/{name}")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def path(role: str = "AcrPush", *, scope: str | None = None, level: ScopeLevel = ScopeLevel.REGISTRY,
         rights: frozenset[Right] = PULL_PUSH, assignment: str = "ra-1", via: tuple[str, ...] = (),
         latent: frozenset[Latent] = frozenset()) -> AccessPath:
    at = scope or RG_SCOPE
    return AccessPath(PathKind.ROLE_ASSIGNMENT, rights=rights, latent=latent, role=role,
                      assignment_id=f"{at}/providers/Microsoft.Authorization/roleAssignments/{assignment}",
                      scope=at, scope_level=level, inherited=level is not ScopeLevel.REGISTRY, via_groups=via)


def entry(principal: Principal, *paths: AccessPath, orphaned: bool = False) -> AccessEntry:
    return AccessEntry(principal, tuple(paths) or (path(),), orphaned=orphaned)


def access(registry_: Registry, *entries: AccessEntry) -> RegistryAccess:
    return RegistryAccess(registry_, tuple(entries))


CI = sp("oid-ci", "ci-payments", app_id="app-ci")


def secret(key: str, *, start_days: float = -30, end_days: float | None = 300,
           owner: CredentialOwner = CredentialOwner.APPLICATION, kind: CredentialKind = CredentialKind.PASSWORD
           ) -> Credential:
    return Credential(key_id=key, kind=kind, owner=owner, display_name="ci",
                      start=NOW + timedelta(days=start_days),
                      end=None if end_days is None else NOW + timedelta(days=end_days))


def snapshot(*accesses: RegistryAccess, settings: FindingSettings | None = None,
             credentials: dict[str, tuple[Credential, ...]] | None = None,
             takeover: dict[str, tuple[TakeoverPath, ...]] | None = None) -> FindingsSnapshot:
    return FindingsSnapshot(tuple(accesses), NOW, settings or FindingSettings(), credentials or {}, takeover)


def of(snap: FindingsSnapshot, rule: FindingRule) -> list[Finding]:
    return [f for f in evaluate(snap).findings if f.rule is rule]


# -- registry settings ------------------------------------------------------------------------------


def test_admin_user_enabled_names_the_registry_and_the_command_that_turns_it_off() -> None:
    snap = snapshot(access(reg("contosodev", admin_user_enabled=True)), access(reg("quiet")))
    (finding,) = of(snap, FindingRule.ADMIN_USER_ENABLED)
    assert finding.severity is Severity.HIGH and finding.target == {"id": "contosodev", "registry": "contosodev"}
    assert "adminUserEnabled is true on contosodev" in finding.evidence
    assert finding.fix is not None and finding.fix.command == "acr-console disable-admin-user --registry contosodev"
    assert finding.fix.operation == "disable-admin-user" and dict(finding.fix.arguments) == {"registry": "contosodev"}


def test_anonymous_pull_enabled() -> None:
    snap = snapshot(access(reg("contosobase", anonymous_pull_enabled=True)), access(reg("closed")))
    (finding,) = of(snap, FindingRule.ANONYMOUS_PULL_ENABLED)
    assert finding.target_id == "contosobase" and "without signing in" in finding.evidence
    assert finding.fix is not None
    assert finding.fix.command == "acr-console disable-anonymous-pull --registry contosobase"


# -- credentials ------------------------------------------------------------------------------------


def test_secret_over_the_lifetime_limit_or_without_end_is_a_finding() -> None:
    creds = {"oid-ci": (secret("k-long", start_days=-30, end_days=400),  # 430 days
                        secret("k-never", end_days=None),
                        secret("k-fine", start_days=-30, end_days=300),  # 330 days
                        secret("k-cert", start_days=-30, end_days=3000, kind=CredentialKind.CERTIFICATE))}
    found = of(snapshot(access(reg("r1"), entry(CI)), credentials=creds), FindingRule.SECRET_LONG_LIFETIME)
    assert sorted(f.target["keyId"] for f in found) == ["k-long", "k-never"]
    by_key = {f.target["keyId"]: f for f in found}
    assert "lives 430 days (limit 365)" in by_key["k-long"].evidence
    assert "never expires" in by_key["k-never"].evidence and "pull/push on r1" in by_key["k-never"].evidence
    assert all(f.fix is None for f in found)  # a new secret needs somewhere to go: the evidence says how
    assert "acr-console reset-credential app-ci --years 1 --out FILE" in by_key["k-long"].evidence
    on_sp = {"oid-ci": (secret("k-sp", end_days=None, owner=CredentialOwner.SERVICE_PRINCIPAL),)}
    (sp_held,) = of(snapshot(access(reg("r1"), entry(CI)), credentials=on_sp), FindingRule.SECRET_LONG_LIFETIME)
    assert "reset-credential app-ci --years 1 --on service-principal --out FILE" in sp_held.evidence


def test_secret_lifetime_threshold_comes_from_the_settings() -> None:
    creds = {"oid-ci": (secret("k-long", start_days=-30, end_days=400),)}
    snap = snapshot(access(reg("r1"), entry(CI)), credentials=creds,
                    settings=FindingSettings(max_secret_lifetime_days=730))
    assert of(snap, FindingRule.SECRET_LONG_LIFETIME) == []


def test_credentials_of_principals_without_a_right_are_not_judged() -> None:
    nobody = sp("oid-x", "no-rights", app_id="app-x")
    creds = {"oid-x": (secret("k", end_days=None), secret("old", end_days=-3))}
    snap = snapshot(access(reg("r1"), AccessEntry(nobody, ())), credentials=creds)
    assert evaluate(snap).findings == ()


def test_secret_on_the_service_principal_object_is_removed_by_key_id() -> None:
    creds = {"oid-ci": (secret("k-sp", owner=CredentialOwner.SERVICE_PRINCIPAL),
                        secret("k-app", owner=CredentialOwner.APPLICATION))}
    (finding,) = of(snapshot(access(reg("contosobase"), entry(CI)), credentials=creds),
                    FindingRule.SECRET_ON_SERVICE_PRINCIPAL)
    assert finding.target["keyId"] == "k-sp" and finding.target["on"] == "servicePrincipal"
    assert "not shown under App registrations" in finding.evidence
    assert finding.fix is not None and finding.fix.command == "acr-console remove-credential app-ci k-sp"
    assert dict(finding.fix.arguments) == {"principal": "app-ci", "key_id": "k-sp"}


def test_expired_credential_on_a_principal_with_rights() -> None:
    creds = {"oid-ci": (secret("k-old", start_days=-410, end_days=-45), secret("k-new"))}
    (finding,) = of(snapshot(access(reg("contosodev"), entry(CI)), credentials=creds),
                    FindingRule.EXPIRED_CREDENTIAL_WITH_ACCESS)
    assert finding.severity is Severity.LOW and finding.target_id == "k-old"
    assert "expired 45 days ago" in finding.evidence and "pull/push on contosodev" in finding.evidence
    assert finding.fix is not None and finding.fix.command == "acr-console remove-credential app-ci k-old"
    # An expired secret is not also "too long-lived": it is judged once, as expired.
    assert of(snapshot(access(reg("contosodev"), entry(CI)), credentials=creds),
              FindingRule.SECRET_LONG_LIFETIME) == []


# -- principals and assignments -----------------------------------------------------------------------


def test_disabled_principal_still_assigned_is_one_finding_per_assignment_with_unassign() -> None:
    legacy = dataclasses.replace(sp("oid-erp", "legacy-erp", app_id="app-erp"), enabled=False)
    p = path(assignment="ra-erp")
    snap = snapshot(access(reg("contosoprod"), entry(legacy, p)), access(reg("contosoweu"), entry(legacy, p)),
                    access(reg("other"), entry(CI)))
    (finding,) = of(snap, FindingRule.DISABLED_PRINCIPAL_ASSIGNED)
    assert finding.target["assignmentId"] == p.assignment_id and finding.target["registry"] == "contosoprod, contosoweu"
    assert "legacy-erp is disabled" in finding.evidence
    assert finding.fix is not None and finding.fix.command == f"acr-console unassign --assignment-id {p.assignment_id}"


def test_disabled_principal_reached_through_a_group_has_no_assignment_of_its_own_to_remove() -> None:
    legacy = dataclasses.replace(sp("oid-erp", "legacy-erp"), enabled=False)
    snap = snapshot(access(reg("r1"), entry(legacy, path(via=("team",)))))
    assert of(snap, FindingRule.DISABLED_PRINCIPAL_ASSIGNED) == []


def test_orphaned_assignment_is_named_by_its_id_and_removed_by_it() -> None:
    ghost = Principal("oid-gone", "oid-gone", PrincipalType.UNKNOWN)
    p = path(assignment="ra-ghost")
    (finding,) = of(snapshot(access(reg("contosodev"), entry(ghost, p, orphaned=True))),
                    FindingRule.ORPHANED_ASSIGNMENT)
    assert finding.target == {"id": p.assignment_id, "assignmentId": p.assignment_id, "objectId": "oid-gone",
                              "registry": "contosodev"}
    assert "does not return" in finding.evidence
    assert finding.fix is not None and dict(finding.fix.arguments) == {"assignment_id": p.assignment_id}


@pytest.mark.parametrize(("scope", "level", "fires"), [
    (SUB_SCOPE, ScopeLevel.SUBSCRIPTION, True),
    (MG_SCOPE, ScopeLevel.MANAGEMENT_GROUP, True),
    (RG_SCOPE, ScopeLevel.RESOURCE_GROUP, False),
    (None, ScopeLevel.REGISTRY, False),
])
def test_push_at_subscription_or_management_group(scope: str | None, level: ScopeLevel, fires: bool) -> None:
    p = path(scope=scope, level=level)
    found = of(snapshot(access(reg("r1"), entry(CI, p)), access(reg("r2"), entry(CI, p))),
               FindingRule.PUSH_AT_BROAD_SCOPE)
    assert [f.target_id for f in found] == ([p.assignment_id] if fires else [])
    if fires:
        assert "grants push on 2 registries (r1, r2)" in found[0].evidence
        assert found[0].severity is Severity.HIGH


def test_pull_at_a_subscription_is_not_push_at_broad_scope() -> None:
    p = path("AcrPull", scope=SUB_SCOPE, level=ScopeLevel.SUBSCRIPTION, rights=frozenset({Right.PULL}))
    assert of(snapshot(access(reg("r1"), entry(CI, p))), FindingRule.PUSH_AT_BROAD_SCOPE) == []


def test_push_on_more_registries_than_the_limit() -> None:
    wide = sp("oid-wide", "wide", app_id="app-wide")
    accesses = [access(reg(f"r{i}"), entry(wide, path(assignment=f"a{i}")), entry(CI, path(assignment=f"c{i}")))
                for i in range(4)]
    accesses.append(access(reg("r4"), entry(wide, path(assignment="a4"))))
    found = of(snapshot(*accesses, settings=FindingSettings(max_push_registries=4)),
               FindingRule.PUSH_ON_MANY_REGISTRIES)
    assert [f.target["principal"] for f in found] == ["wide"]  # ci-payments pushes to 4: not more than 4
    assert "can push to 5 registries (limit 4)" in found[0].evidence and found[0].fix is None


@pytest.mark.parametrize(("role", "latent", "level", "fires"), [
    ("Owner", frozenset({Latent.GRANT_ROLES, Latent.ENABLE_ADMIN_USER}), ScopeLevel.SUBSCRIPTION, True),
    ("Contributor", frozenset({Latent.ENABLE_ADMIN_USER}), ScopeLevel.RESOURCE_GROUP, True),
    ("User Access Administrator", frozenset({Latent.GRANT_ROLES}), ScopeLevel.MANAGEMENT_GROUP, True),
    ("Custom role admin", frozenset({Latent.GRANT_ROLES}), ScopeLevel.SUBSCRIPTION, True),
    ("Owner", frozenset({Latent.GRANT_ROLES}), ScopeLevel.REGISTRY, False),  # on the registry: its owner
    ("Reader", frozenset(), ScopeLevel.SUBSCRIPTION, False),
])
def test_privileged_role_above_registries(role: str, latent: frozenset[Latent], level: ScopeLevel,
                                          fires: bool) -> None:
    p = path(role, scope=SUB_SCOPE, level=level, rights=frozenset(), latent=latent)
    found = of(snapshot(access(reg("r1"), entry(CI, p))), FindingRule.PRIVILEGED_ROLE_ABOVE_REGISTRY)
    assert len(found) == (1 if fires else 0)
    if fires:
        assert f"holds {role}" in found[0].evidence and found[0].target_id == p.assignment_id
        for x in latent:
            assert x.value in found[0].evidence


def test_privileged_role_through_a_group_names_the_group_once() -> None:
    p = path("Contributor", scope=RG_SCOPE, level=ScopeLevel.RESOURCE_GROUP, latent=frozenset({Latent.MINT_TOKENS}),
             via=("platform-engineering",))
    other = sp("oid-2", "terraform")
    (finding,) = of(snapshot(access(reg("r1"), entry(CI, p), entry(other, p)), access(reg("r2"), entry(CI, p))),
                    FindingRule.PRIVILEGED_ROLE_ABOVE_REGISTRY)
    assert finding.target["principal"] == "platform-engineering"
    assert finding.evidence.startswith("group platform-engineering holds Contributor")


def test_enabled_token_password_without_expiry() -> None:
    def token_entry(name: str, status: str, expiry: datetime | None) -> AccessEntry:
        token = RegistryToken(id=f"tok/{name}", name=name, status=status,
                              passwords=(TokenPassword("password1", expiry),))
        return AccessEntry(Principal(None, name, PrincipalType.REGISTRY_TOKEN),
                           (AccessPath(PathKind.TOKEN, rights=PULL_PUSH),), token=token)

    snap = snapshot(access(reg("contososandbox"), token_entry("forever", "enabled", None),
                           token_entry("dated", "enabled", NOW + timedelta(days=20)),
                           token_entry("off", "disabled", None)))
    (finding,) = of(snap, FindingRule.TOKEN_WITHOUT_EXPIRY)
    assert finding.target == {"id": "contososandbox/forever/password1", "registry": "contososandbox",
                              "token": "forever", "password": "password1"}
    assert finding.fix is not None
    assert finding.fix.command == ("acr-console remove-token-password forever --registry contososandbox "
                                   "--password password1")
    assert dict(finding.fix.arguments) == {"token": "forever", "registry": "contososandbox", "password": "password1"}


# -- takeover -------------------------------------------------------------------------------------------


def takeover_path(by: Principal, how: TakeoverHow = TakeoverHow.APPLICATION_OWNER, detail: str = "owner",
                  steps: int = 1, itself: bool = False) -> TakeoverPath:
    return TakeoverPath(by, how, detail, CredentialTarget.APPLICATION, steps, itself=itself)


def test_takeover_rule_is_skipped_and_said_so_when_its_facts_were_not_read() -> None:
    result = evaluate(snapshot(access(reg("r1"), entry(CI))))
    assert [r for r, _why in result.skipped_rules] == [FindingRule.TAKEOVER_BY_UNPRIVILEGED]
    assert "--include-takeover" in result.skipped_rules[0][1]


def test_takeover_by_someone_without_rights_of_their_own_is_one_finding_per_holder() -> None:
    dana = user("oid-dana", "Dana")
    other = sp("oid-other", "other-ci", app_id="app-other")
    pusher_with_rights = sp("oid-push", "pusher", app_id="app-push")
    admin = user("oid-admin", "App Admin")
    takeover = {
        "oid-ci": (takeover_path(dana), takeover_path(pusher_with_rights), takeover_path(CI, itself=True),
                   takeover_path(admin, TakeoverHow.DIRECTORY_ROLE, "Application Administrator")),
        "oid-other": (takeover_path(dana, TakeoverHow.SERVICE_PRINCIPAL_OWNER),
                      takeover_path(admin, TakeoverHow.DIRECTORY_ROLE, "Application Administrator")),
    }
    snap = snapshot(access(reg("r1"), entry(CI), entry(pusher_with_rights)),
                    access(reg("r2"), entry(other, path(rights=frozenset({Right.PULL})))), takeover=takeover)
    found = of(snap, FindingRule.TAKEOVER_BY_UNPRIVILEGED)
    assert sorted(f.target["principal"] for f in found) == ["App Admin", "Dana"]  # not pusher, not ci itself
    dana_finding = next(f for f in found if f.target["principal"] == "Dana")
    assert "2 principal(s) that do (ci-payments, other-ci)" in dana_finding.evidence
    assert "application-owner: owner; service-principal-owner: owner" in dana_finding.evidence
    assert "reaches 2 registries, with push on 1" in dana_finding.evidence
    assert evaluate(snap).skipped_rules == ()


# -- settings: rules off, ignores ---------------------------------------------------------------------


ADMIN = access(reg("contosodev", admin_user_enabled=True))


def test_a_disabled_rule_is_not_evaluated_and_is_reported_as_skipped() -> None:
    result = evaluate(snapshot(ADMIN, settings=FindingSettings(disabled_rules=("admin-user-enabled",))))
    assert result.findings == ()
    assert (FindingRule.ADMIN_USER_ENABLED, "disabled in the configuration ([findings] disabled_rules)") in \
        result.skipped_rules


def test_an_ignore_in_force_hides_the_finding_and_an_expired_one_does_not() -> None:
    keep = FindingIgnore("admin-user-enabled", "CONTOSODEV", "legacy agents", date(2026, 6, 1))  # through today
    result = evaluate(snapshot(ADMIN, settings=FindingSettings(ignore=(keep,))))
    assert result.findings == () and [(f.target_id, i.reason) for f, i in result.ignored] == [("contosodev",
                                                                                               "legacy agents")]
    lapsed = FindingIgnore("admin-user-enabled", "contosodev", "legacy agents", date(2026, 5, 31))
    result = evaluate(snapshot(ADMIN, settings=FindingSettings(ignore=(lapsed,))))
    (finding,) = result.findings
    assert finding.expired_ignore == lapsed and result.ignored == ()
    assert finding_json(finding)["ignoreExpired"] == {"reason": "legacy agents", "expires": "2026-05-31"}


def test_an_ignore_matches_its_rule_only_and_any_value_of_the_target() -> None:
    creds = {"oid-ci": (secret("k-old", end_days=-3),)}
    other_rule = FindingIgnore("admin-user-enabled", "app-ci", "wrong rule")
    by_app_id = FindingIgnore("expired-credential-with-access", "APP-CI", "being retired", None)  # no expiry
    snap = snapshot(access(reg("r1"), entry(CI)), credentials=creds,
                    settings=FindingSettings(ignore=(other_rule,)))
    assert [f.rule for f in evaluate(snap).findings] == [FindingRule.EXPIRED_CREDENTIAL_WITH_ACCESS]
    snap = dataclasses.replace(snap, settings=FindingSettings(ignore=(by_app_id,)))
    assert evaluate(snap).findings == ()


def test_findings_are_most_severe_first_and_json_has_the_issue_shape() -> None:
    creds = {"oid-ci": (secret("k-old", end_days=-3),)}
    snap = snapshot(access(reg("b", anonymous_pull_enabled=True), entry(CI)),
                    access(reg("a", admin_user_enabled=True)), credentials=creds)
    findings = evaluate(snap).findings
    assert [f.severity for f in findings] == [Severity.HIGH, Severity.MEDIUM, Severity.LOW]
    doc = finding_json(findings[0])
    assert set(doc) == {"rule", "severity", "target", "evidence", "fix", "source"}
    assert doc["fix"] == {"operation": "disable-admin-user", "command": "acr-console disable-admin-user --registry a"}
    assert doc["source"] == RULES[FindingRule.ADMIN_USER_ENABLED].source
    assert finding_json(findings[1])["fix"] is not None


def test_every_rule_has_a_severity_and_a_cited_source() -> None:
    assert set(RULES) == set(FindingRule)
    for info in RULES.values():
        assert info.source and info.title
