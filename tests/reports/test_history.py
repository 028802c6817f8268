"""`seed history`: twelve plausible months on the demo district, idempotent, reconciled with the ledger."""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import seed
from marketplace import create_app
from marketplace.models import (
    Attendance,
    GroupOffer,
    MonthClose,
    OffsetEntry,
    Placement,
    SharedUse,
    YoungPerson,
)
from marketplace.reports import occupancy
from marketplace.reports.filters import ReportFilters
from marketplace.timeutil import to_berlin
from seed.history import load_history, summary_de
from tests.conftest import TEST_SECRET

from .test_reconciliation import reconcile

REFERENCE = date(2026, 11, 18)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def history_db(tmp_path_factory, _migrated_template):
    """The demo district with its history, seeded once for this module."""
    path = tmp_path_factory.mktemp("history") / "history.db"
    shutil.copyfile(_migrated_template, path)
    app = create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{path}"})
    engine = app.extensions["db_engine"]
    with Session(engine, expire_on_commit=False) as session:
        seed.load_demo(session, today=REFERENCE)
        created = load_history(session, today=REFERENCE)
        session.commit()
    yield engine, created
    engine.dispose()


def _state(session: Session) -> tuple:
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in (
        GroupOffer, YoungPerson, Placement, SharedUse, Attendance, OffsetEntry, MonthClose)) + (
        session.scalar(select(func.max(OffsetEntry.id))),)


def test_history_adds_a_plausible_year(history_db):
    engine, created = history_db
    assert created["group_offer"] >= 40 and created["young_person"] == 600
    assert created["placement"] >= 300 and created["shared_use"] >= 100 and created["attendance"] >= 5000
    assert created["month_close"] == 10
    assert "Vorgängergruppen" in summary_de(created)
    with Session(engine) as session:
        report = occupancy(session, filters=ReportFilters("2025-11", "2026-11"), today=REFERENCE)
        months = report.by_month()
        assert all(t.booked > 0 and t.attended_minutes > 0 for m, t in months.items() if m >= "2025-12")
        assert all(0 < (t.booked_share or 0) <= 1 for m, t in months.items() if m >= "2025-12")
        closed = session.exec(select(MonthClose.month).order_by(MonthClose.month)).all()
        assert closed == [f"{y}-{m:02d}" for y, m in [(2025, 11), (2025, 12)] + [(2026, n) for n in range(1, 9)]]


def test_history_never_overbooks_a_group(history_db):
    engine, _ = history_db
    with Session(engine) as session:
        seats = dict(session.exec(select(GroupOffer.id, GroupOffer.seats)).all())
        held = defaultdict(list)
        for p in session.exec(select(Placement).where(Placement.status.in_(["confirmed", "accepted", "ended"]))):
            if p.confirmed_at is not None:
                held[p.offer_id].append((to_berlin(p.confirmed_at).date(),
                                         to_berlin(p.ended_at).date() if p.ended_at else date.max))
        for offer_id, spans in held.items():
            for day, _ in spans:
                assert sum(1 for s, e in spans if s <= day <= e) <= seats[offer_id], offer_id


def test_history_reconciles_with_ledger_and_records(history_db):
    engine, _ = history_db
    with Session(engine) as session:
        reconcile(session, ReportFilters("2025-11", "2026-11"), REFERENCE)


def test_seeding_history_twice_changes_nothing(history_db):
    engine, _ = history_db
    with Session(engine, expire_on_commit=False) as session:
        before = _state(session)
        assert load_history(session, today=REFERENCE) == {}
        assert load_history(session, today=date(2026, 12, 5)) == {}
        session.commit()
        assert _state(session) == before


def test_cli_refuses_history_without_the_demo(runner):
    result = runner.invoke(args=["seed", "history"])
    assert result.exit_code == 1
    assert "Zuerst die Demodaten laden" in result.output
