"""Parsing of the case forms (plain HTML forms): strings in, `CaseFields` and German messages out.

The parser only turns text into numbers, dates and times; the domain rules live in
`marketplace.case_rules`. Fields the form does not have are refused: the marketplace
stores no names and no free text it does not need.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict

from ..case_rules import CaseFields
from ..control_characters import CONTROL_MESSAGE, any_control_characters

WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
#: Availability slots per weekday in the form.
SLOTS = 2
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

SCALAR_FIELDS = {
    "case_reference", "birth_year", "gender", "municipality_id", "lat", "lon", "max_travel_km", "module_id",
    "group_hours_target", "group_hours_max", "lead_provider_id", "approval_start", "approval_end", "legal_basis",
    "priority", "risk_report_at",
}  # fmt: skip
LIST_FIELDS = {"need_ids", "preferred_offer_ids", "excluded_offer_ids", "keep_apart_ids"}
META_FIELDS = {"csrf_token", "version"}
AVAILABILITY_FIELDS = {f"avail-{d}-{s}-{edge}" for d in range(7) for s in range(SLOTS) for edge in ("start", "end")}
CASE_FORM_FIELDS = SCALAR_FIELDS | LIST_FIELDS | META_FIELDS | AVAILABILITY_FIELDS

#: Form field names whose messages the use cases report under another name.
ERROR_ALIASES = {"group_minutes_target": "group_hours_target", "group_minutes_max": "group_hours_max"}


def unexpected_fields(form: MultiDict, allowed: set[str]) -> dict[str, str]:
    """A form error when the request carries fields the form does not have (e.g. a name)."""
    extra = sorted(set(form.keys()) - allowed)
    if extra:
        return {"form": "Das Formular enthält unbekannte Felder. Bitte laden Sie die Seite neu (keine Namen erfassen)."}
    return {}


def _text(form: MultiDict, name: str) -> str:
    return (form.get(name) or "").strip()


#: Integers beyond the database's 32-bit columns are refused here (they would overflow the driver).
MAX_INT = 2**31 - 1


def db_id(text: str) -> int:
    """An id from a query string (`request.args.get(name, type=db_id)`): ValueError beyond the database's ids."""
    value = int(text)
    if not 0 < value <= MAX_INT:
        raise ValueError(text)
    return value


def parse_int(form: MultiDict, name: str, errors: dict[str, str], message: str) -> int | None:
    text = _text(form, name)
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        errors[name] = message
        return None
    if abs(value) > MAX_INT:
        errors[name] = message
        return None
    return value


def parse_float(form: MultiDict, name: str, errors: dict[str, str], message: str) -> float | None:
    text = _text(form, name).replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors[name] = message
        return None
    if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
        errors[name] = message
        return None
    return value


