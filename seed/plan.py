"""Deterministic demo placements, requests, wishes and keep-apart pairs.

The seeded placements obey every hard rule of matching/FORMAT.md (eligibility,
seats, no overlap, hours, keep-apart, co-use of the providers' agreements), so a
solver run that pins them is feasible. Ages are checked for both readings of a
birth year (age this year and one less), so any age convention in the snapshot agrees.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from .generate import OfferRecord, PersonRecord, haversine_km

PLACED_SHARE = 0.6
DECLINE_REASONS = [
    "Gruppe ist konzeptionell nicht passend für den Bedarf.",
    "Gruppendynamik lässt derzeit keine Aufnahme zu.",
]


@dataclass
class PlacementRecord:
    """A demo placement (natural key: pseudonym + offer title)."""

    pseudonym: str
    offer: str
    status: str
    source: str
    variant: str | None = None
    decline_reason: str | None = None
    end_reason: str | None = None


@dataclass
class RequestRecord:
    """A demo placement request (natural key: pseudonym + status)."""

    pseudonym: str
    status: str
    waiting_reasons: str | None = None


@dataclass
class DemoPlan:
    """Everything the demo district contains beyond the static catalogues."""

    offers: list[OfferRecord]
    people: list[PersonRecord]
    placements: list[PlacementRecord] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)
    wishes: list[tuple[str, str, str]] = field(default_factory=list)  # (pseudonym, offer, kind)
    keep_apart: list[tuple[str, str, str]] = field(default_factory=list)  # (pseudonym, pseudonym, reason)


def _location(person: PersonRecord, towns: dict[str, dict]) -> tuple[float, float]:
    if person.lat is not None and person.lon is not None:
        return person.lat, person.lon
    town = towns[person.municipality]
    return town["lat"], town["lon"]


def ineligibility(person: PersonRecord, offer: OfferRecord, towns: dict[str, dict], today: date) -> str | None:
    """Why `person` cannot join `offer` (German, for waiting reasons), or None when eligible."""
    age = today.year - person.birth_year
    if age - 1 < offer.age_min or age > offer.age_max:
        return "Alter passt nicht"
    if offer.genders is not None and person.gender not in offer.genders.split(","):
        return "Gruppe nur für anderes Geschlecht"
    if not set(person.needs) & set(offer.categories):
        return "kein passender Bedarf"
    if haversine_km(*_location(person, towns), offer.lat, offer.lon) > person.max_travel_km:
        return f"weiter als {person.max_travel_km:.0f} km entfernt"
    for day, start, end in offer.sessions:
        if not any(d == day and s <= start and end <= e for d, s, e in person.availability):
            return "Termine außerhalb der Verfügbarkeit"
    return None


def _overlaps(a: OfferRecord, b: OfferRecord) -> bool:
    return any(d1 == d2 and s1 < e2 and s2 < e1 for d1, s1, e1 in a.sessions for d2, s2, e2 in b.sessions)


def plan_demo(
    offers: list[OfferRecord],
    people: list[PersonRecord],
    providers: list[dict],
    towns: list[dict],
    labels: dict[str, str],
    today: date,
    rng: random.Random,
) -> DemoPlan:
    """Place about a third of the young people first-come into published groups, then add the rest."""
    plan = DemoPlan(offers=offers, people=people)
    town_by_name = {t["name"]: t for t in towns}
    co_use = {p["short_name"]: p["allows_co_use"] for p in providers}
    bookable = [o for o in offers if o.status == "published"]
    members: dict[str, list[str]] = {o.title: [] for o in offers}
    placed: dict[str, list[OfferRecord]] = {}

    def allowed(person: PersonRecord, offer: OfferRecord) -> bool:
        same = offer.provider == person.lead_provider
        return same or (co_use[offer.provider] and co_use[person.lead_provider])

    for person in rng.sample(people, int(len(people) * PLACED_SHARE)):
        mine: list[OfferRecord] = []
        minutes = 0
        for offer in sorted(bookable, key=lambda o: haversine_km(*_location(person, town_by_name), o.lat, o.lon)):
            if len(members[offer.title]) >= offer.seats - 1 or not allowed(person, offer):
                continue
            if ineligibility(person, offer, town_by_name, today) or any(_overlaps(offer, m) for m in mine):
                continue
            if minutes + offer.weekly_minutes > person.group_minutes_max:
                continue
            mine.append(offer)
            minutes += offer.weekly_minutes
            members[offer.title].append(person.pseudonym)
            if minutes >= person.group_minutes_target or len(mine) == 2:
                break
        if mine:
            placed[person.pseudonym] = mine

    for pseudonym, mine in placed.items():
        person = next(p for p in people if p.pseudonym == pseudonym)
        statuses = []
        for offer in mine:
            status = rng.choices(["accepted", "confirmed", "proposed"], [0.55, 0.25, 0.2])[0]
            shared = offer.provider != person.lead_provider
            plan.placements.append(
                PlacementRecord(
                    pseudonym=pseudonym,
                    offer=offer.title,
                    status=status,
                    source="solver" if status == "proposed" else "caseworker",
                    variant=rng.choice(["A", "B"]) if shared and status != "proposed" else None,
                )
            )
            statuses.append(status)
        held = any(s in ("confirmed", "accepted") for s in statuses)
        plan.requests.append(RequestRecord(pseudonym, "fulfilled" if held else "open"))

    _add_declined_and_ended(plan, placed, bookable, town_by_name, today, rng)
    _add_waiting(plan, placed, bookable, town_by_name, labels, today, rng)
    _add_wishes_and_conflicts(plan, placed, bookable, members, town_by_name, today, rng)
    return plan


def _add_declined_and_ended(
    plan: DemoPlan, placed: dict, bookable: list[OfferRecord], towns: dict, today: date, rng: random.Random
) -> None:
    people = {p.pseudonym: p for p in plan.people}
    done = 0
    for pseudonym in sorted(placed):
        if done >= 4:
            break
        person, mine = people[pseudonym], placed[pseudonym]
        other = next((o for o in bookable if o not in mine and not ineligibility(person, o, towns, today)), None)
        if other is None:
            continue
        if done < 2:
            plan.placements.append(
                PlacementRecord(pseudonym, other.title, "declined", "caseworker", decline_reason=DECLINE_REASONS[done])
            )
        else:
            plan.placements.append(
                PlacementRecord(
                    pseudonym,
                    other.title,
                    "ended",
                    "caseworker",
                    end_reason="Ziel erreicht, Gruppe regulär beendet.",
                )
            )
        done += 1


def _add_waiting(
    plan: DemoPlan,
    placed: dict,
    bookable: list[OfferRecord],
    towns: dict,
    labels: dict[str, str],
    today: date,
    rng: random.Random,
) -> None:
    unplaced = [p for p in plan.people if p.pseudonym not in placed]
    for person in rng.sample(unplaced, len(unplaced) // 4):
        fitting = [o for o in bookable if not ineligibility(person, o, towns, today)]
        if fitting:
            plan.requests.append(RequestRecord(person.pseudonym, "open"))
            continue
        needs = ", ".join(labels[c] for c in person.needs)
        plan.requests.append(
            RequestRecord(
                person.pseudonym,
                "waiting",
                f"Kein Gruppenangebot im Umkreis von {person.max_travel_km:.0f} km passt zu Bedarf, "
                f"Alter und freien Zeiten ({needs}).",
            )
        )


def _add_wishes_and_conflicts(
    plan: DemoPlan,
    placed: dict,
    bookable: list[OfferRecord],
    members: dict[str, list[str]],
    towns: dict,
    today: date,
    rng: random.Random,
) -> None:
    for person in rng.sample(plan.people, 20):
        mine = {o.title for o in placed.get(person.pseudonym, [])}
        fitting = [o for o in bookable if o.title not in mine and not ineligibility(person, o, towns, today)]
        if fitting:
            kind = "preferred" if len(plan.wishes) % 3 else "excluded"
            plan.wishes.append((person.pseudonym, rng.choice(fitting).title, kind))
    groups_of: dict[str, set[str]] = {}
    for title, pseudonyms in members.items():
        for pseudonym in pseudonyms:
            groups_of.setdefault(pseudonym, set()).add(title)
    by_area: dict[str, list[PersonRecord]] = {}
    for person in plan.people:
        by_area.setdefault(person.sozialraum, []).append(person)
    for area in sorted(by_area):
        for _ in range(2):
            a, b = rng.sample(by_area[area], 2)
            if groups_of.get(a.pseudonym, set()) & groups_of.get(b.pseudonym, set()):
                continue
            plan.keep_apart.append((a.pseudonym, b.pseudonym, "Konflikt aus der Schule bekannt"))
