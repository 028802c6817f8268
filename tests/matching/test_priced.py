"""The price-guided start (priced.py) at the seat prices of the Lagrangian relaxation (lagrange.Lagrangian)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from marketplace.matching import parse_problem
from marketplace.matching.lagrange import Lagrangian
from marketplace.matching.priced import priced
from marketplace.matching.problem import eligible_groups
from marketplace.matching.scope import Scope
from marketplace.matching.solution import evaluate, solution_to_json, violations
from marketplace.matching.solve import SolveOptions, solve

from .conftest import at, make_problem, verify
from .test_properties import tiny_problems


def _scope(problem):
    return Scope(problem, {p: g for p, g in eligible_groups(problem).items() if g})


def _prices(scope) -> dict[str, float]:
    lag = Lagrangian(scope)
    lag.seat_prices(0.5)
    return lag.price_map()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_priced_start_keeps_every_rule_at_any_prices(raw):
    problem = parse_problem(raw)
    if violations(problem, {p: y.pinned for p, y in problem.people.items() if y.pinned}):
        return  # the pinned placements alone break a rule: the solver answers INFEASIBLE
    scope = _scope(problem)
    for prices in ({}, {g: 300.0 * n for n, g in enumerate(problem.groups)}, _prices(scope)
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
    lag.seat_prices(1.0, iterations=15)
    chosen = lag.chosen()
    assert set(chosen) <= set(scope.candidates)
    for pid, gids in chosen.items():
        assert set(gids) <= set(scope.candidates[pid]) and not set(gids) & set(problem.people[pid].pinned)
        assert sum(problem.groups[g].hours for g in gids) <= problem.people[pid].max_hours + 1e-9
    everybody = {pid: list(gids) for pid, gids in scope.candidates.items()}  # the worst case: all of them
    for first in (chosen, everybody):
        built = priced(problem, scope.candidates, lag.price_map(), first)
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
    starts = (sol.stats["priced_start"], sol.stats["plan_start"], sol.stats["greedy_start"])
    assert sol.objective >= max(starts) - 0.01  # the stats have 2 decimals
    assert sol.bound is not None and sol.bound >= sol.objective
    verify(raw, solution_to_json(sol))
    exact = solve(problem, SolveOptions(time_limit_s=20))
    assert sol.bound >= exact.objective - 1e-6  # the column generation's bound stays an upper bound
    assert evaluate(problem, dict(sol.assignments)).objective == sol.objective
