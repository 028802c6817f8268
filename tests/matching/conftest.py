"""Shared helpers for the matching tests: a tiny-problem builder and the shared verifier."""

from __future__ import annotations

import copy
import importlib.util
import math
import os
from pathlib import Path
from typing import Any

import pytest

from marketplace.matching import parse_problem
from marketplace.matching.solution import solution_to_json
from marketplace.matching.solve import SolveOptions, solve

SHARED = Path(os.environ.get("MARKETPLACE_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")
EXAMPLES = SHARED / "matching" / "examples"
LAT0, LON0 = 50.0, 8.0


def _load_verify():
    spec = importlib.util.spec_from_file_location("shared_verify", SHARED / "matching" / "verify.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VERIFY = _load_verify()


def verify(problem_raw: dict, solution_raw: dict) -> dict:
    """Check a solution with /work/shared's verify.py: feasible and reported objective correct."""
    report = VERIFY.check(VERIFY.Problem(copy.deepcopy(problem_raw)), solution_raw)
    assert report["feasible"], (report["errors"], report["violations"])
    assert report.get("reported_objective_matches", True), (report["objective"], solution_raw["objective"])
    return report


def at(east_km: float = 0.0, north_km: float = 0.0) -> dict[str, float]:
    """A point `east_km` east and `north_km` north of the test origin."""
    km_per_lon_degree = 111.195 * math.cos(math.radians(LAT0))
    return {"lat": LAT0 + north_km / 111.195, "lon": LON0 + east_km / km_per_lon_degree}


def session(day: str = "mon", start: str = "15:00", end: str = "17:00") -> dict[str, str]:
    return {"day": day, "start": start, "end": end}


def make_group(n: int, **overrides: Any) -> dict[str, Any]:
    group = {
        "id": f"G{n}", "provider": "P1", "location": at(), "seats": 10, "min_size": 1,
        "categories": ["a"], "age_min": None, "age_max": None, "genders": None,
        "sessions": [session()], "offset_rate": 0, "open_for_new": True,
    }
    group.update(overrides)
    return group


def make_person(n: int, **overrides: Any) -> dict[str, Any]:
    person = {
        "id": f"Y{n}", "lead_provider": "P1", "age": 12, "gender": "f", "home": at(),
        "max_travel_km": 10, "group_hours": {"target": 2, "max": 4}, "needs": ["a"],
        "available": None, "priority": 1, "current": [], "pinned": [],
        "preferred_groups": [], "excluded_groups": [], "avoid_with": [],
    }
    person.update(overrides)
    return person


def make_problem(groups: list[dict] | None = None, people: list[dict] | None = None,
                 **weights: float) -> dict[str, Any]:
    """A raw problem: each group/person dict overrides the defaults of make_group/make_person."""
    groups = [{}] if groups is None else groups
    people = [{}] if people is None else people
    return {
        "format": "marketplace-matching/1",
        "weights": weights,
        "providers": [{"id": "P1"}, {"id": "P2"}],
        "groups": [make_group(n + 1, **g) for n, g in enumerate(groups)],
        "young_people": [make_person(n + 1, **y) for n, y in enumerate(people)],
    }


def solve_raw(raw: dict, **options: Any):
    """Parse, solve (deterministic, short), verify; returns (solution, verify report)."""
    problem = parse_problem(raw)
    opts = {"time_limit_s": 5.0, "deterministic": True, **options}
    sol = solve(problem, SolveOptions(**opts))
    out = solution_to_json(sol)
    if sol.status.value in ("OPTIMAL", "FEASIBLE"):
        return sol, verify(raw, out)
    return sol, None


def groups_of(sol, pid: str) -> set[str]:
    return set(sol.assignments.get(pid, ()))


@pytest.fixture
def verify_solution():
    return verify
