"""Benchmark: the demo district's nightly rebalancing and the caseworker's instant proposal.

    python -m bench.nightly [--repeat 3]

Seeds the demo district into a fresh SQLite file (per repetition), then measures:
- the nightly run end to end (snapshot, solve, apply, record): target < 10 s;
- the instant proposal for single young people against the live plan: target ≈ 1 s.
Prints a Markdown table with the command and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def _seeded_app(path: Path):
    from marketplace import create_app
    from marketplace.migrate import upgrade

    url = f"sqlite:///{path}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True})
    from seed.demo import load_demo

    with app.app_context():
        from marketplace.db import session_scope

        with session_scope() as session:
            load_demo(session)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--proposals", type=int, default=20, help="young people to request a proposal for")
    args = parser.parse_args(argv)

    from marketplace.matching.recommend import recommend
    from marketplace.placements import propose_options
    from marketplace.runs import run_nightly
    from marketplace.snapshot import build_snapshot

    nightly, snapshots, proposals, engine_only, placed = [], [], [], [], []
    for n in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            app = _seeded_app(Path(tmp) / "bench.db")
            engine = app.extensions["db_engine"]
            with app.app_context():
                from marketplace.db import get_session

                start = time.perf_counter()
                snapshot = build_snapshot(get_session())
                snapshots.append(time.perf_counter() - start)
                live = snapshot.current_assignments()
                for pid in list(snapshot.problem.people)[n * args.proposals:(n + 1) * args.proposals]:
                    others = {k: v for k, v in live.items() if k != pid}
                    start = time.perf_counter()
                    recommend(snapshot.problem, pid, others, k=3)
                    engine_only.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    propose_options(get_session(), young_person_id=snapshot.young_person_id(pid))
                    proposals.append(time.perf_counter() - start)
                start = time.perf_counter()
                run = run_nightly(engine)
                nightly.append(time.perf_counter() - start)
                placed.append(f"{run.kpis['placed']}/{run.kpis['young_people']} ({run.solver_status})")
            engine.dispose()

    def row(name: str, values: list[float], target: str) -> str:
        return (f"| {name} | {len(values)} | {statistics.median(values):.3f} | {max(values):.3f} | {target} |")

    print(f"Command: `python -m bench.nightly --repeat {args.repeat} --proposals {args.proposals}`  ")
    print(f"Machine: {_machine()}  ")
    print(f"Demo district: {len(snapshot.problem.people)} young people, {len(snapshot.problem.groups)} groups; "
          f"nightly plan placed {', '.join(placed)}\n")
    print("| measurement | n | median s | max s | target |")
    print("|---|---|---|---|---|")
    print(row("snapshot (rows → problem)", snapshots, "–"))
    print(row("recommendation in the engine (3 options, everyone else fixed)", engine_only, "–"))
    print(row("instant proposal end to end (snapshot, recommend, explain)", proposals, "≤ 1 s"))
    print(row("nightly run end to end (snapshot, solve, apply, record)", nightly, "< 10 s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
