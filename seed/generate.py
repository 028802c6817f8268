"""Deterministic generation of the demo district's group offers and young people.

Pure: JSON data and a reference date in, plain records out; no database. The
same data and date always give the same records (fixed random seed), so the
loader can match them against existing rows by their natural keys (offer title,
pseudonym) and seeding twice changes nothing.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
RANDOM_SEED = "gruppenboerse-demo-darmstadt-dieburg-1"
N_OFFERS = 60
N_PEOPLE = 300
#: status of the 60 offers: most certified and published, a few in other states
OFFER_STATUSES = (
    ["published"] * 48 + ["certified"] * 3 + ["paused"] * 2 + ["submitted"] * 3 + ["draft"] * 3 + ["rejected"]
)
PSEUDONYM_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no look-alikes (0/O, 1/I, 5/S, 8/B, 2/Z)
WEEKDAYS = range(5)  # Mon..Fri; Saturday (5) is added for a few offers and young people
AFTERNOON_STARTS = [14 * 60, 14 * 60 + 30, 15 * 60, 15 * 60 + 30, 16 * 60, 16 * 60 + 30, 17 * 60]
VENUES = ["Jugendzentrum", "Bürgerhaus", "Gemeindezentrum", "Räume des Trägers", "Familienzentrum"]


@dataclass
class OfferRecord:
    """A demo group offer (natural key: title)."""

    title: str
    provider: str  # provider short_name
    municipality: str
    lat: float
    lon: float
    address: str
    description: str
    categories: list[str]
    age_min: int
    age_max: int
    genders: str | None
    sessions: list[tuple[int, int, int]]  # (weekday, start_minute, end_minute)
    seats: int
    min_size: int
    entry_mode: str
    staff_mix: str
    multi_professional: bool
    offset_rate_cents: int
    status: str
    first_date: date
    last_date: date
    certified_until: date | None
    rejection_reason: str | None

    @property
    def weekly_minutes(self) -> int:
        return sum(end - start for _, start, end in self.sessions)


@dataclass
class PersonRecord:
    """A demo young person (natural key: pseudonym)."""

    pseudonym: str
    case_reference: str
    team: str
    birth_year: int
    gender: str
    municipality: str
    lat: float | None
    lon: float | None
    max_travel_km: float
    module: str
    group_minutes_target: int
    group_minutes_max: int
    lead_provider: str
    priority: int
    approval_start: date
    approval_end: date
    legal_basis: str
    risk_report_at: date | None
    crisis_ends_on: date | None
    needs: list[str]
    availability: list[tuple[int, int, int]]
    sozialraum: str = field(default="", repr=False)


@cache
def load_data() -> dict:
    """All seed/data/*.json files, keyed by file stem."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(DATA_DIR.glob("*.json"))}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (R = 6371.0, as in matching/FORMAT.md)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def _jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    dy, dx = rng.gauss(0, km), rng.gauss(0, km)
    return round(lat + dy / 111.2, 4), round(lon + dx / (111.2 * math.cos(math.radians(lat))), 4)


def _weighted(rng: random.Random, items: list, weights: list[float]):
    return rng.choices(items, weights)[0]


def _offer_sessions(rng: random.Random, saturday: bool) -> list[tuple[int, int, int]]:
    if saturday:
        return [(5, 10 * 60, 12 * 60)]
    count = rng.choices([1, 2, 3], [0.6, 0.32, 0.08])[0]
    days = sorted(rng.sample(list(WEEKDAYS), count))
    sessions = []
    for day in days:
        length = rng.choice([60, 90, 90, 120, 120])
        start = rng.choice([s for s in AFTERNOON_STARTS if s + length <= 19 * 60])
        sessions.append((day, start, start + length))
    return sessions


def generate_offers(data: dict, today: date, rng: random.Random) -> list[OfferRecord]:
    """About 60 offers: every category at least three times, the rest weighted to common needs."""
    templates = {t["category"]: t for t in data["offer_templates"]["templates"]}
    providers = data["organisations"]["providers"]
    towns = data["district"]["municipalities"]
    main_categories = [c for c in templates for _ in range(3)]
    common = [
        "social_skills",
        "sports",
        "learning_support",
        "anti_aggression",
        "creative",
        "media",
        "school_refusal",
        "transition_to_work",
    ]
    main_categories += rng.choices(common, [5, 4, 4, 3, 3, 2, 2, 2], k=N_OFFERS - len(main_categories))
    rng.shuffle(main_categories)
    statuses = OFFER_STATUSES[:]
    rng.shuffle(statuses)
    saturday_slots = {i for i, c in enumerate(main_categories) if c in ("sports", "creative", "parents_course")}
    saturday_slots = set(sorted(saturday_slots)[:4])

    offers, titles = [], set()
    for index, category in enumerate(main_categories):
        template = templates[category]
        provider = _weighted(rng, providers, [p["weight"] for p in providers])
        home_towns = [t for t in towns if t["sozialraum"] in provider["home"]]
        town = _weighted(rng, home_towns, [t["weight"] for t in home_towns])
        title = f"{rng.choice(template['titles'])} {town['name']}"
        while title in titles:
            title += " II"
        titles.add(title)
        extra = rng.sample(template["also"], min(len(template["also"]), rng.choice([0, 1, 1, 2])))
        age_min = rng.choices([6, 8, 10, 12, 14, 16], [1, 2, 3, 3, 2, 1])[0]
        age_max = min(21, age_min + rng.choice([3, 4, 5, 6]))
        if "age_band" in template:
            low, high = template["age_band"]
            age_min = min(max(age_min, low), high - 3)
            age_max = max(min(age_max, high), age_min + 3)
        seats = rng.randint(6, 12)
        status = statuses[index]
        started = status in ("published", "paused") or rng.random() < 0.5
        first_date = (
            today - timedelta(days=rng.randint(14, 120)) if started else today + timedelta(days=rng.randint(7, 35))
        )
        lat, lon = _jitter(rng, town["lat"], town["lon"], 0.4)
        venue = "Sporthalle" if category == "sports" else rng.choice(VENUES)
        offers.append(
            OfferRecord(
                title=title,
                provider=provider["short_name"],
                municipality=town["name"],
                lat=lat,
                lon=lon,
                address=f"{venue}, {town['name']}",
                description=template["description"],
                categories=[category, *extra],
                age_min=age_min,
                age_max=age_max,
                genders=template.get("genders"),
                sessions=_offer_sessions(rng, index in saturday_slots),
                seats=seats,
                min_size=rng.randint(3, min(5, seats)),
                entry_mode="closed" if rng.random() < 0.15 else "open",
                staff_mix=template["staff_mix"],
                multi_professional=template["multi_professional"],
                offset_rate_cents=rng.randrange(1400, 3250, 50),
                status=status,
                first_date=first_date,
                last_date=first_date + timedelta(days=rng.randint(180, 330)),
                certified_until=today + timedelta(days=rng.randint(180, 365))
                if status in ("certified", "published", "paused")
                else None,
                rejection_reason="Konzept zur Gruppenleitung fehlt; bitte Fachkräfte benennen."
                if status == "rejected"
                else None,
            )
        )
    return offers


def _pseudonym(rng: random.Random, taken: set[str]) -> str:
    while True:
        candidate = "JM-" + "".join(rng.choice(PSEUDONYM_ALPHABET) for _ in range(4))
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _needs(rng: random.Random, categories: list[str], gender: str, age: int) -> list[str]:
    allowed = [
        c
        for c in categories
        if not (c == "girls_group" and gender == "m")
        and not (c == "boys_group" and gender == "f")
        and not (c == "transition_to_work" and age < 14)
        and not (c == "addiction_prevention" and age < 12)
    ]
    return sorted(rng.sample(allowed, rng.choice([1, 2, 2, 3])), key=categories.index)


def _availability(rng: random.Random) -> list[tuple[int, int, int]]:
    windows = [
        (day, rng.choice([13, 14, 14, 15]) * 60, rng.choice([18, 19, 19]) * 60)
        for day in WEEKDAYS
        if rng.random() < 0.8
    ]
    if rng.random() < 0.3:
        windows.append((5, 9 * 60, 14 * 60))
    return windows or [(rng.choice(list(WEEKDAYS)), 14 * 60, 19 * 60)]


def generate_people(data: dict, today: date, rng: random.Random) -> list[PersonRecord]:
    """About 300 pseudonymous young people with modules in DOMAIN.md's mix."""
    catalogue = data["catalogue"]
    categories = [c["code"] for c in catalogue["categories"]]
    modules = {m["code"]: m for m in catalogue["modules"]}
    bases = catalogue["legal_bases"]
    towns = data["district"]["municipalities"]
    providers = data["organisations"]["providers"]
    teams = {t["sozialraum"]: t["name"] for t in data["organisations"]["teams"]}
    taken: set[str] = set()
    people = []
    for n in range(N_PEOPLE):
        town = _weighted(rng, towns, [t["weight"] for t in towns])
        area = town["sozialraum"]
        module = modules[_weighted(rng, list(modules), [m["share"] for m in modules.values()])]
        age = rng.choices(range(6, 22), [1, 2, 3, 4, 5, 6, 6, 6, 6, 5, 4, 3, 2, 2, 1, 1])[0]
        gender = rng.choices(["f", "m", "d"], [0.47, 0.5, 0.03])[0]
        lat, lon = _jitter(rng, town["lat"], town["lon"], 0.8) if rng.random() < 0.6 else (None, None)
        target, maximum = module["group_minutes_target"], module["group_minutes_max"]
        if not module["is_crisis"] and rng.random() < 0.25:  # "more or less group work" inside the band
            target = max(60, min(maximum, target + rng.choice([-60, 60])))
        local = [p for p in providers if area in p["home"]]
        lead = _weighted(rng, local, [p["weight"] for p in local]) if rng.random() < 0.8 else rng.choice(providers)
        crisis = module["is_crisis"]
        start = today - timedelta(days=rng.randint(0, 20) if crisis else rng.randint(0, 240))
        crisis_end = start + timedelta(weeks=module["max_weeks"]) if crisis else None
        people.append(
            PersonRecord(
                pseudonym=_pseudonym(rng, taken),
                case_reference=f"{area}-{today.year}-{n + 1:04d}",
                team=teams[area],
                birth_year=today.year - age,
                gender=gender,
                municipality=town["name"],
                lat=lat,
                lon=lon,
                max_travel_km=float(rng.choice([8, 10, 12, 15, 15, 20, 25])),
                module=module["code"],
                group_minutes_target=target,
                group_minutes_max=maximum,
                lead_provider=lead["short_name"],
                priority=3 if crisis else rng.choices([1, 2], [0.85, 0.15])[0],
                approval_start=start,
                approval_end=crisis_end or start + timedelta(days=rng.choice([182, 365])),
                legal_basis=_weighted(rng, list(bases), list(bases.values())),
                risk_report_at=start if crisis else None,
                crisis_ends_on=crisis_end,
                needs=_needs(rng, categories, gender, age),
                availability=_availability(rng),
                sozialraum=area,
            )
        )
    return people


def new_rng() -> random.Random:
    """The demo district's random generator with its fixed seed."""
    return random.Random(RANDOM_SEED)
