"""Reading and checking what a coordinator enters for a group offer (Angebotseditor).

Two steps, both collecting every problem at once as German messages keyed by field:

1. `parse_offer_form(form)` turns the raw form strings ("18,50", "14:30", "05.03.2025")
   into typed values (`OfferInput`); unreadable fields get a message.
2. `check_offer(session, data, ...)` applies the business rules to typed values: end after
   start on the 15-minute grid, 1 ≤ minimum size ≤ seats, seats ≥ seats already taken,
   ages 0–27 in order, coordinates inside the district, rate ≥ 0, at least one session and
   one category, first date ≤ last date.

`read_offer_form` does both; the offer use cases (`marketplace.offers`) call `check_offer`
again, so the rules hold for every caller, not only the web form. Error keys are the form
field names, except `coordinates` (lat + lon), `sessions` (the list as a whole) and
`sessions-<i>` (row i of the session list).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from .control_characters import CONTROL_MESSAGE, any_control_characters, has_control_characters
from .models import GENDER_SETS, Category, EntryMode, Municipality

MAX_AGE = 27
MAX_TITLE = 200
MAX_TEXT = 5000
MAX_SHORT_TEXT = 300
MAX_SEATS = 200
MAX_SESSIONS = 14
MAX_RATE_CENTS = 1_000_000  # 10.000 € per participant-hour: anything above is a typing error
GRID_MINUTES = 15
MAX_ID = 2**31 - 1  # ids beyond any database integer are refused before they reach the driver
#: Margin around the municipalities' bounding box that still counts as "in the district" (degrees,
#: about 11 km north-south and 7 km east-west): town centres are not the district's border.
DISTRICT_MARGIN_DEG = 0.1

WEEKDAY_NAMES = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
GENDER_ORDER = ("f", "m", "d")

#: Which error key a form field's live validation reports (see module docstring).
FIELD_ERROR_KEYS: dict[str, str] = {"lat": "coordinates", "lon": "coordinates",
                                    "session_weekday": "sessions", "session_start": "sessions",
                                    "session_end": "sessions", "session_id": "sessions"}
#: Fields whose message depends on another field: live validation reports them together.
RELATED_FIELDS: dict[str, tuple[str, ...]] = {
    "age_min": ("age_min", "age_max"), "age_max": ("age_min", "age_max"),
    "seats": ("seats", "min_size"), "min_size": ("seats", "min_size"),
    "first_date": ("first_date", "last_date"), "last_date": ("first_date", "last_date"),
}


@dataclass(frozen=True)
class SessionSlot:
    """A weekly session as entered: weekday 0 (Mon) to 6 (Sun), minutes since midnight.

    `id` is the existing `OfferSession` row the form row came from (None for a new row).
    """

    weekday: int
    start_minute: int
    end_minute: int
    id: int | None = None

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.weekday, self.start_minute, self.end_minute)


@dataclass(frozen=True)
class OfferInput:
    """Everything a coordinator enters for a group offer, as typed values (money in cents)."""

    title: str
    municipality_id: int
    first_date: date
    seats: int
    age_min: int
    age_max: int
    category_ids: tuple[int, ...]
    sessions: tuple[SessionSlot, ...]
    description: str = ""
    genders: str | None = None  # None: all; else a canonical subset such as "f,d"
    last_date: date | None = None
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    min_size: int = 1
    entry_mode: str = EntryMode.open.value
    staff_mix: str = ""
    multi_professional: bool = False
    offset_rate_cents: int = 0


@dataclass
class SessionRow:
    """One row of the session list as the form shows it (raw strings, for re-rendering)."""

    weekday: str = ""
    start: str = ""
    end: str = ""
    id: str = ""
    error: str | None = None


@dataclass
class FormState:
    """Raw form values plus messages: what the editor template renders.

    `refused` holds the messages for fields that came with control characters (`form_state`
    finds them in the raw form; parsing reports them before anything else).
    """

    values: dict[str, Any] = field(default_factory=dict)
    sessions: list[SessionRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


class OfferError(Exception):
    """A use case refused its input: German messages keyed by form field (see module docstring)."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in field_errors.items()))
        self.field_errors = dict(field_errors)


