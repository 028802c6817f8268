"""Load test on loopback: 50 concurrent users browse the catalogue and request placements.

    python -m bench.load [--users 50] [--duration 60] [--postgres URL]

For each database (SQLite always; PostgreSQL when --postgres or MARKETPLACE_BENCH_POSTGRES_URL
names a server, whose database `gb_loadtest` is dropped and re-created) the demo district
is seeded into a fresh database (PostgreSQL then gets its planner statistics with ANALYZE, as a
database in use has them), the app is served by gunicorn (2 workers × 8 threads) on
127.0.0.1, and the users (one arriving every 0.2 s) run for `--duration` seconds with 0.5–1.5 s think time:
coordinators and planners browse the catalogue and offer pages; caseworkers also request
placements for young people of their team and confirm the first option of every second
proposal. Afterwards the database is checked for overbooking (seat counter vs. seats and vs.
the placements that hold a seat). Prints a Markdown table per database with the command and
machine; its last row counts only the requests sent once every user has arrived and logged in.
Every request loop is bounded in count and time; only 127.0.0.1 is contacted.
Targets (issue 10): p95 < 300 ms, zero errors, zero overbooking.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import requests

PASSWORD = "demo-passwort"
BROWSERS = ["koordination@traeger-1.example", "koordination@traeger-2.example", "planung@jugendamt.example"]
CASEWORKERS = ["asd@jugendamt.example", "asd-west@jugendamt.example"]
MAX_REQUESTS_PER_USER = 2000
RAMP_UP_S = 0.2  # a new user every 0.2 s: all 50 are active after 10 s
SETTLE_S = 5  # the last arrivals' logins (argon2id, about 0.2 s of CPU each) are over by then
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_OPTION = re.compile(r'name="option"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="option"')
_OFFER = re.compile(r'href="/angebote/(\d+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(url: str) -> dict[str, list[int]]:
    """Migrate and seed `url`; return each caseworker's young people (ids)."""
    from sqlalchemy import text
    from sqlmodel import Session, select

    from marketplace.db import make_engine
    from marketplace.migrate import upgrade
    from marketplace.models import User, YoungPerson
    from seed.demo import load_demo

    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        load_demo(session)
        session.commit()
        if engine.dialect.name == "postgresql":
            # statistics for the planner, as a database in use has them (autovacuum would take up to a minute)
            session.execute(text("ANALYZE"))
            session.commit()
        teams = {}
        for email in CASEWORKERS:
            user = session.exec(select(User).where(User.email == email)).one()
            teams[email] = list(session.exec(select(YoungPerson.id).where(
                YoungPerson.team_id == user.team_id, YoungPerson.status == "active")).all())
    engine.dispose()
    return teams


def _overbooking(url: str) -> list[str]:
    from sqlmodel import Session, select

    from marketplace.db import make_engine
    from marketplace.models import GroupOffer
    from marketplace.seats import held_seats

    engine = make_engine(url)
    problems = []
    with Session(engine) as session:
        for offer in session.exec(select(GroupOffer)).all():
            held = held_seats(session, offer.id)
            if offer.seats_taken > offer.seats or held != offer.seats_taken:
                problems.append(f"{offer.id}: {offer.seats_taken} taken, {held} held, {offer.seats} seats")
    engine.dispose()
    return problems


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.settled: list[float] = []  # non-login requests sent once every user has arrived and logged in
        self.settled_from = float("inf")  # time.perf_counter() from when a request counts as settled
        self.errors: list[str] = []
        self.conflicts = 0
        self.confirmed = 0

    def record(self, kind: str, seconds: float, started: float) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            if kind != "login" and started >= self.settled_from:
                self.settled.append(seconds)