def parse_date(form: MultiDict, name: str, errors: dict[str, str], message: str) -> date | None:
    text = _text(form, name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = message
        return None


def parse_hours(form: MultiDict, name: str, errors: dict[str, str]) -> int | None:
    """Hours such as "2,5" → 150 minutes; empty → None."""
    value = parse_float(form, name, errors, "Bitte geben Sie die Stunden als Zahl an, z. B. 2,5.")
    if value is None:
        return None
    if value < 0 or value > 168:
        errors[name] = "Bitte geben Sie eine Stundenzahl zwischen 0 und 168 an."
        return None
    return round(value * 60)


def parse_ids(form: MultiDict, name: str, errors: dict[str, str]) -> list[int]:
    ids = []
    for raw in form.getlist(name):
        try:
            value = int(raw)
        except ValueError:
            errors[name] = "Ungültige Auswahl."
            continue
        if not 0 < value <= MAX_INT:
            errors[name] = "Ungültige Auswahl."
            continue
        ids.append(value)
    return ids


def _minutes(text: str) -> int | None:
    match = _TIME.match(text)
    return None if match is None else int(match.group(1)) * 60 + int(match.group(2))


def parse_availability(form: MultiDict, errors: dict[str, str]) -> list[tuple[int, int, int]]:
    windows = []
    for day in range(7):
        for slot in range(SLOTS):
            start_text = _text(form, f"avail-{day}-{slot}-start")
            end_text = _text(form, f"avail-{day}-{slot}-end")
            if not start_text and not end_text:
                continue
            start, end = _minutes(start_text), _minutes(end_text)
            if start is None or end is None:
                errors["availability"] = (
                    f"{WEEKDAYS[day]}: Bitte geben Sie Beginn und Ende als Uhrzeit an (z. B. 14:30)."
                )
                continue
            windows.append((day, start, end))
    return windows


def _error_key(name: str) -> str:
    """The message slot of a form field (coordinates and availability share one each)."""
    if name in ("lat", "lon"):
        return "coordinates"
    if name.startswith("avail-"):
        return "availability"
    return name if name in SCALAR_FIELDS | LIST_FIELDS | {"version"} else "form"


def refuse_control_characters(form: MultiDict, error_key: Callable[[str], str] = _error_key,
                              ) -> tuple[MultiDict, dict[str, str]]:
    """The form without fields that hold control characters, and the message at each of them
    (under `error_key(field name)`; by default the case form's message slots).

    Such values never reach parsing, checks or the database (PostgreSQL refuses NUL characters).
    """
    refused = [name for name in form.keys() if any_control_characters(form.getlist(name))]
    if not refused:
        return form, {}
    kept = MultiDict([(k, v) for k, v in form.items(multi=True) if k not in refused])
    return kept, {error_key(name): CONTROL_MESSAGE for name in refused}


def parse_case_form(form: MultiDict) -> tuple[CaseFields, dict[str, str]]:
    """The case form as `CaseFields` plus the messages of fields that could not be read."""
    form, refused = refuse_control_characters(form)
    errors: dict[str, str] = unexpected_fields(form, CASE_FORM_FIELDS)
    fields = CaseFields(
        case_reference=_text(form, "case_reference") or None,
        birth_year=parse_int(form, "birth_year", errors, "Bitte geben Sie das Geburtsjahr als Zahl an (z. B. 2012)."),
        gender=_text(form, "gender") or None,
        municipality_id=parse_int(form, "municipality_id", errors, "Ungültige Auswahl."),
        lat=parse_float(form, "lat", errors, "Bitte geben Sie den Breitengrad als Zahl an (z. B. 49,8985)."),
        lon=parse_float(form, "lon", errors, "Bitte geben Sie den Längengrad als Zahl an (z. B. 8,8385)."),
        need_ids=parse_ids(form, "need_ids", errors),
        availability=parse_availability(form, errors),
        max_travel_km=parse_float(form, "max_travel_km", errors, "Bitte geben Sie die Fahrstrecke in km an."),
        module_id=parse_int(form, "module_id", errors, "Ungültige Auswahl."),
        group_minutes_target=parse_hours(form, "group_hours_target", errors),
        group_minutes_max=parse_hours(form, "group_hours_max", errors),
        lead_provider_id=parse_int(form, "lead_provider_id", errors, "Ungültige Auswahl."),
        approval_start=parse_date(form, "approval_start", errors, "Bitte geben Sie ein gültiges Datum an."),
        approval_end=parse_date(form, "approval_end", errors, "Bitte geben Sie ein gültiges Datum an."),
        legal_basis=_text(form, "legal_basis") or None,
        priority=parse_int(form, "priority", errors, "Ungültige Auswahl."),
        risk_report_at=parse_date(form, "risk_report_at", errors, "Bitte geben Sie ein gültiges Datum an."),
        preferred_offer_ids=parse_ids(form, "preferred_offer_ids", errors),
        excluded_offer_ids=parse_ids(form, "excluded_offer_ids", errors),
        keep_apart_ids=parse_ids(form, "keep_apart_ids", errors),
    )
    if "lat" in errors or "lon" in errors:
        errors["coordinates"] = errors.pop("lat", None) or errors.pop("lon")
        errors.pop("lon", None)
    errors.update(refused)
    return fields, errors


def merge_errors(parse_errors: dict[str, str], rule_errors: dict[str, str]) -> dict[str, str]:
    """Rule messages under the form's field names; a field that could not be read keeps its parse message."""
    merged = {ERROR_ALIASES.get(k, k): v for k, v in rule_errors.items()}
    merged.update(parse_errors)
    return merged


def form_values(fields: CaseFields) -> dict[str, Any]:
    """`CaseFields` as the values the form template shows (hours as German decimals, times as HH:MM)."""

    def hours(minutes: int | None) -> str:
        if minutes is None:
            return ""
        text = f"{minutes / 60:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", ",")

    slots: dict[str, str] = {}
    per_day: dict[int, int] = {}
    for day, start, end in sorted(fields.availability):
        slot = per_day.get(day, 0)
        if slot >= SLOTS:
            continue
        per_day[day] = slot + 1
        slots[f"avail-{day}-{slot}-start"] = f"{start // 60:02d}:{start % 60:02d}"
        slots[f"avail-{day}-{slot}-end"] = f"{end // 60:02d}:{end % 60:02d}"

    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:g}".replace(".", ",")
        return str(value)

    values = {
        name: text(getattr(fields, name))
        for name in (
            "case_reference", "birth_year", "gender", "municipality_id", "lat", "lon", "max_travel_km",
            "module_id", "lead_provider_id", "approval_start", "approval_end", "legal_basis", "priority",
            "risk_report_at",
        )
    }  # fmt: skip
    values.update(
        group_hours_target=hours(fields.group_minutes_target),
        group_hours_max=hours(fields.group_minutes_max),
        need_ids=set(fields.need_ids),
        preferred_offer_ids=set(fields.preferred_offer_ids),
        excluded_offer_ids=set(fields.excluded_offer_ids),
        keep_apart_ids=set(fields.keep_apart_ids),
        **slots,
    )
    return values


def raw_values(form: MultiDict) -> dict[str, Any]:
    """The submitted form as the template shows it again after an error (what the user typed)."""
    values: dict[str, Any] = {name: form.get(name, "") for name in SCALAR_FIELDS | AVAILABILITY_FIELDS}
    for name in LIST_FIELDS:
        ids = set()
        for raw in form.getlist(name):
            if raw.isdecimal():
                ids.add(int(raw))
        values[name] = ids
    return values