# --------------------------------------------------------------------------- parsing helpers

_EURO = re.compile(r"^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?$")
_EURO_DOT = re.compile(r"^(\d+)\.(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?:\s*Uhr)?$")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def parse_euro_cents(raw: str) -> int:
    """ "18,50" / "18.50" / "18" / "1.234,50 €" → cents; ValueError when unreadable."""
    text = raw.strip().replace("€", "").replace("\u00a0", "").replace(" ", "")
    match = _EURO_DOT.match(text)
    if match:
        whole, frac = match.groups()
    else:
        match = _EURO.match(text)
        if not match:
            raise ValueError(raw)
        whole, frac = match.group(1).replace(".", ""), match.group(2)
    return int(whole) * 100 + int((frac or "0").ljust(2, "0"))


def parse_time_minutes(raw: str) -> int:
    """ "14:30" / "14.30" / "9:15 Uhr" → minutes since midnight; ValueError when not a time."""
    match = _TIME.match(raw.strip())
    if not match:
        raise ValueError(raw)
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ValueError(raw)
    return hours * 60 + minutes


def parse_date(raw: str) -> date:
    """ISO "2025-03-05" (what <input type=date> sends) or German "05.03.2025"; ValueError otherwise."""
    text = raw.strip()
    match = _GERMAN_DATE.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    return date.fromisoformat(text)


def parse_decimal(raw: str) -> float:
    """ "49,8725" or "49.8725" → float; ValueError otherwise (also for nan/inf)."""
    text = raw.strip().replace(",", ".")
    if not re.fullmatch(r"-?\d{1,3}(\.\d+)?", text):
        raise ValueError(raw)
    return float(text)


