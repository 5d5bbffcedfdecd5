"""The container registry provider's api-versions: which exist, and what each one's registry carries.

The one place the sandbox keeps its version matrix. Source: Azure/bicep-types-az at 1f896de2
(2026-08-20), generated from azure-rest-api-specs: `generated/containerregistry_0/
microsoft.containerregistry/<version>/types.md`, section `RegistryProperties` (and the
`registries/tokens` resource for the last column). The azure-mgmt-containerregistry wheels 10.3.0 to
15.0.0 agree (their 2021-09-01, 2022-12-01 and 2023-07-01 models have no `anonymous_pull_enabled`;
2025-04-01 has it without `role_assignment_mode`).

Versions that azure-rest-api-specs does not publish but clients send (the Azure CLI's previews)
belong in a table of their own beside `SPEC_VERSIONS`, merged into `KNOWN` below.

How a version's answers differ, as the Container Registry team describes it for a property an older
version lacks (Azure/azure-rest-api-specs#4506, review of `networkRuleSet`): "Lower versions ignore
`networkRuleset` in PUT/PATCH, also won't return it in GET." So a GET, list, PUT or PATCH answered
at a version omits what that version does not have, and a PUT or PATCH naming such a property leaves
it as it was (the sandbox setting `registry_unknown_properties = "reject"` refuses it instead; see
`unknown_property`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ApiError

PROVIDER_TYPE = "registries"

# Regions the provider lists in its refusal, as Azure/JulianHayward AzGovViz#266 quotes them (uksouth,
# 2024-11-05), first part. The sandbox serves every region; the list only fills ARM's message.
SUPPORTED_LOCATIONS = (
    "westus", "eastus", "southcentralus", "westeurope", "northeurope", "uksouth", "ukwest", "australiaeast",
    "australiasoutheast", "centralindia", "koreacentral", "francecentral", "southafricanorth", "uaenorth",
    "eastasia", "japaneast", "japanwest", "southeastasia", "southindia", "brazilsouth", "canadaeast",
    "canadacentral", "centralus", "eastus2", "northcentralus", "westcentralus", "westus2", "switzerlandnorth",
    "uaecentral", "switzerlandwest", "germanywestcentral", "brazilsoutheast", "norwayeast", "koreasouth",
)

# A property a registry's `properties` carries only from some version on.
ANONYMOUS_PULL = "anonymousPullEnabled"
ROLE_ASSIGNMENT_MODE = "roleAssignmentMode"
VERSIONED_PROPERTIES = (ANONYMOUS_PULL, ROLE_ASSIGNMENT_MODE)


@dataclass(frozen=True)
class RegistryApiVersion:
    version: str
    anonymous_pull: bool  # properties.anonymousPullEnabled
    role_assignment_mode: bool  # properties.roleAssignmentMode
    tokens: bool  # tokens, scope maps and generateCredentials

    @property
    def preview(self) -> bool:
        return self.version.endswith("-preview")

    def has(self, prop: str) -> bool:
        """Whether a registry's `properties` carries `prop` at this version (True for the properties
        every version has)."""
        if prop == ANONYMOUS_PULL:
            return self.anonymous_pull
        if prop == ROLE_ASSIGNMENT_MODE:
            return self.role_assignment_mode
        return True


# (version, anonymousPullEnabled, roleAssignmentMode, tokens/scopeMaps/generateCredentials), oldest first.
# Note the stable versions 2021-09-01, 2022-12-01 and 2023-07-01: no anonymousPullEnabled, though
# the previews around them have it; the first stable version with it is 2025-04-01, and the first
# with roleAssignmentMode 2025-11-01 (2025-03-01-preview among previews).
SPEC_VERSIONS: tuple[tuple[str, bool, bool, bool], ...] = (
    ("2017-03-01", False, False, False),
    ("2017-10-01", False, False, False),
    ("2019-05-01", False, False, False),
    ("2019-05-01-preview", False, False, True),
    ("2019-12-01-preview", False, False, False),
    ("2020-11-01-preview", True, False, True),
    ("2021-06-01-preview", True, False, True),
    ("2021-08-01-preview", True, False, True),
    ("2021-09-01", False, False, False),
    ("2021-12-01-preview", True, False, True),
    ("2022-02-01-preview", True, False, True),
    ("2022-12-01", False, False, True),
    ("2023-01-01-preview", True, False, True),
    ("2023-06-01-preview", True, False, True),
    ("2023-07-01", False, False, True),
    ("2023-08-01-preview", True, False, True),
    ("2023-11-01-preview", True, False, True),
    ("2024-11-01-preview", True, False, True),
    ("2025-03-01-preview", True, True, True),
    ("2025-04-01", True, False, True),
    ("2025-05-01-preview", True, True, True),
    ("2025-06-01-preview", True, True, True),
    ("2025-11-01", True, True, True),
    ("2026-01-01-preview", True, True, True),
    ("2026-03-01-preview", True, True, True),
)

KNOWN: dict[str, RegistryApiVersion] = {
    row[0]: RegistryApiVersion(*row) for row in SPEC_VERSIONS
}


def _sort_key(version: str) -> tuple[str, bool]:
    # ARM lists a provider's versions by date; a preview sorts after the stable version of its day.
    return (version.removesuffix("-preview"), version.endswith("-preview"))


def supported(setting: list[str] | None) -> list[str]:
    """The versions served: the setting's list (a region or cloud that lags), or every known one."""
    return sorted(KNOWN if setting is None else setting, key=_sort_key)


