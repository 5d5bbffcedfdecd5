"""Issue 16: an assignment whose principal was deleted is removable by its id (unassign
--assignment-id), which never looks the principal up. Against the sandbox, through the real SDKs.

Deleting an application deletes its service principal in its home tenant and leaves its role
assignments behind (docs/reference/acr-access.md §5, "Delete"; Graph application-delete): the
orphaned assignment the access view reports as "not returned by the directory". Azure keeps such an
assignment, listed with the principal "Identity not found", until it is removed
(learn.microsoft.com/azure/role-based-access-control/troubleshoot-role-assignments, "Role assignments
with identity not found"); removing it by id is Role Assignments - Delete By Id
(learn.microsoft.com/rest/api/authorization/role-assignments/delete-by-id), which needs no principal.
"""

from __future__ import annotations

import pytest

from acr_console.azure import writes_graph
from acr_console.azure.authorization import RoleDefinitions
from acr_console.azure.clients import AzureClients
from acr_console.azure.errors import AzureCallError
from acr_console.azure.registry_access import find_registry, read_registry_access
from acr_console.errors import InputError
from acr_console.operations import AuditLog, StepStatus, UnassignRequest, prepare, run_plan
from tests.support.handover import reads_for

from .conftest import LEGACY_REGISTRY
from .test_assign_and_revoke import direct_assignments, new_principal


async def test_an_orphaned_assignment_is_removed_by_id(az: AzureClients, audit: AuditLog) -> None:
    doc, _ = await new_principal(az, audit)
    sp_id = doc["servicePrincipalObjectId"]
    (assignment,) = await direct_assignments(az, LEGACY_REGISTRY, sp_id)
    await writes_graph.delete_application(az, doc["applicationObjectId"])  # its assignment stays behind
    registry = await find_registry(az, LEGACY_REGISTRY)
    access = await read_registry_access(az, registry, RoleDefinitions(az))
    (orphan,) = [e for e in access.entries if (e.principal.object_id or "").lower() == sp_id.lower()]
    assert orphan.orphaned
    assert [p.assignment_id for p in orphan.paths] == [assignment.id]

    # By principal, the lookup fails as the console's R did (Request_ResourceNotFound).
    with pytest.raises(AzureCallError):
        await prepare(UnassignRequest(sp_id, LEGACY_REGISTRY, "AcrPush"), reads_for(az))

    plan = await prepare(UnassignRequest(assignment_id=assignment.id), reads_for(az))
    assert plan.target["orphaned"] is True and plan.target["principalObjectId"] == sp_id.lower()
    assert plan.target["role"] == "AcrPush" and len(plan.steps) == 1
    assert any("did not return" in w for w in plan.warnings)
    outcome = await run_plan(az, plan, audit=audit)
    assert outcome.ok, outcome.to_json()
    assert await direct_assignments(az, LEGACY_REGISTRY, sp_id) == []
    again = await run_plan(az, plan, audit=audit)
    assert again.results["unassign-0"].status is StepStatus.ALREADY_DONE
    gone = await prepare(UnassignRequest(assignment_id=assignment.id), reads_for(az))
    assert gone.empty and "already removed" in gone.warnings[0]


async def test_by_id_of_a_live_principal_names_it(az: AzureClients, audit: AuditLog) -> None:
    doc, _ = await new_principal(az, audit)
    (assignment,) = await direct_assignments(az, LEGACY_REGISTRY, doc["servicePrincipalObjectId"])
    plan = await prepare(UnassignRequest(assignment_id=assignment.id), reads_for(az))
    assert plan.target["orphaned"] is False and plan.target["principal"] == doc["displayName"]
    assert not any("signs in as" in w for w in plan.warnings)
    assert (await run_plan(az, plan, audit=audit)).ok
    assert await direct_assignments(az, LEGACY_REGISTRY, doc["servicePrincipalObjectId"]) == []


@pytest.mark.parametrize("request_", [
    UnassignRequest(assignment_id="not-an-id"),
    UnassignRequest(assignment_id="/subscriptions/x/resourceGroups/rg"),
    UnassignRequest("sp", "reg", "AcrPull", assignment_id="/subscriptions/x/providers/Microsoft.Authorization/"
                                                          "roleAssignments/y"),
    UnassignRequest(),
])
async def test_bad_requests_are_refused_before_anything_is_sent(az: AzureClients, request_: UnassignRequest) -> None:
    with pytest.raises(InputError):
        await prepare(request_, reads_for(az))


async def test_by_id_of_the_consoles_own_assignment_warns_before_anything_is_sent(az: AzureClients) -> None:
    # `findings` proposes `unassign --assignment-id` for an Owner at a subscription, and the sandbox
    # admin, the identity the console signs in as, holds one: the plan must say whose it is.
    from acr_console.azure.authorization import assignments_of
    from acr_console.azure.registries import list_subscriptions

    me = az.identity or await az.signed_in_identity()
    assert me.object_id
    subscription = (await list_subscriptions(az))[0]
    (own, *_) = [a for a in await assignments_of(az, subscription.id, me.object_id)
                 if a.scope.lower() == f"/subscriptions/{subscription.id}".lower()]
    plan = await prepare(UnassignRequest(assignment_id=own.id), reads_for(az))
    assert len(plan.steps) == 1
    assert any("the identity this console signs in as" in w for w in plan.warnings), plan.warnings
