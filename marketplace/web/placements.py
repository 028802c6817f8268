"""Placement requests and placements on the web (Belegung, blueprint `placements`, /belegung).

Caseworkers start a request from a young person, see the explained options at once, confirm
one (htmx), follow the status and keep the team's waiting list; coordinators answer the
confirmed placements of their groups (accept, or decline with a reason); both see the status
history; everybody has a notifications page, its unread count shows in the header.

Thin views: parse the form, call `marketplace.placements`, render. Need to know: the request
pages are the caseworker's own team only; a placement page is for the team, planning and the
hosting provider, who sees pseudonym, age, needs and region only (after accepting also the
caseworker to talk to). Bad input: the page again with a German message and 422; a step the
state no longer allows (seat gone, answered meanwhile): 409. Nothing is written then.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import notify
from .. import placement_queries as queries
from .. import placements as cases
from ..access import MAX_ID, can_view_young_person, ensure, get_or_404, has_role, require_login, require_role
from ..audit import audit
from ..db import get_session
from ..models import (
    SEAT_HOLDING_STATUSES,
    AuditAction,
    GroupOffer,
    Module,
    Placement,
    PlacementRequest,
    Provider,
    RequestStatus,
    Role,
    Variant,
    YoungPerson,
)
from ..placements import END_REASON_LABELS, REQUEST_STATUS_LABELS, STATUS_LABELS, PlacementError
from .rendering import render_page, wants_fragment
from .security import is_htmx, safe_next

bp = Blueprint("placements", __name__, url_prefix="/belegung")

CASEWORKER = Role.caseworker
COORDINATOR = Role.coordinator
#: Request list filters: URL value → (statuses, German label).
REQUEST_FILTERS: dict[str, tuple[tuple[str, ...], str]] = {
    "aktiv": ((RequestStatus.open.value, RequestStatus.waiting.value), "Offen und Warteliste"),
    "warteliste": ((RequestStatus.waiting.value,), "Warteliste"),
    "erledigt": ((RequestStatus.fulfilled.value, RequestStatus.cancelled.value), "Erledigt"),
}
HOLDING = {s.value for s in SEAT_HOLDING_STATUSES}


@bp.app_context_processor
def _unread_notifications() -> dict[str, Any]:
    """The header's unread count (only for logged-in users; a failure never breaks a page)."""
    if not getattr(current_user, "is_authenticated", False):
        return {"unread_notifications": 0}
    try:
        return {"unread_notifications": notify.unread_count(get_session(), current_user.id)}
    except Exception:  # the layout must render even when the database hiccups (error pages!)
        return {"unread_notifications": 0}


@bp.app_template_filter("placement_status")
def placement_status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "–")


@bp.app_template_filter("request_status")
def request_status_label(status: str | None) -> str:
    return REQUEST_STATUS_LABELS.get(status or "", status or "–")


def _fail(error: PlacementError) -> None:
    """Turn the use case's access errors into 404/403 (other refusals are the caller's to render)."""
    get_session().rollback()
    if isinstance(error, cases.PlacementNotFound):
        abort(404)
    if isinstance(error, cases.PlacementForbidden):
        abort(403)


# --------------------------------------------------------------------------- caseworker: requests


def _team_person(young_person_id: int) -> YoungPerson:
    person = get_or_404(get_session(), YoungPerson, young_person_id)
    ensure(can_view_young_person(current_user, person))
    return person


@bp.route("/neu/<int:young_person_id>", methods=["GET", "POST"])
@require_role(CASEWORKER)
def new_request(young_person_id: int) -> Response | tuple[str, int]:
    """Start a placement request for a young person of the own team; POST computes the proposal."""
    session = get_session()
    person = _team_person(young_person_id)
    note = request.form.get("note", "") if request.method == "POST" else ""
    if request.method == "POST":
        try:
            result = cases.request_placement(session, young_person_id=person.id, actor=current_user, note=note)
        except PlacementError as error:
            _fail(error)
            return _new_page(person, note, error.message, 422)
        if result.waiting:
            flash("Derzeit passt keine Gruppe. Die Anfrage steht auf der Warteliste des Teams.", "warning")
        return redirect(url_for(".request_detail", request_id=result.request.id), 303)
    audit(session, current_user, AuditAction.view, "placement_request_form", person.id, case_id=person.id)
    session.commit()
    return _new_page(person, note, None, 200)


