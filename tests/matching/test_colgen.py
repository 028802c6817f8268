"""Column generation (colgen.py): a proven bound, and a plan of feasible sets per person."""

from __future__ import annotations

import threading

from hypothesis import HealthCheck, given, settings

from marketplace.matching import parse_problem
from marketplace.matching.colgen import ColumnGeneration
from marketplace.matching.priced import priced
from marketplace.matching.problem import eligible_groups, sessions_overlap
from marketplace.matching.scope import Scope
from marketplace.matching.solution import evaluate, violations
from marketplace.matching.solve import SolveOptions, solve

from .conftest import at, make_problem
from .test_bounds_parallel import _free_part
from .test_properties import brute_force, tiny_problems


def _scope(problem):
    return Scope(problem, {p: g for p, g in eligible_groups(problem).items() if g})


def _generated(problem) -> ColumnGeneration:
    generation = ColumnGeneration(_scope(problem))
    generation.run(float("inf"), rounds=200)
    return generation


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_bound_is_at_least_the_exhaustive_optimum_and_the_plan_keeps_each_persons_rules(raw):
    problem = parse_problem(raw)
    best = brute_force(problem)
    scope = _scope(problem)
    if best is None or not scope.candidates:
        return
    generation = _generated(problem)
    free = _free_part(problem, eligible_groups(problem))
    assert generation.best + free >= best - 1e-6
    assert generation.lp <= generation.best + 1e-6 * max(1.0, abs(generation.best))
    for pid, gids in generation.plan().items():
        y = problem.people[pid]
        held = [problem.groups[g] for g in list(gids) + list(y.pinned)]
        assert set(gids) <= set(scope.candidates[pid]) and not set(gids) & set(y.pinned)
        assert sum(g.hours for g in held) <= y.max_hours + 1e-9
        assert not any(sessions_overlap(a, b) for n, a in enumerate(held) for b in held[n + 1:])


def _overlapping_day() -> dict:
    """Three groups at the same hour for everybody: the knapsack alone would take all three."""
    groups = [{"seats": 3, "min_size": 1, "location": at(east_km=k),
               "sessions": [{"day": "mon", "start": "15:00", "end": "17:00"}]} for k in range(3)]
    people = [{"home": at(east_km=1), "group_hours": {"target": 6, "max": 6}} for _ in range(3)]
    return make_problem(groups, people)


def test_overlaps_are_priced_exactly_so_the_bound_is_tight():
    problem = parse_problem(_overlapping_day())
    exact = solve(problem, SolveOptions(time_limit_s=10, deterministic=True))
    generation = _generated(problem)
    assert generation.converged
    assert exact.objective - 1e-6 <= generation.best <= exact.objective * (1 + 1e-4) + 1e-6


def _small_groups() -> dict:
    """Groups of minimum size 3 and more groups than the people can fill: the LP without the
    links x <= open spreads people thinly over partly opened groups."""
    groups = [{"seats": 6, "min_size": 3, "location": at(east_km=k % 3, north_km=k // 3),
               "sessions": [{"day": ["mon", "tue", "wed"][k % 3], "start": "15:00", "end": "17:00"}]}
              for k in range(6)]
    people = [{"home": at(east_km=n % 3, north_km=(n // 3) % 2), "max_travel_km": 4,
               "group_hours": {"target": 4, "max": 4}} for n in range(7)]
    return make_problem(groups, people)


def test_links_make_the_lp_tight_and_the_plan_is_built_into_valid_assignments():
    raw = _small_groups()
    problem = parse_problem(raw)
    exact = solve(problem, SolveOptions(time_limit_s=10, deterministic=True))
    generation = _generated(problem)
    assert generation.converged
    assert generation.best >= exact.objective - 1e-6
    # With the links x <= open the LP is tight here (without them it opens groups in part)...
    assert abs(generation.lp - exact.objective) <= 1e-6 * exact.objective
    assert generation.pair_rows
    # ... yet its solution is fractional, so the plan alone may break minimum sizes: the
    # construction the engine builds from it keeps every rule.
    built = priced(problem, _scope(problem).candidates, generation.seat_prices(), generation.plan())
    assert violations(problem, built) == []
    assert evaluate(problem, built).objective <= exact.objective + 1e-6


def test_generation_stops_when_asked():
    problem = parse_problem(_small_groups())
    generation = ColumnGeneration(_scope(problem))
    stop = threading.Event()
    stop.set()
    generation.run(float("inf"), stop=stop)
    assert generation.rounds == 0 and generation.plan() == {}
