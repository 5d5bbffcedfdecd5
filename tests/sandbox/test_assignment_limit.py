"""ARM refuses a subscription's 4,001st role assignment, and the console says why.

Microsoft's "Troubleshoot Azure RBAC limits" (learn.microsoft.com/azure/role-based-access-control/
troubleshoot-limits, "Symptom - No more role assignments can be created"): "Azure supports up to 4000
role assignments per subscription. This limit includes role assignments at the subscription, resource
group, and resource scopes, but not at the management group scope", with the error "No more role
assignments can be created (code: RoleAssignmentLimitExceeded)"; the limit "is fixed and cannot be
increased".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

from acr_console.sandbox.seed import DEMO_SUBSCRIPTIONS, assignment_doc
from acr_console.sandbox.server import SandboxServer

from .test_authorization import ACR_PULL, REGISTRY, SUB_PROD, auth_client, code, error_of, role_id

LIMIT = 4000
SUB_DEV = DEMO_SUBSCRIPTIONS[1][0]


def test_the_4001st_assignment_in_a_subscription_is_refused(fresh_sandbox: SandboxServer) -> None:
    assert fresh_sandbox.sandbox is not None and fresh_sandbox.connection is not None
    store = fresh_sandbox.sandbox.store
    sub_scope = f"/subscriptions/{SUB_PROD}"
    # Fill the subscription to the limit with assignments of principals since deleted (the commonest
    # filler in real subscriptions), at its registry: stored directly, as 4,000 PUTs would be slow.
    filler = [str(uuid.uuid4()) for _ in range(LIMIT - store.count_role_assignments_under(sub_scope))]
    with store.transaction():
        for name in filler:
            store.put_role_assignment(assignment_doc(REGISTRY, ACR_PULL, str(uuid.uuid4()), "ServicePrincipal",
                                                     name=name))
    assert store.count_role_assignments_under(sub_scope) == LIMIT
    row = store.row("SELECT doc FROM directory_objects WHERE type = 'servicePrincipal' AND display_name = ?",
                    ("github-actions-payments",))
    assert row is not None
    sp = json.loads(row["doc"])
    before = store.role_assignments_for_principals([sp["id"]])

    client = auth_client(fresh_sandbox.connection, retry_total=0)
    params = RoleAssignmentCreateParameters(role_definition_id=role_id(ACR_PULL), principal_id=sp["id"],
                                            principal_type="ServicePrincipal")
    e = error_of(lambda: client.role_assignments.create(REGISTRY, str(uuid.uuid4()), params))
    assert e.status_code == 400 and code(e) == "RoleAssignmentLimitExceeded"
    assert "No more role assignments can be created" in str(e)

    # The console's `assign`: the code, what to do, no traceback; nothing was created.
    run = subprocess.run([sys.executable, "-m", "acr_console", "--sandbox-data", str(fresh_sandbox.data_dir),
                          "assign", "github-actions-payments", "--registry", "contosoprod", "--role", "AcrPull",
                          "--yes"], capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert run.returncode != 0
    shown = run.stdout + run.stderr
    assert "RoleAssignmentLimitExceeded" in shown and "assign the role to a group instead" in shown
    assert "Traceback" not in shown
    assert store.role_assignments_for_principals([sp["id"]]) == before

    # Another subscription has room of its own.
    dev_params = RoleAssignmentCreateParameters(role_definition_id=role_id(ACR_PULL, SUB_DEV), principal_id=sp["id"],
                                                principal_type="ServicePrincipal")
    assert client.role_assignments.create(f"/subscriptions/{SUB_DEV}", str(uuid.uuid4()), dev_params).principal_id \
        == sp["id"]
    # One removed through ARM: the next fits again.
    client.role_assignments.delete(REGISTRY, filler[0])
    assert client.role_assignments.create(REGISTRY, str(uuid.uuid4()), params).principal_id == sp["id"]
    assert store.count_role_assignments_under(sub_scope) == LIMIT
