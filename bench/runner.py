"""One solver on one problem, in its own process: `python -m bench.runner SOLVER PROBLEM OUT [options]`.

Writes a FORMAT.md solution to OUT with extra keys `peak_rss_mb` (this
process's peak resident memory, problem loading included) and `model`.
SOLVER is engine (the CP-SAT engine's `solve`), greedy (first come, first
served) or highs (bench/highs_peer.py).

OR-Tools and highspy ship different HiGHS libraries under one name, so one
process can load only one of them; the package `marketplace.matching` imports
CP-SAT on import. The highs runner therefore loads the engine's problem and
rule modules without running the package's __init__ (and every runner skips
the web application's package __init__, which the engine does not need).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _stub_package(name: str, path: Path) -> None:
    """Register package `name` at `path` without executing its __init__.py."""
    if name not in sys.modules:
        module = types.ModuleType(name)
        module.__path__ = [str(path)]
        sys.modules[name] = module


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def run(solver: str, problem_path: str, time_limit: float, workers: int, seed: int) -> dict:
    _stub_package("marketplace", ROOT / "marketplace")
    if solver == "highs":
        import highspy  # noqa: F401  (first: its HiGHS library must win)

        _stub_package("marketplace.matching", ROOT / "marketplace" / "matching")
    from marketplace.matching.problem import load_problem
    from marketplace.matching.solution import SOLUTION_FORMAT, evaluate

    problem = load_problem(problem_path)
    started = time.perf_counter()
    extra: dict = {}
    if solver == "engine":
        from marketplace.matching.solution import solution_to_json
        from marketplace.matching.solve import SolveOptions, solve

        sol = solve(problem, SolveOptions(time_limit_s=time_limit, workers=workers, seed=seed))
        out = solution_to_json(sol)
        out["unmatched"] = []  # reasons are not part of the comparison
        extra = {k: sol.stats.get(k) for k in ("components", "eligible_pairs", "warm_start")}
    elif solver == "greedy":
        from marketplace.matching.greedy import greedy

        assignments = greedy(problem)
        out = {"format": SOLUTION_FORMAT, "status": "FEASIBLE", "bound": None,
               "assignments": [{"young_person": p, "group": g} for p, gs in assignments.items() for g in gs],
               "objective": round(evaluate(problem, assignments).objective, 4)}
    elif solver == "highs":
        from bench.highs_peer import solve_highs

        result = solve_highs(problem, time_limit, threads=workers, seed=seed)
        out = {"format": SOLUTION_FORMAT, "status": result.status, "bound": result.bound,
               "assignments": [{"young_person": p, "group": g}
                               for p, gs in result.assignments.items() for g in gs],
               "objective": round(evaluate(problem, result.assignments).objective, 4)
               if result.status in ("OPTIMAL", "FEASIBLE") else None}
        extra = result.model
    else:
        raise SystemExit(f"unknown solver {solver!r}")
    out["wall_s"] = round(time.perf_counter() - started, 3)
    out["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    out["model"] = extra
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solver", choices=["engine", "greedy", "highs"])
    parser.add_argument("problem")
    parser.add_argument("out")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = run(args.solver, args.problem, args.time_limit, args.workers, args.seed)
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
