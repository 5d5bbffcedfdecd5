"""Registry tokens and scope maps: ARM `registries/{r}/scopeMaps`, `registries/{r}/tokens` and
`POST registries/{r}/generateCredentials`, and what a token may do at the registry's token service.

Sources (the contract this module follows):
- Shapes: Azure/azure-rest-api-specs `specification/containerregistry/resource-manager/
  Microsoft.ContainerRegistry/stable/2023-07-01/examples/TokenCreate.json`, `ScopeMapCreate.json`,
  `RegistryGenerateCredentials.json`, `TokenDelete.json`; Azure/bicep-types-az 2025-11-01 `types.md`
  (token names `^[a-zA-Z0-9-]*$`, scope map names `^[a-zA-Z0-9-_]*$`, both 5 to 50 characters).
- Behaviour: MicrosoftDocs/azure-management-docs `articles/container-registry/
  container-registry-token-based-repository-permissions.md` (ms.date 05/01/2025): the five actions,
  wildcards that end in `/*` (one wildcard, root `*` registry-wide, rules add up, repositories that
  do not exist yet are covered), the system-defined scope maps that "apply to all repositories",
  two passwords without expiry by default that "can't be retrieved again", and "The token must have
  the `Enabled` status".
- The system scope maps' exact actions and descriptions: ARM and Terraform exports of real registries
  (docs/briefs issue 13 §8, all agreeing).
- Removing one password is a PATCH naming the passwords to keep (azure-cli `acr/token.py`,
  `acr_token_credential_delete`); disabling one is `PATCH {"properties": {"status": "disabled"}}`.

Where no source says (marked "inference" below) the sandbox picks the plain reading: password values
come back only from generateCredentials and from a create that names its passwords; a scope map may
be deleted while tokens use it (those tokens then get nothing); invalid wildcards are refused.

Writes are authorised like every other ARM write here: the caller needs the action (e.g.
`Microsoft.ContainerRegistry/registries/tokens/write`, which Owner and Contributor hold through `*`)
at or above the token or scope map.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .arm import existing_registry, json_body
from .context import Sandbox
from .errors import ApiError
from .paging import arm_page
from .store import Store, hash_secret

_RP = "Microsoft.ContainerRegistry/registries/"
TOKEN_TYPE = _RP + "tokens"
SCOPE_MAP_TYPE = _RP + "scopeMaps"
TOKENS_READ, TOKENS_WRITE, TOKENS_DELETE = (_RP + "tokens/read", _RP + "tokens/write", _RP + "tokens/delete")
SCOPE_MAPS_READ, SCOPE_MAPS_WRITE, SCOPE_MAPS_DELETE = (
    _RP + "scopeMaps/read", _RP + "scopeMaps/write", _RP + "scopeMaps/delete")
GENERATE_CREDENTIALS = _RP + "generateCredentials/action"

PASSWORD_NAMES = ("password1", "password2")
_TOKEN_NAME = re.compile(r"^[a-zA-Z0-9-]{5,50}$")
_SCOPE_MAP_NAME = re.compile(r"^[a-zA-Z0-9-_]{5,50}$")

_ALL = "repositories/*/"
# name -> (description, actions), as real registries list them (ARM and Terraform exports).
SYSTEM_SCOPE_MAPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "_repositories_admin": ("Can perform all read, write and delete operations on the registry", (
        _ALL + "metadata/read", _ALL + "metadata/write", _ALL + "content/read", _ALL + "content/write",
        _ALL + "content/delete")),
    "_repositories_pull": ("Can pull any repository of the registry", (_ALL + "content/read",)),
    "_repositories_pull_metadata_read": ("Can perform all read operations on the registry", (
        _ALL + "content/read", _ALL + "metadata/read")),
    "_repositories_push": ("Can push to any repository of the registry", (
        _ALL + "content/read", _ALL + "content/write")),
    "_repositories_push_metadata_write": ("Can perform all read and write operations on the registry", (
        _ALL + "metadata/read", _ALL + "metadata/write", _ALL + "content/read", _ALL + "content/write")),
}

# A scope map's repository actions -> the token service's action names (the names azure-cli's
# RepoAccessTokenPermission uses: pull, push, delete, metadata_read, metadata_write).
SERVICE_ACTIONS = {
    "content/read": "pull",
    "content/write": "push",
    "content/delete": "delete",
    "metadata/read": "metadata_read",
    "metadata/write": "metadata_write",
}


def _arm_time(ts: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if ts is None else ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _parse_time(value: str) -> datetime:
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    if "." in text:  # ARM sends 7 fraction digits; Python reads at most 6
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = head + "." + tail[: min(digits, 6)] + tail[digits:]
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- repository actions -----------------------------------------------------------------------


def parse_action(action: str) -> tuple[str, str] | None:
    """`repositories/team/*/content/write` -> (`team/*`, `content/write`); None for anything else
    (connected-registry `gateway/...` actions, or malformed text)."""
    if not action.startswith("repositories/"):
        return None
    rest = action[len("repositories/"):]
    parts = rest.rsplit("/", 2)
    if len(parts) != 3 or not parts[0]:
        return None
    repo, verb = parts[0], f"{parts[1]}/{parts[2]}"
    if verb not in SERVICE_ACTIONS:
        return None
    return repo, verb


def valid_pattern(repo: str) -> bool:
    """A repository or a wildcard rule: `*`, or a prefix ending in `/*` with that one `*` (the doc's
    "should always end with a `/*` suffix to be valid and have a single wildcard character")."""
    if repo == "*":
        return True
    if "*" not in repo:
        return True
    return repo.endswith("/*") and repo.count("*") == 1 and len(repo) > 2


def covers(pattern: str, repository: str) -> bool:
    """Whether a rule's repository (or wildcard) covers `repository`; ACR repository names are lower
    case, so the comparison ignores case."""
    p, r = pattern.lower(), repository.lower()
    if p == "*":
        return True
    if p.endswith("/*"):
        return r.startswith(p[:-1])
    return p == r


def repository_actions(actions: list[str] | tuple[str, ...], repository: str) -> set[str]:
    """The token-service actions every matching rule of a scope map gives on `repository` (rules add up)."""
    out: set[str] = set()
    for action in actions:
        parsed = parse_action(action)
        if parsed is not None and covers(parsed[0], repository):
            out.add(SERVICE_ACTIONS[parsed[1]])
    return out


# -- storage ------------------------------------------------------------------------------------


def _child_id(registry_id: str, kind: str, name: str) -> str:
    return f"{registry_id.rstrip('/')}/{kind}/{name}"


def put_child(store: Store, registry_id: str, kind: str, doc: dict[str, Any]) -> None:
    rid = registry_id.lower().rstrip("/")
    existing = store.row("SELECT seq FROM registry_children WHERE id_lower = ?", (doc["id"].lower(),))
    seq = existing["seq"] if existing else store.next_seq("registry_children")
    store.execute("INSERT OR REPLACE INTO registry_children(id_lower, registry_id_lower, kind, seq, doc)"
                  " VALUES (?,?,?,?,?)", (doc["id"].lower(), rid, kind, seq, json.dumps(doc)))


def get_child(store: Store, registry_id: str, kind: str, name: str) -> dict[str, Any] | None:
    row = store.row("SELECT doc FROM registry_children WHERE id_lower = ?",
                    (_child_id(registry_id, kind, name).lower(),))
    return json.loads(row["doc"]) if row else None


def list_children(store: Store, registry_id: str, kind: str) -> list[dict[str, Any]]:
    rows = store.rows("SELECT doc FROM registry_children WHERE registry_id_lower = ? AND kind = ? ORDER BY seq",
                      (registry_id.lower().rstrip("/"), kind))
    return [json.loads(r["doc"]) for r in rows]


def delete_child(store: Store, doc: dict[str, Any]) -> None:
    with store.transaction():
        store.execute("DELETE FROM registry_children WHERE id_lower = ?", (doc["id"].lower(),))
        store.execute("DELETE FROM password_hashes WHERE owner_id = ?", (doc["id"].lower(),))


def system_scope_map(registry: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = next(((n, v) for n, v in SYSTEM_SCOPE_MAPS.items() if n.lower() == name.lower()), None)
    if found is None:
        return None
    canonical, (description, actions) = found
    return {
        "id": _child_id(registry["id"], "scopeMaps", canonical),
        "name": canonical,
        "type": SCOPE_MAP_TYPE,
        "properties": {
            "description": description, "type": "SystemDefined",
            # The system maps come with the registry.
            "creationDate": registry["properties"].get("creationDate"),
            "provisioningState": "Succeeded", "actions": list(actions),
        },
    }


def scope_map(store: Store, registry: dict[str, Any], name: str) -> dict[str, Any] | None:
    return system_scope_map(registry, name) or get_child(store, registry["id"], "scopeMaps", name)


def scope_map_by_id(store: Store, registry: dict[str, Any], scope_map_id: str | None) -> dict[str, Any] | None:
    """The scope map a token names, if it is one of this registry's (ids compare without case)."""
    if not scope_map_id:
        return None
    prefix = registry["id"].rstrip("/").lower() + "/scopemaps/"
    if not scope_map_id.lower().startswith(prefix):
        return None
    return scope_map(store, registry, scope_map_id.rstrip("/")[len(prefix):])


