"""API: group offers (Gruppenangebote) with sessions and certification state.

Same rules as the web UI: everyone sees the catalogue, coordinators also their own provider's
offers, planning and administration all (`access.scope_offers`/`can_view_offer`); only a
coordinator of the offering provider creates, edits, submits, publishes, pauses and ends
(`can_edit_offer`); only planning certifies, renews and rejects. The use cases of
`marketplace.offers` decide and write; this module only translates HTTP.
"""

from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask_login import current_user
from sqlmodel import select

from ... import offer_io
from ... import offers as offer_cases
from ...access import can_edit_offer, can_view_offer, can_view_provider_records, ensure, get_or_404, scope_offers
from ...db import get_session
from ...models import GroupOffer, Municipality, Provider, Role
from ...offer_input import check_offer, input_as_values
from ..problems import ApiProblem, FieldProblem, field_problems
from .http import Table, if_match_version
from .registry import ALL_ROLES, operation
from .respond import json_response, page_response, paginate, record_response, refused
from .schemas import (
    CategoryOut,
    Certification,
    CertifyBody,
    ImportResult,
    OfferBulk,
    OfferInput,
    OfferOut,
    OfferQuery,
    Page,
    ReasonBody,
    SessionOut,
    StatusStep,
)

TAG = "Angebote"
ID = "/<int(max=2147483647):offer_id>"
COORDINATOR, PLANNER = (Role.coordinator,), (Role.planner,)
#: Form field names of `check_offer` messages → API field names.
ALIASES = {"offset_rate": "offset_rate_cents", "categories": "category_ids", "coordinates": "lat"}


def offer_out(offer: GroupOffer, *, detail: bool = False) -> OfferOut:
    """The API view of an offer; the status history only for its provider and planning (detail only)."""
    session = get_session()
    provider = session.get(Provider, offer.provider_id)
    town = session.get(Municipality, offer.municipality_id)
    history = None
    if detail and can_view_provider_records(current_user, offer.provider_id):
        history = [StatusStep(at=h.at, from_status=h.from_status, to_status=h.to_status, actor=h.actor_name,
                              reason=h.reason, valid_until=h.valid_until)
                   for h in offer_cases.offer_state_history(session, offer_id=offer.id)]
    return OfferOut(
        id=offer.id, provider_id=offer.provider_id, provider_name=provider.name if provider else "",
        title=offer.title, description=offer.description, category_ids=[c.id for c in offer.categories],
        categories=[CategoryOut(id=c.id, code=c.code, label=c.label) for c in offer.categories],
        age_min=offer.age_min, age_max=offer.age_max, genders=offer.genders, first_date=offer.first_date,
        last_date=offer.last_date, municipality_id=offer.municipality_id, municipality_name=town.name if town else "",
        address=offer.address, lat=offer.lat, lon=offer.lon, seats=offer.seats, seats_taken=offer.seats_taken,
        seats_free=max(0, offer.seats - offer.seats_taken), min_size=offer.min_size, entry_mode=offer.entry_mode,
        staff_mix=offer.staff_mix, multi_professional=offer.multi_professional,
        offset_rate_cents=offer.offset_rate_cents,
        sessions=[SessionOut(id=s.id, weekday=s.weekday, start_minute=s.start_minute, end_minute=s.end_minute)
                  for s in offer.sessions],
        certification=Certification(status=offer.status, status_label=offer_cases.STATUS_LABELS.get(offer.status, ""),
                                    certified_until=offer.certified_until, rejection_reason=offer.rejection_reason),
        vacancy_confirmed_at=offer.vacancy_confirmed_at, version=offer.version,
        allowed_actions=sorted(offer_cases.allowed_actions(offer, current_user)), status_history=history,
    )


def _visible(offer_id: int) -> GroupOffer:
    offer = get_or_404(get_session(), GroupOffer, offer_id)
    ensure(can_view_offer(current_user, offer))
    return offer


def _own(offer_id: int) -> GroupOffer:
    offer = get_or_404(get_session(), GroupOffer, offer_id)
    ensure(can_edit_offer(current_user, offer))
    return offer


def _refused(error: offer_cases.OfferError) -> ApiProblem:
    get_session().rollback()
    return refused(error.field_errors, aliases=ALIASES, missing_keys=("offer",))


