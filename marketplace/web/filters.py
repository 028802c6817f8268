"""Jinja filters for German formats: Berlin time, dates, numbers, euros from integer cents.

German conventions: "05.03.2025", "05.03.2025, 14:30 Uhr", "1.234,5", "1.234,50 €".
A no-break space (U+00A0) joins a number and its unit so they never wrap apart.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from flask import Flask

from ..timeutil import to_berlin

NBSP = "\u00a0"
WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
WEEKDAYS_SHORT = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"]
MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]


def _berlin(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; the database stores UTC, so read them as UTC.
    return to_berlin(value if value.tzinfo is not None else value.replace(tzinfo=UTC))


def _group_thousands(digits: str) -> str:
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return ".".join(groups)


def number_de(value: float | int | None, decimals: int = 0) -> str:
    """1234.5 → "1.235" (decimals=0) or "1.234,50" (decimals=2); None → "–"."""
    if value is None:
        return "–"
    text = f"{abs(value):.{decimals}f}"
    whole, _, frac = text.partition(".")
    sign = "-" if value < 0 and float(text) != 0 else ""
    return sign + _group_thousands(whole) + ("," + frac if frac else "")


def euro(cents: int | None) -> str:
    """Integer cents → "1.234,50 €"; None → "–"."""
    if cents is None:
        return "–"
    return number_de(cents / 100, 2) + NBSP + "€"


def hours_de(value: float | int | None) -> str:
    """Hours with at most one decimal: 2 → "2 Std.", 1.5 → "1,5 Std."."""
    if value is None:
        return "–"
    decimals = 0 if float(value).is_integer() else 1
    return number_de(value, decimals) + NBSP + "Std."


def date_de(value: date | datetime | None) -> str:
    """A date as "05.03.2025" (datetimes are first converted to Berlin time)."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = _berlin(value)
    return value.strftime("%d.%m.%Y")


def datetime_de(value: datetime | None) -> str:
    """A UTC instant in Berlin time: "05.03.2025, 14:30 Uhr"."""
    if value is None:
        return "–"
    return _berlin(value).strftime("%d.%m.%Y, %H:%M") + NBSP + "Uhr"


def time_de(value: time | None) -> str:
    """A wall-clock time as "14:30"."""
    return "–" if value is None else value.strftime("%H:%M")


def weekday_de(value: int | date | None, short: bool = False) -> str:
    """0 (Monday) or a date → "Montag" ("Mo" with short=True)."""
    if value is None:
        return "–"
    index = value.weekday() if isinstance(value, date) else int(value)
    return (WEEKDAYS_SHORT if short else WEEKDAYS)[index]


def weekly_sessions_de(sessions) -> str:
    """Weekly sessions (with weekday, start_minute, end_minute) → "Mo 15:00–17:00, Mi 16:00–17:30"."""
    texts = [f"{WEEKDAYS_SHORT[s.weekday]} {_hhmm(s.start_minute)}–{_hhmm(s.end_minute)}" for s in sessions]
    return ", ".join(texts) or "keine Termine"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def month_de(value: date | None) -> str:
    """A date → "März 2025"."""
    return "–" if value is None else f"{MONTHS[value.month - 1]} {value.year}"


SOFT_HYPHEN = "\u00ad"
ZERO_WIDTH_SPACE = "\u200b"
#: Tails of the long compound words in table headings ("Belegungs|quote", "Teilnehmenden|stunden").
_COMPOUND_TAIL = re.compile(r"(?<=[a-zäöüß]{3})(?=(?:quote|monate|größe|stunden|plätze|abschluss)\b)")


def breakable_de(text: str | None) -> str:
    """A heading that may break inside long German compounds (a soft hyphen before a known tail,
    "Belegungs-/quote") and after a slash, so narrow table columns need not scroll."""
    text = _COMPOUND_TAIL.sub(SOFT_HYPHEN, text or "")
    return text.replace("/", "/" + ZERO_WIDTH_SPACE)


FILTERS = {
    "breakable_de": breakable_de,
    "number_de": number_de,
    "euro": euro,
    "hours_de": hours_de,
    "date_de": date_de,
    "datetime_de": datetime_de,
    "time_de": time_de,
    "weekday_de": weekday_de,
    "month_de": month_de,
    "weekly_sessions_de": weekly_sessions_de,
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
