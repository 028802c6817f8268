"""The provider's office (Büro): attendance, monthly attendance, offer import and export.

Thin views: read the request, check access (coordinators only, and only their own
provider's groups: a foreign group answers 403), call `marketplace.attendance` /
`marketplace.offer_io`, render. Bad input is answered with German messages and a 4xx;
nothing is written then. Saving attendance works with htmx (the form is swapped with a
German confirmation) and without (post, redirect, message).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from .. import attendance as att
from .. import offer_io
from ..access import require_role
from ..cases import audit_placement_members
from ..db import get_session
from ..models import AuditAction, GroupOffer, Role
from ..spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, csv_bytes, xlsx_bytes
from ..timeutil import today_berlin
from .nav import endpoint_exists
from .rendering import render_page
from .security import is_htmx

bp = Blueprint("office", __name__, url_prefix="/buero")

COORDINATOR = Role.coordinator
FORMATS = {"csv": CSV_MIMETYPE, "xlsx": XLSX_MIMETYPE}
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".txt")
#: How far back the date picker of the attendance screen goes.
PICKER_MONTHS = 3


class BadRequest(Exception):
    """A query value that cannot be used; `field` names the form field, `message` is German."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


# --------------------------------------------------------------------------- helpers


def _own_offer(raw: str | None) -> GroupOffer:
    """The group `raw` (an id) of the coordinator's own provider: 400 unreadable, 404 missing, 403 foreign."""
    try:
        offer_id = int((raw or "").strip())
    except ValueError:
        raise BadRequest("angebot", "Bitte wählen Sie eine Gruppe aus der Liste.") from None
    offer = get_session().get(GroupOffer, offer_id) if 0 < offer_id < 2**31 else None
    if offer is None:
        abort(404)
    if offer.provider_id != current_user.provider_id:
        abort(403, "Diese Gruppe gehört zu einem anderen Träger. Teilnahmen sehen und erfassen nur "
                   "dessen Koordinatorinnen und Koordinatoren.")
    return offer


def _picker_dates(offer: GroupOffer, today: date) -> list[att.SessionDate]:
    """Session dates of the last months up to today, newest first."""
    month = today.replace(day=1)
    dates: list[att.SessionDate] = []
    for _ in range(PICKER_MONTHS):
        dates.extend(d for d in att.session_dates(offer, month) if d.day <= today)
        month = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
    return sorted(dates, key=lambda d: (d.day, d.start_minute), reverse=True)


def _session_date(offer: GroupOffer, raw: str | None, today: date) -> att.SessionDate | None:
    """The session date `raw` ("2025-03-05_12"), the latest one when empty; BadRequest when unusable."""
    if not raw:
        return att.latest_session_date(offer, today)
    day_text, _, session_text = raw.strip().partition("_")
    try:
        day, session_id = date.fromisoformat(day_text), int(session_text)
    except ValueError:
        raise BadRequest("termin", "Bitte wählen Sie einen Termin aus der Liste.") from None
    found = att.find_session_date(offer, day, session_id)
    if found is None:
        raise BadRequest("termin", f"Am {day:%d.%m.%Y} findet kein Termin dieser Gruppe statt.")
    if day > today:
        raise BadRequest("termin", "Die Teilnahme kann erst am Tag des Termins erfasst werden.")
    return found


def _form_context(offer: GroupOffer, when: att.SessionDate | None, *, prefill: str | None = None,
                  posted: dict[int, str] | None = None, errors: list[str] | None = None,
                  confirmation: str | None = None, reason: str = "") -> dict[str, Any]:
    session = get_session()
    members = att.members_on(session, offer.id, when.day) if when else []
    audit_placement_members(session, current_user, [m.placement_id for m in members],
                            object_type="attendance_list")
    existing = att.existing_marks(session, when.offer_session_id, when.day) if when else {}
    marks = {pid: row.status for pid, row in existing.items()}
    if prefill in att.STATUS_LABELS:
        marks = {m.placement_id: marks.get(m.placement_id, prefill) for m in members}
    if posted:
        marks.update(posted)
    return {
        "offer": offer,
        "when": when,
        "members": members,
        "marks": marks,
        "recorded": set(existing),
        "statuses": att.STATUS_LABELS,
        "history": att.correction_history(session, when.offer_session_id, when.day) if when else [],
        "errors": errors or [],
        "confirmation": confirmation,
        "reason": reason,
    }


def _download(data: bytes, filename: str, fmt: str) -> Response:
    return Response(data, mimetype=FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})


def _format(raw: str | None) -> str:
    fmt = (raw or "").strip().lower()
    if fmt not in FORMATS:
        abort(400, "Bitte wählen Sie als Format CSV oder XLSX.")
    return fmt


# --------------------------------------------------------------------------- attendance


