"""Group offers on the web (Gruppenangebote): editor, offer page, certification queue, My groups.

Thin views: parse the request, check access (deny by default: role on the route,
provider on the record), call `marketplace.offers` / `marketplace.placements`, render.
Bad input is answered with the page again, German messages at the fields and 422
(409 when the offer's state or version no longer allows the step); nothing is written then.
The editor validates live (`offers.validate`) and adds and removes weekly sessions
inline (`offers.sessions`) with htmx; without JavaScript the same buttons submit the form.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from .. import offers as offer_cases
from .. import placements as placement_cases
from ..access import can_edit_offer, can_view_offer, can_view_provider_records, ensure, get_or_404, require_role
from ..cases import audit_placement_members
from ..db import get_session
from ..models import Category, GroupOffer, Municipality, OfferStatus, OfferStatusEvent, Provider, Role
from ..my_groups import my_groups, next_session_dates
from ..offer_input import (
    FIELD_ERROR_KEYS,
    MAX_SESSIONS,
    RELATED_FIELDS,
    WEEKDAY_NAMES,
    FormState,
    SessionRow,
    form_state,
    minutes_label,
    parse_date,
    read_offer_form,
)
from ..offers import STATUS_LABELS, VACANCY_STALE_DAYS, OfferAccessError, OfferError
from ..timeutil import today_berlin, utcnow
from .rendering import render_page
from .security import is_htmx
from .text_guard import checks_text_fields

bp = Blueprint("offers", __name__, url_prefix="/angebote")

COORDINATOR = Role.coordinator
PLANNER = Role.planner
ALL = (Role.coordinator, Role.caseworker, Role.planner, Role.admin)


@bp.app_template_filter("offer_status")
def offer_status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "–")


@bp.app_template_filter("minutes")
def minutes_filter(minutes: int | None) -> str:
    return "–" if minutes is None else minutes_label(minutes)


def _stale_days() -> int:
    return int(current_app.config.get("VACANCY_STALE_DAYS", VACANCY_STALE_DAYS))


#: Largest id in a URL (route converters use the literal 2147483647): bigger numbers are simply not found,
#: instead of overflowing the database driver.
MAX_ID = 2**31 - 1


def _id_arg(name: str) -> int | None:
    """An optional record id from the query string; 404 when it is not a plausible id."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdecimal() or not 0 < int(raw) <= MAX_ID:
        abort(404)
    return int(raw)


def _offer_or_404(offer_id: int) -> GroupOffer:
    """The offer if the user may see it: 404 if it does not exist, 403 if it is someone else's."""
    offer = get_or_404(get_session(), GroupOffer, offer_id)
    ensure(can_view_offer(current_user, offer))
    return offer


def _own_offer(offer_id: int) -> GroupOffer:
    """The offer if the user is a coordinator of its provider (403 otherwise)."""
    offer = get_or_404(get_session(), GroupOffer, offer_id)
    ensure(can_edit_offer(current_user, offer))
    return offer


def _version() -> int | None:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return None


def _status_code(error: OfferError) -> int:
    return 409 if {"status", "version", "offer"} & error.field_errors.keys() else 422


# --------------------------------------------------------------------------- editor


def _choices() -> dict[str, Any]:
    session = get_session()
    return {
        "municipalities": list(session.scalars(select(Municipality).order_by(Municipality.name))),
        "categories": list(session.scalars(select(Category).where(Category.active).order_by(Category.label))),
        "weekdays": list(enumerate(WEEKDAY_NAMES)),
        "max_sessions": MAX_SESSIONS,
    }


def _state_of(offer: GroupOffer) -> FormState:
    """The editor's raw values for an existing offer."""
    euros = f"{offer.offset_rate_cents // 100},{offer.offset_rate_cents % 100:02d}"
    values = {
        "title": offer.title, "description": offer.description, "age_min": str(offer.age_min),
        "age_max": str(offer.age_max), "first_date": offer.first_date.isoformat(),
        "last_date": offer.last_date.isoformat() if offer.last_date else "",
        "municipality_id": str(offer.municipality_id), "address": offer.address,
        "lat": "" if offer.lat is None else f"{offer.lat:.5f}".replace(".", ","),
        "lon": "" if offer.lon is None else f"{offer.lon:.5f}".replace(".", ","),
        "seats": str(offer.seats), "min_size": str(offer.min_size), "entry_mode": offer.entry_mode,
        "staff_mix": offer.staff_mix, "offset_rate": euros,
        "genders": (offer.genders or "").split(",") if offer.genders else [],
        "categories": [str(c.id) for c in offer.categories], "multi_professional": offer.multi_professional,
    }
    rows = [SessionRow(weekday=str(s.weekday), start=minutes_label(s.start_minute),
                       end=minutes_label(s.end_minute), id=str(s.id)) for s in offer.sessions]
    return FormState(values=values, sessions=rows)


