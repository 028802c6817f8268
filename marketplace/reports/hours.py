"""Module hours (Modulstunden): approved against delivered care hours, per module, team and month.

Built on the monthly monitoring (`marketplace.monitoring`): per young person and month the
approved band (the module's weekly care band, pro rata for the days the help ran) and the
delivered hours (attended group hours + reported individual hours). Here they are summed
per module, ASD team or month. The module is the case's current one (module changes are
not historicised).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, extract, func, or_
from sqlmodel import Session, select

from ..models import (
    Attendance,
    AttendanceStatus,
    CaseStatus,
    IndividualHours,
    Module,
    Municipality,
    OfferSession,
    Placement,
    Team,
    YoungPerson,
    YoungPersonNeed,
)
from ..monitoring import MonthHours, help_days
from ..timeutil import month_key
from .filters import ReportFilters, month_first_day
from .tables import Column, Kind, ReportTable, month_label, ratio

DIMENSIONS = {"modul": "Modul", "team": "Team", "monat": "Monat"}


@dataclass
class HoursTotals:
    case_months: int = 0
    band_min: int = 0
    band_max: int = 0
    group_target: int = 0
    group: int = 0
    individual: int = 0
    status: dict[str, int] = field(default_factory=lambda: {"under": 0, "within": 0, "over": 0})

    def add(self, row: CaseMonth) -> None:
        hours = row.hours
        self.case_months += 1
        self.band_min += hours.band_min
        self.band_max += hours.band_max
        self.group_target += row.group_target
        self.group += hours.group_minutes
        self.individual += hours.individual_minutes
        self.status[row.status] += 1

    @property
    def delivered(self) -> int:
        return self.group + self.individual


@dataclass
class CaseMonth:
    """One young person's figures in one month, with what the aggregation needs."""

    month: str
    team_id: int
    module_id: int
    hours: MonthHours
    group_target: int  # approved weekly group share, pro rata (minutes)
    status: str = ""  # the monitoring's verdict (under, within, over), computed once

    def __post_init__(self) -> None:
        self.status = self.status or self.hours.status


@dataclass
class ModuleHoursReport:
    filters: ReportFilters
    rows: list[CaseMonth]
    modules: dict[int, tuple[str, int]]  # id → (name, sort order)
    teams: dict[int, str]
    _total: HoursTotals | None = field(default=None, repr=False)

    def total(self) -> HoursTotals:
        if self._total is None:
            self._total = HoursTotals()
            for r in self.rows:
                self._total.add(r)
        return self._total

    def grouped(self, dimension: str) -> list[tuple[str, str, HoursTotals]]:
        key: Callable[[CaseMonth], tuple[str, str, tuple]] = {
            "modul": lambda r: (str(r.module_id), self.modules[r.module_id][0], (self.modules[r.module_id][1],)),
            "team": lambda r: (str(r.team_id), self.teams.get(r.team_id, "?"), (self.teams.get(r.team_id, ""),)),
            "monat": lambda r: (r.month, r.month, (r.month,)),  # the months are pre-filled with labels
        }[dimension]
        groups: dict[str, tuple[str, tuple, HoursTotals]] = {}
        if dimension == "monat":
            groups = {m: (month_label(m), (m,), HoursTotals()) for m in self.filters.months}
        for r in self.rows:
            k, label, order = key(r)
            groups.setdefault(k, (label, order, HoursTotals()))[2].add(r)
        return [(k, label, t) for k, (label, _, t) in sorted(groups.items(), key=lambda kv: kv[1][1])]

    def table(self, dimension: str) -> ReportTable:
        columns = [Column(DIMENSIONS[dimension], Kind.month if dimension == "monat" else Kind.text),
                   Column("Fallmonate", Kind.count), Column("Band von", Kind.hours), Column("Band bis", Kind.hours),
                   Column("Gruppe bewilligt", Kind.hours), Column("Gruppe geleistet", Kind.hours),
                   Column("Einzel geleistet", Kind.hours), Column("geleistet", Kind.hours),
                   Column("Erfüllung", Kind.percent), Column("unter Band", Kind.count), Column("im Band", Kind.count),
                   Column("über Band", Kind.count)]
        table = ReportTable(key=f"modulstunden-{dimension}", title=f"Modulstunden nach {DIMENSIONS[dimension]}",
                            columns=columns, note=NOTE)
        for key, _label, t in self.grouped(dimension):
            table.rows.append([key if dimension == "monat" else _label, *_figures(t)])
        table.total = ["Gesamt", *_figures(self.total())]
        return table


NOTE = ("Band von/bis: bewilligtes Betreuungsband des Moduls je Woche, anteilig für die Tage, an denen die Hilfe im "
        "Monat lief (im laufenden Monat bis heute); Gruppe bewilligt: der festgelegte Gruppenanteil. Geleistet: "
        "besuchte Gruppenstunden plus gemeldete Einzelstunden. Erfüllung: geleistet im Verhältnis zum unteren "
        "Bandwert. Fallmonate: junge Menschen je Monat mit laufender Hilfe. Alle Stundenwerte in Stunden.")