@bp.route("/teilnahme", methods=["GET", "POST"])
@require_role(COORDINATOR)
def attendance() -> Response | tuple[str, int]:
    """Pick a group and a session date, mark every member present, absent or excused, save."""
    session = get_session()
    today = today_berlin()
    groups = att.own_offers_with_sessions(session, current_user.provider_id)
    source = request.form if request.method == "POST" else request.args
    raw_offer = source.get("angebot") or (str(groups[0].id) if groups and request.method == "GET" else "")
    context: dict[str, Any] = {"groups": groups, "field_errors": {}, "offer": None, "when": None, "dates": []}
    if not raw_offer:
        return render_template("office/attendance.html", **context), 200
    try:
        offer = _own_offer(raw_offer)
        context.update(offer=offer, dates=_picker_dates(offer, today))
        when = _session_date(offer, source.get("termin"), today)
    except BadRequest as problem:
        context["field_errors"] = {problem.field: problem.message}
        return render_template("office/attendance.html", **context), 400
    if request.method == "POST":
        return _save_attendance(offer, when, context)
    context.update(_form_context(offer, when, prefill=request.args.get("vorbelegen")))
    # Always the full page: the pickers' htmx requests select the region they need (hx-select).
    return render_template("office/attendance.html", **context), 200


def _save_attendance(offer: GroupOffer, when: att.SessionDate | None,
                     context: dict[str, Any]) -> Response | tuple[str, int]:
    if when is None:
        context["field_errors"] = {"termin": "Bitte wählen Sie einen Termin."}
        return render_template("office/attendance.html", **context), 400
    marks: dict[int, str] = {}
    problems: list[str] = []
    for name, value in request.form.items():
        if not name.startswith("mark-"):
            continue
        try:
            marks[int(name[5:])] = value
        except ValueError:
            problems.append("Das Formular enthält eine unbekannte Zeile. Bitte laden Sie die Seite neu.")
    reason = (request.form.get("grund") or "").strip()
    session = get_session()
    if not problems:
        try:
            result = att.record_attendance(session, offer_id=offer.id, session_date=when.day,
                                           offer_session_id=when.offer_session_id, marks=marks,
                                           actor=current_user, reason=reason)
        except att.AttendanceDenied:
            abort(403)
        except att.AttendanceError as error:
            session.rollback()
            problems = error.messages
    if problems:
        context.update(_form_context(offer, when, posted=marks, errors=problems, reason=reason))
        return render_page("office/attendance.html", "office/partials/attendance_form.html", **context), 422
    message = att.confirmation_message(result)
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("office.attendance", angebot=offer.id, termin=when.key))
    context.update(_form_context(offer, when, confirmation=message))
    return render_template("office/partials/attendance_form.html", **context), 200


# --------------------------------------------------------------------------- monthly overview


def _month(raw: str | None, today: date) -> date:
    if not raw:
        return today.replace(day=1)
    try:
        return att.parse_month(raw)
    except ValueError:
        raise BadRequest("monat", "Bitte wählen Sie einen Monat im Format JJJJ-MM.") from None


def _monthly(offer_raw: str | None, month_raw: str | None) -> tuple[att.MonthlyAttendance, date]:
    today = today_berlin()
    offer = _own_offer(offer_raw)
    month = _month(month_raw, today)
    return att.monthly_attendance(get_session(), offer_id=offer.id, month=month, today=today), month


@bp.route("/teilnahme/monat")
@require_role(COORDINATOR)
def attendance_month() -> tuple[str, int]:
    """Monthly attendance of one group: members × session dates with totals, exportable."""
    groups = att.own_offers_with_sessions(get_session(), current_user.provider_id)
    raw_offer = request.args.get("angebot") or (str(groups[0].id) if groups else "")
    context: dict[str, Any] = {"groups": groups, "field_errors": {}, "overview": None,
                               "month_value": request.args.get("monat") or today_berlin().strftime("%Y-%m")}
    if not raw_offer:
        return render_template("office/attendance_month.html", **context), 200
    try:
        overview, month = _monthly(raw_offer, request.args.get("monat"))
    except BadRequest as problem:
        context["field_errors"] = {problem.field: problem.message}
        return render_template("office/attendance_month.html", **context), 400
    previous = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    context.update(overview=overview, month_value=month.strftime("%Y-%m"), codes=att.STATUS_CODES,
                   labels=att.STATUS_LABELS,
                   previous=previous.strftime("%Y-%m"), following=following.strftime("%Y-%m"))
    return render_page("office/attendance_month.html", "office/partials/attendance_month_table.html",
                       **context), 200


