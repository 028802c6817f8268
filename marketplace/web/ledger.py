"""Offset statements (Verrechnung): coordinators see their provider's pairs, planners all and close months.

Routes:
    GET  /verrechnung/?monat=YYYY-MM          the month's statement (page or htmx fragment)
    GET  /verrechnung/<month>.<csv|xlsx|pdf>  exports of the same statement
    POST /verrechnung/<month>/buchen          planner: re-book an open month from attendance
    POST /verrechnung/<month>/abschliessen    planner: close the month (immutable afterwards)
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from ..access import require_role
from ..audit import audit
from ..db import get_session
from ..ledger import LedgerError, book_month, close_month, parse_month, statement
from ..ledger_export import statement_csv, statement_pdf, statement_xlsx
from ..models import Role
from ..timeutil import month_key, today_berlin
from .reauth import recent_login
from .rendering import render_page

bp = Blueprint("ledger", __name__, url_prefix="/verrechnung")

EXPORTS = {
    "csv": (statement_csv, "text/csv; charset=utf-8"),
    "xlsx": (statement_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": (statement_pdf, "application/pdf"),
}


def _scope() -> int | None:
    """Coordinators see only pairs involving their provider; planners see everything."""
    return current_user.provider_id if current_user.role == Role.coordinator.value else None


def _month_or_400(text: str) -> str:
    try:
        return parse_month(text)
    except LedgerError as exc:
        abort(400, description=str(exc))


@bp.route("/")
@require_role(Role.coordinator, Role.planner)
def index() -> tuple[str, int] | str:
    text = request.args.get("monat") or month_key(today_berlin())
    error = None
    try:
        month = parse_month(text)
    except LedgerError as exc:
        error, month = str(exc), month_key(today_berlin())
    data = statement(get_session(), month=month, provider_id=_scope())
    audit(get_session(), current_user, "view", "offset_statement", month)
    get_session().commit()
    html = render_page("ledger/index.html", "ledger/partials/statement.html", month=month, data=data,
                       error=error, is_planner=current_user.role == Role.planner.value,
                       own_provider=_scope())
    return (html, 400) if error else html


@bp.route("/<month>.<kind>")
@require_role(Role.coordinator, Role.planner)
def export(month: str, kind: str) -> Response:
    if kind not in EXPORTS:
        abort(404)
    month = _month_or_400(month)
    render, mimetype = EXPORTS[kind]
    body = render(statement(get_session(), month=month, provider_id=_scope()))
    audit(get_session(), current_user, "export", "offset_statement", month)
    get_session().commit()
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="verrechnung-{month}.{kind}"'})


@bp.route("/<month>/buchen", methods=["POST"])
@require_role(Role.planner)
def book(month: str) -> Response:
    month = _month_or_400(month)
    session = get_session()
    try:
        result = book_month(session, month=month)
    except LedgerError as exc:
        session.rollback()
        flash(str(exc), "error")
    else:
        audit(session, current_user, "update", "offset_statement", month)
        session.commit()
        flash(f"{result.entries} Buchungen für {month} aus der Anwesenheit erstellt.", "success")
    return redirect(url_for("ledger.index", monat=month))


@bp.route("/<month>/abschliessen", methods=["POST"])
@require_role(Role.planner)
@recent_login(minutes=15)
def close(month: str) -> Response:
    month = _month_or_400(month)
    session = get_session()
    try:
        close_month(session, month=month, actor=current_user)
    except LedgerError as exc:
        session.rollback()
        flash(str(exc), "error")
    else:
        session.commit()
        flash(f"Der Monat {month} ist abgeschlossen. Spätere Korrekturen werden im Folgemonat gebucht.", "success")
    return redirect(url_for("ledger.index", monat=month))
