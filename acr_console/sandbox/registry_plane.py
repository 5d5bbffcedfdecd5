"""The registry data plane's authentication: `/v2/`, `/oauth2/token` and `/oauth2/exchange` for every
registry, chosen by the Host header (the registry's login server) on the sandbox's one listener.

What a token grants is evaluated here, independently of the console: the principal's role
assignments at or above the registry (its groups' too), read the way the registry's mode reads
them. Legacy registries honour `actions` (AcrPull, AcrPush, AcrDelete, Owner's `*`, Reader's
`*/read`); ABAC registries honour only `dataActions`, limited by each assignment's condition.
A request for more than that is not refused: the token simply lists less (as ACR does). Only bad
credentials get a 401, and a request without any on a registry without anonymous pull; with it, such
a request gets pull on every repository (see "anonymous pull" below).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from . import rbac, registry_tokens
from .context import PUBLIC_ACR_AUDIENCE, Sandbox
from .directory import check_password
from .tokens import InvalidToken

ACR_ISSUER = "Azure Container Registry"
ACR_AUDIENCE = PUBLIC_ACR_AUDIENCE
NULL_GUID = "00000000-0000-0000-0000-000000000000"
REFRESH_TOKEN_LIFETIME_S = 3 * 3600  # `az acr login` tokens are documented as valid 3 hours
ACCESS_TOKEN_LIFETIME_S = 4500  # the lifetime in Azure/acr docs/AAD-OAuth.md's example
REGISTRY_TYPE = "microsoft.containerregistry/registries"
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]", ""}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

_PREFIX = "Microsoft.ContainerRegistry/registries/"
# Token actions to the permission each mode checks: `actions` in legacy mode, `dataActions` in ABAC.
LEGACY_ACTIONS = {
    "pull": _PREFIX + "pull/read",
    "push": _PREFIX + "push/write",
    "delete": _PREFIX + "artifacts/delete",
    "metadata_read": _PREFIX + "pull/read",
    "metadata_write": _PREFIX + "push/write",
}
ABAC_DATA_ACTIONS = {
    "pull": _PREFIX + "repositories/content/read",
    "push": _PREFIX + "repositories/content/write",
    "delete": _PREFIX + "repositories/content/delete",
    "metadata_read": _PREFIX + "repositories/metadata/read",
    "metadata_write": _PREFIX + "repositories/metadata/write",
}
CATALOG_DATA_ACTION = _PREFIX + "catalog/read"
REPOSITORY_NAME = "Microsoft.ContainerRegistry/registries/repositories:name"


# -- errors -----------------------------------------------------------------------------------


def distribution_error(status: int, code: str, message: str,
                       headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"errors": [{"code": code, "message": message, "detail": None}]}, status_code=status,
                        headers=headers)


def _challenge(login: str, scope: str | None = None) -> dict[str, str]:
    value = f'Bearer realm="https://{login}/oauth2/token",service="{login}"'
    if scope:
        value += f',scope="{scope}"'
    return {"WWW-Authenticate": value}


def _wrong_service(service: str, login: str) -> Response:
    return distribution_error(400, "UNSUPPORTED", f"the service '{service}' is not this registry ({login})")


# -- ABAC conditions ----------------------------------------------------------------------------


class ConditionError(ValueError):
    """A condition the sandbox cannot read; the assignment then grants nothing (fail closed)."""


_COND_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^'\\]|\\.)*')
      | (?P<attr>@(?:Request|Resource|Principal|Environment)\[[^\]]+\])
      | (?P<and>&&|\bAND\b)
      | (?P<or>\|\||\bOR\b)
      | (?P<not>!|\bNOT\b)
      | (?P<word>[A-Za-z][\w:]*)
      | (?P<punct>[(){},])
    )""",
    re.VERBOSE | re.IGNORECASE,
)
def _like(value: str, pattern: str) -> bool:
    """ABAC `StringLike` as MicrosoftDocs/azure-docs articles/role-based-access-control/conditions-format.md
    states it: `*` "multi-character match wildcard" (any run, the empty one too), `?` "single-character
    match wildcard", "escaped by add a backslash `\\*` and `\\?`", matched against the whole value
    ('a*c' does not match "abcd"). A backslash before anything else stands for itself (undocumented).
    `pattern` is the value as written in the condition, its backslashes kept."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and pattern[i + 1:i + 2] in ("*", "?"):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append({"*": ".*", "?": "."}.get(pattern[i], re.escape(pattern[i])))
        i += 1
    return re.fullmatch("".join(parts), value, re.S) is not None


_STRING_OPS = {
    "stringequals": lambda v, x: v == x,
    "stringnotequals": lambda v, x: v != x,
    "stringstartswith": lambda v, x: v.startswith(x),
    "stringnotstartswith": lambda v, x: not v.startswith(x),
    "stringlike": lambda v, x: _like(v, x),
    "stringnotlike": lambda v, x: not _like(v, x),
}

Condition = Callable[[str, str | None], bool]  # (data action, repository name or None) -> applies


def parse_condition(text: str) -> Condition:
    """Azure ABAC condition syntax as ACR uses it, e.g.

        ((!(ActionMatches{'…/repositories/content/read'})) OR
         (@Request[Microsoft.ContainerRegistry/registries/repositories:name]
            StringStartsWithIgnoreCase 'team/'))

    Only the repository-name attribute is understood; anything else raises ConditionError."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _COND_TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ConditionError(f"unreadable condition near position {pos}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    i = 0

    def peek() -> tuple[str, str] | None:
        return tokens[i] if i < len(tokens) else None

    def take(kind: str, text_: str | None = None) -> str:
        nonlocal i
        tok = peek()
        if tok is None or tok[0] != kind or (text_ is not None and tok[1] != text_):
            raise ConditionError(f"expected {text_ or kind}")
        i += 1
        return tok[1]

    def string_value(raw: str) -> str:
        return re.sub(r"\\(.)", r"\1", raw[1:-1])

    def or_expr() -> Condition:
        nonlocal i
        parts = [and_expr()]
        while peek() is not None and peek()[0] == "or":  # type: ignore[index]
            i += 1
            parts.append(and_expr())
        return parts[0] if len(parts) == 1 else (lambda a, r: any(p(a, r) for p in parts))

    def and_expr() -> Condition:
        nonlocal i
        parts = [unary()]
        while peek() is not None and peek()[0] == "and":  # type: ignore[index]
            i += 1
            parts.append(unary())
        return parts[0] if len(parts) == 1 else (lambda a, r: all(p(a, r) for p in parts))

    def unary() -> Condition:
        nonlocal i
        tok = peek()
        if tok is None:
            raise ConditionError("unexpected end of condition")
        if tok[0] == "not":
            i += 1
            inner = unary()
            return lambda a, r: not inner(a, r)
        if tok == ("punct", "("):
            i += 1
            inner = or_expr()
            take("punct", ")")
            return inner
        if tok[0] == "word" and tok[1] == "ActionMatches":
            i += 1
            take("punct", "{")
            patterns = [string_value(take("str"))]
            while peek() == ("punct", ","):
                i += 1
                patterns.append(string_value(take("str")))
            take("punct", "}")
            return lambda a, r: rbac.matches(patterns, a)
        if tok[0] == "attr":
            i += 1
            attribute = tok[1][tok[1].index("[") + 1 : -1].strip()
            if tok[1].lower().startswith("@request[") and attribute.lower() == REPOSITORY_NAME.lower():
                op_word = take("word")
                return comparison(op_word)
            raise ConditionError(f"the attribute {tok[1]} is not supported")
        raise ConditionError(f"unexpected '{tok[1]}'")

    def comparison(op_word: str) -> Condition:
        nonlocal i
        quantifier, _, op = op_word.rpartition(":")
        op_low = op.lower()
        ignore_case = op_low.endswith("ignorecase")
        base = op_low.removesuffix("ignorecase")
        if base not in _STRING_OPS or quantifier.lower() not in ("", "foranyofanyvalues"):
            raise ConditionError(f"the operator {op_word} is not supported")
        # StringLike reads its own backslashes (`\*`, `\?`): its values are kept as written.
        value_of = (lambda raw: raw[1:-1]) if base in ("stringlike", "stringnotlike") else string_value
        values: list[str]
        if peek() == ("punct", "{"):
            i += 1
            values = [value_of(take("str"))]
            while peek() == ("punct", ","):
                i += 1
                values.append(value_of(take("str")))
            take("punct", "}")
        else:
            values = [value_of(take("str"))]
        fn = _STRING_OPS[base]
        negative = base.startswith("stringnot")

        def check(_action: str, repo: str | None) -> bool:
            if repo is None:
                return False  # no repository in the request (the catalog): the comparison cannot hold
            v = repo.lower() if ignore_case else repo
            results = [fn(v, x.lower() if ignore_case else x) for x in values]
            return all(results) if negative else any(results)

        return check

    expr = or_expr()
    if i != len(tokens):
        raise ConditionError(f"unexpected '{tokens[i][1]}' after the condition")
    return expr