def _user(base: str, email: str, team: list[int] | None, stop: float, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    http = requests.Session()
    time.sleep(seed * RAMP_UP_S)  # users arrive one after another, as in an office morning

    def call(kind: str, method: str, path: str, **kwargs) -> requests.Response | None:
        start = time.perf_counter()
        try:
            response = http.request(method, base + path, timeout=30, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            with stats.lock:
                stats.errors.append(f"{kind}: {type(exc).__name__}")
            return None
        stats.record(kind, time.perf_counter() - start, start)
        if response.status_code >= 500:
            with stats.lock:
                stats.errors.append(f"{kind}: HTTP {response.status_code}")
        return response

    page = call("login", "GET", "/login")
    if page is None:
        return
    token = _token(page.text)
    if call("login", "POST", "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}) is None:
        return
    offers: list[str] = []
    for _ in range(MAX_REQUESTS_PER_USER):
        if time.monotonic() >= stop:
            break
        time.sleep(rng.uniform(0.5, 1.5))
        roll = rng.random()
        if team and roll < 0.3:
            _request_placement(call, rng.choice(team), rng, stats)
        elif offers and roll < 0.55:
            call("offer page", "GET", f"/angebote/{rng.choice(offers)}")
        else:
            params = rng.choice([{}, {"frei": "1"}, {"alter": str(rng.randint(8, 16))},
                                 {"wochentag": str(rng.randint(0, 4))}, {"seite": "2"}])
            response = call("catalogue", "GET", "/katalog/", params=params)
            if response is not None and response.ok:
                offers = _OFFER.findall(response.text) or offers


def _request_placement(call, young_person_id: int, rng: random.Random, stats: Stats) -> None:
    form = call("request form", "GET", f"/belegung/neu/{young_person_id}")
    if form is None or form.status_code != 200:
        return
    answer = call("request + proposal", "POST", f"/belegung/neu/{young_person_id}",
                  data={"csrf_token": _token(form.text), "note": ""})
    if answer is None or answer.status_code not in (302, 303):
        return
    path = urlsplit(answer.headers["Location"]).path  # e.g. /belegung/anfragen/17
    detail = call("proposal page", "GET", path)
    if detail is None or detail.status_code != 200 or rng.random() < 0.5:
        return
    options = [a or b for a, b in _OPTION.findall(detail.text)]
    if not options:
        return
    result = call("confirm", "POST", f"{path}/bestaetigen",
                  data={"csrf_token": _token(detail.text), "option": options[0]})
    if result is not None:
        with stats.lock:
            if result.status_code in (302, 303, 200):
                stats.confirmed += 1
            elif result.status_code == 409:
                stats.conflicts += 1


def _token(html: str) -> str:
    match = _TOKEN.search(html)
    return (match.group(1) or match.group(2)) if match else ""


def run(url: str, label: str, users: int, duration: float) -> str:
    teams = _prepare(url)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "MARKETPLACE_SECRET_KEY": "load-test-" + "k" * 40,
           "MARKETPLACE_LOGIN_MAX_FAILURES": "1000"}
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    command = [gunicorn, "-w", "2", "--threads", "8", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
               "marketplace:create_app()"]
    server = subprocess.Popen(command, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        stats = Stats()
        stop = time.monotonic() + duration
        stats.settled_from = time.perf_counter() + users * RAMP_UP_S + SETTLE_S
        threads = []
        for n in range(users):
            email = CASEWORKERS[n % 2] if n % 5 < 2 else BROWSERS[n % len(BROWSERS)]
            team = teams.get(email)
            threads.append(threading.Thread(target=_user, args=(base, email, team, stop, stats, n), daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=duration + 60)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    overbooked = _overbooking(url)
    lines = [f"### {label}: {users} users, {duration:g} s", "",
             "| request | n | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|"]
    everything = []
    for kind, values in sorted(stats.times.items()):
        if kind != "login":  # argon2id is slow on purpose; a login happens once per session
            everything += values
        lines.append(_row(kind, values))
    lines.append(_row("**all except login**", everything))
    lines.append(_row(f"all except login, from {users * RAMP_UP_S + SETTLE_S:g} s (all users arrived)", stats.settled))
    lines += ["", f"Errors (5xx or connection): {len(stats.errors)}"
              + (f" ({', '.join(sorted(set(stats.errors))[:5])})" if stats.errors else ""),
              f"Confirmations: {stats.confirmed} succeeded, {stats.conflicts} refused (group full or changed)",
              f"Overbooked groups: {len(overbooked)}" + (f" ({'; '.join(overbooked[:5])})" if overbooked else ""), ""]
    return "\n".join(lines)


def _row(kind: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    if not ms:
        return f"| {kind} | 0 | – | – | – |"
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"| {kind} | {len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} | {ms[-1]:.0f} |"


def _fresh_postgres(server_url: str) -> str:
    from sqlalchemy import create_engine, text

    from marketplace.db import normalise_url

    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS gb_loadtest WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE gb_loadtest"))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + "/gb_loadtest"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--postgres", default=os.environ.get("MARKETPLACE_BENCH_POSTGRES_URL"))
    args = parser.parse_args(argv)
    from bench.nightly import _machine

    print(f"Command: `python -m bench.load --users {args.users} --duration {args.duration:g}"
          + (" --postgres URL`" if args.postgres else "`") + "  ")
    print(f"Machine: {_machine()}; server: gunicorn 2 workers × 8 threads, load generator on the same machine\n")
    with tempfile.TemporaryDirectory() as tmp:
        print(run(f"sqlite:///{Path(tmp) / 'load.db'}", "SQLite", args.users, args.duration))
    if args.postgres:
        print(run(_fresh_postgres(args.postgres), "PostgreSQL", args.users, args.duration))
    return 0


if __name__ == "__main__":
    sys.exit(main())
