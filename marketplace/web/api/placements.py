"""API: placement requests with the instant proposal, placements and their transitions.

Same rules as the web UI: requests are the caseworker's own team's (`marketplace.placements`
checks it on every call); a placement is visible to whoever sees the case and to the hosting
provider's coordinators, who see the young person at pseudonym level only
(`access.can_view_placement`/`scope_placements`). The caseworker confirms, the host accepts
or declines, either side ends. Every view of case data is audited, like the web pages.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_login import current_user
from sqlmodel import select

from ... import placement_queries as queries
from ... import placements as cases
from ...access import can_view_placement, ensure, get_or_404, scope_placements, scope_young_people
from ...audit import audit
from ...db import get_session
from ...models import AuditAction, GroupOffer, Placement, PlacementRequest, Role, YoungPerson
from ...proposals import ProposedOption
from ..problems import ApiProblem, FieldProblem
from .http import if_match_version
from .registry import operation
from .respond import json_response, page_response, paginate, record_response
from .schemas import (
    ConfirmBody,
    DeclineBody,
    EndBody,
    GroupFactsOut,
    OptionOut,
    Page,
    PlacementOut,
    PlacementQuery,
    PlacementRequestOut,
    PlacementStep,
    PseudonymOut,
    RequestBody,
    RequestQuery,
    VariantBody,
)

REQUESTS, PLACEMENTS = "Belegungsanfragen", "Belegungen"
REQUEST_ID = "/<int(max=2147483647):request_id>"
PLACEMENT_ID = "/<int(max=2147483647):placement_id>"
CASEWORKER, COORDINATOR = (Role.caseworker,), (Role.coordinator,)


def _problem(error: cases.PlacementError) -> ApiProblem:
    """A use case's refusal: 404 and 403 as in the web UI, anything else a conflict with the current state."""
    get_session().rollback()
    if isinstance(error, cases.PlacementNotFound):
        return ApiProblem(404, error.message)
    if isinstance(error, cases.PlacementForbidden):
        return ApiProblem(403, error.message)
    return ApiProblem(409, error.message)


# --------------------------------------------------------------------------- views of records


def option_out(option: ProposedOption) -> OptionOut:
    return OptionOut(
        rank=option.rank, offer_ids=list(option.offer_ids), headline=option.headline, lines=list(option.lines),
        feasible=option.feasible, notes=list(option.notes),
        groups=[GroupFactsOut(offer_id=g.offer_id, title=g.title, provider=g.provider, municipality=g.municipality,
                              sessions=g.sessions, hours=g.hours, km=g.km, needs_served=list(g.needs_served),
                              preferred=g.preferred, other_provider=g.other_provider,
                              offset_rate_cents=g.offset_rate_cents, seats=g.seats, free_seats=g.free_seats,
                              variant_b_allowed=g.variant_b_allowed, lines=list(g.lines)) for g in option.groups],
    )


def placement_out(placement: Placement, offer: GroupOffer, person: YoungPerson, *,
                  detail: bool = False) -> PlacementOut:
    """A placement; the young person at pseudonym level (what the hosting provider may see)."""
    session = get_session()
    view = queries.pseudonym_view(session, person)
    history = None
    if detail:
        history = [PlacementStep(at=h.event.at, from_status=h.event.from_status, to_status=h.event.to_status,
                                 actor=h.actor, reason=h.event.reason) for h in queries.history(session, placement.id)]
    return PlacementOut(
        id=placement.id, status=placement.status, status_label=cases.STATUS_LABELS.get(placement.status, ""),
        source=placement.source, offer_id=offer.id, offer_title=offer.title, provider_id=offer.provider_id,
        young_person=PseudonymOut(id=view.young_person_id, pseudonym=view.pseudonym, age=view.age,
                                  needs=list(view.needs), region=view.region),
        request_id=placement.request_id, variant=placement.variant, offset_rate_cents=placement.offset_rate_cents,
        created_at=placement.created_at, confirmed_at=placement.confirmed_at, accepted_at=placement.accepted_at,
        ended_at=placement.ended_at, end_reason=placement.end_reason, decline_reason=placement.decline_reason,
        version=placement.version, history=history,
    )


def request_out(request_row: PlacementRequest, person: YoungPerson, *, options: list[ProposedOption] | None = None,
                with_placements: bool = False) -> PlacementRequestOut:
    placements = None
    if with_placements:
        placements = [placement_out(p, o, person) for p, o in queries.request_placements(get_session(), request_row.id)]
    return PlacementRequestOut(
        id=request_row.id, young_person_id=person.id, pseudonym=person.pseudonym, status=request_row.status,
        status_label=cases.REQUEST_STATUS_LABELS.get(request_row.status, ""), note=request_row.note,
        waiting_reasons=[line for line in (request_row.waiting_reasons or "").splitlines() if line],
        created_at=request_row.created_at, closed_at=request_row.closed_at,
        options=[option_out(o) for o in options] if options is not None else None, placements=placements,
    )


