"""Issue 17's acceptance on the command line: `access R --can push --include-takeover --json`, run as a
process (real msgraph-sdk and ARM clients over HTTPS to the sandbox), lists everyone who can add a
credential to a pusher (or give themselves the right to), and the sandbox agrees: those it lists as one
step can add a password to the pusher's application and then get push from the registry's token service;
someone it does not list is refused.

The cast is built through the sandbox's Graph and ARM APIs over HTTPS (tests/sandbox/test_takeover_graph.py
and test_takeover_enforcement.py helpers), not the seed: P with AcrPush on R; user U owns P's application;
the role-assignable group G holds Application Administrator scoped to P's application
(`directoryScopeId` "/{application object id}",
learn.microsoft.com/graph/api/rbacapplication-post-roleassignments) and has member V; service principal S
holds Application.ReadWrite.All; T holds AppRoleAssignment.ReadWrite.All (two steps: it can grant itself
Application.ReadWrite.All); P has the federated credential `repo:contoso/payments:ref:refs/heads/main`
(GitHub's subject format: docs.github.com/actions/deployment/security-hardening-your-deployments/
about-security-hardening-with-openid-connect, "Example subject claims"); W holds nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from acr_console.sandbox.server import SandboxServer
from tests.sandbox.test_takeover_enforcement import add_password, give_push, push_granted, refused, registry
from tests.sandbox.test_takeover_graph import (
    ENTRA_ROLE_IDS,
    GITHUB,
    Graph,
    admin,
    app_token,
    grant,
    new_app,
    new_user,
    user_token,
)
from tests.support.sandbox import sandbox_fixture

takeover_cli_sandbox = sandbox_fixture("access-takeover")


def run(server: SandboxServer, *argv: str) -> str:
    env = {**os.environ, "COLUMNS": "220"}
    proc = subprocess.run([sys.executable, "-m", "acr_console", "--sandbox-data", str(server.data_dir), *argv],
                          capture_output=True, text=True, env=env, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def cast(takeover_cli_sandbox: SandboxServer) -> Iterator[dict[str, Any]]:
    conn = takeover_cli_sandbox.connection
    assert conn is not None
    g = admin(conn)
    reg = registry(conn)
    p_app, p_sp = new_app(g, "pusher-p")
    give_push(conn, reg["id"], p_sp["id"])
    u, v, w = new_user(g, "owner-u"), new_user(g, "member-v"), new_user(g, "nobody-w")
    assert g.post(f"applications/{p_app['id']}/owners/$ref", g.ref(u["id"])).status_code == 204
    group = g.ok(g.post("groups", {"displayName": "p-app-admins-g", "mailEnabled": False,
                                   "mailNickname": "p-app-admins-g", "securityEnabled": True,
                                   "isAssignableToRole": True}), 201)
    assert g.post(f"groups/{group['id']}/members/$ref", g.ref(v["id"])).status_code == 204
    g.ok(g.post("roleManagement/directory/roleAssignments", {
        "roleDefinitionId": ENTRA_ROLE_IDS["Application Administrator"], "principalId": group["id"],
        "directoryScopeId": f"/{p_app['id']}"}), 201)
    s_app, s_sp = new_app(g, "graph-writer-s")
    grant(g, s_sp["id"], "Application.ReadWrite.All")
    _t_app, t_sp = new_app(g, "granter-t")
    grant(g, t_sp["id"], "AppRoleAssignment.ReadWrite.All")
    g.ok(g.post(f"applications/{p_app['id']}/federatedIdentityCredentials", {
        "name": "payments-main", "issuer": GITHUB, "subject": "repo:contoso/payments:ref:refs/heads/main",
        "audiences": ["api://AzureADTokenExchange"]}), 201)
    yield {"g": g, "conn": conn, "registry": reg, "p_app": p_app, "p_sp": p_sp, "u": u, "v": v, "w": w,
           "group": group, "s_app": s_app, "s_sp": s_sp, "t_sp": t_sp}
    g.http.close()


def _entry(doc: dict[str, Any], object_id: str) -> dict[str, Any]:
    [entry] = [e for e in doc["entries"] if e["principal"]["objectId"] == object_id]
    return entry


def _full_takeover(doc: dict[str, Any], entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The entry's own paths and the tenant-wide list it names (the README's JSON shape)."""
    shared = doc["tenantWideTakeover"][entry["tenantWideTakeover"]] if entry["tenantWideTakeover"] else []
    return [*entry["takeover"], *shared]


