"""Pure matching engine (Zuordnung): a Problem in, a Solution out.

No Flask, no SQL, no clock, no globals. See /work/shared/matching/FORMAT.md
for the exchange format, and `python -m marketplace.matching --help`.
"""

from .problem import Problem, ProblemError, load_problem, parse_problem
from .solution import Solution, Status, Unmatched, evaluate, solution_from_json, solution_to_json, violations
from .solve import SolveOptions, solve

__all__ = [
    "Problem", "ProblemError", "Solution", "SolveOptions", "Status", "Unmatched",
    "evaluate", "load_problem", "parse_problem", "solution_from_json", "solution_to_json",
    "solve", "violations",
    # E2 adds here: greedy, explain, recommend
]

from .explain import explain_person, explain_solution, unmatched_all, unmatched_reasons  # noqa: E402
from .greedy import greedy  # noqa: E402
from .recommend import Option, recommend  # noqa: E402

__all__ += ["Option", "explain_person", "explain_solution", "greedy", "recommend", "unmatched_all",
            "unmatched_reasons"]
