"""Placement requests and placements (Belegungsanfragen, Belegungen): the use cases.

A caseworker requests group hours for a young person (`request_placement`) and sees the
engine's best options at once (`marketplace.proposals`); nothing fitting puts the request
on the waiting list with the reasons. Confirming an option (`confirm_option`) takes the
seats through the database's seat guard in the same transaction as the placements, so
two confirmations can never overfill a group; the hosting provider's coordinator then
accepts (`accept_placement`) or declines with a reason (`decline_placement`, frees the
seat). `end_placement` ends a running placement for a recorded reason and frees the seat.

Every transition writes a `PlacementEvent` (who, when, why) and an audit row, notifies the
other party (`marketplace.notify`) and commits; a refused one raises `PlacementError`
with a German message and writes nothing. Confirmed and accepted placements are pinned for
the solver (`marketplace.snapshot` reads the statuses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from . import seats
from .access import can_view_young_person, has_role
from .audit import audit
from .matching.problem import ineligibility, sessions_overlap
from .models import (
    SEAT_HOLDING_STATUSES,
    AuditAction,
    GroupOffer,
    Placement,
    PlacementEvent,
    PlacementRequest,
    PlacementSource,
    PlacementStatus,
    Provider,
    RequestStatus,
    Role,
    SharedUse,
    User,
    Variant,
    YoungPerson,
)
from .notify import notify
from .proposals import ProposedOption, propose_options
from .snapshot_cache import cached_snapshot
from .timeutil import utcnow

OPEN_REQUEST_STATUSES = (RequestStatus.open.value, RequestStatus.waiting.value)
_HOLDING = tuple(s.value for s in SEAT_HOLDING_STATUSES)


class PlacementError(Exception):
    """A use case refused; `message` says why in German, for the person who tried."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PlacementNotFound(PlacementError):
    """The request or placement does not exist (web: 404)."""


class PlacementForbidden(PlacementError):
    """The actor may not do this to this record (web: 403)."""


class EndReason(StrEnum):
    """Why a placement ends (Beendigungsgrund)."""

    help_ended = "help_ended"
    module_changed = "module_changed"
    moved_away = "moved_away"
    other = "other"


END_REASON_LABELS: dict[str, str] = {
    EndReason.help_ended.value: "Hilfe beendet",
    EndReason.module_changed.value: "Modul geändert",
    EndReason.moved_away.value: "Umzug",
    EndReason.other.value: "Sonstiger Grund",
}

STATUS_LABELS: dict[str, str] = {
    PlacementStatus.proposed.value: "vorgeschlagen",
    PlacementStatus.confirmed.value: "bestätigt, wartet auf Annahme",
    PlacementStatus.accepted.value: "angenommen",
    PlacementStatus.declined.value: "abgelehnt",
    PlacementStatus.ended.value: "beendet",
}

REQUEST_STATUS_LABELS: dict[str, str] = {
    RequestStatus.open.value: "offen",
    RequestStatus.waiting.value: "Warteliste",
    RequestStatus.fulfilled.value: "erfüllt",
    RequestStatus.cancelled.value: "zurückgezogen",
}

MAX_REASON_LENGTH = 500


@dataclass
class RequestResult:
    """A request with its instant proposal: up to three options, or the reasons nothing fits."""

    request: PlacementRequest
    options: list[ProposedOption] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        return self.request.status == RequestStatus.waiting.value


def request_link(request_id: int) -> str:
    """Path of a request's page (the web blueprint serves it there; a test keeps them in step)."""
    return f"/belegung/anfragen/{request_id}"


def pending_link() -> str:
    return "/belegung/offen"


# --------------------------------------------------------------------------- requests