def minutes_label(minutes: int) -> str:
    """540 → "09:00"."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def clean_text(value: Any) -> str:
    """A form value as text without NUL characters (PostgreSQL refuses them in text columns)."""
    return str(value if value is not None else "").replace("\x00", "")


def _text(value: Any) -> str:
    return str(value if value is not None else "")


def _first(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return _text(value)


def _all(form: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    if getlist is not None:
        return [_text(v) for v in getlist(name)]
    value = form.get(name, [])
    return [_text(v) for v in (value if isinstance(value, list | tuple) else [value])]


# --------------------------------------------------------------------------- step 1: parse


#: Editor fields read as one text each.
SCALAR_NAMES = ("title", "description", "age_min", "age_max", "first_date", "last_date", "municipality_id",
                "address", "lat", "lon", "seats", "min_size", "entry_mode", "staff_mix", "offset_rate")
#: Error keys of fields without a message slot of their own (reported above the form).
_SLOTLESS_KEYS = {"multi_professional": "offer"}


def _refused_fields(form: Mapping[str, Any]) -> dict[str, str]:
    """The control-character message under the error key of every field that holds one."""
    refused: dict[str, str] = {}
    for name in (*SCALAR_NAMES, "genders", "categories", "multi_professional"):
        if any_control_characters(_all(form, name)):
            key = FIELD_ERROR_KEYS.get(name, name)
            refused[_SLOTLESS_KEYS.get(key, key)] = CONTROL_MESSAGE
    for name in ("session_weekday", "session_start", "session_end", "session_id"):
        for i, value in enumerate(_all(form, name)):
            if has_control_characters(value):
                refused[f"sessions-{i}"] = CONTROL_MESSAGE
    return refused


def form_state(form: Mapping[str, Any]) -> FormState:
    """The raw values of a submitted form, for re-rendering it (no checks but for control characters)."""
    values: dict[str, Any] = {name: _first(form, name).strip() for name in SCALAR_NAMES}
    values["genders"] = [g for g in _all(form, "genders") if g in GENDER_ORDER]
    values["categories"] = _all(form, "categories")
    values["multi_professional"] = _first(form, "multi_professional") in ("1", "on", "true", "ja")
    weekdays, starts = _all(form, "session_weekday"), _all(form, "session_start")
    ends, ids = _all(form, "session_end"), _all(form, "session_id")
    count = max(len(weekdays), len(starts), len(ends))
    rows = []
    for i in range(min(count, MAX_SESSIONS + 1)):
        def at(items: list[str], i: int = i) -> str:
            return items[i].strip() if i < len(items) else ""
        rows.append(SessionRow(weekday=at(weekdays), start=at(starts), end=at(ends), id=at(ids)))
    return FormState(values=values, sessions=rows, refused=_refused_fields(form))


def _int_field(values: dict[str, Any], name: str, errors: dict[str, str], message: str) -> int | None:
    raw = values.get(name, "")
    try:
        return int(str(raw).strip())
    except ValueError:
        errors[name] = message
        return None


def parse_offer_form(state: FormState) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values of `state` (None where unreadable) and the messages for what could not be read."""
    v, errors = state.values, {}
    out: dict[str, Any] = {}
    out["title"] = v.get("title", "")
    out["description"] = v.get("description", "")
    out["address"] = v.get("address", "")
    out["staff_mix"] = v.get("staff_mix", "")
    out["multi_professional"] = bool(v.get("multi_professional"))
    out["entry_mode"] = v.get("entry_mode") or EntryMode.open.value
    genders = [g for g in GENDER_ORDER if g in v.get("genders", [])]
    out["genders"] = None if len(genders) in (0, len(GENDER_ORDER)) else ",".join(genders)

    age_message = f"Bitte geben Sie ein Alter zwischen 0 und {MAX_AGE} Jahren ein."
    out["age_min"] = _int_field(v, "age_min", errors, age_message)
    out["age_max"] = _int_field(v, "age_max", errors, age_message)
    out["seats"] = _int_field(v, "seats", errors, "Bitte geben Sie die Zahl der Plätze als ganze Zahl ein.")
    out["min_size"] = _int_field(v, "min_size", errors,
                                 "Bitte geben Sie die Mindestgröße als ganze Zahl ein.")
    out["municipality_id"] = None
    if not v.get("municipality_id"):
        errors["municipality_id"] = "Bitte wählen Sie die Gemeinde, in der die Gruppe stattfindet."
    else:
        out["municipality_id"] = _int_field(v, "municipality_id", errors, "Bitte wählen Sie eine Gemeinde.")
        if out["municipality_id"] is not None and not 0 < out["municipality_id"] <= MAX_ID:
            errors["municipality_id"] = "Bitte wählen Sie eine Gemeinde aus der Liste."
            out["municipality_id"] = None

    out["first_date"] = out["last_date"] = None
    if not v.get("first_date"):
        errors["first_date"] = "Bitte geben Sie das Datum des ersten Termins ein."
    else:
        try:
            out["first_date"] = parse_date(v["first_date"])
        except ValueError:
            errors["first_date"] = "Bitte geben Sie ein gültiges Datum ein (TT.MM.JJJJ)."
    if v.get("last_date"):
        try:
            out["last_date"] = parse_date(v["last_date"])
        except ValueError:
            errors["last_date"] = "Bitte geben Sie ein gültiges Datum ein (TT.MM.JJJJ) oder lassen Sie das Feld leer."

    out["offset_rate_cents"] = 0
    rate = v.get("offset_rate", "")
    if rate.strip().startswith("-"):
        errors["offset_rate"] = "Der Verrechnungssatz darf nicht negativ sein."
        out["offset_rate_cents"] = None
    elif rate.strip():
        try:
            out["offset_rate_cents"] = parse_euro_cents(rate)
        except ValueError:
            errors["offset_rate"] = "Bitte geben Sie den Satz in Euro ein, z. B. 18,50."
            out["offset_rate_cents"] = None

    out["lat"] = out["lon"] = None
    lat_raw, lon_raw = v.get("lat", ""), v.get("lon", "")
    if bool(lat_raw) != bool(lon_raw):
        errors["coordinates"] = ("Bitte geben Sie Breiten- und Längengrad gemeinsam an "
                                 "oder lassen Sie beide leer (dann gilt der Ortsmittelpunkt).")
    elif lat_raw:
        try:
            out["lat"], out["lon"] = parse_decimal(lat_raw), parse_decimal(lon_raw)
        except ValueError:
            errors["coordinates"] = "Bitte geben Sie die Koordinaten als Dezimalzahlen ein, z. B. 49,8725 und 8,6512."

    categories: list[int] = []
    for raw in v.get("categories", []):
        try:
            category_id = int(raw)
            if not 0 < category_id <= MAX_ID:
                raise ValueError(raw)
            categories.append(category_id)
        except ValueError:
            errors["categories"] = "Bitte wählen Sie Kategorien aus der Liste."
    out["category_ids"] = tuple(dict.fromkeys(categories))

    out["sessions"], out["session_rows"] = _parse_sessions(state, errors)
    errors.update(state.refused)  # the clearest message for such a field
    return out, errors


