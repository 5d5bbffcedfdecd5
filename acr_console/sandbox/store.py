"""SQLite storage for the sandbox tenant.

Resources are kept as the JSON documents the REST APIs return, with the columns that requests
filter on pulled out beside them. One connection guarded by a lock serves every request: the
server runs one event loop, queries take microseconds, and a lock is simpler than a pool.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SUBSCRIPTION_SCOPE_LEN = len("/subscriptions/00000000-0000-0000-0000-000000000000")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions(
    id TEXT PRIMARY KEY, display_name TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'Enabled');
CREATE TABLE IF NOT EXISTS resource_groups(
    id_lower TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL);
-- ARM resources below resource groups (registries); id_lower is the lower-cased resource id.
CREATE TABLE IF NOT EXISTS resources(
    id_lower TEXT PRIMARY KEY, type TEXT NOT NULL, subscription_id TEXT NOT NULL,
    resource_group_lower TEXT NOT NULL, name_lower TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS resources_by_sub ON resources(subscription_id, type, seq);
CREATE TABLE IF NOT EXISTS role_definitions(
    guid TEXT PRIMARY KEY, role_name_lower TEXT NOT NULL, custom INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS role_assignments(
    name TEXT PRIMARY KEY, scope_lower TEXT NOT NULL, role_guid TEXT NOT NULL,
    principal_id TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ra_by_scope ON role_assignments(scope_lower);
CREATE INDEX IF NOT EXISTS ra_by_principal ON role_assignments(principal_id);
-- Keyset paging of role assignments walks seq; MAX(seq) for the next one is then a lookup too.
CREATE INDEX IF NOT EXISTS ra_by_seq ON role_assignments(seq);
-- A subscription's assignments (its own and below) in seq order: "/subscriptions/{guid}" is 51
-- characters. Without it, a page of one subscription among 58 scanned every other one's rows.
CREATE INDEX IF NOT EXISTS ra_by_subscription ON role_assignments(substr(scope_lower, 1, 51), seq);
-- Entra directory objects: application, servicePrincipal, group, user.
CREATE TABLE IF NOT EXISTS directory_objects(
    id TEXT PRIMARY KEY, type TEXT NOT NULL, app_id TEXT, display_name TEXT NOT NULL,
    seq INTEGER NOT NULL, created REAL NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dir_by_type ON directory_objects(type, seq);
CREATE INDEX IF NOT EXISTS dir_by_app ON directory_objects(app_id, type);
CREATE INDEX IF NOT EXISTS dir_by_name ON directory_objects(type, display_name COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS group_members(
    group_id TEXT NOT NULL, member_id TEXT NOT NULL, PRIMARY KEY(group_id, member_id));
CREATE INDEX IF NOT EXISTS members_by_member ON group_members(member_id);
-- Client secrets, only as salted hashes: key_id is the passwordCredential's keyId.
CREATE TABLE IF NOT EXISTS password_hashes(
    key_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, salt BLOB NOT NULL, digest BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS pw_by_owner ON password_hashes(owner_id);
-- Application permissions granted to a service principal on the directory (Graph `roles` claim).
CREATE TABLE IF NOT EXISTS directory_grants(
    principal_id TEXT NOT NULL, permission TEXT NOT NULL, PRIMARY KEY(principal_id, permission));
-- Owners of applications and service principals (Graph `owners`; users or service principals).
CREATE TABLE IF NOT EXISTS directory_owners(
    object_id TEXT NOT NULL, owner_id TEXT NOT NULL, PRIMARY KEY(object_id, owner_id));
CREATE INDEX IF NOT EXISTS owners_by_owner ON directory_owners(owner_id);
-- Microsoft Entra role assignments (Graph `roleManagement/directory/roleAssignments`).
CREATE TABLE IF NOT EXISTS directory_role_assignments(
    id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, role_definition_id TEXT NOT NULL,
    directory_scope_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dra_by_principal ON directory_role_assignments(principal_id);
-- appRoleAssignments to resources other than Microsoft Graph, and the id and time of those to Graph
-- (whose permissions themselves live in directory_grants, what tokens read).
CREATE TABLE IF NOT EXISTS app_role_assignments(
    id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, resource_id TEXT NOT NULL, app_role_id TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ara_by_principal ON app_role_assignments(principal_id);
CREATE INDEX IF NOT EXISTS ara_by_resource ON app_role_assignments(resource_id);
-- federatedIdentityCredentials of applications.
CREATE TABLE IF NOT EXISTS federated_credentials(
    id TEXT PRIMARY KEY, application_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS fic_by_app ON federated_credentials(application_id);
-- Registry tokens and scope maps (ARM child resources of a registry: kind 'tokens' or 'scopeMaps'),
-- kept apart from `resources` because ARM lists them only under their registry. Token passwords are
-- salted hashes in password_hashes (owner_id = the token's lower-cased id); see registry_tokens.py.
CREATE TABLE IF NOT EXISTS registry_children(
    id_lower TEXT PRIMARY KEY, registry_id_lower TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS children_by_registry ON registry_children(registry_id_lower, kind, seq);
CREATE TABLE IF NOT EXISTS request_log(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT NOT NULL, status INTEGER NOT NULL, principal TEXT, api_version TEXT,
    duration_ms REAL NOT NULL, note TEXT);
-- Registry admin-user passwords, kept retrievable because listCredentials returns them (as Azure does).
CREATE TABLE IF NOT EXISTS registry_credentials(
    registry_id_lower TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY(registry_id_lower, name));
"""