def _new_page(person: YoungPerson, note: str, error: str | None, status: int) -> tuple[str, int]:
    session = get_session()
    open_request = queries.open_request_of(session, person.id)
    return render_template(
        "placements/new.html", person=person, module=session.get(Module, person.module_id),
        placements=queries.person_placements(session, person.id), open_request=open_request,
        note=note, error=error,
    ), status  # fmt: skip


@bp.route("/anfragen")
@require_role(CASEWORKER)
def requests() -> str:
    """The team's requests: open ones and the waiting list (oldest first), or the finished ones."""
    key = request.args.get("status", "aktiv")
    statuses, label = REQUEST_FILTERS.get(key, REQUEST_FILTERS["aktiv"])
    session = get_session()
    rows = queries.team_requests(session, team_id=current_user.team_id, statuses=statuses)
    proposals = queries.team_proposals(session, team_id=current_user.team_id)
    for row in rows:
        audit(session, current_user, AuditAction.view, "placement_request_list", row.request.id, case_id=row.person.id)
    for placement_row, _offer, person in proposals:
        audit(session, current_user, AuditAction.view, "placement_proposal_list", placement_row.id, case_id=person.id)
    session.commit()
    return render_page(
        "placements/requests.html",
        "placements/partials/request_rows.html",
        rows=rows,
        proposals=proposals,
        filters=REQUEST_FILTERS,
        current=key if key in REQUEST_FILTERS else "aktiv",
        label=label,
    )


@bp.route("/vorschlaege/<int:placement_id>/bestaetigen", methods=["POST"])
@require_role(CASEWORKER)
def confirm_proposal(placement_id: int) -> Response:
    """Confirm a proposal of the nightly run (same checks and seat guard as an option)."""
    variant = request.form.get("variant", "") or None
    if variant is not None and variant not in {v.value for v in Variant}:
        abort(422, "Bitte wählen Sie Variante A oder B.")
    try:
        placement = cases.confirm_proposal(
            get_session(), placement_id=placement_id, actor=current_user, variant=variant
        )
    except PlacementError as error:
        _fail(error)
        flash(error.message, "error")
        return redirect(url_for(".requests"), 303)
    title = get_session().get(GroupOffer, placement.offer_id).title
    flash(f"Vorschlag „{title}“ bestätigt; der Träger wurde benachrichtigt.", "success")
    return redirect(url_for(".requests"), 303)


@bp.route("/vorschlaege/<int:placement_id>/verwerfen", methods=["POST"])
@require_role(CASEWORKER)
def dismiss_proposal(placement_id: int) -> Response:
    """Dismiss a proposal of the nightly run."""
    try:
        cases.dismiss_proposal(get_session(), placement_id=placement_id, actor=current_user)
    except PlacementError as error:
        _fail(error)
        flash(error.message, "error")
        return redirect(url_for(".requests"), 303)
    flash("Der Vorschlag wurde verworfen.", "success")
    return redirect(url_for(".requests"), 303)


def _request_page(
    request_id: int, *, alert: str | None = None, alert_kind: str = "error", status: int = 200
) -> tuple[str, int]:
    session = get_session()
    try:
        result = cases.request_proposal(session, request_id=request_id, actor=current_user)
    except PlacementError as error:
        _fail(error)
        raise
    person = session.get(YoungPerson, result.request.young_person_id)
    context = {
        "result": result, "req": result.request, "person": person,
        "module": session.get(Module, person.module_id),
        "placements": queries.request_placements(session, result.request.id),
        "alert": alert, "alert_kind": alert_kind, "variants": [v.value for v in Variant],
    }  # fmt: skip
    return render_page("placements/request.html", "placements/partials/request_body.html", **context), status


@bp.route("/anfragen/<int:request_id>")
@require_role(CASEWORKER)
def request_detail(request_id: int) -> tuple[str, int]:
    """A request: the best options explained, or why nothing fits; then the placements' status."""
    return _request_page(request_id)


def _parse_option(raw: str) -> list[int] | None:
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        return None
    return ids if ids and all(0 < i <= MAX_ID for i in ids) and len(ids) <= 10 else None