# -- what a principal may do ------------------------------------------------------------------


@dataclass(frozen=True)
class TokenScope:
    type: str
    name: str
    actions: tuple[str, ...]


def parse_scopes(values: list[str]) -> list[TokenScope]:
    """Docker scope strings (`repository:team/app:pull,push`, `registry:catalog:*`); a value may hold
    several separated by spaces. Malformed ones are ignored, as the token service does."""
    out: list[TokenScope] = []
    for value in values:
        for part in value.split():
            kind, _, rest = part.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind and name and actions:
                out.append(TokenScope(kind, name, tuple(a for a in actions.split(",") if a)))
    return out


# Docker distribution's repository name grammar (distribution/reference, regexp.go and
# reference.go): lower-case path components `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*` joined by `/`,
# 255 characters at most (NameTotalLengthMax). ACR names repositories the same way ("lowercase letters,
# numbers, and the characters . - _ /", container-registry-concepts.md, "Repository name").
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*"
_REPOSITORY_NAME = re.compile(rf"^{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
REPOSITORY_NAME_MAX = 255


def valid_repository_name(name: str) -> bool:
    return len(name) <= REPOSITORY_NAME_MAX and bool(_REPOSITORY_NAME.match(name))


def invalid_scope(scopes: list[TokenScope]) -> Response | None:
    """The registry's answer to a scope naming a repository the grammar does not allow (`a/../b`,
    `a,push`): 400 NAME_INVALID, "invalid repository name" (distribution spec, "Error Codes"). Nothing
    is granted on such a name, however a condition's StringStartsWith would read it."""
    for scope in scopes:
        kind = scope.type.split("(", 1)[0]
        if kind in ("repository", "artifact-repository") and not valid_repository_name(scope.name):
            return distribution_error(400, "NAME_INVALID", f"invalid repository name: {scope.name}")
    return None


@dataclass
class _Grant:
    actions: list[str]
    not_actions: list[str]
    data_actions: list[str]
    not_data_actions: list[str]
    condition: Condition | None


def _grants(sb: Sandbox, principal_id: str, registry_id: str) -> list[_Grant]:
    out: list[_Grant] = []
    for ra in rbac.effective_assignments(sb.store, principal_id):
        props = ra["properties"]
        if not rbac.scope_covers(props["scope"], registry_id):
            continue
        condition: Condition | None = None
        if props.get("condition"):
            try:
                condition = parse_condition(props["condition"])
            except ConditionError:
                continue  # fail closed: an unreadable condition grants nothing
        perms = rbac.role_permissions(sb.store, props["roleDefinitionId"].rsplit("/", 1)[-1])
        out.append(_Grant(perms["actions"], perms["notActions"], perms["dataActions"],
                          perms["notDataActions"], condition))
    return out


def _allowed(grants: list[_Grant], abac: bool, action: str, repo: str | None, catalog: bool = False) -> bool:
    if catalog:
        data_action = CATALOG_DATA_ACTION
        legacy_action = LEGACY_ACTIONS["pull"]
    else:
        data_action = ABAC_DATA_ACTIONS[action]
        legacy_action = LEGACY_ACTIONS[action]
    for g in grants:
        if abac:
            ok = rbac.matches(g.data_actions, data_action) and not rbac.matches(g.not_data_actions,
                                                                                data_action)
        else:
            ok = rbac.matches(g.actions, legacy_action) and not rbac.matches(g.not_actions, legacy_action)
        # A condition is evaluated against the action the check is for: the data action in ABAC mode,
        # the `actions` one in legacy mode, where `!(ActionMatches{'…/repositories/content/read'})` is
        # then true and the assignment applies unnarrowed (conditions-format.md, ActionMatches; the
        # built-in roles reference: "RBAC Registry Permissions: Supports only standard RBAC assignments
        # without ABAC conditions").
        if ok and (g.condition is None or g.condition(data_action if abac else legacy_action, repo)):
            return True
    return False


def granted_access(sb: Sandbox, registry: dict[str, Any], principal_id: str | None,
                   scopes: list[TokenScope]) -> list[dict[str, Any]]:
    """The `access` claim: for each requested scope, the requested actions the principal holds.
    `principal_id` None means the admin user, which holds everything."""
    abac = registry["properties"].get("roleAssignmentMode") == "AbacRepositoryPermissions"
    grants = _grants(sb, principal_id, registry["id"]) if principal_id else []
    out: list[dict[str, Any]] = []
    for scope in scopes:
        kind = scope.type.split("(", 1)[0]
        if kind == "registry" and scope.name == "catalog":
            ok = principal_id is None or _allowed(grants, abac, "pull", None, catalog=True)
            actions = ["*"] if ok and "*" in scope.actions else []
        elif kind in ("repository", "artifact-repository"):
            actions = []
            for action in dict.fromkeys(scope.actions):
                if principal_id is None:
                    actions.append(action)
                elif action == "*":
                    if all(_allowed(grants, abac, a, scope.name) for a in ("pull", "push", "delete")):
                        actions.append("*")
                elif action in LEGACY_ACTIONS and _allowed(grants, abac, action, scope.name):
                    actions.append(action)
        else:
            actions = []
        if actions:
            out.append({"type": kind, "name": scope.name, "actions": actions})
    return out


# -- anonymous pull -----------------------------------------------------------------------------
#
# MicrosoftDocs/azure-management-docs articles/container-registry/anonymous-pull-access.md:
# "Enabling anonymous (unauthenticated) pull access makes all registry content publicly available
# for read (pull) actions", "Only data-plane operations are available to unauthenticated clients",
# and (a warning) it "applies to all repositories in the registry" whatever token or Entra
# repository permissions say. Azure/azure-sdk-for-net PR #20919: anonymously "The service supports
# all list operations (list repositories, list manifests, list tags…)". What ACR answers to an
# anonymous push request, and to an anonymous request where anonymous pull is off, is not
# documented: per the token spec (distribution/distribution docs/content/spec/auth/token.md, "If the
# client only has a subset of the requested access it must not be considered an error") the first
# gets the intersection (pull), and the second a 401 UNAUTHORIZED in the registry API's error shape
# (PowerShell/PSResourceGet PR #1918 saw anonymous tokens carry no push).

ANONYMOUS = "anonymous"  # the request log's principal and the token's subject (the sandbox's own label)
# Token actions an anonymous client gets on every repository: content and metadata reads.
ANONYMOUS_REPOSITORY_ACTIONS = ("pull", "metadata_read")


def is_anonymous_request(request: Request, grant: str | None, fields: dict[str, str]) -> bool:
    """No credential at all. Docker and oras send `GET /oauth2/token?service=…&scope=…` without an
    Authorization header; azure-containerregistry's anonymous client (`_anonymous_exchange_client.py`)
    sends `POST /oauth2/token` with `grant_type=password`, an empty `refresh_token`, `service` and
    `scope`, also without one."""
    if request.headers.get("authorization"):
        return False
    if grant is None:
        return True
    return grant == "password" and not any(fields.get(k) for k in ("username", "password", "refresh_token"))


def anonymous_access(scopes: list[TokenScope]) -> list[dict[str, Any]]:
    """The `access` claim of an anonymous token on a registry with anonymous pull: of what was asked,
    pull and metadata reads on any repository and the catalog; never push, delete or `*` on a
    repository (a subset of the request, not an error)."""
    out: list[dict[str, Any]] = []
    for scope in scopes:
        kind = scope.type.split("(", 1)[0]
        if kind == "registry" and scope.name == "catalog":
            actions = ["*"] if "*" in scope.actions else []
        elif kind in ("repository", "artifact-repository"):
            actions = [a for a in dict.fromkeys(scope.actions) if a in ANONYMOUS_REPOSITORY_ACTIONS]
        else:
            actions = []
        if actions:
            out.append({"type": kind, "name": scope.name, "actions": actions})
    return out


def anonymous_token(sb: Sandbox, request: Request, registry: dict[str, Any],
                    params: list[tuple[str, str]]) -> Response:
    """The token service's answer to a request without credentials."""
    login = registry["properties"]["loginServer"]
    request.state.principal = ANONYMOUS
    scopes = parse_scopes([v for k, v in params if k == "scope"])
    if not registry["properties"].get("anonymousPullEnabled"):
        # The shape of the registry API's errors, with the scopes asked for as ACR's own 401 lists them.
        detail = [{"Type": s.type, "Name": s.name, "Action": a} for s in scopes for a in s.actions] or None
        return JSONResponse({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required",
                                         "detail": detail}]}, status_code=401)
    claims: dict[str, Any] = {
        "iss": ACR_ISSUER, "aud": login, "sub": ANONYMOUS, "jti": str(uuid.uuid4()), "version": "1.0",
        "grant_type": "access_token", "tenant": sb.store.tenant_id, "access": anonymous_access(scopes),
    }
    token = sb.issuer.issue(claims, lifetime_s=ACCESS_TOKEN_LIFETIME_S)
    return JSONResponse({"access_token": token}, headers={"Cache-Control": "no-store"})


