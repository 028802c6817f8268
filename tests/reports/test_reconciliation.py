"""Report totals reconcile with the ledger's statements and with the placement and attendance records."""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, select

from marketplace.ledger import statement
from marketplace.models import Attendance, OfferSession, Placement, YoungPerson
from marketplace.monitoring import help_days
from marketplace.reports import cross_provider, module_hours, occupancy
from marketplace.reports.facts import month_first_day, month_last_day
from marketplace.reports.filters import ReportFilters
from marketplace.timeutil import to_berlin

from .district import TODAY, District

PERIOD = ReportFilters(first_month="2026-01", last_month="2026-03")


def reconcile(session: Session, filters: ReportFilters, today) -> None:
    """Cross-check the reports of `filters` against the raw records; used on the demo history too."""
    months = [m for m in filters.months if month_first_day(m) <= today]
    # 1. offsets per month and pair equal the ledger's statements
    cross = cross_provider(session, filters=filters, today=today)
    for month in months:
        ledger = statement(session, month=month)
        assert cross.months.get(month, (0, 0, 0))[1] == sum(p.total_cents for p in ledger.pairs), month
        assert cross.months.get(month, (0, 0, 0))[0] == sum(p.minutes for p in ledger.pairs), month
    assert cross.total_cents == sum(sum(p.total_cents for p in statement(session, month=m).pairs) for m in months)
    # 2. attended minutes per month equal the "present" attendance records (of offers that ran)
    occ = occupancy(session, filters=filters, today=today)
    present = Counter()
    rows = session.exec(
        select(Attendance.session_date, OfferSession.end_minute - OfferSession.start_minute, Placement.offer_id)
        .join(OfferSession, OfferSession.id == Attendance.offer_session_id)
        .join(Placement, Placement.id == Attendance.placement_id)
        .where(Attendance.status == "present", Attendance.session_date >= filters.first_day,
               Attendance.session_date <= min(filters.last_day, today))).all()
    for day, minutes, offer_id in rows:
        if offer_id in occ.offers:
            present[f"{day:%Y-%m}"] += minutes
    assert {m: t.attended_minutes for m, t in occ.by_month().items() if t.attended_minutes} == \
        {m: v for m, v in present.items() if v}
    # 3. booked seats per month equal the seat-holding placements counted one by one
    placements = session.exec(select(Placement).where(Placement.offer_id.in_(list(occ.offers)))).all()
    for month in months:
        first, last = month_first_day(month), min(month_last_day(month), today)
        expected = sum(1 for p in placements
                       if p.status in ("confirmed", "accepted", "ended") and p.confirmed_at is not None
                       and to_berlin(p.confirmed_at).date() <= last
                       and (p.ended_at is None or to_berlin(p.ended_at).date() >= first))
        assert occ.by_month()[month].booked == expected, month
    # 4. module hours: the group minutes are the attended minutes in the months the young person's help ran
    #    (monitoring counts by month: `help_days` > 0), re-counted row by row
    helps = session.exec(
        select(Attendance.session_date, OfferSession.end_minute - OfferSession.start_minute, YoungPerson)
        .join(OfferSession, OfferSession.id == Attendance.offer_session_id)
        .join(Placement, Placement.id == Attendance.placement_id)
        .join(YoungPerson, YoungPerson.id == Placement.young_person_id)
        .where(Attendance.status == "present", Attendance.session_date >= filters.first_day,
               Attendance.session_date <= min(filters.last_day, today))).all()
    during = sum(minutes for day, minutes, person in helps if help_days(person, f"{day:%Y-%m}", today) > 0)
    assert module_hours(session, filters=filters, today=today).total().group == during


def test_report_totals_reconcile_with_ledger_and_records(district: District):
    reconcile(district.session, PERIOD, TODAY)


def test_hand_counted_totals(district: District):
    cross = cross_provider(district.session, filters=PERIOD, today=TODAY)
    assert cross.total_cents == 8000 + 4000 + 4500 + 2250
    assert occupancy(district.session, filters=PERIOD, today=TODAY).total().attended_minutes == 600 + 240 + 180 + 90
