"""Leave the shared session sandbox as the tests found it: every principal a test created (their names
start with TEST_PREFIX) is revoked everywhere and deleted, through the console's own operations, so
later tests that count principals, pushers or disabled accounts see only the seeded tenant."""

from __future__ import annotations

import asyncio
from typing import Any

from acr_console.azure import writes_graph
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.graph import graph_pages
from acr_console.operations import (
    AuditLog,
    Reads,
    RevokeRequest,
    prepare,
    run_plan,
)

TEST_PREFIX = "optest-"


async def remove_test_principals(connection: dict[str, Any], audit: AuditLog) -> None:
    async with AzureClients(sandbox_connection(connection)) as az:
        sps = await graph_pages(az, "servicePrincipals", {"$filter": f"startswith(displayName,'{TEST_PREFIX}')"})
        for sp in sps:
            plan = await prepare(RevokeRequest(sp["appId"], all_registries=True, include_broader_scopes=True,
                                               remove_credentials=True, delete_application=True), Reads(az))
            await run_plan(az, plan, audit=audit)
        # Applications whose service principal was never created.
        for app in await graph_pages(az, "applications", {"$filter": f"startswith(displayName,'{TEST_PREFIX}')"}):
            await writes_graph.delete_application(az, app["id"])


def cleanup(connection: dict[str, Any], audit: AuditLog) -> None:
    asyncio.run(remove_test_principals(connection, audit))
