"""API: attendance (Anwesenheit) in a group, for the hosting provider's coordinators (like the office pages).

Same rules as the web UI (`marketplace.attendance`): only a coordinator of the offering provider reads
and records a group's attendance (`ensure_can_record`); members are shown at pseudonym level. A
changed mark keeps its history (correction with who, when, old → new and the optional reason);
recording is all or nothing. Every view of the member list is audited per case, like the pages.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from flask_login import current_user
from pydantic import BaseModel, Field

from ... import attendance as att
from ...access import get_or_404
from ...cases import audit_placement_members
from ...db import get_session
from ...models import AttendanceStatus, GroupOffer, Role
from ...timeutil import today_berlin
from ..problems import ApiProblem, FieldProblem
from .registry import operation
from .respond import json_response
from .schemas import Id, StrictModel, Text

TAG = "Anwesenheit"
OFFER = "/offers/<int(max=2147483647):offer_id>/attendance"
COORDINATOR = (Role.coordinator,)
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_MARKS = 200


# --------------------------------------------------------------------------- types


class AttendanceMonthQuery(StrictModel):
    month: str | None = Field(default=None, pattern=MONTH, description="Monat (JJJJ-MM; Standard: laufender).")


class MarkIn(StrictModel):
    placement_id: Id = Field(description="Die Belegung (Teilnehmende am Termin, siehe GET des Tages).")
    status: AttendanceStatus = Field(description="present (anwesend), absent (abwesend), excused (entschuldigt).")


class AttendanceBody(StrictModel):
    """Marks for one session date; members left out keep their mark. A changed mark is a correction."""

    offer_session_id: Id = Field(description="Der wöchentliche Termin (`sessions[].id` des Angebots).")
    marks: list[MarkIn] = Field(max_length=MAX_MARKS, description="Je Teilnehmerin/Teilnehmer eine Markierung.")
    reason: Text | None = Field(default=None, description="Grund einer Korrektur (höchstens 300 Zeichen).")


class SessionDateOut(BaseModel):
    session_date: date
    offer_session_id: int
    start_minute: int
    end_minute: int


MonthMark = AttendanceStatus | Literal["open", "upcoming", "not_member"]


class MemberMonthOut(BaseModel):
    placement_id: int
    pseudonym: str
    marks: list[MonthMark] = Field(description="Je Termin: present, absent, excused; open (nicht erfasst), "
                                               "upcoming (Termin liegt in der Zukunft), not_member (an dem "
                                               "Termin nicht in der Gruppe).")
    present: int
    absent: int
    excused: int
    open: int
    present_minutes: int


class AttendanceMonthOut(BaseModel):
    """A group's month (Monatsübersicht): members × session dates, with totals."""

    offer_id: int
    offer_title: str
    month: str
    dates: list[SessionDateOut]
    members: list[MemberMonthOut]
    present_per_date: list[int]
    present: int
    absent: int
    excused: int
    open: int
    present_minutes: int


class MemberMarkOut(BaseModel):
    placement_id: int
    pseudonym: str
    status: AttendanceStatus | None = Field(description="null = noch nicht erfasst.")


class CorrectionOut(BaseModel):
    pseudonym: str
    old_status: AttendanceStatus
    new_status: AttendanceStatus
    corrected_at: datetime
    corrected_by: str
    reason: str | None


class AttendanceSessionOut(BaseModel):
    """One session date: its members with their marks and the corrections so far (newest first)."""

    session_date: date
    offer_session_id: int
    start_minute: int
    end_minute: int
    members: list[MemberMarkOut]
    corrections: list[CorrectionOut]


class AttendanceDayOut(BaseModel):
    offer_id: int
    session_date: date
    sessions: list[AttendanceSessionOut] = Field(description="Die Termine der Gruppe an diesem Tag (meist einer).")


class AttendanceRecordOut(BaseModel):
    created: int
    corrected: int
    unchanged: int
    message: str
    session: AttendanceSessionOut


# --------------------------------------------------------------------------- helpers


def _own_offer(offer_id: int) -> GroupOffer:
    """The group if the current coordinator's provider offers it: 404 missing, 403 foreign."""
    offer = get_or_404(get_session(), GroupOffer, offer_id)
    try:
        att.ensure_can_record(current_user, offer)
    except att.AttendanceDenied as denied:
        raise ApiProblem(403, str(denied)) from None
    return offer


def _day(text: str) -> date:
    try:
        if DAY.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ApiProblem(404, f"Ungültiges Datum „{text[:20]}“: bitte im Format JJJJ-MM-TT, z. B. 2025-03-05.")


def _session_out(offer: GroupOffer, when: att.SessionDate) -> AttendanceSessionOut:
    """A session date's members and marks; the view is audited per member, like the attendance page."""
    session = get_session()
    members = att.members_on(session, offer.id, when.day)
    audit_placement_members(session, current_user, [m.placement_id for m in members], object_type="attendance_list")
    marks = att.existing_marks(session, when.offer_session_id, when.day)
    return AttendanceSessionOut(
        session_date=when.day, offer_session_id=when.offer_session_id, start_minute=when.start_minute,
        end_minute=when.end_minute,
        members=[MemberMarkOut(placement_id=m.placement_id, pseudonym=m.pseudonym,
                               status=marks[m.placement_id].status if m.placement_id in marks else None)
                 for m in members],
        corrections=[CorrectionOut(**vars(c)) for c in att.correction_history(session, when.offer_session_id,
                                                                               when.day)],
    )


