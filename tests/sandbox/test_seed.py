"""Seeds: the demo company (names the README and other tests cite), determinism, start time, and
`large:N` for benchmarks."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from acr_console.roles import builtin_by_guid
from acr_console.sandbox.directory import parse_time
from acr_console.sandbox.seed import (
    CUSTOM_ROLE_GUID,
    DEMO_REGISTRIES,
    DEMO_SUBSCRIPTIONS,
    apply_seed,
    stable_id,
)
from acr_console.sandbox.store import Store

from .graph_support import graph_client, raw


def seeded(tmp_path: Path, spec: str) -> Store:
    store = Store(tmp_path / f"{spec.replace(':', '-')}.db")
    apply_seed(store, spec)
    return store


def objects(store: Store, otype: str) -> list[dict[str, Any]]:
    rows = store.rows("SELECT doc FROM directory_objects WHERE type = ? ORDER BY seq", (otype,))
    return [json.loads(r["doc"]) for r in rows]


def assignments(store: Store) -> list[dict[str, Any]]:
    return [json.loads(r["doc"])["properties"] for r in store.rows("SELECT doc FROM role_assignments")]


def role_name(guid: str) -> str:
    if guid == CUSTOM_ROLE_GUID:
        return "Contoso Image Promoter"
    role = builtin_by_guid(guid)
    assert role is not None
    return role.name


def test_demo_is_deterministic_apart_from_secrets(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = seeded(tmp_path / "a", "demo")
    b = seeded(tmp_path / "b", "demo")
    for otype in ("application", "servicePrincipal", "group"):
        assert [d["id"] for d in objects(a, otype)] == [d["id"] for d in objects(b, otype)]
    keys = [[c["keyId"] for c in d["passwordCredentials"]] for d in objects(a, "application")]
    assert keys == [[c["keyId"] for c in d["passwordCredentials"]] for d in objects(b, "application")]
    assert sorted(r["name"] for r in a.rows("SELECT name FROM role_assignments")) == sorted(
        r["name"] for r in b.rows("SELECT name FROM role_assignments"))


def test_demo_company(tmp_path: Path) -> None:
    store = seeded(tmp_path, "demo")
    t0 = float(store.get_meta("seeded_at") or 0)
    sps = {d["displayName"]: d for d in objects(store, "servicePrincipal")}
    apps = {d["displayName"]: d for d in objects(store, "application")}
    assert 38 <= len(sps) - 1 <= 45  # about 40, besides the sandbox admin
    kubelets = {n for n, d in sps.items() if d["servicePrincipalType"] == "ManagedIdentity"}
    assert {"aks-prod-weu-kubelet", "aks-prod-neu-kubelet", "aks-dev-weu-kubelet"} <= kubelets
    assert not kubelets & set(apps)  # managed identities have no application in the tenant
    assert [n for n, d in sps.items() if not d["accountEnabled"]] == ["azure-devops-legacy-erp"]
    assert sps["helm-chart-publisher"]["passwordCredentials"] and not apps["helm-chart-publisher"][
        "passwordCredentials"]
    builder = apps["base-image-builder"]
    assert builder["keyCredentials"] and not builder["passwordCredentials"]

    def days_left(cred: dict[str, Any]) -> float:
        return (parse_time(cred["endDateTime"]).timestamp() - t0) / 86400

    creds = [(n, days_left(c)) for n, d in [*apps.items(), *sps.items()] for c in d["passwordCredentials"]]
    assert [n for n, left in creds if left < 0] == ["jenkins-legacy-builds"]
    expiring = sorted(n for n, left in creds if 0 <= left <= 30 and n != "acr-console-sandbox-admin")
    assert expiring == ["argo-cd-image-updater", "developer-portal-preview", "github-actions-mobile-api",
                        "github-actions-payments", "gitlab-runner-ml", "nightly-cleanup-job"]

    props = assignments(store)
    by_role = Counter(role_name(p["roleDefinitionId"].rsplit("/", 1)[-1]) for p in props)
    for role in ("AcrPull", "AcrPush", "AcrDelete", "Contributor", "Reader", "Owner",
                 "User Access Administrator", "Container Registry Repository Writer",
                 "Container Registry Repository Catalog Lister", "Contoso Image Promoter"):
        assert by_role[role] >= 1, role
    depth = Counter(len(p["scope"].strip("/").split("/")) for p in props)
    assert depth[2] and depth[4] and depth[8]  # subscription, resource group, registry
    conditioned = [p for p in props if p["condition"]]
    assert conditioned and all(p["scope"].endswith("/contosoprodweu") for p in conditioned)
    known = {r["id"] for r in store.rows("SELECT id FROM directory_objects")}
    orphans = {p["principalId"] for p in props if p["principalId"] not in known}
    assert orphans == {stable_id("contoso", "sp", "old-jenkins-agent")}
    custom = store.role_definition(CUSTOM_ROLE_GUID)
    assert custom is not None and custom["properties"]["type"] == "CustomRole"
    assert any("*" in a for a in custom["properties"]["permissions"][0]["actions"])
    names = {name for _, _, name, *_ in DEMO_REGISTRIES}
    assert len(names) == 8


async def test_demo_groups_nest_as_graph_shows(connection: dict[str, Any]) -> None:
    pushers = stable_id("contoso", "group", "acr-pushers")
    async with graph_client(connection) as graph:
        flat = await raw(graph, "GET", f"groups/{pushers}/transitiveMembers/microsoft.graph.servicePrincipal"
                                       "?$select=displayName&$count=true", headers={"ConsistencyLevel": "eventual"})
        payments = stable_id("contoso", "sp", "github-actions-payments")
        member_of = await raw(graph, "GET",
                              f"servicePrincipals/{payments}/transitiveMemberOf?$select=displayName")
    assert {"github-actions-payments", "payments-release-bot", "github-actions-checkout",
            "github-actions-identity"} <= {v["displayName"] for v in flat["value"]}
    assert {v["displayName"] for v in member_of["value"]} == {"team-payments-ci", "acr-pushers"}


def test_large_seed_shape(tmp_path: Path) -> None:
    n = 800
    store = seeded(tmp_path, f"large:{n}")
    assert store.get_meta("seed") == f"large:{n}"
    sps = objects(store, "servicePrincipal")
    assert len(sps) == n + 1
    regs = store.rows("SELECT doc FROM resources WHERE type = 'microsoft.containerregistry/registries'")
    assert len(regs) == n // 40
    subs = {json.loads(r["doc"])["id"].split("/")[2] for r in regs}
    assert subs == {s for s, _ in DEMO_SUBSCRIPTIONS[:1]}  # 20 registries fill the first subscription
    props = assignments(store)
    per_principal = Counter(p["principalId"] for p in props)
    sp_ids = {d["id"] for d in sps}
    admin = stable_id("contoso", "admin", "sp")
    direct = [c for pid, c in per_principal.items() if pid in sp_ids and pid != admin]
    assert 4.5 <= sum(direct) / n <= 6
    groups = objects(store, "group")
    members = store.rows("SELECT group_id, member_id FROM group_members")
    group_ids = {g["id"] for g in groups}
    via_group = {m["member_id"] for m in members if m["member_id"] in sp_ids}
    assert 0.08 * n <= len(via_group) <= 0.12 * n
    assert any(m["member_id"] in group_ids for m in members)  # nested
    assert any(p["principalType"] == "Group" for p in props)
    depth = Counter(len(p["scope"].strip("/").split("/")) for p in props)
    assert depth[2] > 3 and depth[4] > 0  # a few at subscription and resource-group scope
    # Large principals can sign in to nothing (their secrets are unknown) but Graph can list them.
    assert all(d["passwordCredentials"][0]["hint"] for d in objects(store, "application")[1:])


@pytest.mark.serial
def test_large_20000_seeds_the_whole_tenant(tmp_path: Path) -> None:
    # How long it takes is measured by the benchmarks (benchmarks/seed.py), not asserted here.
    store = Store(tmp_path / "large.db")
    apply_seed(store, "large:20000")
    count = store.row("SELECT COUNT(*) FROM directory_objects WHERE type = 'servicePrincipal'")
    assert count is not None and int(count[0]) == 20001
    assert int(store.row("SELECT COUNT(*) FROM role_assignments")[0]) > 80000
    # Spread so that no subscription holds more than Azure's 4,000 assignments (troubleshoot-limits,
    # "Symptom - No more role assignments can be created"), in subscriptions of unequal sizes.
    held = [store.count_role_assignments_under(f"/subscriptions/{row['id']}") for row in store.subscriptions()]
    assert max(held) <= 4000 and min(held) < max(held) // 4


def test_bad_seed_specs_are_refused(tmp_path: Path) -> None:
    for spec in ("nope", "large:", "large:x", "large:0"):
        with pytest.raises(ValueError):
            apply_seed(Store(tmp_path / f"{len(spec)}-{spec.replace(':', '')}.db"), spec)


def test_seed_time_is_recorded(tmp_path: Path) -> None:
    store = seeded(tmp_path, "demo")
    assert abs(float(store.get_meta("seeded_at") or 0) - datetime.now(UTC).timestamp()) < 60