def _figures(t: HoursTotals) -> list:
    return [t.case_months, t.band_min, t.band_max, t.group_target, t.group, t.individual, t.delivered,
            ratio(t.delivered, t.band_min), t.status["under"], t.status["within"], t.status["over"]]


@dataclass(frozen=True)
class _Case:
    """The columns of a young person the monitoring needs (duck-types `YoungPerson` for `help_days`)."""

    id: int
    team_id: int
    module_id: int
    group_minutes_target: int
    approval_start: date
    approval_end: date | None
    ended_at: datetime | None


def module_hours(session: Session, *, filters: ReportFilters, today: date) -> ModuleHoursReport:
    """Per young person and month of the period the monitoring figures (four grouped queries in all).

    Same rules as `monitoring.monthly_hours` (band pro rata by `monitoring.help_days`; attended
    "present" group minutes; reported individual minutes), computed for the whole period at once.
    """
    query = select(YoungPerson.id, YoungPerson.team_id, YoungPerson.module_id, YoungPerson.group_minutes_target,
                   YoungPerson.approval_start, YoungPerson.approval_end, YoungPerson.ended_at).where(
        YoungPerson.status != CaseStatus.anonymised.value,
        YoungPerson.approval_start <= filters.last_day,
        or_(YoungPerson.approval_end.is_(None), YoungPerson.approval_end >= filters.first_day),
    )
    if filters.provider_id is not None:
        query = query.where(YoungPerson.lead_provider_id == filters.provider_id)
    if filters.sozialraum_id is not None:
        query = query.join(Municipality, Municipality.id == YoungPerson.municipality_id).where(
            Municipality.sozialraum_id == filters.sozialraum_id)
    if filters.category_id is not None:
        query = query.where(exists().where(YoungPersonNeed.young_person_id == YoungPerson.id,
                                           YoungPersonNeed.category_id == filters.category_id))
    people = [_Case(*row) for row in session.exec(query.order_by(YoungPerson.id)).all()]
    modules = {mid: (name, order, low, high) for mid, name, order, low, high in session.exec(
        select(Module.id, Module.name, Module.sort_order, Module.care_minutes_min, Module.care_minutes_max))}
    group = _group_minutes(session, query, filters, today)
    individual = {(ypid, month): minutes for ypid, month, minutes in session.exec(
        select(IndividualHours.young_person_id, IndividualHours.month, IndividualHours.minutes)
        .where(IndividualHours.month >= filters.first_month, IndividualHours.month <= filters.last_month,
               IndividualHours.young_person_id.in_(query.with_only_columns(YoungPerson.id).scalar_subquery())))}
    rows: list[CaseMonth] = []
    months = [m for m in filters.months if month_first_day(m) <= today]
    for person in people:
        # only the months the help can touch; help_days decides the exact days
        ends = [d for d in (person.approval_end, person.ended_at.date() if person.ended_at else None) if d]
        first, last = month_key(person.approval_start), month_key(min(ends)) if ends else "9999-12"
        for month in months:
            if month < first or month > last:
                continue
            days = help_days(person, month, today)
            if days <= 0:
                continue
            name, _order, low, high = modules[person.module_id]
            figures = MonthHours(
                young_person_id=person.id, pseudonym="", case_reference=None, module_name=name,
                group_minutes=group.get((person.id, month), 0),
                individual_minutes=individual.get((person.id, month), 0),
                band_min=round(low * days / 7), band_max=round(high * days / 7), days=days)
            rows.append(CaseMonth(month, person.team_id, person.module_id, figures,
                                  round(person.group_minutes_target * days / 7)))
    teams = dict(session.exec(select(Team.id, Team.name)).all())
    names = {i: (name, order) for i, (name, order, _low, _high) in modules.items()}
    return ModuleHoursReport(filters=filters, rows=rows, modules=names, teams=teams)


def _group_minutes(session: Session, people: Any, filters: ReportFilters, today: date) -> dict[tuple[int, str], int]:
    """(young person id, "YYYY-MM") → attended group minutes ("present"), one GROUP BY for the period."""
    year = extract("year", Attendance.session_date)
    month = extract("month", Attendance.session_date)
    rows = session.exec(
        select(Placement.young_person_id, year, month, func.sum(OfferSession.end_minute - OfferSession.start_minute))
        .select_from(Attendance)
        .join(Placement, Placement.id == Attendance.placement_id)
        .join(OfferSession, OfferSession.id == Attendance.offer_session_id)
        .where(Attendance.status == AttendanceStatus.present.value,
               Attendance.session_date >= filters.first_day, Attendance.session_date <= min(filters.last_day, today),
               Placement.young_person_id.in_(people.with_only_columns(YoungPerson.id).scalar_subquery()))
        .group_by(Placement.young_person_id, year, month)
    ).all()
    return {(ypid, f"{int(y):04d}-{int(m):02d}"): int(minutes or 0) for ypid, y, m, minutes in rows}
