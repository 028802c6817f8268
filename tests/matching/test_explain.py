"""Explanations name the binding rule in German, aggregated and most relevant first."""

from __future__ import annotations

import json

import pytest

from marketplace.matching import parse_problem
from marketplace.matching.explain import (
    CATEGORY_LABELS,
    category_label,
    explain_person,
    explain_solution,
    format_window,
    render_text,
    unmatched_all,
    unmatched_reasons,
)
from marketplace.matching.greedy import greedy
from marketplace.matching.problem import Window, load_problem
from marketplace.matching.solution import Solution, Status, evaluate

from .conftest import EXAMPLES, at, make_problem, session


def reasons(groups, people, assignments=None, pid="Y1"):
    problem = parse_problem(make_problem(groups, people))
    out = unmatched_reasons(problem, assignments or {}, pid)
    assert out == unmatched_all(problem, assignments or {})[pid]
    return out


def test_too_far_names_the_category_and_the_limit():
    out = reasons([{"categories": ["media"], "location": at(east_km=20)}],
                  [{"needs": ["media"], "max_travel_km": 15}])
    assert out == ["Kein Angebot für Medien innerhalb von 15 km (nächstes in 20 km)"]


def test_no_offer_at_all_and_unknown_category_falls_back_to_its_code():
    out = reasons([{"categories": ["sports"]}], [{"needs": ["juggling"]}])
    assert out == ["Kein Angebot für juggling im Gebiet"]
    assert category_label("sports") == "Sport" and len(CATEGORY_LABELS) == 12


def test_all_full():
    out = reasons([{"seats": 1}, {"seats": 1, "location": at(north_km=2)}], [{}, {}, {}],
                  assignments={"Y2": ("G1",), "Y3": ("G2",)})
    assert out == ["Alle passenden Gruppen sind voll (G1, G2)"]


def test_times_outside_availability():
    out = reasons([{"sessions": [session("mon")]}], [{"available": [session("tue", "14:00", "19:00")]}])
    assert out == ["Zeiten passen nicht zur Verfügbarkeit (1 Gruppe)"]


def test_minimum_size_not_reachable():
    out = reasons([{"seats": 8, "min_size": 4}], [{}, {}], assignments={"Y2": ()})
    assert len(out) == 1 and out[0].startswith("Mindestgröße der Gruppe nicht erreichbar")
    assert "1 von 4" in out[0]


@pytest.mark.parametrize(("age", "word"), [(12, "zu jung (Gruppen ab 14 Jahren"), (19, "zu alt (Gruppen bis 17")])
def test_age_limits(age, word):
    out = reasons([{"age_min": 14, "age_max": 17}], [{"age": age}])
    assert len(out) == 1 and out[0].startswith("Altersgrenze passt nicht") and word in out[0]


def test_closed_conflict_and_hours_maximum():
    assert reasons([{"open_for_new": False}], [{}])[0].startswith("Gruppe ist geschlossen")
    conflict = reasons([{}], [{"avoid_with": ["Y2"]}, {}], assignments={"Y2": ("G1",)})
    assert conflict == ["Konflikt mit Y2 (1 Gruppe: G1)"]
    long = reasons([{"sessions": [session("mon", "14:00", "17:00")]}],
                   [{"group_hours": {"target": 1, "max": 2}}])
    assert long[0].startswith("Gruppenstunden überschreiten das Maximum von 2 Std.")


def test_most_relevant_first_and_aggregated():
    groups = [{"seats": 1}] + [{"age_min": 16, "location": at(north_km=n)} for n in range(1, 6)]
    out = reasons(groups, [{}, {}], assignments={"Y2": ("G1",)})
    assert out[0] == "Alle passenden Gruppen sind voll (G1)"
    assert out[1].startswith("Altersgrenze passt nicht") and "5 Gruppen" in out[1]
    assert len(out) == 2


