"""Anonymous pull as an access entry (issue 13 item 3), from the facts of
MicrosoftDocs/azure-management-docs `articles/container-registry/anonymous-pull-access.md`: with
`anonymousPullEnabled` "all registry content [is] publicly available for read (pull) actions", on
every repository whatever repository permissions say, and only reads are offered."""

from __future__ import annotations

import dataclasses

from acr_console.access import analyse, filter_entries, to_json
from acr_console.models import Principal, PrincipalType, Right

from .factories import ABAC, REGISTRY_ID, assignment, registry

ANONYMOUS_ENTRY = {
    "principal": {"objectId": None, "appId": None, "displayName": "anyone (anonymous pull)", "type": "anonymous",
                  "enabled": None},
    "orphaned": False,
    "pull": True,
    "push": False,
    "delete": False,
    "latent": [],
    "paths": [{"kind": "anonymous-pull", "role": None, "scope": REGISTRY_ID, "inherited": False, "viaGroups": [],
               "repositories": None, "confidence": "direct", "rights": ["pull"], "possible": [], "assignmentId": None}],
}
PRINCIPALS = {"a": Principal("a", "aaa-first-by-name", PrincipalType.SERVICE_PRINCIPAL, app_id="app-a")}


def test_anonymous_pull_is_the_first_entry_exactly_as_issue_13_specifies() -> None:
    reg = dataclasses.replace(registry(admin=True), anonymous_pull_enabled=True)
    out = to_json(analyse(reg, [assignment("AcrPush", "a")], {}, PRINCIPALS, {}))
    assert out["entries"][0] == ANONYMOUS_ENTRY
    # Before the admin user and a principal whose name sorts before "anyone".
    assert [e["principal"]["displayName"] for e in out["entries"]] == [
        "anyone (anonymous pull)", "aaa-first-by-name", "admin user"]


def test_every_repository_on_an_abac_registry_too() -> None:
    reg = dataclasses.replace(registry(ABAC), anonymous_pull_enabled=True)
    (entry,) = analyse(reg, [], {}, {}, {}).entries
    assert entry.principal.type is PrincipalType.ANONYMOUS
    assert entry.paths[0].repositories is None and entry.rights == {Right.PULL}


def test_can_pull_lists_it_and_can_push_or_delete_do_not() -> None:
    reg = dataclasses.replace(registry(), anonymous_pull_enabled=True)
    access = analyse(reg, [assignment("AcrPush", "a")], {}, PRINCIPALS, {})
    assert [e.principal.type for e in filter_entries(access, Right.PULL)] == [
        PrincipalType.ANONYMOUS, PrincipalType.SERVICE_PRINCIPAL]
    for right in (Right.PUSH, Right.DELETE):
        assert all(e.principal.type is not PrincipalType.ANONYMOUS for e in filter_entries(access, right))


def test_no_entry_when_it_is_off() -> None:
    out = to_json(analyse(registry(), [assignment("AcrPull", "a")], {}, PRINCIPALS, {}))
    assert all(e["principal"]["type"] != "anonymous" for e in out["entries"])
