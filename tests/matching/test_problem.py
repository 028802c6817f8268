"""Parsing and validation: every input error at once, German, naming id and field."""

from __future__ import annotations

import json

import pytest

from marketplace.matching import ProblemError, load_problem, parse_problem
from marketplace.matching.problem import (
    Window,
    eligible_groups,
    haversine_km,
    ineligibility,
    problem_to_json,
    sessions_overlap,
)

from .conftest import EXAMPLES, VERIFY, make_problem, session

EXAMPLE_FILES = sorted(p for p in EXAMPLES.glob("*.json") if p.name != "expected.json")


def errors_of(raw) -> list[str]:
    with pytest.raises(ProblemError) as info:
        parse_problem(raw)
    return info.value.errors


def test_valid_problem_parses_with_defaults():
    raw = make_problem([{}], [{}])
    del raw["groups"][0]["min_size"], raw["groups"][0]["open_for_new"], raw["young_people"][0]["priority"]
    problem = parse_problem(raw)
    g, y = problem.groups["G1"], problem.people["Y1"]
    assert (g.min_size, g.open_for_new, y.priority) == (1, True, 1)
    assert g.sessions == (Window(0, 900, 1020),) and g.hours == 2.0
    assert problem.weights["placed"] == 500


def test_several_errors_are_reported_at_once():
    raw = make_problem([{"seats": 0, "sessions": [session("mon", "15:10", "16:00")]},
                        {"provider": "P9", "genders": ["x"]}],
                       [{"age": 200, "pinned": ["G1"], "avoid_with": ["Y7"]}], unknown=3, km=-1)
    errors = errors_of(raw)
    text = "\n".join(errors)
    assert "Gruppe G1, Feld seats: muss eine ganze Zahl ≥ 1 sein" in text
    assert "Gruppe G1, Feld sessions[0]" in text and "15-Minuten-Raster" in text
    assert "Gruppe G2, Feld provider" in text and "Gruppe G2, Feld genders" in text
    assert "Junge Person Y1, Feld age" in text and "Junge Person Y1, Feld pinned" in text
    assert "Junge Person Y1, Feld avoid_with: unbekannte junge Person 'Y7'" in text
    assert "Gewichte, Feld unknown" in text and "Gewichte, Feld km" in text
    assert len(errors) >= 9


@pytest.mark.parametrize("mutate", [
    lambda r: r.update(format="other"),
    lambda r: r["groups"][0].update(min_size=11),
    lambda r: r["groups"][0].update(sessions=[]),
    lambda r: r["groups"][0].update(sessions=[session("mon"), session("mon", "16:00", "18:00")]),
    lambda r: r["groups"][0].update(sessions=[session("mon", "17:00", "15:00")]),
    lambda r: r["groups"][0].update(sessions=[session("xyz")]),
    lambda r: r["groups"][0].update(categories=[]),
    lambda r: r["groups"][0].update(age_min=-1),
    lambda r: r["groups"][0].update(open_for_new="yes"),
    lambda r: r["groups"][0].update(location={"lat": 91, "lon": 0}),
    lambda r: r["groups"][0].update(offset_rate=-1),
    lambda r: r["groups"].append(dict(r["groups"][0])),
    lambda r: r["young_people"][0].update(max_travel_km=0),
    lambda r: r["young_people"][0].update(group_hours={"target": 3, "max": 2}),
    lambda r: r["young_people"][0].update(gender="x"),
    lambda r: r["young_people"][0].update(priority=4),
    lambda r: r["young_people"][0].update(priority=1.5),
    lambda r: r["young_people"][0].update(age=None),
    lambda r: r["young_people"][0].update(needs="a"),
    lambda r: r["young_people"][0].update(current=["G9"]),
    lambda r: r["young_people"][0].update(lead_provider="P9"),
    lambda r: r["young_people"][0].update(available=[session("mon", "24:00", "24:15")]),
    lambda r: r.update(weights={"km": True}),
    lambda r: r.update(providers="P1"),
])
def test_rejects_what_verify_rejects(mutate):
    raw = make_problem([{}], [{}])
    mutate(raw)
    assert VERIFY.Problem(json.loads(json.dumps(raw))).errors
    assert errors_of(raw)


@pytest.mark.parametrize("mutate", [
    lambda r: r["groups"][0].update(seats=3.0, genders=["f", "f"]),
    lambda r: r["groups"][0].update(sessions=[session("sun", "23:45", "24:00")]),
    lambda r: r["young_people"][0].update(available=[], needs=[], gender=None),
    lambda r: r["young_people"][0].update(current=None, avoid_with=["Y1"]),
    lambda r: r.update(weights=None),
])
def test_accepts_what_verify_accepts(mutate):
    raw = make_problem([{}], [{}])
    mutate(raw)
    assert not VERIFY.Problem(json.loads(json.dumps(raw))).errors
    parse_problem(raw)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_round_trip(path):
    problem = load_problem(path)
    again = parse_problem(json.loads(json.dumps(problem_to_json(problem))))
    assert again == problem


def test_haversine_is_verify_formula():
    a, b = {"lat": 49.9, "lon": 8.84}, {"lat": 49.87, "lon": 8.8}
    assert haversine_km(49.9, 8.84, 49.87, 8.8) == VERIFY.haversine_km(a, b)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_eligible_groups_matches_pairwise_rules(path):
    problem = load_problem(path)
    fast = eligible_groups(problem)
    for pid, y in problem.people.items():
        slow = [gid for gid, g in problem.groups.items()
                if ineligibility(y, g) is None and (g.open_for_new or gid in y.current)]
        assert fast[pid] == slow


def test_eligibility_at_the_distance_limit_uses_the_exact_formula():
    raw = make_problem([{"location": {"lat": 50.0, "lon": 8.1}}], [{"home": {"lat": 50.0, "lon": 8.0}}])
    exact = haversine_km(50.0, 8.0, 50.0, 8.1)
    raw["young_people"][0]["max_travel_km"] = exact
    assert eligible_groups(parse_problem(raw)) == {"Y1": ["G1"]}
    raw["young_people"][0]["max_travel_km"] = exact * (1 - 1e-15)
    problem = parse_problem(raw)
    expected = [] if ineligibility(problem.people["Y1"], problem.groups["G1"]) else ["G1"]
    assert eligible_groups(problem) == {"Y1": expected}


def test_sessions_overlap():
    raw = make_problem([{}, {"sessions": [session("mon", "17:00", "18:00")]},
                        {"sessions": [session("mon", "16:45", "18:00")]}], [{}])
    p = parse_problem(raw)
    assert not sessions_overlap(p.groups["G1"], p.groups["G2"])
    assert sessions_overlap(p.groups["G1"], p.groups["G3"])