def _new_state() -> FormState:
    values = {"entry_mode": "open", "age_min": "", "age_max": "", "seats": "", "min_size": "1",
              "offset_rate": "", "genders": [], "categories": [], "first_date": today_berlin().isoformat()}
    return FormState(values=values, sessions=[SessionRow()])


def _apply_row_action(state: FormState, action: str) -> bool:
    """Add or remove a session row ("termin_hinzufuegen", "termin_entfernen:<i>"); True if one was asked."""
    if action == "termin_hinzufuegen":
        if len(state.sessions) < MAX_SESSIONS:
            state.sessions.append(SessionRow())
        return True
    if action.startswith("termin_entfernen:"):
        try:
            index = int(action.split(":", 1)[1])
        except ValueError:
            return True
        if 0 <= index < len(state.sessions):
            del state.sessions[index]
        if not state.sessions:
            state.sessions.append(SessionRow())
        return True
    return False


def _editor(state: FormState, *, offer: GroupOffer | None, status: int = 200) -> tuple[str, int]:
    return render_template("offers/edit.html", state=state, values=state.values, errors=state.errors,
                           offer=offer, offer_id=offer.id if offer else None, **_choices()), status


@bp.route("/neu", methods=["GET", "POST"])
@require_role(COORDINATOR)
@checks_text_fields
def new() -> Response | tuple[str, int]:
    """A new offer, saved as a draft (Entwurf); nothing is published."""
    if request.method != "POST":
        return _editor(_new_state(), offer=None)
    state = form_state(request.form)
    if _apply_row_action(state, request.form.get("aktion", "")):
        return _editor(state, offer=None)
    data, state.errors = read_offer_form(get_session(), state)
    if data is None:
        return _editor(state, offer=None, status=422)
    try:
        offer = offer_cases.create_offer(get_session(), actor=current_user, data=data)
    except OfferError as error:
        state.errors = error.field_errors
        return _editor(state, offer=None, status=_status_code(error))
    flash("Der Entwurf wurde gespeichert. Reichen Sie ihn zur Zertifizierung ein, wenn er fertig ist.", "success")
    return redirect(url_for("offers.detail", offer_id=offer.id))


@bp.route("/<int(max=2147483647):offer_id>/bearbeiten", methods=["GET", "POST"])
@require_role(COORDINATOR)
@checks_text_fields
def edit(offer_id: int) -> Response | tuple[str, int]:
    """Edit an own offer; a stale version is refused, essential changes send it back to review."""
    offer = _own_offer(offer_id)
    if offer.status == OfferStatus.ended.value:
        flash("Ein beendetes Angebot kann nicht mehr bearbeitet werden.", "warning")
        return redirect(url_for("offers.detail", offer_id=offer.id))
    if request.method != "POST":
        return _editor(_state_of(offer), offer=offer)
    state = form_state(request.form)
    if _apply_row_action(state, request.form.get("aktion", "")):
        return _editor(state, offer=offer)
    data, state.errors = read_offer_form(get_session(), state, seats_taken=offer.seats_taken)
    version = _version()
    if data is None or version is None:
        if version is None:
            state.errors["version"] = offer_cases.stale_message()
        return _editor(state, offer=offer, status=422)
    before = offer.status
    try:
        offer = offer_cases.update_offer(get_session(), actor=current_user, offer_id=offer.id, version=version,
                                         data=data)
    except OfferError as error:
        state.errors = error.field_errors
        return _editor(state, offer=get_session().get(GroupOffer, offer_id), status=_status_code(error))
    if before != offer.status == OfferStatus.submitted.value:
        flash("Gespeichert. Weil wesentliche Angaben geändert wurden, prüft die Jugendhilfeplanung das "
              "Angebot erneut; bis dahin ist es nicht im Katalog.", "warning")
    else:
        flash("Die Änderungen wurden gespeichert.", "success")
    return redirect(url_for("offers.detail", offer_id=offer.id))


