"""Occupancy (Auslastung) by group, provider, Sozialraum, category and month, with the trend.

Two ratios, both against what the groups offered:
- Belegungsquote = booked seat-months / seat-months (how full the groups were booked);
- Teilnahmequote = attended participant-hours / capacity participant-hours
  (capacity = seats × session hours held).
An offer serving several categories counts once in each of them (so the category rows
do not add up to the total; the total row is always computed once per offer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from ..models import Category
from .facts import OfferInfo, OfferMonth, attendance_by_month, load_offers, offer_months, seat_holdings
from .filters import ReportFilters
from .tables import Column, Kind, ReportTable, month_label, ratio

DIMENSIONS = {
    "monat": "Monat",
    "gruppe": "Gruppe",
    "traeger": "Träger",
    "sozialraum": "Sozialraum",
    "kategorie": "Kategorie",
}


@dataclass
class Totals:
    """Summed figures of a set of offer-months."""

    offers: set[int] = field(default_factory=set)
    seat_months: int = 0
    booked: int = 0
    sessions: int = 0
    capacity_minutes: int = 0
    attended: int = 0
    attended_minutes: int = 0

    def add(self, row: OfferMonth) -> None:
        if row.seats:
            self.offers.add(row.offer_id)
        self.seat_months += row.seats
        self.booked += row.booked
        self.sessions += row.sessions
        self.capacity_minutes += row.capacity_minutes
        self.attended += row.attended
        self.attended_minutes += row.attended_minutes

    @property
    def booked_share(self) -> float | None:
        return ratio(self.booked, self.seat_months)

    @property
    def attended_share(self) -> float | None:
        return ratio(self.attended_minutes, self.capacity_minutes)


@dataclass
class OccupancyReport:
    filters: ReportFilters
    offers: dict[int, OfferInfo]
    rows: list[OfferMonth]
    category_labels: dict[int, str]

    def total(self) -> Totals:
        totals = Totals()
        for row in self.rows:
            totals.add(row)
        return totals

    def by_month(self) -> dict[str, Totals]:
        """Every month of the period (also those without any offer), in order."""
        out = {month: Totals() for month in self.filters.months}
        for row in self.rows:
            out[row.month].add(row)
        return out

    def grouped(self, dimension: str) -> list[tuple[str, str, Totals]]:
        """(key, label, totals) per value of `dimension`, sorted by label (months in order)."""
        if dimension == "monat":
            return [(m, month_label(m), t) for m, t in self.by_month().items()]
        keys: Callable[[OfferInfo], list[tuple[str, str]]] = {
            "gruppe": lambda o: [(str(o.id), o.title)],
            "traeger": lambda o: [(str(o.provider_id), o.provider_name)],
            "sozialraum": lambda o: [(str(o.sozialraum_id), o.sozialraum_name)],
            "kategorie": lambda o: [(str(c), self.category_labels.get(c, "?")) for c in o.category_ids
                                    if self.filters.category_id in (None, c)],
        }[dimension]
        groups: dict[str, tuple[str, Totals]] = {}
        for row in self.rows:
            for key, label in keys(self.offers[row.offer_id]):
                groups.setdefault(key, (label, Totals()))[1].add(row)
        return sorted(((k, label, t) for k, (label, t) in groups.items()), key=lambda item: item[1].lower())

    def table(self, dimension: str) -> ReportTable:
        """The occupancy table for `dimension` (one of DIMENSIONS) with a total row."""
        columns = [Column(DIMENSIONS[dimension], Kind.month if dimension == "monat" else Kind.text)]
        if dimension == "gruppe":
            columns += [Column("Träger"), Column("Sozialraum")]
        columns += [
            Column("Angebote", Kind.count), Column("Platzmonate", Kind.count), Column("belegt", Kind.count),
            Column("Belegungsquote", Kind.percent), Column("Termine", Kind.count),
            Column("Kapazität", Kind.hours), Column("besucht", Kind.hours), Column("Teilnahmequote", Kind.percent),
        ]
        table = ReportTable(key=f"auslastung-{dimension}", title=f"Auslastung nach {DIMENSIONS[dimension]}",
                            columns=columns, note=NOTE)
        for key, label, t in self.grouped(dimension):
            row: list = [key if dimension == "monat" else label]
            if dimension == "gruppe":
                offer = self.offers[int(key)]
                row += [offer.provider_name, offer.sozialraum_name]
            row += _figures(t)
            table.rows.append(row)
        total = self.total()
        table.total = ["Gesamt"] + (["", ""] if dimension == "gruppe" else []) + _figures(total)
        return table


NOTE = ("Platzmonate: Plätze je Monat, in dem die Gruppe lief. Belegt: Plätze mit bestätigter oder angenommener "
        "Belegung im Monat. Kapazität: Plätze × stattgefundene Termine (Teilnehmendenstunden); besucht: als "
        "anwesend erfasste Teilnahmen. Angebote mit mehreren Kategorien zählen in jeder Kategorie.")


def _figures(t: Totals) -> list:
    return [len(t.offers), t.seat_months, t.booked, t.booked_share, t.sessions, t.capacity_minutes,
            t.attended_minutes, t.attended_share]


def occupancy(session: Session, *, filters: ReportFilters, today: date) -> OccupancyReport:
    """Occupancy facts of the period (five queries in all, whatever the district's size)."""
    offers = load_offers(session, filters)
    first, last = filters.first_day, min(filters.last_day, today)
    holdings = seat_holdings(session, offers, first, last)
    attendance = attendance_by_month(session, offers, first, last)
    rows = offer_months(offers, filters.months, holdings, attendance, today=today)
    labels = dict(session.exec(select(Category.id, Category.label)).all())
    return OccupancyReport(filters=filters, offers=offers, rows=rows, category_labels=labels)
