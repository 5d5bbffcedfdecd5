from __future__ import annotations

import pytest

from acr_console.access.conditions import RepositoryScope, parse_condition, repositories_for

from .factories import (
    CATALOG_READ,
    META_READ,
    META_WRITE,
    REPO_ATTR,
    REPO_DELETE,
    REPO_READ,
    REPO_WRITE,
    condition,
    equals,
    starts_with,
)

READS = (REPO_READ, META_READ)
WRITES = (REPO_WRITE, META_WRITE)

DOCUMENTED = (
    "( ( !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND "
    "!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'}) ) OR "
    "( @Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase "
    "'hello-world' ) )"
)


@pytest.mark.parametrize("text", [None, "", "   \n"])
def test_no_condition_is_unrestricted(text: str | None) -> None:
    assert parse_condition(text) is None
    assert repositories_for(text, REPO_WRITE) is None


def test_documented_example() -> None:
    parsed = parse_condition(DOCUMENTED)
    assert parsed is not None and parsed.understood
    assert parsed.actions == READS
    assert parsed.scope_for(REPO_READ) == RepositoryScope(("hello-world",))
    assert parsed.scope_for(META_READ) == RepositoryScope(("hello-world",))
    # Only reads are named, so writes and deletes stay registry-wide.
    assert parsed.scope_for(REPO_WRITE) == RepositoryScope(None)
    assert parsed.scope_for(REPO_DELETE).unrestricted
    assert not parsed.restricts(REPO_WRITE)
    assert parsed.restricts(REPO_READ)


@pytest.mark.parametrize(
    ("text", "action", "expected"),
    [
        (condition((READS, equals("hello-world"))), REPO_READ, ("hello-world",)),
        (condition((READS, equals("Hello-World"))), REPO_READ, ("hello-world",)),
        (condition((READS, starts_with("backend/"))), REPO_READ, ("backend/*",)),
        (condition((READS, starts_with("backend"))), REPO_READ, ("backend*",)),
        (
            condition((READS + WRITES, f"{equals('a')} OR {equals('b')} OR {starts_with('team/')}")),
            REPO_WRITE,
            ("a", "b", "team/*"),
        ),
        # An exact name inside a prefix adds nothing.
        (condition((READS, f"{starts_with('team/')} OR {equals('team/api')}")), REPO_READ, ("team/*",)),
        # A shorter prefix covers a longer one.
        (condition((READS, f"{starts_with('team/api')} OR {starts_with('team/')}")), REPO_READ, ("team/*",)),
        (condition((READS, f"{starts_with('team/')} AND {equals('team/api')}")), REPO_READ, ("team/api",)),
        (condition((READS, f"{starts_with('team/')} AND {starts_with('team/api/')}")), REPO_READ, ("team/api/*",)),
        (condition((READS, f"{starts_with('a/')} AND {starts_with('b/')}")), REPO_READ, ()),
        (condition((READS, f"{equals('a')} AND {equals('b')}")), REPO_READ, ()),
        (condition((READS, starts_with(""))), REPO_READ, None),  # every name starts with ''
        # Separate blocks for reads and writes combine per action.
        (condition((READS, equals("app")), (WRITES, equals("app-dev"))), REPO_READ, ("app",)),
        (condition((READS, equals("app")), (WRITES, equals("app-dev"))), REPO_WRITE, ("app-dev",)),
        (condition((READS, equals("app")), (WRITES, equals("app-dev"))), REPO_DELETE, None),
        (f"{REPO_ATTR} ForAnyOfAnyValues:StringEqualsIgnoreCase {{'x', 'y'}}", REPO_DELETE, ("x", "y")),
        (f"{REPO_ATTR} StringLikeIgnoreCase 'svc/*'", REPO_READ, ("svc/*",)),
        (f"{REPO_ATTR} StringLike 'svc'", REPO_READ, ("svc",)),
        (f"{REPO_ATTR} StringEquals 'svc'", REPO_READ, ("svc",)),
        # Repository names are lower case: a case-sensitive comparison with capitals matches nothing.
        (f"{REPO_ATTR} StringEquals 'Svc'", REPO_READ, ()),
        (f"{REPO_ATTR} StringStartsWith 'Svc/'", REPO_READ, ()),
        # Alternative operator spellings.
        (
            f"(!ActionMatches{{'{REPO_READ}'}} && !ActionMatches{{'{META_READ}'}}) || {equals('x')}",
            REPO_READ,
            ("x",),
        ),
        (f"NOT ActionMatches{{'{REPO_READ}'}} or {equals('x')}", REPO_READ, ("x",)),
        # ActionMatches patterns may use wildcards.
        (
            f"!(ActionMatches{{'Microsoft.ContainerRegistry/registries/repositories/content/*'}}) OR {equals('x')}",
            REPO_WRITE,
            ("x",),
        ),
        (f"!(ActionMatches{{'{REPO_READ}'}})", REPO_READ, ()),  # denies reads outright
        (f"!(ActionMatches{{'{REPO_READ}'}})", REPO_WRITE, None),
        # Action names are matched case-insensitively.
        (condition(((REPO_READ.upper(),), equals("x"))), REPO_READ, ("x",)),
    ],
)
def test_repositories_for(text: str, action: str, expected: tuple[str, ...] | None) -> None:
    parsed = parse_condition(text)
    assert parsed is not None and parsed.understood, text
    assert parsed.scope_for(action) == RepositoryScope(expected)
    assert repositories_for(text, action) == expected


