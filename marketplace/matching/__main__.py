"""Command line: `python -m marketplace.matching solve|explain|greedy ...` on FORMAT.md JSON files.

Bad input (unreadable file, invalid JSON, invalid problem) prints a German
message listing every error on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .problem import Problem, ProblemError, parse_problem
from .solution import Solution, Status, evaluate, solution_from_json, solution_to_json, violations


class InputError(Exception):
    """Input the caseworker must fix; the message is German."""


def _read_json(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as exc:
        raise InputError(f"{what} {path} lässt sich nicht lesen: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {path} ist kein gültiges JSON: {exc}") from None


def _read_problem(path: str) -> Problem:
    raw = _read_json(path, "Die Problemdatei")
    try:
        return parse_problem(raw)
    except ProblemError as exc:
        lines = "\n".join(f"  - {e}" for e in exc.errors)
        raise InputError(f"Die Problemdatei {path} enthält {len(exc.errors)} Fehler:\n{lines}") from None


def _print_json(data: dict[str, Any]) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


def cmd_solve(args: argparse.Namespace) -> int:
    from .solve import SolveOptions, solve

    problem = _read_problem(args.problem)
    options = SolveOptions(time_limit_s=args.time_limit, workers=args.workers,
                           deterministic=args.deterministic, seed=args.seed)
    _print_json(solution_to_json(solve(problem, options)))
    return 0


def cmd_greedy(args: argparse.Namespace) -> int:
    import time

    from .greedy import greedy
    from .solve import unmatched_list

    problem = _read_problem(args.problem)
    started = time.monotonic()
    assignments = {pid: tuple(gids) for pid, gids in greedy(problem).items() if gids}
    broken = violations(problem, assignments)
    ev = evaluate(problem, assignments)
    sol = Solution(status=Status.FEASIBLE if not broken else Status.INVALID, assignments=assignments,
                   objective=ev.objective, unmatched=unmatched_list(problem, assignments),
                   wall_s=time.monotonic() - started, errors=broken, terms=ev.terms, stats=ev.kpis)
    _print_json(solution_to_json(sol))
    return 0 if not broken else 1


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain_solution

    problem = _read_problem(args.problem)
    raw = _read_json(args.solution, "Die Lösungsdatei")
    try:
        solution = solution_from_json(raw)
    except ValueError as exc:
        raise InputError(f"Die Lösungsdatei {args.solution} ist ungültig: {exc}") from None
    report = explain_solution(problem, solution)
    if args.json:
        _print_json(report)
    else:
        sys.stdout.write(_as_text(report))
    return 0


def _as_text(report: Any, indent: str = "") -> str:
    """Plain text of an explanation: strings as lines, nested containers indented."""
    if isinstance(report, dict):
        if isinstance(report.get("text"), str):
            return report["text"].rstrip("\n") + "\n"
        return "".join(f"{indent}{k}:\n{_as_text(v, indent + '  ')}" if isinstance(v, (dict, list))
                       else f"{indent}{k}: {v}\n" for k, v in report.items())
    if isinstance(report, list):
        return "".join(_as_text(item, indent) for item in report)
    return f"{indent}{report}\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m marketplace.matching",
                                     description="Matching engine on FORMAT.md JSON files.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("solve", help="solve a problem, print the solution JSON")
    p.add_argument("problem")
    p.add_argument("--time-limit", type=float, default=10.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--deterministic", action="store_true")
    p.set_defaults(run=cmd_solve)
    p = sub.add_parser("explain", help="explain a solution in German")
    p.add_argument("problem")
    p.add_argument("solution")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_explain)
    p = sub.add_parser("greedy", help="first-come-first-served baseline, printed as solution JSON")
    p.add_argument("problem")
    p.set_defaults(run=cmd_greedy)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except InputError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
