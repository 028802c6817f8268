"""First come, first served (Windhundprinzip): the matching as practice does it today.

`greedy` is the baseline the optimiser is measured against and its warm start.
It never breaks a hard rule of FORMAT.md when the pinned placements alone are
feasible: every placement is checked against seats, eligibility, closed groups,
overlap, the hours maximum and "not together with" before it is made, and
groups left below their minimum size are dissolved at the end.
"""

from __future__ import annotations

from .problem import Group, Problem, Window, eligible_groups, haversine_km, ineligibility


class _State:
    """Who is where, with the per-person bookkeeping the rules need."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.assigned: dict[str, list[str]] = {pid: [] for pid in problem.people}
        self.minutes: dict[str, int] = dict.fromkeys(problem.people, 0)
        self.busy: dict[str, list[Window]] = {pid: [] for pid in problem.people}
        self.members: dict[str, set[str]] = {gid: set() for gid in problem.groups}
        self.conflicts: dict[str, set[str]] = {pid: set(y.avoid_with) for pid, y in problem.people.items()}
        for pid, y in problem.people.items():
            for other in y.avoid_with:
                self.conflicts[other].add(pid)
        self.pinned_groups = {gid for y in problem.people.values() for gid in y.pinned}

    def fits(self, pid: str, g: Group) -> bool:
        """Seats, hours maximum, overlap and conflicts (rules 2-5) allow adding pid to g."""
        members = self.members[g.id]
        if len(members) >= g.seats or pid in members:
            return False
        y = self.problem.people[pid]
        if (self.minutes[pid] + g.minutes) / 60.0 > y.max_hours + 1e-9:
            return False
        busy = self.busy[pid]
        if busy and any(b.overlaps(s) for b in busy for s in g.sessions):
            return False
        conflicts = self.conflicts[pid]  # a self-conflict forbids every group, as in verify.py
        return not (conflicts and (pid in conflicts or not conflicts.isdisjoint(members)))

    def add(self, pid: str, g: Group) -> None:
        self.assigned[pid].append(g.id)
        self.minutes[pid] += g.minutes
        self.busy[pid].extend(g.sessions)
        self.members[g.id].add(pid)

    def remove(self, pid: str, g: Group) -> None:
        self.assigned[pid].remove(g.id)
        self.minutes[pid] -= g.minutes
        self.busy[pid] = [s for gid in self.assigned[pid] for s in self.problem.groups[gid].sessions]
        self.members[g.id].discard(pid)

    def wants_more(self, pid: str) -> bool:
        """Below the group-hours target, or not placed at all (a target of 0 still wants one group)."""
        y = self.problem.people[pid]
        return self.minutes[pid] < y.target * 60 - 1e-9 or not self.assigned[pid]


def _request_order(problem: Problem, order: list[str] | None) -> list[str]:
    if order is None:
        return list(problem.people)
    seen = dict.fromkeys(pid for pid in order if pid in problem.people)
    return list(seen) + [pid for pid in problem.people if pid not in seen]


def _nearest_first(problem: Problem, candidates: dict[str, list[str]]) -> dict[str, list[Group]]:
    out: dict[str, list[Group]] = {}
    for pid, gids in candidates.items():
        y = problem.people[pid]
        groups = [problem.groups[gid] for gid in gids]
        keyed = [(haversine_km(y.lat, y.lon, g.lat, g.lon), n, g) for n, g in enumerate(groups)]
        keyed.sort(key=lambda t: (t[0], t[1]))
        out[pid] = [g for _, _, g in keyed]
    return out


def _keep_current(state: _State, order: list[str]) -> None:
    """Pinned placements stay unconditionally; other current ones stay while they keep every rule."""
    problem = state.problem
    for pid in order:
        for gid in problem.people[pid].pinned:
            if gid not in state.assigned[pid]:
                state.add(pid, problem.groups[gid])
    for pid in order:
        y = problem.people[pid]
        for gid in y.current:
            g = problem.groups[gid]
            if gid in y.pinned or ineligibility(y, g) is not None or not state.fits(pid, g):
                continue
            state.add(pid, g)


def _fill(state: _State, pid: str, nearest: list[Group], allowed=None) -> None:
    """Take the nearest groups with a free seat until the target is met."""
    for g in nearest:
        if not state.wants_more(pid):
            return
        if allowed is not None and not allowed(g):
            continue
        if state.fits(pid, g):
            state.add(pid, g)


def _below_min(state: _State) -> list[str]:
    return [gid for gid, members in state.members.items()
            if members and gid not in state.pinned_groups
            and len(members) < state.problem.groups[gid].min_size]


def greedy(problem: Problem, order: list[str] | None = None) -> dict[str, tuple[str, ...]]:
    """First come, first served: a feasible assignment {young person id: group ids}.

    In request `order` (input order by default; unknown ids are ignored, people
    missing from it come afterwards in input order) each young person keeps the
    pinned and then the still-feasible current placements, then takes the
    nearest eligible group with a free seat that breaks no rule, until the
    group-hours target is met (a target of 0 still takes one group). Groups
    below their minimum size without a pinned member are then dissolved and
    their members re-tried once, only in groups that run anyway. Only placed
    young people appear in the result. Feasible whenever the pinned
    placements on their own are.
    """
    order = _request_order(problem, order)
    state = _State(problem)
    nearest = _nearest_first(problem, eligible_groups(problem))
    _keep_current(state, order)
    for pid in order:
        _fill(state, pid, nearest[pid])

    dissolved = set(_below_min(state))
    affected: set[str] = set()
    for gid in dissolved:
        for pid in list(state.members[gid]):
            state.remove(pid, problem.groups[gid])
            affected.add(pid)

    def runs_anyway(g: Group) -> bool:
        size = len(state.members[g.id])
        return g.id not in dissolved and (size + 1 >= g.min_size or g.id in state.pinned_groups)

    for pid in order:
        if pid in affected:
            _fill(state, pid, nearest[pid], runs_anyway)
    return {pid: tuple(state.assigned[pid]) for pid in problem.people if state.assigned[pid]}
