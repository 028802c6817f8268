"""What each report page shows (Berichtsseiten): key figures, charts with their tables, sign-off state.

`build_page(session, key=..., filters=..., option=..., today=...)` returns a `ReportPage`
that the web view renders and the exports write (the same tables). Charts are drawn by
`marketplace.charts` from the tables' own values, so a chart never shows other numbers
than the table beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from .. import charts
from .crossuse import cross_provider
from .demand import REASONS, unmet_demand
from .filters import ReportFilters
from .hours import DIMENSIONS as HOURS_DIMENSIONS
from .hours import module_hours
from .occupancy import DIMENSIONS as OCCUPANCY_DIMENSIONS
from .occupancy import occupancy
from .signoff import (
    ReviewState,
    cross_month_hashes,
    hours_month_hashes,
    occupancy_month_hashes,
    review_states,
    reviews,
    unfiltered,
)
from .tables import Kind, ReportTable, display, month_label

#: Report key → (German title, short description for the overview).
REPORTS: dict[str, tuple[str, str]] = {
    "auslastung": ("Auslastung", "Belegte Plätze und besuchte Teilnehmendenstunden gegen die Kapazität – nach "
                                 "Gruppe, Träger, Sozialraum, Kategorie und Monat, mit Verlauf."),
    "bedarf": ("Ungedeckter Bedarf", "Wartende junge Menschen je Sozialraum und Kategorie mit den Gründen der "
                                     "Matching-Engine, Karte von Angebot und Bedarf, Gruppen unter Mindestgröße "
                                     "und wenig genutzte Gruppen."),
    "modulstunden": ("Modulstunden", "Bewilligte gegen geleistete Betreuungsstunden je Modul, Team und Monat."),
    "traegeruebergreifend": ("Trägerübergreifende Nutzung", "Nutzung und Verrechnung je Trägerpaar und Monat, "
                                                            "Anteil der Belegungen außerhalb des federführenden "
                                                            "Trägers."),
}
#: The grouping choices ("Gliederung") of the reports that have them, with their default.
OPTIONS: dict[str, tuple[dict[str, str], str]] = {
    "auslastung": (OCCUPANCY_DIMENSIONS, "traeger"),
    "modulstunden": (HOURS_DIMENSIONS, "modul"),
}
MAX_BARS = 30
#: viewBox width of a chart shown beside its table (narrower, so its text stays legible when scaled)
BESIDE = 480


@dataclass
class Section:
    """A chart (optional) and the table behind it; `wide` tables go below the chart, others beside it."""

    table: ReportTable
    chart: str | None = None
    wide: bool = True
    intro: str = ""


@dataclass
class Tile:
    label: str
    value: str
    hint: str = ""
    attention: bool = False


@dataclass
class ReportPage:
    key: str
    title: str
    filters: ReportFilters
    option: str | None
    tiles: list[Tile] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    reviews: dict[str, ReviewState] = field(default_factory=dict)
    monthly: bool = True  # figures per month (sign-off applies); the demand report is "as of today"
    map_svg: str | None = None
    map_table: ReportTable | None = None

    @property
    def tables(self) -> list[ReportTable]:
        return [s.table for s in self.sections] + ([self.map_table] if self.map_table else [])

    @property
    def changed(self) -> list[ReviewState]:
        return [state for state in self.reviews.values() if state.changed]


def option_for(key: str, raw: str | None) -> str | None:
    """The grouping of a report: `raw` when it is one of its choices, else its default (None: no choices)."""
    if key not in OPTIONS:
        return None
    choices, default = OPTIONS[key]
    return raw if raw in choices else default


def build_page(session: Session, *, key: str, filters: ReportFilters, option: str | None, today: date) -> ReportPage:
    """The page `key` of REPORTS for `filters` (and grouping `option`)."""
    builder = {"auslastung": _occupancy_page, "bedarf": _demand_page, "modulstunden": _hours_page,
               "traegeruebergreifend": _cross_page}[key]
    return builder(session, filters, option_for(key, option), today)


def _month_labels(filters: ReportFilters) -> list[str]:
    return [month_label(m, short=True) for m in filters.months]


def _fmt_hours(value: float | None) -> str:
    return "–" if value is None else charts.german_number(value, 0) + " Std."


def _fmt_euro(value: float | None) -> str:
    return "–" if value is None else charts.german_number(value, 0) + " €"


def _top(table: ReportTable, column: str) -> list[list]:
    """The rows with the largest values in `column`, for a chart that must stay readable."""
    index = table.column(column)
    return sorted(table.rows, key=lambda r: -(r[index] or 0))[:MAX_BARS]


def _with_reviews(session: Session, page: ReportPage, section: str, hashes_of, report_of) -> None:
    """Attach the sign-offs of the period, flagging months whose `section` figures changed since."""
    signed = reviews(session, first_month=page.filters.first_month, last_month=page.filters.last_month)
    if not signed:
        return
    if unfiltered(page.filters):
        hashes = hashes_of(None)
    else:  # fingerprints are of the whole district: recompute without filters, for the signed months only
        months = sorted(signed)
        hashes = hashes_of(report_of(ReportFilters(first_month=months[0], last_month=months[-1])))
    page.reviews = review_states(session, filters=page.filters, current={section: hashes})


# --------------------------------------------------------------------------- occupancy


def _occupancy_page(session: Session, filters: ReportFilters, option: str | None, today: date) -> ReportPage:
    report = occupancy(session, filters=filters, today=today)
    page = ReportPage("auslastung", REPORTS["auslastung"][0], filters, option)
    total = report.total()
    page.tiles = [
        Tile("Gruppen im Zeitraum", display(len(total.offers), Kind.count)),
        Tile("Belegungsquote", display(total.booked_share, Kind.percent), "belegte von angebotenen Platzmonaten"),
        Tile("Teilnahmequote", display(total.attended_share, Kind.percent), "besuchte von möglichen Stunden"),
        Tile("Besuchte Stunden", _fmt_hours(total.attended_minutes / 60), "Teilnehmendenstunden"),
    ]
    months = report.table("monat")
    trend = charts.line_chart(
        title="Verlauf der Auslastung", labels=_month_labels(filters), id_prefix="chart-auslastung-verlauf",
        series=[charts.Series("Belegungsquote", months.values("Belegungsquote")),
                charts.Series("Teilnahmequote", months.values("Teilnahmequote"))],
        percent=True, description="Belegungs- und Teilnahmequote je Monat des Zeitraums.")
    page.sections.append(Section(months, trend, intro="Verlauf über den gewählten Zeitraum."))
    if option != "monat":
        table = report.table(option)
        rows = _top(table, "Platzmonate")
        bars = charts.bar_chart(
            title=table.title, labels=[r[0] for r in rows], id_prefix=f"chart-auslastung-{option}",
            series=[charts.Series("Belegungsquote", [r[table.column("Belegungsquote")] for r in rows]),
                    charts.Series("Teilnahmequote", [r[table.column("Teilnahmequote")] for r in rows])],
            percent=True, description=f"Belegungs- und Teilnahmequote je {OCCUPANCY_DIMENSIONS[option]}"
                                      + (f" (die {MAX_BARS} größten)" if len(table.rows) > MAX_BARS else "") + ".")
        page.sections.insert(0, Section(table, bars))
    _with_reviews(session, page, "auslastung",
                  lambda r: occupancy_month_hashes(r or report),
                  lambda f: occupancy(session, filters=f, today=today))
    return page


# --------------------------------------------------------------------------- unmet demand


def _demand_page(session: Session, filters: ReportFilters, option: str | None, today: date) -> ReportPage:
    report = unmet_demand(session, filters=filters, today=today)
    page = ReportPage("bedarf", REPORTS["bedarf"][0], filters, option, monthly=False)
    free = sum(max(0, o.seats - o.seats_taken) for o in report.open_offers.values())
    page.tiles = [
        Tile("Wartende junge Menschen", display(len(report.waiting), Kind.count), f"Stand {today:%d.%m.%Y}",
             attention=bool(report.waiting)),
        Tile("Freie Plätze", display(free, Kind.count), "in heute buchbaren Gruppen"),
        Tile("Gruppen unter Mindestgröße", display(len(report.at_risk), Kind.count), attention=bool(report.at_risk)),
        Tile("Wenig genutzte Gruppen", display(len(report.underused), Kind.count)),
    ]
    reasons = report.reason_table()
    chart = charts.bar_chart(
        title="Hauptgründe der Wartenden", labels=[r[0] for r in reasons.rows], id_prefix="chart-bedarf-gruende",
        series=[charts.Series("junge Menschen", reasons.values("junge Menschen"))],
        description="Anzahl wartender junger Menschen je Hauptgrund laut Matching-Engine.", width=BESIDE)
    page.sections.append(Section(reasons, chart, wide=False))
    cells = report.cell_table()
    by_category: dict[str, list[float]] = {}
    for row in cells.rows:
        counts = by_category.setdefault(row[1], [0.0] * len(REASONS))
        for i, label in enumerate(REASONS.values()):
            counts[i] += row[cells.column(label)]
    labels = sorted(by_category, key=lambda c: -sum(by_category[c]))[:MAX_BARS]
    stacked = charts.bar_chart(
        title="Wartende je Kategorie nach Hauptgrund", labels=labels, id_prefix="chart-bedarf-kategorien",
        series=[charts.Series(reason, [by_category[c][i] for c in labels])
                for i, reason in enumerate(REASONS.values())],
        stacked=True, description="Wartende junge Menschen je Kategorie (alle Sozialräume), gestapelt nach "
                                  "Hauptgrund; die Tabelle gliedert zusätzlich nach Sozialraum.")
    page.sections.append(Section(cells, stacked))
    towns = [charts.TownFigures(name, *report.towns[town_id][2:], region, offers, seats, free_seats, waiting)
             for town_id, name, region, offers, seats, free_seats, waiting in report.town_rows()]
    page.map_svg = charts.supply_demand_map(towns)
    page.map_table = report.town_table()
    page.sections.append(Section(report.at_risk_table()))
    page.sections.append(Section(report.underused_table()))
    return page


# --------------------------------------------------------------------------- module hours


def _hours_page(session: Session, filters: ReportFilters, option: str | None, today: date) -> ReportPage:
    report = module_hours(session, filters=filters, today=today)
    page = ReportPage("modulstunden", REPORTS["modulstunden"][0], filters, option)
    total = report.total()
    page.tiles = [
        Tile("Fallmonate", display(total.case_months, Kind.count), "junge Menschen × Monate mit Hilfe"),
        Tile("Bewilligt (mindestens)", _fmt_hours(total.band_min / 60), "unterer Wert des Betreuungsbands"),
        Tile("Geleistet", _fmt_hours(total.delivered / 60), "Gruppe + einzeln"),
        Tile("Unter dem Band", display(total.status["under"], Kind.count), "Fallmonate",
             attention=total.status["under"] > 0),
    ]
    months = report.table("monat")
    columns = charts.column_chart(
        title="Bewilligt und geleistet je Monat", labels=_month_labels(filters), id_prefix="chart-stunden-verlauf",
        series=[charts.Series("bewilligt (Band von)", [v / 60 for v in months.values("Band von")]),
                charts.Series("geleistet", [v / 60 for v in months.values("geleistet")])],
        fmt=_fmt_hours, description="Betreuungsstunden je Monat: bewilligter Mindestumfang und geleistete Stunden.")
    page.sections.append(Section(months, columns))
    if option != "monat":
        table = report.table(option)
        bars = charts.bar_chart(
            title=f"Erfüllung je {HOURS_DIMENSIONS[option]}", labels=[r[0] for r in table.rows[:MAX_BARS]],
            id_prefix=f"chart-stunden-{option}", percent=True,
            series=[charts.Series("Erfüllung", [r[table.column("Erfüllung")] for r in table.rows[:MAX_BARS]])],
            description="Geleistete Stunden im Verhältnis zum bewilligten Mindestumfang.")
        page.sections.insert(0, Section(table, bars))
    _with_reviews(session, page, "modulstunden",
                  lambda r: hours_month_hashes(r or report),
                  lambda f: module_hours(session, filters=f, today=today))
    return page


# --------------------------------------------------------------------------- cross-provider use


def _cross_page(session: Session, filters: ReportFilters, option: str | None, today: date) -> ReportPage:
    report = cross_provider(session, filters=filters, today=today)
    page = ReportPage("traegeruebergreifend", REPORTS["traegeruebergreifend"][0], filters, option)
    outside = report.outside_table()
    page.tiles = [
        Tile("Verrechnung", display(report.total_cents, Kind.euro), "im Zeitraum (gebuchte Monate)"),
        Tile("Teilnehmendenstunden", _fmt_hours(report.total_minutes / 60), "in Gruppen anderer Träger"),
        Tile("Trägerpaare", display(len(report.pairs), Kind.count)),
        Tile("Anteil außerhalb", display(outside.total[3] if outside.total else None, Kind.percent),
             "Belegungen nicht beim federführenden Träger"),
    ]
    pairs = report.pair_table()
    rows = _top(pairs, "Verrechnung")
    page.sections.append(Section(pairs, charts.bar_chart(
        title="Verrechnung je Trägerpaar", id_prefix="chart-verrechnung-paare",
        labels=[f"{report.short_of(r[1])} → {report.short_of(r[0])}" for r in rows],
        series=[charts.Series("Verrechnung", [r[pairs.column("Verrechnung")] / 100 for r in rows])],
        fmt=_fmt_euro, description="Betrag, den der federführende Träger (vor dem Pfeil) dem gastgebenden Träger "
                                  "(nach dem Pfeil) schuldet; Kürzel wie in der Tabelle.")))
    months = report.month_table()
    page.sections.append(Section(months, charts.column_chart(  # five columns: too wide beside the chart
        title="Verrechnung je Monat", labels=_month_labels(filters), id_prefix="chart-verrechnung-monate",
        series=[charts.Series("Verrechnung", [v / 100 for v in months.values("Verrechnung")])], fmt=_fmt_euro,
        description="Verrechnungsbetrag aller Trägerpaare je Monat.")))
    page.sections.append(Section(outside, charts.line_chart(
        title="Anteil der Belegungen außerhalb des federführenden Trägers", labels=_month_labels(filters),
        id_prefix="chart-ausserhalb", percent=True,
        series=[charts.Series("Anteil", outside.values("Anteil"))],
        description="Anteil der platzhaltenden Belegungen in Gruppen anderer Träger je Monat.", width=BESIDE),
        wide=False))
    page.sections.append(Section(report.lead_table()))
    _with_reviews(session, page, "traegeruebergreifend",
                  lambda r: cross_month_hashes(session, r or report),
                  lambda f: cross_provider(session, filters=f, today=today))
    return page
