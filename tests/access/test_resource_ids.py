"""The one ARM resource-id parser: examples of each shape ARM writes, and properties over generated ids."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acr_console.access.resource_ids import (
    REGISTRY_TYPE,
    ROOT,
    InvalidResourceId,
    ProviderBlock,
    ResourceId,
    parse_resource_id,
    role_definition_id,
    role_guid,
    subscription_of,
    try_parse_resource_id,
)
from acr_console.access.scopes import normalise_scope

from .factories import MG_SCOPE, REGISTRY_ID, RG, RG_SCOPE, SUB, SUB_SCOPE

GUID = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
ASSIGNMENT_ON_REGISTRY = f"{REGISTRY_ID}/providers/Microsoft.Authorization/roleAssignments/{GUID}"


def test_a_registry_id() -> None:
    rid = parse_resource_id(REGISTRY_ID)
    assert (rid.subscription, rid.resource_group, rid.name) == (SUB, RG, "myreg")
    assert rid.resource_type == REGISTRY_TYPE and rid.is_type("microsoft.containerregistry/REGISTRIES")
    assert str(rid) == REGISTRY_ID


@pytest.mark.parametrize(("text", "subscription", "group", "name", "management_group"), [
    ("/", None, None, None, None),
    ("", None, None, None, None),
    (SUB_SCOPE, SUB, None, SUB, None),
    (RG_SCOPE, SUB, RG, RG, None),
    (MG_SCOPE, None, None, "contoso-root", "contoso-root"),
    (ASSIGNMENT_ON_REGISTRY, SUB, RG, GUID, None),
    (f"{REGISTRY_ID}/replications/westus", SUB, RG, "westus", None),
    (f"{MG_SCOPE}/providers/Microsoft.Authorization/roleAssignments/{GUID}", None, None, GUID, "contoso-root"),
    (f"/providers/Microsoft.Authorization/roleDefinitions/{GUID}", None, None, GUID, None),
])
def test_each_shape(text: str, subscription: str | None, group: str | None, name: str | None,
                    management_group: str | None) -> None:
    rid = parse_resource_id(text)
    assert (rid.subscription, rid.resource_group, rid.name, rid.management_group) == (
        subscription, group, name, management_group)


def test_an_extension_resource_is_a_second_block() -> None:
    rid = parse_resource_id(ASSIGNMENT_ON_REGISTRY)
    assert [b.resource_type for b in rid.blocks] == [REGISTRY_TYPE, "Microsoft.Authorization/roleAssignments"]
    assert rid == parse_resource_id(REGISTRY_ID).child("Microsoft.Authorization/roleAssignments", GUID)


def test_a_child_resource_continues_its_block() -> None:
    rid = parse_resource_id(f"{REGISTRY_ID}/replications/westus")
    assert len(rid.blocks) == 1 and rid.resource_type == f"{REGISTRY_TYPE}/replications"


def test_a_resource_named_like_a_keyword_is_still_a_name() -> None:
    rid = parse_resource_id("/subscriptions/s/resourceGroups/providers/providers/Microsoft.ContainerRegistry/"
                            "registries/providers")
    assert (rid.resource_group, rid.name, rid.resource_type) == ("providers", "providers", REGISTRY_TYPE)


@pytest.mark.parametrize("text", [
    "/subscriptions",  # a keyword without its name
    "/subscriptions/s/resourceGroups",
    "/resourceGroups/rg",  # a group outside a subscription
    "/foo/bar",
    "/subscriptions/s/providers/Microsoft.ContainerRegistry",  # a namespace without a type
    "/subscriptions/s/providers/Microsoft.ContainerRegistry/registries",  # a type without a name
    f"{REGISTRY_ID}/replications",
    f"{REGISTRY_ID}/providers",
])
def test_what_is_not_an_id(text: str) -> None:
    with pytest.raises(InvalidResourceId):
        parse_resource_id(text)
    assert try_parse_resource_id(text) is None


def test_role_definitions() -> None:
    built = role_definition_id(SUB, GUID.upper())
    assert built == f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{GUID.upper()}"
    # The same role read through a subscription, a management group or the root keys the same.
    for seen_at in (built, f"{MG_SCOPE}/providers/Microsoft.Authorization/roleDefinitions/{GUID}",
                    f"/providers/Microsoft.Authorization/roleDefinitions/{GUID}"):
        assert role_guid(seen_at) == GUID


def test_subscription_of() -> None:
    assert subscription_of(ASSIGNMENT_ON_REGISTRY) == SUB
    assert subscription_of(MG_SCOPE) is None and subscription_of("/") is None and subscription_of("/foo") is None


# -- properties ------------------------------------------------------------------------------------

# ARM's names: ASCII letters, digits and punctuation, never '/'. ASCII keeps case-folding exact
# (ARM compares ordinally ignoring case; 'ß'.upper() is two letters).
_CHARS = string.ascii_letters + string.digits + "-_.()~:@!$&'*+,;=%"
names = st.text(_CHARS, min_size=1, max_size=12)
types = names.filter(lambda t: t.lower() != "providers")  # a type position holding it opens a block
blocks = st.integers(1, 3).flatmap(lambda n: st.builds(
    ProviderBlock, names, st.tuples(*[types] * n), st.tuples(*[names] * n)))


@st.composite
def resource_ids(draw: st.DrawFn) -> ResourceId:
    subscription = draw(st.none() | names)
    group = draw(st.none() | names) if subscription is not None else None
    return ResourceId(subscription, group, tuple(draw(st.lists(blocks, max_size=3))))


def recased(text: str, flips: list[bool]) -> str:
    return "".join(c.swapcase() if flip else c for c, flip in zip(text, flips + [False] * len(text), strict=False))


@given(resource_ids())
def test_round_trip(rid: ResourceId) -> None:
    text = str(rid)
    parsed = parse_resource_id(text)
    assert str(parsed) == text
    assert (parsed.subscription, parsed.resource_group, parsed.blocks) == (rid.subscription, rid.resource_group,
                                                                           rid.blocks)


@given(resource_ids(), st.lists(st.booleans()))
def test_case_does_not_matter(rid: ResourceId, flips: list[bool]) -> None:
    other = parse_resource_id(recased(str(rid), flips))
    assert other == rid and hash(other) == hash(rid)
    assert (other.subscription is None, other.resource_group is None, len(other.blocks)) == (
        rid.subscription is None, rid.resource_group is None, len(rid.blocks))


@given(resource_ids(), st.sampled_from(["", "/"]), st.sampled_from(["", " ", "/"]))
def test_slashes_and_blanks_around_change_nothing(rid: ResourceId, lead: str, trail: str) -> None:
    text = str(rid)
    assert parse_resource_id(" " + lead + text.lstrip("/") + trail) == rid
    assert parse_resource_id(text.replace("/", "//")) == rid


@given(resource_ids())
def test_the_parser_and_normalise_scope_agree(rid: ResourceId) -> None:
    assert normalise_scope(str(rid)) == rid.key


@given(st.text(max_size=60))
def test_never_fails_otherwise(text: str) -> None:
    parsed = try_parse_resource_id(text)
    if parsed is not None:
        assert parse_resource_id(str(parsed)) == parsed
    role_guid(text)  # keys data read from elsewhere: must not raise
    subscription_of(text)


def test_root() -> None:
    assert parse_resource_id("/") == ROOT and ROOT.is_root and str(ROOT) == "/"
