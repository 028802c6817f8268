"""Report filters (Berichtsfilter): period from/to month, Sozialraum, provider, category.

`parse_filters` reads untrusted query parameters and never fails: a value it cannot use
is dropped (or corrected) and a German notice says so, so a bad link still shows a report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from ..timeutil import BERLIN, month_key

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$", re.ASCII)
#: The default period: the last twelve months, the current one included.
DEFAULT_MONTHS = 12
#: The longest period a report covers (keeps every page fast).
MAX_MONTHS = 36


def months_between(first: str, last: str) -> list[str]:
    """All "YYYY-MM" months from `first` to `last`, both included (empty when first > last)."""
    year, month = int(first[:4]), int(first[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def shift_month(month: str, delta: int) -> str:
    """The month `delta` months after (or before, when negative) `month`."""
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:]), 1)


def month_last_day(month: str) -> date:
    return month_first_day(shift_month(month, 1)) - timedelta(days=1)


def berlin_midnight(day: date) -> datetime:
    """The start of `day` in Europe/Berlin as an aware UTC datetime (for timestamp comparisons)."""
    return datetime.combine(day, time(0), tzinfo=BERLIN).astimezone(UTC)


@dataclass(frozen=True)
class ReportFilters:
    """What a report covers. `first_month`/`last_month` are "YYYY-MM"; None ids mean "all"."""

    first_month: str
    last_month: str
    sozialraum_id: int | None = None
    provider_id: int | None = None
    category_id: int | None = None

    @property
    def months(self) -> list[str]:
        return months_between(self.first_month, self.last_month)

    @property
    def first_day(self) -> date:
        return month_first_day(self.first_month)

    @property
    def last_day(self) -> date:
        return month_last_day(self.last_month)

    def query_args(self) -> dict[str, str]:
        """The filters as query parameters (for links, exports and hx-push-url)."""
        args = {"von": self.first_month, "bis": self.last_month}
        for key, value in (("sozialraum", self.sozialraum_id), ("traeger", self.provider_id),
                           ("kategorie", self.category_id)):
            if value is not None:
                args[key] = str(value)
        return args


def default_filters(today: date) -> ReportFilters:
    last = month_key(today)
    return ReportFilters(first_month=shift_month(last, 1 - DEFAULT_MONTHS), last_month=last)


def _month_arg(args: Mapping[str, str], names: tuple[str, ...], label: str, notices: list[str]) -> str | None:
    for name in names:
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        if MONTH_PATTERN.match(raw):
            return raw
        notices.append(f"„{raw[:20]}“ ist kein gültiger Monat für „{label}“ (erwartet JJJJ-MM); "
                       "der Standardzeitraum wird verwendet.")
        return None
    return None


def _id_arg(args: Mapping[str, str], name: str, label: str, known: set[int] | None,
            notices: list[str]) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if raw.isdecimal() and len(raw) < 10 and (known is None or int(raw) in known):
        return int(raw)
    notices.append(f"Unbekannte Auswahl für „{label}“ wurde ignoriert.")
    return None


def parse_filters(args: Mapping[str, str], *, today: date, sozialraum_ids: set[int] | None = None,
                  provider_ids: set[int] | None = None,
                  category_ids: set[int] | None = None) -> tuple[ReportFilters, list[str]]:
    """Filters from query parameters `von`, `bis` (also `from`, `to`), `sozialraum`, `traeger`,
    `kategorie`; returns them with German notices about what was ignored or corrected.

    Months after the current one are cut off, a reversed period is swapped, and a period
    longer than MAX_MONTHS is shortened to its last MAX_MONTHS months.
    """
    notices: list[str] = []
    current = month_key(today)
    first = _month_arg(args, ("von", "from"), "von", notices)
    last = _month_arg(args, ("bis", "to"), "bis", notices)
    if last is None:
        last = current
    if first is None:
        first = shift_month(min(last, current), 1 - DEFAULT_MONTHS)
    if last > current:
        notices.append("Der Zeitraum endet spätestens mit dem laufenden Monat.")
        last = current
    if first > current:
        first = shift_month(current, 1 - DEFAULT_MONTHS)
    if first > last:
        notices.append("„von“ lag nach „bis“; die Monate wurden getauscht.")
        first, last = last, first
    if len(months_between(first, last)) > MAX_MONTHS:
        notices.append(f"Ein Bericht umfasst höchstens {MAX_MONTHS} Monate; es werden die letzten "
                       f"{MAX_MONTHS} gezeigt.")
        first = shift_month(last, 1 - MAX_MONTHS)
    filters = ReportFilters(
        first_month=first, last_month=last,
        sozialraum_id=_id_arg(args, "sozialraum", "Sozialraum", sozialraum_ids, notices),
        provider_id=_id_arg(args, "traeger", "Träger", provider_ids, notices),
        category_id=_id_arg(args, "kategorie", "Kategorie", category_ids, notices),
    )
    return filters, notices


def with_period(filters: ReportFilters, first: str, last: str) -> ReportFilters:
    return replace(filters, first_month=first, last_month=last)
