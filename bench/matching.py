"""Matching benchmark: the engine against first-come-first-served greedy and HiGHS.

usage: python -m bench.matching [--sizes S M ...] [--seeds 1 2 ...] [--variants plain rebalance]
                                [--solvers engine greedy highs] [--time-limit 10] [--full] [--out FILE]

Problems come from the shared generator (`<repo>/../shared/bench/generate.py`,
or $MARKETPLACE_SHARED/bench/generate.py) and are cached. Each solver runs in
its own process (bench/runner.py) with the same time limit; its peak memory is
that process's peak resident set. Every solution is checked by the shared
verify.py, which also computes the figures in the table; a failed check is
printed loudly and makes the exit status 1. Prints a Markdown table with the
exact command and the machine; --out appends the same text to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = ("S", "M", "L", "XL")
SOLVERS = ("engine", "greedy", "highs")


def shared_dir() -> Path:
    return Path(os.environ.get("MARKETPLACE_SHARED") or ROOT.parent / "shared")


@dataclass
class Run:
    """One solver on one problem, with the shared checker's report."""

    problem: str
    solver: str
    status: str
    wall_s: float | None
    objective: float | None
    bound: float | None
    peak_mb: float | None
    report: dict | None
    feasible: bool
    note: str = ""
    files: tuple[Path, Path] | None = None  # (problem, solution) to check


def problem_file(size: str, seed: int, rebalance: bool, cache: Path) -> Path:
    """The generated problem, made once per (size, seed, variant) and kept in `cache`."""
    name = f"{size}-{seed}{'-rebalance' if rebalance else ''}.json"
    path = cache / name
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, str(shared_dir() / "bench" / "generate.py"), size, "--seed", str(seed)]
        if rebalance:
            cmd.append("--rebalance")
        tmp = path.with_suffix(".part")
        with open(tmp, "w", encoding="utf-8") as fh:
            subprocess.run(cmd, stdout=fh, check=True)
        tmp.rename(path)
    return path


def run_solver(solver: str, problem: Path, out: Path, time_limit: float, workers: int, seed: int,
               hard_timeout: float) -> dict:
    """Run bench.runner in a subprocess; {"status": "CRASH"/"TIMEOUT", ...} when it fails."""
    cmd = [sys.executable, "-m", "bench.runner", solver, str(problem), str(out),
           "--time-limit", str(time_limit), "--workers", str(workers), "--seed", str(seed)]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=hard_timeout)
    except subprocess.TimeoutExpired:
        return {"status": "TIMEOUT", "note": f"killed after {hard_timeout:.0f} s"}
    if done.returncode != 0 or not out.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"status": "CRASH", "note": tail[0][:200]}
    return json.loads(out.read_text(encoding="utf-8"))


def verify(problem: Path, solution: Path) -> dict:
    """The shared verify.py's JSON report (feasible, objective, figures)."""
    cmd = [sys.executable, str(shared_dir() / "matching" / "verify.py"), str(problem), str(solution)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"feasible": False, "violations": [f"verify.py failed: {done.stderr.strip()[-200:]}"]}


def bench_problem(path: Path, solvers: list[str], args: argparse.Namespace, work: Path) -> list[Run]:
    """Every solver on one problem, one after the other (solutions kept in `work` for checking)."""
    runs = []
    for solver in solvers:
        out = work / f"{path.stem}.{solver}.json"
        out.unlink(missing_ok=True)
        limit = time_limit_for(path, args.time_limit)
        result = run_solver(solver, path, out, limit, args.workers, args.seed, hard_timeout=3 * limit + 120)
        run = Run(path.stem, solver, result["status"], result.get("wall_s"), None, result.get("bound"),
                  result.get("peak_rss_mb"), None, False, result.get("note", ""))
        if result.get("assignments") is not None and result["status"] in ("OPTIMAL", "FEASIBLE"):
            run.files = (path, out)
        runs.append(run)
        print(f"  {path.stem:16s} {solver:7s} {result['status']:9s} {result.get('wall_s', '-')}", file=sys.stderr)
    return runs


def verify_all(runs: list[Run], workers: int) -> None:
    """Check every solution with verify.py after all solvers ran (in parallel: it takes minutes on XL)."""
    with_files = [r for r in runs if r.files is not None]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        reports = list(pool.map(lambda r: verify(*r.files), with_files))
    for run, report in zip(with_files, reports, strict=True):
        run.report = report
        run.objective = report.get("objective")
        run.feasible = bool(report.get("feasible"))
        if not run.feasible:
            print(f"!!! VERIFY FAILED: {run.solver} on {run.problem}: {report.get('violations', [])[:5]}",
                  file=sys.stderr)


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}" if whole else "–"


