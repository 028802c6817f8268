"""The caseworker's area "Junge Menschen" (blueprint `cases`, /faelle): cases, module steering, monitoring.

Thin views: parse the form (`case_forms`), call a use case (`marketplace.cases`,
`marketplace.monitoring`), render. Need to know: caseworkers reach only their own team's
cases, planners read all, coordinators only the individual-hours page of their lead cases
(pseudonyms only). Every view and change of a case is audited (per case; list pages write
one event per listed case). Bad input: the form again with German messages and 422.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_
from sqlmodel import select

from .. import cases, monitoring
from ..access import can_view_young_person, ensure, has_role, require_role, scope_offers, scope_young_people
from ..case_rules import PRIORITY_LABELS, CaseFields, group_band, validate_case
from ..cases import CaseAccessError, CaseError
from ..db import get_session
from ..models import (
    AuditEvent,
    CaseStatus,
    Category,
    GroupOffer,
    LegalBasis,
    Module,
    Municipality,
    Provider,
    Role,
    Team,
    User,
    YoungPerson,
)
from ..timeutil import month_key, today_berlin
from .case_forms import (
    WEEKDAYS,
    db_id,
    form_values,
    merge_errors,
    parse_case_form,
    parse_date,
    parse_hours,
    parse_int,
    raw_values,
    refuse_control_characters,
    unexpected_fields,
)
from .rendering import render_page, wants_fragment
from .text_guard import checks_text_fields

bp = Blueprint("cases", __name__, url_prefix="/faelle")

READERS = (Role.caseworker, Role.planner)
STATUS_LABELS = {
    CaseStatus.active.value: "laufend",
    CaseStatus.review.value: "Prüfung nötig",
    CaseStatus.ended.value: "beendet",
    CaseStatus.anonymised.value: "anonymisiert",
}
GENDER_LABELS = {"f": "weiblich", "m": "männlich", "d": "divers"}
FLAG_TEXTS = {
    "over_max": "Nach dem Modulwechsel liegen die Gruppenstunden über dem neuen Maximum.",
    "crisis_expired": "Die Krisenintervention ist ausgelaufen: Folgemodul wählen, verlängern oder Hilfe beenden.",
}
EVENT_LABELS = {
    "module_changed": "Modul gewechselt",
    "crisis_extended": "Krisenintervention verlängert",
    "crisis_expired": "Krisenintervention ausgelaufen",
    "ended": "Hilfe beendet",
}
#: Access log wording: views by where they happened (object type), changes by action.
ACTION_LABELS = {
    "young_person": "Fall geöffnet",
    "young_person_list": "in der Fallliste gesehen",
    "monitoring": "im Monitoring gesehen",
    "individual_hours_list": "in der Einzelstunden-Liste gesehen",
    "placement_request_form": "Belegungsanfrage geöffnet",
    "placement_request": "Anfrage mit Vorschlägen angesehen",
    "placement_request_list": "in der Anfragenliste gesehen",
    "placement_proposal_list": "in der Vorschlagsliste gesehen",
    "placement": "Belegung angesehen",
    "pending_placement_list": "vom Träger in offenen Belegungen gesehen",
    "group_member_list": "vom Träger in „Meine Gruppen“ gesehen",
    "attendance_list": "vom Träger in der Teilnahmeliste gesehen",
    "solver_run": "im Solver-Lauf gesehen",
    "delete": "personenbezogene Daten gelöscht (anonymisiert)",
    "create": "angelegt",
    "update": "geändert",
    "export": "exportiert",
}
PAGE_SIZE = 50


# --------------------------------------------------------------------------- helpers


def _case_or_abort(young_person_id: int, *, write: bool = False) -> YoungPerson:
    """The case if the current user may see it (and, for `write`, change it); else 404/403."""
    yp = get_session().get(YoungPerson, young_person_id)
    if yp is None:
        abort(404)
    ensure(can_view_young_person(current_user, yp))
    if write:
        ensure(has_role(current_user, Role.caseworker))
    return yp


def _audit_view(yp: YoungPerson, object_type: str = cases.OBJECT_TYPE) -> None:
    cases.audit_cases(get_session(), current_user, [yp.id], object_type=object_type)


def _choices() -> dict[str, Any]:
    """Catalogues for the case form: towns, needs, modules, providers, offers, team colleagues' cases."""
    session = get_session()
    team_people = (
        session.exec(
            select(YoungPerson)
            .where(
                YoungPerson.team_id == current_user.team_id,
                YoungPerson.status.in_(cases.OPEN_CASE_STATUSES),
            )
            .order_by(YoungPerson.pseudonym)
        ).all()
        if current_user.team_id
        else []
    )
    modules = session.exec(select(Module).where(Module.active).order_by(Module.sort_order, Module.id)).all()
    return {
        "towns": session.exec(select(Municipality).order_by(Municipality.name)).all(),
        "categories": session.exec(select(Category).where(Category.active).order_by(Category.label)).all(),
        "modules": modules,
        "bands": {m.id: group_band(m) for m in modules},
        "providers": session.exec(select(Provider).where(Provider.active).order_by(Provider.name)).all(),
        "offers": session.exec(scope_offers(select(GroupOffer), current_user).order_by(GroupOffer.title)).all(),
        "team_people": team_people,
        "legal_bases": [b.value for b in LegalBasis],
        "priorities": PRIORITY_LABELS,
        "weekdays": WEEKDAYS,
        "genders": GENDER_LABELS,
    }


