"""Monthly monitoring of care hours (monatliches Monitoring der Betreuungsstunden).

Per young person and month: attended group minutes (present at sessions of their
placements, from `Attendance`) plus individual minutes (reported by the lead provider,
`IndividualHours`), held against the module's weekly care band scaled to the days of
the month in which the help ran (approval period, up to today for the current month).
Below the band is "unterversorgt", above it "überversorgt". Exports as CSV and XLSX,
with spreadsheet formula injection neutralised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from .access import has_role
from .audit import audit
from .cases import CaseError
from .models import (
    Attendance,
    AttendanceStatus,
    AuditAction,
    CaseStatus,
    IndividualHours,
    Module,
    OfferSession,
    Placement,
    Role,
    YoungPerson,
)
from .spreadsheets import csv_bytes, xlsx_bytes
from .timeutil import month_bounds, month_key, today_berlin, utcnow

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
#: More individual hours than this in one month is surely a typing error.
MAX_INDIVIDUAL_MINUTES = 200 * 60
STATUS_LABELS = {"under": "unterversorgt", "within": "im Band", "over": "überversorgt", "none": "keine Hilfe"}


@dataclass(frozen=True)
class MonthHours:
    """Care minutes of one young person in one month against the band for that month."""

    young_person_id: int
    pseudonym: str
    case_reference: str | None
    module_name: str
    group_minutes: int
    individual_minutes: int
    band_min: int
    band_max: int
    days: int  # days of the month in which the help ran (0: not at all)

    @property
    def total_minutes(self) -> int:
        return self.group_minutes + self.individual_minutes

    @property
    def status(self) -> str:
        """ "under", "within", "over", or "none" when the help did not run in the month."""
        if self.days == 0:
            return "none"
        if self.total_minutes < self.band_min:
            return "under"
        if self.total_minutes > self.band_max:
            return "over"
        return "within"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def parse_month(text: str | None, *, today: date | None = None) -> str:
    """A "YYYY-MM" month not after the current one; raises CaseError(month=...) otherwise."""
    today = today or today_berlin()
    text = (text or "").strip()
    if not MONTH_PATTERN.match(text):
        raise CaseError({"month": "Bitte geben Sie den Monat im Format JJJJ-MM an."})
    if text > month_key(today):
        raise CaseError({"month": "Für einen künftigen Monat gibt es noch keine Stunden."})
    return text


def help_days(yp: YoungPerson, month: str, today: date) -> int:
    """Days of `month` (up to `today`) inside the young person's approval period and before the end."""
    first, last = month_bounds(month)
    last = min(last, today)
    start = max(first, yp.approval_start)
    end = last
    if yp.approval_end is not None:
        end = min(end, yp.approval_end)
    if yp.ended_at is not None:
        end = min(end, yp.ended_at.date())
    return max(0, (end - start).days + 1)


def attended_group_minutes(session: Session, young_person_ids: list[int], month: str) -> dict[int, int]:
    """Minutes of sessions attended ("present") in `month`, by young person."""
    if not young_person_ids:
        return {}
    first, last = month_bounds(month)
    rows = session.exec(
        select(Placement.young_person_id, func.sum(OfferSession.end_minute - OfferSession.start_minute))
        .select_from(Attendance)
        .join(Placement, Placement.id == Attendance.placement_id)
        .join(OfferSession, OfferSession.id == Attendance.offer_session_id)
        .where(
            Placement.young_person_id.in_(young_person_ids),
            Attendance.status == AttendanceStatus.present.value,
            Attendance.session_date >= first,
            Attendance.session_date <= last,
        )
        .group_by(Placement.young_person_id)
    ).all()
    return {yp_id: int(minutes or 0) for yp_id, minutes in rows}


def individual_minutes(session: Session, young_person_ids: list[int], month: str) -> dict[int, int]:
    """Individual minutes reported for `month`, by young person."""
    if not young_person_ids:
        return {}
    rows = session.exec(
        select(IndividualHours.young_person_id, IndividualHours.minutes).where(
            IndividualHours.young_person_id.in_(young_person_ids), IndividualHours.month == month
        )
    ).all()
    return dict(rows)


def monthly_hours(session: Session, young_people: list[YoungPerson], month: str, *, today: date) -> list[MonthHours]:
    """The month's figures for each of `young_people` (in the given order)."""
    ids = [yp.id for yp in young_people]
    group = attended_group_minutes(session, ids, month)
    individual = individual_minutes(session, ids, month)
    modules = {m.id: m for m in session.exec(select(Module)).all()}
    result = []
    for yp in young_people:
        module = modules[yp.module_id]
        days = help_days(yp, month, today)
        result.append(
            MonthHours(
                young_person_id=yp.id,
                pseudonym=yp.pseudonym,
                case_reference=yp.case_reference,
                module_name=module.name,
                group_minutes=group.get(yp.id, 0),
                individual_minutes=individual.get(yp.id, 0),
                band_min=round(module.care_minutes_min * days / 7),
                band_max=round(module.care_minutes_max * days / 7),
                days=days,
            )
        )
    return result