def table(runs: list[Run]) -> str:
    """Markdown table; the gap is measured against the best (lowest) bound any solver proved."""
    head = ("| problem | solver | time s | status | objective | own bound | gap % | placed % | hours % "
            "| km/assign | groups running | peak MB | verify |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    best_bound: dict[str, float] = {}
    for r in runs:
        if r.bound is not None:
            best_bound[r.problem] = min(best_bound.get(r.problem, r.bound), r.bound)
    for r in runs:
        rep = r.report or {}
        bound = best_bound.get(r.problem)
        gap = "–"
        if bound is not None and r.objective is not None:
            gap = f"{100.0 * max(0.0, bound - r.objective) / max(1.0, abs(bound)):.2f}"
        cells = [
            r.problem, r.solver, "–" if r.wall_s is None else f"{r.wall_s:.1f}", r.status,
            "–" if r.objective is None else f"{r.objective:,.0f}",
            "–" if r.bound is None else f"{r.bound:,.0f}", gap,
            _pct(rep["placed"], rep["young_people"]) if rep else "–",
            _pct(rep["group_hours_covered"], rep["group_hours_target"]) if rep else "–",
            f"{rep['mean_km_per_assignment']:.2f}" if rep else "–",
            f"{rep['groups_running']}/{rep['groups']}" if rep else "–",
            "–" if r.peak_mb is None else f"{r.peak_mb:.0f}",
            ("ok" if r.feasible else "**FAILED**") if r.report else (r.note or "–"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                      if x.startswith("MemTotal"))
        ram = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        ram = "unknown"

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    return (f"{os.cpu_count()} cores, {ram} RAM, {cpu}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, ortools {version('ortools')}, highspy {version('highspy')}; "
            f"commit {commit}; load average {os.getloadavg()[0]:.1f} (other work on the machine skews times)")


#: The time limit per size when --time-limit is not given: the targets of issue 3.
TARGET_SECONDS = {"S": 10.0, "M": 10.0, "L": 60.0, "XL": 120.0}


def time_limit_for(path: Path, given: float | None) -> float:
    """--time-limit, else the target of the problem's size (from its file name, e.g. L-2-rebalance.json)."""
    if given is not None:
        return given
    return TARGET_SECONDS.get(path.name.split("-")[0], 10.0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=SIZES, default=["S", "M"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument("--variants", nargs="+", choices=["plain", "rebalance"], default=["plain", "rebalance"])
    parser.add_argument("--solvers", nargs="+", choices=SOLVERS, default=list(SOLVERS))
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds per solver and problem (default: the issue's target per size, "
                             "S and M 10, L 60, XL 120)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="solver random seed")
    parser.add_argument("--full", action="store_true", help="all sizes, seeds 1-3, both variants")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "marketplace-bench")
    parser.add_argument("--problem", type=Path, action="append", default=[],
                        help="a problem file to run instead of generated ones (repeatable)")
    parser.add_argument("--out", type=Path, help="append the Markdown report to this file")
    args = parser.parse_args(argv)
    if args.full:
        args.sizes, args.seeds, args.variants = list(SIZES), [1, 2, 3], ["plain", "rebalance"]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python -m bench.matching " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None
                                                                                else argv))
    paths = list(args.problem) or [problem_file(size, seed, variant == "rebalance", args.cache)
                                   for size in args.sizes for seed in args.seeds for variant in args.variants]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as work:
        for path in paths:
            runs += bench_problem(path, args.solvers, args, Path(work))
        verify_all(runs, os.cpu_count() or 1)
    failures = [r for r in runs if r.report is not None and not r.feasible]
    limits = (f"{args.time_limit:g} s" if args.time_limit is not None else
              ", ".join(f"{size} {TARGET_SECONDS[size]:g} s" for size in args.sizes))
    report = "\n".join([
        f"### Matching benchmark ({limits} per solver, {args.workers} workers)", "",
        f"Command: `{command.strip()}`  ", f"Machine: {machine()}", "", table(runs), "",
        f"Verified by shared verify.py: {sum(r.feasible for r in runs)} feasible, {len(failures)} FAILED.", "",
    ])
    print(report)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(report + "\n")
    if failures:
        print(f"!!! {len(failures)} solution(s) FAILED the shared verify.py", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
