"""Privacy (Datenschutz): anonymising ended cases after the retention period, and the DSGVO Art. 15 export.

Anonymisation (Anonymisierung) keeps what the ledger and the reports need (pseudonym, birth
year, gender, municipality, module, needs, placements, attendance, hours, offsets) and removes
what points to a person: the case reference (Aktenzeichen), the exact home point, wishes,
"not together with" links and every free-text note. Audit rows are never touched (they are
append-only and hold no content). The export (Auskunft nach Art. 15 DSGVO) collects everything
the marketplace holds about one case into one JSON document.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, or_
from sqlmodel import Session, SQLModel, select

from .audit import audit
from .models import (
    Attendance,
    AttendanceCorrection,
    AuditAction,
    AuditEvent,
    AvailabilityWindow,
    CaseEvent,
    CaseFlag,
    CaseStatus,
    Category,
    GroupOffer,
    IndividualHours,
    KeepApart,
    Module,
    Municipality,
    OfferWish,
    OffsetEntry,
    Placement,
    PlacementEvent,
    PlacementRequest,
    Provider,
    Setting,
    SharedUse,
    Team,
    User,
    YoungPerson,
    YoungPersonNeed,
)
from .timeutil import BERLIN, utcnow

#: Setting key of the retention period in days (Aufbewahrungsfrist nach Ende der Hilfe).
RETENTION_SETTING = "privacy.retention_days"
RETENTION_DAYS = 730
MIN_RETENTION_DAYS = 30
#: What replaces a free-text reason that a CHECK constraint requires to stay filled.
REDACTED = "(anonymisiert)"
#: Object type of the audit events written here.
ANONYMISED_OBJECT = "case_personal_data"
EXPORT_OBJECT = "case_export"
EXPORT_FORMAT = "gruppenboerse-auskunft/1"


def retention_days(session: Session) -> int:
    """The retention period in days: Setting `privacy.retention_days`, else RETENTION_DAYS (730)."""
    row = session.get(Setting, RETENTION_SETTING)
    value = None if row is None else row.value
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return RETENTION_DAYS
    return int(value)


def set_retention_days(session: Session, *, days: int, actor: Any = None) -> None:
    """Store the retention period (whole days, 30 or more: a shorter one would erase running follow-ups)."""
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_RETENTION_DAYS <= days <= 36500:
        raise ValueError(f"Die Aufbewahrungsfrist muss zwischen {MIN_RETENTION_DAYS} und 36500 Tagen liegen.")
    row = session.get(Setting, RETENTION_SETTING) or Setting(key=RETENTION_SETTING)
    row.value, row.updated_by = days, getattr(actor, "id", None)
    session.add(row)
    audit(session, actor, AuditAction.update.value, "setting", RETENTION_SETTING)


def retention_cutoff(session: Session, *, today: date) -> datetime:
    """Cases that ended before this instant (start of the Berlin day `today - retention`) are due."""
    day = today - timedelta(days=retention_days(session))
    return datetime.combine(day, time.min, tzinfo=BERLIN).astimezone(UTC)


def cases_due(session: Session, *, today: date) -> list[YoungPerson]:
    """Ended cases whose help ended more than the retention period ago (`ended_at`, else last change)."""
    ended = func.coalesce(YoungPerson.ended_at, YoungPerson.updated_at)
    query = (
        select(YoungPerson)
        .where(YoungPerson.status == CaseStatus.ended.value, ended < retention_cutoff(session, today=today))
        .order_by(YoungPerson.id)
    )
    return list(session.exec(query).all())


def anonymise_ended_cases(session: Session, *, today: date) -> int:
    """Anonymise every case due under the retention rule; returns how many. Idempotent: an
    anonymised case is never due again. One audit event per case ("delete" of personal data).

    Housekeeping step (scheduler.HOUSEKEEPING_STEPS); the caller commits.
    """
    people = cases_due(session, today=today)
    for yp in people:
        anonymise_case(session, yp)
    session.flush()
    return len(people)


def anonymise_case(session: Session, yp: YoungPerson) -> None:
    """Remove the personal details of one case; keep what ledger and statistics need."""
    yp.case_reference = None
    yp.lat = None
    yp.lon = None
    yp.crisis_extension_reason = None
    yp.status = CaseStatus.anonymised.value
    yp.version += 1
    session.add(yp)
    session.execute(delete(OfferWish).where(OfferWish.young_person_id == yp.id))
    session.execute(
        delete(KeepApart).where(or_(KeepApart.young_person_a_id == yp.id, KeepApart.young_person_b_id == yp.id))
    )
    for event in session.exec(select(CaseEvent).where(CaseEvent.young_person_id == yp.id)):
        event.reason = None
    for request in session.exec(select(PlacementRequest).where(PlacementRequest.young_person_id == yp.id)):
        request.note = None
    placements = session.exec(select(Placement).where(Placement.young_person_id == yp.id)).all()
    placement_ids = [p.id for p in placements]
    for placement in placements:
        placement.end_reason = _redacted(placement.end_reason)
        placement.decline_reason = _redacted(placement.decline_reason)  # a CHECK wants declines explained
    if placement_ids:
        for event in session.exec(select(PlacementEvent).where(PlacementEvent.placement_id.in_(placement_ids))):
            event.reason = _redacted(event.reason)
        corrections = select(AttendanceCorrection).join(
            Attendance, Attendance.id == AttendanceCorrection.attendance_id
        ).where(Attendance.placement_id.in_(placement_ids))
        for correction in session.exec(corrections):
            correction.reason = _redacted(correction.reason)
    audit(session, None, AuditAction.delete.value, ANONYMISED_OBJECT, yp.id, case_id=yp.id)


def _redacted(text: str | None) -> str | None:
    return None if text is None else REDACTED


# --------------------------------------------------------------------------- DSGVO Art. 15 export


def export_case(session: Session, *, young_person_id: int, actor: Any) -> dict[str, Any]:
    """Everything held about one case, as a JSON-ready dict (Auskunft nach Art. 15 DSGVO).

    Access is the caller's business (planners and the case's team). The export itself is
    audited (action "export"); the caller commits. Raises LookupError for an unknown case.
    """
    yp = session.get(YoungPerson, young_person_id)
    if yp is None:
        raise LookupError(young_person_id)
    placements = session.exec(
        select(Placement).where(Placement.young_person_id == yp.id).order_by(Placement.id)
    ).all()
    placement_ids = [p.id for p in placements]
    document = {
        "format": EXPORT_FORMAT,
        "created_at": _json(utcnow()),
        "created_by": _person(session, getattr(actor, "id", None)),
        "case": _case(session, yp),
        "needs": _needs(session, yp.id),
        "availability": [_row(w, exclude={"id", "young_person_id"}) for w in _of(session, AvailabilityWindow, yp.id)],
        "wishes": _wishes(session, yp.id),
        "not_together_with": _conflicts(session, yp.id),
        "case_history": [_row(e) for e in _of(session, CaseEvent, yp.id)],
        "case_flags": [_row(f) for f in _of(session, CaseFlag, yp.id)],
        "requests": [_row(r) for r in _of(session, PlacementRequest, yp.id)],
        "placements": [_placement(session, p) for p in placements],
        "attendance": _attendance(session, placement_ids),
        "individual_hours": [_row(h) for h in _of(session, IndividualHours, yp.id)],
        "offset_entries": _offsets(session, placement_ids),
        "audit_events": _audit_events(session, yp.id),
    }
    audit(session, actor, AuditAction.export.value, EXPORT_OBJECT, yp.id, case_id=yp.id)
    return document


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(row: SQLModel, *, exclude: set[str] = frozenset()) -> dict[str, Any]:
    return {key: _json(value) for key, value in row.model_dump().items() if key not in exclude}


def _of(session: Session, model: type, young_person_id: int) -> list[Any]:
    return list(session.exec(select(model).where(model.young_person_id == young_person_id).order_by(model.id)))


def _person(session: Session, user_id: int | None) -> dict[str, Any] | None:
    """Who did something: name and role of the account (None: the system)."""
    user = session.get(User, user_id) if user_id is not None else None
    return None if user is None else {"id": user.id, "name": user.display_name, "role": user.role}


def _name(session: Session, model: type, row_id: int | None, attribute: str = "name") -> str | None:
    row = session.get(model, row_id) if row_id is not None else None
    return None if row is None else getattr(row, attribute)


def _case(session: Session, yp: YoungPerson) -> dict[str, Any]:
    case = _row(yp)
    case.update(
        team=_name(session, Team, yp.team_id),
        municipality=_name(session, Municipality, yp.municipality_id),
        module=_name(session, Module, yp.module_id),
        lead_provider=_name(session, Provider, yp.lead_provider_id),
        caseworker=_person(session, yp.caseworker_id),
    )
    return case


def _needs(session: Session, young_person_id: int) -> list[dict[str, str]]:
    rows = session.exec(
        select(Category).join(YoungPersonNeed, YoungPersonNeed.category_id == Category.id)
        .where(YoungPersonNeed.young_person_id == young_person_id).order_by(Category.code)
    )
    return [{"code": c.code, "label": c.label} for c in rows]


def _wishes(session: Session, young_person_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(OfferWish, GroupOffer).join(GroupOffer, GroupOffer.id == OfferWish.offer_id)
        .where(OfferWish.young_person_id == young_person_id).order_by(OfferWish.id)
    )
    return [{"kind": wish.kind, "offer_id": offer.id, "offer": offer.title} for wish, offer in rows]


def _conflicts(session: Session, young_person_id: int) -> list[dict[str, Any]]:
    """Keep-apart partners by pseudonym only (their case data belongs to them)."""
    pairs = session.exec(select(KeepApart).where(
        or_(KeepApart.young_person_a_id == young_person_id, KeepApart.young_person_b_id == young_person_id)
    ).order_by(KeepApart.id))
    result = []
    for pair in pairs:
        other = pair.young_person_b_id if pair.young_person_a_id == young_person_id else pair.young_person_a_id
        result.append({"pseudonym": _name(session, YoungPerson, other, "pseudonym"), "reason": pair.reason,
                       "created_at": _json(pair.created_at)})
    return result


def _placement(session: Session, placement: Placement) -> dict[str, Any]:
    offer = session.get(GroupOffer, placement.offer_id)
    data = _row(placement)
    data["offer"] = offer.title if offer else None
    data["host_provider"] = _name(session, Provider, offer.provider_id) if offer else None
    events = session.exec(
        select(PlacementEvent).where(PlacementEvent.placement_id == placement.id).order_by(PlacementEvent.id)
    )
    data["events"] = [_row(e, exclude={"placement_id"}) for e in events]
    shared = session.exec(select(SharedUse).where(SharedUse.placement_id == placement.id)).first()
    data["shared_use"] = None if shared is None else _row(shared, exclude={"placement_id"})
    return data


def _attendance(session: Session, placement_ids: list[int]) -> list[dict[str, Any]]:
    if not placement_ids:
        return []
    rows = session.exec(
        select(Attendance).where(Attendance.placement_id.in_(placement_ids))
        .order_by(Attendance.session_date, Attendance.id)
    ).all()
    corrections: dict[int, list[dict[str, Any]]] = {}
    if rows:
        found = session.exec(select(AttendanceCorrection).where(
            AttendanceCorrection.attendance_id.in_([a.id for a in rows])).order_by(AttendanceCorrection.id))
        for c in found:
            corrections.setdefault(c.attendance_id, []).append(_row(c, exclude={"attendance_id"}))
    return [{**_row(a), "corrections": corrections.get(a.id, [])} for a in rows]


def _offsets(session: Session, placement_ids: list[int]) -> list[dict[str, Any]]:
    if not placement_ids:
        return []
    rows = session.exec(
        select(OffsetEntry).join(SharedUse, SharedUse.id == OffsetEntry.shared_use_id)
        .where(SharedUse.placement_id.in_(placement_ids)).order_by(OffsetEntry.session_date, OffsetEntry.id)
    )
    return [_row(e) for e in rows]


def _audit_events(session: Session, young_person_id: int) -> list[dict[str, Any]]:
    """Who did what with the case, when (the trail holds no content)."""
    rows = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == young_person_id).order_by(AuditEvent.at, AuditEvent.id)
    )
    return [{"at": _json(e.at), "who": _person(session, e.user_id), "action": e.action,
             "object_type": e.object_type, "object_id": e.object_id} for e in rows]