def monthly_table(overview: att.MonthlyAttendance) -> tuple[list[str], list[list[Any]]]:
    """The monthly overview as a table: one row per member, one column per session date, totals."""
    header = ["Teilnehmende"]
    header += [f"{att.WEEKDAYS_SHORT[d.day.weekday()]} {d.day:%d.%m.} {d.time_label}" for d in overview.dates]
    header += ["anwesend", "abwesend", "entschuldigt", "offen", "Anwesenheitsstunden"]
    rows: list[list[Any]] = []
    for member in overview.members:
        cells = [member.pseudonym]
        cells += [att.STATUS_LABELS.get(m, "") if m else ("" if m == "" or overview.is_future(i) else "offen")
                  for i, m in enumerate(member.marks)]
        cells += [member.present, member.absent, member.excused, member.open, round(member.present_hours, 2)]
        rows.append(cells)
    totals: list[Any] = ["Summe"]
    totals += [overview.present_on(i) for i in range(len(overview.dates))]
    totals += [overview.present, overview.absent, overview.excused, overview.open,
               round(overview.present_hours, 2)]
    rows.append(totals)
    return header, rows


@bp.route("/teilnahme/monat/export")
@require_role(COORDINATOR)
def attendance_export() -> Response:
    """The monthly overview as CSV or XLSX (`format`), for the group `angebot` and month `monat`."""
    fmt = _format(request.args.get("format"))
    try:
        overview, month = _monthly(request.args.get("angebot"), request.args.get("monat"))
    except BadRequest as problem:
        abort(400, problem.message)
    header, rows = monthly_table(overview)
    session = get_session()
    audit_placement_members(session, current_user, [m.placement_id for m in overview.members],
                            action=AuditAction.export.value, object_type="attendance")
    name = f"teilnahme-{overview.offer.id}-{month:%Y-%m}"
    if fmt == "csv":
        return _download(csv_bytes(header, rows), name, fmt)
    hours = len(header) - 1
    return _download(xlsx_bytes(f"Teilnahme {month:%m.%Y}", header, rows, {hours: "0.00"}), name, fmt)


# --------------------------------------------------------------------------- offers: export and import


@bp.route("/angebote/export")
@require_role(Role.coordinator, Role.planner)
def offers_export() -> Response:
    """The coordinator's own offers (planning: all offers) as CSV or XLSX (`format`)."""
    fmt = _format(request.args.get("format"))
    data = offer_io.export_offers(get_session(), user=current_user, fmt=fmt)
    return _download(data, f"angebote-{today_berlin():%Y-%m-%d}", fmt)


@bp.route("/angebote/vorlage")
@require_role(COORDINATOR)
def offers_template() -> Response:
    """An empty import file with the expected headers and one example row."""
    fmt = _format(request.args.get("format"))
    header, rows = offer_io.template_table()
    data = csv_bytes(header, rows) if fmt == "csv" else xlsx_bytes("Angebote", header, rows)
    return _download(data, "angebote-vorlage", fmt)


def _import_page(errors: list[str] | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("office/offers_import.html", errors=errors or [], columns=offer_io.COLUMNS,
                           max_rows=offer_io.MAX_ROWS, max_mb=offer_io.MAX_UPLOAD_MB), status


@bp.route("/angebote/import", methods=["GET", "POST"])
@require_role(COORDINATOR)
def offers_import() -> Response | tuple[str, int]:
    """Upload a CSV or XLSX file: every row becomes a draft of the own provider, or nothing is written."""
    if request.method == "GET":
        return _import_page()
    # The app-wide MAX_CONTENT_LENGTH (413 page) bounds the request; this page allows less.
    try:
        upload = request.files.get("datei")
    except RequestEntityTooLarge:
        return _import_page([f"Die Datei ist zu groß (höchstens {offer_io.MAX_UPLOAD_MB} MB)."], 413)
    if upload is None or not upload.filename:
        return _import_page(["Bitte wählen Sie eine Datei aus."], 400)
    if not upload.filename.lower().endswith(UPLOAD_SUFFIXES):
        upload.close()
        return _import_page(["Dieser Dateityp wird nicht unterstützt. Bitte laden Sie eine CSV-Datei (.csv) "
                             "oder eine Excel-Arbeitsmappe (.xlsx) hoch."], 415)
    try:
        data = upload.read(offer_io.MAX_UPLOAD_BYTES + 1)
    finally:
        upload.close()  # large uploads are spooled to a temporary file
    if len(data) > offer_io.MAX_UPLOAD_BYTES:
        return _import_page([f"Die Datei ist zu groß (höchstens {offer_io.MAX_UPLOAD_MB} MB)."], 413)
    session = get_session()
    try:
        created = offer_io.import_offers(session, actor=current_user, filename=upload.filename, data=data)
    except offer_io.OfferImportDenied:
        abort(403)
    except offer_io.OfferImportError as error:
        session.rollback()
        current_app.logger.info("offer import refused: %d problems", len(error.errors))
        return _import_page([str(e) for e in error.errors], 422)
    count = len(created)
    flash(f"{count} Angebot{'e' if count != 1 else ''} als Entwurf importiert. Bitte prüfen Sie "
          f"{'sie' if count != 1 else 'es'} und reichen Sie {'sie' if count != 1 else 'es'} zur "
          f"Zertifizierung ein.", "success")
    target = "offers.mine" if endpoint_exists("offers.mine") else "catalogue.index"
    return redirect(url_for(target))