def _parse_sessions(state: FormState,
                    errors: dict[str, str]) -> tuple[list[SessionSlot] | None, list[int]]:
    """The filled session rows as slots, and for each slot the index of its form row."""
    slots: list[SessionSlot] = []
    rows: list[int] = []
    readable = True
    if len(state.sessions) > MAX_SESSIONS:
        errors["sessions"] = f"Höchstens {MAX_SESSIONS} Termine pro Woche."
        return None, rows
    for i, row in enumerate(state.sessions):
        if not (row.weekday or row.start or row.end):
            continue  # an untouched new row is simply ignored
        message = None
        try:
            weekday = int(row.weekday)
            if not 0 <= weekday <= 6:
                raise ValueError(row.weekday)
        except ValueError:
            message = "Bitte wählen Sie einen Wochentag."
        try:
            start, end = parse_time_minutes(row.start), parse_time_minutes(row.end)
        except ValueError:
            message = message or "Bitte geben Sie Beginn und Ende als Uhrzeit ein, z. B. 16:00."
        if message:
            errors[f"sessions-{i}"] = row.error = message
            readable = False
            continue
        try:
            row_id = int(row.id) if row.id else None
        except ValueError:
            row_id = None
        if row_id is not None and not 0 < row_id <= MAX_ID:
            row_id = None
        slots.append(SessionSlot(weekday, start, end, row_id))
        rows.append(i)
    return (slots if readable else None), rows


# --------------------------------------------------------------------------- step 2: rules


@dataclass(frozen=True)
class DistrictBounds:
    """The municipalities' bounding box plus `DISTRICT_MARGIN_DEG`."""

    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


def district_bounds(session: Session) -> DistrictBounds | None:
    """Where offers may lie: around the district's municipalities (None when there are none)."""
    row = session.execute(select(func.min(Municipality.lat), func.max(Municipality.lat),
                                 func.min(Municipality.lon), func.max(Municipality.lon))).one()
    if row[0] is None:
        return None
    m = DISTRICT_MARGIN_DEG
    return DistrictBounds(row[0] - m, row[1] + m, row[2] - m, row[3] + m)


