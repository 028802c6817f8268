"""The matching problem (Zuordnungsproblem): typed records, parsing, eligibility.

`parse_problem` turns the JSON exchange format of ``FORMAT.md`` into frozen
dataclasses and reports every input error at once (German, for caseworkers).
It accepts what the shared ``verify.py`` accepts and rejects what it rejects.

Glossary: Gruppe = group, junge Person = young person (YoungPerson),
Träger = provider, Sitzung = session, Stundenband = group hours target/max.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GENDERS = ("f", "m", "d")
DEFAULT_WEIGHTS: dict[str, float] = {
    "placed": 500, "hours": 1000, "need_match": 50, "preferred": 100,
    "km": 10, "change": 300, "offset_eur": 0,
}
EARTH_RADIUS_KM = 6371.0
FORMAT = "marketplace-matching/1"

#: Reason codes of `ineligibility`, in the order they are checked.
INELIGIBILITY_CODES = ("too_young", "too_old", "gender", "needs", "distance", "excluded", "times")


@dataclass(frozen=True)
class Window:
    """A weekly time window: day 0=mon..6=sun, start/end in minutes since midnight."""

    day: int
    start: int
    end: int

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Window) -> bool:
        """True when both windows share a day and their [start, end) intervals intersect."""
        return self.day == other.day and self.start < other.end and other.start < self.end

    def contains(self, other: Window) -> bool:
        """True when `other` lies inside this window on the same day."""
        return self.day == other.day and self.start <= other.start and other.end <= self.end


@dataclass(frozen=True)
class Group:
    """A group (Gruppe) offered by a provider, with its weekly sessions."""

    id: str
    provider: str
    lat: float
    lon: float
    seats: int
    min_size: int
    categories: frozenset[str]
    age_min: int | None
    age_max: int | None
    genders: frozenset[str] | None
    sessions: tuple[Window, ...]
    offset_rate: float
    open_for_new: bool

    @property
    def hours(self) -> float:
        """Weekly hours H(g): the sum of the session lengths."""
        return sum(w.end - w.start for w in self.sessions) / 60.0

    @property
    def minutes(self) -> int:
        """Weekly minutes, an exact integer version of `hours`."""
        return sum(w.end - w.start for w in self.sessions)


@dataclass(frozen=True)
class YoungPerson:
    """A young person (junge Person) looking for group places."""

    id: str
    lead_provider: str
    age: int | None
    gender: str | None
    lat: float
    lon: float
    max_travel_km: float
    target: float
    max_hours: float
    needs: frozenset[str]
    available: tuple[Window, ...] | None
    priority: int
    current: tuple[str, ...]
    pinned: tuple[str, ...]
    preferred: frozenset[str]
    excluded: frozenset[str]
    avoid_with: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """A complete matching problem; dicts keep the input order."""

    weights: dict[str, float]
    providers: tuple[str, ...]
    groups: dict[str, Group]
    people: dict[str, YoungPerson]


class ProblemError(ValueError):
    """Invalid input; `errors` lists every problem found, in German, naming id and field."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("Ungültige Eingabe:\n" + "\n".join(f"- {e}" for e in self.errors))


# -- geometry and rules -------------------------------------------------------

def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km, the exact formula of verify.py."""
    p1, l1, p2, l2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def distance_km(problem: Problem | None, y: YoungPerson, g: Group) -> float:
    """Distance d(i, g) between a young person's home and a group's location."""
    return haversine_km(y.lat, y.lon, g.lat, g.lon)


def ineligibility(y: YoungPerson, g: Group) -> str | None:
    """Why g is not eligible for y as a reason code (see INELIGIBILITY_CODES), or None.

    Same order and semantics as verify.py; closed groups are not part of
    eligibility (that is hard rule 6).
    """
    if y.age is not None:
        if g.age_min is not None and y.age < g.age_min:
            return "too_young"
        if g.age_max is not None and y.age > g.age_max:
            return "too_old"
    if g.genders is not None and y.gender not in g.genders:
        return "gender"
    if not (y.needs & g.categories):
        return "needs"
    if haversine_km(y.lat, y.lon, g.lat, g.lon) > y.max_travel_km:
        return "distance"
    if g.id in y.excluded:
        return "excluded"
    if y.available is not None:
        for s in g.sessions:
            if not any(w.contains(s) for w in y.available):
                return "times"
    return None


def sessions_overlap(g1: Group, g2: Group) -> bool:
    """True when some session of g1 overlaps some session of g2 in time."""
    return any(a.overlaps(b) for a in g1.sessions for b in g2.sessions)


def eligible_groups(problem: Problem) -> dict[str, list[str]]:
    """Per young person the ids of eligible groups it may join, in group input order.

    Drops ineligible pairs (rule 1) and closed groups not in the person's
    `current` (rule 6). Vectorised; see `eligibility.py`.
    """
    from .eligibility import eligible_pairs

    # the solve and its greedy start ask for the same pairs
    return dict(memo(problem, "_eligible", lambda: eligible_pairs(problem)))


def memo(problem: Problem, name: str, make: Callable[[], Any]) -> Any:
    """A value computed once per problem and kept on it (`make()` the first time `name` is asked for).

    Problem is a frozen dataclass; the memo is not one of its fields.
    """
    value = problem.__dict__.get(name)
    if value is None:
        value = make()
        object.__setattr__(problem, name, value)
    return value


# -- parsing ------------------------------------------------------------------

def load_problem(path: str | Path) -> Problem:
    """Read and parse a problem file; raises OSError, ValueError (bad JSON) or ProblemError."""
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    return parse_problem(raw)


def parse_problem(raw: object) -> Problem:
    """Parse the JSON problem format; raises ProblemError listing every input error."""
    from .parse import Parser

    return Parser().parse(raw)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _windows_json(windows: tuple[Window, ...]) -> list[dict[str, Any]]:
    return [{"day": DAYS[w.day], "start": _hhmm(w.start), "end": _hhmm(w.end)} for w in windows]


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """The problem in the JSON exchange format; `parse_problem` of it gives it back."""
    groups = [{
        "id": g.id, "provider": g.provider, "location": {"lat": g.lat, "lon": g.lon},
        "seats": g.seats, "min_size": g.min_size, "categories": sorted(g.categories),
        "age_min": g.age_min, "age_max": g.age_max,
        "genders": None if g.genders is None else sorted(g.genders),
        "sessions": _windows_json(g.sessions), "offset_rate": g.offset_rate,
        "open_for_new": g.open_for_new,
    } for g in problem.groups.values()]
    people = [{
        "id": y.id, "lead_provider": y.lead_provider, "age": y.age, "gender": y.gender,
        "home": {"lat": y.lat, "lon": y.lon}, "max_travel_km": y.max_travel_km,
        "group_hours": {"target": y.target, "max": y.max_hours}, "needs": sorted(y.needs),
        "available": None if y.available is None else _windows_json(y.available),
        "priority": y.priority, "current": list(y.current), "pinned": list(y.pinned),
        "preferred_groups": sorted(y.preferred), "excluded_groups": sorted(y.excluded),
        "avoid_with": list(y.avoid_with),
    } for y in problem.people.values()]
    return {
        "format": FORMAT, "weights": dict(problem.weights),
        "providers": [{"id": p} for p in problem.providers],
        "groups": groups, "young_people": people,
    }