def _month_mark(overview: att.MonthlyAttendance, index: int, mark: str | None) -> str:
    if mark == "":
        return "not_member"
    if mark is None:
        return "upcoming" if overview.is_future(index) else "open"
    return mark


def _problem(error: att.AttendanceError, payload: AttendanceBody) -> ApiProblem:
    """The use case's messages at their fields (the date is in the path: no pointer)."""
    rows = {mark.placement_id: index for index, mark in enumerate(payload.marks)}
    problems = []
    for message, name in zip(error.messages, error.fields, strict=True):
        if name == "reason":
            problems.append(FieldProblem(message=message, field="reason", pointer="/reason"))
        elif name and name.startswith("marks.") and int(name[6:]) in rows:
            index = rows[int(name[6:])]
            problems.append(FieldProblem(message=message, field=f"marks[{index}]", pointer=f"/marks/{index}"))
        elif name == "session_date":
            problems.append(FieldProblem(message=message, field="session_date"))
        else:
            problems.append(FieldProblem(message=message))
    return ApiProblem(422, "Die Teilnahme wurde nicht gespeichert.", errors=problems)


# --------------------------------------------------------------------------- operations


@operation(OFFER, roles=COORDINATOR, tag=TAG, summary="Anwesenheit eines Monats", query=AttendanceMonthQuery,
           response=AttendanceMonthOut)
def get_attendance_month(offer_id: int, params: AttendanceMonthQuery) -> Any:
    """The monthly overview of one of your provider's groups: every member (pseudonym) × session date, with
    counts and present hours. Audited per member."""
    offer = _own_offer(offer_id)
    today = today_berlin()
    try:
        month = att.parse_month(params.month) if params.month else today.replace(day=1)
    except ValueError:
        raise ApiProblem(422, "Bitte prüfen Sie die Parameter der Adresse.", errors=[FieldProblem(
            message="Bitte wählen Sie einen Monat zwischen 2000 und 2100 (JJJJ-MM).", field="month")]) from None
    session = get_session()
    overview = att.monthly_attendance(session, offer_id=offer.id, month=month, today=today)
    audit_placement_members(session, current_user, [m.placement_id for m in overview.members],
                            object_type="attendance_list")
    return json_response(AttendanceMonthOut(
        offer_id=offer.id, offer_title=offer.title, month=month.strftime("%Y-%m"),
        dates=[SessionDateOut(session_date=d.day, offer_session_id=d.offer_session_id, start_minute=d.start_minute,
                              end_minute=d.end_minute) for d in overview.dates],
        members=[MemberMonthOut(placement_id=m.placement_id, pseudonym=m.pseudonym,
                                marks=[_month_mark(overview, i, mark) for i, mark in enumerate(m.marks)],
                                present=m.present, absent=m.absent, excused=m.excused, open=m.open,
                                present_minutes=m.present_minutes) for m in overview.members],
        present_per_date=[overview.present_on(i) for i in range(len(overview.dates))],
        present=overview.present, absent=overview.absent, excused=overview.excused, open=overview.open,
        present_minutes=overview.present_minutes,
    ))


@operation(f"{OFFER}/<day>", roles=COORDINATOR, tag=TAG, summary="Anwesenheit eines Tages",
           response=AttendanceDayOut)
def get_attendance_day(offer_id: int, day: str) -> Any:
    """The session dates of one of your provider's groups on `day` (JJJJ-MM-TT; none when the group does not
    meet then): members with their marks and the corrections so far. Audited per member."""
    offer = _own_offer(offer_id)
    when = _day(day)
    dates = [d for d in att.session_dates(offer, when) if d.day == when]
    return json_response(AttendanceDayOut(offer_id=offer.id, session_date=when,
                                          sessions=[_session_out(offer, d) for d in dates]))


@operation(f"{OFFER}/<day>", method="POST", roles=COORDINATOR, tag=TAG, summary="Anwesenheit erfassen",
           body=AttendanceBody, response=AttendanceRecordOut)
def record_attendance(offer_id: int, day: str, payload: AttendanceBody) -> Any:
    """Record present, absent or excused for members of one session date (`day` and `offer_session_id`) of one
    of your provider's groups, as on the attendance page: not before the day itself; a member only while their
    placement was active. A changed mark is a correction and keeps its history (`reason` optional). All or
    nothing: with any problem nothing is saved (422, every problem at its field)."""
    offer = _own_offer(offer_id)
    when = _day(day)
    seen: set[int] = set()
    for index, mark in enumerate(payload.marks):
        if mark.placement_id in seen:
            raise ApiProblem(422, errors=[FieldProblem(message="Diese Belegung ist mehrfach angegeben.",
                                                       field=f"marks[{index}]", pointer=f"/marks/{index}")])
        seen.add(mark.placement_id)
    session = get_session()
    try:
        result = att.record_attendance(session, offer_id=offer.id, session_date=when,
                                       offer_session_id=payload.offer_session_id,
                                       marks={m.placement_id: m.status.value for m in payload.marks},
                                       actor=current_user, reason=payload.reason)
    except att.AttendanceDenied as denied:
        session.rollback()
        raise ApiProblem(403, str(denied)) from None
    except att.AttendanceError as error:
        session.rollback()
        raise _problem(error, payload) from None
    return json_response(AttendanceRecordOut(
        created=result.created, corrected=result.corrected, unchanged=result.unchanged,
        message=att.confirmation_message(result), session=_session_out(offer, result.session_date),
    ))
