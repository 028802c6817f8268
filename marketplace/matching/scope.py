"""The part of a problem one CP-SAT model decides: free people, their candidates, fixed context.

A scope is either a whole connected component (nothing fixed) or, in
large-neighbourhood search, a window of people whose neighbours keep their
current placements. Fixed members still occupy seats, count towards minimum
sizes, and block conflicting partners from their groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .problem import Problem


@dataclass(frozen=True)
class ProblemIndex:
    """Problem-wide facts every model needs, computed once per solve instead of once per model."""

    pinned: frozenset[str]  # groups with a pinned member anywhere
    partners: dict[str, frozenset[str]]  # avoid_with made symmetric (only people with partners)

    @classmethod
    def of(cls, problem: Problem) -> ProblemIndex:
        partners: dict[str, set[str]] = {}
        for y in problem.people.values():
            for other in y.avoid_with:
                partners.setdefault(y.id, set()).add(other)
                partners.setdefault(other, set()).add(y.id)
        return cls(frozenset(gid for y in problem.people.values() for gid in y.pinned),
                   {pid: frozenset(s) for pid, s in partners.items()})


@dataclass
class Scope:
    """Free people with their candidate groups; `fixed` holds everyone else's groups."""

    problem: Problem
    candidates: dict[str, list[str]]  # free person -> eligible group ids
    fixed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    index: ProblemIndex | None = None  # shared problem-wide facts; computed on demand when None
    fixed_members: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        if self.index is None:
            self.index = ProblemIndex.of(self.problem)
        members: dict[str, list[str]] = {}
        for pid, gids in self.fixed.items():
            if pid in self.candidates:
                continue
            for gid in gids:
                members.setdefault(gid, []).append(pid)
        self.fixed_members = members

    @property
    def people(self) -> list[str]:
        return list(self.candidates)

    @property
    def groups(self) -> list[str]:
        """Groups some free person may join, in first-seen order."""
        return list(dict.fromkeys(gid for gids in self.candidates.values() for gid in gids))

    def pinned_groups(self) -> frozenset[str]:
        """Groups with a pinned member anywhere in the problem (exempt from minimum size)."""
        assert self.index is not None
        return self.index.pinned

    def partners(self, pid: str) -> frozenset[str]:
        """Young people `pid` must not share a group with (avoid_with, either direction)."""
        assert self.index is not None
        return self.index.partners.get(pid, frozenset())


def whole(problem: Problem, candidates: dict[str, list[str]]) -> Scope:
    """A scope deciding everybody in `candidates`, nothing fixed."""
    return Scope(problem, candidates)


def components(candidates: dict[str, list[str]]) -> list[list[str]]:
    """Connected components of the person-group eligibility graph, as lists of person ids.

    People without candidates are left out (they cannot be placed). Conflicts
    (avoid_with) only matter within a shared group, so they add no edges.
    """
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for pid, gids in candidates.items():
        if not gids:
            continue
        parent.setdefault(pid, pid)
        for gid in gids:
            key = "\0" + gid
            parent.setdefault(key, key)
            ra, rb = find(pid), find(key)
            if ra != rb:
                parent[ra] = rb
    out: dict[str, list[str]] = {}
    for pid, gids in candidates.items():
        if gids:
            out.setdefault(find(pid), []).append(pid)
    return list(out.values())
