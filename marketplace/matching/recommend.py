"""Recommendations for one young person (Platzierungsvorschläge), everyone else fixed.

`recommend` ranks the best sets of groups one young person could join while
all other assignments stay as they are: every set keeps the hard rules of
FORMAT.md (eligibility, seats left by the others, no overlap, hours maximum,
"not together with", closed groups, minimum size given the others, the
person's pinned groups) and is ranked by its exact marginal objective. It
enumerates compatible sets by branch and bound over the person's few
eligible groups and picks diverse options, each explained in German.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .explain import category_label, describe_group, format_hours, german_number, labels, near_groups
from .problem import Group, Problem, YoungPerson, ineligibility
from .solution import Assignments, evaluate

_NODE_LIMIT = 200_000  # safety net for pathological inputs; typical searches visit a few hundred nodes


@dataclass
class Option:
    """One recommended set of groups, its exact marginal objective and a German explanation."""

    groups: tuple[str, ...]
    marginal_objective: float
    hours: float
    target: float
    max_hours: float
    needs_served: list[str]
    km: dict[str, float]
    feasible: bool
    summary: str
    lines: list[str]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Candidate:
    group: Group
    value: float  # per-group objective part incl. the avoided change penalty
    others: int  # members among the others
    short: int  # members still missing for the minimum size even with this person (0: fine)
    exempt: bool  # somebody is pinned to the group: its minimum size does not apply


def _person_problem(problem: Problem, y: YoungPerson, gids: Iterable[str]) -> Problem:
    groups = {gid: problem.groups[gid] for gid in gids}
    return Problem(problem.weights, problem.providers, groups, {y.id: y})


def marginal_objective(problem: Problem, person_id: str, groups: Iterable[str]) -> float:
    """Exact objective change (FORMAT.md, via `evaluate`) of giving `groups` to the person instead of none.

    The other people's terms do not depend on this person's groups, so a
    one-person problem gives the same difference as the whole one.
    """
    y = problem.people[person_id]
    gids = tuple(dict.fromkeys(groups))
    sub = _person_problem(problem, y, gids)
    return evaluate(sub, {person_id: gids}).objective - evaluate(sub, {}).objective


def _candidates(problem: Problem, y: YoungPerson, others: Assignments) -> tuple[list[_Candidate], Counter]:
    w = problem.weights
    pinned_anywhere = {gid for p in problem.people.values() for gid in p.pinned}
    serving = [g for g in problem.groups.values() if not y.needs.isdisjoint(g.categories)]
    eligible = [g for g, _ in near_groups(y, serving) if ineligibility(y, g) is None
                and (g.open_for_new or g.id in y.current) and g.minutes / 60.0 <= y.max_hours + 1e-9]
    wanted = {g.id for g in eligible}
    count: Counter = Counter()
    blocked: set[str] = set()
    avoid = set(y.avoid_with)
    for pid, gids in others.items():
        hit = wanted.intersection(gids)
        if not hit:
            continue
        count.update(hit)
        other = problem.people.get(pid)
        if pid in avoid or (other is not None and y.id in other.avoid_with):
            blocked |= hit
    out = []
    for g in eligible:
        if count[g.id] >= g.seats or g.id in blocked or y.id in avoid:
            continue
        exempt = g.id in pinned_anywhere
        short = 0 if exempt else max(0, g.min_size - count[g.id] - 1)
        sub = _person_problem(problem, y, [g.id])
        # Per-group terms only: need match, wish, travel, offset, and the change penalty it avoids.
        terms = evaluate(sub, {y.id: (g.id,)}).terms
        value = terms["need_match"] + terms["preferred"] + terms["km"] + terms["offset_eur"]
        value += w["change"] * (g.id in y.current)
        out.append(_Candidate(g, value, count[g.id], short, exempt))
    out.sort(key=lambda c: (-c.value, c.group.id))
    return out, count


class _Search:
    """Branch and bound over compatible sets: keeps the `keep` best by approximate value."""

    def __init__(self, problem: Problem, y: YoungPerson, items: list[_Candidate], fixed: list[Group],
                 keep: int):
        w = problem.weights
        self.y, self.items, self.keep = y, items, keep
        self.per_hour = y.priority * w["hours"]
        self.placed = y.priority * w["placed"]
        self.cap = y.max_hours * 60 + 1e-6
        self.best: list[tuple[float, tuple[str, ...]]] = []  # min-heap of (value, ids)
        self.nodes = 0
        self.fixed = fixed
        # Suffix sums of positive per-group values bound what the remaining items can add.
        self.suffix = [0.0] * (len(items) + 1)
        for n in range(len(items) - 1, -1, -1):
            self.suffix[n] = self.suffix[n + 1] + max(0.0, items[n].value)

    def value(self, minutes: int, group_value: float) -> float:
        hours = minutes / 60.0
        return (self.placed if minutes > 0 else 0.0) + self.per_hour * min(hours, self.y.target) + group_value

    def run(self) -> list[tuple[float, tuple[str, ...]]]:
        minutes = sum(g.minutes for g in self.fixed)
        sessions = [s for g in self.fixed for s in g.sessions]
        self._offer(minutes, 0.0, [g.id for g in self.fixed])
        self._dfs(0, minutes, 0.0, sessions, [g.id for g in self.fixed])
        return sorted(self.best, key=lambda t: (-t[0], len(t[1]), t[1]))

    def _offer(self, minutes: int, group_value: float, ids: list[str]) -> None:
        if not ids:
            return
        entry = (self.value(minutes, group_value), tuple(ids))
        if len(self.best) < self.keep:
            heapq.heappush(self.best, entry)
        elif entry > self.best[0]:
            heapq.heapreplace(self.best, entry)

    def _bound(self, n: int, minutes: int, group_value: float) -> float:
        return self.placed + self.per_hour * self.y.target + group_value + self.suffix[n]

    def _dfs(self, n: int, minutes: int, group_value: float, sessions: list, ids: list[str]) -> None:
        for i in range(n, len(self.items)):
            self.nodes += 1
            if self.nodes > _NODE_LIMIT:
                return
            if len(self.best) >= self.keep and self._bound(i, minutes, group_value) <= self.best[0][0]:
                return
            c = self.items[i]
            g = c.group
            if minutes + g.minutes > self.cap or any(s.overlaps(t) for s in sessions for t in g.sessions):
                continue
            ids.append(g.id)
            self._offer(minutes + g.minutes, group_value + c.value, ids)
            self._dfs(i + 1, minutes + g.minutes, group_value + c.value, sessions + list(g.sessions), ids)
            ids.pop()


def _diverse(ranked: list[tuple[float, tuple[str, ...]]], fixed: set[str], k: int) -> list[tuple[str, ...]]:
    """Best first, skipping sets that contain, or are contained in, or mostly repeat a chosen one."""
    chosen: list[tuple[str, ...]] = []
    for strict in (True, False):
        for _, ids in ranked:
            if len(chosen) >= k:
                return chosen
            if ids in chosen:
                continue
            core = set(ids) - fixed
            if strict and any(_similar(core, set(c) - fixed) for c in chosen):
                continue
            chosen.append(ids)
    return chosen


def _similar(a: set[str], b: set[str]) -> bool:
    if a <= b or b <= a:
        return True
    return len(a & b) / len(a | b) >= 0.5


def recommend(problem: Problem, person_id: str, assignments_of_others: Assignments, k: int = 3) -> list[Option]:
    """The best `k` feasible, diverse sets of groups for `person_id`, everyone else fixed.

    Ranked by exact marginal objective (FORMAT.md). Each set respects every
    hard rule given `assignments_of_others` (the person's own entry there is
    ignored) and contains the person's pinned groups, and those current groups that would fall
    below their minimum size without the person (a note says so). When fewer than `k`
    feasible sets exist, sets whose group would still be below its minimum
    size are added last with `feasible=False` and a note saying how many
    members are missing.
    """
    y = problem.people[person_id]
    others = {pid: gids for pid, gids in assignments_of_others.items() if pid != person_id}
    candidates, count = _candidates(problem, y, others)
    fixed = [problem.groups[gid] for gid in dict.fromkeys(y.pinned)]
    kept = _kept_current(problem, y, candidates, fixed)
    fixed += kept
    fixed_ids = {g.id for g in fixed}
    usable = [c for c in candidates if c.short == 0 and c.group.id not in fixed_ids]
    ranked = _Search(problem, y, usable, fixed, keep=max(12, 4 * k)).run()
    chosen = _diverse(ranked, fixed_ids, k)
    options = [_option(problem, y, ids, count, True, kept) for ids in chosen]
    if len(options) < k:
        short = [c for c in candidates if c.short > 0 and c.group.id not in fixed_ids
                 and not any(s.overlaps(t) for f in fixed for s in f.sessions for t in c.group.sessions)
                 and sum(f.minutes for f in fixed) + c.group.minutes <= y.max_hours * 60 + 1e-6]
        extra = [_option(problem, y, tuple(g.id for g in fixed) + (c.group.id,), count, False, kept)
                 for c in short]
        extra.sort(key=lambda o: (-o.marginal_objective, o.groups))
        options += extra[: k - len(options)]
    feasible = sorted((o for o in options if o.feasible), key=lambda o: (-o.marginal_objective, o.groups))
    return feasible + [o for o in options if not o.feasible]


def _kept_current(problem: Problem, y: YoungPerson, candidates: list[_Candidate], fixed: list[Group]) -> list[Group]:
    """The person's current (not pinned) groups that would fall below their minimum size without them.

    Leaving such a group breaks rule 7 for its other members, so every feasible option keeps it,
    like a pinned one; only groups that still fit beside the pinned ones (time, hours) can be kept.
    """
    usable = {c.group.id: c for c in candidates if c.short == 0}
    kept: list[Group] = []
    minutes = sum(g.minutes for g in fixed)
    for gid in dict.fromkeys(y.current):
        c = usable.get(gid)
        if c is None or gid in y.pinned or c.exempt or not 0 < c.others < c.group.min_size:
            continue
        g = c.group
        if (minutes + g.minutes > y.max_hours * 60 + 1e-6
                or any(s.overlaps(t) for f in fixed + kept for s in f.sessions for t in g.sessions)):
            continue
        kept.append(g)
        minutes += g.minutes
    return kept


def _option(problem: Problem, y: YoungPerson, ids: tuple[str, ...], count: Counter, feasible: bool,
            kept: list[Group]) -> Option:
    groups = [problem.groups[gid] for gid in ids]
    hours = sum(g.minutes for g in groups) / 60.0
    facts = [describe_group(problem, y, g) for g in groups]
    served = sorted({c for f in facts for c in f["needs_served"]}, key=category_label)
    missing = sorted(y.needs - set(served), key=category_label)
    delta = marginal_objective(problem, y.id, ids)
    lines = [f"{f['text']}; {count[f['group']]} von {problem.groups[f['group']].seats} Plätzen belegt"
             for f in facts]
    lines.append(f"Stunden: {format_hours(hours)} von {format_hours(y.target)} Zielstunden "
                 f"(Maximum {format_hours(y.max_hours)})")
    lines.append(f"Bedarfe abgedeckt: {labels(served)}" + (f"; offen: {labels(missing)}" if missing else ""))
    wishes = [g.id for g in groups if g.id in y.preferred]
    if wishes:
        lines.append(f"Wunschgruppe: {', '.join(wishes)}")
    notes = []
    for g in groups:
        if count[g.id] < g.min_size <= count[g.id] + 1 and g.id not in y.pinned and g not in kept:
            notes.append(f"{g.id} erreicht mit dieser Person die Mindestgröße von {g.min_size}")
        elif count[g.id] + 1 < g.min_size and not feasible:
            missing_n = g.min_size - count[g.id] - 1
            notes.append(f"{g.id} startet erst mit {g.min_size} Teilnehmenden: es fehlen noch {missing_n} weitere")
    for g in kept:
        notes.append(f"{g.id} bleibt Teil jedes Vorschlags: ohne diese Person fiele die Gruppe unter ihre "
                     f"Mindestgröße von {g.min_size} ({count[g.id]} weitere Teilnehmende)")
    left = [gid for gid in y.current if gid not in ids]
    if left:
        notes.append(f"Bisherige Gruppe(n) würden verlassen: {', '.join(left)}")
    summary = (f"{' + '.join(ids)}: {format_hours(hours)} von {format_hours(y.target)} Zielstunden, "
               f"Zielwert {'+' if delta >= 0 else ''}{german_number(delta)}")
    if not feasible:
        summary += " (nur wenn weitere Teilnehmende dazukommen)"
    return Option(groups=ids, marginal_objective=delta, hours=hours, target=y.target, max_hours=y.max_hours,
                  needs_served=served, km={f["group"]: f["km"] for f in facts}, feasible=feasible,
                  summary=summary, lines=lines + notes, notes=notes)
