"""OData query options as Microsoft Graph v1.0 applies them to directory objects: `$filter` (the
forms clients send), `$select`, `$top`, `$orderby`, `$count`, and `@odata.nextLink` paging.

Directory string comparisons are case-insensitive in Graph, so every comparison here is too.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from .directory import parse_time
from .errors import ApiError


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Properties each type renders; a `$select` or `$filter` naming something else is a 400 as in Graph.
PROPERTIES: dict[str, tuple[str, ...]] = {
    "application": _names("""
        id deletedDateTime appId applicationTemplateId disabledByMicrosoftStatus createdDateTime displayName
        description groupMembershipClaims identifierUris isDeviceOnlyAuthSupported isFallbackPublicClient
        notes publisherDomain serviceManagementReference signInAudience tags tokenEncryptionKeyId uniqueName
        samlMetadataUrl defaultRedirectUri certification optionalClaims servicePrincipalLockConfiguration
        requestSignatureVerification addIns api appRoles info keyCredentials parentalControlSettings
        passwordCredentials publicClient requiredResourceAccess verifiedPublisher web spa"""),
    "servicePrincipal": _names("""
        id deletedDateTime accountEnabled alternativeNames appDisplayName appDescription appId
        applicationTemplateId appOwnerOrganizationId appRoleAssignmentRequired createdDateTime description
        disabledByMicrosoftStatus displayName homepage loginUrl logoutUrl notes notificationEmailAddresses
        preferredSingleSignOnMode preferredTokenSigningKeyThumbprint replyUrls servicePrincipalNames
        servicePrincipalType signInAudience tags tokenEncryptionKeyId samlSingleSignOnSettings addIns appRoles
        info keyCredentials oauth2PermissionScopes passwordCredentials resourceSpecificApplicationPermissions
        verifiedPublisher"""),
    "group": _names("""
        id deletedDateTime classification createdDateTime creationOptions description displayName
        expirationDateTime groupTypes isAssignableToRole mail mailEnabled mailNickname membershipRule
        membershipRuleProcessingState onPremisesSyncEnabled preferredDataLocation preferredLanguage
        proxyAddresses renewedDateTime resourceBehaviorOptions resourceProvisioningOptions securityEnabled
        securityIdentifier theme visibility"""),
    "user": _names("id deletedDateTime accountEnabled displayName userPrincipalName mail userType"),
}
_COLLECTIONS = set(_names("""servicePrincipalNames identifierUris tags alternativeNames groupTypes
                            proxyAddresses notificationEmailAddresses replyUrls"""))
# Properties Graph can filter on without advanced query parameters (the default filterable set).
FILTERABLE: dict[str, set[str]] = {
    "application": set(_names("""id appId displayName identifierUris tags signInAudience createdDateTime
                                publisherDomain uniqueName""")),
    "servicePrincipal": set(_names("""id appId displayName servicePrincipalNames tags servicePrincipalType
                                     accountEnabled alternativeNames appOwnerOrganizationId appDisplayName
                                     preferredSingleSignOnMode createdDateTime""")),
    "group": set(_names("""id displayName mailNickname mailEnabled securityEnabled groupTypes mail
                          createdDateTime isAssignableToRole proxyAddresses classification""")),
    "user": set(_names("id displayName userPrincipalName mail accountEnabled userType")),
}
_INFO = {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None, "supportUrl": None,
         "termsOfServiceUrl": None}
_PUBLISHER = {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None}
EXTRA_DEFAULTS: dict[str, dict[str, Any]] = {
    "application": {
        "deletedDateTime": None, "applicationTemplateId": None, "disabledByMicrosoftStatus": None,
        "description": None, "groupMembershipClaims": None, "isDeviceOnlyAuthSupported": None,
        "isFallbackPublicClient": None, "notes": None, "publisherDomain": "contoso.onmicrosoft.com",
        "serviceManagementReference": None, "tokenEncryptionKeyId": None, "uniqueName": None,
        "samlMetadataUrl": None, "defaultRedirectUri": None, "certification": None, "optionalClaims": None,
        "servicePrincipalLockConfiguration": None, "requestSignatureVerification": None, "addIns": [],
        "api": {"acceptMappedClaims": None, "knownClientApplications": [],
                "requestedAccessTokenVersion": None, "oauth2PermissionScopes": [],
                "preAuthorizedApplications": []},
        "appRoles": [], "info": _INFO,
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "publicClient": {"redirectUris": []}, "requiredResourceAccess": [], "verifiedPublisher": _PUBLISHER,
        "web": {"homePageUrl": None, "logoutUrl": None, "redirectUris": [],
                "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False},
                "redirectUriSettings": []},
        "spa": {"redirectUris": []},
    },
    "servicePrincipal": {
        "deletedDateTime": None, "alternativeNames": [], "appDescription": None,
        "applicationTemplateId": None,
        "appRoleAssignmentRequired": False, "description": None, "disabledByMicrosoftStatus": None,
        "homepage": None, "loginUrl": None, "logoutUrl": None, "notes": None,
        "notificationEmailAddresses": [],
        "preferredSingleSignOnMode": None, "preferredTokenSigningKeyThumbprint": None, "replyUrls": [],
        "signInAudience": "AzureADMyOrg", "tokenEncryptionKeyId": None, "samlSingleSignOnSettings": None,
        "addIns": [], "appRoles": [], "info": _INFO,
        "oauth2PermissionScopes": [], "resourceSpecificApplicationPermissions": [],
        "verifiedPublisher": _PUBLISHER,
    },
    "group": {
        "deletedDateTime": None, "classification": None, "creationOptions": [], "expirationDateTime": None,
        "isAssignableToRole": None, "mail": None, "membershipRule": None,
        "membershipRuleProcessingState": None,
        "onPremisesSyncEnabled": None, "preferredDataLocation": None, "preferredLanguage": None,
        "proxyAddresses": [], "renewedDateTime": None, "resourceBehaviorOptions": [],
        "resourceProvisioningOptions": [], "securityIdentifier": None, "theme": None,
    },
    "user": {"deletedDateTime": None, "mail": None, "userType": "Member"},
}


def bad_request(message: str, code: str = "Request_BadRequest") -> ApiError:
    return ApiError(400, code, message)


def unsupported_query(prop: str, otype: str) -> ApiError:
    resource = otype[0].upper() + otype[1:]
    return ApiError(400, "Request_UnsupportedQuery",
                    f"Unsupported or invalid query filter clause specified for property '{prop}' of resource "
                    f"'{resource}'.")


# -- rendering -----------------------------------------------------------------------------------


# Properties render() computes rather than reads.
_DERIVED = frozenset({"keyCredentials", "passwordCredentials", "appDisplayName"})


def _selected(doc: dict[str, Any], otype: str, select: list[str]) -> dict[str, Any]:
    """What render() returns for a `$select` of plain properties, without first building the whole
    document: listings ask for a handful of properties, and building every one of them took a
    fifth of the sandbox's time expanding 200 groups. Same values, same order (the test holds
    the two ways side by side)."""
    extra = EXTRA_DEFAULTS.get(otype, {})
    known = PROPERTIES.get(otype, ())
    picked: dict[str, Any] = {}
    for name in select:
        if name in doc:
            picked[name] = doc[name]
        elif name in extra:
            picked[name] = extra[name]
        elif name == "id" or name in known:
            picked[name] = None
    return picked


def render(doc: dict[str, Any], otype: str, *, select: list[str] | None = None, with_type: bool = False,
           single: bool = False) -> dict[str, Any]:
    """A stored document as Graph returns it.

    `key` of keyCredentials is null except when a single object is read with `$select` naming
    keyCredentials (Graph: "Returned only on $select for a single object"); `secretText` is never
    returned after addPassword."""
    if select is not None and _DERIVED.isdisjoint(select):
        selected = _selected(doc, otype, select)
        return {"@odata.type": f"#microsoft.graph.{otype}", **selected} if with_type else selected
    full: dict[str, Any] = {"id": doc.get("id")}  # Graph writes the id first
    if otype in ("application", "servicePrincipal"):
        if otype == "servicePrincipal":
            full["appDisplayName"] = doc.get("displayName")
        full.update(EXTRA_DEFAULTS[otype])
        full.update(doc)
        show_key = single and select is not None and "keyCredentials" in select
        full["keyCredentials"] = [
            {**c, "key": c.get("key") if show_key else None} for c in doc.get("keyCredentials") or []
        ]
        passwords = doc.get("passwordCredentials") or []
        full["passwordCredentials"] = [{**c, "secretText": None} for c in passwords]
    else:
        full.update(EXTRA_DEFAULTS.get(otype, {}))
        full.update(doc)
    if select is not None:
        full = {k: full.get(k) for k in select if k in PROPERTIES.get(otype, ()) or k in full}
    if with_type:
        return {"@odata.type": f"#microsoft.graph.{otype}", **full}
    return full


def parse_select(raw: str | None, otypes: tuple[str, ...]) -> list[str] | None:
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names:
        raise bad_request("Invalid $select: it names no property.")
    known = set().union(*(PROPERTIES[t] for t in otypes))
    for name in names:
        if name == "*":
            continue
        if name not in known:
            kind = otypes[0] if len(otypes) == 1 else "directoryObject"
            raise bad_request(f"Could not find a property named '{name}' on type 'microsoft.graph.{kind}'.")
    if "*" in names:
        return None
    return list(dict.fromkeys(names))


def context_url(graph_base: str, fragment: str, version: str = "v1.0") -> str:
    return f"{graph_base}/{version}/$metadata#{fragment}"


# -- $filter ------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<dt>\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?)
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<ident>[A-Za-z_@$][\w.@$]*(?:/[A-Za-z_][\w.]*)*)
      | (?P<punct>[(),:])
    )""",
    re.VERBOSE,
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