@bp.route("/anfragen/<int:request_id>/bestaetigen", methods=["POST"])
@require_role(CASEWORKER)
def confirm(request_id: int) -> Response | tuple[str, int]:
    """Confirm one option (htmx: the request's body is swapped); all or nothing."""
    session = get_session()
    get_or_404(session, PlacementRequest, request_id)
    offer_ids = _parse_option(request.form.get("option", ""))
    variant = request.form.get("variant", "") or None
    if offer_ids is None:
        return _request_page(request_id, alert="Bitte wählen Sie eine der angezeigten Optionen.", status=422)
    if variant is not None and variant not in {v.value for v in Variant}:
        return _request_page(request_id, alert="Bitte wählen Sie Variante A oder B.", status=422)
    try:
        placements = cases.confirm_option(
            session, request_id=request_id, offer_ids=offer_ids, actor=current_user, variant=variant
        )
    except PlacementError as error:
        _fail(error)
        return _request_page(request_id, alert=error.message, status=409)
    titles = ", ".join(f"„{session.get(GroupOffer, p.offer_id).title}“" for p in placements)
    message = f"Bestätigt: {titles}. Der Träger wurde benachrichtigt und muss die Belegung noch annehmen."
    if is_htmx():
        return _request_page(request_id, alert=message, alert_kind="success")
    flash(message, "success")
    return redirect(url_for(".request_detail", request_id=request_id), 303)


@bp.route("/anfragen/<int:request_id>/zurueckziehen", methods=["POST"])
@require_role(CASEWORKER)
def cancel(request_id: int) -> Response | tuple[str, int]:
    """Withdraw an open or waiting request."""
    try:
        cases.cancel_request(get_session(), request_id=request_id, actor=current_user)
    except PlacementError as error:
        _fail(error)
        return _request_page(request_id, alert=error.message, status=409)
    flash("Die Anfrage wurde zurückgezogen.", "success")
    return redirect(url_for(".requests"), 303)


# --------------------------------------------------------------------------- a placement


def _visible_placement(placement_id: int) -> tuple[Placement, GroupOffer, YoungPerson, bool]:
    """The placement and whether the user sees it as the host (pseudonym-level only); 403 for others."""
    session = get_session()
    placement = get_or_404(session, Placement, placement_id)
    offer = session.get(GroupOffer, placement.offer_id)
    person = session.get(YoungPerson, placement.young_person_id)
    if can_view_young_person(current_user, person):
        return placement, offer, person, False
    ensure(has_role(current_user, Role.coordinator) and current_user.provider_id == offer.provider_id)
    return placement, offer, person, True