@bp.route("/pruefen", methods=["POST"])
@require_role(COORDINATOR)
@checks_text_fields
def validate() -> tuple[str, int]:
    """Live validation of one editor field (htmx): its message slot (plus related ones), 422 on error."""
    field = request.args.get("feld", "")
    state = form_state(request.form)
    seats_taken = 0
    offer_id = _id_arg("angebot")
    if offer_id is not None:
        seats_taken = _own_offer(offer_id).seats_taken
    _, errors = read_offer_form(get_session(), state, seats_taken=seats_taken)
    key = FIELD_ERROR_KEYS.get(field, field)
    keys = list(RELATED_FIELDS.get(key, (key,)))
    if key == "sessions":
        keys += [f"sessions-{i}" for i in range(len(state.sessions))]
    main, others = key, [k for k in keys if k != key]
    for k in _untouched(state, keys, main):
        errors.pop(k, None)  # no message at a field the coordinator has not filled in yet
    body = render_template("offers/partials/field_messages.html", main=main, others=others, errors=errors,
                           offer_id=offer_id)
    return body, 422 if any(k in errors for k in keys) else 200


def _untouched(state: FormState, keys: list[str], main: str) -> list[str]:
    """Keys whose fields are still empty or half-filled: live validation stays quiet about them."""
    quiet = [k for k in keys if k != main and k in state.values and not state.values[k]]
    if main == "sessions":
        incomplete = [i for i, row in enumerate(state.sessions) if not (row.weekday and row.start and row.end)]
        quiet += [f"sessions-{i}" for i in incomplete]
        if incomplete:
            quiet.append("sessions")
    return quiet


@bp.route("/termine", methods=["POST"])
@require_role(COORDINATOR)
def sessions() -> tuple[str, int]:
    """The session list with a row added or removed (htmx; the rows' values come along)."""
    state = form_state(request.form)
    action = request.form.get("aktion", "")
    _apply_row_action(state, action)
    offer_id = _id_arg("angebot")
    if offer_id is not None:
        _own_offer(offer_id)
    return render_template("offers/partials/sessions.html", state=state, errors={}, offer_id=offer_id,
                           focus_last=action == "termin_hinzufuegen", **_choices()), 200


# --------------------------------------------------------------------------- offer page


def _detail_context(offer: GroupOffer) -> dict[str, Any]:
    session = get_session()
    internal = can_view_provider_records(current_user, offer.provider_id)
    today = today_berlin()
    return {
        "offer": offer,
        "provider": session.get(Provider, offer.provider_id),
        "municipality": session.get(Municipality, offer.municipality_id),
        "next_dates": next_session_dates(offer, today=today, count=6),
        "history": offer_cases.offer_state_history(session, offer_id=offer.id) if internal else [],
        "internal": internal,
        "actions": offer_cases.allowed_actions(offer, current_user, today=today),
        "stale": offer_cases.is_stale(offer, utcnow(), stale_days=_stale_days()),
        "default_valid_until": date(today.year + 1, today.month, min(today.day, 28)),
        "today": today,
    }


@bp.route("/<int(max=2147483647):offer_id>")
@require_role(*ALL)
def detail(offer_id: int) -> str:
    """The offer page: every field, seats taken and free, the next dates, and (internally) the history."""
    offer = _offer_or_404(offer_id)
    return render_template("offers/detail.html", errors={}, **_detail_context(offer))


def _detail_error(offer_id: int, error: OfferError) -> tuple[str, int]:
    get_session().rollback()
    offer = _offer_or_404(offer_id)
    return (render_template("offers/detail.html", errors=error.field_errors, **_detail_context(offer)),
            _status_code(error))


def _run_step(offer_id: int, step: Any, success: str, **kwargs: Any) -> Response | tuple[str, int]:
    """Call a state-change use case; on refusal show the offer page with the German message."""
    try:
        step(get_session(), actor=current_user, offer_id=offer_id, version=_version(), **kwargs)
    except OfferAccessError:
        abort(403)
    except OfferError as error:
        if request.form.get("zurueck") == "zertifizierung" and has_planner_role():
            return _queue_page(errors={offer_id: error.field_errors}, status=_status_code(error))
        return _detail_error(offer_id, error)
    flash(success, "success")
    if request.form.get("zurueck") == "zertifizierung":
        return redirect(url_for("offers.certification"))
    return redirect(url_for("offers.detail", offer_id=offer_id))