@pytest.mark.parametrize(
    "text",
    [
        "this is not a condition",
        "((",
        f"{REPO_ATTR} StringEqualsIgnoreCase",
        f"{REPO_ATTR} StringEqualsIgnoreCase 'a' 'b'",
        f"!(ActionMatches{{'{REPO_READ}'}}) OR ( {equals('x')}",
        "ActionMatches{}",
        "@Request[unterminated StringEquals 'x'",
        "💥",
        "(" * 500 + ")" * 500,
    ],
)
def test_garbage_is_not_understood_and_allows_nothing(text: str) -> None:
    parsed = parse_condition(text)
    assert parsed is not None
    assert not parsed.understood
    for action in (REPO_READ, REPO_WRITE, CATALOG_READ):
        scope = parsed.scope_for(action)
        assert scope == RepositoryScope((), understood=False)
        assert not scope.denied and not scope.unrestricted


@pytest.mark.parametrize(
    ("text", "read", "write"),
    [
        # An attribute this module does not model, in the read block only: reads unknown, writes free.
        (
            condition((READS, "@Resource[Microsoft.ContainerRegistry/registries:tags] StringEquals 'x'")),
            RepositoryScope((), understood=False),
            RepositoryScope(None),
        ),
        # The complement of a name cannot be listed.
        (
            condition((READS, f"{REPO_ATTR} StringNotEquals 'secret'")),
            RepositoryScope((), understood=False),
            RepositoryScope(None),
        ),
        (
            condition((READS, f"NOT {equals('secret')}")),
            RepositoryScope((), understood=False),
            RepositoryScope(None),
        ),
        (
            condition((READS, f"SubOperationMatches{{'x'}} OR {equals('a')}")),
            RepositoryScope((), understood=False),
            RepositoryScope(None),
        ),
        # An unknown term OR-ed with something already true does not matter.
        (
            condition((WRITES, f"{equals('a')} OR @Principal[x] StringEquals 'y'")),
            RepositoryScope(None),
            RepositoryScope((), understood=False),
        ),
    ],
)
def test_partly_understood(text: str, read: RepositoryScope, write: RepositoryScope) -> None:
    parsed = parse_condition(text)
    assert parsed is not None
    assert not parsed.understood
    assert parsed.scope_for(REPO_READ) == read
    assert parsed.scope_for(REPO_WRITE) == write


def test_unknown_version_is_not_understood() -> None:
    parsed = parse_condition(DOCUMENTED, "1.0")
    assert parsed is not None and not parsed.understood
    assert parsed.scope_for(REPO_WRITE) == RepositoryScope((), understood=False)
    assert parse_condition(DOCUMENTED, None) == parse_condition(DOCUMENTED, "2.0")


def test_catalog_is_untouched_by_repository_conditions() -> None:
    # Catalog Lister takes no condition; a repository condition does not name catalog/read.
    parsed = parse_condition(condition((READS + WRITES, equals("a"))))
    assert parsed is not None
    assert parsed.scope_for(CATALOG_READ).unrestricted


def test_keywords_are_case_insensitive() -> None:
    text = f"( !(actionmatches{{'{REPO_READ}'}}) or {REPO_ATTR} stringequalsignorecase 'x' )"
    parsed = parse_condition(text)
    assert parsed is not None and parsed.understood
    assert parsed.scope_for(REPO_READ).repositories == ("x",)


def test_attribute_name_is_case_insensitive() -> None:
    text = "@request[microsoft.containerregistry/REGISTRIES/repositories:NAME] StringEqualsIgnoreCase 'x'"
    assert repositories_for(text, REPO_READ) == ("x",)


@pytest.mark.parametrize("operator", ["StringEquals", "StringEqualsIgnoreCase", "StringStartsWith",
                                      "StringStartsWithIgnoreCase"])
@pytest.mark.parametrize("value", ["team/*", "team?/app", "*", "team\\app"])
def test_literal_operators_take_wildcards_literally(operator: str, value: str) -> None:
    """StringEquals and StringStartsWith compare literally (conditions-format.md: "The values must
    exactly match the string"): `*`, `?` and `\\` are themselves, and no repository name has one, so
    the value allows no repository (found by tests/reliability/test_access_agrees_with_token_service.py:
    `StringEquals 'team/*'` was reported as every repository under team/)."""
    text = condition(((REPO_READ,), f"{REPO_ATTR} {operator} '{value}'"))
    assert parse_condition(text, "2.0").scope_for(REPO_READ) == RepositoryScope(())
    # Beside a value that does name repositories, only that one counts.
    both = condition(((REPO_READ,), f"{REPO_ATTR} ForAnyOfAnyValues:{operator} {{'{value}', 'base/'}}"))
    expected = ("base/",) if operator.startswith("StringEquals") else ("base/*",)
    assert parse_condition(both, "2.0").scope_for(REPO_READ) == RepositoryScope(expected)
