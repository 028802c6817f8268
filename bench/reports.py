"""Report pages benchmark: every page of /berichte on the demo district with its year of history.

usage: python -m bench.reports [--repeat 7] [--limit-ms 500] [--out FILE]

Seeds the demo district and `seed history` into a temporary SQLite database, logs in as
the planning account through the login form (CSRF included) and times each report page
through the Flask test client: the first call (cold) and `--repeat` further calls. Three
past months are signed off first, so the pages also do their change check. The demand
page is also timed right after the engine's reason cache is emptied (the first view after
any data change). Prints a Markdown table with the exact command and the machine; the exit
status is 1 when a page's median exceeds --limit-ms. --out appends the same text to a file.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ("Übersicht", "/berichte/"),
    ("Auslastung nach Träger (Standard)", "/berichte/auslastung"),
    ("Auslastung nach Gruppe", "/berichte/auslastung?nach=gruppe"),
    ("Auslastung nach Kategorie, Sozialraum gefiltert", "/berichte/auslastung?nach=kategorie&sozialraum=1"),
    ("Auslastung, htmx-Teilansicht", "/berichte/auslastung?nach=monat&hx=1"),
    ("Ungedeckter Bedarf", "/berichte/bedarf"),
    ("Modulstunden nach Modul", "/berichte/modulstunden"),
    ("Modulstunden nach Team, Träger gefiltert", "/berichte/modulstunden?nach=team&traeger=1"),
    ("Trägerübergreifende Nutzung", "/berichte/traegeruebergreifend"),
    ("Monatsabnahme", "/berichte/abnahme"),
    ("Export Auslastung CSV", "/berichte/auslastung/export.csv"),
    ("Export Bedarf XLSX", "/berichte/bedarf/export.xlsx"),
    ("Export Modulstunden PDF", "/berichte/modulstunden/export.pdf"),
]
EXPORT_PREFIX = "Export"


def machine() -> str:
    cpu = "unknown"
    ram = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    return (f"{os.cpu_count()} cores, {ram} RAM, {cpu}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, SQLite; commit {commit}; "
            f"load average {os.getloadavg()[0]:.1f} (other work on the machine skews times)")


def seeded_app(directory: Path):
    """The app on a fresh SQLite file with the demo district and its history (returns app, counts)."""
    from sqlmodel import Session

    import seed
    from marketplace import create_app, migrate
    from marketplace.timeutil import today_berlin
    from seed.history import load_history

    url = f"sqlite:///{directory / 'bench.db'}"
    migrate.upgrade(url)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
                      "DATABASE_URL": url})
    with Session(app.extensions["db_engine"]) as session:
        today = today_berlin()
        seed.load_demo(session, today=today)
        created = load_history(session, today=today)
        session.commit()
    return app, created


def login(client, email: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit("Anmeldung als Planung fehlgeschlagen")


def sign_off_three_months(app) -> None:
    from sqlmodel import Session, select

    from marketplace.models import User
    from marketplace.reports.filters import shift_month
    from marketplace.reports.signoff import sign_off
    from marketplace.timeutil import month_key, today_berlin

    today = today_berlin()
    with Session(app.extensions["db_engine"]) as session:
        planner = session.exec(select(User).where(User.email == "planung@jugendamt.example")).one()
        for back in (1, 2, 3):
            sign_off(session, month=shift_month(month_key(today), -back), actor=planner,
                     comment="Benchmark", today=today)


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def measure(client, url: str, repeat: int) -> tuple[float, list[float]]:
    headers = {"HX-Request": "true"} if "hx=1" in url else {}

    def get():
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")

    first = timed(get)
    return first, [timed(get) for _ in range(repeat)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed calls per page after the first")
    parser.add_argument("--limit-ms", type=float, default=500.0, help="budget per page (median)")
    parser.add_argument("--out", type=Path, help="append the Markdown to this file")
    args = parser.parse_args(argv)

    from marketplace.reports import demand
    from marketplace.snapshot_cache import clear_snapshot_cache

    def forget() -> None:  # the first view after a data change: problem and reasons are rebuilt
        clear_snapshot_cache()
        demand._REASON_CACHE.clear()

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        app, created = seeded_app(Path(tmp))
        seeding_s = time.perf_counter() - started
        sign_off_three_months(app)
        client = app.test_client()
        login(client, "planung@jugendamt.example", "demo-passwort")
        rows = []
        forget()
        cold_demand = timed(lambda: client.get("/berichte/bedarf"))
        for label, url in PAGES:
            first, times = measure(client, url, args.repeat)
            rows.append((label, url, first, times))
        forget()
        cold_again = [timed(lambda: (forget(), client.get("/berichte/bedarf")))
                      for _ in range(args.repeat)]
        rows.insert(6, ("Ungedeckter Bedarf, Gründe neu berechnet", "/berichte/bedarf", cold_demand, cold_again))

    command = "python -m bench.reports " + shlex.join(argv if argv is not None else sys.argv[1:])
    lines = [
        f"Command: `{command.strip()}`  ",
        f"Machine: {machine()}  ",
        f"Data: demo district + `seed history` ({created['placement']} history placements, "
        f"{created['attendance']} attendance marks, {created['month_close']} closed months; seeded in "
        f"{seeding_s:.0f} s); three months signed off; {args.repeat} timed calls per page after the first.",
        "",
        "| Page | URL | first call (ms) | median (ms) | max (ms) | under budget |",
        "|---|---|---:|---:|---:|:---:|",
    ]
    failed = []
    for label, url, first, times in rows:
        median = statistics.median(times)
        is_page = not label.startswith(EXPORT_PREFIX)
        ok = median <= args.limit_ms
        if is_page and not ok:
            failed.append(label)
        mark = ("✓" if ok else "✗") if is_page else "(Export)"
        lines.append(f"| {label} | `{url}` | {first:.0f} | {median:.0f} | {max(times):.0f} | {mark} |")
    lines += ["", (f"All report pages answer within {args.limit_ms:.0f} ms (median)." if not failed
                   else f"Over {args.limit_ms:.0f} ms: {', '.join(failed)}.")]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