def has_planner_role() -> bool:
    return getattr(current_user, "role", None) == PLANNER.value


@bp.route("/<int(max=2147483647):offer_id>/einreichen", methods=["POST"])
@require_role(COORDINATOR)
def submit(offer_id: int) -> Response | tuple[str, int]:
    _own_offer(offer_id)
    return _run_step(offer_id, offer_cases.submit_offer,
                     "Das Angebot wurde zur Zertifizierung eingereicht. Die Jugendhilfeplanung wurde benachrichtigt.")


@bp.route("/<int(max=2147483647):offer_id>/veroeffentlichen", methods=["POST"])
@require_role(COORDINATOR)
def publish(offer_id: int) -> Response | tuple[str, int]:
    _own_offer(offer_id)
    return _run_step(offer_id, offer_cases.publish_offer, "Das Angebot ist jetzt im Katalog veröffentlicht.")


@bp.route("/<int(max=2147483647):offer_id>/pausieren", methods=["POST"])
@require_role(COORDINATOR)
def pause(offer_id: int) -> Response | tuple[str, int]:
    _own_offer(offer_id)
    return _run_step(offer_id, offer_cases.pause_offer,
                     "Das Angebot ist pausiert: Es nimmt keine neuen Belegungen an.",
                     reason=request.form.get("reason", ""))


@bp.route("/<int(max=2147483647):offer_id>/beenden", methods=["POST"])
@require_role(COORDINATOR)
def end(offer_id: int) -> Response | tuple[str, int]:
    _own_offer(offer_id)
    return _run_step(offer_id, offer_cases.end_offer, "Das Angebot wurde beendet.",
                     reason=request.form.get("reason", ""))


def _valid_until() -> date | None:
    raw = request.form.get("valid_until", "").strip()
    try:
        return parse_date(raw) if raw else None
    except ValueError:
        return None


@bp.route("/<int(max=2147483647):offer_id>/zertifizieren", methods=["POST"])
@require_role(PLANNER)
def certify(offer_id: int) -> Response | tuple[str, int]:
    _offer_or_404(offer_id)
    return _run_step(offer_id, offer_cases.certify_offer, "Das Angebot wurde zertifiziert.",
                     valid_until=_valid_until())


@bp.route("/<int(max=2147483647):offer_id>/verlaengern", methods=["POST"])
@require_role(PLANNER)
def renew(offer_id: int) -> Response | tuple[str, int]:
    _offer_or_404(offer_id)
    return _run_step(offer_id, offer_cases.renew_certification, "Die Zertifizierung wurde verlängert.",
                     valid_until=_valid_until())


@bp.route("/<int(max=2147483647):offer_id>/ablehnen", methods=["POST"])
@require_role(PLANNER)
def reject(offer_id: int) -> Response | tuple[str, int]:
    _offer_or_404(offer_id)
    return _run_step(offer_id, offer_cases.reject_offer,
                     "Das Angebot wurde abgelehnt; der Träger sieht die Begründung.",
                     reason=request.form.get("reason", ""))


# --------------------------------------------------------------------------- certification queue


def _queue_page(errors: dict[int, dict[str, str]] | None = None, status: int = 200) -> tuple[str, int]:
    session = get_session()
    today = today_berlin()
    submitted = list(session.scalars(select(GroupOffer).where(GroupOffer.status == OfferStatus.submitted.value)
                                     .order_by(GroupOffer.updated_at, GroupOffer.id)))
    soon = today.toordinal() + offer_cases.WARNING_DAYS
    expiring = [o for o in session.scalars(
        select(GroupOffer).where(GroupOffer.status.in_(offer_cases.CERTIFIED_STATUSES))
        .order_by(GroupOffer.certified_until)) if o.certified_until and o.certified_until.toordinal() <= soon]
    providers = {p.id: p for p in session.scalars(select(Provider))}
    towns = {m.id: m for m in session.scalars(select(Municipality))}
    submitted_at = dict(session.execute(
        select(OfferStatusEvent.offer_id, func.max(OfferStatusEvent.at))
        .where(OfferStatusEvent.offer_id.in_([o.id for o in submitted]),
               OfferStatusEvent.to_status == OfferStatus.submitted.value)
        .group_by(OfferStatusEvent.offer_id)).all())
    return render_template(
        "offers/certification.html", submitted=submitted, expiring=expiring, providers=providers, towns=towns,
        submitted_at=submitted_at,
        errors=errors or {}, default_valid_until=date(today.year + 1, today.month, min(today.day, 28)),
        today=today), status


