"""The objective of FORMAT.md as named, integer-scaled CP-SAT terms.

Every term is a linear expression in units of 1/scale objective points, so a
run can read each term's contribution. Real coefficients (distances, hours
times offset rates) are rounded to the nearest unit; `evaluate` always
recomputes the exact objective of the chosen assignment.

Terms per person i and group g in A(i):
- placed:     p(i) * w.placed * [h(i) > 0]
- hours:      p(i) * w.hours * min(h(i), target(i)), via covered quarter hours c(i)
- need_match, preferred, km, offset_eur: per assigned pair
- change:     -w.change * |current(i) minus A(i)| = constant + w.change per kept current group
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from .problem import Problem, haversine_km, memo

if TYPE_CHECKING:
    from .model import MatchModel

PAIR_TERMS = ("need_match", "preferred", "km", "offset_eur", "change")


def choose_scale(problem: Problem, people: list[str]) -> float:
    """Units per objective point: 100 unless that risks overflowing int64 sums."""
    w = problem.weights
    biggest = 1.0
    for pid in people:
        y = problem.people[pid]
        biggest += y.priority * (w["placed"] + w["hours"] * y.target) + len(y.current) * w["change"]
    per_pair = w["need_match"] * 4 + w["preferred"] + w["km"] * 100 + w["offset_eur"] * 1e3
    biggest += len(people) * 50 * per_pair
    scale = 100
    while scale > 1e-6 and biggest * scale > 2**52:
        scale /= 10
    return scale


def pair_values(problem: Problem, pid: str, gid: str) -> dict[str, float]:
    """Exact value of each pair term for assigning person `pid` to group `gid`."""
    w, y, g = problem.weights, problem.people[pid], problem.groups[gid]
    offset = g.offset_rate * g.hours if g.provider != y.lead_provider else 0.0
    return {
        "need_match": w["need_match"] * len(y.needs & g.categories),
        "preferred": w["preferred"] * (gid in y.preferred),
        "km": -w["km"] * haversine_km(y.lat, y.lon, g.lat, g.lon),
        "offset_eur": -w["offset_eur"] * offset,
        "change": w["change"] * (gid in y.current),
    }


def pair_total(problem: Problem, pid: str, gid: str) -> float:
    """The sum of `pair_values`, memoised per problem (bounds, starts and windows ask for the same pairs)."""
    cache = memo(problem, "_pair_totals", dict)
    key = (pid, gid)
    value = cache.get(key)
    if value is None:
        value = cache[key] = sum(pair_values(problem, pid, gid).values())
    return value


def build_objective(m: MatchModel) -> dict[str, list[tuple[int, object]]]:
    """Named terms as (integer coefficient, variable) lists; maximises their sum.

    Also sets `m.offset`, the exact constant part (lost current placements
    counted as if all were dropped), so model value / scale + offset is the
    objective of the free people, and `m.slack`, the most by which the exact
    objective of an assignment can exceed that rounded model value.
    """
    w, s = m.problem.weights, m.scale
    terms: dict[str, list[tuple[int, object]]] = {name: [] for name in
                                                   ("placed", "hours", *PAIR_TERMS)}
    m.offset = 0.0
    errors: dict[int, float] = {}  # per variable: exact coefficient minus rounded one, in points

    def add(name: str, exact: float, var) -> None:
        c = round(s * exact)
        terms[name].append((c, var))
        errors[var.index] = errors.get(var.index, 0.0) + exact - c / s

    for pid in m.scope.people:
        y = m.problem.people[pid]
        m.offset -= w["change"] * len(set(y.current))
        add("placed", y.priority * w["placed"], m.placed[pid])
        whole_quarters = math.floor(4 * y.target + 1e-9)
        add("hours", y.priority * w["hours"] / 4, m.covered[pid])
        if pid in m.reached:  # the fraction of target beyond whole quarter hours
            add("hours", y.priority * w["hours"] * (y.target - whole_quarters / 4), m.reached[pid])
        for gid in m.scope.candidates[pid]:
            for name, value in pair_values(m.problem, pid, gid).items():
                if value:
                    add(name, value, m.x[pid, gid])
    caps = {var.index: cap for pid, cap in m.cover_cap.items() for var in (m.covered[pid],)}
    # How much the exact objective of any assignment can exceed its rounded model value: added to
    # every bound so that it bounds the exact FORMAT.md objective (a few points on millions).
    m.slack = sum(max(0.0, e) * caps.get(index, 1) for index, e in errors.items()) * (1 + 1e-9) + 1e-6
    total: dict[int, list] = {}
    for name in terms:
        for c, v in terms[name]:
            if c:
                entry = total.setdefault(v.index, [v, 0])
                entry[1] += c
    entries = list(total.values())
    m.model.maximize(cp_model.LinearExpr.weighted_sum([v for v, _ in entries], [c for _, c in entries]))
    return terms