def check_setting(value: Any) -> list[str] | None:
    """The `registry_api_versions` setting, validated: None (every known version) or a non-empty list
    of known versions. ValueError names what is wrong."""
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError("registry_api_versions must be null or a non-empty list of api-versions")
    unknown = [v for v in value if v not in KNOWN]
    if unknown:
        raise ValueError(f"registry_api_versions: not a registry api-version: {', '.join(unknown)}")
    return sorted(dict.fromkeys(value), key=_sort_key)


def resolve(requested: str | None, setting: list[str] | None, location: str) -> RegistryApiVersion:
    """The version a registry request is answered at, or ARM's 400 for one the provider does not
    serve here.

    The refusal is ARM's, quoted in Azure/acr#70 and Azure/azure-cli#9834 (and AzGovViz#266 above):
    `No registered resource provider found for location '{loc}' and API version '{ver}' for type
    '{type}'. The supported api-versions are '{v1, v2, …}'. The supported locations are '{l1, …}'.`
    ARM matches the version case-insensitively (it is a query value; the front door requires one).
    """
    served = supported(setting)
    wanted = (requested or "").strip()
    found = next((v for v in served if v.lower() == wanted.lower()), None)
    if found is None:
        raise ApiError(
            400, "NoRegisteredProviderFound",
            f"No registered resource provider found for location '{location}' and API version '{wanted}' "
            f"for type '{PROVIDER_TYPE}'. The supported api-versions are '{', '.join(served)}'. The "
            f"supported locations are '{', '.join(SUPPORTED_LOCATIONS)}'.",
        )
    return KNOWN[found]


def render(doc: dict[str, Any], version: RegistryApiVersion) -> dict[str, Any]:
    """A registry as `version` shows it: without the properties that version does not have."""
    props = doc.get("properties") or {}
    missing = [p for p in VERSIONED_PROPERTIES if p in props and not version.has(p)]
    if not missing:
        return doc
    return {**doc, "properties": {k: v for k, v in props.items() if k not in missing}}


def unknown_property(props: dict[str, Any], version: RegistryApiVersion, mode: str, *,
                     update: bool) -> dict[str, Any]:
    """The `properties` of a PUT (`update` False) or PATCH body as `version` reads them.

    mode "ignore" (default): what the version does not have is dropped, so the stored value stays
    (Azure/azure-rest-api-specs#4506, quoted above). mode "reject": 400 `InvalidRequestContent` in the
    shape the registry provider gives a body it cannot deserialize ("The request content was invalid
    and could not be deserialized: '…'", Azure/azure-sdk-for-java#1919), with Json.NET's message for a
    member the type does not have (`MissingMemberHandling.Error`: "Could not find member 'X' on object
    of type 'T'. Path 'p'").
    """
    missing = [p for p in VERSIONED_PROPERTIES if p in props and not version.has(p)]
    if not missing:
        return props
    if mode == "reject":
        kind = "RegistryPropertiesUpdateParameters" if update else "RegistryProperties"
        raise ApiError(
            400, "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'Could not find member "
            f"'{missing[0]}' on object of type '{kind}'. Path 'properties.{missing[0]}'.'.",
        )
    return {k: v for k, v in props.items() if k not in missing}