@bp.route("/zertifizierung")
@require_role(PLANNER)
def certification() -> tuple[str, int]:
    """Planning's queue: submitted offers to certify or reject, and certifications ending soon."""
    return _queue_page()


# --------------------------------------------------------------------------- my groups


def _mine_page(decline_errors: dict[int, str] | None = None, status: int = 200,
               alert: str | None = None) -> tuple[str, int]:
    groups = my_groups(get_session(), provider_id=current_user.provider_id, today=today_berlin(), now=utcnow(),
                       stale_days=_stale_days())
    pending = [(group, member) for group in groups for member in group.pending]
    shown = [m.placement_id for group in groups for m in (*group.members, *group.pending)]
    audit_placement_members(get_session(), current_user, shown, object_type="group_member_list")
    return render_page("offers/mine.html", "offers/partials/mine_body.html", groups=groups, pending=pending,
                       decline_errors=decline_errors or {}, alert=alert,
                       stale_days=_stale_days()), status


@bp.route("/meine")
@require_role(COORDINATOR)
def mine() -> tuple[str, int]:
    """My groups: occupancy, vacancy freshness, pending placements and members (pseudonymous)."""
    return _mine_page()


@bp.route("/<int(max=2147483647):offer_id>/plaetze-bestaetigen", methods=["POST"])
@require_role(COORDINATOR)
def confirm_vacancy(offer_id: int) -> Response | tuple[str, int]:
    """Plätze bestätigen: the shown free seats are right (htmx: the group's freshness cell)."""
    _own_offer(offer_id)
    try:
        offer = offer_cases.confirm_vacancy(get_session(), actor=current_user, offer_id=offer_id)
    except OfferError as error:
        if is_htmx():
            return render_template("offers/partials/inline_error.html", message=next(
                iter(error.field_errors.values()))), 409
        return _mine_page(alert=next(iter(error.field_errors.values())), status=409)
    if is_htmx():
        return render_template("offers/partials/freshness.html", offer=offer, stale=False, just_confirmed=True), 200
    flash(f"Freie Plätze für „{offer.title}“ bestätigt.", "success")
    return redirect(url_for("offers.mine"))


def _placement_step(call: Any, placement_id: int, success: str, **kwargs: Any) -> Response | tuple[str, int]:
    try:
        call(get_session(), placement_id=placement_id, actor=current_user, **kwargs)
    except placement_cases.PlacementNotFound:
        abort(404)
    except placement_cases.PlacementForbidden:
        abort(403)
    except placement_cases.PlacementError as error:
        get_session().rollback()
        if "reason" in kwargs:
            return _mine_page(decline_errors={placement_id: error.message}, status=422)
        return _mine_page(alert=error.message, status=409)
    flash(success, "success")
    return redirect(url_for("offers.mine"))


@bp.route("/belegungen/<int(max=2147483647):placement_id>/annehmen", methods=["POST"])
@require_role(COORDINATOR)
def accept_placement(placement_id: int) -> Response | tuple[str, int]:
    """Accept a confirmed placement into one of the provider's groups."""
    return _placement_step(placement_cases.accept_placement, placement_id, "Die Belegung wurde angenommen.")


@bp.route("/belegungen/<int(max=2147483647):placement_id>/ablehnen", methods=["POST"])
@require_role(COORDINATOR)
def decline_placement(placement_id: int) -> Response | tuple[str, int]:
    """Decline a confirmed placement; a reason is required and goes to the caseworker."""
    return _placement_step(placement_cases.decline_placement, placement_id,
                           "Die Belegung wurde abgelehnt; die fallführende Fachkraft wurde informiert.",
                           reason=request.form.get("reason", ""))
