"""One rich district for the security tests: two providers, two ASD teams, their people and records.

Built once per test module into its own SQLite file, or its own PostgreSQL database
(`DistrictApp`). Every record the URL rules need exists twice, once "own" (provider P1 / team T1,
the side of the logged-in coordinator and caseworker) and once "foreign" (provider P2 / team T2),
plus the cross cases (a young person of team T2 placed in a group of P1: the coordinator is the
host). Records are kept as plain ids.

`DistrictApp` also keeps a pristine copy of the database (a file copy on SQLite, a template
database on PostgreSQL): `restore()` puts it back after a request that wrote something, so every
request of a walk starts from the same state, and `digest()` fingerprints the whole database
(every table, every row) to prove "nothing written".
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from marketplace import attendance as att
from marketplace import create_app, migrate
from marketplace.api_tokens import create_token
from marketplace.db import normalise_url
from marketplace.ledger import book_month
from marketplace.models import (
    Attendance,
    CaseFlag,
    IndividualHours,
    Notification,
    PlacementRequest,
    Role,
    RunKind,
    TokenScope,
)
from marketplace.runs import create_run, execute_run
from marketplace.seats import recount_seats
from marketplace.timeutil import BERLIN, month_key, today_berlin
from tests.conftest import TEST_SECRET, _admin_engine
from tests.factories import (
    make_category,
    make_module,
    make_municipality,
    make_offer,
    make_placement,
    make_provider,
    make_sozialraum,
    make_team,
    make_user,
    make_young_person,
)
from tests.web.conftest import csrf_from, post_login

#: The roles of the walk; "coordinator" and "caseworker" are the users of P1 and T1.
ROLES = ("anonymous", "coordinator", "caseworker", "planner", "admin")


@dataclass
class District:
    """Ids of the district's records (`ids["offer_own"]` ...) and the users by key."""

    ids: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    #: Case references and pseudonyms of every young person (for privacy checks).
    case_references: list[str] = field(default_factory=list)
    pseudonyms: dict[str, str] = field(default_factory=dict)
    month: str = ""  # a past month with attendance and booked offsets
    run_key: str = ""  # a young person's key in the solver run's problem ("Y<id>")


def _last_month(today: date) -> str:
    first = today.replace(day=1) - timedelta(days=1)
    return month_key(first)


