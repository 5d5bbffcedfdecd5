from __future__ import annotations

import pytest

from acr_console.access.scopes import is_at_or_above, is_inherited, normalise_scope, scope_level
from acr_console.models import ScopeLevel

from .factories import MG_SCOPE, OTHER_SUB, REGISTRY_ID, RG_SCOPE, SUB, SUB_SCOPE


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("/", "/"),
        ("", "/"),
        ("//", "/"),
        ("/Subscriptions/ABC/", "/subscriptions/abc"),
        ("subscriptions/abc", "/subscriptions/abc"),
        ("  /subscriptions/abc//resourceGroups/RG  ", "/subscriptions/abc/resourcegroups/rg"),
    ],
)
def test_normalise_scope(scope: str, expected: str) -> None:
    assert normalise_scope(scope) == expected


@pytest.mark.parametrize(
    ("scope", "level"),
    [
        ("/", ScopeLevel.ROOT),
        (MG_SCOPE, ScopeLevel.MANAGEMENT_GROUP),
        (MG_SCOPE.upper() + "/", ScopeLevel.MANAGEMENT_GROUP),
        (SUB_SCOPE, ScopeLevel.SUBSCRIPTION),
        (SUB_SCOPE.upper(), ScopeLevel.SUBSCRIPTION),
        (RG_SCOPE, ScopeLevel.RESOURCE_GROUP),
        (RG_SCOPE.lower() + "/", ScopeLevel.RESOURCE_GROUP),
        (REGISTRY_ID, ScopeLevel.REGISTRY),
        (REGISTRY_ID.upper(), ScopeLevel.REGISTRY),
    ],
)
def test_scope_level(scope: str, level: ScopeLevel) -> None:
    assert scope_level(scope) is level


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (REGISTRY_ID, True),
        (REGISTRY_ID.upper(), True),
        (REGISTRY_ID.lower() + "/", True),
        (RG_SCOPE, True),
        (RG_SCOPE.upper() + "/", True),
        (SUB_SCOPE, True),
        (f"/subscriptions/{SUB.upper()}", True),
        (MG_SCOPE, True),  # atScope() returns only ancestor management groups
        ("/", True),
        (REGISTRY_ID + "2", False),  # myreg2: a different registry sharing the prefix
        (REGISTRY_ID.replace("myreg", "other"), False),
        (f"/subscriptions/{SUB}/resourceGroups/rg-app2", False),  # sibling group sharing the prefix
        (f"/subscriptions/{SUB}/resourceGroups/rg-other", False),
        (f"/subscriptions/{OTHER_SUB}", False),
        (f"/subscriptions/{SUB[:-1]}", False),
        (REGISTRY_ID + "/replications/westus", False),  # below the registry
    ],
)
def test_is_at_or_above(scope: str, expected: bool) -> None:
    assert is_at_or_above(scope, REGISTRY_ID) is expected


@pytest.mark.parametrize(
    ("scope", "inherited"),
    [
        (REGISTRY_ID, False),
        (REGISTRY_ID.upper() + "/", False),
        (RG_SCOPE, True),
        (SUB_SCOPE, True),
        (MG_SCOPE, True),
        ("/", True),
    ],
)
def test_is_inherited(scope: str, inherited: bool) -> None:
    assert is_inherited(scope, REGISTRY_ID) is inherited