# --------------------------------------------------------------------------- requests


@operation("/placement-requests", roles=CASEWORKER, tag=REQUESTS, summary="Anfragen des Teams",
           query=RequestQuery, response=Page[PlacementRequestOut], paginated=True)
def list_requests(params: RequestQuery) -> Any:
    """Your team's placement requests (the waiting list included), oldest first."""
    session = get_session()
    query = scope_young_people(
        select(PlacementRequest, YoungPerson).join(YoungPerson, YoungPerson.id == PlacementRequest.young_person_id),
        current_user)
    if params.status is not None:
        query = query.where(PlacementRequest.status == params.status.value)
    rows, info = paginate(session, query.order_by(PlacementRequest.created_at, PlacementRequest.id), params)
    for request_row, person in rows:
        audit(session, current_user, AuditAction.view, "placement_request_list", request_row.id, case_id=person.id)
    session.commit()
    return page_response([request_out(r, p) for r, p in rows], info)


@operation("/placement-requests", method="POST", roles=CASEWORKER, tag=REQUESTS,
           summary="Belegung anfragen (mit Sofortvorschlag)", body=RequestBody, response=PlacementRequestOut,
           status=201, alt_status=200)
def create_request(payload: RequestBody) -> Any:
    """Ask for group hours for a young person of your team. The answer carries the instant proposal: up to
    three explained options to confirm, or (status `waiting`) the reasons why no group fits yet. An open
    request of the same person is reused (then the status is 200)."""
    session = get_session()
    existing = session.get(YoungPerson, payload.young_person_id)
    if existing is None:
        raise ApiProblem(422, errors=[FieldProblem(message="Diese junge Person gibt es nicht.",
                                                   field="young_person_id", pointer="/young_person_id")])
    reused = queries.open_request_of(session, existing.id) is not None
    try:
        result = cases.request_placement(session, young_person_id=existing.id, actor=current_user,
                                         note=payload.note)
    except cases.PlacementError as error:
        raise _problem(error) from None
    body = request_out(result.request, existing, options=result.options, with_placements=True)
    location = url_for("api.get_request", request_id=result.request.id)
    return json_response(body, 200 if reused else 201, {"Location": location})


@operation(f"/placement-requests{REQUEST_ID}", roles=CASEWORKER, tag=REQUESTS, summary="Eine Anfrage",
           response=PlacementRequestOut)
def get_request(request_id: int) -> Any:
    """A request of your team with the live proposal (while open) and its placements."""
    session = get_session()
    try:
        result = cases.request_proposal(session, request_id=request_id, actor=current_user)
    except cases.PlacementError as error:
        raise _problem(error) from None
    person = session.get(YoungPerson, result.request.young_person_id)
    open_now = result.request.status in cases.OPEN_REQUEST_STATUSES
    return json_response(request_out(result.request, person, options=result.options if open_now else None,
                                     with_placements=True))


@operation(f"/placement-requests{REQUEST_ID}/confirm", method="POST", roles=CASEWORKER, tag=REQUESTS,
           summary="Option bestätigen", body=ConfirmBody, response=list[PlacementOut], status=201)
def confirm_request(request_id: int, payload: ConfirmBody) -> Any:
    """Confirm one option (its `offer_ids`): confirmed placements in every group of it, seats taken by the
    database's seat guard. All or nothing; a seat gone meanwhile is a 409 and nothing is written."""
    session = get_session()
    get_or_404(session, PlacementRequest, request_id)
    try:
        variant = payload.variant.value if payload.variant else None
        placements = cases.confirm_option(session, request_id=request_id, offer_ids=payload.offer_ids,
                                          actor=current_user, variant=variant)
    except cases.PlacementError as error:
        raise _problem(error) from None
    body = [placement_out(p, session.get(GroupOffer, p.offer_id), session.get(YoungPerson, p.young_person_id))
            for p in placements]
    return json_response([b.model_dump(mode="json") for b in body], 201)


# --------------------------------------------------------------------------- placements


def _visible(placement_id: int) -> tuple[Placement, GroupOffer, YoungPerson]:
    session = get_session()
    placement = get_or_404(session, Placement, placement_id)
    offer, person = session.get(GroupOffer, placement.offer_id), session.get(YoungPerson, placement.young_person_id)
    ensure(can_view_placement(current_user, offer, person))
    return placement, offer, person