def build_district(session: Session) -> District:
    """Create the district's rows (committed)."""
    d = District()
    today = today_berlin()
    for code in ("flex", "basis", "standard", "zusatz", "sonder", "krise"):
        make_module(session, code)
    for code in ("social_skills", "sports", "learning_support"):
        d.ids[f"category_{code}"] = make_category(session, code).id
    area1, area2 = make_sozialraum(session, name="Nord"), make_sozialraum(session, name="Süd")
    town1 = make_municipality(session, sozialraum_id=area1.id, lat=49.87, lon=8.80)
    town2 = make_municipality(session, sozialraum_id=area2.id, lat=49.88, lon=8.81)
    p1, p2 = make_provider(session, allows_co_use=True), make_provider(session, allows_co_use=True)
    t1, t2 = make_team(session), make_team(session)
    users = {
        "coordinator": make_user(session, Role.coordinator, provider_id=p1.id, display_name="Koordination Eins"),
        "coordinator2": make_user(session, Role.coordinator, provider_id=p2.id, display_name="Koordination Zwei"),
        "caseworker": make_user(session, Role.caseworker, team_id=t1.id, display_name="Fachkraft Eins"),
        "caseworker2": make_user(session, Role.caseworker, team_id=t2.id, display_name="Fachkraft Zwei"),
        # responsible for yp_own, which is never accepted anywhere: no coordinator may learn this name
        "caseworker3": make_user(session, Role.caseworker, team_id=t1.id, display_name="Fachkraft Drei Verborgen"),
        "planner": make_user(session, Role.planner, display_name="Planung"),
        "admin": make_user(session, Role.admin, display_name="Administration"),
    }
    d.emails = {key: u.email for key, u in users.items()}
    d.user_ids = {key: u.id for key, u in users.items()}
    d.ids.update(provider_own=p1.id, provider_foreign=p2.id, team_own=t1.id, team_foreign=t2.id,
                 town=town1.id, town2=town2.id)

    long_ago = today - timedelta(days=120)
    o1 = make_offer(session, provider=p1, municipality=town1, title="Soziale Kompetenz Nord", min_size=1,
                    first_date=long_ago, sessions=((0, 15 * 60, 17 * 60),), vacancy_confirmed_at=None)
    o2 = make_offer(session, provider=p2, municipality=town2, title="Sport Süd", min_size=1, first_date=long_ago,
                    sessions=((1, 15 * 60, 17 * 60),), categories=("sports", "social_skills"))
    o1_draft = make_offer(session, provider=p1, municipality=town1, title="Entwurf Nord", status="draft",
                          certified_until=None)
    o2_draft = make_offer(session, provider=p2, municipality=town2, title="Entwurf Süd", status="draft",
                          certified_until=None)
    d.ids.update(offer_own=o1.id, offer_foreign=o2.id, offer_own_draft=o1_draft.id, offer_foreign_draft=o2_draft.id)

    def person(team: Any, lead: Any, town: Any, caseworker: Any) -> Any:
        yp = make_young_person(session, team=team, municipality=town, lead_provider_id=lead.id,
                               caseworker_id=caseworker.id, approval_start=long_ago)
        d.case_references.append(yp.case_reference)
        return yp

    yp1 = person(t1, p1, town1, users["caseworker3"])
    yp1b = person(t1, p1, town1, users["caseworker"])
    yp2 = person(t2, p2, town2, users["caseworker2"])
    yp2b = person(t2, p2, town2, users["caseworker2"])
    d.pseudonyms = {"yp_own": yp1.pseudonym, "yp_own_member": yp1b.pseudonym, "yp_foreign": yp2.pseudonym,
                    "yp_host": yp2b.pseudonym}
    d.ids.update(yp_own=yp1.id, yp_own_member=yp1b.id, yp_foreign=yp2.id, yp_host=yp2b.id)

    accepted_at = datetime.combine(long_ago, time(12), tzinfo=BERLIN)
    pl_own = make_placement(session, young_person=yp1, offer=o1, status="confirmed")
    pl_foreign = make_placement(session, young_person=yp2, offer=o2, status="confirmed")
    pl_host = make_placement(session, young_person=yp2b, offer=o1, status="accepted", variant="A",
                             confirmed_at=accepted_at, accepted_at=accepted_at)
    pl_member = make_placement(session, young_person=yp1b, offer=o1, status="accepted",
                               confirmed_at=accepted_at, accepted_at=accepted_at)
    pl_proposed = make_placement(session, young_person=yp1, offer=o2, status="proposed")
    pl_proposed2 = make_placement(session, young_person=yp2, offer=o1, status="proposed")
    d.ids.update(placement_own=pl_own.id, placement_foreign=pl_foreign.id, placement_host=pl_host.id,
                 placement_member=pl_member.id, proposal_own=pl_proposed.id, proposal_foreign=pl_proposed2.id)
    for offer in (o1, o2):
        recount_seats(session, offer.id)

    rq1 = PlacementRequest(young_person_id=yp1.id, requested_by=users["caseworker"].id, status="open")
    rq2 = PlacementRequest(young_person_id=yp2.id, requested_by=users["caseworker2"].id, status="waiting",
                           waiting_reasons="Keine Gruppe passt.")
    session.add_all([rq1, rq2])
    session.flush()
    d.ids.update(request_own=rq1.id, request_foreign=rq2.id)

    f1 = CaseFlag(young_person_id=yp1.id, kind="over_max", placement_id=pl_own.id, excess_minutes=30)
    f2 = CaseFlag(young_person_id=yp2.id, kind="over_max", placement_id=pl_foreign.id, excess_minutes=30)
    session.add_all([f1, f2])
    session.flush()
    d.ids.update(flag_own=f1.id, flag_foreign=f2.id)

    # attendance of last month for both members of o1 (one of them a shared use P2 → P1), booked
    d.month = _last_month(today)
    o1_session = o1.sessions[0]
    for when in att.session_dates(o1, d.month):
        for placement in (pl_host, pl_member):
            session.add(Attendance(placement_id=placement.id, session_date=when.day,
                                   offer_session_id=o1_session.id, status="present",
                                   recorded_by=users["coordinator"].id))
    session.add(IndividualHours(young_person_id=yp1.id, month=d.month, minutes=120, provider_id=p1.id))
    for key in ("coordinator", "coordinator2", "caseworker", "caseworker2", "planner", "admin"):
        session.add(Notification(user_id=users[key].id, text="Neuer Belegungsvorschlag", link="/"))
    session.commit()
    book_month(session, month=d.month)
    session.commit()
    return d


def add_solver_run(engine: Any, district: District) -> None:
    """A finished (not applied) solver run over the district, for the run pages."""
    run_id = create_run(engine, kind=RunKind.on_demand, started_by=district.user_ids["planner"])
    run = execute_run(engine, run_id, apply=False, time_limit_s=5, deterministic=True)
    assert run.status == "done", run.error
    district.ids["run"] = run_id
    district.run_key = f"Y{district.ids['yp_own']}"


#: Bookkeeping columns a read may update (an API token's last use): not "a write" for the tests.
IGNORED_COLUMNS = {"api_token": {"last_used_at"}}


def _select(connection: Any, table: str) -> str:
    columns = [c["name"] for c in inspect(connection).get_columns(table)
               if c["name"] not in IGNORED_COLUMNS.get(table, set())]
    return "SELECT " + ", ".join(f'"{c}"' for c in columns) + f' FROM "{table}"'


class SqliteStore:
    """The district's database as a SQLite file next to a pristine copy."""

    def __init__(self, directory: Path, template: Path) -> None:
        self.path = directory / "district.db"
        self.pristine = directory / "district-pristine.db"
        shutil.copyfile(template, self.path)
        self.url = f"sqlite:///{self.path}"

    def keep_pristine(self) -> None:
        shutil.copyfile(self.path, self.pristine)

    def restore(self) -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.pristine, self.path)

    def close(self) -> None:
        pass


