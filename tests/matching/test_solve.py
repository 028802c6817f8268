"""`solve`: statuses, components, warm starts, progress, cancellation, determinism."""

from __future__ import annotations

import json
import threading

from marketplace.matching import parse_problem
from marketplace.matching.solution import Status, solution_from_json, solution_to_json
from marketplace.matching.solve import SolveOptions, solve

from .conftest import EXAMPLES, at, make_problem, solve_raw, verify


def s1():
    return json.loads((EXAMPLES / "S-1.json").read_text())


def test_far_apart_districts_are_solved_as_separate_components():
    groups = [{"location": at(0)}, {"location": at(500)}]
    people = [{"home": at(0)}, {"home": at(500)}, {"home": at(250)}]
    sol, _ = solve_raw(make_problem(groups, people))
    assert sol.status is Status.OPTIMAL
    assert sol.stats["components"] >= 1
    assert [u.young_person for u in sol.unmatched] == ["Y3"]
    assert sol.unmatched[0].reasons and all(isinstance(r, str) for r in sol.unmatched[0].reasons)


def test_nobody_placeable_is_optimal_and_empty():
    sol, _ = solve_raw(make_problem([{"categories": ["b"]}], [{}]))
    assert sol.status is Status.OPTIMAL and not sol.assignments and sol.objective == 0


def test_solution_json_round_trip():
    sol, _ = solve_raw(s1())
    again = solution_from_json(json.loads(json.dumps(solution_to_json(sol))))
    assert again.assignments == sol.assignments and again.status is sol.status


def test_progress_reports_objective_and_bound():
    seen = []
    sol = solve(parse_problem(s1()), SolveOptions(time_limit_s=10), progress=lambda *a: seen.append(a))
    assert seen
    for elapsed, objective, bound in seen:
        assert elapsed >= 0 and bound >= objective - 1e-6
    assert sol.status is Status.OPTIMAL


def test_progress_through_the_set_model_reports_proven_bounds():
    seen = []
    problem = parse_problem(s1())
    sol = solve(problem, SolveOptions(time_limit_s=10, set_pairs=0), progress=lambda *a: seen.append(a))
    assert sol.status is Status.OPTIMAL and sol.stats.get("set_rounds")
    assert len(seen) >= 2  # after column generation rounds and the set model
    for _, objective, bound in seen:
        assert sol.objective - 1e-3 <= bound and objective <= bound + 1e-6


def test_cancel_before_start_still_returns_a_feasible_solution():
    cancel = threading.Event()
    cancel.set()
    raw = s1()
    sol = solve(parse_problem(raw), SolveOptions(time_limit_s=10), cancel=cancel)
    assert sol.status in (Status.FEASIBLE, Status.OPTIMAL)
    verify(raw, solution_to_json(sol))


def test_deterministic_runs_are_reproducible():
    problem = parse_problem(s1())
    opts = SolveOptions(time_limit_s=5, deterministic=True, seed=3)
    assert solve(problem, opts).assignments == solve(problem, opts).assignments


def test_deterministic_runs_are_reproducible_on_large_components_too():
    # The large-component path (relaxation, column generation, windows) counts steps and rounds, not seconds.
    raw = s1()
    problem = parse_problem(raw)
    opts = SolveOptions(time_limit_s=6, deterministic=True, seed=3, lns_pairs=100)
    one, two = solve(problem, opts), solve(problem, opts)
    assert one.stats["lns_iterations"] >= 1 and one.stats.get("plan_start") is not None
    assert one.assignments == two.assignments and one.bound == two.bound
    verify(raw, solution_to_json(one))


def test_warm_start_from_current_is_never_worse():
    raw = json.loads((EXAMPLES / "S-1-rebalance.json").read_text())
    sol = solve(parse_problem(raw), SolveOptions(time_limit_s=0.0))
    assert sol.status is Status.FEASIBLE
    assert sol.stats["warm_start"] in ("greedy", "current", "pinned")
    verify(raw, solution_to_json(sol))


def test_large_components_use_lns_and_stay_feasible_and_never_worse_than_the_start():
    raw = s1()
    problem = parse_problem(raw)
    baseline = solve(problem, SolveOptions(time_limit_s=0.0))
    sol = solve(problem, SolveOptions(time_limit_s=4, lns_pairs=100, seed=2))
    assert sol.status is Status.FEASIBLE and sol.stats["lns_iterations"] >= 1
    assert sol.objective >= baseline.objective - 1e-6
    assert sol.bound >= 558337.4531 - 1  # the proven optimum of S-1 (expected.json)
    verify(raw, solution_to_json(sol))


def test_lp_and_trivial_bounds_are_upper_bounds():
    from marketplace.matching.bounds import lp_bound, trivial_bound
    from marketplace.matching.problem import eligible_groups
    from marketplace.matching.scope import Scope

    problem = parse_problem(s1())
    scope = Scope(problem, {p: g for p, g in eligible_groups(problem).items() if g})
    lp = lp_bound(scope, time_limit=30)
    optimum = 558337.4531 - sum(300 * len(y.current) for y in problem.people.values() if y.id not in scope.candidates)
    assert optimum - 1e-3 <= lp <= trivial_bound(scope) + 1e-6


def test_progress_of_lns_reports_totals():
    seen = []
    problem = parse_problem(s1())
    solve(problem, SolveOptions(time_limit_s=3, lns_pairs=100), progress=lambda *a: seen.append(a))
    final = solve(problem, SolveOptions(time_limit_s=0.0)).objective
    for _, objective, bound in seen:
        assert bound >= objective - 1e-6 and objective >= final - 1e-6
