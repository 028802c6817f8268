"""Reports for Jugendamt planning (blueprint `reports`, /berichte): pages, exports, sign-off.

Thin views: parse the filters (`reports.filters.parse_filters`: bad values are ignored with
a German notice, never an error page), build the page (`reports.pages.build_page`), render
the full page or, for htmx, the report body (`render_page`). Exports write the same
tables as CSV, XLSX or PDF. Planners only; every export and sign-off is audited.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from ..access import require_role
from ..audit import audit
from ..db import get_session
from ..models import AuditAction, Category, Provider, Role, Sozialraum
from ..reports import export as report_export
from ..reports.filters import ReportFilters, parse_filters, shift_month
from ..reports.pages import OPTIONS, REPORTS, ReportPage, build_page
from ..reports.signoff import SECTIONS, ReviewError, review_states, sign_off, states_with_changes
from ..reports.tables import display, month_label
from ..spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE
from ..timeutil import month_key, today_berlin
from .rendering import render_page

bp = Blueprint("reports", __name__, url_prefix="/berichte")

MIMETYPES = {"csv": CSV_MIMETYPE, "xlsx": XLSX_MIMETYPE, "pdf": "application/pdf"}
#: Report key → view function name.
ENDPOINTS = {"auslastung": "occupancy", "bedarf": "demand", "modulstunden": "module_hours",
             "traegeruebergreifend": "cross_provider"}


def _choices() -> dict[str, list[tuple[int, str]]]:
    session = get_session()
    return {
        "sozialraeume": [tuple(r) for r in session.exec(select(Sozialraum.id, Sozialraum.name)
                                                        .order_by(Sozialraum.name)).all()],
        "traeger": [tuple(r) for r in session.exec(select(Provider.id, Provider.name).order_by(Provider.name)).all()],
        "kategorien": [tuple(r) for r in session.exec(select(Category.id, Category.label)
                                                      .order_by(Category.label)).all()],
    }


def _filters(choices: dict[str, list[tuple[int, str]]]) -> tuple[ReportFilters, list[str]]:
    return parse_filters(
        request.args, today=today_berlin(),
        sozialraum_ids={i for i, _ in choices["sozialraeume"]},
        provider_ids={i for i, _ in choices["traeger"]},
        category_ids={i for i, _ in choices["kategorien"]},
    )


def _context_lines(page: ReportPage, choices: dict[str, list[tuple[int, str]]]) -> list[str]:
    """What the report covers, in words (for exports)."""
    f = page.filters
    names = {key: dict(values) for key, values in choices.items()}
    lines = [f"Zeitraum: {month_label(f.first_month)} bis {month_label(f.last_month)}"
             if page.monthly else f"Stand: {today_berlin():%d.%m.%Y}"]
    lines.append("Sozialraum: " + names["sozialraeume"].get(f.sozialraum_id, "alle"))
    lines.append("Träger: " + names["traeger"].get(f.provider_id, "alle"))
    lines.append("Kategorie: " + names["kategorien"].get(f.category_id, "alle"))
    if page.option:
        lines.append("Gliederung: " + OPTIONS[page.key][0][page.option])
    lines.append(f"Erstellt am {today_berlin():%d.%m.%Y} mit der Gruppenbörse")
    return lines


@bp.route("/")
@require_role(Role.planner)
def index() -> Any:
    """Overview: the reports with links, and the sign-off state of the last months."""
    session = get_session()
    today = today_berlin()
    current = month_key(today)
    filters = ReportFilters(first_month=shift_month(current, -6), last_month=shift_month(current, -1))
    states = review_states(session, filters=filters, current={})
    links = [(title, text, url_for(f"reports.{ENDPOINTS[key]}")) for key, (title, text) in REPORTS.items()]
    return render_template("reports/index.html", reports=links, states=states, month_label=month_label,
                           months=list(reversed(filters.months)))


def _report(key: str) -> Any:
    choices = _choices()
    filters, notices = _filters(choices)
    page = build_page(get_session(), key=key, filters=filters, option=request.args.get("nach"),
                      today=today_berlin())
    args = filters.query_args() | ({"nach": page.option} if page.option else {})
    return render_page("reports/report.html", "reports/partials/body.html", report=page, notices=notices,
                       choices=choices, args=args, options=OPTIONS.get(key), display=display,
                       month_label=month_label, title=REPORTS[key][0], sections=SECTIONS)


@bp.route("/auslastung")
@require_role(Role.planner)
def occupancy() -> Any:
    """Occupancy by group, provider, Sozialraum, category or month, with the trend."""
    return _report("auslastung")


@bp.route("/bedarf")
@require_role(Role.planner)
def demand() -> Any:
    """Unmet demand with the engine's reasons, the supply and demand map, groups at risk."""
    return _report("bedarf")


@bp.route("/modulstunden")
@require_role(Role.planner)
def module_hours() -> Any:
    """Approved against delivered care hours per module, team and month."""
    return _report("modulstunden")


@bp.route("/traegeruebergreifend")
@require_role(Role.planner)
def cross_provider() -> Any:
    """Cross-provider use: offsets per provider pair and month, placements outside the lead provider."""
    return _report("traegeruebergreifend")


@bp.route("/<any(auslastung, bedarf, modulstunden, traegeruebergreifend):key>/export.<any(csv, xlsx, pdf):fmt>")
@require_role(Role.planner)
def export(key: str, fmt: str) -> Response:
    """The report's tables as CSV, XLSX or PDF, for the filters of the page."""
    session = get_session()
    choices = _choices()
    filters, notices = _filters(choices)
    if notices:
        return make_response(" ".join(notices), 422, {"Content-Type": "text/plain; charset=utf-8"})
    page = build_page(session, key=key, filters=filters, option=request.args.get("nach"), today=today_berlin())
    title = f"Bericht {REPORTS[key][0]}"
    writer = {"csv": report_export.report_csv, "xlsx": report_export.report_xlsx,
              "pdf": report_export.report_pdf}[fmt]
    body = writer(title, _context_lines(page, choices), page.tables)
    audit(session, current_user, AuditAction.export.value, "report", key)
    session.commit()
    response = make_response(body)
    response.headers["Content-Type"] = MIMETYPES[fmt]
    name = f"bericht-{key}-{filters.first_month}-bis-{filters.last_month}.{fmt}" if page.monthly else \
        f"bericht-{key}-{today_berlin():%Y-%m-%d}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/abnahme", methods=["GET", "POST"])
@require_role(Role.planner)
def signoff() -> Any:
    """Mark a past month's reports as reviewed, with a comment; list the sign-offs and changes since."""
    session = get_session()
    today = today_berlin()
    current = month_key(today)
    errors: dict[str, str] = {}
    if request.method == "POST":
        month = (request.form.get("monat") or "").strip()
        comment = request.form.get("kommentar") or ""
        try:
            sign_off(session, month=month, actor=current_user, comment=comment, today=today)
        except ReviewError as exc:
            session.rollback()
            errors["monat" if "Monat" in str(exc) else "kommentar"] = str(exc)
        else:
            flash(f"Die Berichte für {month_label(month)} sind als geprüft markiert.", "success")
            return redirect(url_for("reports.signoff"))
    filters = ReportFilters(first_month=shift_month(current, -12), last_month=shift_month(current, -1))
    states = states_with_changes(session, filters=filters, today=today)
    html = render_template("reports/signoff.html", months=list(reversed(filters.months)), states=states,
                           errors=errors, form=request.form, month_label=month_label)
    return (html, 422) if errors else html