@dataclass
class _Tok:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise bad_request(f"Invalid filter clause: syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup or ""
        out.append(_Tok(kind, m.group(kind)))
        pos = m.end()
    return out


Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class Filter:
    predicate: Predicate
    # Top-level conjuncts usable as an index hint: ("appId" | "id" | "displayName", [values]).
    hints: list[tuple[str, list[str]]] = field(default_factory=list)
    advanced: bool = False  # uses an operator Graph allows only with ConsistencyLevel: eventual


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _compare(op: str, left: Any, right: Any) -> bool:
    left, right = _lower(left), _lower(right)
    if isinstance(left, str) and isinstance(right, datetime):
        try:
            left = parse_time(left)
        except ValueError:
            return False
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]
    except TypeError:
        return False


MAX_FILTER_DEPTH = 100


# Graph's default limit on the values `in (…)` may list in one filter clause (filter-query-parameter).
MAX_IN_EXPRESSIONS = 15


class _Parser:
    def __init__(self, text: str, otypes: tuple[str, ...]) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.otypes = otypes
        self.advanced = False
        self.depth = 0
        self.in_values = 0  # values listed in `in (…)` so far (MAX_IN_EXPRESSIONS)
        self.filterable = set().union(*(FILTERABLE[t] for t in otypes))

    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def take(self, text: str | None = None, kind: str | None = None) -> _Tok:
        tok = self.peek()
        wrong_text = text is not None and tok is not None and tok.text.lower() != text
        if tok is None or wrong_text or (kind is not None and tok.kind != kind):
            want = text or kind or "more input"
            raise bad_request(f"Invalid filter clause: expected {want} in '{self.text}'.")
        self.i += 1
        return tok

    def word(self, text: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "ident" and tok.text.lower() == text

    def parse(self) -> Predicate:
        pred = self.or_expr()
        extra = self.peek()
        if extra is not None:
            raise bad_request(f"Invalid filter clause: unexpected '{extra.text}' in '{self.text}'.")
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.word("or"):
            self.i += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda d: any(p(d) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.word("and"):
            self.i += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda d: all(p(d) for p in parts))

    def nest(self) -> None:
        """One level deeper (a parenthesis or a `not`). Graph's OData parser stops at its recursion
        limit with "The recursion limit has been exceeded." (Microsoft.OData.Core, ODataUriParserSettings,
        UriQueryExpressionParser_TooDeep); this recursive parser stops at MAX_FILTER_DEPTH, far below
        Python's own stack and far above any filter a client writes."""
        self.depth += 1
        if self.depth > MAX_FILTER_DEPTH:
            raise bad_request("Invalid filter clause: The recursion limit has been exceeded.")

    def unary(self) -> Predicate:
        if self.word("not"):
            self.i += 1
            self.advanced = True
            self.nest()
            inner = self.unary()
            self.depth -= 1
            return lambda d: not inner(d)
        return self.primary()

    def literal(self) -> Any:
        tok = self.take()
        if tok.kind == "str":
            return tok.text[1:-1].replace("''", "'")
        if tok.kind == "dt":
            return parse_time(tok.text)
        if tok.kind == "num":
            return float(tok.text) if "." in tok.text else int(tok.text)
        if tok.kind == "ident" and tok.text.lower() in ("true", "false"):
            return tok.text.lower() == "true"
        if tok.kind == "ident" and tok.text.lower() == "null":
            return None
        raise bad_request(f"Invalid filter clause: '{tok.text}' is not a literal in '{self.text}'.")

    def prop(self, name: str) -> str:
        if name not in self.filterable:
            raise unsupported_query(name, self.otypes[0] if len(self.otypes) == 1 else "directoryObject")
        return name

    def primary(self) -> Predicate:
        tok = self.peek()
        if tok is None:
            raise bad_request(f"Invalid filter clause: unexpected end of '{self.text}'.")
        if tok.kind == "punct" and tok.text == "(":
            self.i += 1
            self.nest()
            inner = self.or_expr()
            self.take(")")
            self.depth -= 1
            return inner
        if tok.kind != "ident":
            raise bad_request(f"Invalid filter clause: unexpected '{tok.text}' in '{self.text}'.")
        name = tok.text
        lowered = name.lower()
        nxt = self.peek(1)
        if lowered in ("startswith", "endswith") and nxt is not None and nxt.text == "(":
            if lowered == "endswith":
                self.advanced = True
            self.i += 2
            prop = self.prop(self.take(kind="ident").text)
            self.take(",")
            value = self.literal()
            self.take(")")
            if not isinstance(value, str):
                raise bad_request(f"Invalid filter clause: {lowered} takes a string in '{self.text}'.")
            return _string_fn(lowered, prop, value)
        if "/" in name and name.lower().endswith(("/any", "/all")):
            coll, _, fn = name.rpartition("/")
            coll = self.prop(coll)
            if coll not in _COLLECTIONS:
                raise unsupported_query(coll, self.otypes[0])
            self.i += 1
            self.take("(")
            var = self.take(kind="ident").text
            self.take(":")
            inner = self._lambda_body(var)
            self.take(")")
            if fn.lower() == "any":
                return lambda d: any(inner(v) for v in (d.get(coll) or []))
            return lambda d: all(inner(v) for v in (d.get(coll) or []))
        self.i += 1
        prop = self.prop(name)
        if self.word("in"):
            self.i += 1
            self.take("(")
            values = [self.literal()]
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.i += 1
                values.append(self.literal())
            self.take(")")
            self.in_values += len(values)
            if self.in_values > MAX_IN_EXPRESSIONS:
                # "Using Filter with in operator: the request is limited to 15 expressions in the filter
                # clause by default" (learn.microsoft.com/graph/filter-query-parameter, the note on `in`;
                # known-issues, "query parameter limitations"). The error's code and words are not
                # documented: Request_UnsupportedQuery is what Graph answers other unsupported filters.
                raise ApiError(400, "Request_UnsupportedQuery",
                               f"Too many expressions in the 'in' operator of the filter clause: {self.in_values}. "
                               f"Max allowed: {MAX_IN_EXPRESSIONS}.")
            wanted = {_lower(v) for v in values}
            return lambda d: _lower(d.get(prop)) in wanted
        op_tok = self.take(kind="ident")
        op = op_tok.text.lower()
        if op not in _OPS:
            raise bad_request(f"Invalid filter clause: unknown operator '{op_tok.text}' in '{self.text}'.")
        if op == "ne":
            self.advanced = True
        value = self.literal()
        if prop in _COLLECTIONS:
            raise unsupported_query(prop, self.otypes[0])
        return lambda d: _compare(op, d.get(prop), value)

    def lambda_error(self, var: str) -> ApiError:
        return bad_request(f"Invalid filter clause: lambda variable '{var}' expected in '{self.text}'.")

    def _lambda_body(self, var: str) -> Callable[[Any], bool]:
        tok = self.peek()
        if tok is not None and tok.kind == "ident" and tok.text.lower() == "startswith":
            self.i += 1
            self.take("(")
            if self.take(kind="ident").text != var:
                raise self.lambda_error(var)
            self.take(",")
            prefix = self.literal()
            self.take(")")
            return lambda v: isinstance(v, str) and v.lower().startswith(str(prefix).lower())
        if self.take(kind="ident").text != var:
            raise self.lambda_error(var)
        op = self.take(kind="ident").text.lower()
        if op not in ("eq", "ne"):
            raise bad_request(f"Invalid filter clause: '{op}' is not supported in a lambda in '{self.text}'.")
        value = self.literal()
        return lambda v: _compare(op, v, value)


def _string_fn(fn: str, prop: str, value: str) -> Predicate:
    low = value.lower()
    if fn == "startswith":
        return lambda d: isinstance(d.get(prop), str) and d[prop].lower().startswith(low)
    return lambda d: isinstance(d.get(prop), str) and d[prop].lower().endswith(low)


_HINT = re.compile(r"^\s*(appId|id|displayName)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_HINT_IN = re.compile(r"^\s*(appId|id)\s+in\s+\(([^()]*)\)\s*$", re.IGNORECASE)
_HINT_PREFIX = re.compile(r"^\s*startswith\(\s*displayName\s*,\s*'((?:[^']|'')*)'\s*\)\s*$", re.IGNORECASE)
_HINT_ANY = re.compile(r"^\s*\w+/any\(\s*(\w+)\s*:\s*\1\s+eq\s+'([^'\x22\x5c]*)'\s*\)\s*$", re.IGNORECASE)


def _split_and(text: str) -> list[str]:
    """Top-level ` and ` conjuncts (outside quotes and parentheses)."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        c = text[i]
        if c == "'":
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
        elif not quoted and depth == 0 and text[i:i + 5].lower() == " and ":
            parts.append(text[start:i])
            start = i + 5
            i += 4
        i += 1
    parts.append(text[start:])
    return parts


def parse_filter(text: str, otypes: tuple[str, ...]) -> Filter:
    parser = _Parser(text, otypes)
    pred = parser.parse()
    hints: list[tuple[str, list[str]]] = []
    for part in _split_and(text):
        m = _HINT.match(part)
        if m:
            hints.append((m.group(1), [m.group(2).replace("''", "'")]))
            continue
        m = _HINT_IN.match(part)
        if m:
            values = [v.strip().strip("'") for v in m.group(2).split(",") if v.strip()]
            hints.append((m.group(1), values))
            continue
        m = _HINT_PREFIX.match(part)
        if m:
            hints.append(("displayName*", [m.group(1).replace("''", "'")]))
            continue
        m = _HINT_ANY.match(part)
        if m:
            # Only a prefilter: the value appears somewhere in the stored document.
            hints.append(("doc~", [m.group(2)]))
    return Filter(pred, hints, parser.advanced)


# -- paging -----------------------------------------------------------------------------------


def page_size(query: dict[str, str], default: int) -> int:
    raw = query.get("$top")
    if raw is None:
        return default
    try:
        top = int(raw)
    except ValueError:
        top = -1
    if not 1 <= top <= 999:
        raise bad_request(f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive.")
    return top


def encode_skiptoken(offset: int) -> str:
    # Opaque like Graph's, so nobody builds one by hand; it is only an offset underneath.
    return base64.urlsafe_b64encode(f"sbx1:{offset}".encode()).decode().rstrip("=")


def decode_skiptoken(token: str | None) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, _, offset = raw.partition(":")
        if prefix != "sbx1":
            raise ValueError
        return max(int(offset), 0)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The specified page token value has expired or is invalid.",
                          code="Directory_ExpiredPageToken") from None


def encode_query(params: list[tuple[str, str]]) -> str:
    """A query string the way kiota writes one: `$` and commas literal, the rest percent-encoded."""
    return "&".join(f"{quote(k, safe='$')}={quote(v, safe='$,')}" for k, v in params)
