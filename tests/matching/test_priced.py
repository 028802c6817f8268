"""The price-guided start (priced.py) and the clique-refined Lagrangian bound (lagrange.Lagrangian)."""

from __future__ import annotations

import threading
import time

from hypothesis import HealthCheck, given, settings

from marketplace.matching import parse_problem
from marketplace.matching.lagrange import Lagrangian, seat_prices
from marketplace.matching.priced import priced
from marketplace.matching.problem import eligible_groups
from marketplace.matching.scope import Scope
from marketplace.matching.solution import evaluate, solution_to_json, violations
from marketplace.matching.solve import SolveOptions, solve

from .conftest import at, make_problem, verify
from .test_bounds_parallel import _free_part
from .test_properties import brute_force, tiny_problems


def _scope(problem):
    return Scope(problem, {p: g for p, g in eligible_groups(problem).items() if g})


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_priced_start_keeps_every_rule_at_any_prices(raw):
    problem = parse_problem(raw)
    if violations(problem, {p: y.pinned for p, y in problem.people.items() if y.pinned}):
        return  # the pinned placements alone break a rule: the solver answers INFEASIBLE
    scope = _scope(problem)
    for prices in ({}, {g: 300.0 * n for n, g in enumerate(problem.groups)}, seat_prices(scope, 0.5)[1]
                   if scope.candidates else {}):
        built = priced(problem, scope.candidates, prices)
        assert violations(problem, built) == []
        for pid, y in problem.people.items():
            assert set(y.pinned) <= set(built.get(pid, ()))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_construction_from_the_relaxations_choices_keeps_every_rule(raw):
    # The relaxation's choices may overfill groups, overlap in time and leave groups below their
    # minimum: the construction must still keep every rule, and everybody their pinned groups.
    problem = parse_problem(raw)
    if violations(problem, {p: y.pinned for p, y in problem.people.items() if y.pinned}):
        return
    scope = _scope(problem)
    if not scope.candidates:
        return
    lag = Lagrangian(scope)
    lag.refine(time.monotonic() + 1.0, iterations=15)
    chosen = lag.chosen()
    assert set(chosen) <= set(scope.candidates)
    for pid, gids in chosen.items():
        assert set(gids) <= set(scope.candidates[pid]) and not set(gids) & set(problem.people[pid].pinned)
        assert sum(problem.groups[g].hours for g in gids) <= problem.people[pid].max_hours + 1e-9
    everybody = {pid: list(gids) for pid, gids in scope.candidates.items()}  # the worst case: all of them
    for first in (chosen, everybody):
        built = priced(problem, scope.candidates, lag.refined_prices(), first)
        assert violations(problem, built) == []
        for pid, y in problem.people.items():
            assert set(y.pinned) <= set(built.get(pid, ()))


def test_construction_keeps_the_choices_that_fit():
    # Two groups with two seats each; three people choose G1 in the relaxation. The two it is worth
    # most to get it (nearest), the third takes G2 at price 0 (first come, Y1 would have taken G1).
    groups = [{"seats": 2}, {"seats": 2, "location": at(east_km=3)}]
    people = [{"home": at(east_km=1.2)}, {"home": at(east_km=0.1)}, {"home": at(east_km=0.2)}]
    problem = parse_problem(make_problem(groups, people))
    scope = _scope(problem)
    built = priced(problem, scope.candidates, {}, {"Y1": ["G1"], "Y2": ["G1"], "Y3": ["G1"]})
    assert built == {"Y1": ("G2",), "Y2": ("G1",), "Y3": ("G1",)}


def test_refinement_asked_to_stop_when_quiet_stops_before_its_deadline():
    problem = parse_problem(_crowded_town())
    lag = Lagrangian(_scope(problem))
    began = time.monotonic()
    lag.refine(time.monotonic() + 60.0, quiet=5, iterations=10**9)
    assert time.monotonic() - began < 30
    assert lag.refined is not None and lag.bound() < float("inf")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_clique_refined_bound_is_at_least_the_exhaustive_optimum(raw):
    problem = parse_problem(raw)
    best = brute_force(problem)
    scope = _scope(problem)
    if best is None or not scope.candidates:
        return
    lag = Lagrangian(scope)
    lag.seat_prices(0.5, iterations=20)
    lag.refine(time.monotonic() + 1.0, iterations=40)
    assert lag.bound() + _free_part(problem, eligible_groups(problem)) >= best - 1e-6


def _overlapping_day() -> dict:
    """Six groups at the same time on Monday (all overlap); four people want 6 hours each."""
    groups = [{"location": at(k / 4), "seats": 4, "min_size": 1,
               "sessions": [{"day": "mon", "start": "15:00", "end": "17:00"}]} for k in range(6)]
    people = [{"home": at(0), "group_hours": {"target": 6, "max": 6}} for _ in range(4)]
    return make_problem(groups, people)


def test_time_cliques_tighten_the_bound_where_groups_overlap():
    problem = parse_problem(_overlapping_day())
    scope = _scope(problem)
    exact = solve(problem, SolveOptions(time_limit_s=10, deterministic=True))
    plain = Lagrangian(scope)
    plain.seat_prices(1.0, target=exact.objective)
    refined = Lagrangian(scope)
    refined.seat_prices(0.5, target=exact.objective)
    refined.refine(time.monotonic() + 2.0, target=exact.objective)
    # Without the overlap rule each person "takes" three overlapping groups (6 hours); with the
    # clique multipliers the bound comes down to one group (2 hours) each.
    assert plain.bound() > 1.3 * exact.objective
    assert exact.objective - 1e-6 <= refined.bound() <= 1.05 * exact.objective


def test_refine_stops_when_asked():
    problem = parse_problem(_overlapping_day())
    lag = Lagrangian(_scope(problem))
    stop = threading.Event()
    stop.set()
    began = time.monotonic()
    lag.refine(time.monotonic() + 30.0, stop=stop)
    assert time.monotonic() - began < 10  # one step, not the 30 s deadline
    assert lag.stats["lagrange_iterations"] == 1


def _crowded_town() -> dict:
    """Many people, scarce seats, min sizes: greedy (first come) leaves groups below their minimum."""
    groups = [{"location": at(k % 5, k // 5), "seats": 4, "min_size": 3,
               "sessions": [{"day": ["mon", "tue", "wed", "thu"][k % 4], "start": "15:00", "end": "17:00"}]}
              for k in range(20)]
    people = [{"home": at(n % 5, (n // 5) % 4), "max_travel_km": 3, "group_hours": {"target": 4, "max": 4},
               "priority": 1 + n % 3} for n in range(60)]
    return make_problem(groups, people)


def test_large_components_start_from_the_priced_construction_when_it_is_better():
    raw = _crowded_town()
    problem = parse_problem(raw)
    sol = solve(problem, SolveOptions(time_limit_s=6, lns_pairs=50, seed=1))
    assert sol.stats.get("priced_start") is not None  # the large-component path built a priced start
    assert sol.stats.get("plan_start") is not None  # ... and one from the column generation's plan
    assert sol.objective >= max(sol.stats["priced_start"], sol.stats["plan_start"], sol.stats["greedy_start"]) - 0.01  # stats: 2 decimals
    assert sol.bound is not None and sol.bound >= sol.objective
    verify(raw, solution_to_json(sol))
    exact = solve(problem, SolveOptions(time_limit_s=20))
    assert sol.bound >= exact.objective - 1e-6  # the column generation's bound stays an upper bound
    assert evaluate(problem, dict(sol.assignments)).objective == sol.objective
