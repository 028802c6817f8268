"""API: the Jugendamt's reports (Berichte) as tables, for Jugendhilfeplanung only (like the report pages).

The same pages the web UI shows and exports (`marketplace.reports.pages.build_page`), with the
same filters (`reports.filters.parse_filters`: values it corrects or ignores come back as German
`notices`). Values are raw (minutes, cents, fractions, "YYYY-MM"); each column says its kind.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import select

from ...db import get_session
from ...models import Category, Provider, Role, Sozialraum
from ...reports.filters import parse_filters
from ...reports.pages import OPTIONS, REPORTS, build_page
from ...reports.tables import Kind, ReportTable
from ...timeutil import today_berlin
from .registry import operation
from .respond import json_response
from .schemas import Id, StrictModel

MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class ReportQuery(StrictModel):
    von: str | None = Field(default=None, pattern=MONTH, description="Erster Monat (JJJJ-MM; Standard: 12 Monate).")
    bis: str | None = Field(default=None, pattern=MONTH, description="Letzter Monat (JJJJ-MM; Standard: laufender).")
    sozialraum: Id | None = Field(default=None, description="Nur dieser Sozialraum.")
    traeger: Id | None = Field(default=None, description="Nur dieser Träger.")
    kategorie: Id | None = Field(default=None, description="Nur diese Kategorie.")
    gliederung: str | None = Field(default=None, max_length=30,
                                   description="Gliederung (Auslastung: gruppe, traeger, sozialraum, kategorie, "
                                               "monat; Modulstunden: modul, team, monat).")


class ColumnOut(BaseModel):
    label: str
    kind: Kind = Field(description="text, count, hours (Minuten), percent (Anteil 0–1), euro (Cent), month.")


class TableOut(BaseModel):
    key: str
    title: str
    columns: list[ColumnOut]
    rows: list[list[Any]]
    total: list[Any] | None
    note: str


class TileOut(BaseModel):
    label: str
    value: str
    hint: str


class ReportOut(BaseModel):
    key: str
    title: str
    first_month: str
    last_month: str
    sozialraum_id: int | None
    provider_id: int | None
    category_id: int | None
    grouping: str | None
    notices: list[str]
    tiles: list[TileOut]
    tables: list[TableOut]


def _raw(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def table_out(table: ReportTable) -> TableOut:
    return TableOut(key=table.key, title=table.title, note=table.note,
                    columns=[ColumnOut(label=c.label, kind=c.kind) for c in table.columns],
                    rows=[[_raw(v) for v in row] for row in table.rows],
                    total=[_raw(v) for v in table.total] if table.total is not None else None)


@operation(f"/reports/<any({', '.join(REPORTS)}):key>", roles=(Role.planner,), tag="Berichte",
           summary="Bericht als Tabellen", query=ReportQuery, response=ReportOut)
def get_report(key: str, params: ReportQuery) -> Any:
    """One report of the Jugendamt (auslastung, bedarf, modulstunden, traegeruebergreifend) with the tables its
    page shows and exports. Filters as on the report pages; corrected or ignored values are named in `notices`."""
    session = get_session()
    args = {name: str(value) for name, value in params.model_dump().items() if value is not None}
    filters, notices = parse_filters(
        args, today=today_berlin(),
        sozialraum_ids=set(session.exec(select(Sozialraum.id)).all()),
        provider_ids=set(session.exec(select(Provider.id)).all()),
        category_ids=set(session.exec(select(Category.id)).all()),
    )
    if params.gliederung is not None and params.gliederung not in OPTIONS.get(key, ({}, None))[0]:
        notices.append(f"Unbekannte Gliederung „{params.gliederung}“; es gilt die Standardgliederung.")
    page = build_page(session, key=key, filters=filters, option=params.gliederung, today=today_berlin())
    return json_response(ReportOut(
        key=key, title=page.title, first_month=filters.first_month, last_month=filters.last_month,
        sozialraum_id=filters.sozialraum_id, provider_id=filters.provider_id, category_id=filters.category_id,
        grouping=page.option, notices=notices, tiles=[TileOut(label=t.label, value=t.value, hint=t.hint)
                                                      for t in page.tiles],
        tables=[table_out(t) for t in page.tables],
    ))