def scope_map_doc(registry_id: str, name: str, actions: list[str], description: str | None = None,
                  created: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"description": description, "type": "UserDefined",
                             "creationDate": created or _arm_time(), "provisioningState": "Succeeded",
                             "actions": list(actions)}
    return {"id": _child_id(registry_id, "scopeMaps", name), "name": name, "type": SCOPE_MAP_TYPE,
            "properties": props}


def token_doc(registry_id: str, name: str, scope_map_id: str, status: str = "enabled",
              created: str | None = None) -> dict[str, Any]:
    return {
        "id": _child_id(registry_id, "tokens", name), "name": name, "type": TOKEN_TYPE,
        "properties": {"creationDate": created or _arm_time(), "provisioningState": "Succeeded",
                       "scopeMapId": scope_map_id, "status": status,
                       "credentials": {"certificates": [], "passwords": []}},
    }


def new_password() -> str:
    # ACR's token passwords are 32 to 52 characters of base64; these are 52.
    return secrets.token_urlsafe(39)


def generate_passwords(store: Store, token: dict[str, Any], names: tuple[str, ...] | list[str],
                       expiry: str | None, now: float | None = None,
                       values: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """New values for the named passwords of `token` (stored as hashes, the doc updated in place and
    saved); returns them as generateCredentials does, the only time a value is shown."""
    created = _arm_time(now)
    passwords = [p for p in token["properties"]["credentials"].get("passwords", []) if p.get("name") not in names]
    out: list[dict[str, Any]] = []
    for name in names:
        value = (values or {}).get(name) or new_password()
        key = f"{token['id'].lower()}/{name}"
        salt, digest = hash_secret(value)
        store.execute("INSERT OR REPLACE INTO password_hashes(key_id, owner_id, salt, digest) VALUES (?,?,?,?)",
                      (key, token["id"].lower(), salt, digest))
        passwords.append({"creationTime": created, "expiry": expiry, "name": name})
        out.append({"expiry": expiry, "name": name, "value": value})
    token["properties"]["credentials"]["passwords"] = sorted(passwords, key=lambda p: p["name"])
    put_child(store, _registry_of(token["id"]), "tokens", token)
    return out


def _registry_of(child_id: str) -> str:
    return child_id.rstrip("/").rsplit("/", 2)[0]


def seed_token(store: Store, registry: dict[str, Any], name: str, scope_map_name: str, *,
               status: str = "enabled", passwords: dict[str, str | None] | None = None,
               created: str | None = None, now: float | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """A token with `passwords` (name -> expiry or None), for seeds and test set-up; returns the
    token and the password values (nobody else ever sees them)."""
    sm = scope_map(store, registry, scope_map_name)
    assert sm is not None, scope_map_name
    doc = token_doc(registry["id"], name, sm["id"], status, created)
    put_child(store, registry["id"], "tokens", doc)
    values: dict[str, str] = {}
    for pname, expiry in (passwords or {}).items():
        values.update({p["name"]: p["value"] for p in generate_passwords(store, doc, (pname,), expiry, now)})
    return doc, values


# -- the token service's side ---------------------------------------------------------------------


class TokenRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def verify_password(store: Store, registry: dict[str, Any], username: str, password: str,
                    now: float | None = None) -> dict[str, Any]:
    """The token `username` names, if `password` is one of its passwords, unexpired, and the token is
    enabled ("The token must have the `Enabled` status"); TokenRefused otherwise."""
    token = get_child(store, registry["id"], "tokens", username) if _TOKEN_NAME.match(username) else None
    if token is None:
        raise TokenRefused("incorrect username or password")
    owner = token["id"].lower()
    matched: str | None = None
    for row in store.rows("SELECT key_id, salt, digest FROM password_hashes WHERE owner_id = ?", (owner,)):
        _, digest = hash_secret(password, row["salt"])
        if hmac.compare_digest(digest, row["digest"]):
            matched = str(row["key_id"]).rsplit("/", 1)[-1]
    listed = {p.get("name"): p for p in token["properties"]["credentials"].get("passwords", [])}
    if matched is None or matched not in listed:  # a removed password's hash may linger: not listed, not valid
        raise TokenRefused("incorrect username or password")
    expiry = listed[matched].get("expiry")
    if expiry and _parse_time(expiry).timestamp() <= (time.time() if now is None else now):
        raise TokenRefused(f"the token's {matched} has expired")
    if str(token["properties"].get("status", "enabled")).lower() != "enabled":
        raise TokenRefused("the token is disabled")
    return token


def token_actions(store: Store, registry: dict[str, Any], token: dict[str, Any]) -> tuple[str, ...]:
    """The scope map's actions, read at each token request: "The updated scope map is applied
    immediately to all associated tokens"."""
    sm = scope_map_by_id(store, registry, token["properties"].get("scopeMapId"))
    return tuple(sm["properties"]["actions"]) if sm is not None else ()


# -- ARM ---------------------------------------------------------------------------------------


def _validate_actions(actions: Any) -> list[str]:
    if not isinstance(actions, list) or not actions or not all(isinstance(a, str) for a in actions):
        raise ApiError(400, "InvalidRequestContent", "The scope map's actions must be a non-empty list of strings.")
    for action in actions:
        if action.startswith("gateway/"):  # connected registries' actions: stored, no repository right
            continue
        parsed = parse_action(action)
        if parsed is None:
            raise ApiError(400, "InvalidRequestContent",
                           f"The action '{action}' is not valid: use repositories/<repository>/content/read, "
                           "content/write, content/delete, metadata/read or metadata/write.")
        if not valid_pattern(parsed[0]):
            # (inference) the doc calls such wildcards invalid; refusing them is the plain reading.
            raise ApiError(400, "InvalidRequestContent",
                           f"The repository '{parsed[0]}' in action '{action}' is not valid: a wildcard must be "
                           "'*' or end with '/*', with a single wildcard character.")
    return list(dict.fromkeys(actions))


def _status(value: Any) -> str:
    if not isinstance(value, str) or value.lower() not in ("enabled", "disabled"):
        raise ApiError(400, "InvalidRequestContent", f"The status '{value}' is not valid; use enabled or disabled.")
    return value.lower()


def _expiry(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, "InvalidRequestContent", "The expiry must be an ISO 8601 date and time.")
    try:
        return _arm_time(_parse_time(value).timestamp())
    except ValueError:
        raise ApiError(400, "InvalidRequestContent", f"The expiry '{value}' is not an ISO 8601 date and time.") \
            from None


def child_not_found(kind: str, registry: str, name: str) -> ApiError:
    what = "token" if kind == "tokens" else "scope map"
    return ApiError(404, "ResourceNotFound",
                    f"The {what} '{name}' was not found in registry '{registry}'. For more details please go to "
                    "https://aka.ms/ARMResourceNotFoundFix")


def routes(sb: Sandbox) -> list[Route]:
    store = sb.store

    def registry_of(request: Request, action: str, child: str | None = None) -> dict[str, Any]:
        """The registry of the request once the caller may do `action` on it (or on its `child`);
        404 for a missing subscription, group or registry, 403 before 404 as ARM does."""
        return existing_registry(sb, request, sb.authenticate(request, "arm"), action, child)

    # scope maps ------------------------------------------------------------------------------

    async def list_scope_maps(request: Request) -> Response:
        registry = registry_of(request, SCOPE_MAPS_READ)
        items = [d for d in (system_scope_map(registry, n) for n in SYSTEM_SCOPE_MAPS) if d is not None]
        items += list_children(store, registry["id"], "scopeMaps")
        return JSONResponse(arm_page(request, sb.base_url, items, sb.settings.page_size))

    async def get_scope_map(request: Request) -> Response:
        child = request.path_params["child"]
        registry = registry_of(request, SCOPE_MAPS_READ, f"scopeMaps/{child}")
        doc = scope_map(store, registry, child)
        if doc is None:
            raise child_not_found("scopeMaps", registry["name"], child)
        return JSONResponse(doc)

    async def put_scope_map(request: Request) -> Response:
        child = request.path_params["child"]
        registry = registry_of(request, SCOPE_MAPS_WRITE, f"scopeMaps/{child}")
        if system_scope_map(registry, child) is not None:
            raise ApiError(400, "InvalidRequestContent",
                           f"The scope map '{child}' is system-defined and cannot be changed.")
        if not _SCOPE_MAP_NAME.match(child):
            raise ApiError(400, "InvalidResourceName",
                           f"The scope map name '{child}' is invalid: use 5 to 50 letters, digits, '-' and '_'.")
        body = await json_body(request)
        props = body.get("properties") or {}
        if not isinstance(props, dict):
            raise ApiError(400, "InvalidRequestContent", "The properties of the scope map must be an object.")
        actions = _validate_actions(props.get("actions"))
        existing = get_child(store, registry["id"], "scopeMaps", child)
        doc = scope_map_doc(registry["id"], existing["name"] if existing else child, actions,
                            props.get("description") if isinstance(props.get("description"), str) else None,
                            existing["properties"]["creationDate"] if existing else None)
        put_child(store, registry["id"], "scopeMaps", doc)
        return JSONResponse(doc, status_code=200 if existing else 201)

    async def patch_scope_map(request: Request) -> Response:
        child = request.path_params["child"]
        registry = registry_of(request, SCOPE_MAPS_WRITE, f"scopeMaps/{child}")
        if system_scope_map(registry, child) is not None:
            raise ApiError(400, "InvalidRequestContent",
                           f"The scope map '{child}' is system-defined and cannot be changed.")
        doc = get_child(store, registry["id"], "scopeMaps", child)
        if doc is None:
            raise child_not_found("scopeMaps", registry["name"], child)
        props = (await json_body(request)).get("properties") or {}
        if not isinstance(props, dict):
            raise ApiError(400, "InvalidRequestContent", "The properties of the scope map must be an object.")
        if "actions" in props and props["actions"] is not None:
            doc["properties"]["actions"] = _validate_actions(props["actions"])
        if isinstance(props.get("description"), str):
            doc["properties"]["description"] = props["description"]
        put_child(store, registry["id"], "scopeMaps", doc)
        return JSONResponse(doc)

    async def delete_scope_map(request: Request) -> Response:
        child = request.path_params["child"]
        registry = registry_of(request, SCOPE_MAPS_DELETE, f"scopeMaps/{child}")
        if system_scope_map(registry, child) is not None:
            raise ApiError(400, "InvalidRequestContent",
                           f"The scope map '{child}' is system-defined and cannot be deleted.")
        doc = get_child(store, registry["id"], "scopeMaps", child)
        if doc is None:
            return Response(status_code=204)
        delete_child(store, doc)
        return Response(status_code=200)

    # tokens ----------------------------------------------------------------------------------

    def shown(token: dict[str, Any]) -> dict[str, Any]:
        # A GET never carries a password's value ("The passwords can't be retrieved again").
        out = json.loads(json.dumps(token))
        for p in out["properties"]["credentials"].get("passwords", []):
            p.pop("value", None)
        return out

    async def list_tokens(request: Request) -> Response:
        registry = registry_of(request, TOKENS_READ)
        items = [shown(t) for t in list_children(store, registry["id"], "tokens")]
        return JSONResponse(arm_page(request, sb.base_url, items, sb.settings.page_size))

    async def get_token(request: Request) -> Response:
        child = request.path_params["child"]
        registry = registry_of(request, TOKENS_READ, f"tokens/{child}")
        doc = get_child(store, registry["id"], "tokens", child)
        if doc is None:
            raise child_not_found("tokens", registry["name"], child)
        return JSONResponse(shown(doc))

    def require_scope_map(registry: dict[str, Any], scope_map_id: Any) -> str:
        if not isinstance(scope_map_id, str) or scope_map_by_id(store, registry, scope_map_id) is None:
            raise ApiError(400, "InvalidRequestContent",
                           f"The scope map '{scope_map_id}' is not a scope map of registry '{registry['name']}'.")
        sm = scope_map_by_id(store, registry, scope_map_id)
        assert sm is not None
        return str(sm["id"])

    async def put_token(request: Request) -> Response:
        child = request.path_params["child"]
        registry = registry_of(request, TOKENS_WRITE, f"tokens/{child}")
        if not _TOKEN_NAME.match(child):
            raise ApiError(400, "InvalidResourceName",
                           f"The token name '{child}' is invalid: use 5 to 50 letters, digits and '-'.")
        props = (await json_body(request)).get("properties") or {}
        if not isinstance(props, dict):
            raise ApiError(400, "InvalidRequestContent", "The properties of the token must be an object.")
        scope_map_id = require_scope_map(registry, props.get("scopeMapId"))
        status = _status(props.get("status", "enabled"))
        existing = get_child(store, registry["id"], "tokens", child)
        if existing is not None:
            existing["properties"].update({"scopeMapId": scope_map_id, "status": status})
            put_child(store, registry["id"], "tokens", existing)
            return JSONResponse(shown(existing))
        doc = token_doc(registry["id"], child, scope_map_id, status)
        put_child(store, registry["id"], "tokens", doc)
        # (inference) A create that names passwords gets them generated, their values in this answer only.
        wanted = ((props.get("credentials") or {}).get("passwords") or []) if isinstance(props.get("credentials"),
                                                                                         dict) else []
        names = [p.get("name") for p in wanted if isinstance(p, dict)]
        if any(n not in PASSWORD_NAMES for n in names):
            raise ApiError(400, "InvalidRequestContent", "A token password's name must be password1 or password2.")
        made: list[dict[str, Any]] = []
        for p in wanted:
            made += generate_passwords(store, doc, (p["name"],), _expiry(p.get("expiry")))
        body = shown(doc)
        values = {m["name"]: m["value"] for m in made}
        for p in body["properties"]["credentials"]["passwords"]:
            if p["name"] in values:
                p["value"] = values[p["name"]]
        return JSONResponse(body, status_code=201)

    async def patch_token(request: Request) -> Response:
        child = request.path_params["child"]
        registry = registry_of(request, TOKENS_WRITE, f"tokens/{child}")
        doc = get_child(store, registry["id"], "tokens", child)
        if doc is None:
            raise child_not_found("tokens", registry["name"], child)
        props = (await json_body(request)).get("properties") or {}
        if not isinstance(props, dict):
            raise ApiError(400, "InvalidRequestContent", "The properties of the token must be an object.")
        if props.get("scopeMapId") is not None:
            doc["properties"]["scopeMapId"] = require_scope_map(registry, props["scopeMapId"])
        if props.get("status") is not None:
            doc["properties"]["status"] = _status(props["status"])
        credentials = props.get("credentials")
        if isinstance(credentials, dict) and isinstance(credentials.get("passwords"), list):
            # The list names the passwords to keep (azure-cli `acr token credential delete`); a
            # password can only be created by generateCredentials, so unknown names are ignored.
            keep = {p.get("name") for p in credentials["passwords"] if isinstance(p, dict)}
            current = doc["properties"]["credentials"].get("passwords", [])
            doc["properties"]["credentials"]["passwords"] = [p for p in current if p.get("name") in keep]
            for p in current:
                if p.get("name") not in keep:
                    store.remove_password_hash(f"{doc['id'].lower()}/{p.get('name')}")
        put_child(store, registry["id"], "tokens", doc)
        return JSONResponse(shown(doc))

    async def delete_token(request: Request) -> Response:
        child = request.path_params["child"]
        registry = registry_of(request, TOKENS_DELETE, f"tokens/{child}")
        doc = get_child(store, registry["id"], "tokens", child)
        if doc is None:
            return Response(status_code=204)
        delete_child(store, doc)
        return Response(status_code=200)

    async def generate_credentials(request: Request) -> Response:
        registry = registry_of(request, GENERATE_CREDENTIALS)
        body = await json_body(request)
        token_id = body.get("tokenId")
        prefix = registry["id"].lower() + "/tokens/"
        if not isinstance(token_id, str) or not token_id.lower().startswith(prefix):
            raise ApiError(400, "InvalidRequestContent",
                           f"The tokenId '{token_id}' is not a token of registry '{registry['name']}'.")
        doc = get_child(store, registry["id"], "tokens", token_id.rstrip("/")[len(prefix):])
        if doc is None:
            raise child_not_found("tokens", registry["name"], token_id.rsplit("/", 1)[-1])
        name = body.get("name")
        if name is not None and name not in PASSWORD_NAMES:
            raise ApiError(400, "InvalidRequestContent", f"The password name '{name}' is not valid; use password1 "
                           "or password2.")
        # Without a name both are generated, as `az acr token credential generate` does by default.
        made = generate_passwords(store, doc, (name,) if name else PASSWORD_NAMES, _expiry(body.get("expiry")))
        return JSONResponse({"username": doc["name"], "passwords": made}, headers={"Cache-Control": "no-store"})

    one = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/{name}"
    return [
        Route(one + "/scopeMaps", list_scope_maps, methods=["GET"]),
        Route(one + "/scopeMaps/{child}", get_scope_map, methods=["GET"]),
        Route(one + "/scopeMaps/{child}", put_scope_map, methods=["PUT"]),
        Route(one + "/scopeMaps/{child}", patch_scope_map, methods=["PATCH"]),
        Route(one + "/scopeMaps/{child}", delete_scope_map, methods=["DELETE"]),
        Route(one + "/tokens", list_tokens, methods=["GET"]),
        Route(one + "/tokens/{child}", get_token, methods=["GET"]),
        Route(one + "/tokens/{child}", put_token, methods=["PUT"]),
        Route(one + "/tokens/{child}", patch_token, methods=["PATCH"]),
        Route(one + "/tokens/{child}", delete_token, methods=["DELETE"]),
        Route(one + "/generateCredentials", generate_credentials, methods=["POST"]),
    ]


__all__ = ["PASSWORD_NAMES", "SYSTEM_SCOPE_MAPS", "TokenRefused", "covers",
           "generate_passwords", "repository_actions", "routes", "scope_map", "seed_token", "token_actions",
           "verify_password"]
