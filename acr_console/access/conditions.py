r"""ABAC role-assignment conditions (``conditionVersion`` 2.0) restricting ACR repositories.

The documented shape (docs/reference/acr-access.md §2.1) is one block per restricted action set::

    ( ( !(ActionMatches{'…/repositories/content/read'}) AND !(ActionMatches{'…/metadata/read'}) )
      OR ( @Request[Microsoft.ContainerRegistry/registries/repositories:name]
           StringEqualsIgnoreCase 'hello-world' ) )

possibly several such blocks joined by AND, and several comparisons joined by OR. Rather than
pattern-matching that text, the condition is parsed into a boolean expression and *evaluated per
action*: ``ActionMatches`` becomes true or false for the action in question, which leaves a formula
over the repository name whose solution is a set of exact names and prefixes. So a condition that
only names read actions leaves write unrestricted, and blocks for different actions combine.

Supported comparisons on ``@Request[Microsoft.ContainerRegistry/registries/repositories:name]``:
``StringEquals[IgnoreCase]``, ``StringStartsWith[IgnoreCase]``, ``StringLike[IgnoreCase]``, each
optionally as ``ForAnyOfAnyValues:<op> {'a', 'b'}``. ACR repository names are lower case
(distribution spec), so a case-sensitive comparison against a value with capitals matches nothing.
Anything else (negated operators, other attributes, other functions) is *not understood*: where it
can change the outcome for an action, that action gets no known repository (``()``), never more than
the condition could allow.

``StringLike`` is matched as Azure documents it (MicrosoftDocs/azure-docs `articles/role-based-access-
control/conditions-format.md`, StringLike: "The values can include a multi-character match wildcard
(``*``) or a single-character match wildcard (``?``) anywhere in the string. If needed, these
characters can be escaped by add a backslash ``\*`` and ``\?``"; ``'a*c'`` does not match "abcd"):
``*`` any run of characters, the empty one included; ``?`` exactly one character; ``\*`` and ``\?``
a literal ``*`` and ``?``; anchored to the whole name (:func:`string_like`). How a backslash before
any other character reads is not documented: here it is a literal backslash. A value is kept as a
pattern over repository names: an exact name, a prefix (``team/*``) or a wildcard pattern
(``team-?/app*``), shown with the same ``*`` and ``?``. No repository name contains ``*``, ``?`` or
``\`` (the distribution spec's name grammar), so a value needing one of them literally allows no
repository. Where two wildcard patterns must both hold (AND) and neither contains nor excludes the
other, the result is not understood rather than guessed.

Results are per action (:meth:`ParsedCondition.scope_for`); what a repository list means for an
action without a repository in the request (catalog, quarantine, control plane) is the analysis's
call. Catalog Lister takes no condition; its ``catalog/read`` is unaffected by the usual conditions
because they do not name it. Delegation conditions on ``roleAssignments/write`` (``GuidEquals``
sets of role ids) parse, but their attributes are not modelled, so those actions come out as not
understood while every other action keeps its answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from acr_console.access.permissions import action_matches

REPOSITORY_ATTRIBUTE = "microsoft.containerregistry/registries/repositories:name"
MAX_NESTING = 64

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<attr>@(?P<source>[A-Za-z]+)\[(?P<name>[^\]]*)\])
  | (?P<string>'(?P<text>[^']*)')
  | (?P<op>&&|\|\||[!(){},])
  | (?P<guid>[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}(?![\w-]))
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?![\w-]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_:.]*)
    """,
    re.VERBOSE,
)


class _NotUnderstood(Exception):
    """The text is not a condition this module can parse."""


# ---- repository sets ---------------------------------------------------------------------------
# A value of the evaluated expression: ALL (no restriction), UNKNOWN (not understood), or a finite
# union of exact names and prefixes (empty = nothing). Patterns are lower-case.

_EQ = "eq"
_PREFIX = "prefix"
_LIKE = "like"  # a wildcard pattern: `*` any run, `?` one character, no escapes (see _like_pattern)
_Pattern = tuple[str, str]  # (kind, lower-case value)
_UNSURE = ("unsure", "")  # an intersection this module cannot write as one pattern
# Characters the distribution spec's repository-name grammar has no place for, and that patterns use.
_NOT_IN_NAMES = re.compile(r"[*?\\]")


@dataclass(frozen=True, slots=True)
class _RepoSet:
    kind: str  # "all" | "unknown" | "some"
    patterns: frozenset[_Pattern] = frozenset()


