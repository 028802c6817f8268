"""Time helpers: the database stores UTC; people read Europe/Berlin.

Every timestamp in the marketplace is an aware UTC `datetime`. Convert to local
time (Europe/Berlin) only for display, and to dates only where the domain means a
calendar day (session dates, approval periods, months).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """`value` converted to UTC; naive datetimes are refused (their zone is unknown)."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("naive datetime: pass an aware datetime (e.g. timeutil.utcnow())")
    return value.astimezone(UTC)


def to_berlin(value: datetime) -> datetime:
    """`value` (aware) converted to Europe/Berlin local time for display."""
    return to_utc(value).astimezone(BERLIN)


def today_berlin() -> date:
    """Today's calendar date in Europe/Berlin (the district's day, not UTC's)."""
    return datetime.now(BERLIN).date()


def month_key(day: date) -> str:
    """The month a date belongs to, as 'YYYY-MM' (used by offset entries and month closes)."""
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of a 'YYYY-MM' month (callers validate the text first)."""
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])
