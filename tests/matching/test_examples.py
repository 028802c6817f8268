"""Every shared example reaches its proven optimum with status OPTIMAL, verified by verify.py."""

from __future__ import annotations

import json

import pytest

from marketplace.matching import parse_problem
from marketplace.matching.solution import Status, solution_to_json
from marketplace.matching.solve import SolveOptions, solve

from .conftest import EXAMPLES, verify

EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_reaches_proven_optimum(name):
    raw = json.loads((EXAMPLES / name).read_text())
    sol = solve(parse_problem(raw), SolveOptions(time_limit_s=30, seed=1))
    assert sol.status is Status.OPTIMAL
    best = EXPECTED[name]["optimal_objective"]
    assert abs(sol.objective - best) <= max(1.0, 1e-3 * abs(best))
    report = verify(raw, solution_to_json(sol))
    assert report["objective"] == pytest.approx(best, abs=1e-3)