_ALL = _RepoSet("all")
_UNKNOWN = _RepoSet("unknown")
_NONE = _RepoSet("some")


def string_like(value: str, pattern: str) -> bool:
    """Azure's ``StringLike``, case-sensitive (fold both sides for ``StringLikeIgnoreCase``): ``*`` any
    run including the empty one, ``?`` exactly one character, ``\\*`` and ``\\?`` literal, anchored
    to the whole value (module docstring)."""
    return _like_regex(pattern).fullmatch(value) is not None


@lru_cache(maxsize=4096)
def _like_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _canonical_glob(glob: str) -> str:
    """A run of wildcards written one way (``?`` first, then at most one ``*``), so patterns that
    match the same names are equal."""
    return re.sub(r"[*?]+", lambda m: "?" * m.group(0).count("?") + ("*" if "*" in m.group(0) else ""), glob)


def _like_pattern(value: str) -> _Pattern | None:
    """A StringLike value (lower case) as a pattern over repository names; None when it needs a
    character no repository name has (an escaped ``*`` or ``?``, a backslash)."""
    if "\\" in value:
        return None
    glob = _canonical_glob(value)
    if "?" not in glob and "*" not in glob.removesuffix("*"):
        return (_PREFIX, glob[:-1]) if glob.endswith("*") else (_EQ, glob)
    return (_LIKE, glob)


def _glob(p: _Pattern) -> str:
    return p[1] + "*" if p[0] == _PREFIX else p[1]


@lru_cache(maxsize=4096)
def _glob_covers(a: str, b: str) -> bool:
    """Whether glob a matches every name glob b matches (a sound test: True only when it does)."""

    @cache
    def go(i: int, j: int) -> bool:
        if i == len(a):
            return j == len(b)
        if a[i] == "*":
            return any(go(i + 1, k) for k in range(j, len(b) + 1))
        if j == len(b) or b[j] == "*":
            return False  # only a `*` of a takes a `*` of b
        if a[i] == "?":
            return go(i + 1, j + 1)
        return a[i] == b[j] and go(i + 1, j + 1)

    return go(0, 0)


def _covers(a: _Pattern, b: _Pattern) -> bool:
    """Whether pattern a matches every name pattern b matches."""
    return _glob_covers(_glob(a), _glob(b))


def _some(patterns: set[_Pattern]) -> _RepoSet:
    if (_PREFIX, "") in patterns:
        return _ALL
    patterns.discard((_EQ, ""))
    # A pattern another one covers goes; of two that cover each other, the smaller text stays.
    kept = {p for p in patterns
            if not any(q != p and _covers(q, p) and (not _covers(p, q) or _glob(q) < _glob(p)) for q in patterns)}
    return _RepoSet("some", frozenset(kept))


def _literal_ends(glob: str) -> tuple[str, str]:
    """The text before the first wildcard and after the last one: every matching name has them."""
    head = re.split(r"[*?]", glob, maxsplit=1)[0]
    tail = re.split(r"[*?]", glob)[-1]
    return head, tail


def _intersect_patterns(a: _Pattern, b: _Pattern) -> _Pattern | None:
    """The names both match, as one pattern; None: none; `_UNSURE`: not writable as one pattern."""
    if a[0] == _EQ and b[0] == _EQ:
        return a if a == b else None
    if a[0] == _EQ:
        return a if string_like(a[1], _glob(b)) else None
    if b[0] == _EQ:
        return b if string_like(b[1], _glob(a)) else None
    if _covers(b, a):
        return a
    if _covers(a, b):
        return b
    (head_a, tail_a), (head_b, tail_b) = _literal_ends(_glob(a)), _literal_ends(_glob(b))
    if not (head_a.startswith(head_b) or head_b.startswith(head_a)):
        return None
    if not (tail_a.endswith(tail_b) or tail_b.endswith(tail_a)):
        return None
    return _UNSURE


def _union(values: list[_RepoSet]) -> _RepoSet:
    if any(v.kind == "all" for v in values):
        return _ALL
    if any(v.kind == "unknown" for v in values):
        return _UNKNOWN
    merged: set[_Pattern] = set()
    for v in values:
        merged |= v.patterns
    return _some(merged)