def _form_page(template: str, *, values: dict, errors: dict, status: int, **context: Any) -> tuple[str, int]:
    return render_template(template, values=values, errors=errors, **_choices(), **context), status


# --------------------------------------------------------------------------- list


@bp.route("/")
@require_role(*READERS)
def young_people() -> Response:
    """The team's young people with search (pseudonym, case reference) and filters (status, module)."""
    session = get_session()
    q = (request.args.get("q") or "").strip()[:40]
    status = request.args.get("status", "open")
    module_id = request.args.get("module", type=db_id)
    team_id = request.args.get("team", type=db_id) if has_role(current_user, Role.planner) else None
    query = scope_young_people(
        select(YoungPerson, Module).join(Module, Module.id == YoungPerson.module_id), current_user
    )
    if q:
        like = f"%{q.upper()}%"
        query = query.where(or_(YoungPerson.pseudonym.like(like), YoungPerson.case_reference.like(like)))
    if status == "open":
        query = query.where(YoungPerson.status.in_(cases.OPEN_CASE_STATUSES))
    elif status in STATUS_LABELS:
        query = query.where(YoungPerson.status == status)
    if module_id:
        query = query.where(YoungPerson.module_id == module_id)
    if team_id:
        query = query.where(YoungPerson.team_id == team_id)
    rows = session.exec(query.order_by(YoungPerson.priority.desc(), YoungPerson.pseudonym).limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    ids = [yp.id for yp, _ in rows]
    hours = monitoring.monthly_hours(session, [yp for yp, _ in rows], month_key(today_berlin()), today=today_berlin())
    cases.audit_cases(session, current_user, ids, object_type="young_person_list")
    context = {
        "rows": rows,
        "hours": {h.young_person_id: h for h in hours},
        "more": more,
        "q": q,
        "status": status,
        "module_id": module_id,
        "team_id": team_id,
        "modules": session.exec(select(Module).order_by(Module.sort_order, Module.id)).all(),
        "teams": session.exec(select(Team).order_by(Team.name)).all() if team_id is not None or has_role(
            current_user, Role.planner) else [],
        "status_labels": STATUS_LABELS,
        "flagged": _flagged_ids(ids),
    }  # fmt: skip
    return render_page("cases/list.html", "cases/partials/list_rows.html", **context)


def _flagged_ids(ids: list[int]) -> set[int]:
    from ..models import CaseFlag

    if not ids:
        return set()
    found = get_session().exec(
        select(CaseFlag.young_person_id).where(CaseFlag.young_person_id.in_(ids), CaseFlag.resolved_at.is_(None))
    )
    return set(found.all())


# --------------------------------------------------------------------------- register and edit


@bp.route("/neu", methods=["GET", "POST"])
@require_role(Role.caseworker)
@checks_text_fields
def new() -> Any:
    """Register an approved young person (pseudonymous: the system makes the pseudonym)."""
    if request.method == "GET":
        values = form_values(CaseFields(priority=1, max_travel_km=10.0))
        return _form_page("cases/form.html", values=values, errors={}, status=200, yp=None)
    fields, parse_errors = parse_case_form(request.form)
    if parse_errors:
        rule_errors = validate_case(get_session(), fields, team_id=current_user.team_id, today=today_berlin())
        errors = merge_errors(parse_errors, rule_errors)
        return _form_page("cases/form.html", values=raw_values(request.form), errors=errors, status=422, yp=None)
    try:
        yp = cases.register_young_person(get_session(), actor=current_user, fields=fields)
    except CaseError as exc:
        get_session().rollback()
        errors = merge_errors({}, exc.field_errors)
        return _form_page("cases/form.html", values=raw_values(request.form), errors=errors, status=422, yp=None)
    flash(f"Der junge Mensch wurde unter dem Pseudonym {yp.pseudonym} angelegt.", "success")
    return redirect(url_for("cases.detail", young_person_id=yp.id))


@bp.route("/pruefen", methods=["POST"])
@require_role(Role.caseworker)
@checks_text_fields
def check() -> str:
    """Live validation (htmx): the message for the field that just changed, or nothing."""
    name = request.headers.get("HX-Trigger-Name", "")
    fields, parse_errors = parse_case_form(request.form)
    young_person_id = request.args.get("fall", type=db_id)
    if young_person_id:
        yp = _case_or_abort(young_person_id, write=True)
        fields.module_id = yp.module_id
    rule_errors = validate_case(
        get_session(), fields, team_id=current_user.team_id, today=today_berlin(), young_person_id=young_person_id
    )
    errors = merge_errors(parse_errors, rule_errors)
    if name in ("lat", "lon"):
        name = "coordinates"
    if name.startswith("avail-"):
        name = "availability"
    return render_template("cases/partials/field_error.html", name=name, message=errors.get(name))


@bp.route("/<int:young_person_id>")
@require_role(*READERS)
def detail(young_person_id: int) -> str:
    """The case page: data, placements with status, open warnings, history and recent accesses."""
    session = get_session()
    yp = _case_or_abort(young_person_id)
    _audit_view(yp)
    from ..models import GroupOffer as Offer
    from ..models import KeepApart, OfferWish

    placements = cases.placements_of(session, yp.id)
    weekly = cases.weekly_group_minutes(session, yp.id)
    wishes = session.exec(
        select(OfferWish, Offer).join(Offer, Offer.id == OfferWish.offer_id).where(OfferWish.young_person_id == yp.id)
    ).all()
    pairs = session.exec(
        select(KeepApart).where(or_(KeepApart.young_person_a_id == yp.id, KeepApart.young_person_b_id == yp.id))
    ).all()
    partner_ids = [p.young_person_b_id if p.young_person_a_id == yp.id else p.young_person_a_id for p in pairs]
    partners = session.exec(select(YoungPerson).where(YoungPerson.id.in_(partner_ids))).all() if partner_ids else []
    accesses = session.exec(
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.case_id == yp.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(10)
    ).all()
    try:
        from ..placements import STATUS_LABELS as placement_labels
    except ImportError:  # the placements area is optional
        placement_labels = {}
    module = session.get(Module, yp.module_id)
    return render_template(
        "cases/detail.html",
        yp=yp,
        module=module,
        town=session.get(Municipality, yp.municipality_id),
        team=session.get(Team, yp.team_id),
        provider=session.get(Provider, yp.lead_provider_id) if yp.lead_provider_id else None,
        placements=placements,
        weekly=weekly,
        weekly_total=sum(weekly.values()),
        placement_labels=placement_labels,
        flags=cases.open_flags(session, yp.id),
        history=cases.case_history(session, yp.id),
        modules={m.id: m for m in session.exec(select(Module)).all()},
        wishes=wishes,
        partners=partners,
        accesses=accesses,
        status_labels=STATUS_LABELS,
        gender_labels=GENDER_LABELS,
        flag_texts=FLAG_TEXTS,
        event_labels=EVENT_LABELS,
        action_labels=ACTION_LABELS,
        priorities=PRIORITY_LABELS,
        weekdays=WEEKDAYS,
        can_write=has_role(current_user, Role.caseworker) and yp.status in cases.OPEN_CASE_STATUSES,
        age=today_berlin().year - yp.birth_year,
    )


@bp.route("/<int:young_person_id>/bearbeiten", methods=["GET", "POST"])
@require_role(Role.caseworker)
@checks_text_fields
def edit(young_person_id: int) -> Any:
    """Edit a case's data (the module is changed separately, with a reason)."""
    session = get_session()
    yp = _case_or_abort(young_person_id, write=True)
    module = session.get(Module, yp.module_id)
    if request.method == "GET":
        _audit_view(yp)
        values = form_values(cases.case_fields_of(session, yp))
        return _form_page("cases/form.html", values=values, errors={}, status=200, yp=yp, module=module)
    fields, parse_errors = parse_case_form(request.form)
    version = parse_int(request.form, "version", parse_errors, "Ungültige Version.")
    if parse_errors:
        fields.module_id = yp.module_id
        rule_errors = validate_case(session, fields, team_id=yp.team_id, today=today_berlin(), young_person_id=yp.id)
        errors = merge_errors(parse_errors, rule_errors)
        return _form_page(
            "cases/form.html", values=raw_values(request.form), errors=errors, status=422, yp=yp, module=module
        )
    try:
        cases.update_young_person(session, actor=current_user, young_person_id=yp.id, version=version, fields=fields)
    except CaseError as exc:
        session.rollback()
        errors = merge_errors({}, exc.field_errors)
        if "status" in errors:
            errors["form"] = errors.pop("status")
        yp = session.get(YoungPerson, young_person_id)
        return _form_page(
            "cases/form.html", values=raw_values(request.form), errors=errors, status=422, yp=yp, module=module
        )
    except CaseAccessError:
        abort(403)
    flash("Die Änderungen wurden gespeichert.", "success")
    return redirect(url_for("cases.detail", young_person_id=yp.id))


# --------------------------------------------------------------------------- module, crisis, end


def _action_page(template: str, yp: YoungPerson, *, errors: dict, status: int, **context: Any) -> tuple[str, int]:
    session = get_session()
    return (
        render_template(
            template,
            yp=yp,
            module=session.get(Module, yp.module_id),
            modules=session.exec(select(Module).where(Module.active).order_by(Module.sort_order, Module.id)).all(),
            errors=errors,
            values=request.form if request.method == "POST" else {},
            weekly_total=sum(cases.weekly_group_minutes(session, yp.id).values()),
            **context,
        ),
        status,
    )


def _run(action: Any, template: str, yp: YoungPerson, *, success: str, allowed: set[str]) -> Any:
    """Run a change use case for a small action form; 422 with the messages on CaseError."""
    errors = unexpected_fields(request.form, allowed | {"csrf_token"})
    errors = errors or refuse_control_characters(request.form, error_key=lambda name: name)[1]
    if not errors:
        try:
            action()
        except CaseError as exc:
            get_session().rollback()
            errors = dict(exc.field_errors)
        except CaseAccessError:
            abort(403)
    if errors:
        if "status" in errors:
            errors["form"] = errors.pop("status")
        return _action_page(template, get_session().get(YoungPerson, yp.id), errors=errors, status=422)
    flash(success, "success")
    return redirect(url_for("cases.detail", young_person_id=yp.id))


@bp.route("/<int:young_person_id>/modul", methods=["GET", "POST"])
@require_role(Role.caseworker)
@checks_text_fields
def change_module(young_person_id: int) -> Any:
    """Change the module (Hilfeplan): new group-hour defaults; over-maximum placements are flagged."""
    yp = _case_or_abort(young_person_id, write=True)
    if request.method == "GET":
        _audit_view(yp)
        return _action_page("cases/change_module.html", yp, errors={}, status=200)
    form_errors: dict[str, str] = {}
    module_id = parse_int(request.form, "module_id", form_errors, "Ungültige Auswahl.")
    risk = parse_date(request.form, "risk_report_at", form_errors, "Bitte geben Sie ein gültiges Datum an.")
    version = parse_int(request.form, "version", form_errors, "Ungültige Version.")
    if form_errors:
        return _action_page("cases/change_module.html", yp, errors=form_errors, status=422)
    return _run(
        lambda: cases.change_module(
            get_session(), actor=current_user, young_person_id=yp.id, module_id=module_id or 0,
            reason=request.form.get("reason", ""), risk_report_at=risk, version=version,
        ),
        "cases/change_module.html", yp, success="Das Modul wurde geändert.",
        allowed={"module_id", "risk_report_at", "reason", "version"},
    )  # fmt: skip


@bp.route("/<int:young_person_id>/krise-verlaengern", methods=["GET", "POST"])
@require_role(Role.caseworker)
@checks_text_fields
def extend_crisis(young_person_id: int) -> Any:
    """Extend a crisis intervention beyond its end, with a reason."""
    yp = _case_or_abort(young_person_id, write=True)
    if request.method == "GET":
        _audit_view(yp)
        errors = {} if yp.crisis_ends_on else {"form": "Nur eine laufende Krisenintervention kann verlängert werden."}
        return _action_page("cases/extend_crisis.html", yp, errors=errors, status=200)
    form_errors: dict[str, str] = {}
    until = parse_date(request.form, "until", form_errors, "Bitte geben Sie ein gültiges Datum an.")
    if form_errors:
        return _action_page("cases/extend_crisis.html", yp, errors=form_errors, status=422)
    return _run(
        lambda: cases.extend_crisis(
            get_session(), actor=current_user, young_person_id=yp.id, until=until, reason=request.form.get("reason", "")
        ),
        "cases/extend_crisis.html", yp, success="Die Krisenintervention wurde verlängert.",
        allowed={"until", "reason"},
    )  # fmt: skip


@bp.route("/<int:young_person_id>/beenden", methods=["GET", "POST"])
@require_role(Role.caseworker)
@checks_text_fields
def end(young_person_id: int) -> Any:
    """End the help: placements end and free their seats, open requests are withdrawn."""
    yp = _case_or_abort(young_person_id, write=True)
    if request.method == "GET":
        _audit_view(yp)
        return _action_page("cases/end.html", yp, errors={}, status=200)
    form_errors: dict[str, str] = {}
    version = parse_int(request.form, "version", form_errors, "Ungültige Version.")
    if form_errors:
        return _action_page("cases/end.html", yp, errors=form_errors, status=422)
    return _run(
        lambda: cases.end_case(
            get_session(), actor=current_user, young_person_id=yp.id, reason=request.form.get("reason", ""),
            version=version,
        ),
        "cases/end.html", yp, success="Die Hilfe wurde beendet.", allowed={"reason", "version"},
    )  # fmt: skip


@bp.route("/<int:young_person_id>/hinweise/<int:flag_id>/erledigt", methods=["POST"])
@require_role(Role.caseworker)
def resolve_flag(young_person_id: int, flag_id: int) -> Response:
    """Mark a warning as dealt with."""
    yp = _case_or_abort(young_person_id, write=True)
    try:
        cases.resolve_flag(get_session(), actor=current_user, young_person_id=yp.id, flag_id=flag_id)
    except LookupError:
        abort(404)
    flash("Der Hinweis wurde als erledigt markiert.", "success")
    return redirect(url_for("cases.detail", young_person_id=yp.id))


# --------------------------------------------------------------------------- monitoring


def _month_arg() -> tuple[str, dict[str, str]]:
    today = today_berlin()
    raw = request.args.get("monat") or month_key(today)
    try:
        return monitoring.parse_month(raw, today=today), {}
    except CaseError as exc:
        return month_key(today), exc.field_errors


@bp.route("/monitoring", endpoint="monitoring")
@require_role(*READERS)
def monitoring_page() -> Any:
    """Monthly care hours of the team against the module band; under- and over-served lists."""
    session = get_session()
    month, errors = _month_arg()
    team_id = request.args.get("team", type=db_id) if has_role(current_user, Role.planner) else None
    rows = monitoring.team_monitoring(session, user=current_user, month=month, team_id=team_id)
    cases.audit_cases(session, current_user, [r.young_person_id for r in rows], object_type="monitoring")
    under, over = monitoring.served_lists(rows)
    html = render_template(
        "cases/monitoring.html",
        rows=rows, under=under, over=over, month=month, errors=errors, team_id=team_id,
        current_month=month_key(today_berlin()),
        month_date=date(int(month[:4]), int(month[5:]), 1),
        teams=session.exec(select(Team).order_by(Team.name)).all() if has_role(current_user, Role.planner) else [],
    )  # fmt: skip
    return (html, 422) if errors else html


@bp.route("/monitoring/export.<any(csv, xlsx):fmt>")
@require_role(*READERS)
def monitoring_export(fmt: str) -> Response:
    """The month's monitoring table as CSV or XLSX (formula injection neutralised)."""
    session = get_session()
    month, errors = _month_arg()
    if errors:
        abort(422)
    team_id = request.args.get("team", type=db_id) if has_role(current_user, Role.planner) else None
    rows = monitoring.team_monitoring(session, user=current_user, month=month, team_id=team_id)
    cases.audit_cases(session, current_user, [r.young_person_id for r in rows], action="export")
    if fmt == "csv":
        response = make_response(monitoring.export_csv(rows))
        response.mimetype = "text/csv"
        response.charset = "utf-8"
    else:
        response = make_response(monitoring.export_xlsx(rows, month))
        response.mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response.headers["Content-Disposition"] = f'attachment; filename="monitoring-{month}.{fmt}"'
    return response


# --------------------------------------------------------------------------- individual hours (coordinators)


@bp.route("/einzelstunden", methods=["GET", "POST"])
@require_role(Role.coordinator)
def individual_hours() -> Any:
    """The lead provider's coordinator reports individual hours per young person and month (pseudonyms only)."""
    session = get_session()
    month, month_errors = _month_arg()
    errors: dict[str, str] = dict(month_errors)
    saved_id = None
    status = 200
    if request.method == "POST":
        young_person_id = parse_int(request.form, "young_person_id", errors, "Ungültige Auswahl.") or 0
        yp = session.get(YoungPerson, young_person_id)
        if yp is None or yp.lead_provider_id != current_user.provider_id:
            abort(404)
        errors.update(unexpected_fields(request.form, {"csrf_token", "young_person_id", "month", "hours"}))
        minutes = parse_hours(request.form, "hours", errors)
        month = request.form.get("month", "")
        if not errors:
            try:
                monitoring.record_individual_hours(
                    session, actor=current_user, young_person_id=yp.id, month=month, minutes=minutes
                )
                saved_id = yp.id
            except CaseError as exc:
                session.rollback()
                errors.update(exc.field_errors)
        if errors:
            status = 422
            if "hours" in errors:
                errors[f"hours-{yp.id}"] = errors.pop("hours")
            if "minutes" in errors:
                errors[f"hours-{yp.id}"] = errors.pop("minutes")
        if wants_fragment() and "month" not in errors:
            row = _hours_rows(month, [yp])[0]
            html = render_template("cases/partials/hours_row.html", row=row, month=month, errors=errors,
                                   saved=saved_id == yp.id, typed=request.form.get("hours", ""))  # fmt: skip
            return html, status
        try:
            month = monitoring.parse_month(month, today=today_berlin())
        except CaseError:
            month = month_key(today_berlin())
    people = monitoring.lead_provider_people(session, user=current_user, month=month)
    cases.audit_cases(session, current_user, [p.id for p in people], object_type="individual_hours_list")
    html = render_template(
        "cases/individual_hours.html",
        rows=_hours_rows(month, people), month=month, errors=errors, saved_id=saved_id,
        month_date=date(int(month[:4]), int(month[5:]), 1),
    )  # fmt: skip
    return html, status


def _hours_rows(month: str, people: list[YoungPerson]) -> list[dict[str, Any]]:
    session = get_session()
    recorded = monitoring.individual_minutes(session, [p.id for p in people], month)
    group = monitoring.attended_group_minutes(session, [p.id for p in people], month)
    modules = {m.id: m for m in session.exec(select(Module)).all()}
    return [
        {
            "id": p.id,
            "pseudonym": p.pseudonym,
            "module": modules[p.module_id].name,
            "minutes": recorded.get(p.id),
            "group_minutes": group.get(p.id, 0),
        }  # fmt: skip
        for p in people
    ]