@operation("/placements", roles=(Role.caseworker, Role.coordinator, Role.planner), tag=PLACEMENTS,
           summary="Belegungen auflisten", query=PlacementQuery, response=Page[PlacementOut], paginated=True)
def list_placements(params: PlacementQuery) -> Any:
    """Placements you may see: of your team's young people (ASD), in your provider's groups (Koordination,
    pseudonym level) or all (Jugendhilfeplanung). Newest first; audited per case."""
    session = get_session()
    query = scope_placements(
        select(Placement, GroupOffer, YoungPerson).join(GroupOffer, GroupOffer.id == Placement.offer_id)
        .join(YoungPerson, YoungPerson.id == Placement.young_person_id), current_user)
    if params.status is not None:
        query = query.where(Placement.status == params.status.value)
    if params.offer_id is not None:
        query = query.where(Placement.offer_id == params.offer_id)
    if params.young_person_id is not None:
        query = query.where(Placement.young_person_id == params.young_person_id)
    rows, info = paginate(session, query.order_by(Placement.id.desc()), params)
    for placement, _offer, person in rows:
        audit(session, current_user, AuditAction.view, "placement_list", placement.id, case_id=person.id)
    session.commit()
    return page_response([placement_out(p, o, y) for p, o, y in rows], info)


@operation(f"/placements{PLACEMENT_ID}", roles=(Role.caseworker, Role.coordinator, Role.planner), tag=PLACEMENTS,
           summary="Eine Belegung", response=PlacementOut, etag=True)
def get_placement(placement_id: int) -> Any:
    """One placement with its status history (audited). The `ETag` is the `If-Match` value for its steps."""
    placement, offer, person = _visible(placement_id)
    session = get_session()
    audit(session, current_user, AuditAction.view, "placement", placement.id, case_id=person.id)
    session.commit()
    return record_response(placement_out(placement, offer, person, detail=True), "placement")


def _step(placement_id: int, use_case: Any, **kwargs: Any) -> Any:
    placement, _offer, _person = _visible(placement_id)
    if_match_version("placement", placement.id, placement.version)
    session = get_session()
    try:
        result = use_case(session, placement_id=placement.id, actor=current_user, **kwargs)
    except cases.PlacementError as error:
        raise _problem(error) from None
    changed = session.get(Placement, result.id)
    session.refresh(changed)
    offer, person = session.get(GroupOffer, changed.offer_id), session.get(YoungPerson, changed.young_person_id)
    return record_response(placement_out(changed, offer, person, detail=True), "placement")


def _transition(name: str, summary: str, roles: tuple[Role, ...], body: Any = None) -> Any:
    return operation(f"/placements{PLACEMENT_ID}/{name}", method="POST", roles=roles, tag=PLACEMENTS,
                     summary=summary, body=body, response=PlacementOut, etag=True, if_match=True)


@_transition("accept", "Belegung annehmen", COORDINATOR)
def accept_placement(placement_id: int) -> Any:
    """The hosting provider's coordinator accepts a confirmed placement."""
    return _step(placement_id, cases.accept_placement)


@_transition("decline", "Belegung ablehnen", COORDINATOR, DeclineBody)
def decline_placement(placement_id: int, payload: DeclineBody) -> Any:
    """The hosting provider's coordinator declines a confirmed placement with a reason; the seat is freed."""
    return _step(placement_id, cases.decline_placement, reason=payload.reason)


@_transition("end", "Belegung beenden", (Role.caseworker, Role.coordinator), EndBody)
def end_placement(placement_id: int, payload: EndBody) -> Any:
    """End a confirmed or accepted placement (the case's team or the host); the seat is freed."""
    if payload.reason == cases.EndReason.other and not (payload.note or "").strip():
        raise ApiProblem(422, errors=[FieldProblem(message="Bitte erläutern Sie den sonstigen Grund.", field="note",
                                                   pointer="/note")])
    return _step(placement_id, cases.end_placement, reason=payload.reason.value, note=payload.note)


@_transition("confirm", "Vorschlag des Abgleichs bestätigen", CASEWORKER, VariantBody)
def confirm_proposal(placement_id: int, payload: VariantBody) -> Any:
    """Confirm a proposal of the nightly run (same checks and seat guard as an option)."""
    return _step(placement_id, cases.confirm_proposal, variant=payload.variant.value if payload.variant else None)


@_transition("dismiss", "Vorschlag verwerfen", CASEWORKER)
def dismiss_proposal(placement_id: int) -> Any:
    """Dismiss a proposal of the nightly run (no seat was held)."""
    return _step(placement_id, cases.dismiss_proposal)
