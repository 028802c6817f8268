"""Attendance (Anwesenheit) in group offers: session dates, recording with corrections, monthly overview.

Glossary: Termin = session date (one weekly session on one calendar day), Teilnehmende
= members (young people with a placement in the group), anwesend / abwesend /
entschuldigt = present / absent / excused, Korrektur = a later change of a mark.

Rules:
- Only a coordinator of the hosting provider records attendance (`AttendanceDenied` otherwise).
- A member can be marked for a date when their placement was active on it: accepted
  (or later ended) with the acceptance on or before that date, and not ended before it.
- Dates are calendar days in Europe/Berlin; a date in the future cannot be recorded.
- Changing an existing mark keeps the old one as an `AttendanceCorrection` (who, when,
  old → new, optional reason). Recording is all-or-nothing: every mark is checked before
  anything is written.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from .access import has_role
from .audit import audit
from .models import (
    Attendance,
    AttendanceCorrection,
    AttendanceStatus,
    AuditAction,
    GroupOffer,
    OfferSession,
    Placement,
    PlacementStatus,
    Role,
    User,
    YoungPerson,
)
from .timeutil import BERLIN, today_berlin, utcnow

STATUS_LABELS: dict[str, str] = {
    AttendanceStatus.present.value: "anwesend",
    AttendanceStatus.absent.value: "abwesend",
    AttendanceStatus.excused.value: "entschuldigt",
}
#: One-letter codes for compact tables and exports (A = anwesend, F = fehlt, E = entschuldigt).
STATUS_CODES: dict[str, str] = {
    AttendanceStatus.present.value: "A",
    AttendanceStatus.absent.value: "F",
    AttendanceStatus.excused.value: "E",
}
MAX_REASON = 300
#: Offers whose groups meet (or met), so attendance can be recorded or read.
ATTENDANCE_OFFER_STATUSES = ("certified", "published", "paused", "ended")
WEEKDAYS_SHORT = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


class AttendanceError(ValueError):
    """The input cannot be recorded; `messages` are German, one per problem.

    `fields` names, per message, what it is about (None when unknown): "session_date" (the
    date or session), "reason", or "marks.<placement id>" for one member's mark.
    """

    def __init__(self, messages: list[str], fields: list[str | None] | None = None) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)
        self.fields = list(fields) if fields is not None else [None] * len(self.messages)


class AttendanceDenied(PermissionError):
    """The user may not record or read attendance of this offer (answered with 403)."""


@dataclass(frozen=True)
class SessionDate:
    """One weekly session on one calendar day (Termin)."""

    day: date
    offer_session_id: int
    start_minute: int
    end_minute: int

    @property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute

    @property
    def key(self) -> str:
        """A stable form/URL value: "2025-03-05_12"."""
        return f"{self.day.isoformat()}_{self.offer_session_id}"

    @property
    def time_label(self) -> str:
        return f"{_hhmm(self.start_minute)}–{_hhmm(self.end_minute)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --------------------------------------------------------------------------- months and dates


def parse_month(value: str | date) -> date:
    """ "2025-03" (or any date in that month) → date(2025, 3, 1); ValueError when unreadable."""
    if isinstance(value, date):
        return value.replace(day=1)
    text = str(value).strip()
    if len(text) != 7 or text[4] != "-":
        raise ValueError(value)
    year, month = int(text[:4]), int(text[5:])
    if not 2000 <= year <= 2100:
        raise ValueError(value)
    return date(year, month, 1)


def month_range(month: str | date) -> tuple[date, date]:
    """First and last day of `month`."""
    first = parse_month(month)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def session_dates(offer: GroupOffer, month: str | date) -> list[SessionDate]:
    """Every session date of `offer` in `month`, between its first and last date, in time order.

    Uses the offer's weekly sessions (`offer.sessions`); weekdays are Berlin calendar days.
    """
    first, last = month_range(month)
    first = max(first, offer.first_date)
    if offer.last_date is not None:
        last = min(last, offer.last_date)
    sessions = sorted(offer.sessions, key=lambda s: (s.weekday, s.start_minute))
    result = []
    day = first
    while day <= last:
        for s in sessions:
            if s.weekday == day.weekday():
                result.append(SessionDate(day, s.id, s.start_minute, s.end_minute))
        day += timedelta(days=1)
    return result


def find_session_date(offer: GroupOffer, day: date, offer_session_id: int) -> SessionDate | None:
    """The session date `day`/`offer_session_id` if the offer really meets then, else None."""
    for candidate in session_dates(offer, day):
        if candidate.day == day and candidate.offer_session_id == offer_session_id:
            return candidate
    return None


def latest_session_date(offer: GroupOffer, today: date | None = None) -> SessionDate | None:
    """The most recent session date on or before today (looking back up to three months)."""
    today = today or today_berlin()
    month = today.replace(day=1)
    for _ in range(4):
        past = [d for d in session_dates(offer, month) if d.day <= today]
        if past:
            return past[-1]
        month = (month - timedelta(days=1)).replace(day=1)
    return None


def upcoming_session_dates(offer: GroupOffer, today: date | None = None, count: int = 3) -> list[SessionDate]:
    """The next `count` session dates from today on (looking ahead up to three months)."""
    today = today or today_berlin()
    month = today.replace(day=1)
    result: list[SessionDate] = []
    for _ in range(4):
        result.extend(d for d in session_dates(offer, month) if d.day >= today)
        if len(result) >= count:
            break
        month = (month + timedelta(days=32)).replace(day=1)
    return result[:count]


# --------------------------------------------------------------------------- members


def _berlin_day(value: datetime | None) -> date | None:
    return None if value is None else value.astimezone(BERLIN).date()


def active_interval(placement: Placement) -> tuple[date, date | None] | None:
    """The days `placement` made its young person a member: (first, last or None = open), or None."""
    if placement.status not in (PlacementStatus.accepted.value, PlacementStatus.ended.value):
        return None
    start = _berlin_day(placement.accepted_at) or _berlin_day(placement.confirmed_at)
    if start is None:
        return None
    if placement.status == PlacementStatus.ended.value:
        end = _berlin_day(placement.ended_at)
        return None if end is None or end < start else (start, end)
    return start, None


def placement_active_on(placement: Placement, day: date) -> bool:
    """True when `placement` made its young person a member of the group on `day`."""
    interval = active_interval(placement)
    return interval is not None and interval[0] <= day and (interval[1] is None or day <= interval[1])


@dataclass(frozen=True)
class Member:
    """A member of a group as the hosting provider sees them: placement and pseudonym only."""

    placement_id: int
    pseudonym: str


def _candidate_placements(session: Session, offer_id: int, first: date, last: date) -> list[tuple[Placement, str]]:
    """Placements of `offer_id` that may have been active between `first` and `last` (checked in Python)."""
    query = (
        select(Placement, YoungPerson.pseudonym)
        .join(YoungPerson, YoungPerson.id == Placement.young_person_id)
        .where(Placement.offer_id == offer_id)
        .where(Placement.status.in_((PlacementStatus.accepted.value, PlacementStatus.ended.value)))
        .order_by(YoungPerson.pseudonym, Placement.id)
    )
    result = []
    for placement, pseudonym in session.exec(query).all():
        interval = active_interval(placement)
        if interval is not None and interval[0] <= last and (interval[1] is None or interval[1] >= first):
            result.append((placement, pseudonym))
    return result


def members_on(session: Session, offer_id: int, day: date) -> list[Member]:
    """The group's members on `day`, sorted by pseudonym."""
    return [Member(p.id, pseudonym) for p, pseudonym in _candidate_placements(session, offer_id, day, day)]


