"""The difference between two tenant access reports (access/report_diff.py), on documents built by hand
in the report's shape (issue 18): `{"generatedAt", "cloud", "tenant", "registries", "entries"}` with
each entry's principal and paths as `access --json` writes them (access/report.py)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from acr_console.access.report_diff import (
    check_comparable,
    check_report,
    diff_reports,
    path_label,
    summary_line,
)
from acr_console.errors import EXIT_USAGE, UsageError

SUB = "/subscriptions/11111111-1111-1111-1111-111111111111"
RG = f"{SUB}/resourceGroups/rg-platform"


def registry(name: str) -> dict[str, Any]:
    return {"id": f"{RG}/providers/Microsoft.ContainerRegistry/registries/{name}", "name": name,
            "loginServer": f"{name}.azurecr.io"}


def principal(object_id: str | None, name: str, kind: str = "servicePrincipal") -> dict[str, Any]:
    return {"objectId": object_id, "appId": None, "displayName": name, "type": kind, "enabled": True}


def role_path(role: str, scope: str, assignment: str | None, groups: tuple[str, ...] = (),
              rights: tuple[str, ...] = ("pull",)) -> dict[str, Any]:
    return {"kind": "role-assignment", "role": role, "scope": scope, "inherited": scope != RG,
            "viaGroups": list(groups), "repositories": None, "confidence": "direct", "rights": list(rights),
            "possible": [], "assignmentId": assignment}


def entry(reg: str, who: dict[str, Any], paths: list[dict[str, Any]], *rights: str) -> dict[str, Any]:
    return {"registry": reg, "principal": who, "pull": "pull" in rights, "push": "push" in rights,
            "delete": "delete" in rights, "paths": paths}


def report(entries: list[dict[str, Any]], registries: tuple[str, ...] = ("prod", "dev"),
           tenant: str = "tenant-a", when: str = "2026-11-01T00:00:00Z") -> dict[str, Any]:
    return {"generatedAt": when, "cloud": "AzureCloud", "tenant": tenant,
            "registries": [registry(r) for r in registries], "entries": entries}


CI = principal("aaaa-1", "ci-pusher")
READER = principal("bbbb-2", "reader")
PUSH_PROD = role_path("AcrPush", f"{RG}/providers/Microsoft.ContainerRegistry/registries/prod", f"{RG}/ra/1",
                      rights=("pull", "push"))
PULL_RG = role_path("AcrPull", RG, f"{RG}/ra/2", groups=("readers",))


def base() -> dict[str, Any]:
    return report([
        entry("prod", CI, [PUSH_PROD], "pull", "push"),
        entry("prod", READER, [PULL_RG], "pull"),
        entry("dev", READER, [PULL_RG], "pull"),
    ])


def test_unchanged_reports_differ_in_nothing() -> None:
    diff = diff_reports(base(), base())
    assert not diff.changed
    assert diff.to_json() == {"gained": [], "lost": [], "pathsAdded": [], "pathsRemoved": [],
                              "registriesAdded": [], "registriesRemoved": []}
    assert summary_line(diff) == "No change: 2 registries, 3 registry × identity pairs compared."


def test_a_new_assignment_is_rights_gained_and_a_path_added() -> None:
    after = base()
    delete = role_path("AcrDelete", f"{RG}/providers/Microsoft.ContainerRegistry/registries/dev", f"{RG}/ra/3",
                       rights=("delete",))
    after["entries"].append(entry("dev", CI, [delete], "delete"))
    diff = diff_reports(base(), after).to_json()
    assert diff["gained"] == [{"registry": "dev", "principal": CI, "rights": ["delete"]}]
    assert diff["pathsAdded"] == [{"registry": "dev", "principal": CI, "path": delete}]
    assert diff["lost"] == diff["pathsRemoved"] == []


def test_a_removed_assignment_is_rights_lost_and_a_path_removed() -> None:
    after = base()
    after["entries"] = [e for e in after["entries"] if e["principal"] is not CI]
    diff = diff_reports(base(), after).to_json()
    assert diff["lost"] == [{"registry": "prod", "principal": CI, "rights": ["pull", "push"]}]
    assert diff["pathsRemoved"] == [{"registry": "prod", "principal": CI, "path": PUSH_PROD}]
    assert diff["gained"] == diff["pathsAdded"] == []


def test_a_second_path_to_rights_already_held_is_a_path_only() -> None:
    after = base()
    pull_direct = role_path("AcrPull", RG, f"{RG}/ra/9")
    after["entries"][1] = entry("prod", READER, [PULL_RG, pull_direct], "pull")
    diff = diff_reports(base(), after)
    assert diff.gained == diff.lost == [] and diff.paths_removed == []
    assert diff.paths_added == [{"registry": "prod", "principal": READER, "path": pull_direct}]
    assert diff.changed


def test_push_lost_but_pull_kept_lists_only_push() -> None:
    after = base()
    downgraded = role_path("AcrPull", PUSH_PROD["scope"], PUSH_PROD["assignmentId"].replace("/1", "/7"))
    after["entries"][0] = entry("prod", CI, [downgraded], "pull")
    diff = diff_reports(base(), after)
    assert [(x["principal"]["displayName"], x["rights"]) for x in diff.lost] == [("ci-pusher", ["push"])]
    assert diff.gained == []
    assert [x["path"]["role"] for x in diff.paths_removed] == ["AcrPush"]
    assert [x["path"]["role"] for x in diff.paths_added] == ["AcrPull"]


def test_a_renamed_principal_with_the_same_object_id_is_no_change() -> None:
    after = base()
    renamed = copy.deepcopy(after)
    renamed["entries"][0]["principal"] = principal("AAAA-1", "ci-pusher (renamed)")  # case of an id is no change
    renamed["generatedAt"] = "2026-12-01T00:00:00Z"
    diff = diff_reports(base(), renamed)
    assert not diff.changed


def test_a_different_object_id_with_the_same_name_is_a_change() -> None:
    """A principal deleted and made again under its old name is another principal (another object id)."""
    after = base()
    after["entries"][0] = entry("prod", principal("cccc-3", "ci-pusher"), [PUSH_PROD], "pull", "push")
    diff = diff_reports(base(), after)
    assert [x["principal"]["objectId"] for x in diff.gained] == ["cccc-3"]
    assert [x["principal"]["objectId"] for x in diff.lost] == ["aaaa-1"]


def test_a_leaver_of_one_group_chain_loses_that_path_even_with_the_same_assignment() -> None:
    """One assignment to a group reaches a member through each chain of groups: the path is the
    assignment and the chain."""
    before = report([entry("prod", READER, [PULL_RG, role_path("AcrPull", RG, f"{RG}/ra/2",
                                                                     groups=("all", "readers"))], "pull")])
    after = report([entry("prod", READER, [PULL_RG], "pull")])
    diff = diff_reports(before, after)
    assert [x["path"]["viaGroups"] for x in diff.paths_removed] == [["all", "readers"]]
    assert diff.lost == []


def test_registry_added_and_removed() -> None:
    before = base()
    after = report([entry("prod", CI, [PUSH_PROD], "pull", "push"), entry("prod", READER, [PULL_RG], "pull"),
                    entry("staging", READER, [PULL_RG], "pull")], registries=("prod", "staging"))
    diff = diff_reports(before, after)
    assert diff.registries_added == [registry("staging")]
    assert diff.registries_removed == [registry("dev")]
    assert [(x["registry"], x["rights"]) for x in diff.gained] == [("staging", ["pull"])]
    assert [(x["registry"], x["rights"]) for x in diff.lost] == [("dev", ["pull"])]
    line = summary_line(diff)
    assert line == ("2 pairs changed, 1 gained rights, 1 lost rights, 1 path added, 1 path removed, "
                    "1 registry added, 1 registry removed (3 registries, 4 registry × identity pairs compared).")


def test_an_empty_registry_appearing_is_a_change() -> None:
    after = base()
    after["registries"].append(registry("empty"))
    diff = diff_reports(base(), after)
    assert diff.changed and diff.registries_added == [registry("empty")] and not diff.gained


def test_entries_name_their_registry_by_id_name_or_login_server_alike() -> None:
    after = base()
    for e, ref in zip(after["entries"], (registry("prod")["id"].upper(), "prod.azurecr.io", registry("dev")),
                      strict=True):
        e["registry"] = ref
    assert not diff_reports(base(), after).changed


def test_tokens_admin_user_and_anonymous_are_one_per_registry() -> None:
    token = {**principal(None, "ci-token", "registryToken"), "appId": None}
    token_entry = {**entry("prod", token, [{"kind": "token", "role": "push-map", "scope": f"{RG}/sm/push-map",
                                            "viaGroups": [], "repositories": ["app"], "assignmentId": None}],
                           "pull", "push"), "token": {"name": "ci-token", "status": "enabled"}}
    admin = entry("dev", principal(None, "admin user", "adminUser"),
                  [{"kind": "admin-user", "role": None, "scope": registry("dev")["id"], "viaGroups": [],
                    "assignmentId": None}], "pull", "push", "delete")
    anon = entry("dev", {**principal(None, "anyone (anonymous pull)", "anonymous"), "enabled": None},
                 [{"kind": "anonymous-pull", "role": None, "scope": registry("dev")["id"], "viaGroups": [],
                   "assignmentId": None}], "pull")
    before = base()
    before["entries"] += [token_entry, admin, anon]
    same = copy.deepcopy(before)
    assert not diff_reports(before, same).changed
    after = copy.deepcopy(before)
    after["entries"] = [e for e in after["entries"] if e["principal"]["type"] != "adminUser"]
    after["entries"][3]["push"] = False  # the token's scope map lost its write action
    diff = diff_reports(before, after)
    assert sorted((x["principal"]["displayName"], tuple(x["rights"])) for x in diff.lost) == [
        ("admin user", ("pull", "push", "delete")), ("ci-token", ("push",))]
    assert [path_label(x["path"]) for x in diff.paths_removed] == ["admin user"]


def test_duplicate_entries_for_one_identity_are_merged() -> None:
    after = base()
    after["entries"].append(entry("prod", CI, [PUSH_PROD], "pull"))
    assert not diff_reports(base(), after).changed


def test_path_labels_say_role_scope_and_groups() -> None:
    assert path_label(PULL_RG) == "AcrPull on resource group rg-platform via readers"
    assert path_label(PUSH_PROD) == "AcrPush on the registry"
    assert path_label(role_path("AcrPush", SUB, "x")) == \
        "AcrPush on subscription 11111111-1111-1111-1111-111111111111"


@pytest.mark.parametrize(("doc", "message"), [
    ([], "the document is a list, not an object"),
    ({"registry": {}, "entries": []}, "one registry's `access --json`, not a tenant report"),
    ({"generatedAt": "x", "cloud": "c", "tenant": "t", "entries": []}, "it has no \"registries\""),
    ({**report([]), "entries": {}}, "\"entries\" is an object, not a list"),
    (report([entry("prod", CI, [], "pull") | {"push": "yes"}]), "entries[0].push is a string, not true/false"),
    (report([{k: v for k, v in entry("prod", CI, [], "pull").items() if k != "principal"}]),
     "entries[0] has no \"principal\""),
    (report([entry("prod", CI, [], "pull") | {"registry": ""}]), "entries[0].registry names no registry"),
    (report([entry("prod", CI, [], "pull") | {"paths": ["AcrPush"]}]), "entries[0].paths is not a list of objects"),
    (report([]) | {"registries": [{"sku": "Basic"}]}, "registries[0] has no id or name"),
])
def test_a_document_that_is_not_a_report_is_refused_with_where(doc: Any, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_report(doc, "old.json")
    assert caught.value.exit_code == EXIT_USAGE
    text = str(caught.value)
    assert text.startswith("old.json: ") and message in text and "\n" not in text


def test_reports_of_two_tenants_or_clouds_are_refused() -> None:
    with pytest.raises(UsageError, match=re.escape("a.json is of tenant tenant-a and b.json of tenant tenant-b")):
        check_comparable(report([]), report([], tenant="tenant-b"), "a.json", "b.json")
    with pytest.raises(UsageError, match="of cloud"):
        check_comparable(report([]), report([]) | {"cloud": "AzureChinaCloud"}, "a.json", "b.json")
    # The same tenant however written: an id's case, or an object holding it.
    assert check_comparable(report([], tenant="TENANT-A"), report([]) | {"tenant": {"id": "tenant-a"}},
                            "a.json", "b.json") == []


def test_reports_given_in_the_wrong_order_are_diffed_with_a_warning() -> None:
    warnings = check_comparable(report([], when="2026-12-01T00:00:00Z"), report([]), "new.json", "old.json")
    assert len(warnings) == 1 and "new.json (2026-12-01T00:00:00Z) is newer than old.json" in warnings[0]