# --------------------------------------------------------------------------- read


@operation("/offers", roles=ALL_ROLES, tag=TAG, summary="Angebote auflisten", query=OfferQuery,
           response=Page[OfferOut], paginated=True)
def list_offers(params: OfferQuery) -> Any:
    """The offers you may see: the catalogue (published, paused), plus your provider's own offers
    (coordinators) or all offers (planning, administration). Ordered by id."""
    query = scope_offers(select(GroupOffer), current_user)
    if params.status is not None:
        query = query.where(GroupOffer.status == params.status.value)
    if params.provider_id is not None:
        query = query.where(GroupOffer.provider_id == params.provider_id)
    rows, info = paginate(get_session(), query.order_by(GroupOffer.id), params)
    return page_response([offer_out(o) for o in rows], info)


@operation(f"/offers{ID}", roles=ALL_ROLES, tag=TAG, summary="Ein Angebot", response=OfferOut, etag=True)
def get_offer(offer_id: int) -> Any:
    """One offer with sessions, categories and certification state; its provider and planning also see
    the status history. The `ETag` is the `If-Match` value for changes."""
    return record_response(offer_out(_visible(offer_id), detail=True), "offer")


# --------------------------------------------------------------------------- create and edit


@operation("/offers", method="POST", roles=COORDINATOR, tag=TAG, summary="Angebot anlegen (Entwurf)",
           body=OfferInput, response=OfferOut, status=201, etag=True)
def create_offer(payload: OfferInput) -> Any:
    """A new draft of your provider (Koordination). Nothing is published: submit it for certification."""
    try:
        offer = offer_cases.create_offer(get_session(), actor=current_user, data=payload)
    except offer_cases.OfferAccessError:
        abort(403)
    except offer_cases.OfferError as error:
        raise _refused(error) from None
    location = url_for("api.get_offer", offer_id=offer.id)
    return record_response(offer_out(offer, detail=True), "offer", 201, {"Location": location})


@operation(f"/offers{ID}", method="PUT", roles=COORDINATOR, tag=TAG, summary="Angebot ändern", body=OfferInput,
           response=OfferOut, etag=True, if_match=True)
def update_offer(offer_id: int, payload: OfferInput) -> Any:
    """Replace the offer's data (Koordination of the provider; needs `If-Match`). Changing essentials of a
    certified offer sends it back to certification. Session `id`s keep existing sessions (and their
    attendance); sessions left out are removed."""
    offer = _own(offer_id)
    version = if_match_version("offer", offer.id, offer.version)
    try:
        offer = offer_cases.update_offer(get_session(), actor=current_user, offer_id=offer.id, version=version,
                                         data=payload)
    except offer_cases.OfferAccessError:
        abort(403)
    except offer_cases.OfferError as error:
        raise _refused(error) from None
    return record_response(offer_out(offer, detail=True), "offer")


# --------------------------------------------------------------------------- state changes


def _step(offer: GroupOffer, use_case: Any, **kwargs: Any) -> Any:
    version = if_match_version("offer", offer.id, offer.version)
    try:
        changed = use_case(get_session(), actor=current_user, offer_id=offer.id, version=version, **kwargs)
    except offer_cases.OfferAccessError:
        abort(403)
    except offer_cases.OfferError as error:
        raise _refused(error) from None
    return record_response(offer_out(changed, detail=True), "offer")


def _transition(name: str, summary: str, roles: tuple[Role, ...], body: Any = None) -> Any:
    return operation(f"/offers{ID}/{name}", method="POST", roles=roles, tag=TAG, summary=summary, body=body,
                     response=OfferOut, etag=True, if_match=True)


@_transition("submit", "Zur Zertifizierung einreichen", COORDINATOR)
def submit_offer(offer_id: int) -> Any:
    """Submit a draft (or a corrected rejected offer) to Jugendamt planning."""
    return _step(_own(offer_id), offer_cases.submit_offer)


@_transition("publish", "Veröffentlichen", COORDINATOR)
def publish_offer(offer_id: int) -> Any:
    """Put a certified or paused offer into the catalogue (also confirms the free seats)."""
    return _step(_own(offer_id), offer_cases.publish_offer)


