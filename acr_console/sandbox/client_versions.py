"""api-versions that clients we did not write send to the sandbox, which it must accept.

Kept apart from the sandbox's own api-version tables so that whatever those tables refuse, these
stay served; a table that decides which versions a surface answers should accept these too (and,
for registries, answer them with every property: 2026-09-01-preview is newer than 2025-11-01, the
first stable version with both `anonymousPullEnabled` and `roleAssignmentMode`).

AZURE_CLI_2_91_0 is what the unmodified Azure CLI 2.91.0 sent during the documentation's scenario
(tests/azcli/test_service_principal_scenario.py compares it with the request log; a new version of
az that sends another api-version fails there first). They come from the CLI's profile
(`azure/cli/core/profiles/_shared.py`, e.g. `MGMT_RESOURCE_RESOURCES: '2024-11-01'`) and, where the
profile leaves it to the SDK, from the SDK's default: azure-mgmt-containerregistry 15.1.0b3, which
azure-cli 2.91.0 pins, defaults to 2026-09-01-preview.
"""

from __future__ import annotations

AZURE_CLI_2_91_0: dict[str, str] = {
    "Microsoft.Resources/subscriptions": "2022-12-01",  # az login; az account
    "Microsoft.Resources/subscriptions/locations": "2022-12-01",  # --location "East US"
    "Microsoft.Resources/resourceGroups": "2024-11-01",
    "Microsoft.Resources/resources": "2024-11-01",  # az acr … --name R without a resource group
    "Microsoft.ContainerRegistry/registries": "2026-09-01-preview",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.Authorization/roleDefinitions": "2022-05-01-preview",
}
