"""Hypothesis: on tiny random problems the engine's optimum equals exhaustive search."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.matching import parse_problem
from marketplace.matching.problem import ineligibility, sessions_overlap
from marketplace.matching.solution import Status, evaluate, solution_to_json, violations
from marketplace.matching.solve import SolveOptions, solve

from .conftest import at, make_problem, verify

DAYS = ("mon", "tue")
WINDOWS = [{"day": "mon", "start": "14:00", "end": "18:00"}, {"day": "tue", "start": "15:00", "end": "17:30"}]
TIMES = ["14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00", "17:30", "18:00"]


@st.composite
def sessions(draw):
    out = []
    for day in draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=2, unique=True)):
        start = draw(st.integers(0, len(TIMES) - 3))
        end = draw(st.integers(start + 1, min(start + 4, len(TIMES) - 1)))
        out.append({"day": day, "start": TIMES[start], "end": TIMES[end]})
    return out


@st.composite
def tiny_problems(draw):
    n_groups = draw(st.integers(1, 4))
    n_people = draw(st.integers(1, 4))
    gids = [f"G{n + 1}" for n in range(n_groups)]
    pids = [f"Y{n + 1}" for n in range(n_people)]
    groups = []
    for _ in gids:
        seats = draw(st.integers(1, 3))
        groups.append({
            "provider": draw(st.sampled_from(["P1", "P2"])), "location": at(draw(st.integers(0, 12))),
            "seats": seats, "min_size": draw(st.sampled_from([1, 1, seats])),
            "categories": draw(st.lists(st.sampled_from("ab"), min_size=1, max_size=2, unique=True)),
            "age_min": draw(st.sampled_from([None, None, 10, 12])),
            "age_max": draw(st.sampled_from([None, None, 12, 14])),
            "genders": draw(st.sampled_from([None, None, None, ["f"], ["m", "d"]])),
            "sessions": draw(sessions()),
            "offset_rate": draw(st.sampled_from([0, 15.5])),
            "open_for_new": draw(st.sampled_from([True, True, True, False])),
        })
    people = []
    for _ in pids:
        target = draw(st.sampled_from([0, 1, 1.6, 2, 3, 4]))
        current = draw(st.lists(st.sampled_from(gids), max_size=2, unique=True))
        people.append({
            "lead_provider": draw(st.sampled_from(["P1", "P2"])), "age": draw(st.sampled_from([11, 12, 13])),
            "gender": draw(st.sampled_from(["f", "m", "f", None])), "home": at(draw(st.integers(0, 12))),
            "max_travel_km": draw(st.sampled_from([8, 15, 25])),
            "group_hours": {"target": target, "max": target + draw(st.sampled_from([0, 1, 2]))},
            "needs": draw(st.lists(st.sampled_from("ab"), min_size=1, max_size=2, unique=True)),
            "available": draw(st.sampled_from([None, None, WINDOWS])),
            "priority": draw(st.integers(1, 3)), "current": current,
            "pinned": draw(st.sampled_from([[], [], current[:1]])),
            "preferred_groups": draw(st.lists(st.sampled_from(gids), max_size=1)),
            "excluded_groups": draw(st.sampled_from([[], [], [gids[0]]])),
            "avoid_with": draw(st.lists(st.sampled_from(pids), max_size=1)),
        })
    weights = {name: draw(st.sampled_from(values)) for name, values in {
        "placed": [0, 500, 500], "hours": [0, 1000, 1000], "need_match": [0, 50], "preferred": [0, 100],
        "km": [0, 10, 10, 200], "change": [0, 300], "offset_eur": [0, 5]}.items()}
    return make_problem(groups, people, **weights)


def feasible_assignments(problem):
    """Every assignment that keeps all rules (tiny problems only)."""
    options = []
    for pid, y in problem.people.items():
        eligible = [gid for gid, g in problem.groups.items()
                    if ineligibility(y, g) is None and (g.open_for_new or gid in y.current)]
        subsets = [c for k in range(len(eligible) + 1) for c in itertools.combinations(eligible, k)
                   if set(y.pinned) <= set(c) and _personal_rules_hold(problem, y, c)]
        options.append((pid, subsets))
    for combo in itertools.product(*(subsets for _, subsets in options)):
        assignment = {pid: c for (pid, _), c in zip(options, combo, strict=True) if c}
        if not violations(problem, assignment):
            yield assignment


def brute_force(problem):
    """Best objective over all feasible assignments, or None when none exists."""
    return max((evaluate(problem, a).objective for a in feasible_assignments(problem)), default=None)


def _personal_rules_hold(problem, y, groups):
    """Rules 3 and 4 for one person's set of groups (a cheap prefilter)."""
    chosen = [problem.groups[g] for g in groups]
    if sum(g.hours for g in chosen) > y.max_hours + 1e-9:
        return False
    return not any(sessions_overlap(a, b) for n, a in enumerate(chosen) for b in chosen[n + 1:])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_optimum_equals_exhaustive_search(raw):
    problem = parse_problem(raw)
    best = brute_force(problem)
    sol = solve(problem, SolveOptions(time_limit_s=10, deterministic=True))
    if best is None:
        assert sol.status is Status.INFEASIBLE
        return
    assert sol.status is Status.OPTIMAL, sol.errors
    assert abs(sol.objective - best) <= 0.05
    verify(raw, solution_to_json(sol))
