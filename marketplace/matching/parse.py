"""Validation of the JSON problem format, collecting every error in one pass.

Mirrors the checks of the shared ``verify.py`` rule by rule; messages are
German because caseworkers read them ("Gruppe G3, Feld seats: ...").
"""

from __future__ import annotations

import math
import re
from typing import Any

from .problem import DAYS, DEFAULT_WEIGHTS, FORMAT, GENDERS, Group, Problem, ProblemError, Window, YoungPerson

_TIME = re.compile(r"^(\d\d):(\d\d)$")
_LISTS = {"current": "current", "pinned": "pinned", "preferred_groups": "preferred",
          "excluded_groups": "excluded", "avoid_with": "avoid_with"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _minutes(text: Any) -> int | None:
    """Minutes since midnight of "HH:MM" on the 15-minute grid (24:00 allowed), else None."""
    match = _TIME.match(text) if isinstance(text, str) else None
    if not match:
        return None
    hh, mm = int(match.group(1)), int(match.group(2))
    value = hh * 60 + mm
    if mm >= 60 or value > 24 * 60 or value % 15:
        return None
    return value


class Parser:
    """One-shot parser; `parse` raises ProblemError with all errors found."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, where: str, field: str | None, message: str) -> None:
        self.errors.append(f"{where}, Feld {field}: {message}" if field else f"{where}: {message}")

    # -- primitives -----------------------------------------------------------
    def number(self, where: str, field: str, value: Any, low: float | None = None,
               high: float | None = None, integer: bool = False, strict_low: bool = False,
               ) -> float | None:
        ok = _is_number(value)
        if ok and integer:
            ok = float(value).is_integer()
        if ok and low is not None:
            ok = value > low if strict_low else value >= low
        if ok and high is not None:
            ok = value <= high
        if ok:
            return int(value) if integer else float(value)
        kind = "eine ganze Zahl" if integer else "eine Zahl"
        bound = ""
        if low is not None:
            bound = f" {'>' if strict_low else '≥'} {low:g}"
            if high is not None:
                bound += f" und ≤ {high:g}"
        self.err(where, field, f"muss {kind}{bound} sein (ist {value!r})")
        return None

    def point(self, where: str, field: str, value: Any) -> tuple[float, float] | None:
        if not isinstance(value, dict):
            self.err(where, field, "braucht {lat, lon}")
            return None
        lat = self.number(where, f"{field}.lat", value.get("lat"), -90, 90)
        lon = self.number(where, f"{field}.lon", value.get("lon"), -180, 180)
        return None if lat is None or lon is None else (lat, lon)

    def windows(self, where: str, field: str, items: Any) -> tuple[Window, ...]:
        if not isinstance(items, list):
            self.err(where, field, "muss eine Liste sein")
            return ()
        out = []
        for n, w in enumerate(items):
            day = w.get("day") if isinstance(w, dict) else None
            start = _minutes(w.get("start")) if isinstance(w, dict) else None
            end = _minutes(w.get("end")) if isinstance(w, dict) else None
            if not isinstance(day, str) or day not in DAYS:
                self.err(where, f"{field}[{n}]", "Tag muss einer von mon tue wed thu fri sat sun sein")
            elif start is None or end is None:
                self.err(where, f"{field}[{n}]", "Zeiten müssen \"HH:MM\" im 15-Minuten-Raster sein")
            elif start >= end:
                self.err(where, f"{field}[{n}]", "Beginn muss vor dem Ende liegen")
            else:
                out.append(Window(DAYS.index(day), start, end))
        return tuple(out)

    def records(self, items: Any, field: str, label: str) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            self.err("Problem", field, "muss eine Liste sein")
            return []
        seen: set[str] = set()
        out = []
        for n, item in enumerate(items):
            ident = item.get("id") if isinstance(item, dict) else None
            if not isinstance(ident, str) or not ident:
                self.err(f"{label} Nr. {n + 1}", "id", "braucht eine nicht-leere Zeichenkette")
            elif ident in seen:
                self.err(f"{label} {ident}", "id", "doppelte Kennung")
            else:
                seen.add(ident)
                out.append(item)
        return out

    # -- records ----------------------------------------------------------------
    def parse(self, raw: object) -> Problem:
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            self.err("Problem", "format", f"erwartet '{FORMAT}'")
            raw = raw if isinstance(raw, dict) else {}
        weights = self.weights(raw.get("weights"))
        providers = tuple(p["id"] for p in self.records(raw.get("providers"), "providers", "Träger"))
        known = set(providers)
        groups = {}
        for g in self.records(raw.get("groups"), "groups", "Gruppe"):
            group = self.group(g, known)
            if group is not None:
                groups[group.id] = group
        group_ids = {g["id"] for g in self.records_quiet(raw.get("groups"))}
        person_records = self.records(raw.get("young_people"), "young_people", "Junge Person")
        person_ids = {y["id"] for y in person_records}
        people = {}
        for y in person_records:
            person = self.person(y, known, group_ids, person_ids)
            if person is not None:
                people[person.id] = person
        if self.errors:
            raise ProblemError(self.errors)
        return Problem(weights=weights, providers=providers, groups=groups, people=people)

    @staticmethod
    def records_quiet(items: Any) -> list[dict[str, Any]]:
        """The records with a valid, first-seen id, without reporting errors again."""
        seen: set[str] = set()
        out = []
        for item in items if isinstance(items, list) else []:
            ident = item.get("id") if isinstance(item, dict) else None
            if isinstance(ident, str) and ident and ident not in seen:
                seen.add(ident)
                out.append(item)
        return out

    def weights(self, raw: Any) -> dict[str, float]:
        weights = dict(DEFAULT_WEIGHTS)
        if raw is None:
            return weights
        if not isinstance(raw, dict):
            self.err("Gewichte", None, "müssen ein Objekt sein")
            return weights
        for key, value in raw.items():
            if key not in DEFAULT_WEIGHTS:
                self.err("Gewichte", str(key), "unbekanntes Gewicht")
            elif not _is_number(value) or value < 0:
                self.err("Gewichte", key, f"muss eine Zahl ≥ 0 sein (ist {value!r})")
            else:
                weights[key] = value
        return weights

    def group(self, g: dict[str, Any], providers: set[str]) -> Group | None:
        where = f"Gruppe {g['id']}"
        n_errors = len(self.errors)
        seats = self.number(where, "seats", g.get("seats"), 1, integer=True)
        min_size = self.number(where, "min_size", g.get("min_size", 1), 1, integer=True)
        if seats is not None and min_size is not None and min_size > seats:
            self.err(where, "min_size", "darf nicht größer als seats sein")
        genders = g.get("genders")
        if genders is not None and (not isinstance(genders, list) or not genders
                                    or not all(isinstance(x, str) and x in GENDERS for x in genders)):
            self.err(where, "genders", "muss null oder eine nicht-leere Liste aus f, m, d sein")
        sessions = self.windows(where, "sessions", g.get("sessions"))
        if not sessions and isinstance(g.get("sessions"), list) and not g.get("sessions"):
            self.err(where, "sessions", "mindestens ein Termin ist nötig")
        if any(a.overlaps(b) for n, a in enumerate(sessions) for b in sessions[n + 1:]):
            self.err(where, "sessions", "Termine überschneiden sich")
        cats = g.get("categories")
        if not isinstance(cats, list) or not cats or not all(isinstance(c, str) and c for c in cats):
            self.err(where, "categories", "muss eine nicht-leere Liste von Zeichenketten sein")
        ages = {key: self.number(where, key, g.get(key), 0, integer=True)
                if g.get(key) is not None else None for key in ("age_min", "age_max")}
        provider = g.get("provider")
        if not isinstance(provider, str) or provider not in providers:
            self.err(where, "provider", f"unbekannter Träger {provider!r}")
        open_for_new = g.get("open_for_new", True)
        if not isinstance(open_for_new, bool):
            self.err(where, "open_for_new", "muss true oder false sein")
        location = self.point(where, "location", g.get("location"))
        offset_rate = self.number(where, "offset_rate", g.get("offset_rate", 0), 0)
        if len(self.errors) > n_errors:
            return None
        return Group(
            id=g["id"], provider=provider, lat=location[0], lon=location[1], seats=seats,
            min_size=min_size, categories=frozenset(cats), age_min=ages["age_min"], age_max=ages["age_max"],
            genders=None if genders is None else frozenset(genders), sessions=sessions,
            offset_rate=offset_rate, open_for_new=open_for_new,
        )

    def person(self, y: dict[str, Any], providers: set[str], groups: set[str],
               people: set[str]) -> YoungPerson | None:
        where = f"Junge Person {y['id']}"
        n_errors = len(self.errors)
        hours = y.get("group_hours") if isinstance(y.get("group_hours"), dict) else {}
        target = self.number(where, "group_hours.target", hours.get("target"), 0)
        maximum = self.number(where, "group_hours.max", hours.get("max"), 0)
        if target is not None and maximum is not None and maximum < target:
            self.err(where, "group_hours", "max liegt unter target")
        gender = y.get("gender")
        if gender is not None and gender not in GENDERS:
            self.err(where, "gender", "muss f, m, d oder null sein")
        needs = y.get("needs")
        if not isinstance(needs, list) or not all(isinstance(n, str) and n for n in needs):
            self.err(where, "needs", "muss eine Liste von Zeichenketten sein")
            needs = []
        available = y.get("available")
        windows = None if available is None else self.windows(where, "available", available)
        lists: dict[str, list[str]] = {}
        for key in _LISTS:
            value = y.get(key, [])
            value = [] if value is None else value
            if not isinstance(value, list):
                self.err(where, key, "muss eine Liste sein")
                value = []
            known = people if key == "avoid_with" else groups
            kind = "unbekannte junge Person" if key == "avoid_with" else "unbekannte Gruppe"
            for ref in value:
                if not isinstance(ref, str) or ref not in known:
                    self.err(where, key, f"{kind} {ref!r}")
            lists[key] = value
        if not set(map(str, lists["pinned"])) <= set(map(str, lists["current"])):
            self.err(where, "pinned", "fest zugesagte Gruppen müssen auch in current stehen")
        priority = self.number(where, "priority", y.get("priority", 1), 1, 3, integer=True)
        age = self.number(where, "age", y.get("age"), 0, 120, integer=True)
        home = self.point(where, "home", y.get("home"))
        max_travel = self.number(where, "max_travel_km", y.get("max_travel_km"), 0, strict_low=True)
        lead = y.get("lead_provider")
        if not isinstance(lead, str) or lead not in providers:
            self.err(where, "lead_provider", f"unbekannter Träger {lead!r}")
        if len(self.errors) > n_errors:
            return None
        return YoungPerson(
            id=y["id"], lead_provider=lead, age=age, gender=gender, lat=home[0], lon=home[1],
            max_travel_km=max_travel, target=target, max_hours=maximum, needs=frozenset(needs),
            available=windows, priority=priority,
            current=tuple(dict.fromkeys(lists["current"])), pinned=tuple(dict.fromkeys(lists["pinned"])),
            preferred=frozenset(lists["preferred_groups"]), excluded=frozenset(lists["excluded_groups"]),
            avoid_with=tuple(dict.fromkeys(lists["avoid_with"])),
        )