def test_who_can_take_over_a_pusher_and_the_sandbox_agrees(takeover_cli_sandbox: SandboxServer,
                                                           cast: dict[str, Any]) -> None:
    doc = json.loads(run(takeover_cli_sandbox, "access", "contosoprod", "--can", "push", "--include-takeover",
                         "--json"))
    p = _entry(doc, cast["p_sp"]["id"])
    assert p["push"] is True and p["tenantWideTakeover"] == "application"
    paths = _full_takeover(doc, p)
    by: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        by.setdefault(path["by"]["objectId"], []).append(path)

    [u] = by[cast["u"]["id"]]
    assert (u["how"], u["detail"], u["target"], u["steps"], u["by"]["type"]) == (
        "application-owner", "owner", "application", 1, "user")
    [v] = by[cast["v"]["id"]]
    assert (v["how"], v["detail"], v["scope"], v["viaGroups"], v["steps"]) == (
        "directory-role", "Application Administrator", f"/{cast['p_app']['id']}", ["p-app-admins-g"], 1)
    assert v in p["takeover"]  # scoped to P's application: P's own, not tenant-wide
    [s] = by[cast["s_sp"]["id"]]
    assert (s["how"], s["detail"], s["steps"]) == ("graph-permission", "Application.ReadWrite.All", 1)
    [t] = by[cast["t_sp"]["id"]]
    assert (t["how"], t["detail"], t["steps"]) == ("graph-permission", "AppRoleAssignment.ReadWrite.All", 2)
    assert cast["w"]["id"] not in by
    # The group itself holds the role but cannot sign in: its member is listed, not the group.
    assert cast["group"]["id"] not in by

    [fic] = p["federated"]
    assert (fic["name"], fic["issuer"], fic["subject"]) == (
        "payments-main", GITHUB, "repo:contoso/payments:ref:refs/heads/main")
    reading = fic["reading"]
    assert (reading["kind"], reading["repository"], reading["refKind"], reading["refName"]) == (
        "github", "contoso/payments", "branch", "main")

    # Ground truth: the one-step holders can each add a password to P's application and push as P.
    conn, server = cast["conn"], takeover_cli_sandbox
    login = cast["registry"]["properties"]["loginServer"]
    s_secret = str(cast["g"].ok(add_password(cast["g"], "applications", cast["s_app"]["id"]))["secretText"])
    callers = {
        "U": Graph(conn, user_token(server, cast["u"]["userPrincipalName"])),
        "V": Graph(conn, user_token(server, cast["v"]["userPrincipalName"])),
        "S": Graph(conn, app_token(conn, cast["s_app"]["appId"], s_secret)),
    }
    for who, graph in callers.items():
        made = add_password(graph, "applications", cast["p_app"]["id"])
        assert made.status_code == 200, (who, made.text)
        assert push_granted(conn, login, cast["p_app"]["appId"], made.json()["secretText"]) == ["pull", "push"], who
        graph.http.close()
    w_graph = Graph(conn, user_token(server, cast["w"]["userPrincipalName"]))
    assert refused(add_password(w_graph, "applications", cast["p_app"]["id"]))
    w_graph.http.close()


