from __future__ import annotations

import itertools

import pytest

from acr_console.access.groups import GroupIndex, membership_chains
from acr_console.models import Group

from .factories import group


def by_id(*groups: Group) -> dict[str, Group]:
    return {g.object_id: g for g in groups}


def test_direct_members() -> None:
    index = GroupIndex(by_id(group("g1", "Devs", "u1", "u2")))
    assert dict(index.members("g1")) == {"u1": (("g1",),), "u2": (("g1",),)}


def test_nested_three_deep_outermost_first() -> None:
    index = GroupIndex(
        by_id(
            group("outer", "Outer", "middle", "u-outer"),
            group("middle", "Middle", "inner"),
            group("inner", "Inner", "u-deep"),
        )
    )
    members = index.members("outer")
    assert members["u-deep"] == (("outer", "middle", "inner"),)
    assert members["u-outer"] == (("outer",),)
    assert "middle" not in members and "inner" not in members  # groups are never members here
    assert dict(index.members("inner")) == {"u-deep": (("inner",),)}


def test_every_chain_is_listed_shortest_first() -> None:
    # Diamond: top -> left -> bottom, top -> right -> bottom, and top holds the user directly too.
    index = GroupIndex(
        by_id(
            group("top", "Top", "right", "left", "u"),
            group("left", "Left", "bottom"),
            group("right", "Right", "bottom"),
            group("bottom", "Bottom", "u"),
        )
    )
    assert index.members("top")["u"] == (
        ("top",),
        ("top", "left", "bottom"),
        ("top", "right", "bottom"),
    )


@pytest.mark.parametrize(
    "groups",
    [
        by_id(group("a", "A", "b", "u1"), group("b", "B", "a", "u2")),
        by_id(group("a", "A", "a", "u1"), group("b", "B", "u2")),
        by_id(group("a", "A", "b", "u1"), group("b", "B", "c", "u2"), group("c", "C", "a", "u3")),
    ],
    ids=["two-cycle", "self-member", "three-cycle"],
)
def test_cycles_terminate_with_simple_chains(groups: dict[str, Group]) -> None:
    index = GroupIndex(groups)
    for gid in groups:
        for member, chains in index.members(gid).items():
            assert member.startswith("u")
            for chain in chains:
                assert chain[0] == gid
                assert len(set(chain)) == len(chain)


def test_cycle_chains() -> None:
    index = GroupIndex(by_id(group("a", "A", "b", "u1"), group("b", "B", "a", "u2")))
    assert dict(index.members("a")) == {"u1": (("a",),), "u2": (("a", "b"),)}
    assert dict(index.members("b")) == {"u1": (("b", "a"),), "u2": (("b",),)}


def test_ids_are_case_insensitive() -> None:
    index = GroupIndex(by_id(group("G1", "One", "G2"), group("g2", "Two", "U1")))
    assert dict(index.members("g1")) == {"u1": (("g1", "g2"),)}
    assert "G2" in index and index.display_name("G2") == "Two"


def test_unknown_group_has_no_members() -> None:
    assert dict(GroupIndex({}).members("nope")) == {}


def test_deterministic_under_member_order() -> None:
    members = ("u3", "inner", "u1", "u2")
    results = set()
    for perm in itertools.permutations(members):
        index = GroupIndex([group("outer", "Outer", *perm), group("inner", "Inner", "u2", "u4")])
        results.add(tuple(index.members("outer").items()))
    assert len(results) == 1


def test_lattice_is_bounded_but_covers_every_member() -> None:
    # 12 layers of 2 groups, each fully linked to the next: 2**12 simple chains to the bottom user.
    layers = [[f"l{i}a", f"l{i}b"] for i in range(12)]
    groups = [group(g, g, *layers[i + 1]) for i in range(11) for g in layers[i]]
    groups += [group(g, g, "bottom-user") for g in layers[11]]
    groups.append(group("root", "root", *layers[0], "top-user"))
    index = GroupIndex(groups, max_steps=200, max_chains_per_member=4)
    members = index.members("root")
    assert set(members) == {"bottom-user", "top-user"}
    assert 1 <= len(members["bottom-user"]) <= 4
    assert len(members["bottom-user"][0]) == 13  # root + one group per layer


def test_max_depth_still_covers_member() -> None:
    chain = [group(f"g{i}", f"G{i}", f"g{i + 1}") for i in range(10)] + [group("g10", "G10", "deep-user")]
    index = GroupIndex(chain, max_depth=3)
    members = index.members("g0")
    assert members["deep-user"] == (tuple(f"g{i}" for i in range(11)),)


def test_membership_chains_across_assigned_groups() -> None:
    groups = by_id(
        group("a", "A", "b", "u1"),
        group("b", "B", "u2"),
        group("c", "C", "u1"),
    )
    assert membership_chains(groups, ["A", "c"]) == {
        "u1": (("a",), ("c",)),
        "u2": (("a", "b"),),
    }
