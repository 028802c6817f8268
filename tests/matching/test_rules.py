"""Every hard rule in a pair of tiny tests: one where it binds, one where it does not."""

from __future__ import annotations

import pytest

from marketplace.matching import parse_problem
from marketplace.matching.problem import ineligibility
from marketplace.matching.solution import Status, violations

from .conftest import at, groups_of, make_problem, session, solve_raw

TWO_HOURS = {"target": 4, "max": 4}


# -- rule 1: eligibility ------------------------------------------------------

@pytest.mark.parametrize(("group", "person", "code"), [
    ({"age_min": 13}, {"age": 12}, "too_young"),
    ({"age_max": 11}, {"age": 12}, "too_old"),
    ({"genders": ["m", "d"]}, {"gender": "f"}, "gender"),
    ({"genders": ["f"]}, {"gender": None}, "gender"),
    ({"categories": ["b"]}, {"needs": ["a"]}, "needs"),
    ({"location": at(12)}, {"max_travel_km": 10}, "distance"),
    ({}, {"excluded_groups": ["G1"]}, "excluded"),
    ({"sessions": [session("mon", "15:00", "17:00")]},
     {"available": [session("mon", "15:00", "16:00"), session("mon", "16:00", "18:00")]}, "times"),
])
def test_eligibility_binds(group, person, code):
    raw = make_problem([group], [person])
    problem = parse_problem(raw)
    assert ineligibility(problem.people["Y1"], problem.groups["G1"]) == code
    sol, _ = solve_raw(raw)
    assert sol.status is Status.OPTIMAL and not sol.assignments


def test_eligibility_does_not_bind():
    raw = make_problem([{"age_min": 12, "age_max": 12, "genders": ["f"], "location": at(9.9)}],
                       [{"available": [session("mon", "14:00", "18:00")]}])
    problem = parse_problem(raw)
    assert ineligibility(problem.people["Y1"], problem.groups["G1"]) is None
    sol, _ = solve_raw(raw)
    assert groups_of(sol, "Y1") == {"G1"}


# -- rule 2: seats -------------------------------------------------------------

def test_seats_bind():
    sol, _ = solve_raw(make_problem([{"seats": 1}], [{}, {}]))
    assert sum(len(g) for g in sol.assignments.values()) == 1


def test_seats_do_not_bind():
    sol, _ = solve_raw(make_problem([{"seats": 2}], [{}, {}]))
    assert groups_of(sol, "Y1") == groups_of(sol, "Y2") == {"G1"}


# -- rule 3: no overlap ---------------------------------------------------------

def test_no_overlap_binds():
    raw = make_problem([{}, {"sessions": [session("mon", "16:00", "18:00")]}], [{"group_hours": TWO_HOURS}])
    sol, _ = solve_raw(raw)
    assert len(groups_of(sol, "Y1")) == 1


def test_no_overlap_does_not_bind():
    raw = make_problem([{}, {"sessions": [session("mon", "17:00", "19:00")]}], [{"group_hours": TWO_HOURS}])
    sol, _ = solve_raw(raw)
    assert groups_of(sol, "Y1") == {"G1", "G2"}


# -- rule 4: hours ---------------------------------------------------------------

def test_hours_bind():
    raw = make_problem([{}, {"sessions": [session("tue")]}], [{"group_hours": {"target": 2, "max": 3.75}}])
    sol, _ = solve_raw(raw)
    assert len(groups_of(sol, "Y1")) == 1


def test_hours_do_not_bind():
    raw = make_problem([{}, {"sessions": [session("tue")]}], [{"group_hours": {"target": 4, "max": 4}}])
    sol, _ = solve_raw(raw)
    assert groups_of(sol, "Y1") == {"G1", "G2"}


# -- rule 5: conflicts -----------------------------------------------------------

def test_conflicts_bind():
    sol, _ = solve_raw(make_problem([{}], [{"avoid_with": ["Y2"]}, {}]))
    assert len(sol.assignments) == 1


