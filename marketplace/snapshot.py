"""The one bridge between the database and the matching engine (Momentaufnahme).

`build_snapshot` turns the live rows into a pseudonymous FORMAT-v1 matching problem:
active young people with an approval covering the day, and bookable group offers
(certified, published, within their dates). Ids in the problem carry no case data:
"Y<young_person.id>", "G<offer.id>", "P<provider.id>".

How the plan maps onto the problem:
- confirmed and accepted placements are `pinned` (the solver never moves them),
  open proposals are `current` (moving them costs the `change` weight);
- an offer that is no longer bookable (paused, ended, certification expired) but still
  holds active placements stays in the problem, closed for newcomers;
- a closed (cohort) offer takes newcomers only before its first date;
- a pinned placement that the current data no longer allows (the young person moved
  away, the module's maximum dropped, ...) is kept *outside* the problem as fixed load:
  the group has one seat fewer, the person fewer free hours and less free time. The
  caseworker resolves it (cases flag it); the solver works around it.
- stale offers (free seats not confirmed by the coordinator for `VACANCY_STALE_DAYS`, see
  `marketplace.offers.is_stale`) are ranked lower by planning only part of their seats:
  ⌈seats × STALE_OFFER_WEIGHT⌉, never fewer than the members they already have;
- a young person without recorded availability windows is treated as always available;
  without a lead provider, the Jugendamt ("JA") stands in as lead.

Applying a solution back to rows is `apply_solution` in `marketplace.runs` (issue 6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from .matching.problem import DAYS, DEFAULT_WEIGHTS, FORMAT, Problem, ineligibility, parse_problem
from .models import (
    ACTIVE_PLACEMENT_STATUSES,
    SEAT_HOLDING_STATUSES,
    AvailabilityWindow,
    CaseStatus,
    Category,
    EntryMode,
    GroupOffer,
    KeepApart,
    Municipality,
    OfferStatus,
    OfferWish,
    Placement,
    Setting,
    WishKind,
    YoungPerson,
    YoungPersonNeed,
)
from .offers import STALE_OFFER_WEIGHT, VACANCY_STALE_DAYS, is_stale
from .timeutil import today_berlin, utcnow

#: Setting key holding the Jugendamt's solver weights (a dict of FORMAT weight names).
WEIGHTS_SETTING = "solver.weights"
#: Stand-in lead provider for young people without one.
JUGENDAMT_PROVIDER = "JA"
_BOOKABLE = (OfferStatus.published.value,)


def person_key(young_person_id: int) -> str:
    return f"Y{young_person_id}"


def group_key(offer_id: int) -> str:
    return f"G{offer_id}"


def provider_key(provider_id: int | None) -> str:
    return JUGENDAMT_PROVIDER if provider_id is None else f"P{provider_id}"


def _id_of(key: str) -> int:
    return int(key[1:])


@dataclass
class FixedLoad:
    """A pinned placement kept outside the problem because current data no longer allows it."""

    young_person_id: int
    offer_id: int
    reason: str


@dataclass
class Snapshot:
    """A matching problem built from the database, with the maps back to rows."""

    raw: dict
    problem: Problem
    today: date
    fixed_load: list[FixedLoad] = field(default_factory=list)
    skipped_offers: dict[int, str] = field(default_factory=dict)
    #: The stale offers (see `is_stale`) are the same from just after `stale_since` up to `fresh_until`
    #: (when the first fresh offer turns stale); None: no limit on that side.
    stale_since: datetime | None = None
    fresh_until: datetime | None = None

    @staticmethod
    def person_key(young_person_id: int) -> str:
        return person_key(young_person_id)

    @staticmethod
    def group_key(offer_id: int) -> str:
        return group_key(offer_id)

    @staticmethod
    def young_person_id(key: str) -> int:
        return _id_of(key)

    @staticmethod
    def offer_id(key: str) -> int:
        return _id_of(key)

    def current_assignments(self) -> dict[str, tuple[str, ...]]:
        """The live plan: every person's active placements (proposals included) inside the problem."""
        return {pid: tuple(y.current) for pid, y in self.problem.people.items()}

    def pinned_assignments(self) -> dict[str, tuple[str, ...]]:
        """Only the confirmed and accepted placements inside the problem."""
        return {pid: tuple(y.pinned) for pid, y in self.problem.people.items()}