def _intersection(values: list[_RepoSet]) -> _RepoSet:
    if any(v.kind == "some" and not v.patterns for v in values):
        return _NONE
    if any(v.kind == "unknown" for v in values):
        return _UNKNOWN
    result = _ALL
    for v in values:
        if v.kind == "all":
            continue
        if result.kind == "all":
            result = v
            continue
        out = {p for a in result.patterns for b in v.patterns if (p := _intersect_patterns(a, b)) is not None}
        if _UNSURE in out:
            return _UNKNOWN
        result = _some(out)
    return result


def _negation(value: _RepoSet) -> _RepoSet:
    if value.kind == "all":
        return _NONE
    if value.kind == "some" and not value.patterns:
        return _ALL
    return _UNKNOWN  # the complement of some names is not representable


# ---- expression tree ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _And:
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Or:
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Not:
    item: _Node


@dataclass(frozen=True, slots=True)
class _ActionMatches:
    patterns: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class _Repository:
    """A repository-name comparison, already solved: the names it accepts."""

    value: _RepoSet


@dataclass(frozen=True, slots=True)
class _Opaque:
    """A well-formed term this module does not model (another attribute, operator or function)."""

    text: str


_Node = _And | _Or | _Not | _ActionMatches | _Repository | _Opaque


def _tokenise(text: str) -> list[tuple[str, str, str]]:
    tokens: list[tuple[str, str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _NotUnderstood(f"unexpected character at {pos}")
        pos = m.end()
        if m.group("ws"):
            continue
        if m.group("attr"):
            tokens.append(("attr", m.group("source"), m.group("name")))
        elif m.group("string") is not None:
            tokens.append(("string", m.group("text"), ""))
        elif m.group("op"):
            tokens.append(("op", m.group("op"), ""))
        elif m.group("guid") or m.group("number"):
            # Unquoted literals: GUID sets in delegation conditions, numbers elsewhere.
            tokens.append(("literal", m.group(0), ""))
        else:
            tokens.append(("word", m.group("word"), ""))
    return tokens


def _comparison(source: str, attribute: str, operator: str, values: tuple[str, ...], is_set: bool) -> _Node:
    raw = f"@{source}[{attribute}] {operator}"
    if source.lower() != "request" or attribute.strip().lower() != REPOSITORY_ATTRIBUTE:
        return _Opaque(raw)
    op = operator.lower()
    if op.startswith("foranyofanyvalues:"):
        op = op.split(":", 1)[1]
    elif ":" in op or is_set:
        return _Opaque(raw)
    ignore_case = op.endswith("ignorecase")
    base = op.removesuffix("ignorecase")
    patterns: set[_Pattern] = set()
    for value in values:
        if not ignore_case and value != value.lower():
            continue  # repository names are lower case: a case-sensitive capital never matches
        lowered = value.lower()
        if base in ("stringequals", "stringstartswith") and _NOT_IN_NAMES.search(lowered):
            # StringEquals and StringStartsWith compare literally (conditions-format.md: "The values
            # must exactly match the string"): a `*`, `?` or `\` there is that character, which no
            # repository name has, so the value matches none. Kept as a pattern it would read as a
            # wildcard (`StringEquals 'team/*'` as every repository under team/).
            continue
        if base == "stringequals":
            patterns.add((_EQ, lowered))
        elif base == "stringstartswith":
            patterns.add((_PREFIX, lowered))
        elif base == "stringlike":
            pattern = _like_pattern(lowered)
            if pattern is not None:
                patterns.add(pattern)
        else:
            return _Opaque(raw)
    return _Repository(_some(patterns))


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> tuple[str, str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str, str]:
        token = self.peek()
        if token is None:
            raise _NotUnderstood("unexpected end")
        self.pos += 1
        return token

    def expect_op(self, op: str) -> None:
        kind, value, _ = self.take()
        if kind != "op" or value != op:
            raise _NotUnderstood(f"expected {op!r}")

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        if token is None:
            return False
        kind, value, _ = token
        return (kind == "word" and value.upper() in words) or (kind == "op" and value in words)

    def parse(self) -> _Node:
        node = self.disjunction()
        if self.peek() is not None:
            raise _NotUnderstood("trailing text")
        return node

    def disjunction(self) -> _Node:
        items = [self.conjunction()]
        while self.at_keyword("OR", "||"):
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else _Or(tuple(items))

    def conjunction(self) -> _Node:
        items = [self.unary()]
        while self.at_keyword("AND", "&&"):
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else _And(tuple(items))

    def unary(self) -> _Node:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _NotUnderstood("nested too deeply")
        try:
            if self.at_keyword("NOT", "!"):
                self.take()
                return _Not(self.unary())
            return self.primary()
        finally:
            self.depth -= 1

    def string_values(self) -> tuple[tuple[str, ...], bool]:
        kind, value, _ = self.take()
        if kind in ("string", "literal"):
            return (value,), False
        if kind != "op" or value != "{":
            raise _NotUnderstood("expected a value")
        values: list[str] = []
        while True:
            kind, value, _ = self.take()
            if kind not in ("string", "literal"):
                raise _NotUnderstood("expected a value")
            values.append(value)
            kind, value, _ = self.take()
            if kind == "op" and value == "}":
                return tuple(values), True
            if kind != "op" or value != ",":
                raise _NotUnderstood("expected ',' or '}'")

    def primary(self) -> _Node:
        kind, value, extra = self.take()
        if kind == "op" and value == "(":
            node = self.disjunction()
            self.expect_op(")")
            return node
        if kind == "word" and value.lower() in ("actionmatches", "suboperationmatches"):
            patterns, _ = self.string_values()
            if value.lower() == "suboperationmatches":
                return _Opaque(value)
            return _ActionMatches(patterns)
        if kind == "attr":
            op_kind, operator, _ = self.take()
            if op_kind != "word":
                raise _NotUnderstood("expected an operator")
            values, is_set = self.string_values()
            return _comparison(value, extra, operator, values, is_set)
        if kind == "word" and (following := self.peek()) is not None and following[0] == "attr":
            self.take()  # a unary function such as Exists @Request[...]
            return _Opaque(value)
        raise _NotUnderstood(f"unexpected {value!r}")


def _push_negation(node: _Node, negate: bool = False) -> _Node:
    """Negation normal form: NOT only on ActionMatches, so double negations cancel exactly.

    A negated repository comparison stays opaque: the complement of some names is not listable.
    """
    match node:
        case _And(items):
            pushed = tuple(_push_negation(i, negate) for i in items)
            return _Or(pushed) if negate else _And(pushed)
        case _Or(items):
            pushed = tuple(_push_negation(i, negate) for i in items)
            return _And(pushed) if negate else _Or(pushed)
        case _Not(item):
            return _push_negation(item, not negate)
        case _ActionMatches(patterns, negated):
            return _ActionMatches(patterns, negated != negate)
        case _Repository(value) if negate:
            flipped = _negation(value)
            return _Opaque("NOT repository comparison") if flipped.kind == "unknown" else _Repository(flipped)
        case _:
            return node


def _evaluate(node: _Node, action: str) -> _RepoSet:
    match node:
        case _And(items):
            return _intersection([_evaluate(i, action) for i in items])
        case _Or(items):
            return _union([_evaluate(i, action) for i in items])
        case _Not(item):
            return _negation(_evaluate(item, action))
        case _ActionMatches(patterns, negated):
            matched = any(action_matches(p, action) for p in patterns)
            return _ALL if matched != negated else _NONE
        case _Repository(value):
            return value
        case _:
            return _UNKNOWN


def _opaque_terms(node: _Node) -> bool:
    match node:
        case _And(items) | _Or(items):
            return any(_opaque_terms(i) for i in items)
        case _Not(item):
            return _opaque_terms(item)
        case _Opaque():
            return True
        case _:
            return False


def _action_patterns(node: _Node, out: list[str]) -> None:
    match node:
        case _And(items) | _Or(items):
            for i in items:
                _action_patterns(i, out)
        case _Not(item):
            _action_patterns(item, out)
        case _ActionMatches(patterns):
            out.extend(p for p in patterns if p not in out)
        case _:
            pass


# ---- public API --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepositoryScope:
    """What a condition allows for one action.

    ``repositories`` None: every repository; a tuple: only these (``prefix*`` for prefixes);
    ``()`` with ``understood`` True: the condition denies the action; ``()`` with ``understood``
    False: the condition could not be read, so no repository is known to be allowed.
    """

    repositories: tuple[str, ...] | None
    understood: bool = True

    @property
    def unrestricted(self) -> bool:
        return self.repositories is None

    @property
    def denied(self) -> bool:
        return self.understood and self.repositories == ()


UNRESTRICTED = RepositoryScope(None)


@dataclass(frozen=True, slots=True)
class ParsedCondition:
    text: str
    understood: bool  # parsed, and every term is one this module models
    actions: tuple[str, ...]  # ActionMatches patterns named, in order of first appearance
    _tree: _Node | None = field(default=None, repr=False)

    def scope_for(self, action: str) -> RepositoryScope:
        """Which repositories the condition allows ``action`` on."""
        if self._tree is None:
            return RepositoryScope((), understood=False)
        value = _evaluate(self._tree, action)
        if value.kind == "all":
            return UNRESTRICTED
        if value.kind == "unknown":
            return RepositoryScope((), understood=False)
        return RepositoryScope(render(value.patterns))

    def restricts(self, action: str) -> bool:
        return not self.scope_for(action).unrestricted


def render(patterns: frozenset[_Pattern]) -> tuple[str, ...]:
    """Exact names as they are, prefixes as ``prefix*``, wildcard patterns with their ``*`` and ``?``
    (no repository name has either, so each reads one way: :func:`repository_matches`), sorted."""
    return tuple(sorted(_glob(p) for p in patterns))


def repository_matches(pattern: str, name: str) -> bool:
    """Whether a rendered repository pattern (``render``) allows the repository ``name``."""
    return string_like(name, pattern)


@lru_cache(maxsize=1024)
def parse_condition(text: str | None, version: str | None = "2.0") -> ParsedCondition | None:
    """Parse a role-assignment condition; None when there is none (the assignment is unrestricted).

    Never raises: text that cannot be parsed, or a ``conditionVersion`` other than 2.x, gives a
    condition that is not understood and allows no known repository.
    """
    if text is None or not text.strip():
        return None
    if version is not None and version.strip() and not version.strip().startswith("2"):
        return ParsedCondition(text=text, understood=False, actions=())
    try:
        tree = _push_negation(_Parser(_tokenise(text)).parse())
    except _NotUnderstood:
        return ParsedCondition(text=text, understood=False, actions=())
    actions: list[str] = []
    _action_patterns(tree, actions)
    return ParsedCondition(text=text, understood=not _opaque_terms(tree), actions=tuple(actions), _tree=tree)


def repositories_for(condition: str | None, action: str, version: str | None = "2.0") -> tuple[str, ...] | None:
    """The repository patterns a condition allows ``action`` on; None = unrestricted."""
    parsed = parse_condition(condition, version)
    if parsed is None:
        return None
    return parsed.scope_for(action).repositories


# ---- building a condition (issue 16: the assign and create-principal forms' repository field) ------

REPOSITORY_NAME_ATTRIBUTE = "@Request[Microsoft.ContainerRegistry/registries/repositories:name]"
CONDITION_VERSION = "2.0"


def repository_condition(data_actions: tuple[str, ...] | list[str], repositories: tuple[str, ...] | list[str]) -> str:
    """The ABAC condition limiting a Repository role's ``data_actions`` to ``repositories``, in the form
    Microsoft documents ("Azure ABAC repository permissions in Azure Container Registry",
    learn.microsoft.com/azure/container-registry/container-registry-rbac-abac-repository-permissions;
    MicrosoftDocs/azure-management-docs `articles/container-registry/container-registry-rbac-abac-
    repository-permissions.md`): every action of the role under ``!(ActionMatches{…})`` joined by AND,
    OR the repository comparisons. A value ending in ``/`` or ``/*`` is a prefix
    (``StringStartsWithIgnoreCase 'team/'``: the trailing slash is required, or ``team-infra/…``
    matches too, as that page warns); any other value one repository (``StringEqualsIgnoreCase``).
    ``conditionVersion`` is :data:`CONDITION_VERSION`."""
    if not data_actions or not repositories:
        raise ValueError("a repository condition needs the role's data actions and at least one repository")
    # content/* before metadata/*, each read, write, delete: the documented example's order.
    order = {"read": 0, "write": 1, "delete": 2}
    ordered = sorted(dict.fromkeys(data_actions), key=lambda a: (
        "/metadata/" in a, order.get(a.rsplit("/", 1)[-1], 3), a))
    actions = " AND ".join(f"!(ActionMatches{{'{a}'}})" for a in ordered)
    comparisons = []
    for value in repositories:
        if value.endswith("/*"):
            value = value[:-1]
        op = "StringStartsWithIgnoreCase" if value.endswith("/") else "StringEqualsIgnoreCase"
        comparisons.append(f"{REPOSITORY_NAME_ATTRIBUTE} {op} '{value}'")
    return f"(({actions}) OR ({' OR '.join(comparisons)}))"