def test_conflicts_bind_the_other_way_round_and_in_different_groups_are_fine():
    raw = make_problem([{}, {"sessions": [session("tue")]}],
                       [{}, {"avoid_with": ["Y1"], "group_hours": TWO_HOURS}])
    sol, _ = solve_raw(raw, **{"time_limit_s": 5.0})
    assert not groups_of(sol, "Y1") & groups_of(sol, "Y2")
    assert groups_of(sol, "Y1") and groups_of(sol, "Y2")


def test_conflict_with_oneself_blocks_every_group_like_verify():
    sol, _ = solve_raw(make_problem([{}], [{"avoid_with": ["Y1"]}]))
    assert not sol.assignments


def test_conflicts_do_not_bind():
    sol, _ = solve_raw(make_problem([{}], [{}, {}]))
    assert len(sol.assignments) == 2


# -- rule 6: closed groups ---------------------------------------------------------

def test_closed_group_binds():
    sol, _ = solve_raw(make_problem([{"open_for_new": False}], [{}]))
    assert not sol.assignments


def test_closed_group_keeps_current_members():
    sol, _ = solve_raw(make_problem([{"open_for_new": False}], [{"current": ["G1"]}, {}]))
    assert groups_of(sol, "Y1") == {"G1"} and not groups_of(sol, "Y2")


# -- rule 7: minimum size ----------------------------------------------------------

def test_min_size_binds():
    sol, _ = solve_raw(make_problem([{"min_size": 3}], [{}, {}]))
    assert not sol.assignments


def test_min_size_does_not_bind():
    sol, _ = solve_raw(make_problem([{"min_size": 3}], [{}, {}, {}]))
    assert len(sol.assignments) == 3


def test_min_size_is_waived_for_groups_with_a_pinned_member():
    sol, _ = solve_raw(make_problem([{"min_size": 3}], [{"current": ["G1"], "pinned": ["G1"]}]))
    assert groups_of(sol, "Y1") == {"G1"}


# -- rule 8: pinned -----------------------------------------------------------------

def test_pinned_binds():
    raw = make_problem([{"location": at(5)}, {"location": at(0)}],
                       [{"current": ["G1"], "pinned": ["G1"]}], change=0)
    sol, _ = solve_raw(raw)
    assert groups_of(sol, "Y1") == {"G1"}


def test_pinned_does_not_bind():
    raw = make_problem([{"location": at(5)}, {"location": at(0)}], [{"current": ["G1"]}], change=0)
    sol, _ = solve_raw(raw)
    assert groups_of(sol, "Y1") == {"G2"}


def test_pinned_placements_that_break_a_rule_make_the_problem_infeasible():
    raw = make_problem([{"seats": 1}], [{"current": ["G1"], "pinned": ["G1"]},
                                        {"current": ["G1"], "pinned": ["G1"]}])
    sol, _ = solve_raw(raw)
    assert sol.status is Status.INFEASIBLE
    assert any("Plätzen" in e for e in sol.errors)


def test_pinned_to_a_group_no_longer_eligible_is_infeasible():
    raw = make_problem([{"age_max": 11}], [{"current": ["G1"], "pinned": ["G1"]}])
    sol, _ = solve_raw(raw)
    assert sol.status is Status.INFEASIBLE
    assert any("nicht geeignet" in e for e in sol.errors)


# -- the independent checker itself -------------------------------------------------

def test_violations_names_each_rule():
    raw = make_problem([{"seats": 1, "min_size": 1}, {"open_for_new": False}],
                       [{"avoid_with": ["Y2"], "group_hours": {"target": 1, "max": 1}}, {}])
    problem = parse_problem(raw)
    found = violations(problem, {"Y1": ("G1", "G2"), "Y2": ("G1",)})
    text = "\n".join(found)
    assert "Plätzen" in text and "überschneiden" in text and "Maximum" in text
    assert "geschlossene" in text and "getrennt" in text