def request_placement(
    session: Session, *, young_person_id: int, actor: Any, note: str | None = None, today: date | None = None
) -> RequestResult:
    """Ask for group hours for a young person and compute the instant proposal.

    An open or waiting request of the same person is reused (one waiting-list entry per
    person). With no fitting option the request is `waiting` and keeps the reasons in
    `waiting_reasons` (one a line) for the nightly run and the demand report. Commits.
    """
    person = _person_for_caseworker(session, young_person_id, actor)
    if person.status != "active":
        raise PlacementError("Für eine beendete Hilfe kann kein Platz angefragt werden.")
    note = _clean(note, "Die Notiz", required=False)
    request = session.exec(
        select(PlacementRequest)
        .where(PlacementRequest.young_person_id == person.id, PlacementRequest.status.in_(OPEN_REQUEST_STATUSES))
        .order_by(PlacementRequest.id.desc())
    ).first()
    created = request is None
    if request is None:
        request = PlacementRequest(young_person_id=person.id, requested_by=actor.id, created_at=utcnow())
    if note:
        request.note = note
    proposal = propose_options(session, young_person_id=person.id, today=today)
    if proposal.options:
        request.status, request.waiting_reasons = RequestStatus.open.value, None
    else:
        request.status = RequestStatus.waiting.value
        request.waiting_reasons = "\n".join(proposal.reasons) or "Keine passende Gruppe gefunden."
    session.add(request)
    session.flush()
    audit(
        session,
        actor,
        AuditAction.create if created else AuditAction.update,
        "placement_request",
        request.id,
        case_id=person.id,
    )
    session.commit()
    return RequestResult(request=request, options=proposal.options, reasons=proposal.reasons)


def request_proposal(session: Session, *, request_id: int, actor: Any, today: date | None = None) -> RequestResult:
    """The live proposal for an existing request (read-only apart from the audit row of the view)."""
    request = _request_for_caseworker(session, request_id, actor)
    audit(session, actor, AuditAction.view, "placement_request", request.id, case_id=request.young_person_id)
    session.commit()
    if request.status not in OPEN_REQUEST_STATUSES:
        return RequestResult(request=request)
    proposal = propose_options(session, young_person_id=request.young_person_id, today=today)
    return RequestResult(request=request, options=proposal.options, reasons=proposal.reasons)


def cancel_request(session: Session, *, request_id: int, actor: Any) -> PlacementRequest:
    """Withdraw an open or waiting request (it leaves the waiting list). Commits."""
    request = _request_for_caseworker(session, request_id, actor)
    if request.status not in OPEN_REQUEST_STATUSES:
        raise PlacementError("Die Anfrage ist bereits abgeschlossen.")
    request.status, request.closed_at = RequestStatus.cancelled.value, utcnow()
    session.add(request)
    audit(session, actor, AuditAction.update, "placement_request", request.id, case_id=request.young_person_id)
    session.commit()
    return request


# --------------------------------------------------------------------------- confirm


def confirm_option(
    session: Session,
    *,
    request_id: int,
    offer_ids: Sequence[int],
    actor: Any,
    variant: str | None = None,
    today: date | None = None,
) -> list[Placement]:
    """Confirm one option of a request: confirmed placements in every offer of `offer_ids`.

    Re-validates the option against the current data (the person's approval, the offers'
    bookability, age, gender, needs, distance, times, wishes, hours maximum, overlaps,
    keep-apart), records the offset rate in force, takes the seats with the database's seat
    guard and, for a group of another provider than the lead provider, records a `SharedUse`
    in the cooperative `variant` (A by default; B only when both agreements allow co-use).
    All or nothing: if one seat is gone, nothing is written and the message names the group.
    """

    def run() -> tuple[list[Placement], list]:
        request = _request_for_caseworker(session, request_id, actor)
        if request.status not in OPEN_REQUEST_STATUSES:
            raise PlacementError("Die Anfrage ist bereits abgeschlossen; bitte stellen Sie eine neue Anfrage.")
        if not offer_ids or len(set(offer_ids)) != len(offer_ids):
            raise PlacementError("Bitte wählen Sie eine Option mit mindestens einer Gruppe.")
        person = session.get(YoungPerson, request.young_person_id)
        offers = [session.get(GroupOffer, offer_id) for offer_id in offer_ids]
        if any(o is None for o in offers):
            raise PlacementError("Eine der gewählten Gruppen gibt es nicht mehr. Bitte laden Sie die Vorschläge neu.")
        return _confirm(session, person, offers, request, actor, variant, today)

    return _confirm_atomically(session, run)


