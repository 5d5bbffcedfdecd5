r"""`StringLike` in ABAC conditions, as Azure evaluates it.

MicrosoftDocs/azure-docs `articles/role-based-access-control/conditions-format.md` (ms.date 11/15/2023),
StringLike: "The values can include a multi-character match wildcard (`*`) or a single-character match
wildcard (`?`) anywhere in the string. If needed, these characters can be escaped by add a backslash
`\*` and `\?`." Examples: `'a*c?'` matches "abcd"; `'A*C?'` does not (case-sensitive); `'a*c'` does not
(the match is anchored to the whole value).

Checked three ways: the documented examples; against a matcher written here from those rules alone;
and, through conditions, against the brute-force truth over repository names and against the
sandbox's own evaluator (acr_console/sandbox/registry_plane.py), which the registry token service
uses (tests/sandbox/test_string_like_tokens.py asks the token service itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acr_console.access.conditions import parse_condition, repository_matches, string_like
from acr_console.sandbox import registry_plane

from .factories import REPO_ATTR, REPO_READ, REPO_WRITE

PROPERTIES = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


# -- the documented examples ------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "pattern", "expected"), [
    ("abcd", "a*c?", True),    # the doc's first example
    ("abcd", "A*C?", False),   # case-sensitive
    ("abcd", "a*c", False),    # anchored: 'a*c' must end in c
    ("ac", "a*c", True),       # `*` may match nothing
    ("abc", "a?c", True),
    ("ac", "a?c", False),      # `?` is exactly one character
    ("abbc", "a?c", False),
    ("a*", r"a\*", True),      # escaped: a literal *
    ("ab", r"a\*", False),
    ("a?", r"a\?", True),
    ("ab", r"a\?", False),
    ("", "*", True),
    ("", "?", False),
    ("team-a/app", "team-?/app*", True),
    ("team-ab/app", "team-?/app*", False),
    (r"a\b", r"a\b", True),    # a backslash before anything else is itself (undocumented)
])
def test_documented_semantics(value: str, pattern: str, expected: bool) -> None:
    assert string_like(value, pattern) is expected
    assert registry_plane._like(value, pattern) is expected  # the sandbox's own matcher


# -- against a reference written from the rules -----------------------------------------------------

# A pattern is made of tokens: a literal character, `*`, `?`, or an escaped `\*` / `\?`.
TOKENS = st.sampled_from(["a", "b", "/", "-", "*", "?", r"\*", r"\?"])
patterns = st.lists(TOKENS, max_size=7).map("".join)
values = st.text(alphabet="ab/-*?", max_size=7)


def reference(value: str, pattern: str) -> bool:
    """Whole-value match over the token list, by dynamic programming (no regular expressions)."""
    tokens: list[tuple[str, str]] = []  # (kind, char): kind "lit", "any" (*), "one" (?)
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?":
            tokens.append(("lit", pattern[i + 1]))
            i += 2
        else:
            tokens.append({"*": ("any", ""), "?": ("one", "")}.get(pattern[i], ("lit", pattern[i])))
            i += 1

    @cache
    def go(t: int, v: int) -> bool:
        if t == len(tokens):
            return v == len(value)
        kind, char = tokens[t]
        if kind == "any":
            return go(t + 1, v) or (v < len(value) and go(t, v + 1))
        if v == len(value):
            return False
        return (kind == "one" or value[v] == char) and go(t + 1, v + 1)

    return go(0, 0)


@PROPERTIES
@given(values, patterns)
def test_string_like_agrees_with_the_reference(value: str, pattern: str) -> None:
    assert string_like(value, pattern) is reference(value, pattern)
    assert registry_plane._like(value, pattern) is reference(value, pattern)


@PROPERTIES
@given(values)
def test_an_escaped_value_matches_only_itself(value: str) -> None:
    escaped = value.replace("*", r"\*").replace("?", r"\?")
    assert string_like(value, escaped)
    assert not string_like(value + "x", escaped)
    assert string_like(value, "*") and string_like(value, "?" * len(value))
    assert not string_like(value, "?" * (len(value) + 1))


# -- through conditions: repository names ---------------------------------------------------------

# Valid repository names (lower case, components joined by `/` or `-`), over a small alphabet so that
# patterns hit them often.
names = st.from_regex(r"[ab]{1,2}([-/][ab]{1,2}){0,2}", fullmatch=True)
LIKE_OPS = ["StringLike", "StringLikeIgnoreCase"]
OTHER_OPS = ["StringEquals", "StringStartsWith", "StringEqualsIgnoreCase", "StringStartsWithIgnoreCase"]
plain_values = st.text(alphabet="ab/-", max_size=4)
case_patterns = st.lists(st.sampled_from(["a", "b", "A", "/", "-", "*", "?", r"\*"]), max_size=6).map("".join)
WRITE_BLOCK = f"!(ActionMatches{{'{REPO_WRITE}'}})"


@dataclass(frozen=True)
class Comparison:
    op: str
    values: tuple[str, ...]

    def render(self) -> str:
        if len(self.values) == 1:
            return f"{REPO_ATTR} {self.op} '{self.values[0]}'"
        listed = ", ".join(f"'{v}'" for v in self.values)
        return f"{REPO_ATTR} ForAnyOfAnyValues:{self.op} {{{listed}}}"

    def holds(self, name: str) -> bool:
        fold = self.op.endswith("IgnoreCase")
        for value in self.values:
            v = value.lower() if fold else value
            if self.op.startswith("StringLike"):
                ok = reference(name, v)
            elif self.op.startswith("StringEquals"):
                ok = name == v
            else:
                ok = name.startswith(v)
            if ok:
                return True
        return False


comparisons = st.one_of(
    st.builds(Comparison, st.sampled_from(LIKE_OPS), st.lists(case_patterns, min_size=1, max_size=3).map(tuple)),
    st.builds(Comparison, st.sampled_from(OTHER_OPS), st.lists(plain_values, min_size=1, max_size=2).map(tuple)),
)
# Conditions of the documented shape: a write block whose repository part is an OR of ANDs.
clauses = st.lists(st.lists(comparisons, min_size=1, max_size=2), min_size=1, max_size=3)


def render(clauses_: list[list[Comparison]]) -> str:
    ors = " OR ".join("(" + " AND ".join(c.render() for c in clause) + ")" for clause in clauses_)
    return f"({WRITE_BLOCK}) OR ({ors})"


def truth(clauses_: list[list[Comparison]], name: str) -> bool:
    return any(all(c.holds(name) for c in clause) for clause in clauses_)


@PROPERTIES
@given(clauses, st.lists(names, min_size=1, max_size=8))
def test_condition_repositories_are_exactly_the_names_it_allows(clauses_: list[list[Comparison]],
                                                                sample: list[str]) -> None:
    """What the analysis reports for a StringLike condition is exactly what it allows, or, where it
    cannot say (an AND of two wildcard patterns), nothing known: never more."""
    parsed = parse_condition(render(clauses_))
    assert parsed is not None
    scope = parsed.scope_for(REPO_WRITE)
    assert parsed.scope_for(REPO_READ).unrestricted  # the block names writes only
    if not scope.understood:
        assert scope.repositories == ()
        assert any(len(clause) > 1 for clause in clauses_)  # only an AND leaves it unsaid
        return
    for name in sample:
        reported = scope.repositories is None or any(repository_matches(p, name) for p in scope.repositories)
        assert reported is truth(clauses_, name), (name, scope.repositories)


@PROPERTIES
@given(clauses, st.lists(names, min_size=1, max_size=8))
def test_the_console_and_the_sandbox_evaluate_alike(clauses_: list[list[Comparison]], sample: list[str]) -> None:
    """The console's reading of a condition and the sandbox's (the token service's) agree on every
    repository name, for both the action the condition names and one it does not."""
    text = render(clauses_)
    parsed = parse_condition(text)
    assert parsed is not None
    sandbox = registry_plane.parse_condition(text)
    for action in (REPO_WRITE, REPO_READ):
        scope = parsed.scope_for(action)
        if not scope.understood:
            continue
        for name in sample:
            console = scope.repositories is None or any(repository_matches(p, name) for p in scope.repositories)
            assert console is sandbox(action, name), (action, name, scope.repositories)


def test_patterns_as_the_analysis_shows_them() -> None:
    def write_scope(ops: str) -> tuple[str, ...] | None:
        parsed = parse_condition(f"({WRITE_BLOCK}) OR ({ops})")
        assert parsed is not None
        return parsed.scope_for(REPO_WRITE).repositories

    assert write_scope(f"{REPO_ATTR} StringLike 'team-?/app*'") == ("team-?/app*",)
    assert write_scope(f"{REPO_ATTR} StringLike 'team/*'") == ("team/*",)  # a prefix
    assert write_scope(f"{REPO_ATTR} StringLike 'team/app'") == ("team/app",)  # exact
    assert write_scope(f"{REPO_ATTR} StringLike 'a*?b**'") == ("a?*b*",)  # wildcard runs written one way
    # An escaped wildcard needs a character no repository name has: it allows none.
    assert write_scope(f"{REPO_ATTR} StringLike 'team/\\*'") == ()
    # A pattern another one covers goes.
    assert write_scope(f"{REPO_ATTR} ForAnyOfAnyValues:StringLike {{'team/*', 'team/a?', 'team-?'}}") == (
        "team-?", "team/*")
    # AND: contained patterns and disjoint ones are exact, the rest is left unsaid.
    assert write_scope(f"{REPO_ATTR} StringLike 'team/*' AND {REPO_ATTR} StringLike 'team/?'") == ("team/?",)
    assert write_scope(f"{REPO_ATTR} StringLike 'team/*' AND {REPO_ATTR} StringLike 'ops/?'") == ()
    unsure = parse_condition(f"({WRITE_BLOCK}) OR ({REPO_ATTR} StringLike 'team/*' AND {REPO_ATTR} StringLike '*/app')")
    assert unsure is not None and not unsure.scope_for(REPO_WRITE).understood