def check_offer(session: Session, values: Mapping[str, Any], *, seats_taken: int = 0) -> dict[str, str]:
    """The business rules on typed `values` (None = unreadable, already reported); German messages."""
    errors: dict[str, str] = {}
    title = (values.get("title") or "").strip()
    if not title:
        errors["title"] = "Bitte geben Sie einen Titel ein."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Der Titel darf höchstens {MAX_TITLE} Zeichen lang sein."
    if len(values.get("description") or "") > MAX_TEXT:
        errors["description"] = f"Die Beschreibung darf höchstens {MAX_TEXT} Zeichen lang sein."
    for name, label in (("address", "Die Adresse"), ("staff_mix", "Die Angabe zum Personal")):
        if len(values.get(name) or "") > MAX_SHORT_TEXT:
            errors[name] = f"{label} darf höchstens {MAX_SHORT_TEXT} Zeichen lang sein."
    for name in ("title", "description", "address", "staff_mix"):
        if has_control_characters(values.get(name) or ""):
            errors[name] = CONTROL_MESSAGE
    if values.get("entry_mode") not in {m.value for m in EntryMode}:
        errors["entry_mode"] = "Bitte wählen Sie „offen“ oder „geschlossen“."
    if values.get("genders") not in (None, *GENDER_SETS):
        errors["genders"] = "Bitte wählen Sie, für wen die Gruppe offen ist (leer = alle; sonst z. B. „f,d“)."
    _check_ages(values, errors)
    _check_seats(values, errors, seats_taken)
    _check_dates(values, errors)
    rate = values.get("offset_rate_cents")
    if rate is not None and rate < 0:
        errors["offset_rate"] = "Der Verrechnungssatz darf nicht negativ sein."
    elif rate is not None and rate > MAX_RATE_CENTS:
        errors["offset_rate"] = "Der Verrechnungssatz ist unplausibel hoch. Bitte prüfen Sie die Eingabe."
    _check_place(session, values, errors)
    _check_categories(session, values, errors)
    _check_sessions(values.get("sessions"), errors)
    return errors


def _check_ages(values: Mapping[str, Any], errors: dict[str, str]) -> None:
    age_min, age_max = values.get("age_min"), values.get("age_max")
    for name, age in (("age_min", age_min), ("age_max", age_max)):
        if age is not None and not 0 <= age <= MAX_AGE:
            errors[name] = f"Bitte geben Sie ein Alter zwischen 0 und {MAX_AGE} Jahren ein."
    if "age_min" in errors or "age_max" in errors or age_min is None or age_max is None:
        return
    if age_max < age_min:
        errors["age_max"] = "Das Höchstalter darf nicht unter dem Mindestalter liegen."


def _check_seats(values: Mapping[str, Any], errors: dict[str, str], seats_taken: int) -> None:
    seats, min_size = values.get("seats"), values.get("min_size")
    if seats is not None:
        if seats < 1:
            errors["seats"] = "Eine Gruppe braucht mindestens einen Platz."
        elif seats > MAX_SEATS:
            errors["seats"] = f"Höchstens {MAX_SEATS} Plätze pro Gruppe."
        elif seats < seats_taken:
            errors["seats"] = (f"Es sind bereits {seats_taken} Plätze belegt; "
                               "die Platzzahl kann nicht darunter sinken.")
    if min_size is None:
        return
    if min_size < 1:
        errors["min_size"] = "Die Mindestgröße muss mindestens 1 sein."
    elif seats is not None and "seats" not in errors and min_size > seats:
        errors["min_size"] = f"Die Mindestgröße darf die Zahl der Plätze ({seats}) nicht übersteigen."


def _check_dates(values: Mapping[str, Any], errors: dict[str, str]) -> None:
    first, last = values.get("first_date"), values.get("last_date")
    if first is not None and not 2000 <= first.year <= 2100:
        errors["first_date"] = "Bitte prüfen Sie das Jahr des ersten Termins."
    if last is not None and not 2000 <= last.year <= 2100:
        errors["last_date"] = "Bitte prüfen Sie das Jahr des letzten Termins."
    if first is not None and last is not None and last < first and "last_date" not in errors:
        errors["last_date"] = "Der letzte Termin darf nicht vor dem ersten Termin liegen."


def _check_place(session: Session, values: Mapping[str, Any], errors: dict[str, str]) -> None:
    municipality_id = values.get("municipality_id")
    if municipality_id is not None and session.get(Municipality, municipality_id) is None:
        errors["municipality_id"] = "Bitte wählen Sie eine Gemeinde aus der Liste."
    lat, lon = values.get("lat"), values.get("lon")
    if (lat is None) != (lon is None):
        errors["coordinates"] = ("Bitte geben Sie Breiten- und Längengrad gemeinsam an "
                                 "oder lassen Sie beide leer (dann gilt der Ortsmittelpunkt).")
        return
    if lat is None:
        return
    bounds = district_bounds(session)
    if bounds is not None and not bounds.contains(lat, lon):
        errors["coordinates"] = ("Dieser Punkt liegt außerhalb des Landkreises. Bitte prüfen Sie die "
                                 "Koordinaten oder lassen Sie sie leer (dann gilt der Ortsmittelpunkt).")