def confirm_proposal(
    session: Session, *, placement_id: int, actor: Any, variant: str | None = None, today: date | None = None
) -> Placement:
    """Confirm a proposal of the nightly run (status proposed) like an option: same checks, same seat guard.

    The young person's open request, if any, is fulfilled by it.
    """

    def run() -> tuple[list[Placement], list]:
        placement = _placement_or_404(session, placement_id)
        person = _person_for_caseworker(session, placement.young_person_id, actor)
        if placement.status != PlacementStatus.proposed.value:
            raise PlacementError("Dieser Vorschlag ist nicht mehr offen. Bitte laden Sie die Seite neu.")
        request = session.exec(
            select(PlacementRequest)
            .where(PlacementRequest.young_person_id == person.id, PlacementRequest.status.in_(OPEN_REQUEST_STATUSES))
            .order_by(PlacementRequest.id.desc())
        ).first()
        return _confirm(session, person, [session.get(GroupOffer, placement.offer_id)], request, actor, variant, today)

    return _confirm_atomically(session, run)[0]


def dismiss_proposal(session: Session, *, placement_id: int, actor: Any) -> Placement:
    """The caseworker does not want a proposal of the nightly run: it ends (no seat was held). Commits."""
    placement = _placement_or_404(session, placement_id)
    person = _person_for_caseworker(session, placement.young_person_id, actor)
    reason = "Vorschlag von der Fachkraft verworfen"
    _transition(
        session, placement, PlacementStatus.proposed, PlacementStatus.ended, ended_at=utcnow(), end_reason=reason
    )
    _event(session, placement, PlacementStatus.proposed.value, PlacementStatus.ended.value, actor, reason)
    audit(session, actor, AuditAction.update, "placement", placement.id, case_id=person.id)
    session.commit()
    return placement


def _confirm_atomically(session: Session, run: Any) -> list[Placement]:
    """Run a confirmation, notify, commit; on any refusal roll everything back (nothing half-written)."""
    try:
        placements, notices = run()
        for users, text, subject, mail_text in notices:
            notify(session, users=users, text=text, link=pending_link(), subject=subject, mail_text=mail_text)
        session.commit()
    except PlacementError:
        session.rollback()
        raise
    except IntegrityError:
        session.rollback()
        raise PlacementError(
            "Die Belegung konnte nicht gespeichert werden, weil sich die Daten gerade geändert haben "
            "(z. B. ist die junge Person dort schon belegt). Bitte laden Sie die Seite neu."
        ) from None
    return placements


