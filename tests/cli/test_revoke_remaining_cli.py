"""Issue 14, through the real entry point as a process: `acr-console revoke` says what access remains
and exits 1 while the principal can still push through a group, 0 once nothing remains or when the
group access was kept on purpose (`--keep-group-access`). Ground truth is the registry's token
service (`GET /oauth2/token`, docs/reference/acr-access.md §3), never the command's own report.

Seeded (acr_console/sandbox/seed.py): github-actions-checkout pushes to contosoprod only through
team-checkout-ci ⊂ acr-pushers (AcrPush). The sandbox is this module's own: memberships change here.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import jwt

from acr_console.sandbox.directory import add_member, add_password, remove_member
from acr_console.sandbox.server import SandboxServer

from ..sandbox.graph_support import ssl_context
from ..support.sandbox import sandbox_fixture

revoke_cli_sandbox = sandbox_fixture("revoke-cli")
ENTRY = Path(sys.executable).with_name("acr-console")  # the installed console script, as a user runs it
PRINCIPAL = "github-actions-checkout"
REGISTRY = "contosoprod"
REPO = "checkout/web"


def run(server: SandboxServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACR_CONSOLE_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    return subprocess.run([str(ENTRY), "--sandbox-data", str(server.data_dir), *args], capture_output=True,
                          text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)


def store_of(server: SandboxServer) -> Any:
    assert server.sandbox is not None
    return server.sandbox.store


def principal_with_secret(server: SandboxServer) -> tuple[str, str, str]:
    store = store_of(server)
    row = store.row("SELECT doc FROM directory_objects WHERE type = 'servicePrincipal' AND display_name = ?",
                    (PRINCIPAL,))
    sp = json.loads(row["doc"])
    _, secret = add_password(store, store.by_app_id(sp["appId"], "application"), "application")
    return sp["appId"], sp["id"], secret


def can_push(server: SandboxServer, app_id: str, secret: str) -> bool:
    conn = server.connection or {}
    login = f"{REGISTRY}.azurecr.io"
    basic = base64.b64encode(f"{app_id}:{secret}".encode()).decode()
    with httpx.Client(verify=ssl_context(conn), trust_env=False,
                      headers={"Host": login, "Authorization": f"Basic {basic}"}) as http:
        r = http.get(f"{conn['registry_endpoint']}/oauth2/token",
                     params={"service": login, "scope": f"repository:{REPO}:pull,push"})
    assert r.status_code == 200, r.text
    access = jwt.decode(r.json()["access_token"], options={"verify_signature": False}).get("access") or []
    return any(a["name"] == REPO and "push" in a["actions"] for a in access)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_revoke_exits_1_while_a_group_still_pushes_and_0_once_it_does_not(
        revoke_cli_sandbox: SandboxServer, tmp_path: Path) -> None:
    server = revoke_cli_sandbox
    app_id, sp_id, secret = principal_with_secret(server)
    assert ENTRY.exists(), ENTRY

    done = run(server, tmp_path, "revoke", PRINCIPAL, "--registry", REGISTRY, "--yes", "--json")
    assert can_push(server, app_id, secret)  # the token service: it still pushes
    assert done.returncode == 1, done.stderr
    assert error_lines(done.stderr) == [
        "error: github-actions-checkout can still push to contosoprod through group 'team-checkout-ci' "
        "(nested in 'acr-pushers'): AcrPush at registry scope"]
    doc = json.loads(done.stdout)
    assert doc["ok"] is False and doc["accessRemains"] is True and doc["signIn"] == "enabled"
    (left,) = doc["remaining"]
    assert left["registry"]["name"] == REGISTRY and left["push"] and left["pull"] and not left["delete"]
    (entry,) = left["entries"]  # the access view's entry shape
    assert entry["principal"]["objectId"] == sp_id and entry["principal"]["type"] == "servicePrincipal"
    (path,) = entry["paths"]
    assert path["kind"] == "role-assignment" and path["role"] == "AcrPush" and path["rights"] == ["pull", "push"]
    assert path["viaGroups"] == ["acr-pushers", "team-checkout-ci"]
    assert path["memberOf"]["displayName"] == "team-checkout-ci" and path["counts"] is True
    gid = path["memberOf"]["objectId"]
    assert path["remove"] == f"az ad group member remove --group {gid} --member-id {sp_id}"

    # People read the same, with what to do.
    human = run(server, tmp_path, "revoke", PRINCIPAL, "--registry", REGISTRY, "--yes")
    assert human.returncode == 1
    assert "Still has access:" in human.stdout and "group 'acr-pushers' > 'team-checkout-ci'" in human.stdout
    assert f"az ad group member remove --group {gid} --member-id {sp_id}" in human.stdout
    assert len(error_lines(human.stderr)) == 1

    # Kept on purpose: reported, named, exit 0.
    kept = run(server, tmp_path, "revoke", PRINCIPAL, "--registry", REGISTRY, "--yes", "--json", "--keep-group-access")
    assert kept.returncode == 0, kept.stderr
    kept_doc = json.loads(kept.stdout)
    assert kept_doc["ok"] is True and kept_doc["keptGroupAccess"] == ["team-checkout-ci"]
    assert kept_doc["remaining"][0]["entries"][0]["paths"][0]["kept"] is True
    assert "Group access left alone as asked (--keep-group-access): 'team-checkout-ci'" in kept.stderr
    assert error_lines(kept.stderr) == []

    # The remedy done (as `az ad group member remove` would): nothing remains, and the token service agrees.
    assert remove_member(store_of(server), gid, sp_id)
    try:
        clean = run(server, tmp_path, "revoke", PRINCIPAL, "--registry", REGISTRY, "--yes", "--json")
        assert not can_push(server, app_id, secret)
        assert clean.returncode == 0, clean.stderr
        clean_doc = json.loads(clean.stdout)
        assert clean_doc["ok"] is True and clean_doc["remaining"] == [] and clean_doc["accessRemains"] is False
    finally:
        add_member(store_of(server), gid, sp_id)


def test_dry_run_warns_of_the_group_and_does_not_read_what_remains(revoke_cli_sandbox: SandboxServer,
                                                                   tmp_path: Path) -> None:
    server = revoke_cli_sandbox
    seq = store_of(server).last_request_seq()
    shown = run(server, tmp_path, "revoke", PRINCIPAL, "--registry", REGISTRY, "--dry-run", "--json")
    assert shown.returncode == 0, shown.stderr
    plan = json.loads(shown.stdout)["plan"]
    assert any(w.startswith("After this plan github-actions-checkout can still push, pull on contosoprod "
                            "through group 'team-checkout-ci'") for w in plan["warnings"])
    # The read after a run is a GET of the registry itself; a plan finds it in its subscription's list.
    paths = [r["path"] for r in store_of(server).request_log(seq)]
    assert paths and not [p for p in paths if p.lower().endswith("/registries/contosoprod")]
