"""First come, first served baseline: feasible always, nearest first, target-driven."""

from __future__ import annotations

import json
import random
import time

import pytest

from marketplace.matching.greedy import greedy
from marketplace.matching.problem import parse_problem
from marketplace.matching.solution import evaluate, violations

from .conftest import EXAMPLES, verify


def check_feasible(raw: dict, assignments: dict[str, tuple[str, ...]]) -> dict:
    """The independent shared checker must accept the assignment."""
    solution = {"format": "marketplace-matching-solution/1", "status": "FEASIBLE",
                "assignments": [{"young_person": p, "group": g} for p, gs in assignments.items() for g in gs]}
    return verify(raw, solution)


def group(gid: str, **kw) -> dict:
    out = {"id": gid, "provider": "P1", "location": {"lat": 50.0, "lon": 8.0}, "seats": 5, "min_size": 1,
           "categories": ["sports"], "age_min": None, "age_max": None, "genders": None,
           "sessions": [{"day": "mon", "start": "15:00", "end": "17:00"}], "offset_rate": 0,
           "open_for_new": True}
    out.update(kw)
    return out


def person(pid: str, **kw) -> dict:
    out = {"id": pid, "lead_provider": "P1", "age": 12, "gender": "f", "home": {"lat": 50.0, "lon": 8.0},
           "max_travel_km": 10, "group_hours": {"target": 2, "max": 4}, "needs": ["sports"],
           "available": None, "priority": 1, "current": [], "pinned": [], "preferred_groups": [],
           "excluded_groups": [], "avoid_with": []}
    out.update(kw)
    return out


def raw_problem(groups: list[dict], people: list[dict]) -> dict:
    return {"format": "marketplace-matching/1", "providers": [{"id": "P1"}, {"id": "P2"}],
            "groups": groups, "young_people": people}


def run(groups, people, order=None):
    raw = raw_problem(groups, people)
    problem = parse_problem(raw)
    result = greedy(problem, order)
    assert violations(problem, result) == []
    check_feasible(raw, result)
    return result


def test_takes_the_nearest_group_first():
    far = group("far", location={"lat": 50.05, "lon": 8.0})
    near = group("near", location={"lat": 50.01, "lon": 8.0})
    assert run([far, near], [person("Y1")]) == {"Y1": ("near",)}


def test_stops_at_target_and_fills_up_to_it():
    gs = [group(f"G{n}", sessions=[{"day": d, "start": "15:00", "end": "16:00"}], location={
        "lat": 50.0 + n / 1000, "lon": 8.0}) for n, d in enumerate(["mon", "tue", "wed"])]
    assert run(gs, [person("Y1")]) == {"Y1": ("G0", "G1")}


def test_target_zero_still_takes_one_group():
    assert run([group("G1")], [person("Y1", group_hours={"target": 0, "max": 2})]) == {"Y1": ("G1",)}


def test_first_come_gets_the_last_seat():
    result = run([group("G1", seats=1)], [person("Y1"), person("Y2")], order=["Y2", "Y1"])
    assert result == {"Y2": ("G1",)}


def test_respects_overlap_hours_and_conflicts():
    a = group("A")
    b = group("B", sessions=[{"day": "mon", "start": "16:00", "end": "18:00"}])
    c = group("C", sessions=[{"day": "tue", "start": "15:00", "end": "18:00"}])
    result = run([a, b, c], [person("Y1", group_hours={"target": 4, "max": 4}),
                             person("Y2", avoid_with=["Y1"])])
    assert result["Y1"] == ("A",)  # B overlaps A, C would exceed the maximum of 4 hours
    assert "A" not in result.get("Y2", ())


def test_closed_group_only_for_current_members():
    closed = group("G1", open_for_new=False)
    result = run([closed], [person("Y1"), person("Y2", current=["G1"])])
    assert result == {"Y2": ("G1",)}


def test_groups_below_minimum_are_dissolved_and_members_retried():
    small = group("small", min_size=3)
    running = group("running", location={"lat": 50.02, "lon": 8.0}, min_size=2)
    people = [person("Y1"), person("Y2", home={"lat": 50.02, "lon": 8.0}),
              person("Y3", home={"lat": 50.02, "lon": 8.0})]
    result = run([small, running], people)
    assert result == {"Y1": ("running",), "Y2": ("running",), "Y3": ("running",)}


def test_pinned_member_keeps_a_small_group_running():
    pinned = group("G1", min_size=4)
    result = run([pinned], [person("Y1", current=["G1"], pinned=["G1"]), person("Y2")])
    assert result == {"Y1": ("G1",), "Y2": ("G1",)}


def test_current_placement_that_now_breaks_a_rule_is_not_kept():
    g = group("G1", seats=1)
    result = run([g], [person("Y1", current=["G1"]), person("Y2", current=["G1"], pinned=["G1"])])
    assert result == {"Y2": ("G1",)}


@pytest.mark.parametrize("seed", range(25))
def test_random_problems_are_always_feasible(seed):
    rng = random.Random(seed)
    cats = ["sports", "media", "creative"]
    days = ["mon", "tue", "wed"]
    groups = []
    for n in range(rng.randint(1, 8)):
        start = rng.choice([14, 15, 16])
        end = start + rng.choice([1, 2])
        sessions = [{"day": d, "start": f"{start}:00", "end": f"{end}:00"}
                    for d in rng.sample(days, rng.randint(1, 2))]
        seats = rng.randint(1, 4)
        groups.append(group(f"G{n}", seats=seats, min_size=rng.randint(1, seats), sessions=sessions,
                            categories=rng.sample(cats, rng.randint(1, 2)), open_for_new=rng.random() > 0.2,
                            location={"lat": 50 + rng.uniform(-0.1, 0.1), "lon": 8 + rng.uniform(-0.1, 0.1)}))
    people = []
    for n in range(rng.randint(1, 12)):
        current = rng.sample([g["id"] for g in groups], rng.randint(0, min(2, len(groups))))
        people.append(person(f"Y{n}", needs=rng.sample(cats, rng.randint(1, 2)), current=current,
                             group_hours={"target": rng.choice([0, 1, 2, 4]), "max": 5},
                             home={"lat": 50 + rng.uniform(-0.1, 0.1), "lon": 8 + rng.uniform(-0.1, 0.1)},
                             max_travel_km=rng.choice([5, 10, 20])))
    for y in people:
        if rng.random() < 0.3:
            y["avoid_with"] = [rng.choice(people)["id"]]
    run(groups, people, order=[y["id"] for y in rng.sample(people, len(people))])


def test_generated_district_is_feasible_and_fast():
    example = EXAMPLES / "S-1-rebalance.json"
    raw = json.loads(example.read_text())
    problem = parse_problem(raw)
    started = time.perf_counter()
    result = greedy(problem)
    assert time.perf_counter() - started < 2.0
    report = check_feasible(raw, result)
    assert abs(report["objective"] - evaluate(problem, result).objective) < 1e-3
    assert report["placed"] > 0
