"""Cross-provider use (trägerübergreifende Nutzung): volume and offsets per provider pair,
and the share of placements in groups outside the lead provider.

Volume and money come from the offset ledger (`OffsetEntry`, booked by
`marketplace.ledger.book_month`), so the amounts here are exactly those of the monthly
statements; months not booked yet show no offsets. The share of placements outside the
lead provider comes from the seat-holding placements (as in occupancy).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, func, or_
from sqlmodel import Session, select

from ..models import GroupOffer, MonthClose, Municipality, OfferCategory, OffsetEntry, Placement, Provider, SharedUse
from .facts import Holding, OfferInfo, load_offers, seat_holdings
from .filters import ReportFilters, month_first_day, month_last_day
from .tables import Column, Kind, ReportTable, ratio


@dataclass
class PairFigures:
    """What one lead provider's young people used of one host's groups in the period."""

    host_id: int
    lead_id: int
    minutes: int = 0
    amount_cents: int = 0
    uses: set[int] = field(default_factory=set)  # shared-use ids with offset entries
    variants: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class CrossUseReport:
    filters: ReportFilters
    names: dict[int, str]
    pairs: dict[tuple[int, int], PairFigures]
    months: dict[str, tuple[int, int, int]]  # month → (minutes, cents, pairs)
    closed: set[str]
    offers: dict[int, OfferInfo]
    holdings: list[Holding]

    @property
    def total_cents(self) -> int:
        return sum(p.amount_cents for p in self.pairs.values())

    @property
    def total_minutes(self) -> int:
        return sum(p.minutes for p in self.pairs.values())

    def pair_table(self) -> ReportTable:
        table = ReportTable(
            key="verrechnung-paare", title="Verrechnung je Trägerpaar",
            columns=[Column("Gastgebender Träger"), Column("Federführender Träger"),
                     Column("Belegungen", Kind.count), Column("Variante A", Kind.count),
                     Column("Variante B", Kind.count), Column("Teilnehmendenstunden", Kind.hours),
                     Column("Verrechnung", Kind.euro)],
            note="Aus dem Verrechnungsbuch (gebuchte Monate): der federführende Träger zahlt dem gastgebenden "
                 "Träger je besuchter Teilnehmendenstunde den bei Bestätigung gültigen Satz. Variante A: "
                 "ergänzend, B: integriert.")
        for pair in sorted(self.pairs.values(), key=lambda p: (self.names[p.host_id], self.names[p.lead_id])):
            table.rows.append([self.names[pair.host_id], self.names[pair.lead_id], len(pair.uses),
                               pair.variants.get("A", 0), pair.variants.get("B", 0), pair.minutes, pair.amount_cents])
        table.total = ["Gesamt", "", sum(len(p.uses) for p in self.pairs.values()),
                       sum(p.variants.get("A", 0) for p in self.pairs.values()),
                       sum(p.variants.get("B", 0) for p in self.pairs.values()), self.total_minutes, self.total_cents]
        return table

    def month_table(self) -> ReportTable:
        table = ReportTable(
            key="verrechnung-monate", title="Verrechnung je Monat",
            columns=[Column("Monat", Kind.month), Column("Trägerpaare", Kind.count),
                     Column("Teilnehmendenstunden", Kind.hours), Column("Verrechnung", Kind.euro),
                     Column("Monatsabschluss")])
        for month in self.filters.months:
            minutes, cents, pairs = self.months.get(month, (0, 0, 0))
            table.rows.append([month, pairs, minutes, cents, "abgeschlossen" if month in self.closed else "offen"])
        table.total = ["Gesamt", len(self.pairs), self.total_minutes, self.total_cents, ""]
        return table

    def outside_by_month(self) -> list[tuple[str, int, int]]:
        """(month, seat-holding placements, of which in another provider's group) per month."""
        out = []
        for month in self.filters.months:
            first, last = month_first_day(month), month_last_day(month)
            active = [h for h in self.holdings if h.active_in(first, last)]
            out.append((month, len(active), sum(self._outside(h) for h in active)))
        return out

    def outside_table(self) -> ReportTable:
        table = ReportTable(
            key="ausserhalb-monate", title="Belegungen außerhalb des federführenden Trägers je Monat",
            columns=[Column("Monat", Kind.month), Column("Belegungen", Kind.count),
                     Column("bei anderen Trägern", Kind.count), Column("Anteil", Kind.percent)],
            note="Belegungen, die im Monat einen Platz hielten; „bei anderen Trägern“: in einer Gruppe, die nicht "
                 "vom federführenden Träger des jungen Menschen angeboten wird.")
        for month, total, outside in self.outside_by_month():
            table.rows.append([month, total, outside, ratio(outside, total)])
        all_total = len(self.holdings)
        all_outside = sum(self._outside(h) for h in self.holdings)
        table.total = ["Zeitraum", all_total, all_outside, ratio(all_outside, all_total)]
        return table

    def lead_table(self) -> ReportTable:
        table = ReportTable(
            key="ausserhalb-traeger", title="Belegungen außerhalb des federführenden Trägers je Träger",
            columns=[Column("Federführender Träger"), Column("Belegungen", Kind.count),
                     Column("bei anderen Trägern", Kind.count), Column("Anteil", Kind.percent)])
        per_lead: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
        for h in self.holdings:
            per_lead[h.lead_provider_id][0] += 1
            per_lead[h.lead_provider_id][1] += self._outside(h)
        for lead, (total, outside) in sorted(per_lead.items(), key=lambda kv: self._name(kv[0])):
            table.rows.append([self._name(lead), total, outside, ratio(outside, total)])
        return table

    def short_of(self, name: str) -> str:
        """The short name ("BSJ") of a provider given its table label ("… GmbH (BSJ)")."""
        return name.rsplit("(", 1)[-1].rstrip(")") if name.endswith(")") else name

    def _outside(self, h: Holding) -> bool:
        return h.lead_provider_id is not None and self.offers[h.offer_id].provider_id != h.lead_provider_id

    def _name(self, provider_id: int | None) -> str:
        return "ohne federführenden Träger" if provider_id is None else self.names.get(provider_id, "?")


def cross_provider(session: Session, *, filters: ReportFilters, today: date) -> CrossUseReport:
    """Offsets per provider pair and month (ledger) and the placements outside the lead provider."""
    names = {pid: f"{name} ({short})" for pid, name, short in session.exec(
        select(Provider.id, Provider.name, Provider.short_name)).all()}
    entries = (
        select(SharedUse.host_provider_id, SharedUse.lead_provider_id, OffsetEntry.month,
               func.sum(OffsetEntry.minutes), func.sum(OffsetEntry.amount_cents))
        .join(SharedUse, SharedUse.id == OffsetEntry.shared_use_id)
        .where(OffsetEntry.month >= filters.first_month, OffsetEntry.month <= filters.last_month)
        .group_by(SharedUse.host_provider_id, SharedUse.lead_provider_id, OffsetEntry.month)
    )
    uses = (
        select(SharedUse.host_provider_id, SharedUse.lead_provider_id, SharedUse.id, SharedUse.variant)
        .join(OffsetEntry, OffsetEntry.shared_use_id == SharedUse.id)
        .where(OffsetEntry.month >= filters.first_month, OffsetEntry.month <= filters.last_month)
        .distinct()
    )
    entries, uses = _narrow(entries, filters), _narrow(uses, filters)
    pairs: dict[tuple[int, int], PairFigures] = {}
    months: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for host, lead, month, minutes, cents in session.exec(entries).all():
        pair = pairs.setdefault((host, lead), PairFigures(host, lead))
        pair.minutes += int(minutes or 0)
        pair.amount_cents += int(cents or 0)
        months[month][0] += int(minutes or 0)
        months[month][1] += int(cents or 0)
        months[month][2] += 1
    for host, lead, use_id, variant in session.exec(uses).all():
        pair = pairs.setdefault((host, lead), PairFigures(host, lead))
        pair.uses.add(use_id)
        pair.variants[variant] += 1
    closed = set(session.exec(select(MonthClose.month).where(MonthClose.month >= filters.first_month,
                                                             MonthClose.month <= filters.last_month)).all())
    offers = load_offers(session, filters)
    holdings = seat_holdings(session, offers, filters.first_day, min(filters.last_day, today))
    if filters.provider_id is not None:
        holdings = [h for h in holdings if filters.provider_id in (h.lead_provider_id, offers[h.offer_id].provider_id)]
    return CrossUseReport(filters=filters, names=names, pairs=pairs,
                          months={m: (v[0], v[1], v[2]) for m, v in months.items()}, closed=closed,
                          offers=offers, holdings=holdings)


def _narrow(query, filters: ReportFilters):
    """Apply provider (host or lead), Sozialraum and category (of the group) filters to a ledger query."""
    if filters.provider_id is not None:
        query = query.where(or_(SharedUse.host_provider_id == filters.provider_id,
                                SharedUse.lead_provider_id == filters.provider_id))
    if filters.sozialraum_id is not None or filters.category_id is not None:
        query = query.join(Placement, Placement.id == SharedUse.placement_id).join(
            GroupOffer, GroupOffer.id == Placement.offer_id)
        if filters.sozialraum_id is not None:
            query = query.join(Municipality, Municipality.id == GroupOffer.municipality_id).where(
                Municipality.sozialraum_id == filters.sozialraum_id)
        if filters.category_id is not None:
            query = query.where(exists().where(OfferCategory.offer_id == GroupOffer.id,
                                               OfferCategory.category_id == filters.category_id))
    return query
