"""Read side of placements (Belegungen): the lists and histories the web pages show.

Need to know is built in: a provider's coordinator gets a `PseudonymView` of a young
person (pseudonym, age, needs, Sozialraum) and, after accepting, the caseworker to talk to;
never the case reference or anything else of the case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from .models import (
    GroupOffer,
    Municipality,
    Placement,
    PlacementEvent,
    PlacementRequest,
    PlacementStatus,
    Provider,
    Sozialraum,
    Team,
    User,
    YoungPerson,
)
from .placements import OPEN_REQUEST_STATUSES
from .timeutil import today_berlin


@dataclass(frozen=True)
class PseudonymView:
    """What a hosting provider may know before accepting: pseudonym, age, needs, region."""

    young_person_id: int
    pseudonym: str
    age: int
    needs: tuple[str, ...]
    region: str


@dataclass
class PlacementRow:
    placement: Placement
    offer: GroupOffer
    person: PseudonymView
    provider: Provider | None = None


@dataclass
class RequestRow:
    request: PlacementRequest
    person: YoungPerson
    placements: list[tuple[Placement, GroupOffer]] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryEntry:
    event: PlacementEvent
    actor: str  # display name, or "Solver" / "System"


def pseudonym_view(session: Session, person: YoungPerson, today: date | None = None) -> PseudonymView:
    today = today or today_berlin()
    town = session.get(Municipality, person.municipality_id)
    area = session.get(Sozialraum, town.sozialraum_id) if town is not None else None
    return PseudonymView(
        young_person_id=person.id,
        pseudonym=person.pseudonym,
        age=today.year - person.birth_year,
        needs=tuple(sorted(c.label for c in person.needs)),
        region=area.name if area is not None else "–",
    )


def team_requests(
    session: Session, *, team_id: int, statuses: tuple[str, ...] = OPEN_REQUEST_STATUSES, limit: int = 200
) -> list[RequestRow]:
    """The team's requests in `statuses`, oldest first (the waiting list is worked from the top)."""
    rows = session.exec(
        select(PlacementRequest, YoungPerson)
        .join(YoungPerson, YoungPerson.id == PlacementRequest.young_person_id)
        .where(YoungPerson.team_id == team_id, PlacementRequest.status.in_(statuses))
        .order_by(PlacementRequest.created_at, PlacementRequest.id)
        .limit(limit)
    ).all()
    result = [RequestRow(request=r, person=p) for r, p in rows]
    by_id = {row.request.id: row for row in result}
    if by_id:
        for placement, offer in session.exec(
            select(Placement, GroupOffer)
            .join(GroupOffer, GroupOffer.id == Placement.offer_id)
            .where(Placement.request_id.in_(by_id))
            .order_by(Placement.id)
        ).all():
            by_id[placement.request_id].placements.append((placement, offer))
    return result


def team_proposals(session: Session, *, team_id: int) -> list[tuple[Placement, GroupOffer, YoungPerson]]:
    """Open proposals of the nightly run for the team's young people (to confirm or dismiss)."""
    return list(
        session.exec(
            select(Placement, GroupOffer, YoungPerson)
            .join(GroupOffer, GroupOffer.id == Placement.offer_id)
            .join(YoungPerson, YoungPerson.id == Placement.young_person_id)
            .where(YoungPerson.team_id == team_id, Placement.status == PlacementStatus.proposed.value)
            .order_by(YoungPerson.priority.desc(), Placement.created_at, Placement.id)
        ).all()
    )


def open_request_of(session: Session, young_person_id: int) -> PlacementRequest | None:
    """The young person's open or waiting request, if any."""
    return session.exec(
        select(PlacementRequest)
        .where(PlacementRequest.young_person_id == young_person_id, PlacementRequest.status.in_(OPEN_REQUEST_STATUSES))
        .order_by(PlacementRequest.id.desc())
    ).first()


def request_placements(session: Session, request_id: int) -> list[tuple[Placement, GroupOffer]]:
    return list(
        session.exec(
            select(Placement, GroupOffer)
            .join(GroupOffer, GroupOffer.id == Placement.offer_id)
            .where(Placement.request_id == request_id)
            .order_by(Placement.id)
        ).all()
    )


def person_placements(session: Session, young_person_id: int) -> list[tuple[Placement, GroupOffer]]:
    """Every placement of a young person, newest first."""
    return list(
        session.exec(
            select(Placement, GroupOffer)
            .join(GroupOffer, GroupOffer.id == Placement.offer_id)
            .where(Placement.young_person_id == young_person_id)
            .order_by(Placement.id.desc())
        ).all()
    )


def pending_for_provider(session: Session, *, provider_id: int, today: date | None = None) -> list[PlacementRow]:
    """Confirmed placements in the provider's groups that wait for its answer, oldest first."""
    rows = session.exec(
        select(Placement, GroupOffer, YoungPerson)
        .join(GroupOffer, GroupOffer.id == Placement.offer_id)
        .join(YoungPerson, YoungPerson.id == Placement.young_person_id)
        .where(GroupOffer.provider_id == provider_id, Placement.status == PlacementStatus.confirmed.value)
        .options(selectinload(YoungPerson.needs))
        .order_by(Placement.confirmed_at, Placement.id)
    ).all()
    return [PlacementRow(placement=p, offer=o, person=pseudonym_view(session, y, today)) for p, o, y in rows]


def history(session: Session, placement_id: int) -> list[HistoryEntry]:
    """The placement's transitions, oldest first, with who made them."""
    rows = session.exec(
        select(PlacementEvent, User)
        .join(User, User.id == PlacementEvent.actor_id, isouter=True)
        .where(PlacementEvent.placement_id == placement_id)
        .order_by(PlacementEvent.at, PlacementEvent.id)
    ).all()
    return [HistoryEntry(event=e, actor=u.display_name if u is not None else "Solver") for e, u in rows]


def caseworker_contact(session: Session, person: YoungPerson) -> tuple[str, str] | None:
    """Name and e-mail of the responsible caseworker (shown to the host after acceptance), or the team."""
    if person.caseworker_id is not None:
        user = session.get(User, person.caseworker_id)
        if user is not None:
            return user.display_name, user.email
    team = session.get(Team, person.team_id)
    return (team.name, "") if team is not None else None