# --------------------------------------------------------------------------- recording


def ensure_can_record(user: Any, offer: GroupOffer) -> None:
    """Raise `AttendanceDenied` unless `user` is a coordinator of the offer's provider."""
    if not (has_role(user, Role.coordinator) and user.provider_id is not None
            and user.provider_id == offer.provider_id):
        raise AttendanceDenied("Nur die Koordination des anbietenden Trägers erfasst die Teilnahme.")


def existing_marks(session: Session, offer_session_id: int, day: date) -> dict[int, Attendance]:
    """Recorded marks of one session date, by placement id."""
    rows = session.exec(select(Attendance).where(Attendance.offer_session_id == offer_session_id,
                                                 Attendance.session_date == day)).all()
    return {row.placement_id: row for row in rows}


@dataclass
class RecordResult:
    """What `record_attendance` did: new marks, changed marks (corrections), unchanged marks."""

    session_date: SessionDate
    created: int = 0
    corrected: int = 0
    unchanged: int = 0
    counts: Counter[str] = field(default_factory=Counter)


def record_attendance(
    session: Session,
    *,
    offer_id: int,
    session_date: date,
    offer_session_id: int,
    marks: Mapping[int, str],
    actor: Any,
    reason: str | None = None,
    today: date | None = None,
) -> RecordResult:
    """Record present/absent/excused for members of one session date, then commit.

    `marks` maps placement id → `AttendanceStatus` value; members left out stay as they are.
    A changed mark keeps its history (`AttendanceCorrection` with `reason`). Raises
    `AttendanceDenied` for anyone but the hosting provider's coordinator and
    `AttendanceError` (German messages, nothing written) for bad input.
    """
    offer = session.get(GroupOffer, offer_id)
    if offer is None:
        raise AttendanceError(["Die Gruppe gibt es nicht."])
    ensure_can_record(actor, offer)
    today = today or today_berlin()
    errors: list[str] = []
    when = find_session_date(offer, session_date, offer_session_id)
    if when is None:
        raise AttendanceError([f"Am {session_date:%d.%m.%Y} findet dieser Termin der Gruppe nicht statt."],
                              ["session_date"])
    if session_date > today:
        raise AttendanceError(["Die Teilnahme kann erst am Tag des Termins erfasst werden."], ["session_date"])
    reason = (reason or "").strip() or None
    fields: list[str | None] = []
    if reason is not None and len(reason) > MAX_REASON:
        errors.append(f"Der Grund der Korrektur darf höchstens {MAX_REASON} Zeichen lang sein.")
        fields.append("reason")
    members = {m.placement_id: m for m in members_on(session, offer_id, session_date)}
    allowed = set(STATUS_LABELS)
    for placement_id, status in marks.items():
        if placement_id not in members:
            errors.append(f"Belegung {placement_id} gehört am {session_date:%d.%m.%Y} nicht zu dieser Gruppe.")
            fields.append(f"marks.{placement_id}")
        elif status not in allowed:
            errors.append(f"{members[placement_id].pseudonym}: Bitte wählen Sie anwesend, abwesend oder entschuldigt.")
            fields.append(f"marks.{placement_id}")
    if errors:
        raise AttendanceError(errors, fields)

    result = RecordResult(session_date=when)
    existing = existing_marks(session, offer_session_id, session_date)
    now = utcnow()
    actor_id = getattr(actor, "id", None)
    for placement_id, status in marks.items():
        result.counts[status] += 1
        row = existing.get(placement_id)
        if row is None:
            session.add(Attendance(placement_id=placement_id, session_date=session_date,
                                   offer_session_id=offer_session_id, status=status,
                                   recorded_by=actor_id, recorded_at=now))
            result.created += 1
        elif row.status != status:
            session.add(AttendanceCorrection(attendance_id=row.id, old_status=row.status, new_status=status,
                                             corrected_by=actor_id, corrected_at=now, reason=reason))
            row.status, row.recorded_by, row.recorded_at = status, actor_id, now
            session.add(row)
            result.corrected += 1
        else:
            result.unchanged += 1
    if result.created or result.corrected:
        action = AuditAction.update if result.corrected else AuditAction.create
        audit(session, actor, action, "attendance", offer_id)
    session.commit()
    return result


