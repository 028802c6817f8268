"""The table behind every report (Berichtstabelle): typed columns, raw values, German display.

Values stay raw in the rows (minutes, cents, fractions), so that the page, the chart, the
CSV, the XLSX and the PDF all show the same figures, each formatted its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

MONTH_NAMES = ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sep.", "Okt.", "Nov.", "Dez.")


class Kind(StrEnum):
    """How a column's raw values are read: text, a count, minutes shown as hours, a fraction
    shown as percent, cents shown as euros, or a "YYYY-MM" month."""

    text = "text"
    count = "count"
    hours = "hours"
    percent = "percent"
    euro = "euro"
    month = "month"


@dataclass(frozen=True)
class Column:
    label: str
    kind: Kind = Kind.text

    @property
    def numeric(self) -> bool:
        return self.kind not in (Kind.text, Kind.month)

    @property
    def export_label(self) -> str:
        """The header in exports, with the unit (exports carry plain numbers)."""
        unit = {Kind.hours: " (Std.)", Kind.percent: " (%)", Kind.euro: " (EUR)"}.get(self.kind, "")
        return self.label + unit


@dataclass
class ReportTable:
    """One table of a report: `rows` of raw values in column order, an optional `total` row."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    total: list[Any] | None = None
    note: str = ""

    def column(self, label: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.label == label)

    def values(self, label: str) -> list[Any]:
        index = self.column(label)
        return [row[index] for row in self.rows]


def ratio(part: float, whole: float) -> float | None:
    """part / whole, or None when there is no whole (shown as "–")."""
    return part / whole if whole else None


def month_label(month: str, *, short: bool = False) -> str:
    """ "2025-03" → "März 2025" (short: "März 25")."""
    name = MONTH_NAMES[int(month[5:]) - 1]
    return f"{name} {month[2:4]}" if short else f"{name} {month[:4]}"


def _number(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def display(value: Any, kind: Kind) -> str:
    """A raw value as German text for the page and the PDF."""
    if value is None or value == "":
        return "–"
    if kind is Kind.count:
        return _number(value, 0) if isinstance(value, int) else _number(value, 1)
    if kind is Kind.hours:
        return _number(value / 60, 1)
    if kind is Kind.percent:
        return _number(value * 100, 1) + "\u00a0%"
    if kind is Kind.euro:
        return _number(value / 100, 2) + "\u00a0€"
    if kind is Kind.month and len(value) == 7 and value[4] == "-":
        return month_label(value)
    return str(value)


def export_value(value: Any, kind: Kind) -> Any:
    """A raw value as a typed spreadsheet cell: hours and percent as numbers, euros exact."""
    if value is None:
        return None
    if kind is Kind.hours:
        return round(value / 60, 2)
    if kind is Kind.percent:
        return round(value * 100, 1)
    if kind is Kind.euro:
        return Decimal(value) / 100
    return value


#: Excel number formats per column kind.
XLSX_FORMATS = {Kind.count: "#,##0", Kind.hours: "#,##0.00", Kind.percent: "0.0", Kind.euro: "#,##0.00 €"}
