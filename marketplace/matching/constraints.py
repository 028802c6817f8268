"""The eight hard rules of FORMAT.md as CP-SAT constraints, one function per rule.

Each `add_*` function takes a `MatchModel` (see model.py), adds the constraints
of its rule for the model's scope and returns how many it added, so a run can
report what each rule contributed. Rule 1 (eligibility) and rule 6 (closed
groups) are enforced by pruning: only eligible pairs get a variable.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .problem import Problem

if TYPE_CHECKING:
    from .model import MatchModel


def add_eligibility(m: MatchModel) -> int:
    """Rule 1: only eligible (person, group) pairs exist as variables.

    The scope's candidate lists are already pruned by `eligible_groups`; this
    also removes pairs blocked by fixed context (a fixed conflict partner in
    the group) by fixing them to 0.
    """
    added = 0
    for pid in m.scope.people:
        avoid = m.partners[pid]
        for gid in m.scope.candidates[pid]:
            if avoid & set(m.scope.fixed_members.get(gid, ())):
                m.model.add(m.x[pid, gid] == 0)
                added += 1
    return added


def add_closed_groups(m: MatchModel) -> int:
    """Rule 6: closed groups take only current members; pruned away, checked here."""
    for (pid, gid) in m.x:
        g = m.problem.groups[gid]
        assert g.open_for_new or gid in m.problem.people[pid].current, (pid, gid)
    return 0


def add_seats(m: MatchModel) -> int:
    """Rule 2: members of a group (free plus fixed) never exceed its seats; x <= open."""
    added = 0
    for gid, pids in m.members.items():
        g = m.problem.groups[gid]
        free_seats = g.seats - len(m.scope.fixed_members.get(gid, ()))
        m.model.add(sum(m.x[p, gid] for p in pids) <= free_seats * m.open[gid])
        for pid in pids:  # redundant, but it makes the LP bound useful (NOTES.md)
            m.model.add_implication(m.x[pid, gid], m.open[gid])
        added += 1 + len(pids)
    return added


def add_min_size(m: MatchModel) -> int:
    """Rule 7: an open group without a pinned member has at least `min_size` members.

    A group already running with fixed members needs the missing members from
    the free people unconditionally.
    """
    added = 0
    pinned = m.scope.pinned_groups()
    for gid, pids in m.members.items():
        if gid in pinned:
            continue
        fixed = len(m.scope.fixed_members.get(gid, ()))
        need = m.problem.groups[gid].min_size - fixed
        if fixed and need > 0:
            m.model.add(sum(m.x[p, gid] for p in pids) >= need)
            added += 1
        elif need > 1:
            m.model.add(sum(m.x[p, gid] for p in pids) >= need * m.open[gid])
            added += 1
    return added


def add_no_overlap(m: MatchModel) -> int:
    """Rule 3: per person one at-most-one clique per busy time point (maximal sets only)."""
    added = 0
    for pid in m.scope.people:
        gids = m.scope.candidates[pid]
        if len(gids) < 2:
            continue
        for clique in time_cliques(m.problem, gids):
            m.model.add_at_most_one(m.x[pid, gid] for gid in sorted(clique))
            added += 1
    return added


def time_cliques(problem: Problem, gids: list[str]) -> list[frozenset[str]]:
    """Maximal sets (size >= 2) of the groups that are all busy at one time point.

    Any two overlapping sessions share the start point of the later one, so
    the sets busy at session starts cover every pairwise conflict.
    """
    by_day: dict[int, list[tuple[int, int, str]]] = {}
    for gid in gids:
        for s in problem.groups[gid].sessions:
            by_day.setdefault(s.day, []).append((s.start, s.end, gid))
    cliques: set[frozenset[str]] = set()
    for sessions in by_day.values():
        sessions.sort()
        for n, (point, _, _) in enumerate(sessions):
            busy = frozenset(gid for start, end, gid in sessions[:n + 1] if start <= point < end)
            if len(busy) > 1:
                cliques.add(busy)
    return _maximal(cliques)


def _maximal(sets: set[frozenset[str]]) -> list[frozenset[str]]:
    ordered = sorted(sets, key=len, reverse=True)
    kept: list[frozenset[str]] = []
    for s in ordered:
        if not any(s <= k for k in kept):
            kept.append(s)
    return kept


def add_hours(m: MatchModel) -> int:
    """Rule 4: weekly group hours (in quarter hours) stay within the person's maximum."""
    added = 0
    for pid in m.scope.people:
        y = m.problem.people[pid]
        limit = math.floor(4 * y.max_hours + 4e-9)
        gids = m.scope.candidates[pid]
        if sum(m.quarters[g] for g in gids) > limit:
            m.model.add(sum(m.quarters[g] * m.x[pid, g] for g in gids) <= limit)
            added += 1
    return added


def add_conflicts(m: MatchModel) -> int:
    """Rule 5: young people who must be kept apart (avoid_with, either way) share no group.

    A person listed in their own avoid_with can share no group with anybody,
    themselves included, so verify.py lets them join no group at all.
    """
    added = 0
    for pid in m.scope.people:
        mine = set(m.scope.candidates[pid])
        for other in m.partners[pid]:
            if other == pid:
                for gid in mine:
                    m.model.add(m.x[pid, gid] == 0)
                    added += 1
            elif other in m.scope.candidates and pid < other:
                for gid in mine & set(m.scope.candidates[other]):
                    m.model.add_at_most_one(m.x[pid, gid], m.x[other, gid])
                    added += 1
    return added


def add_pinned(m: MatchModel) -> int:
    """Rule 8: pinned placements stay; their groups run."""
    added = 0
    for pid in m.scope.people:
        for gid in m.problem.people[pid].pinned:
            if (pid, gid) not in m.x:
                raise ValueError(f"pinned pair ({pid}, {gid}) is not eligible; check pinned_violations first")
            m.model.add(m.x[pid, gid] == 1)
            added += 1
    return added


RULES = {
    "eligibility": add_eligibility,
    "closed_groups": add_closed_groups,
    "seats": add_seats,
    "min_size": add_min_size,
    "no_overlap": add_no_overlap,
    "hours": add_hours,
    "conflicts": add_conflicts,
    "pinned": add_pinned,
}