def _confirm(
    session: Session,
    person: YoungPerson,
    offers: list[GroupOffer],
    request: PlacementRequest | None,
    actor: Any,
    variant: str | None,
    today: date | None,
) -> tuple[list[Placement], list]:
    if variant not in (None, "", *[v.value for v in Variant]):
        raise PlacementError("Unbekannte Kooperationsvariante: bitte A oder B wählen.")
    _validate(session, person, offers, today)
    lead = session.get(Provider, person.lead_provider_id) if person.lead_provider_id else None
    shared = [o for o in offers if lead is not None and o.provider_id != lead.id]
    chosen_variant = (variant or Variant.A.value) if shared else None
    if chosen_variant == Variant.B.value:
        for offer in shared:
            host = session.get(Provider, offer.provider_id)
            if not (host.allows_co_use and lead.allows_co_use):
                raise PlacementError(
                    f"Variante B (integrierte Leistung) ist für „{offer.title}“ nicht möglich: "
                    "die Vereinbarungen beider Träger müssen die gegenseitige Mitnutzung vorsehen. "
                    "Bitte wählen Sie Variante A (ergänzende Leistung)."
                )
    now = utcnow()
    placements, notices = [], []
    for offer in offers:
        if not seats.take_seat(session, offer.id):
            raise PlacementError(
                f"Die Gruppe „{offer.title}“ ist inzwischen voll: der letzte Platz wurde gerade vergeben. "
                "Es wurde nichts gespeichert. Bitte laden Sie die Vorschläge neu."
            )
        placement = _existing_proposal(session, person.id, offer.id) or Placement(
            young_person_id=person.id, offer_id=offer.id, source=PlacementSource.caseworker.value, created_at=now
        )
        before = placement.status if placement.id else None
        placement.request_id = request.id if request is not None else placement.request_id
        placement.status = PlacementStatus.confirmed.value
        placement.confirmed_at = now
        placement.offset_rate_cents = offer.offset_rate_cents
        placement.variant = chosen_variant if offer in shared else None
        placement.version = (placement.version or 0) + 1 if before else 1
        session.add(placement)
        session.flush()
        if offer in shared:
            session.add(
                SharedUse(
                    placement_id=placement.id,
                    host_provider_id=offer.provider_id,
                    lead_provider_id=lead.id,
                    variant=chosen_variant,
                    rate_cents=offer.offset_rate_cents,
                    recorded_at=now,
                )
            )
        _event(session, placement, before, PlacementStatus.confirmed.value, actor, "Option bestätigt")
        audit(session, actor, AuditAction.create, "placement", placement.id, case_id=person.id)
        placements.append(placement)
        text = f"Neue Belegung: {person.pseudonym} in „{offer.title}“ – bitte annehmen oder ablehnen."
        notices.append(
            (coordinators_of(session, offer.provider_id), text, f"Gruppenbörse: neue Belegung in „{offer.title}“", text)
        )
    if request is not None:
        request.status, request.closed_at, request.waiting_reasons = RequestStatus.fulfilled.value, now, None
        session.add(request)
    return placements, notices


def _existing_proposal(session: Session, young_person_id: int, offer_id: int) -> Placement | None:
    """An open proposal (e.g. from the solver) for the same person and group is confirmed in place."""
    return session.exec(
        select(Placement).where(
            Placement.young_person_id == young_person_id,
            Placement.offer_id == offer_id,
            Placement.status == PlacementStatus.proposed.value,
        )
    ).first()


def _validate(session: Session, person: YoungPerson, offers: list[GroupOffer], today: date | None) -> None:
    """Raise `PlacementError` unless every offer may take the person now (matching rules 1, 3-6)."""
    snapshot = cached_snapshot(session, today=today)
    problem = snapshot.problem
    y = problem.people.get(snapshot.person_key(person.id))
    if y is None:
        raise PlacementError(
            f"Für {person.pseudonym} liegt heute keine aktive Bewilligung vor; eine Belegung ist nicht möglich."
        )
    titles = {snapshot.group_key(o.id): o.title for o in offers}

    def title(key: str) -> str:
        if key not in titles:
            row = session.get(GroupOffer, snapshot.offer_id(key))
            titles[key] = row.title if row is not None else key
        return titles[key]

    chosen = []
    for offer in offers:
        key = snapshot.group_key(offer.id)
        g = problem.groups.get(key)
        if key in y.pinned:
            raise PlacementError(f"{person.pseudonym} ist in „{offer.title}“ bereits fest belegt.")
        if g is None or (not g.open_for_new and key not in y.current):
            raise PlacementError(
                f"„{offer.title}“ nimmt derzeit niemanden neu auf (nicht veröffentlicht, nicht zertifiziert, "
                "beendet oder eine geschlossene Gruppe, die schon begonnen hat)."
            )
        code = ineligibility(y, g)
        if code is not None:
            raise PlacementError(_ineligible_text(code, offer, person.pseudonym, y.age))
        chosen.append(g)
    pinned = [problem.groups[k] for k in y.pinned]
    minutes = sum(g.minutes for g in pinned + chosen)
    if minutes / 60.0 > y.max_hours + 1e-9:
        raise PlacementError(
            f"Zusammen mit den bestehenden Gruppen wären es {_hours(minutes / 60.0)} Gruppenstunden pro Woche; "
            f"das Maximum für {person.pseudonym} ist {_hours(y.max_hours)}."
        )
    for n, g in enumerate(chosen):
        for other in pinned + chosen[n + 1 :]:
            if sessions_overlap(g, other):
                raise PlacementError(f"Die Termine von „{title(g.id)}“ überschneiden sich mit „{title(other.id)}“.")
    members: dict[str, set[str]] = {}
    for pid, gids in snapshot.pinned_assignments().items():
        for gid in gids:
            members.setdefault(gid, set()).add(pid)
    for g in chosen:
        for other in members.get(g.id, set()) - {y.id}:
            if other in y.avoid_with or y.id in problem.people[other].avoid_with:
                raise PlacementError(
                    f"In „{title(g.id)}“ ist eine junge Person, mit der {person.pseudonym} "
                    "nicht zusammen in eine Gruppe soll."
                )