def _check_categories(session: Session, values: Mapping[str, Any], errors: dict[str, str]) -> None:
    ids = values.get("category_ids")
    if ids is None or "categories" in errors:
        return
    if not ids:
        errors["categories"] = "Bitte wählen Sie mindestens eine Kategorie."
        return
    found = session.scalar(select(func.count()).select_from(Category)
                           .where(Category.id.in_(ids), Category.active))
    if found != len(ids):
        errors["categories"] = "Bitte wählen Sie Kategorien aus der Liste."


def _check_sessions(slots: list[SessionSlot] | tuple[SessionSlot, ...] | None,
                    errors: dict[str, str]) -> None:
    if slots is None:
        return
    if not slots:
        errors["sessions"] = "Bitte legen Sie mindestens einen wöchentlichen Termin an."
        return
    if len(slots) > MAX_SESSIONS:
        errors["sessions"] = f"Höchstens {MAX_SESSIONS} Termine pro Woche."
        return
    for i, slot in enumerate(slots):
        message = session_slot_problem(slot)
        if message:
            errors[f"sessions-{i}"] = message
    ordered = sorted((s for i, s in enumerate(slots) if f"sessions-{i}" not in errors),
                     key=lambda s: (s.weekday, s.start_minute))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.weekday == after.weekday and after.start_minute < before.end_minute:
            errors["sessions"] = f"Zwei Termine am {WEEKDAY_NAMES[after.weekday]} überschneiden sich."
            break


def session_slot_problem(slot: SessionSlot) -> str | None:
    """The German message for a session that breaks a rule, or None."""
    if not 0 <= slot.weekday <= 6:
        return "Bitte wählen Sie einen Wochentag."
    if slot.start_minute % GRID_MINUTES or slot.end_minute % GRID_MINUTES:
        return "Bitte wählen Sie Uhrzeiten im Viertelstundentakt (z. B. 16:00, 16:15, 16:30)."
    if slot.end_minute <= slot.start_minute:
        return "Das Ende muss nach dem Beginn liegen."
    if slot.end_minute > 24 * 60:
        return "Ein Termin muss am selben Tag enden."
    return None


def to_offer_input(values: Mapping[str, Any]) -> OfferInput:
    """An `OfferInput` from typed values that passed both steps."""
    return OfferInput(
        title=values["title"].strip(), description=values["description"].strip(),
        municipality_id=values["municipality_id"], address=values["address"].strip(),
        lat=values["lat"], lon=values["lon"], first_date=values["first_date"],
        last_date=values["last_date"], seats=values["seats"], min_size=values["min_size"],
        age_min=values["age_min"], age_max=values["age_max"], genders=values["genders"],
        entry_mode=values["entry_mode"], staff_mix=values["staff_mix"].strip(),
        multi_professional=values["multi_professional"], offset_rate_cents=values["offset_rate_cents"],
        category_ids=tuple(values["category_ids"]), sessions=tuple(values["sessions"]),
    )


def read_offer_form(session: Session, state: FormState, *,
                    seats_taken: int = 0) -> tuple[OfferInput | None, dict[str, str]]:
    """Parse and check a submitted editor form: the input, or None and every message."""
    values, errors = parse_offer_form(state)
    rows = values["session_rows"]
    for key, message in check_offer(session, values, seats_taken=seats_taken).items():
        if key.startswith("sessions-"):  # slot index → form row index (blank rows are skipped)
            key = f"sessions-{rows[int(key.split('-', 1)[1])]}"
        errors.setdefault(key, message)
    for i, row in enumerate(state.sessions):
        row.error = errors.get(f"sessions-{i}")
    if errors:
        return None, errors
    return to_offer_input(values), {}


def input_as_values(data: OfferInput) -> dict[str, Any]:
    """The typed-value mapping of `data` (what `check_offer` reads)."""
    return {name: getattr(data, name) for name in data.__dataclass_fields__}
