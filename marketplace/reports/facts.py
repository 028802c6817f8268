"""The raw facts every report aggregates, loaded in a fixed number of queries.

- `load_offers`: group offers that ran (published, paused or ended) in the period, with
  provider, Sozialraum (of the offer's municipality), categories and weekly sessions
  (three queries, never one per offer).
- `seat_holdings`: seat-holding placements (confirmed, accepted, or ended after being
  confirmed) with the days they held the seat (one query).
- `attendance_by_month`: attended sessions and minutes per offer and month (one GROUP BY).
- `offer_months`: per offer and month, seats, sessions held, capacity, booked seats and
  attendance — pure Python over the three.

Capacity (Kapazität) = seats × sessions held; sessions are counted from the offer's weekly
sessions between its first and last date, and not after today (a session still to come is
no missed capacity). Booked (belegt) = seat-holding placements active on at least one day
of the month. Attended (besucht) = sessions marked "present".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, exists, extract, func, or_
from sqlmodel import Session, select

from ..models import (
    Attendance,
    AttendanceStatus,
    GroupOffer,
    Municipality,
    OfferCategory,
    OfferSession,
    OfferStatus,
    Placement,
    PlacementStatus,
    Provider,
    Sozialraum,
    YoungPerson,
)
from ..timeutil import to_berlin
from .filters import ReportFilters, berlin_midnight, month_first_day, month_last_day

#: Offers that actually ran (or run): certified-only, draft, submitted and rejected offers never did.
RAN_STATUSES = (OfferStatus.published.value, OfferStatus.paused.value, OfferStatus.ended.value)
SEAT_STATUSES = (PlacementStatus.confirmed.value, PlacementStatus.accepted.value)


@dataclass
class OfferInfo:
    """A group offer as the reports see it."""

    id: int
    title: str
    provider_id: int
    provider_name: str
    municipality_id: int
    sozialraum_id: int
    sozialraum_name: str
    seats: int
    min_size: int
    seats_taken: int
    status: str
    first_date: date
    last_date: date | None
    category_ids: list[int] = field(default_factory=list)
    sessions: list[tuple[int, int]] = field(default_factory=list)  # (weekday, minutes)

    def runs_on(self, day: date) -> bool:
        return self.first_date <= day and (self.last_date is None or self.last_date >= day)


def load_offers(session: Session, filters: ReportFilters, *, statuses: Iterable[str] = RAN_STATUSES,
                first_day: date | None = None, last_day: date | None = None) -> dict[int, OfferInfo]:
    """Offers in `statuses` whose dates overlap the period, narrowed by the filters."""
    first_day = first_day or filters.first_day
    last_day = last_day or filters.last_day
    query = (
        select(GroupOffer.id, GroupOffer.title, GroupOffer.provider_id, Provider.name, GroupOffer.municipality_id,
               Municipality.sozialraum_id, Sozialraum.name, GroupOffer.seats, GroupOffer.min_size,
               GroupOffer.seats_taken, GroupOffer.status, GroupOffer.first_date, GroupOffer.last_date)
        .join(Provider, Provider.id == GroupOffer.provider_id)
        .join(Municipality, Municipality.id == GroupOffer.municipality_id)
        .join(Sozialraum, Sozialraum.id == Municipality.sozialraum_id)
        .where(GroupOffer.status.in_(list(statuses)), GroupOffer.first_date <= last_day,
               or_(GroupOffer.last_date.is_(None), GroupOffer.last_date >= first_day))
        .order_by(GroupOffer.title, GroupOffer.id)
    )
    if filters.provider_id is not None:
        query = query.where(GroupOffer.provider_id == filters.provider_id)
    if filters.sozialraum_id is not None:
        query = query.where(Municipality.sozialraum_id == filters.sozialraum_id)
    if filters.category_id is not None:
        query = query.where(exists().where(OfferCategory.offer_id == GroupOffer.id,
                                           OfferCategory.category_id == filters.category_id))
    offers = {row[0]: OfferInfo(*row) for row in session.exec(query).all()}
    if not offers:
        return offers
    ids = list(offers)
    for offer_id, category_id in session.exec(
            select(OfferCategory.offer_id, OfferCategory.category_id).where(OfferCategory.offer_id.in_(ids))):
        offers[offer_id].category_ids.append(category_id)
    for offer_id, weekday, start, end in session.exec(
            select(OfferSession.offer_id, OfferSession.weekday, OfferSession.start_minute, OfferSession.end_minute)
            .where(OfferSession.offer_id.in_(ids))):
        offers[offer_id].sessions.append((weekday, end - start))
    return offers


def weekday_count(weekday: int, first: date, last: date) -> int:
    """How many days in [first, last] fall on `weekday` (0 = Monday)."""
    if last < first:
        return 0
    start = first + timedelta(days=(weekday - first.weekday()) % 7)
    return 0 if start > last else (last - start).days // 7 + 1


@dataclass(frozen=True)
class Holding:
    """A seat-holding placement and the days it held its seat (`until` None: still holds it)."""

    placement_id: int
    offer_id: int
    young_person_id: int
    lead_provider_id: int | None
    since: date
    until: date | None

    def active_in(self, first: date, last: date) -> bool:
        return self.since <= last and (self.until is None or self.until >= first)


def seat_holdings(session: Session, offer_ids: Iterable[int], first_day: date, last_day: date) -> list[Holding]:
    """Seat-holding placements in `offer_ids` that held their seat on some day in [first_day, last_day]."""
    ids = list(offer_ids)
    if not ids:
        return []
    since = func.coalesce(Placement.confirmed_at, Placement.created_at)
    held = or_(Placement.status.in_(SEAT_STATUSES),
               and_(Placement.status == PlacementStatus.ended.value, Placement.confirmed_at.is_not(None)))
    rows = session.exec(
        select(Placement.id, Placement.offer_id, Placement.young_person_id, YoungPerson.lead_provider_id,
               Placement.confirmed_at, Placement.created_at, Placement.ended_at)
        .join(YoungPerson, YoungPerson.id == Placement.young_person_id)
        .where(Placement.offer_id.in_(ids), held, since < berlin_midnight(last_day + timedelta(days=1)),
               or_(Placement.ended_at.is_(None), Placement.ended_at >= berlin_midnight(first_day)))
    ).all()
    return [
        Holding(pid, oid, ypid, lead, to_berlin(confirmed or created).date(),
                to_berlin(ended).date() if ended is not None else None)
        for pid, oid, ypid, lead, confirmed, created, ended in rows
    ]


def attendance_by_month(session: Session, offer_ids: Iterable[int], first_day: date,
                        last_day: date) -> dict[tuple[int, str], tuple[int, int]]:
    """(offer id, "YYYY-MM") → (attended sessions, attended minutes), present marks only."""
    ids = list(offer_ids)
    if not ids:
        return {}
    year = extract("year", Attendance.session_date)
    month = extract("month", Attendance.session_date)
    rows = session.exec(
        select(Placement.offer_id, year, month, func.count(Attendance.id),
               func.sum(OfferSession.end_minute - OfferSession.start_minute))
        .select_from(Attendance)
        .join(Placement, Placement.id == Attendance.placement_id)
        .join(OfferSession, OfferSession.id == Attendance.offer_session_id)
        .where(Placement.offer_id.in_(ids), Attendance.status == AttendanceStatus.present.value,
               Attendance.session_date >= first_day, Attendance.session_date <= last_day)
        .group_by(Placement.offer_id, year, month)
    ).all()
    return {(oid, f"{int(y):04d}-{int(m):02d}"): (int(n), int(minutes or 0)) for oid, y, m, n, minutes in rows}


@dataclass
class OfferMonth:
    """One offer in one month: the figures occupancy adds up."""

    offer_id: int
    month: str
    seats: int  # 0 when the offer did not run in the month
    sessions: int  # session dates held (up to today)
    capacity_minutes: int  # seats × minutes of the sessions held
    booked: int  # seat-holding placements active in the month
    attended: int  # sessions attended ("present")
    attended_minutes: int


def offer_months(offers: dict[int, OfferInfo], months: list[str], holdings: list[Holding],
                 attendance: dict[tuple[int, str], tuple[int, int]], *, today: date) -> list[OfferMonth]:
    """Per offer and month the figures (rows only for months in which the offer ran or had bookings)."""
    bounds = [(month, month_first_day(month), min(month_last_day(month), today)) for month in months]
    booked: dict[tuple[int, str], int] = defaultdict(int)
    for h in holdings:
        for month, first, last in bounds:
            if h.active_in(first, last):
                booked[h.offer_id, month] += 1
    out = []
    for offer in offers.values():
        for month, month_first, month_last in bounds:
            first = max(month_first, offer.first_date)
            last = min(month_last, offer.last_date or date.max)
            ran = first <= last
            sessions = sum(weekday_count(day, first, last) for day, _ in offer.sessions) if ran else 0
            minutes = sum(weekday_count(day, first, last) * length for day, length in offer.sessions) if ran else 0
            attended, attended_minutes = attendance.get((offer.id, month), (0, 0))
            count = booked.get((offer.id, month), 0)
            if ran or count or attended:
                out.append(OfferMonth(offer.id, month, offer.seats if ran else 0, sessions, offer.seats * minutes,
                                      count, attended, attended_minutes))
    return out
