"""Registry tokens and scope maps read from ARM's JSON (azure/registry_access.py `token_from_json`,
`scope_map_from_json`, `arm_time`), as the report and `access` list them.

The documents are Microsoft's own examples: azure-rest-api-specs
`specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/examples/2025-11-01/`
`TokenList.json` (Tokens_List), `ScopeMapList.json` (ScopeMaps_List) and, for the shape of a password
(`name`, `expiry` with seven fraction digits), `RegistryGenerateCredentials.json`; a token lists its
passwords under `properties.credentials.passwords` with `creationTime` and `expiry` (the spec's
`TokenPassword`; azure-mgmt-containerregistry 15.0 `models.TokenPassword`). The SDK's own reading of
the same documents (its models, which these readers replace for speed) is the reference for dates:
digits past the microsecond are dropped and `Z` is UTC (`_utils/model_base.py` `_deserialize_datetime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from acr_console.azure.errors import AzureCallError, translated
from acr_console.azure.registry_access import arm_time, registry_path, scope_map_from_json, token_from_json
from acr_console.models import Registry, RegistryToken, ScopeMap, TokenPassword

_REG = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup/providers/"
        "Microsoft.ContainerRegistry/registries/myRegistry")

# TokenList.json, response 200, value[0] (verbatim).
TOKEN_LIST_ITEM: dict[str, Any] = {
    "id": _REG + "/tokens/myToken",
    "name": "myToken",
    "type": "Microsoft.ContainerRegistry/registries/tokens",
    "properties": {
        "creationDate": "2017-03-01T23:14:37.0707808Z",
        "scopeMapId": _REG + "/scopeMaps/myScopeMap",
        "provisioningState": "Succeeded",
        "status": "enabled",
    },
}

# ScopeMapList.json, response 200, value[0] (verbatim).
SCOPE_MAP_LIST_ITEM: dict[str, Any] = {
    "id": _REG + "/scopeMaps/myScopeMap",
    "name": "myScopeMap",
    "type": "Microsoft.ContainerRegistry/registries/scopeMaps",
    "properties": {
        "creationDate": "2017-03-01T23:14:37.0707808Z",
        "type": "IsUserDefined",
        "actions": ["repositories/myrepository/contentWrite", "repositories/myrepository/delete"],
        "provisioningState": "Succeeded",
    },
}


def _with_passwords(*passwords: dict[str, Any], status: str = "disabled") -> dict[str, Any]:
    doc = {**TOKEN_LIST_ITEM, "properties": {**TOKEN_LIST_ITEM["properties"], "status": status,
                                              "credentials": {"certificates": [], "passwords": list(passwords)}}}
    return doc


def test_the_specs_token_list_item_reads_as_a_token_without_passwords() -> None:
    assert token_from_json(TOKEN_LIST_ITEM) == RegistryToken(
        id=_REG + "/tokens/myToken", name="myToken", status="enabled", scope_map_id=_REG + "/scopeMaps/myScopeMap",
        passwords=())


def test_passwords_are_read_with_their_dates_sorted_by_name() -> None:
    # Expiry as RegistryGenerateCredentials.json gives it (seven fraction digits), one without expiry
    # (a password that never expires has none), listed out of order.
    doc = _with_passwords(
        {"name": "password2", "creationTime": "2020-06-01T08:00:00Z"},
        {"name": "password1", "creationTime": "2020-06-01T08:00:00.1234567Z", "expiry": "2020-12-31T15:59:59.0707808Z"},
    )
    token = token_from_json(doc)
    assert token.status == "disabled" and not token.enabled
    assert token.passwords == (
        TokenPassword(name="password1", expiry=datetime(2020, 12, 31, 15, 59, 59, 70780, tzinfo=UTC),
                      created=datetime(2020, 6, 1, 8, 0, 0, 123456, tzinfo=UTC)),
        TokenPassword(name="password2", expiry=None, created=datetime(2020, 6, 1, 8, 0, tzinfo=UTC)),
    )


def test_a_token_without_properties_or_status_is_enabled_with_nothing_else() -> None:
    # ARM's default status is enabled (the spec's TokenProperties.status); a password without a name
    # names nothing the console can act on and is left out, as the SDK-based reader did.
    assert token_from_json({"id": "x/tokens/t", "name": "t"}) == RegistryToken(id="x/tokens/t", name="t")
    doc = _with_passwords({"expiry": "2030-01-01T00:00:00Z"}, status="Enabled")
    assert token_from_json(doc).passwords == () and token_from_json(doc).status == "enabled"


def test_the_specs_scope_map_list_item_reads_as_a_scope_map() -> None:
    assert scope_map_from_json(SCOPE_MAP_LIST_ITEM) == ScopeMap(
        id=_REG + "/scopeMaps/myScopeMap", name="myScopeMap",
        actions=("repositories/myrepository/contentWrite", "repositories/myrepository/delete"),
        type="IsUserDefined", description=None)
    described = {**SCOPE_MAP_LIST_ITEM, "properties": {"actions": [], "description": "pull only"}}
    assert scope_map_from_json(described).type == "UserDefined"  # absent type: a user's own map
    assert scope_map_from_json(described).description == "pull only"


@pytest.mark.parametrize(("text", "expected"), [
    ("2017-03-01T23:14:37.0707808Z", datetime(2017, 3, 1, 23, 14, 37, 70780, tzinfo=UTC)),
    ("2017-03-01t23:14:37z", datetime(2017, 3, 1, 23, 14, 37, tzinfo=UTC)),
    ("2017-03-01T23:14:37+00:00", datetime(2017, 3, 1, 23, 14, 37, tzinfo=UTC)),
    ("2017-03-01T23:14:37", datetime(2017, 3, 1, 23, 14, 37)),  # no offset: naive, as the SDK leaves it
    (None, None), ("", None),
])
def test_arm_times_read_as_the_sdk_reads_them(text: str | None, expected: datetime | None) -> None:
    parsed = arm_time(text)
    assert parsed == expected
    assert (parsed is None) or (parsed.tzinfo is None) == (expected.tzinfo is None)  # type: ignore[union-attr]


def test_the_sdk_model_of_the_same_documents_agrees() -> None:
    # The SDK's typed model of the spec's documents, which the reader used before: same fields, same dates.
    from azure.mgmt.containerregistry.models import ScopeMap as SdkScopeMap
    from azure.mgmt.containerregistry.models import Token as SdkToken

    doc = _with_passwords({"name": "password1", "creationTime": "2020-06-01T08:00:00.1234567Z",
                           "expiry": "2020-12-31T15:59:59.0707808Z"})
    sdk = SdkToken(doc)
    sdk_password = sdk.credentials.passwords[0]
    ours = token_from_json(doc)
    assert (ours.id, ours.name, ours.status, ours.scope_map_id) == (sdk.id, sdk.name, sdk.status, sdk.scope_map_id)
    assert (ours.passwords[0].expiry, ours.passwords[0].created) == (sdk_password.expiry, sdk_password.creation_time)
    sdk_map = SdkScopeMap(SCOPE_MAP_LIST_ITEM)
    ours_map = scope_map_from_json(SCOPE_MAP_LIST_ITEM)
    # (`sdk_map.type` is the resource's type: the map's own is under properties, as in the JSON.)
    assert (ours_map.actions, ours_map.type) == (tuple(sdk_map.properties.actions), sdk_map.properties.type)


def test_a_date_that_is_no_date_is_an_azure_error_not_a_traceback() -> None:
    doc = _with_passwords({"name": "password1", "expiry": "next tuesday"})
    with pytest.raises(AzureCallError) as caught, translated("list tokens of registry r"):
        token_from_json(doc)
    assert caught.value.operation == "list tokens of registry r"


def test_the_registry_path_escapes_each_segment_as_the_sdk_does() -> None:
    # Resource group names may hold parentheses and dots (learn.microsoft.com/azure/azure-resource-manager/
    # management/resource-name-rules#microsoftresources); the SDK quotes every path segment (safe="").
    reg = Registry(id=_REG.replace("myResourceGroup", "rg (prod).weu"), name="myRegistry",
                   login_server="myregistry.azurecr.io", subscription_id="00000000-0000-0000-0000-000000000000",
                   resource_group="rg (prod).weu")
    assert registry_path(reg) == ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                                  "rg%20%28prod%29.weu/providers/Microsoft.ContainerRegistry/registries/myRegistry")
