"""Registry tokens as access paths (acr_console/access/tokens.py): scope-map actions to rights per
repository, as MicrosoftDocs/azure-management-docs `container-registry-token-based-repository-
permissions.md` describes them (actions, `/*` wildcards that add up, root `*`, "The token must have the
`Enabled` status"), checked against the sandbox's own, independent reading of the same rules."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from acr_console.access import rights_by_repository, rights_on, token_credentials, token_entry, with_tokens
from acr_console.access.report import to_json
from acr_console.models import (
    AccessEntry,
    CredentialOwner,
    PathKind,
    Principal,
    PrincipalType,
    Registry,
    RegistryAccess,
    RegistryToken,
    Right,
    ScopeMap,
    TokenPassword,
)
from acr_console.sandbox.registry_tokens import SYSTEM_SCOPE_MAPS, repository_actions

REG = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r"
SERVICE = {Right.PULL: "pull", Right.PUSH: "push", Right.DELETE: "delete", Right.METADATA_READ: "metadata_read",
           Right.METADATA_WRITE: "metadata_write"}


def scope_map(name: str, *actions: str) -> ScopeMap:
    return ScopeMap(id=f"{REG}/scopeMaps/{name}", name=name, actions=actions)


def token(name: str = "ci-token", sm: str = "team-push", status: str = "enabled",
          passwords: tuple[TokenPassword, ...] = ()) -> RegistryToken:
    return RegistryToken(id=f"{REG}/tokens/{name}", name=name, status=status, scope_map_id=f"{REG}/scopeMaps/{sm}",
                         passwords=passwords)


def test_the_docs_example_adds_up_per_repository() -> None:
    actions = ("repositories/sample/*/content/read", "repositories/sample/teamA/*/content/write",
               "repositories/sample/teamA/projectB/content/delete")
    assert rights_on(actions, "sample/teamA/projectB") == {Right.PULL, Right.PUSH, Right.DELETE}
    assert rights_on(actions, "sample/teamA/projectC") == {Right.PULL, Right.PUSH}
    assert rights_on(actions, "sample") == frozenset()  # `sample/*` is what is under sample/
    assert rights_on(actions, "other/app") == frozenset()


def test_invalid_wildcards_and_other_actions_grant_nothing() -> None:
    assert rights_by_repository(["repositories/sample/*/teamA/content/read", "repositories/sample/teamA*/content/read",
                                 "repositories/a/*/b/*/content/read", "gateway/conn/config/read",
                                 "repositories/x/content/sign"]) == {}


def test_a_push_scope_map_gives_one_path_and_root_wildcards_mean_every_repository() -> None:
    entry = token_entry(token(), scope_map("team-push", "repositories/team/*/content/read",
                                           "repositories/team/*/content/write"))
    assert entry.principal == Principal(None, "ci-token", PrincipalType.REGISTRY_TOKEN, enabled=True)
    assert [(p.kind, p.role, p.repositories, p.rights) for p in entry.paths] == [
        (PathKind.TOKEN, "team-push", ("team/*",), frozenset({Right.PULL, Right.PUSH}))]
    admin = SYSTEM_SCOPE_MAPS["_repositories_admin"][1]
    everything = token_entry(token(sm="_repositories_admin"), scope_map("_repositories_admin", *admin))
    assert [(p.repositories, p.rights) for p in everything.paths] == [(None, frozenset(SERVICE))]


def test_rights_on_different_repositories_are_different_paths() -> None:
    entry = token_entry(token(), scope_map("team-push", "repositories/team/*/content/read",
                                           "repositories/base/*/content/read", "repositories/team/*/content/write"))
    assert {(p.repositories, p.rights) for p in entry.paths} == {
        (("base/*", "team/*"), frozenset({Right.PULL})), (("team/*",), frozenset({Right.PUSH}))}


def test_a_disabled_token_or_a_missing_scope_map_grants_nothing_and_the_entry_says_which() -> None:
    sm = scope_map("team-push", "repositories/team/*/content/write")
    off = token_entry(token(status="disabled"), sm)
    assert not off.rights and not off.principal.enabled and off.token is not None and not off.token.enabled
    assert [p.role for p in off.paths] == ["team-push"]
    gone = token_entry(token(sm="deleted-map"), None)
    assert not gone.rights and gone.principal.enabled and [p.role for p in gone.paths] == ["deleted-map"]


def test_tokens_join_the_entries_in_order_and_the_json_has_the_token() -> None:
    registry = Registry(REG, "r", "r.azurecr.io", "rg", "s")
    someone = AccessEntry(Principal("1", "m-principal", PrincipalType.SERVICE_PRINCIPAL))
    expiry = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    access = with_tokens(RegistryAccess(registry, (someone,)),
                         [token("zz-token", passwords=(TokenPassword("password1", expiry),)), token("aa-token")],
                         [scope_map("team-push", "repositories/team/*/content/write")])
    assert [e.principal.display_name for e in access.entries] == ["aa-token", "m-principal", "zz-token"]
    doc = to_json(access)
    assert doc["entries"][2]["token"] == {"name": "zz-token", "status": "enabled", "scopeMap": "team-push",
                                          "credentials": [{"name": "password1", "expiry": "2030-01-02T03:04:05Z"}]}
    assert "token" not in doc["entries"][1] and "tokenReadError" not in doc
    unread = with_tokens(RegistryAccess(registry, (someone,)), [], [], "AuthorizationFailed: no tokens/read")
    assert to_json(unread)["tokenReadError"] == "AuthorizationFailed: no tokens/read"


def test_token_passwords_are_credentials_for_the_radar() -> None:
    when = datetime(2030, 1, 1, tzinfo=UTC)
    [cred] = token_credentials(token(passwords=(TokenPassword("password2", when, when),)))
    assert (cred.owner, cred.display_name, cred.end, cred.key_id) == (
        CredentialOwner.REGISTRY_TOKEN, "password2", when, f"{REG}/tokens/ci-token/password2")


_SEGMENT = st.sampled_from(["team", "app", "base", "sample", "x"])
_RULE = st.one_of(st.just("*"), st.lists(_SEGMENT, min_size=1, max_size=3).map("/".join),
                  st.lists(_SEGMENT, min_size=1, max_size=2).map(lambda p: "/".join(p) + "/*"))
_ACTION = st.tuples(_RULE, st.sampled_from(["content/read", "content/write", "content/delete", "metadata/read",
                                            "metadata/write"])).map(lambda t: f"repositories/{t[0]}/{t[1]}")


@given(st.lists(_ACTION, max_size=6), st.lists(_SEGMENT, min_size=1, max_size=4).map("/".join))
def test_the_console_reads_scope_maps_as_the_sandboxs_token_service_grants(actions: list[str], repository: str) -> None:
    """Per repository, the console's rights are the token service's actions, and the paths say the same
    (a path's repositories cover the repository exactly when it grants its rights there)."""
    console = rights_on(actions, repository)
    assert {SERVICE[r] for r in console} == repository_actions(actions, repository)
    paths = token_entry(token(), scope_map("team-push", *actions)).paths
    from_paths = {r for p in paths if p.repositories is None or any(rights_on([f"repositories/{rule}/content/read"],
                                                                               repository) for rule in p.repositories)
                  for r in p.rights}
    assert from_paths == console