def confirmation_message(result: RecordResult) -> str:
    """German confirmation: "Teilnahme am Mo, 03.03.2025 (15:00–17:00) gespeichert: 5 anwesend, 1 abwesend."."""
    when = result.session_date
    parts = [f"{result.counts[s]} {label}" for s, label in STATUS_LABELS.items() if result.counts[s]]
    text = (f"Teilnahme am {WEEKDAYS_SHORT[when.day.weekday()]}, {when.day:%d.%m.%Y} ({when.time_label}) "
            f"gespeichert")
    text += ": " + ", ".join(parts) + "." if parts else ": keine Markierungen gesetzt."
    if result.corrected:
        text += f" {result.corrected} Korrektur{'en' if result.corrected != 1 else ''} protokolliert."
    return text


@dataclass(frozen=True)
class CorrectionLine:
    """One correction as shown in the history: who, when, whose mark, old → new, why."""

    pseudonym: str
    old_status: str
    new_status: str
    corrected_at: datetime
    corrected_by: str
    reason: str | None


def correction_history(session: Session, offer_session_id: int, day: date) -> list[CorrectionLine]:
    """The corrections of one session date, newest first."""
    query = (
        select(AttendanceCorrection, YoungPerson.pseudonym, User.display_name)
        .join(Attendance, Attendance.id == AttendanceCorrection.attendance_id)
        .join(Placement, Placement.id == Attendance.placement_id)
        .join(YoungPerson, YoungPerson.id == Placement.young_person_id)
        .outerjoin(User, User.id == AttendanceCorrection.corrected_by)
        .where(Attendance.offer_session_id == offer_session_id, Attendance.session_date == day)
        .order_by(AttendanceCorrection.corrected_at.desc(), AttendanceCorrection.id.desc())
    )
    return [CorrectionLine(pseudonym, c.old_status, c.new_status, c.corrected_at, name or "unbekannt", c.reason)
            for c, pseudonym, name in session.exec(query).all()]


