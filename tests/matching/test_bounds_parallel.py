"""Proven bounds stay upper bounds of the exact optimum; components solved side by side stay exact."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from marketplace.matching import parse_problem
from marketplace.matching.lagrange import Lagrangian
from marketplace.matching.problem import eligible_groups
from marketplace.matching.scope import Scope
from marketplace.matching.solution import Status, evaluate, solution_to_json
from marketplace.matching.solve import SolveOptions, solve

from .conftest import at, make_problem, verify
from .test_properties import brute_force, tiny_problems


def _free_part(problem, candidates):
    """The objective of the people no model decides (no eligible group): a constant."""
    return evaluate(problem, {}, only=[p for p in problem.people if not candidates.get(p)]).objective


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_lagrangian_bound_is_at_least_the_exhaustive_optimum(raw):
    problem = parse_problem(raw)
    best = brute_force(problem)
    if best is None:
        return
    candidates = {p: g for p, g in eligible_groups(problem).items() if g}
    if not candidates:
        return
    free = _free_part(problem, eligible_groups(problem))
    lag = Lagrangian(Scope(problem, candidates))
    lag.seat_prices(1.0, iterations=40)
    assert lag.bound() + free >= best - 1e-6
    assert lag.stats["lagrange_iterations"] >= 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_solve_bound_is_at_least_the_exhaustive_optimum(raw):
    problem = parse_problem(raw)
    best = brute_force(problem)
    sol = solve(problem, SolveOptions(time_limit_s=10, batch_pairs=1))  # every component on its own
    if best is None:
        assert sol.status is Status.INFEASIBLE
        return
    assert sol.bound is not None and sol.bound >= best - 1e-6
    assert sol.objective <= best + 1e-6
    verify(raw, solution_to_json(sol))


def _districts(n: int) -> dict:
    """`n` far-apart districts, each with a few groups and more people than seats."""
    groups, people = [], []
    for d in range(n):
        for k in range(3):
            groups.append({"location": at(300 * d + k), "seats": 3, "min_size": 2,
                           "sessions": [{"day": ["mon", "tue", "wed"][k], "start": "15:00", "end": "17:00"}]})
        for k in range(8):
            people.append({"home": at(300 * d + k % 3, k % 2), "group_hours": {"target": 4, "max": 4},
                           "priority": 1 + k % 3})
    return make_problem(groups, people)


def test_components_side_by_side_are_optimal_and_verified():
    raw = _districts(5)
    problem = parse_problem(raw)
    seen = []
    sol = solve(problem, SolveOptions(time_limit_s=20, batch_pairs=1, workers=2),
                progress=lambda *a: seen.append(a))
    one = solve(problem, SolveOptions(time_limit_s=20, deterministic=True))
    assert sol.stats["components"] == 5
    assert sol.status is Status.OPTIMAL and one.status is Status.OPTIMAL
    assert abs(sol.objective - one.objective) <= 1e-6
    assert sol.bound >= sol.objective
    for _, objective, bound in seen:
        assert bound >= objective - 1e-6
    verify(raw, solution_to_json(sol))


def test_component_gap_stops_early_but_reports_a_valid_bound():
    raw = _districts(3)
    problem = parse_problem(raw)
    exact = solve(problem, SolveOptions(time_limit_s=20, deterministic=True))
    sol = solve(problem, SolveOptions(time_limit_s=20, batch_pairs=1, component_gap=0.5))
    assert sol.bound >= exact.objective - 1e-6
    assert sol.objective <= exact.objective + 1e-6
    verify(raw, solution_to_json(sol))


def test_lagrangian_bound_tightens_when_seats_are_scarce():
    """Ten people want the one seat of a group: prices must bring the bound near one placement."""
    raw = make_problem([{"seats": 1, "min_size": 1}],
                       [{"home": at(0), "group_hours": {"target": 2, "max": 2}} for _ in range(10)])
    problem = parse_problem(raw)
    candidates = {p: g for p, g in eligible_groups(problem).items() if g}
    exact = solve(problem, SolveOptions(time_limit_s=10, deterministic=True))
    lag = Lagrangian(Scope(problem, candidates))
    lag.seat_prices(2.0, target=exact.objective)
    assert exact.objective - 1e-6 <= lag.bound() <= 1.05 * exact.objective
    assert lag.stats["lagrange_first"] > 5 * exact.objective  # at zero prices all ten were placed


def test_lns_windows_keep_current_groups_in_pruned_lists():
    from marketplace.matching.lns import _pruned, _with_current

    raw = make_problem([{"location": at(k / 2)} for k in range(12)], [{"home": at(0), "current": ["G12"]}],
                       change=0)
    problem = parse_problem(raw)
    candidates = {p: g for p, g in eligible_groups(problem).items() if g}
    pool = _pruned(Scope(problem, candidates), {"Y1": ("G12",)}, keep=3)
    assert "G12" in pool["Y1"] and len(pool["Y1"]) == 4
    assert pool["Y1"][:3] == ["G1", "G2", "G3"]  # the nearest (the worth most on their own)
    assert _with_current(["G1"], ("G5",)) == ["G1", "G5"]


def test_cancel_while_components_run_side_by_side_keeps_a_verified_solution():
    import threading

    raw = _districts(6)
    cancel = threading.Event()
    sol = solve(parse_problem(raw), SolveOptions(time_limit_s=20, batch_pairs=1, workers=2),
                progress=lambda *a: cancel.set(), cancel=cancel)
    assert sol.status in (Status.FEASIBLE, Status.OPTIMAL)
    assert sol.bound is not None and sol.bound >= sol.objective
    verify(raw, solution_to_json(sol))