# -- credentials --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    principal_id: str | None  # None: the registry's admin user
    app_id: str
    label: str  # for the request log: an appId or the admin user's name
    token_id: str | None = None  # a registry token's ARM id: its scope map decides (token_access)


class Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise Refused("malformed basic authentication") from None
    return (user, password) if sep else None


def _verify_refresh_token(sb: Sandbox, registry: dict[str, Any], token: str) -> Identity:
    login = registry["properties"]["loginServer"]
    try:
        claims = sb.issuer.verify(token, {login})
    except InvalidToken as exc:
        raise Refused(f"the refresh token is not valid: {exc}") from None
    if claims.get("iss") != ACR_ISSUER or claims.get("grant_type") != "refresh_token":
        raise Refused("the token is not an ACR refresh token")
    sp = sb.store.object(str(claims.get("sub", "")), "servicePrincipal")
    # Never more than allowed: a principal deleted or disabled since the exchange gets nothing.
    if sp is None or not sp.get("accountEnabled", True):
        raise Refused("the principal of the refresh token is disabled or no longer exists")
    return Identity(sp["id"], sp["appId"], sp["appId"])


def authenticate(sb: Sandbox, registry: dict[str, Any], username: str, password: str) -> Identity:
    login = registry["properties"]["loginServer"]
    if username == NULL_GUID:
        return _verify_refresh_token(sb, registry, password)
    if username.lower() == registry["name"].lower():
        if not registry["properties"].get("adminUserEnabled"):
            raise Refused(f"the admin user is disabled on {login}")
        if not sb.store.admin_password_matches(registry["id"], password):
            raise Refused("incorrect username or password")
        return Identity(None, registry["name"], registry["name"])
    if _GUID.match(username):
        app = sb.store.by_app_id(username, "application")
        sp = sb.store.by_app_id(username, "servicePrincipal")
        if app is None or sp is None:
            raise Refused("Invalid clientid or client secret.")
        if check_password(sb.store, [app, sp], password) != "ok":
            raise Refused("Invalid clientid or client secret.")
        if not sp.get("accountEnabled", True):
            raise Refused("Invalid clientid or client secret.")
        return Identity(sp["id"], sp["appId"], sp["appId"])
    return _registry_token(sb, registry, username, password)