def _placement_page(
    placement_id: int,
    *,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> tuple[str, int]:
    session = get_session()
    placement, offer, person, as_host = _visible_placement(placement_id)
    audit(session, current_user, AuditAction.view, "placement", placement.id, case_id=person.id)
    session.commit()
    by_host = as_host or (has_role(current_user, Role.coordinator) and current_user.provider_id == offer.provider_id)
    may_end = placement.status in HOLDING and (by_host or has_role(current_user, Role.caseworker))
    context = {
        "placement": placement, "offer": offer, "provider": session.get(Provider, offer.provider_id),
        "person": person, "as_host": as_host, "view": queries.pseudonym_view(session, person),
        "history": queries.history(session, placement.id), "may_end": may_end,
        "may_answer": by_host and placement.status == "confirmed",
        "contact": queries.caseworker_contact(session, person) if placement.status in ("accepted", "ended") else None,
        "end_reasons": END_REASON_LABELS, "errors": errors or {}, "alert": alert, "form": form or {},
    }  # fmt: skip
    return render_template("placements/placement.html", **context), status


@bp.route("/belegungen/<int:placement_id>")
@require_role(CASEWORKER, COORDINATOR, Role.planner)
def placement(placement_id: int) -> tuple[str, int]:
    """One placement: status, history, and the steps the user may take."""
    return _placement_page(placement_id)


@bp.route("/belegungen/<int:placement_id>/beenden", methods=["POST"])
@require_role(CASEWORKER, COORDINATOR)
def end(placement_id: int) -> Response | tuple[str, int]:
    """End a running placement for a reason (frees the seat)."""
    _visible_placement(placement_id)
    reason, note = request.form.get("reason", ""), request.form.get("note", "")
    form = {"reason": reason, "note": note}
    if reason not in END_REASON_LABELS:
        return _placement_page(placement_id, errors={"reason": "Bitte wählen Sie einen Grund."}, status=422, form=form)
    try:
        cases.end_placement(get_session(), placement_id=placement_id, actor=current_user, reason=reason, note=note)
    except PlacementError as error:
        _fail(error)
        field = "note" if "Erläuterung" in error.message else None
        if field:
            return _placement_page(placement_id, errors={field: error.message}, status=422, form=form)
        return _placement_page(placement_id, alert=error.message, status=409, form=form)
    flash("Die Belegung wurde beendet; der Platz ist wieder frei.", "success")
    return redirect(url_for(".placement", placement_id=placement_id), 303)


# --------------------------------------------------------------------------- coordinator: answers


def _pending_page(
    *, errors: dict[int, str] | None = None, alert: str | None = None, status: int = 200
) -> tuple[str, int]:
    session = get_session()
    rows = queries.pending_for_provider(session, provider_id=current_user.provider_id)
    for row in rows:
        audit(
            session,
            current_user,
            AuditAction.view,
            "pending_placement_list",
            row.placement.id,
            case_id=row.person.young_person_id,
        )
    session.commit()
    return render_page(
        "placements/pending.html", "placements/partials/pending_body.html", rows=rows, errors=errors or {}, alert=alert
    ), status


@bp.route("/offen")
@require_role(COORDINATOR)
def pending() -> tuple[str, int]:
    """Confirmed placements in the provider's groups waiting for an answer."""
    return _pending_page()


def _back(placement_id: int) -> Response:
    target = safe_next(request.form.get("next")) or url_for(".pending")
    return redirect(target, 303)


@bp.route("/belegungen/<int:placement_id>/annehmen", methods=["POST"])
@require_role(COORDINATOR)
def accept(placement_id: int) -> Response | tuple[str, int]:
    """Accept a confirmed placement into one of the provider's groups."""
    try:
        cases.accept_placement(get_session(), placement_id=placement_id, actor=current_user)
    except PlacementError as error:
        _fail(error)
        return _pending_page(alert=error.message, status=409)
    flash("Die Belegung wurde angenommen; die fallführende Fachkraft wurde benachrichtigt.", "success")
    return _back(placement_id)


@bp.route("/belegungen/<int:placement_id>/ablehnen", methods=["POST"])
@require_role(COORDINATOR)
def decline(placement_id: int) -> Response | tuple[str, int]:
    """Decline a confirmed placement; the reason is required and goes to the caseworker."""
    try:
        cases.decline_placement(
            get_session(), placement_id=placement_id, actor=current_user, reason=request.form.get("reason", "")
        )
    except PlacementError as error:
        _fail(error)
        if "Ablehnungsgrund" in error.message:
            return _pending_page(errors={placement_id: error.message}, status=422)
        return _pending_page(alert=error.message, status=409)
    flash("Die Belegung wurde abgelehnt; der Platz ist wieder frei.", "success")
    return _back(placement_id)


# --------------------------------------------------------------------------- notifications


@bp.route("/benachrichtigungen")
@require_login
def notifications() -> str:
    """The user's notifications, unread first."""
    rows = notify.notifications_for(get_session(), current_user.id)
    return render_page("placements/notifications.html", "placements/partials/notification_list.html", rows=rows)


@bp.route("/benachrichtigungen/gelesen", methods=["POST"])
@require_login
def mark_read() -> Response | str:
    """Mark one notification (field `id`) or all of them read; htmx gets the list again."""
    raw = request.form.get("id", "")
    if raw and not (raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID):
        abort(400, "Ungültige Benachrichtigung.")
    notify.mark_read(get_session(), user_id=current_user.id, notification_id=int(raw) if raw else None)
    if wants_fragment():
        rows = notify.notifications_for(get_session(), current_user.id)
        return render_template("placements/partials/notification_list.html", rows=rows)
    return redirect(url_for(".notifications"), 303)