def _ineligible_text(code: str, offer: GroupOffer, pseudonym: str, age: int | None) -> str:
    title = f"„{offer.title}“"
    texts = {
        "too_young": f"{title} ist für {offer.age_min}–{offer.age_max} Jahre; {pseudonym} ist {age}.",
        "too_old": f"{title} ist für {offer.age_min}–{offer.age_max} Jahre; {pseudonym} ist {age}.",
        "gender": f"{title} steht nur für ein anderes Geschlecht offen.",
        "needs": f"{title} deckt keinen Bedarf von {pseudonym} ab.",
        "distance": f"{title} liegt außerhalb der zumutbaren Entfernung für {pseudonym}.",
        "excluded": f"{title} wurde für {pseudonym} ausgeschlossen (Wunsch- und Wahlrecht).",
        "times": f"Die Termine von {title} liegen außerhalb der freien Zeiten von {pseudonym}.",
    }
    return texts.get(code, f"{title} passt nicht zu {pseudonym}.")


def _hours(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{text} Std."


# --------------------------------------------------------------------------- provider's answer


def accept_placement(session: Session, *, placement_id: int, actor: Any) -> Placement:
    """The hosting provider's coordinator accepts a confirmed placement. Commits."""
    placement, offer, person = _placement_for_host(session, placement_id, actor)
    _transition(session, placement, PlacementStatus.confirmed, PlacementStatus.accepted, accepted_at=utcnow())
    _event(session, placement, PlacementStatus.confirmed.value, PlacementStatus.accepted.value, actor, None)
    audit(session, actor, AuditAction.update, "placement", placement.id, case_id=person.id)
    text = f"„{offer.title}“ hat die Belegung von {person.pseudonym} angenommen."
    notify(
        session,
        users=caseworkers_of(session, person),
        text=text,
        link=request_link(placement.request_id) if placement.request_id else None,
        subject=f"Gruppenbörse: Belegung angenommen ({person.pseudonym})",
    )
    session.commit()
    return placement


def decline_placement(session: Session, *, placement_id: int, actor: Any, reason: str) -> Placement:
    """The hosting provider's coordinator declines a confirmed placement with a reason; frees the seat.

    The request goes back to the team's open requests unless another of its placements holds a seat
    or the person has another open request already (one waiting-list entry per person).
    """
    placement, offer, person = _placement_for_host(session, placement_id, actor)
    reason = _clean(reason, "Der Ablehnungsgrund", required=True)
    _transition(session, placement, PlacementStatus.confirmed, PlacementStatus.declined, decline_reason=reason)
    if not seats.release_seat(session, offer.id):
        seats.recount_seats(session, offer.id)  # the counter had drifted; repair it from the rows
    _event(session, placement, PlacementStatus.confirmed.value, PlacementStatus.declined.value, actor, reason)
    audit(session, actor, AuditAction.update, "placement", placement.id, case_id=person.id)
    _reopen_request(session, placement)
    notify(
        session,
        users=caseworkers_of(session, person),
        text=f"„{offer.title}“ hat die Belegung von {person.pseudonym} abgelehnt. Grund: {reason}",
        mail_text=f"„{offer.title}“ hat die Belegung von {person.pseudonym} abgelehnt. "
        "Den Grund sehen Sie in der Gruppenbörse.",
        link=request_link(placement.request_id) if placement.request_id else None,
        subject=f"Gruppenbörse: Belegung abgelehnt ({person.pseudonym})",
    )
    session.commit()
    return placement


def end_placement(
    session: Session, *, placement_id: int, actor: Any, reason: str, note: str | None = None
) -> Placement:
    """End a confirmed or accepted placement and free its seat; records why (`EndReason` + note).

    Allowed for the young person's caseworker (own team) and the hosting provider's coordinator;
    the other side is notified.
    """
    placement = _placement_or_404(session, placement_id)
    offer, person = session.get(GroupOffer, placement.offer_id), session.get(YoungPerson, placement.young_person_id)
    by_host = has_role(actor, Role.coordinator) and actor.provider_id == offer.provider_id
    if not (by_host or (has_role(actor, Role.caseworker) and can_view_young_person(actor, person))):
        raise PlacementForbidden("Sie dürfen diese Belegung nicht beenden.")
    if reason not in END_REASON_LABELS:
        raise PlacementError("Bitte wählen Sie einen Beendigungsgrund.")
    note = _clean(note, "Die Erläuterung", required=reason == EndReason.other.value)
    text_reason = END_REASON_LABELS[reason] + (f": {note}" if note else "")
    before = placement.status
    _transition(
        session, placement, SEAT_HOLDING_STATUSES, PlacementStatus.ended, ended_at=utcnow(), end_reason=text_reason
    )
    if not seats.release_seat(session, offer.id):
        seats.recount_seats(session, offer.id)
    _event(session, placement, before, PlacementStatus.ended.value, actor, text_reason)
    audit(session, actor, AuditAction.update, "placement", placement.id, case_id=person.id)
    recipients = caseworkers_of(session, person) if by_host else coordinators_of(session, offer.provider_id)
    notify(
        session,
        users=recipients,
        text=f"Die Belegung von {person.pseudonym} in „{offer.title}“ wurde beendet ({END_REASON_LABELS[reason]}).",
        subject=f"Gruppenbörse: Belegung beendet ({person.pseudonym})",
    )
    session.commit()
    return placement


def _transition(session: Session, placement: Placement, before: Any, after: PlacementStatus, **values: Any) -> None:
    """Move `placement` from `before` (a status or a tuple of them) to `after` atomically.

    A conditional UPDATE: if someone else changed the placement meanwhile, nothing happens and the
    caller gets a German message (so a seat is never released twice).
    """
    allowed = [getattr(s, "value", s) for s in (before if isinstance(before, tuple) else (before,))]
    if placement.status not in allowed:
        raise PlacementError(
            f"Das geht nur bei einer Belegung im Status „{' / '.join(STATUS_LABELS[s] for s in allowed)}“; "
            f"diese ist {STATUS_LABELS.get(placement.status, placement.status)}."
        )
    result = session.execute(
        update(Placement)
        .where(Placement.id == placement.id, Placement.status.in_(allowed), Placement.version == placement.version)
        .values(status=after.value, version=Placement.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise PlacementError("Die Belegung wurde gerade von jemand anderem geändert. Bitte laden Sie die Seite neu.")
    session.refresh(placement)


def _reopen_request(session: Session, placement: Placement) -> None:
    if placement.request_id is None:
        return
    request = session.get(PlacementRequest, placement.request_id)
    holding = session.exec(
        select(Placement.id).where(Placement.request_id == request.id, Placement.status.in_(_HOLDING))
    ).first()
    # a newer open or waiting request of the person is already their one entry on the waiting list
    newer = session.exec(
        select(PlacementRequest.id).where(
            PlacementRequest.young_person_id == request.young_person_id,
            PlacementRequest.id != request.id,
            PlacementRequest.status.in_(OPEN_REQUEST_STATUSES),
        )
    ).first()
    if request.status == RequestStatus.fulfilled.value and holding is None and newer is None:
        request.status, request.closed_at = RequestStatus.open.value, None
        session.add(request)


def _event(
    session: Session, placement: Placement, before: str | None, after: str, actor: Any, reason: str | None
) -> None:
    session.add(
        PlacementEvent(
            placement_id=placement.id,
            from_status=before,
            to_status=after,
            actor_id=getattr(actor, "id", None),
            at=utcnow(),
            reason=reason,
        )
    )


# --------------------------------------------------------------------------- lookups and access


def coordinators_of(session: Session, provider_id: int) -> list[User]:
    """The active coordinators of a provider (they receive its placement notices)."""
    return list(
        session.exec(
            select(User)
            .where(User.provider_id == provider_id, User.role == Role.coordinator.value, User.is_active.is_(True))
            .order_by(User.id)
        ).all()
    )


def caseworkers_of(session: Session, person: YoungPerson) -> list[User]:
    """The young person's caseworker, or every active caseworker of the team when none is set."""
    if person.caseworker_id is not None:
        user = session.get(User, person.caseworker_id)
        if user is not None and user.is_active:
            return [user]
    return list(
        session.exec(
            select(User)
            .where(User.team_id == person.team_id, User.role == Role.caseworker.value, User.is_active.is_(True))
            .order_by(User.id)
        ).all()
    )


def _person_for_caseworker(session: Session, young_person_id: int, actor: Any) -> YoungPerson:
    person = session.get(YoungPerson, young_person_id)
    if person is None:
        raise PlacementNotFound("Diese junge Person gibt es nicht.")
    if not (has_role(actor, Role.caseworker) and can_view_young_person(actor, person)):
        raise PlacementForbidden("Nur die fallführende Fachkraft des Teams kann hier Plätze anfragen.")
    return person


def _request_for_caseworker(session: Session, request_id: int, actor: Any) -> PlacementRequest:
    request = session.get(PlacementRequest, request_id)
    if request is None:
        raise PlacementNotFound("Diese Anfrage gibt es nicht.")
    _person_for_caseworker(session, request.young_person_id, actor)
    return request


def _placement_or_404(session: Session, placement_id: int) -> Placement:
    placement = session.get(Placement, placement_id)
    if placement is None:
        raise PlacementNotFound("Diese Belegung gibt es nicht.")
    return placement


def _placement_for_host(session: Session, placement_id: int, actor: Any) -> tuple[Placement, GroupOffer, YoungPerson]:
    placement = _placement_or_404(session, placement_id)
    offer = session.get(GroupOffer, placement.offer_id)
    if not (has_role(actor, Role.coordinator) and actor.provider_id == offer.provider_id):
        raise PlacementForbidden("Nur die Koordination des Trägers der Gruppe kann Belegungen annehmen oder ablehnen.")
    return placement, offer, session.get(YoungPerson, placement.young_person_id)


def _clean(text: str | None, what: str, *, required: bool) -> str | None:
    text = (text or "").strip()
    if required and not text:
        raise PlacementError(f"{what} fehlt: bitte kurz begründen.")
    if len(text) > MAX_REASON_LENGTH:
        raise PlacementError(f"{what} ist zu lang (höchstens {MAX_REASON_LENGTH} Zeichen).")
    return text or None