# -- registry tokens (Basic TOKEN_NAME:password) ----------------------------------------------------


def _registry_token(sb: Sandbox, registry: dict[str, Any], username: str, password: str) -> Identity:
    """A registry token signs in with its name as the user name and one of its passwords, enabled and
    unexpired (MicrosoftDocs/azure-management-docs `container-registry-token-based-repository-
    permissions.md`, "Authenticate with token"); docker sends them as Basic on GET /oauth2/token
    (Azure/acr docs/Token-BasicAuth.md), az as a `grant_type=password` form."""
    try:
        token = registry_tokens.verify_password(sb.store, registry, username, password)
    except registry_tokens.TokenRefused as exc:
        raise Refused(exc.message) from None
    return Identity(None, token["name"], token["name"], token_id=token["id"])


def token_access(sb: Sandbox, registry: dict[str, Any], token_id: str,
                 scopes: list[TokenScope]) -> list[dict[str, Any]]:
    """What a registry token gets: per requested repository, the requested actions its scope map
    grants there (rules add up; a subset is no error, as the distribution token spec says). Never the
    catalog: "Repository-scoped permissions do not support the ability to list the catalog"."""
    token = registry_tokens.get_child(sb.store, registry["id"], "tokens", token_id.rstrip("/").rsplit("/", 1)[-1])
    actions = registry_tokens.token_actions(sb.store, registry, token) if token is not None else ()
    out: list[dict[str, Any]] = []
    for scope in scopes:
        kind = scope.type.split("(", 1)[0]
        if kind not in ("repository", "artifact-repository"):
            continue
        held = registry_tokens.repository_actions(actions, scope.name)
        granted = [a for a in dict.fromkeys(scope.actions)
                   if a in held or (a == "*" and {"pull", "push", "delete"} <= held)]
        if granted:
            out.append({"type": kind, "name": scope.name, "actions": granted})
    return out