def team_monitoring(
    session: Session, *, user: Any, month: str, team_id: int | None = None, today: date | None = None
) -> list[MonthHours]:
    """The month's figures for every case `user` may see whose help ran in `month`.

    Caseworkers get their own team; planners all teams or `team_id`. The caller writes
    the audit events (`cases.audit_cases`) for what it shows or exports.
    """
    from .access import scope_young_people

    today = today or today_berlin()
    first, last = month_bounds(month)
    query = scope_young_people(select(YoungPerson), user).where(
        YoungPerson.status != CaseStatus.anonymised.value,
        YoungPerson.approval_start <= last,
        (YoungPerson.approval_end.is_(None)) | (YoungPerson.approval_end >= first),
    )
    if team_id is not None:
        query = query.where(YoungPerson.team_id == team_id)
    people = list(session.exec(query.order_by(YoungPerson.pseudonym)).all())
    return [row for row in monthly_hours(session, people, month, today=today) if row.days > 0]


def served_lists(rows: list[MonthHours]) -> tuple[list[MonthHours], list[MonthHours]]:
    """(under-served, over-served) among `rows`, the largest gap first."""
    under = sorted((r for r in rows if r.status == "under"), key=lambda r: r.total_minutes - r.band_min)
    over = sorted((r for r in rows if r.status == "over"), key=lambda r: r.band_max - r.total_minutes)
    return under, over


# --------------------------------------------------------------------------- individual hours


def lead_provider_people(session: Session, *, user: Any, month: str) -> list[YoungPerson]:
    """Young people whose lead provider is the coordinator's provider and whose help ran in `month`."""
    if not has_role(user, Role.coordinator) or user.provider_id is None:
        return []
    first, last = month_bounds(month)
    return list(
        session.exec(
            select(YoungPerson)
            .where(
                YoungPerson.lead_provider_id == user.provider_id,
                YoungPerson.status != CaseStatus.anonymised.value,
                YoungPerson.approval_start <= last,
                (YoungPerson.approval_end.is_(None)) | (YoungPerson.approval_end >= first),
            )
            .order_by(YoungPerson.pseudonym)
        ).all()
    )


def record_individual_hours(
    session: Session, *, actor: Any, young_person_id: int, month: str, minutes: int | None, today: date | None = None
) -> IndividualHours:
    """The lead provider's coordinator reports the month's individual minutes (replacing an earlier figure)."""
    today = today or today_berlin()
    yp = session.get(YoungPerson, young_person_id)
    if yp is None:
        raise LookupError(young_person_id)
    if not has_role(actor, Role.coordinator) or actor.provider_id is None or actor.provider_id != yp.lead_provider_id:
        raise PermissionError("only the lead provider reports individual hours")
    errors: dict[str, str] = {}
    try:
        month = parse_month(month, today=today)
    except CaseError as exc:
        errors.update(exc.field_errors)
    if minutes is None:
        errors["minutes"] = "Bitte geben Sie die Einzelstunden an (0, wenn keine)."
    elif minutes % 15:
        errors["minutes"] = "Einzelstunden bitte in Viertelstunden angeben (z. B. 1,25 Std.)."
    elif not 0 <= minutes <= MAX_INDIVIDUAL_MINUTES:
        errors["minutes"] = f"Die Einzelstunden müssen zwischen 0 und {MAX_INDIVIDUAL_MINUTES // 60} Std. liegen."
    if errors:
        raise CaseError(errors)
    row = session.exec(
        select(IndividualHours).where(IndividualHours.young_person_id == yp.id, IndividualHours.month == month)
    ).first()
    if row is None:
        row = IndividualHours(young_person_id=yp.id, month=month, minutes=minutes, provider_id=actor.provider_id)
        session.add(row)
    row.minutes = minutes
    row.entered_by = actor.id
    row.entered_at = utcnow()
    audit(session, actor, AuditAction.update.value, "individual_hours", yp.id, case_id=yp.id)
    session.commit()
    return row


# --------------------------------------------------------------------------- exports

EXPORT_HEADERS = [
    "Pseudonym", "Aktenzeichen", "Modul", "Tage mit Hilfe", "Gruppenstunden", "Einzelstunden",
    "Stunden gesamt", "Band von (Std.)", "Band bis (Std.)", "Bewertung",
]  # fmt: skip
def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def export_rows(rows: list[MonthHours]) -> list[list[Any]]:
    """The table behind both exports: one list per young person, hours as numbers (texts are
    neutralised against formula injection by the `spreadsheets` writers)."""
    return [
        [
            r.pseudonym,
            r.case_reference or "",
            r.module_name,
            r.days,
            _hours(r.group_minutes),
            _hours(r.individual_minutes),
            _hours(r.total_minutes),
            _hours(r.band_min),
            _hours(r.band_max),
            r.status_label,
        ]  # fmt: skip
        for r in rows
    ]


def export_csv(rows: list[MonthHours]) -> str:
    """CSV for German spreadsheets: semicolon-separated, decimal comma, UTF-8 with BOM."""
    return csv_bytes(EXPORT_HEADERS, export_rows(rows)).decode("utf-8")


def export_xlsx(rows: list[MonthHours], month: str) -> bytes:
    """An XLSX workbook with one sheet "Monitoring JJJJ-MM"; hours are numbers."""
    return xlsx_bytes(f"Monitoring {month}", EXPORT_HEADERS, export_rows(rows))
