"""Unmet demand (ungedeckter Bedarf): who waits where for which category, and why no group fits.

Waiting (wartend) = an active young person whose approval covers today, with an open or
waiting placement request and no active placement. The reasons are the engine's own:
the live matching problem (`snapshot.build_snapshot`) is explained by
`matching.explain.unmatched_all`; the German texts are classified into reason codes
(`reason_code`). When a person is not part of today's problem, the reasons stored on the
request (`PlacementRequest.waiting_reasons`) are classified instead.

Per person and category the main reason (Hauptgrund) is the first, most relevant line
that concerns the category (the engine orders its lines by relevance; "no offer"/
"too far" lines name their category). A person with several needs counts in each.
Also here: groups below their minimum size (at risk) and under-used groups, and supply
and demand per municipality for the district map.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, func, or_
from sqlmodel import Session, select

from ..matching.explain import category_label, unmatched_all
from ..models import (
    ACTIVE_PLACEMENT_STATUSES,
    CaseStatus,
    Category,
    Municipality,
    OfferStatus,
    Placement,
    PlacementRequest,
    RequestStatus,
    Sozialraum,
    YoungPerson,
    YoungPersonNeed,
)
from ..snapshot import Snapshot, person_key
from ..snapshot_cache import cached_snapshot
from .facts import OfferInfo, attendance_by_month, load_offers, offer_months, seat_holdings
from .filters import ReportFilters, month_first_day, shift_month
from .tables import Column, Kind, ReportTable, ratio

#: Reason codes in display order, with their German labels.
REASONS: dict[str, str] = {
    "no_offer": "kein Angebot",
    "full": "alle voll",
    "times": "Zeiten",
    "distance": "Entfernung",
    "min_size": "Mindestgröße",
    "target_group": "Alter/Geschlecht",
    "free_seat": "Platz frei",
    "other": "sonstige",
}
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Kein Angebot für .* im Gebiet"), "no_offer"),
    (re.compile(r"^Kein Angebot für .* innerhalb von"), "distance"),
    (re.compile(r"^Kein Gruppenangebot im Umkreis"), "distance"),
    (re.compile(r"^Alle passenden Gruppen sind voll|^\d+ Gruppen? voll"), "full"),
    (re.compile(r"^Zeiten passen nicht|^Zeitüberschneidung|Termine außerhalb der Verfügbarkeit"), "times"),
    (re.compile(r"^Mindestgröße"), "min_size"),
    (re.compile(r"^Altersgrenze|^Gruppe für ein anderes Geschlecht|^Alter passt nicht"), "target_group"),
    (re.compile(r"^Passende Gruppe mit freiem Platz"), "free_seat"),
]
_NEED_LINE = re.compile(r"^Kein Angebot für (.*?) (im Gebiet|innerhalb von)")
#: Statuses of offers that will run or run now (for groups at risk).
UPCOMING_STATUSES = (OfferStatus.certified.value, OfferStatus.published.value, OfferStatus.paused.value)
#: An offer is under-used below these shares (booked seats; attended of capacity, last three months).
UNDERUSED_BOOKED = 0.5
UNDERUSED_ATTENDED = 0.4


def reason_code(text: str) -> str:
    """The reason code of one German reason line of the engine (see REASONS); "other" if unknown."""
    for pattern, code in _PATTERNS:
        if pattern.search(text):
            return code
    return "other"


def main_reason(lines: list[str], category_code: str) -> str:
    """The code of the first line that concerns `category_code` (lines naming another category are skipped)."""
    label = category_label(category_code)
    for line in lines:
        named = _NEED_LINE.match(line)
        if named is None or named.group(1) == label:
            return reason_code(line)
    return "other"


@dataclass
class Waiting:
    """A waiting young person as the demand report sees it (no case data)."""

    young_person_id: int
    municipality_id: int
    sozialraum_id: int
    category_ids: list[int]
    since: date
    lines: list[str] = field(default_factory=list)
    live: bool = False  # reasons from today's matching problem (else: stored with the request)


def waiting_people(session: Session, *, filters: ReportFilters, today: date) -> list[Waiting]:
    """The young people waiting today, with the categories they need (two queries)."""
    active_placement = exists().where(
        Placement.young_person_id == YoungPerson.id,
        Placement.status.in_([s.value for s in ACTIVE_PLACEMENT_STATUSES]))
    query = (
        select(YoungPerson.id, YoungPerson.municipality_id, Municipality.sozialraum_id,
               func.min(PlacementRequest.created_at), func.max(PlacementRequest.waiting_reasons))
        .join(Municipality, Municipality.id == YoungPerson.municipality_id)
        .join(PlacementRequest, PlacementRequest.young_person_id == YoungPerson.id)
        .where(YoungPerson.status == CaseStatus.active.value, YoungPerson.approval_start <= today,
               or_(YoungPerson.approval_end.is_(None), YoungPerson.approval_end >= today),
               PlacementRequest.status.in_([RequestStatus.open.value, RequestStatus.waiting.value]),
               ~active_placement)
        .group_by(YoungPerson.id, YoungPerson.municipality_id, Municipality.sozialraum_id)
        .order_by(YoungPerson.id)
    )
    if filters.sozialraum_id is not None:
        query = query.where(Municipality.sozialraum_id == filters.sozialraum_id)
    if filters.provider_id is not None:
        query = query.where(YoungPerson.lead_provider_id == filters.provider_id)
    if filters.category_id is not None:
        query = query.where(exists().where(YoungPersonNeed.young_person_id == YoungPerson.id,
                                           YoungPersonNeed.category_id == filters.category_id))
    people = {}
    for ypid, town, area, since, stored in session.exec(query).all():
        lines = [line.strip() for line in (stored or "").splitlines() if line.strip()]
        people[ypid] = Waiting(ypid, town, area, [], since.date() if since else today, lines)
    if people:
        for ypid, category_id in session.exec(
                select(YoungPersonNeed.young_person_id, YoungPersonNeed.category_id)
                .where(YoungPersonNeed.young_person_id.in_(list(people)))):
            people[ypid].category_ids.append(category_id)
    return list(people.values())


_REASON_CACHE: OrderedDict[int, tuple[Snapshot, dict[str, list[str]]]] = OrderedDict()
_REASON_CACHE_SIZE = 4
_REASON_LOCK = threading.Lock()


def live_reasons(session: Session, *, today: date) -> dict[str, list[str]]:
    """The engine's reasons for every unassigned person of today's problem ("Y<id>" → German lines).

    Building the problem is the expensive part; it is kept per data state (`snapshot_cache`), and
    the reasons are kept with the problem they explain: a changed case, offer or placement gives a
    new problem, and thus fresh reasons.
    """
    snapshot = cached_snapshot(session, today=today)
    with _REASON_LOCK:
        found = _REASON_CACHE.get(id(snapshot))
        if found is not None and found[0] is snapshot:
            _REASON_CACHE.move_to_end(id(snapshot))
            return found[1]
    reasons = unmatched_all(snapshot.problem, snapshot.current_assignments())
    with _REASON_LOCK:
        _REASON_CACHE[id(snapshot)] = (snapshot, reasons)
        while len(_REASON_CACHE) > _REASON_CACHE_SIZE:
            _REASON_CACHE.popitem(last=False)
    return reasons


def attach_live_reasons(session: Session, people: list[Waiting], *, today: date) -> None:
    """Replace stored reasons by the engine's explanation of today's matching problem, where possible."""
    if not people:
        return
    reasons = live_reasons(session, today=today)
    for person in people:
        lines = reasons.get(person_key(person.young_person_id))
        if lines:
            person.lines, person.live = list(lines), True


@dataclass
class DemandReport:
    filters: ReportFilters
    today: date
    waiting: list[Waiting]
    categories: dict[int, tuple[str, str]]  # id → (code, label)
    areas: dict[int, str]
    towns: dict[int, tuple[str, int, float, float]]  # id → (name, Sozialraum id, lat, lon)
    open_offers: dict[int, OfferInfo]  # bookable now: supply
    at_risk: list[OfferInfo]
    underused: list[tuple[OfferInfo, float | None, float | None]]

    def main_reasons(self, person: Waiting) -> dict[int, str]:
        """Category id → main reason code, for each category the person needs (and the filter allows)."""
        out = {}
        for category_id in person.category_ids:
            if self.filters.category_id in (None, category_id):
                out[category_id] = main_reason(person.lines, self.categories[category_id][0])
        return out

    def person_reason(self, person: Waiting) -> str:
        """The person's overall main reason: the first line's code."""
        return reason_code(person.lines[0]) if person.lines else "other"

    def reason_totals(self) -> Counter[str]:
        return Counter(self.person_reason(p) for p in self.waiting)

    def free_seats(self) -> dict[tuple[int, int], int]:
        """(Sozialraum id, category id) → free seats of bookable offers today."""
        out: dict[tuple[int, int], int] = defaultdict(int)
        for offer in self.open_offers.values():
            for category_id in offer.category_ids:
                out[offer.sozialraum_id, category_id] += max(0, offer.seats - offer.seats_taken)
        return out

    def cell_table(self) -> ReportTable:
        columns = [Column("Sozialraum"), Column("Kategorie"), Column("wartend", Kind.count)]
        columns += [Column(label, Kind.count) for label in REASONS.values()]
        columns += [Column("freie Plätze", Kind.count)]
        table = ReportTable(
            key="bedarf-sozialraum-kategorie", title="Wartende junge Menschen nach Sozialraum und Kategorie",
            columns=columns,
            note="Stand heute. Hauptgrund je Kategorie aus der Begründung der Matching-Engine; junge Menschen mit "
                 "mehreren Bedarfen zählen in jeder Kategorie. Platz frei: eine passende Gruppe hat einen freien "
                 "Platz, vermittelt ist noch nicht. Freie Plätze: in buchbaren Gruppen dieser Kategorie im selben "
                 "Sozialraum.")
        cells: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
        for person in self.waiting:
            for category_id, code in self.main_reasons(person).items():
                cells[person.sozialraum_id, category_id][code] += 1
        free = self.free_seats()
        ordered = sorted(cells, key=lambda k: (self.areas.get(k[0], ""), self.categories[k[1]][1]))
        for area, category_id in ordered:
            counts = cells[area, category_id]
            table.rows.append([self.areas.get(area, "?"), self.categories[category_id][1], sum(counts.values()),
                               *[counts.get(code, 0) for code in REASONS], free.get((area, category_id), 0)])
        totals = Counter()
        for counts in cells.values():
            totals.update(counts)
        table.total = ["Gesamt (Nennungen)", "", sum(totals.values()), *[totals.get(c, 0) for c in REASONS],
                       sum(free.get(k, 0) for k in cells)]
        return table

    def reason_table(self) -> ReportTable:
        table = ReportTable(key="bedarf-gruende", title="Hauptgründe der Wartenden",
                            columns=[Column("Grund"), Column("junge Menschen", Kind.count),
                                     Column("Anteil", Kind.percent)],
                            note="Je junger Mensch der wichtigste Grund laut Matching-Engine (erste Begründung).")
        totals = self.reason_totals()
        n = len(self.waiting)
        for code, label in REASONS.items():
            table.rows.append([label, totals.get(code, 0), ratio(totals.get(code, 0), n)])
        table.total = ["Gesamt", n, 1.0 if n else None]
        return table

    def at_risk_table(self) -> ReportTable:
        table = ReportTable(
            key="gruppen-mindestgroesse", title="Gruppen unter Mindestgröße",
            columns=[Column("Gruppe"), Column("Träger"), Column("Sozialraum"), Column("Stand"),
                     Column("Plätze", Kind.count), Column("Mindestgröße", Kind.count), Column("belegt", Kind.count),
                     Column("fehlen", Kind.count)],
            note="Zertifizierte, veröffentlichte oder pausierte Gruppen, die heute weniger bestätigte oder "
                 "angenommene Belegungen haben als ihre Mindestgröße.")
        for o in self.at_risk:
            state = "läuft" if o.first_date <= self.today else f"beginnt am {o.first_date:%d.%m.%Y}"
            table.rows.append([o.title, o.provider_name, o.sozialraum_name, state, o.seats, o.min_size,
                               o.seats_taken, o.min_size - o.seats_taken])
        return table

    def underused_table(self) -> ReportTable:
        table = ReportTable(
            key="gruppen-wenig-genutzt", title="Wenig genutzte Gruppen",
            columns=[Column("Gruppe"), Column("Träger"), Column("Sozialraum"), Column("Plätze", Kind.count),
                     Column("belegt", Kind.count), Column("Belegungsquote", Kind.percent),
                     Column("Teilnahmequote (3 Monate)", Kind.percent)],
            note=f"Laufende Gruppen mit erreichter Mindestgröße, aber weniger als "
                 f"{UNDERUSED_BOOKED:.0%} belegten Plätzen oder weniger als {UNDERUSED_ATTENDED:.0%} besuchter "
                 "Kapazität in den letzten drei Monaten des Zeitraums.".replace("%", "\u00a0%"))
        for o, booked_share, attended_share in self.underused:
            table.rows.append([o.title, o.provider_name, o.sozialraum_name, o.seats, o.seats_taken, booked_share,
                               attended_share])
        return table

    def town_rows(self) -> list[tuple[int, str, str, int, int, int, int]]:
        """(id, municipality, Sozialraum, offers, seats, free seats, waiting) for every municipality."""
        supply: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        for o in self.open_offers.values():
            supply[o.municipality_id][0] += 1
            supply[o.municipality_id][1] += o.seats
            supply[o.municipality_id][2] += max(0, o.seats - o.seats_taken)
        demand = Counter(p.municipality_id for p in self.waiting)
        rows = []
        for town_id, (name, area, _lat, _lon) in sorted(self.towns.items(), key=lambda kv: kv[1][0]):
            if self.filters.sozialraum_id not in (None, area):
                continue
            offers, seats, free = supply.get(town_id, (0, 0, 0))
            rows.append((town_id, name, self.areas.get(area, "?"), offers, seats, free, demand.get(town_id, 0)))
        return rows

    def town_table(self) -> ReportTable:
        table = ReportTable(
            key="angebot-bedarf-gemeinden", title="Angebot und Bedarf je Gemeinde",
            columns=[Column("Gemeinde"), Column("Sozialraum"), Column("buchbare Gruppen", Kind.count),
                     Column("Plätze", Kind.count), Column("frei", Kind.count), Column("wartend", Kind.count)],
            note="Angebot: heute buchbare Gruppen am Ort. Bedarf: wartende junge Menschen mit Wohnort in der Gemeinde.")
        for _id, *values in self.town_rows():
            table.rows.append(list(values))
        rows = self.town_rows()
        table.total = ["Gesamt", "", sum(r[3] for r in rows), sum(r[4] for r in rows), sum(r[5] for r in rows),
                       sum(r[6] for r in rows)]
        return table


def unmet_demand(session: Session, *, filters: ReportFilters, today: date, live: bool = True) -> DemandReport:
    """Waiting young people with the engine's reasons, groups at risk, under-used groups, supply per town."""
    waiting = waiting_people(session, filters=filters, today=today)
    if live:
        attach_live_reasons(session, waiting, today=today)
    categories = {cid: (code, label) for cid, code, label in session.exec(
        select(Category.id, Category.code, Category.label)).all()}
    areas = dict(session.exec(select(Sozialraum.id, Sozialraum.name)).all())
    towns = {tid: (name, area, lat, lon) for tid, name, area, lat, lon in session.exec(
        select(Municipality.id, Municipality.name, Municipality.sozialraum_id, Municipality.lat, Municipality.lon))}
    upcoming = load_offers(session, filters, statuses=UPCOMING_STATUSES, first_day=today, last_day=date.max)
    open_offers = {i: o for i, o in upcoming.items() if o.status == OfferStatus.published.value}
    at_risk = sorted((o for o in upcoming.values() if o.seats_taken < o.min_size),
                     key=lambda o: (o.min_size - o.seats_taken, o.title), reverse=True)
    return DemandReport(filters=filters, today=today, waiting=waiting, categories=categories, areas=areas,
                        towns=towns, open_offers=open_offers, at_risk=at_risk,
                        underused=_underused(session, upcoming, filters, today))


