"""Every objective term in a pair of tiny tests (it changes the result / it does not),
and `evaluate` agreeing with verify.py term by term."""

from __future__ import annotations

import json

import pytest

from marketplace.matching import parse_problem
from marketplace.matching.solution import TERMS, evaluate

from .conftest import EXAMPLES, VERIFY, at, groups_of, make_problem, session, solve_raw

LATER = session("mon", "16:00", "18:00")  # overlaps the default session: one of two


def test_placed_binds():
    raw = make_problem([{"location": at(8)}], [{}], placed=500, hours=0, need_match=0)
    sol, _ = solve_raw(raw)
    assert groups_of(sol, "Y1") == {"G1"}
    raw = make_problem([{"location": at(8)}], [{}], placed=0, hours=0, need_match=0)
    sol, _ = solve_raw(raw)
    assert not sol.assignments


def test_placed_does_not_bind_the_choice_between_groups():
    for placed in (0, 5000):
        sol, _ = solve_raw(make_problem([{"location": at(3)}, {"sessions": [LATER]}], [{}], placed=placed))
        assert groups_of(sol, "Y1") == {"G2"}
        assert sol.terms["placed"] == placed


def test_hours_bind():
    groups = [{"location": at(0)}, {"location": at(1), "sessions": [session("mon", "15:00", "18:00")]}]
    sol, _ = solve_raw(make_problem(groups, [{"group_hours": {"target": 3, "max": 3}}]))
    assert groups_of(sol, "Y1") == {"G2"}


def test_hours_beyond_target_do_not_count():
    groups = [{"location": at(0)}, {"location": at(1), "sessions": [session("mon", "15:00", "18:00")]}]
    sol, _ = solve_raw(make_problem(groups, [{"group_hours": {"target": 2, "max": 3}}]))
    assert groups_of(sol, "Y1") == {"G1"}
    assert sol.terms["hours"] == 2000


def test_fractional_target_counts_exactly():
    raw = make_problem([{"sessions": [session("mon", "15:00", "16:15")]}],
                       [{"group_hours": {"target": 1.1, "max": 2}}], km=0, need_match=0, placed=0)
    sol, _ = solve_raw(raw)
    assert sol.terms["hours"] == pytest.approx(1100)


def test_need_match_binds():
    groups = [{"location": at(3), "categories": ["a", "b"]}, {"sessions": [LATER]}]
    sol, _ = solve_raw(make_problem(groups, [{"needs": ["a", "b"]}]))
    assert groups_of(sol, "Y1") == {"G1"}
    sol, _ = solve_raw(make_problem(groups, [{"needs": ["a", "b"]}], need_match=0))
    assert groups_of(sol, "Y1") == {"G2"}


def test_need_match_does_not_bind_when_both_match_equally():
    groups = [{"location": at(3), "categories": ["a", "b"]}, {"sessions": [LATER], "categories": ["a", "b"]}]
    sol, _ = solve_raw(make_problem(groups, [{"needs": ["a", "b"]}], need_match=1000))
    assert groups_of(sol, "Y1") == {"G2"}


def test_preferred_binds():
    groups = [{"location": at(3)}, {"sessions": [LATER]}]
    sol, _ = solve_raw(make_problem(groups, [{"preferred_groups": ["G1"]}]))
    assert groups_of(sol, "Y1") == {"G1"}


def test_preferred_does_not_bind_against_a_large_detour():
    groups = [{"location": at(9)}, {"sessions": [LATER]}]
    sol, _ = solve_raw(make_problem(groups, [{"preferred_groups": ["G1"]}], preferred=50))
    assert groups_of(sol, "Y1") == {"G2"}


def test_km_binds():
    groups = [{"location": at(4)}, {"location": at(1), "sessions": [LATER]}]
    sol, _ = solve_raw(make_problem(groups, [{}]))
    assert groups_of(sol, "Y1") == {"G2"}
    assert sol.terms["km"] == pytest.approx(-10.0, abs=0.01)


def test_km_does_not_bind_when_weight_zero():
    groups = [{"location": at(4), "categories": ["a", "b"]}, {"location": at(1), "sessions": [LATER]}]
    sol, _ = solve_raw(make_problem(groups, [{"needs": ["a", "b"]}], km=0, need_match=1))
    assert groups_of(sol, "Y1") == {"G1"}


def test_offset_eur_binds():
    groups = [{"provider": "P2", "offset_rate": 20}, {"location": at(2), "sessions": [LATER]}]
    sol, _ = solve_raw(make_problem(groups, [{}], offset_eur=1))
    assert groups_of(sol, "Y1") == {"G2"}
    assert sol.terms["offset_eur"] == 0


def test_offset_eur_does_not_bind_within_the_lead_provider():
    groups = [{"provider": "P1", "offset_rate": 20}, {"location": at(2), "sessions": [LATER]}]
    sol, _ = solve_raw(make_problem(groups, [{}], offset_eur=1))
    assert groups_of(sol, "Y1") == {"G1"}


def test_change_binds():
    groups = [{"location": at(5)}, {"sessions": [LATER]}]
    sol, _ = solve_raw(make_problem(groups, [{"current": ["G1"]}]))
    assert groups_of(sol, "Y1") == {"G1"}
    assert sol.terms["change"] == 0


def test_change_does_not_bind_when_weight_zero():
    groups = [{"location": at(5)}, {"sessions": [LATER]}]
    sol, _ = solve_raw(make_problem(groups, [{"current": ["G1"]}], change=0))
    assert groups_of(sol, "Y1") == {"G2"}


def test_priority_multiplies_placed_and_hours():
    raw = make_problem([{"seats": 1}], [{"priority": 1}, {"priority": 3, "home": at(3)}])
    sol, _ = solve_raw(raw)
    assert groups_of(sol, "Y2") == {"G1"}


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json") if p.name != "expected.json"))
def test_evaluate_matches_verify_term_by_term(name):
    raw = json.loads((EXAMPLES / name).read_text())
    problem = parse_problem(raw)
    assignment = {pid: y.current for pid, y in problem.people.items() if y.current}
    if not assignment:  # some arbitrary eligible assignment, feasibility is irrelevant here
        groups = list(problem.groups)
        assignment = {pid: (groups[n % len(groups)],) for n, pid in enumerate(problem.people)}
    ev = evaluate(problem, assignment)
    solution = {"format": "marketplace-matching-solution/1",
                "assignments": [{"young_person": p, "group": g} for p, gs in assignment.items() for g in gs]}
    report = VERIFY.check(VERIFY.Problem(raw), solution)
    assert set(ev.terms) == set(TERMS)
    for term in TERMS:
        assert ev.terms[term] == pytest.approx(report["terms"][term], abs=1e-3)
    assert ev.objective == pytest.approx(report["objective"], abs=1e-3)
    for kpi in ("placed", "group_hours_covered", "group_hours_target", "mean_km_per_assignment",
                "groups_running"):
        assert ev.kpis[kpi] == pytest.approx(report[kpi])