def solver_weights(session: Session) -> dict[str, float]:
    """The Jugendamt's weights (Setting `solver.weights`) over FORMAT's defaults."""
    weights = dict(DEFAULT_WEIGHTS)
    setting = session.get(Setting, WEIGHTS_SETTING)
    if setting is not None and isinstance(setting.value, dict):
        for key, value in setting.value.items():
            if key in weights and isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                weights[key] = float(value)
    return weights


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window(day: int, start: int, end: int) -> dict:
    return {"day": DAYS[day], "start": _hhmm(start), "end": _hhmm(end)}


def _on_grid(minutes: int) -> bool:
    return minutes % 15 == 0 and 0 <= minutes <= 24 * 60


def _subtract(windows: list[tuple[int, int, int]], busy: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Weekly windows minus busy windows (both as (day, start, end))."""
    result = list(windows)
    for bday, bstart, bend in busy:
        next_result = []
        for day, start, end in result:
            if day != bday or bend <= start or end <= bstart:
                next_result.append((day, start, end))
                continue
            if start < bstart:
                next_result.append((day, start, bstart))
            if bend < end:
                next_result.append((day, bend, end))
        result = next_result
    return result


@dataclass
class _Person:
    """What the problem needs of an active young person (plain rows: loading ORM objects is the slow part)."""

    id: int
    municipality_id: int
    lat: float | None
    lon: float | None
    lead_provider_id: int | None
    birth_year: int
    gender: str | None
    max_travel_km: float
    group_minutes_target: int
    group_minutes_max: int
    priority: int
    needs: list[str] = field(default_factory=list)
    windows: list[tuple[int, int, int]] = field(default_factory=list)  # (weekday, start, end) in that order


def _active_people(session: Session, today: date) -> list[_Person]:
    """Active young people whose approval covers `today`, by id, with their needs and availability."""
    active = (
        (YoungPerson.status == CaseStatus.active.value)
        & (YoungPerson.approval_start <= today)
        & or_(YoungPerson.approval_end.is_(None), YoungPerson.approval_end >= today)
        & or_(YoungPerson.crisis_ends_on.is_(None), YoungPerson.crisis_ends_on >= today)
    )
    y = YoungPerson
    people = {
        row[0]: _Person(*row)
        for row in session.exec(
            select(y.id, y.municipality_id, y.lat, y.lon, y.lead_provider_id, y.birth_year, y.gender,
                   y.max_travel_km, y.group_minutes_target, y.group_minutes_max, y.priority)
            .where(active).order_by(y.id)
        ).all()
    }
    active_ids = select(YoungPerson.id).where(active)
    for person_id, code in session.exec(
            select(YoungPersonNeed.young_person_id, Category.code)
            .join(Category, Category.id == YoungPersonNeed.category_id)
            .where(YoungPersonNeed.young_person_id.in_(active_ids))).all():
        if person_id in people:
            people[person_id].needs.append(code)
    w = AvailabilityWindow
    for person_id, weekday, start, end in session.exec(
            select(w.young_person_id, w.weekday, w.start_minute, w.end_minute)
            .where(w.young_person_id.in_(active_ids))
            .order_by(w.young_person_id, w.weekday, w.start_minute)).all():
        if person_id in people:
            people[person_id].windows.append((weekday, start, end))
    return list(people.values())


def _offers(session: Session, today: date, held_offer_ids: set[int]) -> tuple[list[GroupOffer], set[int]]:
    """Bookable offers plus offers that still hold active placements; returns (offers, bookable ids)."""
    bookable_filter = (
        (GroupOffer.status.in_(_BOOKABLE))
        & (GroupOffer.certified_until >= today)
        & (or_(GroupOffer.last_date.is_(None), GroupOffer.last_date >= today))
    )
    query = (
        select(GroupOffer)
        .where(or_(bookable_filter, GroupOffer.id.in_(held_offer_ids or {-1})))
        .options(selectinload(GroupOffer.sessions), selectinload(GroupOffer.categories))
        .order_by(GroupOffer.id)
    )
    offers = list(session.exec(query).all())
    bookable = {
        o.id for o in offers
        if o.status in _BOOKABLE and o.certified_until is not None and o.certified_until >= today
        and (o.last_date is None or o.last_date >= today)
    }
    return offers, bookable


def build_snapshot(session: Session, *, today: date | None = None,
                   weights: dict[str, float] | None = None, now: datetime | None = None) -> Snapshot:
    """Build the pseudonymous matching problem of the whole district as of `today` (Berlin).

    `now` (UTC, default: the clock) decides which offers are stale.
    """
    today = today or today_berlin()
    people = _active_people(session, today)
    person_ids = {y.id for y in people}
    placements = list(session.exec(
        select(Placement).where(Placement.status.in_([s.value for s in ACTIVE_PLACEMENT_STATUSES]))
        .where(Placement.young_person_id.in_(person_ids or {-1}))
        .order_by(Placement.id)
    ).all())
    offers, bookable = _offers(session, today, {p.offer_id for p in placements})
    centres = {m.id: (m.lat, m.lon) for m in session.exec(select(Municipality)).all()}

    now = now or utcnow()
    stale = {group_key(o.id) for o in offers if is_stale(o, now)}
    turns = {o.id: o.vacancy_confirmed_at + timedelta(days=VACANCY_STALE_DAYS) for o in offers
             if o.status == OfferStatus.published.value and o.vacancy_confirmed_at is not None}
    stale_since = max((t for i, t in turns.items() if group_key(i) in stale), default=None)
    fresh_until = min((t for i, t in turns.items() if group_key(i) not in stale), default=None)
    groups: dict[int, dict] = {}
    skipped: dict[int, str] = {}
    for offer in offers:
        sessions = [(s.weekday, s.start_minute, s.end_minute) for s in offer.sessions]
        if not sessions:
            skipped[offer.id] = "keine Termine"
            continue
        if not all(_on_grid(s) and _on_grid(e) for _, s, e in sessions):
            skipped[offer.id] = "Termine nicht im Viertelstundenraster"
            continue
        lat, lon = (offer.lat, offer.lon) if offer.lat is not None else centres[offer.municipality_id]
        open_for_new = offer.id in bookable and (
            offer.entry_mode == EntryMode.open.value or offer.first_date > today
        )
        groups[offer.id] = {
            "id": group_key(offer.id), "provider": provider_key(offer.provider_id),
            "location": {"lat": lat, "lon": lon}, "seats": offer.seats, "min_size": offer.min_size,
            "categories": sorted(c.code for c in offer.categories) or ["_none"],
            "age_min": offer.age_min, "age_max": offer.age_max,
            "genders": offer.genders.split(",") if offer.genders else None,
            "sessions": [_window(*s) for s in sessions], "_sessions": sessions,
            "offset_rate": offer.offset_rate_cents / 100.0, "open_for_new": open_for_new,
        }

    wishes: dict[int, dict[str, list[str]]] = {}
    for wish in session.exec(select(OfferWish).where(OfferWish.young_person_id.in_(person_ids or {-1}))):
        if wish.offer_id in groups:
            kind = "preferred_groups" if wish.kind == WishKind.preferred.value else "excluded_groups"
            wishes.setdefault(wish.young_person_id, {}).setdefault(kind, []).append(group_key(wish.offer_id))
    avoid: dict[int, list[str]] = {}
    for pair in session.exec(select(KeepApart)):
        if pair.young_person_a_id in person_ids and pair.young_person_b_id in person_ids:
            avoid.setdefault(pair.young_person_a_id, []).append(person_key(pair.young_person_b_id))
    by_person: dict[int, list[Placement]] = {}
    for placement in placements:
        by_person.setdefault(placement.young_person_id, []).append(placement)

    raw_people = []
    fixed: list[FixedLoad] = []
    for y in people:
        lat, lon = (y.lat, y.lon) if y.lat is not None else centres[y.municipality_id]
        windows = y.windows
        record = {
            "id": person_key(y.id), "lead_provider": provider_key(y.lead_provider_id),
            "age": max(0, min(120, today.year - y.birth_year)), "gender": y.gender,
            "home": {"lat": lat, "lon": lon}, "max_travel_km": y.max_travel_km,
            "group_hours": {"target": y.group_minutes_target / 60.0, "max": y.group_minutes_max / 60.0},
            "needs": sorted(y.needs),
            "available": [_window(*w) for w in windows] if windows else None,
            "priority": y.priority, "current": [], "pinned": [],
            "preferred_groups": wishes.get(y.id, {}).get("preferred_groups", []),
            "excluded_groups": wishes.get(y.id, {}).get("excluded_groups", []),
            "avoid_with": avoid.get(y.id, []),
        }
        for placement in by_person.get(y.id, []):
            group = groups.get(placement.offer_id)
            if group is None:
                continue
            key = group_key(placement.offer_id)
            if placement.status in {s.value for s in SEAT_HOLDING_STATUSES}:
                record["current"].append(key)
                record["pinned"].append(key)
            elif group["open_for_new"] or key in record["current"]:
                record["current"].append(key)
        raw_people.append(record)
        fixed += _externalise_invalid_pins(record, groups, y.id)

    # proposals of people whose pinned load left no room are dropped by the solver anyway;
    # groups reduced to zero seats by fixed load leave the problem.
    raw_groups = []
    for offer_id, group in groups.items():
        if group["seats"] <= 0:
            skipped[offer_id] = "alle Plätze durch feste Belegungen außerhalb des Plans gebunden"
            continue
        raw_groups.append({k: v for k, v in group.items() if not k.startswith("_")})
    _discount_stale_offers(raw_groups, raw_people, stale)
    kept = {g["id"] for g in raw_groups}
    for record in raw_people:
        for key in ("current", "pinned", "preferred_groups", "excluded_groups"):
            record[key] = [g for g in record[key] if g in kept]

    providers = sorted({g["provider"] for g in raw_groups} | {p["lead_provider"] for p in raw_people})
    raw = {
        "format": FORMAT,
        "weights": weights if weights is not None else solver_weights(session),
        "providers": [{"id": p} for p in providers],
        "groups": raw_groups,
        "young_people": raw_people,
    }
    return Snapshot(raw=raw, problem=parse_problem(raw), today=today, fixed_load=fixed, skipped_offers=skipped,
                    stale_since=stale_since, fresh_until=fresh_until)


def _discount_stale_offers(raw_groups: list[dict], raw_people: list[dict], stale: set[str]) -> None:
    """Plan only part of a stale offer's seats (its current members always keep theirs)."""
    members: dict[str, int] = {}
    for person in raw_people:
        for key in person["current"]:
            members[key] = members.get(key, 0) + 1
    for group in raw_groups:
        if group["id"] in stale:
            planned = max(members.get(group["id"], 0), math.ceil(group["seats"] * STALE_OFFER_WEIGHT))
            group["seats"] = max(1, min(group["seats"], planned))
            group["min_size"] = min(group["min_size"], group["seats"])


def _externalise_invalid_pins(record: dict, groups: dict[int, dict], young_person_id: int) -> list[FixedLoad]:
    """Move pinned placements that break a rule under today's data out of the problem (see module doc)."""
    parsed_person = None
    fixed = []
    pinned_hours = 0.0
    for key in list(record["pinned"]):
        group = groups[_id_of(key)]
        probe = parse_problem({
            "format": FORMAT,
            "providers": [{"id": p} for p in sorted({group["provider"], record["lead_provider"]})],
            "groups": [{k: v for k, v in group.items() if not k.startswith("_")}],
            "young_people": [{**record, "current": [key], "pinned": [key], "preferred_groups": [],
                              "excluded_groups": [], "avoid_with": []}],
        })
        parsed_person = probe.people[record["id"]]
        reason = ineligibility(parsed_person, probe.groups[key])
        hours = sum(e - s for _, s, e in group["_sessions"]) / 60.0
        if reason is None and pinned_hours + hours <= record["group_hours"]["max"] + 1e-9:
            pinned_hours += hours
            continue
        reason = reason or "hours"
        record["pinned"].remove(key)
        record["current"].remove(key)
        group["seats"] -= 1
        group["min_size"] = max(1, min(group["min_size"] - 1, group["seats"]))
        band = record["group_hours"]
        band["max"] = max(0.0, band["max"] - hours)
        band["target"] = min(band["target"], band["max"])
        free = [(DAYS.index(w["day"]), *_minutes_pair(w)) for w in (record["available"] or [])] \
            if record["available"] is not None else [(d, 0, 24 * 60) for d in range(7)]
        record["available"] = [_window(*w) for w in _subtract(free, group["_sessions"])]
        fixed.append(FixedLoad(young_person_id=young_person_id, offer_id=_id_of(key), reason=reason))
    return fixed


def _minutes_pair(window: dict) -> tuple[int, int]:
    def parse(text: str) -> int:
        hh, mm = text.split(":")
        return int(hh) * 60 + int(mm)

    return parse(window["start"]), parse(window["end"])
