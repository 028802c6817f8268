"""A price-guided construction: a strong start for large components.

The Lagrangian bound (lagrange.py) prices every seat: λ_g is what a seat of
group g is worth to the young people competing for it. With these prices,
each young person in turn takes the groups whose marginal value (hours
towards the target, placement, pair terms) exceeds the seat's price, under
every rule that binds one person (seats, hours maximum, overlaps, conflicts).
Groups left below their minimum size are then either filled with young
people who gain from joining or dissolved, and their members re-choose among
the groups that run. A last pass lets everybody below target take free seats
in running groups at no price.

On a 10,000-person district this starts within 6 % of the bound, where
first-come-first-served greedy starts 25 % below it; large-neighbourhood
search (lns.py) improves it from there. Never raises for a valid problem: the
result keeps every hard rule when the pinned placements alone do (checked by
`violations` before use in any case).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from .greedy import _State
from .objective import pair_total
from .problem import Problem
from .scope import Scope
from .solution import Assignments, person_values, violations


def priced(problem: Problem, candidates: Mapping[str, list[str]], prices: Mapping[str, float],
           first: Mapping[str, Sequence[str]] | None = None) -> Assignments:
    """Assignments of the people in `candidates` (and every pinned placement), built at seat `prices`.

    `first`: groups each person takes before anything else where the rules allow (the choices of
    the relaxation, `Lagrangian.chosen`); a group chosen by more people than it has seats goes to
    those it is worth most to on its own.
    """
    w = problem.weights
    state = _State(problem)
    for pid, y in problem.people.items():  # pinned placements first, everywhere
        for gid in y.pinned:
            if gid not in state.assigned[pid]:
                state.add(pid, problem.groups[gid])
    value = {pid: {gid: pair_total(problem, pid, gid) for gid in gids}
             for pid, gids in candidates.items()}
    eligible: dict[str, list[str]] = {}
    for pid, gids in candidates.items():
        for gid in gids:
            eligible.setdefault(gid, []).append(pid)

    def hours_value(pid: str, minutes: int) -> float:
        y = problem.people[pid]
        hours = minutes / 60.0
        return y.priority * (w["placed"] * (minutes > 0) + w["hours"] * min(hours, y.target))

    def gain(pid: str, gid: str, price: float) -> float:
        g = problem.groups[gid]
        now = state.minutes[pid]
        return hours_value(pid, now + g.minutes) - hours_value(pid, now) + value[pid][gid] - price

    def choose(pid: str, usable: Collection[str] | None, price_of: Mapping[str, float]) -> None:
        """Add the best group while one gains more than its price (one person, rules 2-5 checked)."""
        while True:
            best, best_gain = None, 1e-9
            for gid in candidates[pid]:
                if gid in state.assigned[pid] or (usable is not None and gid not in usable):
                    continue
                if not state.fits(pid, problem.groups[gid]):
                    continue
                g = gain(pid, gid, price_of.get(gid, 0.0))
                if g > best_gain:
                    best, best_gain = gid, g
            if best is None:
                return
            state.add(pid, problem.groups[best])

    # Scarce first: high priority, then few candidates (they have the fewest ways out).
    order = sorted(candidates, key=lambda pid: (-problem.people[pid].priority, len(candidates[pid])))
    if first:
        _take_first(problem, state, first, value, order, hours_value)
    for pid in order:
        choose(pid, None, prices)
    _repair_min_size(problem, state, eligible, gain, choose)
    running = {gid for gid, members in state.members.items()
               if members and (len(members) >= problem.groups[gid].min_size or gid in state.pinned_groups)}
    for pid in order:  # free seats in running groups, at no price
        choose(pid, running, {})
    return {pid: tuple(gids) for pid, gids in state.assigned.items() if gids}


def _take_first(problem: Problem, state: _State, first: Mapping[str, Sequence[str]],
                value: Mapping[str, Mapping[str, float]], order: list[str], hours_value) -> None:
    """Give everybody the groups of `first` that the seats and the rules allow (see `priced`)."""
    choosers: dict[str, list[str]] = {}
    for pid, gids in first.items():
        for gid in gids:
            if gid in value.get(pid, {}):
                choosers.setdefault(gid, []).append(pid)
    keep: dict[str, list[str]] = {}
    for gid, pids in choosers.items():
        g = problem.groups[gid]
        pids.sort(key=lambda pid: (-(value[pid][gid] + hours_value(pid, g.minutes)), pid))
        for pid in pids[: max(0, g.seats - len(state.members[gid]))]:
            keep.setdefault(pid, []).append(gid)
    for pid in order:
        for gid in sorted(keep.get(pid, ()), key=lambda gid: (-value[pid][gid], gid)):
            g = problem.groups[gid]
            if gid not in state.assigned[pid] and state.fits(pid, g):
                state.add(pid, g)


def best_start(scope: Scope, prices: Mapping[str, float], start: Assignments, scales: Sequence[float] = (1.0,),
               more: Callable[[], bool] = lambda: True,
               first: Mapping[str, Sequence[str]] | None = None) -> tuple[Assignments, float, list[float]]:
    """The better of `start` and the constructions at `prices` times each of `scales` (the later
    ones only while `more()`; `first` as in `priced`), for the scope's people: (assignments, exact
    value, values built).

    A construction that breaks a rule (never expected) is skipped: the start stays the safe fallback.
    """
    problem, people = scope.problem, scope.people
    best = {pid: start[pid] for pid in people if start.get(pid)}
    value = sum(person_values(problem, best, people).values())
    built_values: list[float] = []
    for n, scale in enumerate(scales):
        if n and not more():
            break
        built = priced(problem, scope.candidates, {gid: scale * p for gid, p in prices.items()}, first)
        built = {pid: built[pid] for pid in people if built.get(pid)}
        if violations(problem, built):
            continue
        built_value = sum(person_values(problem, built, people).values())
        built_values.append(built_value)
        if built_value > value:
            best, value = built, built_value
    return best, value, built_values


def _repair_min_size(problem: Problem, state: _State, eligible: dict[str, list[str]], gain, choose) -> None:
    """Fill or dissolve every group below its minimum size (pinned groups are exempt)."""
    dissolved: set[str] = set()
    while True:
        low = [gid for gid, members in state.members.items()
               if members and gid not in state.pinned_groups and gid not in dissolved
               and len(members) < problem.groups[gid].min_size]
        if not low:
            return
        low.sort(key=lambda gid: len(state.members[gid]) / problem.groups[gid].min_size, reverse=True)
        gid = low[0]  # the fullest first: the cheapest to fill
        g = problem.groups[gid]
        missing = g.min_size - len(state.members[gid])
        joiners = sorted(((gain(pid, gid, 0.0), pid) for pid in eligible.get(gid, ())
                          if pid not in state.members[gid] and state.fits(pid, g)), reverse=True)
        if len(joiners) >= missing and sum(v for v, _ in joiners[:missing]) > 0 and joiners[missing - 1][0] > 0:
            for _, pid in joiners[:missing]:
                if state.fits(pid, g):  # conflicts among the joiners themselves
                    state.add(pid, g)
            continue
        dissolved.add(gid)
        members = list(state.members[gid])
        for pid in members:
            state.remove(pid, g)
        running = {other for other, m in state.members.items()
                   if other not in dissolved and m and len(m) >= problem.groups[other].min_size}
        for pid in members:
            choose(pid, running, {})
