"""Pure matching engine (Zuordnung): a Problem in, a Solution out.

No Flask, no SQL, no clock, no globals. See /work/shared/matching/FORMAT.md
for the exchange format, and `python -m marketplace.matching --help`.
"""

from .problem import Problem, ProblemError, load_problem, parse_problem

__all__ = ["Problem", "ProblemError", "load_problem", "parse_problem"]