@_transition("pause", "Pausieren", COORDINATOR, ReasonBody)
def pause_offer(offer_id: int, payload: ReasonBody) -> Any:
    """Take a published offer out of new bookings for a while (existing placements stay)."""
    return _step(_own(offer_id), offer_cases.pause_offer, reason=payload.reason)


@_transition("end", "Beenden", COORDINATOR, ReasonBody)
def end_offer(offer_id: int, payload: ReasonBody) -> Any:
    """End a certified, published or paused offer for good."""
    return _step(_own(offer_id), offer_cases.end_offer, reason=payload.reason)


@_transition("certify", "Zertifizieren", PLANNER, CertifyBody)
def certify_offer(offer_id: int, payload: CertifyBody) -> Any:
    """Jugendamt planning certifies a submitted offer until `valid_until`."""
    return _step(_visible(offer_id), offer_cases.certify_offer, valid_until=payload.valid_until)


@_transition("renew", "Zertifizierung verlängern", PLANNER, CertifyBody)
def renew_certification(offer_id: int, payload: CertifyBody) -> Any:
    """Jugendamt planning extends a running certification (the offer keeps its status)."""
    return _step(_visible(offer_id), offer_cases.renew_certification, valid_until=payload.valid_until)


@_transition("reject", "Ablehnen", PLANNER, ReasonBody)
def reject_offer(offer_id: int, payload: ReasonBody) -> Any:
    """Jugendamt planning rejects a submitted offer; the reason (at least 5 characters) goes to the provider."""
    return _step(_visible(offer_id), offer_cases.reject_offer, reason=payload.reason)


@operation(f"/offers{ID}/confirm-vacancy", method="POST", roles=COORDINATOR, tag=TAG,
           summary="Freie Plätze bestätigen", response=OfferOut, etag=True)
def confirm_vacancy(offer_id: int) -> Any:
    """The coordinator confirms that the free seats shown are right (keeps the offer fresh; no If-Match:
    it changes no data another system could have edited)."""
    offer = _own(offer_id)
    try:
        offer = offer_cases.confirm_vacancy(get_session(), actor=current_user, offer_id=offer.id)
    except offer_cases.OfferError as error:
        raise _refused(error) from None
    return record_response(offer_out(offer, detail=True), "offer")


# --------------------------------------------------------------------------- bulk import


@operation("/offers/import", method="POST", roles=COORDINATOR, tag=TAG, summary="Angebote importieren",
           body=OfferBulk, body_csv=True, response=ImportResult, status=201)
def import_offers(payload: list[OfferInput] | Table) -> Any:
    """Many drafts at once, as a JSON array of `OfferInput` or as a CSV table (`Content-Type: text/csv`,
    the columns of the offer import in the web UI). All or nothing: when any row has a problem, nothing is
    written and `errors` lists every problem with its `row` (JSON: position in the array from 1; CSV: the
    spreadsheet row, the header is row 1)."""
    session = get_session()
    if isinstance(payload, Table):
        try:
            created = offer_io.import_offers(session, actor=current_user, filename=payload.filename,
                                             data=payload.data)
        except offer_io.OfferImportDenied:
            abort(403)
        except offer_io.OfferImportError as error:
            raise ApiProblem(422, "Die Tabelle wurde nicht importiert; es wurde nichts gespeichert.",
                             errors=[_row_problem(e) for e in error.errors]) from None
    else:
        problems = []
        for index, data in enumerate(payload):
            errors = check_offer(session, input_as_values(data))
            problems += field_problems(errors, aliases=ALIASES, row=index + 1, prefix=f"/{index}")
        if problems:
            raise ApiProblem(422, "Die Angebote wurden nicht importiert; es wurde nichts gespeichert.",
                             errors=problems)
        try:
            created = offer_io.create_drafts(session, actor=current_user,
                                             offers=[(i + 1, data) for i, data in enumerate(payload)], source="API")
        except offer_io.OfferImportDenied:
            abort(403)
        except offer_io.OfferImportError as error:
            raise ApiProblem(422, errors=[_row_problem(e) for e in error.errors]) from None
    return json_response(ImportResult(created=len(created), ids=[o.id for o in created]), 201)


def _row_problem(error: offer_io.RowError) -> FieldProblem:
    return FieldProblem(message=error.message, field=error.column, row=error.row)