class PostgresStore:
    """The district's database on a PostgreSQL server: its own database and a pristine template of it."""

    def __init__(self, server_url: str) -> None:
        suffix = uuid.uuid4().hex[:10]
        self.name, self.pristine = f"district_{suffix}", f"district_{suffix}_pristine"
        self.admin = _admin_engine(server_url)
        self._sql(f'CREATE DATABASE "{self.name}"')
        self.url = make_url(normalise_url(server_url)).set(database=self.name).render_as_string(hide_password=False)
        migrate.upgrade(self.url)

    def _sql(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(statement)

    def keep_pristine(self) -> None:
        self._sql(f'CREATE DATABASE "{self.pristine}" TEMPLATE "{self.name}"')

    def restore(self) -> None:
        self._sql(f'DROP DATABASE "{self.name}" WITH (FORCE)')
        self._sql(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.pristine}"')

    def close(self) -> None:
        for name in (self.name, self.pristine):
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


class DistrictApp:
    """An app on the district's database, one logged-in cookie and CSRF token per role, API tokens,
    and the pristine database to go back to.

    By default the database is a SQLite file in `directory` (a copy of the migrated `template`);
    with `postgres_server` (a server URL) it is a new database on that server, dropped by `close()`.
    """

    def __init__(self, directory: Path, template: Path, overrides: dict | None = None, *,
                 postgres_server: str | None = None) -> None:
        self.store: SqliteStore | PostgresStore = (
            PostgresStore(postgres_server) if postgres_server else SqliteStore(directory, template))
        config = {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": self.store.url}
        self.app: Flask = create_app({**config, **(overrides or {})})
        self.engine = self.app.extensions["db_engine"]
        self.dialect = self.engine.dialect.name
        with Session(self.engine, expire_on_commit=False) as session:
            self.district = build_district(session)
        add_solver_run(self.engine, self.district)
        self.cookies: dict[str, str] = {}
        self.csrf: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.token_ids: dict[str, int] = {}
        with Session(self.engine, expire_on_commit=False) as session:
            from marketplace.models import User

            for key, user_id in self.district.user_ids.items():
                user = session.get(User, user_id)
                new = create_token(session, user=user, name=f"Test {key}", scope=TokenScope.read_write.value)
                self.tokens[key] = new.secret
                self.token_ids[key] = new.token.id
        for key in self.district.emails:
            self._login(key)
        self.engine.dispose()
        self.store.keep_pristine()
        self.pristine_tables = self.table_digests()
        self.pristine_digest = self.digest()
        self.pristine_digest_without_audit = self.digest(ignore={"audit_event"})
        with self.engine.connect() as connection:
            self.pristine_audit_max = connection.execute(text("SELECT coalesce(max(id), 0) FROM audit_event")).scalar()

    # ------------------------------------------------------------------ sessions

    def _login(self, key: str) -> None:
        client = self.app.test_client()
        response = post_login(client, self.district.emails[key])
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self.csrf[key] = csrf_from(client.get("/password").get_data(as_text=True))
        cookie = client.get_cookie("session")
        assert cookie is not None
        self.cookies[key] = cookie.value

    def client(self, role: str) -> FlaskClient:
        """A fresh test client; logged in as `role` (a user key) unless "anonymous"."""
        client = self.app.test_client()
        if role != "anonymous":
            client.set_cookie("session", self.cookies[role])
        return client

    # ------------------------------------------------------------------ database state

    def table_digests(self, ignore: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
        """A fingerprint per table (but `ignore`) of all its rows (order-independent)."""
        digests = {}
        with self.engine.connect() as connection:
            for table in sorted(set(inspect(connection).get_table_names()) - set(ignore)):
                rows = connection.execute(text(_select(connection, table))).fetchall()
                h = hashlib.sha256(table.encode())
                for row in sorted(repr(tuple(r)) for r in rows):
                    h.update(row.encode())
                digests[table] = h.hexdigest()
        return digests

    def digest(self, ignore: set[str] | frozenset[str] = frozenset()) -> str:
        """A fingerprint of every row of every table but `ignore`."""
        return hashlib.sha256(repr(sorted(self.table_digests(ignore).items())).encode()).hexdigest()

    def changed_tables(self) -> list[str]:
        """Tables whose rows differ from the pristine database (for failure messages)."""
        now = self.table_digests()
        return sorted(name for name in now.keys() | self.pristine_tables.keys()
                      if now.get(name) != self.pristine_tables.get(name))

    def restore(self) -> None:
        """Put the pristine database back (after a request that wrote)."""
        self.engine.dispose()
        self.store.restore()

    def audit_changes(self) -> list[tuple]:
        """Audit rows written since the pristine state that record more than a view."""
        with self.engine.connect() as connection:
            rows = connection.execute(text("SELECT action, object_type, object_id FROM audit_event WHERE id > :last "
                                           "AND action <> 'view'"), {"last": self.pristine_audit_max}).fetchall()
        return [tuple(r) for r in rows]

    def dirty(self) -> bool:
        return self.digest() != self.pristine_digest

    def close(self) -> None:
        self.engine.dispose()
        self.store.close()
