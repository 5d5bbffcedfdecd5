"""Transitive group membership, as chains of groups.

A chain lists group object ids from the assigned group (outermost) down to the group that holds the
member directly. Only simple chains are produced (no group twice), so cycles end naturally. The
number of simple chains can grow exponentially in a lattice of nested groups, so enumeration is
bounded per assigned group (``max_steps`` chains expanded, ``max_chains_per_member``, ``max_depth``);
when a bound cuts enumeration short, a breadth-first pass still gives every reachable member its
shortest chain, so a bound can hide extra routes but never a member.

Ids are compared case-insensitively and returned lower case. Members that are not groups known to
the index are returned as leaves; the caller decides what they are.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from acr_console.models import Group

Chain = tuple[str, ...]

DEFAULT_MAX_DEPTH = 32
DEFAULT_MAX_CHAINS_PER_MEMBER = 16
DEFAULT_MAX_STEPS = 50_000


def _chain_key(chain: Chain) -> tuple[int, Chain]:
    return (len(chain), chain)


class GroupIndex:
    """Groups by id, with each group's transitive members computed once on first use."""

    def __init__(
        self,
        groups: Mapping[str, Group] | Iterable[Group],
        *,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_chains_per_member: int = DEFAULT_MAX_CHAINS_PER_MEMBER,
        max_steps: int = DEFAULT_MAX_STEPS,
    ) -> None:
        values = groups.values() if isinstance(groups, Mapping) else groups
        self._groups: dict[str, Group] = {}
        for group in sorted(values, key=lambda g: (g.object_id.lower(), g.display_name, g.member_ids)):
            self._groups.setdefault(group.object_id.lower(), group)
        # Sorted once so that every expansion visits members in the same order.
        self._nested: dict[str, tuple[str, ...]] = {}
        self._leaves: dict[str, tuple[str, ...]] = {}
        for gid, group in self._groups.items():
            members = sorted({m.lower() for m in group.member_ids})
            self._nested[gid] = tuple(m for m in members if m in self._groups)
            self._leaves[gid] = tuple(m for m in members if m not in self._groups)
        self.max_depth = max(1, max_depth)
        self.max_chains_per_member = max(1, max_chains_per_member)
        self.max_steps = max(1, max_steps)
        self._cache: dict[str, Mapping[str, tuple[Chain, ...]]] = {}

    def __contains__(self, object_id: object) -> bool:
        return isinstance(object_id, str) and object_id.lower() in self._groups

    def get(self, object_id: str) -> Group | None:
        return self._groups.get(object_id.lower())

    def display_name(self, object_id: str) -> str:
        group = self._groups.get(object_id.lower())
        return group.display_name if group is not None else object_id

    def members(self, group_id: str) -> Mapping[str, tuple[Chain, ...]]:
        """Every non-group member reachable from ``group_id``, with its chains, shortest first."""
        root = group_id.lower()
        cached = self._cache.get(root)
        if cached is None:
            cached = self._expand(root)
            self._cache[root] = cached
        return cached

    def _expand(self, root: str) -> Mapping[str, tuple[Chain, ...]]:
        if root not in self._groups:
            return MappingProxyType({})
        found: dict[str, list[Chain]] = {}
        stack: list[Chain] = [(root,)]
        steps = 0
        truncated = False
        while stack:
            steps += 1
            if steps > self.max_steps:
                truncated = True
                break
            chain = stack.pop()
            gid = chain[-1]
            for member in self._leaves[gid]:
                chains = found.setdefault(member, [])
                if len(chains) < self.max_chains_per_member:
                    chains.append(chain)
            if len(chain) >= self.max_depth:
                truncated = truncated or any(m not in chain for m in self._nested[gid])
                continue
            # Reversed so that the stack pops nested groups in sorted order.
            stack.extend((*chain, m) for m in reversed(self._nested[gid]) if m not in chain)
        if truncated:
            self._cover(root, found)
        return MappingProxyType({m: tuple(sorted(c, key=_chain_key)) for m, c in sorted(found.items())})

    def _cover(self, root: str, found: dict[str, list[Chain]]) -> None:
        """Give members missed by a cut-short enumeration their shortest chain (breadth first)."""
        shortest: dict[str, Chain] = {root: (root,)}
        queue: deque[str] = deque([root])
        while queue:
            gid = queue.popleft()
            chain = shortest[gid]
            for member in self._leaves[gid]:
                chains = found.setdefault(member, [])
                if not chains:
                    chains.append(chain)
            for nested in self._nested[gid]:
                if nested not in shortest:
                    shortest[nested] = (*chain, nested)
                    queue.append(nested)


def membership_chains(
    groups: Mapping[str, Group] | Iterable[Group],
    assigned_group_ids: Iterable[str],
    **bounds: int,
) -> dict[str, tuple[Chain, ...]]:
    """For each principal, every chain through which it belongs to one of ``assigned_group_ids``.

    Chains start with the assigned group; they are sorted shortest first, then by ids.
    """
    index = GroupIndex(groups, **bounds)
    out: dict[str, set[Chain]] = {}
    for gid in {g.lower() for g in assigned_group_ids}:
        for member, chains in index.members(gid).items():
            out.setdefault(member, set()).update(chains)
    return {m: tuple(sorted(c, key=_chain_key)) for m, c in sorted(out.items())}