def hash_secret(secret: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    """Salted HMAC-SHA256. Client secrets are 40 random characters, so a slow KDF buys nothing
    against guessing and would make seeding 20,000 principals take minutes."""
    salt = salt or secrets.token_bytes(16)
    return salt, hmac.new(salt, secret.encode(), hashlib.sha256).digest()


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        # Read through a memory map rather than a read() per page: a 20,000-principal tenant's
        # lookups by id touch pages all over the file (~30 % less time per group listed).
        self._conn.execute("PRAGMA mmap_size=268435456")
        self._lock = threading.RLock()
        self._in_tx = False
        with self._lock:
            self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- primitives -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing writes; nested use joins the outer transaction."""
        with self._lock:
            if self._in_tx:
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._in_tx = True
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._in_tx = False

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def row(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchone()

    def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).rowcount

    def executemany(self, sql: str, params: Iterable[Iterable[Any]]) -> None:
        with self._lock:
            self._conn.executemany(sql, (tuple(p) for p in params))

    def next_seq(self, table: str) -> int:
        row = self.row(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}")
        return int(row[0]) if row else 1

    # -- meta --------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.row("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def tenant_id(self) -> str:
        tid = self.get_meta("tenant_id")
        if tid is None:
            raise RuntimeError("the sandbox store has not been seeded")
        return tid

    def is_seeded(self) -> bool:
        return self.get_meta("tenant_id") is not None

    # -- subscriptions and ARM resources ------------------------------------------------------

    def subscriptions(self) -> list[sqlite3.Row]:
        return self.rows("SELECT * FROM subscriptions ORDER BY display_name")

    def subscription(self, sub_id: str) -> sqlite3.Row | None:
        return self.row("SELECT * FROM subscriptions WHERE id = ?", (sub_id.lower(),))

    def put_resource_group(self, sub_id: str, name: str, doc: dict[str, Any]) -> None:
        rg_id = f"/subscriptions/{sub_id}/resourceGroups/{name}".lower()
        self.execute(
            "INSERT OR REPLACE INTO resource_groups(id_lower, subscription_id, name, doc) VALUES (?,?,?,?)",
            (rg_id, sub_id.lower(), name, json.dumps(doc)),
        )

    def resource_group(self, sub_id: str, name: str) -> dict[str, Any] | None:
        row = self.row(
            "SELECT doc FROM resource_groups WHERE id_lower = ?",
            (f"/subscriptions/{sub_id}/resourceGroups/{name}".lower(),),
        )
        return json.loads(row["doc"]) if row else None

    def put_resource(self, doc: dict[str, Any]) -> None:
        rid: str = doc["id"]
        parts = rid.split("/")
        sub_id, rg = parts[2].lower(), parts[4].lower()
        existing = self.row("SELECT seq FROM resources WHERE id_lower = ?", (rid.lower(),))
        seq = existing["seq"] if existing else self.next_seq("resources")
        self.execute(
            "INSERT OR REPLACE INTO resources(id_lower, type, subscription_id, resource_group_lower,"
            " name_lower, seq, doc) VALUES (?,?,?,?,?,?,?)",
            (rid.lower(), doc["type"].lower(), sub_id, rg, doc["name"].lower(), seq, json.dumps(doc)),
        )

    def resource(self, resource_id: str) -> dict[str, Any] | None:
        row = self.row("SELECT doc FROM resources WHERE id_lower = ?", (resource_id.lower().rstrip("/"),))
        return json.loads(row["doc"]) if row else None

    def resources(
        self, rtype: str, sub_id: str, resource_group: str | None = None, offset: int = 0, limit: int = -1
    ) -> list[dict[str, Any]]:
        sql = "SELECT doc FROM resources WHERE type = ? AND subscription_id = ?"
        params: list[Any] = [rtype.lower(), sub_id.lower()]
        if resource_group is not None:
            sql += " AND resource_group_lower = ?"
            params.append(resource_group.lower())
        sql += " ORDER BY seq LIMIT ? OFFSET ?"
        params += [limit, offset]
        return [json.loads(r["doc"]) for r in self.rows(sql, params)]

    # -- directory ---------------------------------------------------------------------------

    def put_object(self, doc: dict[str, Any], otype: str, created: float) -> None:
        existing = self.row("SELECT seq, created FROM directory_objects WHERE id = ?", (doc["id"],))
        seq = existing["seq"] if existing else self.next_seq("directory_objects")
        self.execute(
            "INSERT OR REPLACE INTO directory_objects(id, type, app_id, display_name, seq, created, doc)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                doc["id"], otype, doc.get("appId"), doc.get("displayName") or "", seq,
                existing["created"] if existing else created, json.dumps(doc),
            ),
        )

    def object(self, object_id: str, otype: str | None = None) -> dict[str, Any] | None:
        if otype:
            row = self.row("SELECT doc FROM directory_objects WHERE id = ? AND type = ?", (object_id, otype))
        else:
            row = self.row("SELECT doc FROM directory_objects WHERE id = ?", (object_id,))
        return json.loads(row["doc"]) if row else None

    def object_type(self, object_id: str) -> str | None:
        row = self.row("SELECT type FROM directory_objects WHERE id = ?", (object_id,))
        return row["type"] if row else None

    def object_created(self, object_id: str) -> float | None:
        row = self.row("SELECT created FROM directory_objects WHERE id = ?", (object_id,))
        return row["created"] if row else None

    def by_app_id(self, app_id: str, otype: str) -> dict[str, Any] | None:
        row = self.row(
            "SELECT doc FROM directory_objects WHERE app_id = ? AND type = ?", (app_id.lower(), otype)
        )
        return json.loads(row["doc"]) if row else None

    # -- secrets -----------------------------------------------------------------------------

    def add_password_hash(self, key_id: str, owner_id: str, secret: str) -> None:
        salt, digest = hash_secret(secret)
        self.execute(
            "INSERT OR REPLACE INTO password_hashes(key_id, owner_id, salt, digest) VALUES (?,?,?,?)",
            (key_id, owner_id, salt, digest),
        )

    def remove_password_hash(self, key_id: str) -> None:
        self.execute("DELETE FROM password_hashes WHERE key_id = ?", (key_id,))

    def match_password(self, owner_ids: Iterable[str], secret: str) -> tuple[str, str] | None:
        """The (owner id, key id) whose stored hash matches `secret`, if any."""
        owners = list(owner_ids)
        if not owners:
            return None
        marks = ",".join("?" * len(owners))
        for row in self.rows(
            f"SELECT key_id, owner_id, salt, digest FROM password_hashes WHERE owner_id IN ({marks})", owners
        ):
            _, digest = hash_secret(secret, row["salt"])
            if hmac.compare_digest(digest, row["digest"]):
                return row["owner_id"], row["key_id"]
        return None

    # -- role assignments --------------------------------------------------------------------

    def put_role_assignment(self, doc: dict[str, Any]) -> None:
        props = doc["properties"]
        existing = self.row("SELECT seq FROM role_assignments WHERE name = ?", (doc["name"],))
        seq = existing["seq"] if existing else self.next_seq("role_assignments")
        self.execute(
            "INSERT OR REPLACE INTO role_assignments(name, scope_lower, role_guid, principal_id, seq, doc)"
            " VALUES (?,?,?,?,?,?)",
            (
                doc["name"], props["scope"].lower().rstrip("/") or "/",
                props["roleDefinitionId"].rsplit("/", 1)[-1].lower(), props["principalId"].lower(),
                seq, json.dumps(doc),
            ),
        )

    def role_assignments_for_principals(self, principal_ids: Iterable[str]) -> list[dict[str, Any]]:
        ids = [p.lower() for p in principal_ids]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return [
            json.loads(r["doc"])
            for r in self.rows(
                f"SELECT doc FROM role_assignments WHERE principal_id IN ({marks}) ORDER BY seq", ids
            )
        ]

    def role_definition(self, guid: str) -> dict[str, Any] | None:
        row = self.row("SELECT doc FROM role_definitions WHERE guid = ?", (guid.lower(),))
        return json.loads(row["doc"]) if row else None

    def put_role_definition(self, guid: str, doc: dict[str, Any], custom: bool) -> None:
        self.execute(
            "INSERT OR REPLACE INTO role_definitions(guid, role_name_lower, custom, doc) VALUES (?,?,?,?)",
            (guid.lower(), doc["properties"]["roleName"].lower(), int(custom), json.dumps(doc)),
        )

    def group_ids_of(self, member_id: str) -> set[str]:
        """Every group `member_id` belongs to, transitively (cycles are tolerated)."""
        seen: set[str] = set()
        frontier = [member_id]
        while frontier:
            marks = ",".join("?" * len(frontier))
            rows = self.rows(f"SELECT group_id FROM group_members WHERE member_id IN ({marks})", frontier)
            frontier = [r["group_id"] for r in rows if r["group_id"] not in seen]
            seen.update(frontier)
        return seen

    # -- request log -------------------------------------------------------------------------

    def log_request(
        self, *, time: float, method: str, path: str, query: str, status: int, principal: str | None,
        api_version: str | None, duration_ms: float, note: str | None = None,
    ) -> None:
        self.execute(
            "INSERT INTO request_log(time, method, path, query, status, principal, api_version,"
            " duration_ms, note) VALUES (?,?,?,?,?,?,?,?,?)",
            (time, method, path, query, status, principal, api_version, duration_ms, note),
        )

    def request_log(self, since_seq: int = 0) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows("SELECT * FROM request_log WHERE seq > ? ORDER BY seq", (since_seq,))]

    def last_request_seq(self) -> int:
        row = self.row("SELECT COALESCE(MAX(seq), 0) FROM request_log")
        return int(row[0]) if row else 0

    # -- ARM writes: resource groups, resources, registry admin credentials ---------------------

    def resource_groups(self, sub_id: str) -> list[dict[str, Any]]:
        rows = self.rows(
            "SELECT doc FROM resource_groups WHERE subscription_id = ? ORDER BY name COLLATE NOCASE",
            (sub_id.lower(),),
        )
        return [json.loads(r["doc"]) for r in rows]

    def resource_named(self, rtype: str, name: str) -> dict[str, Any] | None:
        """A resource of `rtype` with this name in any subscription (registry names are global DNS names)."""
        row = self.row("SELECT doc FROM resources WHERE type = ? AND name_lower = ?",
                       (rtype.lower(), name.lower()))
        return json.loads(row["doc"]) if row else None

    def delete_resource(self, resource_id: str) -> bool:
        """Remove a resource with its admin credentials and every role assignment at or below it."""
        rid = resource_id.lower().rstrip("/")
        with self.transaction():
            gone = self.execute("DELETE FROM resources WHERE id_lower = ?", (rid,))
            self.execute("DELETE FROM registry_credentials WHERE registry_id_lower = ?", (rid,))
            self.delete_registry_children_under(rid)
            self.delete_role_assignments_under(rid)
        return gone > 0

    def delete_resource_group(self, sub_id: str, name: str) -> bool:
        rg_id = f"/subscriptions/{sub_id}/resourceGroups/{name}".lower()
        with self.transaction():
            gone = self.execute("DELETE FROM resource_groups WHERE id_lower = ?", (rg_id,))
            self.execute(
                "DELETE FROM registry_credentials WHERE registry_id_lower >= ? AND registry_id_lower < ?",
                (rg_id + "/", rg_id + "0"),
            )
            self.execute("DELETE FROM resources WHERE subscription_id = ? AND resource_group_lower = ?",
                         (sub_id.lower(), name.lower()))
            self.delete_registry_children_under(rg_id)
            self.delete_role_assignments_under(rg_id)
        return gone > 0

    def delete_registry_children_under(self, scope: str) -> None:
        """Tokens, scope maps and token password hashes of every registry at or below `scope`
        (ARM deletes a resource's child resources with it)."""
        s = scope.lower().rstrip("/")
        self.execute("DELETE FROM registry_children WHERE registry_id_lower = ? OR "
                     "(registry_id_lower >= ? AND registry_id_lower < ?)", (s, s + "/", s + "0"))
        self.execute("DELETE FROM password_hashes WHERE owner_id >= ? AND owner_id < ?", (s + "/", s + "0"))

    def set_registry_password(self, registry_id: str, name: str, value: str, created: float) -> None:
        self.execute(
            "INSERT OR REPLACE INTO registry_credentials(registry_id_lower, name, value, created)"
            " VALUES (?,?,?,?)",
            (registry_id.lower().rstrip("/"), name, value, created),
        )

    def registry_passwords(self, registry_id: str) -> dict[str, str]:
        rows = self.rows(
            "SELECT name, value FROM registry_credentials WHERE registry_id_lower = ? ORDER BY name",
            (registry_id.lower().rstrip("/"),),
        )
        return {r["name"]: r["value"] for r in rows}

    def admin_password_matches(self, registry_id: str, password: str) -> bool:
        """Whether `password` is one of the registry's admin passwords while its admin user is enabled.

        Constant-time per comparison; a registry whose passwords were never generated matches nothing.
        """
        doc = self.resource(registry_id)
        if doc is None or not doc.get("properties", {}).get("adminUserEnabled"):
            return False
        candidate = password.encode()
        return any(hmac.compare_digest(candidate, value.encode())
                   for value in self.registry_passwords(registry_id).values())

    # -- role assignments and definitions: queries for the Authorization API -------------------

    def role_assignment(self, name: str) -> dict[str, Any] | None:
        row = self.row("SELECT doc FROM role_assignments WHERE name = ?", (name.lower(),))
        return json.loads(row["doc"]) if row else None

    def delete_role_assignment(self, name: str) -> bool:
        return self.execute("DELETE FROM role_assignments WHERE name = ?", (name.lower(),)) > 0

    def count_role_assignments_under(self, scope: str) -> int:
        """Assignments at `scope` and below it (a subscription's count toward ARM's limit)."""
        s = scope.lower().rstrip("/")
        row = self.row("SELECT COUNT(*) AS n FROM role_assignments WHERE scope_lower = ?"
                       " OR (scope_lower >= ? AND scope_lower < ?)", (s, s + "/", s + "0"))
        return int(row["n"]) if row else 0

    def delete_role_assignments_under(self, scope: str) -> int:
        """Delete assignments at `scope` and below it (a resource or group being deleted)."""
        s = scope.lower().rstrip("/")
        return self.execute(
            "DELETE FROM role_assignments WHERE scope_lower = ? OR (scope_lower >= ? AND scope_lower < ?)",
            (s, s + "/", s + "0"),
        )

    def find_role_assignment(self, scope: str, role_guid: str, principal_id: str) -> dict[str, Any] | None:
        row = self.row(
            "SELECT doc FROM role_assignments WHERE scope_lower = ? AND role_guid = ? AND principal_id = ?",
            (scope.lower().rstrip("/") or "/", role_guid.lower(), principal_id.lower()),
        )
        return json.loads(row["doc"]) if row else None

    def query_role_assignments(
        self, *, exact_scopes: Iterable[str], management_groups: bool, below: str | None,
        principal_ids: Iterable[str] | None, after_seq: int = 0, limit: int = -1,
    ) -> list[tuple[int, str]]:
        """(seq, doc as stored JSON text) of assignments at any of `exact_scopes` (lower-cased), at
        management-group scopes if asked, or strictly below `below` (`""` means everything); optionally
        only for `principal_ids`. In creation order from just after `after_seq`: keyset paging stays
        fast on a hundred thousand assignments and stable while others are added or deleted. As text,
        so a list page is spliced, not parsed and encoded again."""
        exact = list(exact_scopes)
        principal_ids = None if principal_ids is None else list(principal_ids)  # read twice below
        if below is not None and len(below) == _SUBSCRIPTION_SCOPE_LEN and below.startswith("/subscriptions/"):
            # A subscription and everything below it through ra_by_subscription, the few assignments
            # above it (root, management groups) on their own; merged in seq order.
            mine = self._role_assignment_rows("substr(scope_lower, 1, 51) = ?", [below], principal_ids,
                                              after_seq, limit)
            above = self.query_role_assignments(exact_scopes=[e for e in exact if e != below],
                                                management_groups=management_groups, below=None,
                                                principal_ids=principal_ids, after_seq=after_seq, limit=limit)
            merged = sorted([*mine, *above], key=lambda row: row[0])
            return merged if limit < 0 else merged[:limit]
        where: list[str] = []
        params: list[Any] = []
        if exact:
            where.append(f"scope_lower IN ({','.join('?' * len(exact))})")
            params += exact
        # Ranges rather than LIKE so the scope index can serve them; '0' is the character after '/'.
        if management_groups:
            where.append("(scope_lower >= ? AND scope_lower < ?)")
            params += ["/providers/microsoft.management/managementgroups/",
                       "/providers/microsoft.management/managementgroups0"]
        if below == "":
            where.append("1")
        elif below is not None:
            where.append("(scope_lower >= ? AND scope_lower < ?)")
            params += [below + "/", below + "0"]
        return self._role_assignment_rows(" OR ".join(where) or "0", params, principal_ids, after_seq, limit)

    def _role_assignment_rows(self, where: str, params: list[Any], principal_ids: Iterable[str] | None,
                              after_seq: int, limit: int) -> list[tuple[int, str]]:
        sql = "SELECT seq, doc FROM role_assignments WHERE seq > ? AND (" + where + ")"
        params = [after_seq, *params]
        if principal_ids is not None:
            ids = [p.lower() for p in principal_ids]
            sql += f" AND principal_id IN ({','.join('?' * len(ids))})" if ids else " AND 0"
            params += ids
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        return [(int(r["seq"]), str(r["doc"])) for r in self.rows(sql, params)]

    def count_role_assignments_for_role(self, role_guid: str) -> int:
        row = self.row("SELECT COUNT(*) FROM role_assignments WHERE role_guid = ?", (role_guid.lower(),))
        return int(row[0]) if row else 0

    def role_definitions(self) -> list[tuple[dict[str, Any], bool]]:
        """Every role definition with whether it is custom; built-ins first, then by name."""
        rows = self.rows("SELECT doc, custom FROM role_definitions ORDER BY custom, role_name_lower")
        return [(json.loads(r["doc"]), bool(r["custom"])) for r in rows]

    def role_definition_named(self, role_name: str) -> dict[str, Any] | None:
        row = self.row("SELECT doc FROM role_definitions WHERE role_name_lower = ?", (role_name.lower(),))
        return json.loads(row["doc"]) if row else None

    def count_custom_role_definitions(self) -> int:
        row = self.row("SELECT COUNT(*) FROM role_definitions WHERE custom = 1")
        return int(row[0]) if row else 0

    def role_definition_is_custom(self, guid: str) -> bool:
        row = self.row("SELECT custom FROM role_definitions WHERE guid = ?", (guid.lower(),))
        return bool(row and row["custom"])

    def delete_role_definition(self, guid: str) -> bool:
        return self.execute("DELETE FROM role_definitions WHERE guid = ? AND custom = 1", (guid.lower(),)) > 0
