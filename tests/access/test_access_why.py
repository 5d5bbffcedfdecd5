"""Issue 16, "the why": one path per assignment, the rights each path names, inner groups, and ABAC
repository limits where a person reads them (pure: the analysis and its presentation)."""

from __future__ import annotations

from acr_console.access import (
    analyse,
    condition_limits,
    groups_of,
    parse_condition,
    reach,
    repository_condition,
    to_json,
)
from acr_console.models import Confidence, Right
from acr_console.presentation import can_text, describe_path, right_mark
from acr_console.roles import builtin_by_name

from .factories import (
    ABAC,
    LEGACY,
    META_READ,
    REPO_READ,
    REPO_WRITE,
    assignment,
    condition,
    custom_role,
    group,
    registry,
    sp,
    starts_with,
)

PROMOTER = "c0000000-0000-0000-0000-0000000000aa"
ACR = "Microsoft.ContainerRegistry/registries/"


def test_a_custom_role_with_a_wildcard_is_one_path_naming_what_is_only_possible() -> None:
    # The demo's "Contoso Image Promoter": pull/read and push/write, plus */read, which reaches
    # quarantine/read only by a wildcard (possible). It was listed twice, once per confidence.
    role = custom_role(PROMOTER, "Contoso Image Promoter",
                       actions=(f"{ACR}pull/read", f"{ACR}push/write", f"{ACR}importImage/action", f"{ACR}*/read"))
    access = analyse(registry(LEGACY), [assignment(PROMOTER, "sp-1")], {PROMOTER: role}, {"sp-1": sp("sp-1")}, {})
    (entry,) = access.entries
    (path,) = entry.paths
    assert path.confidence is Confidence.DIRECT
    assert path.rights == {Right.PULL, Right.PUSH, Right.QUARANTINE_READ}
    assert path.possible == {Right.QUARANTINE_READ}
    (doc_path,) = to_json(access)["entries"][0]["paths"]
    assert doc_path["confidence"] == "direct" and doc_path["possible"] == ["quarantineRead"]
    assert describe_path(path).plain == ("Contoso Image Promoter @ registry: pull, push "
                                         "(possibly quarantineRead: wildcard)")


def test_each_path_names_the_rights_it_grants() -> None:
    access = analyse(registry(LEGACY), [assignment("AcrPush", "sp-1"), assignment("AcrDelete", "sp-1")], {},
                     {"sp-1": sp("sp-1")}, {})
    (entry,) = access.entries
    assert [describe_path(p).plain for p in entry.paths] == ["AcrDelete @ registry: delete",
                                                            "AcrPush @ registry: pull, push"]
    assert can_text(entry) == "pull, push, delete"


WRITER_LIMITED = condition(((REPO_READ, META_READ), starts_with("team/")),
                           ((REPO_WRITE, ACR + "repositories/metadata/write"), starts_with("team/")))


def test_a_repository_limited_push_is_marked_as_limited() -> None:
    access = analyse(registry(ABAC), [assignment("Container Registry Repository Writer", "sp-1",
                                                 condition=WRITER_LIMITED)], {}, {"sp-1": sp("sp-1")}, {})
    (entry,) = access.entries
    assert reach(entry, Right.PUSH) == ("team/*",)
    assert right_mark(entry, Right.PUSH).plain == "◐"
    assert right_mark(entry, Right.DELETE).plain == "·"
    assert can_text(entry) == "pull on team/*, push on team/*"
    (path,) = entry.paths
    assert describe_path(path, ABAC).plain == "Container Registry Repository Writer @ registry: pull, push on team/*"


def test_an_unlimited_grant_beside_a_limited_one_is_full() -> None:
    access = analyse(registry(ABAC), [
        assignment("Container Registry Repository Writer", "sp-1", condition=WRITER_LIMITED),
        assignment("Container Registry Repository Writer", "sp-1", scope=registry(ABAC).id.rsplit("/providers/", 1)[0]),
    ], {}, {"sp-1": sp("sp-1")}, {})
    (entry,) = access.entries
    assert reach(entry, Right.PUSH) is None
    assert right_mark(entry, Right.PUSH).plain == "✓"


def test_groups_of_names_inner_groups_so_a_filter_finds_them() -> None:
    outer = group("g-outer", "acr-pushers", "g-inner")
    inner = group("g-inner", "team-payments-ci", "sp-1")
    access = analyse(registry(LEGACY), [assignment("AcrPush", "g-outer", principal_type="Group")], {},
                     {"sp-1": sp("sp-1", "github-actions-payments")}, {"g-outer": outer, "g-inner": inner})
    (entry,) = access.entries
    assert groups_of(entry) == ("acr-pushers", "team-payments-ci")


# The condition Microsoft documents for Repository Reader on the repository `nginx`
# (MicrosoftDocs/azure-management-docs articles/container-registry/container-registry-rbac-abac-repository-
# permissions.md, "Scope role assignment to a specific repository", Azure CLI tab), whitespace removed.
DOCUMENTED_NGINX = ("((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'})AND"
                    "!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'}))OR"
                    "(@Request[Microsoft.ContainerRegistry/registries/repositories:name]StringEqualsIgnoreCase'nginx'))")


def test_the_built_condition_is_the_documented_one() -> None:
    reader = builtin_by_name("Container Registry Repository Reader")
    assert reader is not None
    built = repository_condition(reader.data_actions, ["nginx"])
    assert "".join(built.split()) == DOCUMENTED_NGINX


def test_a_prefix_is_starts_with_and_keeps_its_slash() -> None:
    built = repository_condition([REPO_WRITE], ["team/", "tools/*"])
    assert "StringStartsWithIgnoreCase 'team/'" in built
    assert "StringStartsWithIgnoreCase 'tools/'" in built
    parsed = parse_condition(built, "2.0")
    assert parsed is not None
    assert parsed.scope_for(REPO_WRITE).repositories == ("team/*", "tools/*")
    assert parsed.scope_for(ACR + "repositories/content/delete").unrestricted


def test_condition_limits_for_the_principal_view() -> None:
    assert condition_limits(None) is None
    assert condition_limits(WRITER_LIMITED) == "pull, push only on team/*"
    writer = builtin_by_name("Container Registry Repository Contributor")
    assert writer is not None
    assert condition_limits(repository_condition(writer.data_actions, ["a/"])) == "pull, push, delete only on a/*"
