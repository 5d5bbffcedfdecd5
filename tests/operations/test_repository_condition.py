"""Issue 16: a Repository role limited to repositories (assign and create-principal `--repository`) on
the ABAC registry. Ground truth is the sandbox's registry token service, asked as the principal the way
`az acr login` and docker do (Entra token, `POST /oauth2/exchange`, `POST /oauth2/token` with
`repository:REPO:pull,push,delete`; Azure/acr `docs/AAD-OAuth.md`): a principal given Repository Writer
for `team/` can push team/x and cannot push other/x. The condition is the one Microsoft documents
(MicrosoftDocs/azure-management-docs `articles/container-registry/container-registry-rbac-abac-repository-
permissions.md`, "Scope role assignment to multiple repositories using repository prefix"); the sandbox
evaluates it as ARM does (conditionVersion 2.0).
"""

from __future__ import annotations

from typing import Any

import pytest

from acr_console.access import reach
from acr_console.azure.authorization import RoleDefinitions, assignments_at
from acr_console.azure.clients import AzureClients
from acr_console.azure.registry_access import find_registry, read_registry_access
from acr_console.errors import InputError
from acr_console.models import Right
from acr_console.operations import AssignRequest, AuditLog, CreatePrincipalRequest, create_result, prepare, run_plan
from tests.reliability.test_access_agrees_with_token_service import TokenService
from tests.support.handover import reads_for

from .conftest import ABAC_REGISTRY, LEGACY_REGISTRY, unique

WRITER = "Container Registry Repository Writer"
LOGIN = f"{ABAC_REGISTRY}.azurecr.io"


def granted(conn: dict[str, Any], app_id: str, secret: str) -> dict[str, set[str]]:
    service = TokenService(conn)
    try:
        return service.as_principal(LOGIN, service.entra_token(app_id, secret), ("team/x", "other/x", "teamx/y"))
    finally:
        service.close()


async def test_create_principal_with_a_repository_prefix(az: AzureClients, audit: AuditLog,
                                                         connection: dict[str, Any]) -> None:
    req = CreatePrincipalRequest(unique("repo"), ABAC_REGISTRY, WRITER, repositories=("team/",))
    plan = await prepare(req, reads_for(az))
    assert plan.target["repositories"] == "team/"
    outcome = await run_plan(az, plan, audit=audit)
    assert outcome.ok, outcome.to_json()
    doc = create_result(outcome.plan)
    access = granted(connection, doc["appId"], outcome.secrets["password"].reveal())
    assert access.get("team/x") == {"pull", "push"}
    assert not access.get("other/x") and not access.get("teamx/y")  # the trailing slash matters
    registry = await find_registry(az, ABAC_REGISTRY)
    (mine,) = [a for a in await assignments_at(az, registry.id)
               if a.principal_id == doc["servicePrincipalObjectId"].lower()]
    assert mine.condition_version == "2.0" and "StringStartsWithIgnoreCase 'team/'" in (mine.condition or "")
    # The console's own reading of it agrees: push limited to team/*.
    seen = await read_registry_access(az, registry, RoleDefinitions(az))
    (entry,) = [e for e in seen.entries if e.principal.object_id == doc["servicePrincipalObjectId"]]
    assert reach(entry, Right.PUSH) == ("team/*",)


async def test_assign_with_repositories(az: AzureClients, audit: AuditLog, connection: dict[str, Any]) -> None:
    created = await run_plan(az, await prepare(CreatePrincipalRequest(
        unique("repo"), ABAC_REGISTRY, "Container Registry Repository Reader", repositories=("other/x",)),
        reads_for(az)), audit=audit)
    assert created.ok, created.to_json()
    doc = create_result(created.plan)
    secret = created.secrets["password"].reveal()
    before = granted(connection, doc["appId"], secret)
    assert before.get("other/x") == {"pull"} and not before.get("team/x")
    assign = AssignRequest(doc["appId"], ABAC_REGISTRY, WRITER, repositories=("team/",))
    assert (await run_plan(az, await prepare(assign, reads_for(az)), audit=audit)).ok
    after = granted(connection, doc["appId"], secret)
    assert after.get("team/x") == {"pull", "push"}
    assert "push" not in after.get("other/x", set())
    again = await run_plan(az, await prepare(assign, reads_for(az)), audit=audit)
    assert again.results["assign"].note == "already assigned"


@pytest.mark.parametrize(("registry", "role", "repositories"), [
    (ABAC_REGISTRY, WRITER, ("bad name",)),
    (ABAC_REGISTRY, WRITER, ("x'y",)),
    (ABAC_REGISTRY, "Container Registry Repository Catalog Lister", ("team/",)),  # takes no condition
    (LEGACY_REGISTRY, "AcrPush", ("team/",)),
])
async def test_refused_before_anything_is_sent(az: AzureClients, registry: str, role: str,
                                               repositories: tuple[str, ...]) -> None:
    with pytest.raises(InputError) as refused:
        await prepare(AssignRequest("someone", registry, role, repositories=repositories), reads_for(az))
    assert refused.value.field in ("repositories", "role")