def _underused(session: Session, offers: dict[int, OfferInfo], filters: ReportFilters,
               today: date) -> list[tuple[OfferInfo, float | None, float | None]]:
    running = {i: o for i, o in offers.items() if o.first_date <= today and o.seats_taken >= o.min_size}
    last = min(filters.last_month, f"{today.year:04d}-{today.month:02d}")
    months = [shift_month(last, -2), shift_month(last, -1), last]
    first_day = month_first_day(months[0])
    holdings = seat_holdings(session, running, first_day, today)
    attendance = attendance_by_month(session, running, first_day, today)
    capacity: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in offer_months(running, months, holdings, attendance, today=today):
        capacity[row.offer_id][0] += row.capacity_minutes
        capacity[row.offer_id][1] += row.attended_minutes
    out = []
    for offer in running.values():
        booked_share = ratio(offer.seats_taken, offer.seats)
        cap, attended = capacity.get(offer.id, (0, 0))
        attended_share = ratio(attended, cap)
        low_attendance = attended_share is not None and attended_share < UNDERUSED_ATTENDED
        if (booked_share or 0) < UNDERUSED_BOOKED or low_attendance:
            out.append((offer, booked_share, attended_share))
    return sorted(out, key=lambda item: (item[1] or 0, item[0].title))