# -- the ASGI side ----------------------------------------------------------------------------


def host_of(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key == b"host":
            host = value.decode("latin-1").strip().lower()
            if host.startswith("["):
                return host.split("]", 1)[0] + "]"
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return ""


def registry_for_host(sb: Sandbox, host: str) -> dict[str, Any] | None:
    name = host.split(".", 1)[0]
    rows = sb.store.rows("SELECT doc FROM resources WHERE type = ? AND name_lower = ?", (REGISTRY_TYPE, name))
    for row in rows:
        doc = json.loads(row["doc"])
        if str(doc.get("properties", {}).get("loginServer", "")).lower() == host:
            return doc
    return None


class HostDispatch:
    """Requests whose Host is not the loopback address go to the registry plane (their Host names
    a login server); everything else to the Azure APIs."""

    def __init__(self, app: ASGIApp, sb: Sandbox) -> None:
        self.app = app
        self.sb = sb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or host_of(scope) in _LOOPBACK:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await handle(self.sb, request, host_of(scope))
        await response(scope, receive, send)


async def handle(sb: Sandbox, request: Request, host: str) -> Response:
    registry = registry_for_host(sb, host)
    if registry is None:
        return distribution_error(404, "NOT_FOUND", f"no registry is served at {host}")
    path = request.url.path
    if path in ("/v2/", "/v2") and request.method in ("GET", "HEAD"):
        return _ping(sb, request, registry)
    if path == "/oauth2/token" and request.method in ("GET", "POST"):
        return await _token(sb, request, registry)
    if path == "/oauth2/exchange" and request.method == "POST":
        return await _exchange(sb, request, registry)
    if path.startswith(("/v2/", "/oauth2/", "/acr/")):
        return distribution_error(404, "UNSUPPORTED", f"the sandbox does not serve {request.method} {path}")
    return distribution_error(404, "NOT_FOUND", f"{path} is not a registry API")


def _ping(sb: Sandbox, request: Request, registry: dict[str, Any]) -> Response:
    login = registry["properties"]["loginServer"]
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        try:
            claims = sb.issuer.verify(token.strip(), {login})
        except InvalidToken:
            claims = None
        is_access = claims is not None and claims.get("grant_type") == "access_token"
        if claims is not None and is_access and claims.get("iss") == ACR_ISSUER:
            request.state.principal = claims.get("appid")
            return JSONResponse({}, headers={"Docker-Distribution-API-Version": "registry/2.0"})
    return distribution_error(401, "UNAUTHORIZED", "authentication required",
                              {**_challenge(login), "Docker-Distribution-API-Version": "registry/2.0"})


async def _token(sb: Sandbox, request: Request, registry: dict[str, Any]) -> Response:
    login = registry["properties"]["loginServer"]
    params: list[tuple[str, str]] = list(request.query_params.multi_items())
    if request.method == "POST":
        form = await request.form()
        params += [(k, str(v)) for k, v in form.multi_items()]
    fields: dict[str, str] = {}
    for key, value in params:
        fields.setdefault(key, value)
    service = fields.get("service")
    if service is not None and service.lower() != login.lower():
        return _wrong_service(service, login)
    grant = fields.get("grant_type")
    refused = invalid_scope(parse_scopes([v for k, v in params if k == "scope"]))
    if refused is not None:
        return refused
    if is_anonymous_request(request, grant, fields):
        return anonymous_token(sb, request, registry, params)
    try:
        if grant == "refresh_token":
            identity = _verify_refresh_token(sb, registry, fields.get("refresh_token", ""))
        elif grant == "password":
            identity = authenticate(sb, registry, fields.get("username", ""), fields.get("password", ""))
        elif grant is None:
            basic = _basic(request)
            if basic is None:
                raise Refused("authentication required: send Basic credentials or a grant_type")
            identity = authenticate(sb, registry, *basic)
        else:
            return distribution_error(400, "UNSUPPORTED", f"the grant type '{grant}' is not supported")
    except Refused as exc:
        return distribution_error(401, "UNAUTHORIZED", exc.message)
    request.state.principal = identity.label
    scopes = parse_scopes([v for k, v in params if k == "scope"])
    access = (token_access(sb, registry, identity.token_id, scopes) if identity.token_id
              else granted_access(sb, registry, identity.principal_id, scopes))
    claims: dict[str, Any] = {
        "iss": ACR_ISSUER, "aud": login, "sub": identity.principal_id or identity.label,
        "jti": str(uuid.uuid4()), "version": "1.0", "grant_type": "access_token",
        "tenant": sb.store.tenant_id, "appid": identity.app_id, "access": access,
    }
    token = sb.issuer.issue(claims, lifetime_s=ACCESS_TOKEN_LIFETIME_S)
    return JSONResponse({"access_token": token}, headers={"Cache-Control": "no-store"})


async def _exchange(sb: Sandbox, request: Request, registry: dict[str, Any]) -> Response:
    """An Entra access token for ARM (or for ACR's own audience) becomes an ACR refresh token."""
    form = await request.form()
    grant = str(form.get("grant_type", ""))
    if grant != "access_token":
        return distribution_error(400, "UNSUPPORTED", f"the grant type '{grant}' is not supported; use "
                                  "access_token")
    service = str(form.get("service", ""))
    login = registry["properties"]["loginServer"]
    if service and service.lower() != login.lower():
        return _wrong_service(service, login)
    audiences = {ACR_AUDIENCE, ACR_AUDIENCE + "/"}
    policy = registry["properties"].get("policies", {}).get("azureADAuthenticationAsArmPolicy", {})
    if str(policy.get("status", "enabled")).lower() != "disabled":
        audiences |= sb.arm_audiences
    try:
        claims = sb.issuer.verify(str(form.get("access_token", "")), audiences)
    except InvalidToken as exc:
        return distribution_error(401, "UNAUTHORIZED", f"the access token is not valid: {exc}")
    tenant = str(form.get("tenant", "")) or sb.store.tenant_id
    if claims.get("tid") != sb.store.tenant_id or tenant.lower() != sb.store.tenant_id:
        return distribution_error(401, "UNAUTHORIZED", "the access token is from another tenant")
    sp = sb.store.object(str(claims.get("oid", "")), "servicePrincipal")
    if sp is None or not sp.get("accountEnabled", True):
        return distribution_error(401, "UNAUTHORIZED", "the principal is disabled or no longer exists")
    request.state.principal = sp["appId"]
    refresh = sb.issuer.issue({
        "iss": ACR_ISSUER, "aud": login, "sub": sp["id"], "jti": str(uuid.uuid4()), "version": "1.0",
        "grant_type": "refresh_token", "tenant": sb.store.tenant_id, "appid": sp["appId"],
        "issued": int(time.time()),
    }, lifetime_s=REFRESH_TOKEN_LIFETIME_S)
    return JSONResponse({"refresh_token": refresh}, headers={"Cache-Control": "no-store"})