# --------------------------------------------------------------------------- monthly overview


@dataclass
class MemberMonth:
    """One member's month: the mark per session date (None = not recorded, "" = not a member then)."""

    placement_id: int
    pseudonym: str
    marks: list[str | None]
    present: int = 0
    absent: int = 0
    excused: int = 0
    open: int = 0
    present_minutes: int = 0

    @property
    def present_hours(self) -> float:
        return self.present_minutes / 60


@dataclass
class MonthlyAttendance:
    """A group's attendance in one month (Monatsübersicht): dates × members, with totals."""

    offer: GroupOffer
    month: date
    dates: list[SessionDate]
    members: list[MemberMonth]
    today: date

    def is_future(self, index: int) -> bool:
        """True when the `index`-th session date lies after today (nothing to record yet)."""
        return self.dates[index].day > self.today

    def _total(self, name: str) -> int:
        return sum(getattr(m, name) for m in self.members)

    @property
    def present(self) -> int:
        return self._total("present")

    @property
    def absent(self) -> int:
        return self._total("absent")

    @property
    def excused(self) -> int:
        return self._total("excused")

    @property
    def open(self) -> int:
        return self._total("open")

    @property
    def present_minutes(self) -> int:
        return self._total("present_minutes")

    @property
    def present_hours(self) -> float:
        return self.present_minutes / 60

    def present_on(self, index: int) -> int:
        """How many members were present at the `index`-th session date."""
        return sum(1 for m in self.members if m.marks[index] == AttendanceStatus.present.value)


def monthly_attendance(session: Session, *, offer_id: int, month: str | date,
                       today: date | None = None) -> MonthlyAttendance:
    """Per member and session date of `month`: the marks, counts and present hours.

    Members are the placements active on at least one session date of the month. Dates in
    the future count neither as recorded nor as open. The caller checks access.
    """
    offer = session.get(GroupOffer, offer_id)
    if offer is None:
        raise AttendanceError(["Die Gruppe gibt es nicht."])
    today = today or today_berlin()
    first, last = month_range(month)
    dates = session_dates(offer, first)
    marks: dict[tuple[int, date, int], str] = {}
    if dates:
        rows = session.exec(
            select(Attendance)
            .join(OfferSession, OfferSession.id == Attendance.offer_session_id)
            .where(OfferSession.offer_id == offer_id, Attendance.session_date >= first,
                   Attendance.session_date <= last)
        ).all()
        marks = {(a.placement_id, a.session_date, a.offer_session_id): a.status for a in rows}
    members = []
    for placement, pseudonym in _candidate_placements(session, offer_id, first, last):
        line = MemberMonth(placement_id=placement.id, pseudonym=pseudonym, marks=[])
        for d in dates:
            status = marks.get((placement.id, d.day, d.offer_session_id))
            if status is None and not placement_active_on(placement, d.day):
                line.marks.append("")
                continue
            line.marks.append(status)
            if status == AttendanceStatus.present.value:
                line.present += 1
                line.present_minutes += d.minutes
            elif status == AttendanceStatus.absent.value:
                line.absent += 1
            elif status == AttendanceStatus.excused.value:
                line.excused += 1
            elif d.day <= today:
                line.open += 1
        members.append(line)
    return MonthlyAttendance(offer=offer, month=first, dates=dates, members=members, today=today)


def own_offers_with_sessions(session: Session, provider_id: int) -> list[GroupOffer]:
    """The provider's offers that can have attendance (certified and running or ended), by title."""
    query = (select(GroupOffer)
             .where(GroupOffer.provider_id == provider_id)
             .where(GroupOffer.status.in_(ATTENDANCE_OFFER_STATUSES))
             .order_by(GroupOffer.title))
    return list(session.exec(query).all())
