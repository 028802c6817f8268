"""Benchmark: the single-request recommendation on a generated district (issue 3: ≤ 2 s on M).

    python -m bench.recommend [--size M] [--seed 1] [--people 50] [--plan-seconds 10]

Generates (or reuses from the cache of bench/matching.py) a problem of ../shared/bench/generate.py,
solves it with the engine for `--plan-seconds` as everyone else's plan, then asks `recommend`
for the best three options of `--people` young people drawn at random (placed and unplaced),
each followed by the German explanation of the best option, as the instant proposal does.
Everybody's planned groups are their current ones, as open proposals are in the product. Every
option marked feasible is checked against all hard rules with everyone else fixed: it may break
none that the plan keeps (leaving a current group, for example, must not leave it below its
minimum size).
Prints a Markdown table with the command and the machine. The demo district's proposal end to
end (snapshot from the database included) is measured by bench/nightly.py.
"""

from __future__ import annotations

import argparse
import random
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.matching import machine, problem_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["S", "M", "L", "XL"], default="M")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--plan-seconds", type=float, default=10.0)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "marketplace-bench")
    parser.add_argument("--out", type=Path, help="append the Markdown report to this file")
    args = parser.parse_args(argv)

    from marketplace.matching import SolveOptions, load_problem, recommend, solve, violations
    from marketplace.matching.explain import explain_person
    from marketplace.matching.problem import Problem

    path = problem_file(args.size, args.seed, False, args.cache)
    problem = load_problem(path)
    plan = dict(solve(problem, SolveOptions(time_limit_s=args.plan_seconds)).assignments)
    # As in the product, everybody's planned groups are their current ones (open proposals).
    problem = Problem(problem.weights, problem.providers, problem.groups,
                      {pid: replace(y, current=tuple(plan.get(pid, ()))) for pid, y in problem.people.items()})
    rng = random.Random(args.seed)
    people = rng.sample(sorted(problem.people), min(args.people, len(problem.people)))
    times_rec, times_all, broken, with_options = [], [], 0, 0
    for pid in people:
        began = time.perf_counter()
        options = recommend(problem, pid, plan, k=3)
        times_rec.append(time.perf_counter() - began)
        if options:
            with_options += 1
            explain_person(problem, {**plan, pid: options[0].groups}, pid)
        times_all.append(time.perf_counter() - began)
        others = {p: g for p, g in plan.items() if p != pid}
        before = set(violations(problem, {**others, pid: plan.get(pid, ())}))  # the plan as it is
        broken += sum(1 for o in options if o.feasible and set(violations(problem, {**others, pid: o.groups})) - before)

    def row(name: str, values: list[float]) -> str:
        q = statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]
        return f"| {name} | {len(values)} | {statistics.median(values):.3f} | {q:.3f} | {max(values):.3f} | ≤ 2 s |"

    command = "python -m bench.recommend " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None
                                                                                  else argv))
    report = "\n".join([
        f"### Single-request recommendation on {path.stem} ({len(problem.people):,} young people, "
        f"{len(problem.groups):,} groups)", "",
        f"Command: `{command.strip()}`  ", f"Machine: {machine()}", "",
        "| step | n | median s | p95 s | max s | target |", "|---|---|---|---|---|---|",
        row("recommend (3 options, everyone else fixed)", times_rec),
        row("recommend + German explanation of the best option", times_all), "",
        f"{with_options} of {len(people)} young people got options; options breaking a rule: {broken}.", "",
    ])
    print(report)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(report + "\n")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