def test_the_table_summarises_takeover_per_entry(takeover_cli_sandbox: SandboxServer, cast: dict[str, Any]) -> None:
    doc = json.loads(run(takeover_cli_sandbox, "access", "contosoprod", "--can", "push", "--include-takeover",
                         "--json"))
    p = _entry(doc, cast["p_sp"]["id"])
    holders = {x["by"]["objectId"] for x in _full_takeover(doc, p) if not x["self"]}
    two_step = holders - {x["by"]["objectId"] for x in _full_takeover(doc, p) if not x["self"] and x["steps"] == 1}
    out = run(takeover_cli_sandbox, "access", "contosoprod", "--can", "push", "--include-takeover")
    lines = out.splitlines()
    [at] = [n for n, line in enumerate(lines) if line.split()[:1] == [p["principal"]["displayName"]]]
    assert "Takeover" in out
    assert f"{len(holders)} can take over ({len(two_step)} two-step)" in lines[at]
    assert "1 federated credential" in lines[at + 1]  # the cell's second line
    # Below the table, who: the entry's own paths (tenant-wide holders are said once, before).
    u, v = cast["u"]["displayName"], cast["v"]["displayName"]
    [own] = [line for line in lines if line.startswith(p["principal"]["displayName"] + ": ")]
    assert own == (f"{p['principal']['displayName']}: can be taken over by {u} (owner of its application); {v} "
                   "(Application Administrator on its application, via p-app-admins-g). Federated sign-in from "
                   "github contoso/payments branch main")
    [tenant] = [line for line in lines if line.startswith("Tenant-wide")]
    s_name = next(x["by"]["displayName"] for x in _full_takeover(doc, p) if x["by"]["objectId"] == cast["s_sp"]["id"])
    assert f"{s_name} (Application.ReadWrite.All)" in tenant
    # Without the flag the table and the JSON are as before: no column, no takeover keys.
    plain = run(takeover_cli_sandbox, "access", "contosoprod", "--can", "push")
    assert "Takeover" not in plain
    plain_doc = json.loads(run(takeover_cli_sandbox, "access", "contosoprod", "--can", "push", "--json"))
    assert "tenantWideTakeover" not in plain_doc
    assert all("takeover" not in e for e in plain_doc["entries"])


def test_the_demo_stories(takeover_cli_sandbox: SandboxServer, cast: dict[str, Any]) -> None:
    """The demo seed's takeover stories (acr_console/sandbox/seed.py, DEMO_PEOPLE and what follows)."""
    doc = json.loads(run(takeover_cli_sandbox, "access", "contosoprod", "--include-takeover", "--json"))
    by_name = {e["principal"]["displayName"]: e for e in doc["entries"]}
    payments = by_name["github-actions-payments"]
    paths = _full_takeover(doc, payments)
    found = {(x["by"]["displayName"], x["how"], x["detail"], x["steps"]) for x in paths}
    assert ("Dana Whitfield", "application-owner", "owner", 1) in found
    assert ("Erin Oduya", "directory-role", "Application Administrator", 1) in found
    assert ("app-inventory-monitor", "graph-permission", "Application.ReadWrite.All", 1) in found
    assert ("entitlement-sync", "graph-permission", "AppRoleAssignment.ReadWrite.All", 2) in found
    assert ("Priya Raman", "directory-role", "Privileged Role Administrator", 2) in found
    # Marco's role is scoped to github-actions-search's application only.
    assert not any(x["by"]["displayName"] == "Marco Bianchi" for x in paths)
    search = {(x["by"]["displayName"], x["detail"]) for x in by_name["github-actions-search"]["takeover"]}
    assert ("Marco Bianchi", "Cloud Application Administrator") in search
    # terraform-platform-prod owns github-actions-web's application and holds Application.ReadWrite.OwnedBy.
    web = {(x["by"]["displayName"], x["detail"]) for x in by_name["github-actions-web"]["takeover"]}
    assert ("terraform-platform-prod", "Application.ReadWrite.OwnedBy") in web
    assert ("Dana Whitfield", "owner") in web  # owner of its service principal
    subjects = {(f["name"], f["reading"]["kind"]) for f in payments["federated"]}
    assert subjects == {("payments-main", "github"), ("payments-release", "github")}
    argo = by_name["argo-cd-image-updater"]["federated"]
    assert [f["reading"]["kind"] for f in argo] == ["kubernetes"]
    # Entries that cannot be taken over this way carry empty lists and no tenant-wide reference.
    kubelet = by_name["aks-prod-weu-kubelet"]
    assert (kubelet["takeover"], kubelet["tenantWideTakeover"]) == ([], None)