def test_placed_person_explained_with_alternatives():
    groups = [
        {"categories": ["sports", "media"], "location": at(east_km=2), "provider": "P2", "offset_rate": 20},
        {"categories": ["sports"], "seats": 1, "location": at(east_km=1)},
        {"categories": ["sports"], "location": at(east_km=1), "sessions": [session("mon", "16:00", "18:00")]},
    ]
    people = [{"needs": ["sports", "media"], "preferred_groups": ["G1"]}, {}]
    problem = parse_problem(make_problem(groups, people))
    assignments = {"Y1": ("G1",), "Y2": ("G2",)}
    e = explain_person(problem, assignments, "Y1")
    assert e.placed and e.summary == "Y1 ist in 1 Gruppe: 2 Std. von 2 Std. Zielstunden (Maximum 4 Std.)."
    text = "\n".join(e.lines)
    assert "Mo 15:00–17:00" in text and "Medien, Sport" in text and "2 km entfernt" in text
    assert "Wunschgruppe" in text and "anderer Träger (P2)" in text
    why = {a["group"]: a["why"] for a in e.alternatives}
    assert why["G2"].startswith("voll")
    assert why["G3"].startswith("Zeitüberschneidung mit G1") and "deckt weniger Bedarfe ab" in why["G3"]
    delta = [a["delta_objective"] for a in e.alternatives if a["group"] == "G3"][0]
    swapped = {**assignments, "Y1": ("G3",)}
    assert delta == pytest.approx(evaluate(problem, swapped).objective - evaluate(problem, assignments).objective)


def test_unplaced_person_explanation_uses_the_reasons():
    problem = parse_problem(make_problem([{"open_for_new": False}], [{}]))
    e = explain_person(problem, {}, "Y1")
    assert not e.placed and e.lines == e.reasons and e.reasons[0].startswith("Gruppe ist geschlossen")


def test_explain_solution_is_json_and_renders():
    problem = load_problem(EXAMPLES / "S-1.json")
    assignments = greedy(problem)
    explained = explain_solution(problem, Solution(Status.FEASIBLE, assignments))
    json.dumps(explained)
    assert set(explained["people"]) == set(problem.people)
    assert sum(t["value"] for t in explained["terms"].values()) == pytest.approx(explained["objective"])
    for pid, entry in explained["people"].items():
        assert entry["placed"] == bool(assignments.get(pid))
        assert entry["lines"], pid
    text = render_text(explained)
    assert "Beiträge zum Zielwert" in text and "ist keiner Gruppe zugeordnet" in text


def test_bulk_and_single_reasons_agree_on_a_district():
    problem = load_problem(EXAMPLES / "S-1.json")
    assignments = greedy(problem)
    bulk = unmatched_all(problem, assignments)
    assert bulk
    for pid, out in bulk.items():
        assert out and out == unmatched_reasons(problem, assignments, pid)


def test_format_window():
    assert format_window(Window(2, 15 * 60 + 30, 17 * 60)) == "Mi 15:30–17:00"


def test_explain_solution_ignores_unknown_ids_and_carries_its_text():
    problem = parse_problem(make_problem([{}], [{}]))
    explained = explain_solution(problem, Solution(Status.FEASIBLE, {"Y1": ("G1", "G9"), "Y7": ("G1",)}))
    assert explained["people"]["Y1"]["placed"] and list(explained["people"]) == ["Y1"]
    assert explained["text"].startswith("Status: FEASIBLE, Zielwert ")
    assert "Y1 ist in 1 Gruppe" in explained["text"]


def test_unfulfilled_wish_is_explained():
    groups = [{}, {"seats": 1, "location": at(east_km=1)}]
    problem = parse_problem(make_problem(groups, [{"preferred_groups": ["G2"]}, {}]))
    e = explain_person(problem, {"Y1": ("G1",), "Y2": ("G2",)}, "Y1", alternatives=0)
    assert "Wunschgruppe G2 nicht erfüllt: voll (1 von 1 Plätzen belegt)" in e.lines


def test_better_swap_is_admitted_not_dressed_up():
    groups = [{"location": at(east_km=8)}, {"location": at(east_km=1)}]
    problem = parse_problem(make_problem(groups, [{}]))
    e = explain_person(problem, {"Y1": ("G1",)}, "Y1")
    (alt,) = e.alternatives
    assert alt["group"] == "G2" and alt["delta_objective"] > 0
    assert alt["why"].startswith("Zeitüberschneidung mit G1 (Mo 15:00–17:00); statt G1: wäre als Ersatz günstiger")
