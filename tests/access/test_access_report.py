from __future__ import annotations

import json

from acr_console.access import analyse, to_json
from acr_console.models import Principal, PrincipalType

from .factories import (
    ABAC,
    LEGACY,
    META_READ,
    REGISTRY_ID,
    REPO_READ,
    SUB_SCOPE,
    assignment,
    condition,
    equals,
    group,
    registry,
    sp,
)


def test_exact_shape() -> None:
    reg = registry(ABAC, admin=True)
    principals = {"sp-1": sp("sp-1", "build-agent", app_id="app-1")}
    groups = {"g": group("g", "Builders", "sp-1")}
    cond = condition(((REPO_READ, META_READ), equals("hello-world")))
    assignments = [
        assignment("Container Registry Repository Writer", "sp-1", condition=cond, assignment_id="a1"),
        assignment("Owner", "g", scope=SUB_SCOPE, assignment_id="a2"),
        assignment("AcrPull", "gone", assignment_id="a3"),
    ]
    out = to_json(analyse(reg, assignments, {}, principals, groups))
    assert out == {
        "registry": {
            "id": REGISTRY_ID,
            "name": "myreg",
            "loginServer": "myreg.azurecr.io",
            "mode": "abac",
            "adminUserEnabled": True,
        },
        "entries": [
            {
                "principal": {"objectId": None, "appId": None, "displayName": "admin user", "type": "adminUser",
                              "enabled": True},
                "orphaned": False,
                "pull": True,
                "push": True,
                "delete": True,
                "latent": [],
                "paths": [
                    {
                        "kind": "admin-user",
                        "role": None,
                        "scope": REGISTRY_ID,
                        "inherited": False,
                        "viaGroups": [],
                        "repositories": None,
                        "confidence": "direct",
                        "rights": ["delete", "pull", "push"],
                        "possible": [],
                        "assignmentId": None,
                    }
                ],
            },
            {
                "principal": {
                    "objectId": "sp-1",
                    "appId": "app-1",
                    "displayName": "build-agent",
                    "type": "servicePrincipal",
                    "enabled": True,
                },
                "orphaned": False,
                "pull": True,
                "push": True,
                "delete": False,
                # Owner's import is hidden: the unconditioned Writer path already pushes everywhere.
                "latent": [
                    "can-create-registry-tokens",
                    "can-grant-itself-push",
                    "can-read-admin-password",
                ],
                "paths": [
                    {
                        "kind": "role-assignment",
                        "role": "Container Registry Repository Writer",
                        "scope": REGISTRY_ID,
                        "inherited": False,
                        "viaGroups": [],
                        "repositories": None,
                        "confidence": "direct",
                        "rights": ["push"],
                        "possible": [],
                        "assignmentId": f"{REGISTRY_ID}/providers/Microsoft.Authorization/roleAssignments/a1",
                    },
                    {
                        "kind": "role-assignment",
                        "role": "Container Registry Repository Writer",
                        "scope": REGISTRY_ID,
                        "inherited": False,
                        "viaGroups": [],
                        "repositories": ["hello-world"],
                        "confidence": "conditional",
                        "rights": ["pull"],
                        "possible": [],
                        "assignmentId": f"{REGISTRY_ID}/providers/Microsoft.Authorization/roleAssignments/a1",
                    },
                    {
                        "kind": "role-assignment",
                        "role": "Owner",
                        "scope": SUB_SCOPE,
                        "inherited": True,
                        "viaGroups": ["Builders"],
                        "repositories": None,
                        "confidence": "direct",
                        "rights": [],
                        "possible": [],
                        "assignmentId": f"{SUB_SCOPE}/providers/Microsoft.Authorization/roleAssignments/a2",
                    },
                ],
            },
        ],
    }
    # AcrPull means nothing in ABAC mode, so the orphan holds nothing and is not listed.
    assert json.loads(json.dumps(out)) == out


def test_orphan_and_rbac_mode() -> None:
    reg = registry(LEGACY)
    out = to_json(analyse(reg, [assignment("AcrPull", "gone")], {}, {}, {}))
    assert out["registry"]["mode"] == "rbac"
    assert out["registry"]["adminUserEnabled"] is False
    (e,) = out["entries"]
    assert e["orphaned"] is True
    assert e["principal"] == {"objectId": "gone", "appId": None, "displayName": "gone", "type": "unknown",
                              "enabled": None}
    assert (e["pull"], e["push"], e["delete"]) == (True, False, False)


def test_key_sets_are_stable() -> None:
    principals = {"u": Principal("u", "Uma", PrincipalType.USER)}
    out = to_json(analyse(registry(), [assignment("Owner", "u")], {}, principals, {}))
    assert list(out) == ["registry", "entries"]
    assert list(out["registry"]) == ["id", "name", "loginServer", "mode", "adminUserEnabled"]
    (e,) = out["entries"]
    assert list(e) == ["principal", "orphaned", "pull", "push", "delete", "latent", "paths"]
    assert list(e["principal"]) == ["objectId", "appId", "displayName", "type", "enabled"]
    assert list(e["paths"][0]) == [
        "kind",
        "role",
        "scope",
        "inherited",
        "viaGroups",
        "repositories",
        "confidence",
        "rights",
        "possible",
        "assignmentId",
    ]
    assert e["latent"] == ["can-grant-itself-push"]
