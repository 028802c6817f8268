"""Role dashboard figures (Übersicht): a few live counts per role, each scoped to what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct
from sqlmodel import Session, func, select

from .models import (
    CaseStatus,
    GroupOffer,
    OfferStatus,
    Placement,
    PlacementRequest,
    PlacementStatus,
    Provider,
    RequestStatus,
    Role,
    User,
    YoungPerson,
)
from .timeutil import utcnow

OPEN_REQUEST_STATUSES = (RequestStatus.open.value, RequestStatus.waiting.value)
LIVE_OFFER_STATUSES = (
    OfferStatus.draft.value,
    OfferStatus.submitted.value,
    OfferStatus.certified.value,
    OfferStatus.published.value,
    OfferStatus.paused.value,
)


@dataclass(frozen=True)
class Tile:
    """One figure on the dashboard: a German label, the number, a short explanation,
    and the endpoint of the page that lists the rows (shown only when it exists)."""

    label: str
    value: int
    hint: str
    endpoint: str | None = None
    attention: bool = False  # highlighted: something waits for this user


def _count(session: Session, query: Any) -> int:
    return int(session.exec(query).one() or 0)


def coordinator_tiles(session: Session, provider_id: int) -> list[Tile]:
    own = GroupOffer.provider_id == provider_id
    groups = _count(
        session, select(func.count()).select_from(GroupOffer).where(own, GroupOffer.status.in_(LIVE_OFFER_STATUSES))
    )
    published = _count(
        session,
        select(func.count()).select_from(GroupOffer).where(own, GroupOffer.status == OfferStatus.published.value),
    )
    free_seats = func.coalesce(func.sum(GroupOffer.seats - GroupOffer.seats_taken), 0)
    free = _count(session, select(free_seats).where(own, GroupOffer.status == OfferStatus.published.value))
    pending = _count(
        session,
        select(func.count())
        .select_from(Placement)
        .join(GroupOffer, GroupOffer.id == Placement.offer_id)
        .where(own, Placement.status == PlacementStatus.confirmed.value),
    )
    return [
        Tile("Eigene Gruppen", groups, "Entwürfe, eingereichte, zertifizierte und laufende Angebote", "offers.mine"),
        Tile("Veröffentlicht", published, "im Katalog buchbar", "offers.mine"),
        Tile("Freie Plätze", free, "in veröffentlichten Gruppen", "offers.mine"),
        Tile(
            "Belegungen zur Annahme",
            pending,
            "vom ASD bestätigt, warten auf Ihre Zusage",
            "offers.mine",
            attention=pending > 0,
        ),
    ]


def caseworker_tiles(session: Session, team_id: int) -> list[Tile]:
    team = YoungPerson.team_id == team_id
    people = _count(
        session,
        select(func.count()).select_from(YoungPerson).where(team, YoungPerson.status == CaseStatus.active.value),
    )
    waiting = _count(
        session,
        select(func.count())
        .select_from(PlacementRequest)
        .join(YoungPerson, YoungPerson.id == PlacementRequest.young_person_id)
        .where(team, PlacementRequest.status.in_(OPEN_REQUEST_STATUSES)),
    )
    proposals = _count(
        session,
        select(func.count())
        .select_from(Placement)
        .join(YoungPerson, YoungPerson.id == Placement.young_person_id)
        .where(team, Placement.status == PlacementStatus.proposed.value),
    )
    return [
        Tile("Junge Menschen im Team", people, "mit laufender Hilfe", "cases.young_people"),
        Tile(
            "Offene Anfragen",
            waiting,
            "Belegungsanfragen ohne passende Gruppe oder in Bearbeitung",
            "placements.requests",
            attention=waiting > 0,
        ),
        Tile(
            "Vorschläge zu bestätigen",
            proposals,
            "Gruppenvorschläge für Ihr Team",
            "placements.requests",
            attention=proposals > 0,
        ),
    ]


def planner_tiles(session: Session) -> list[Tile]:
    submitted = _count(
        session, select(func.count()).select_from(GroupOffer).where(GroupOffer.status == OfferStatus.submitted.value)
    )
    published = _count(
        session, select(func.count()).select_from(GroupOffer).where(GroupOffer.status == OfferStatus.published.value)
    )
    at_risk = _count(
        session,
        select(func.count())
        .select_from(GroupOffer)
        .where(GroupOffer.status == OfferStatus.published.value, GroupOffer.seats_taken < GroupOffer.min_size),
    )
    waiting = _count(
        session,
        select(func.count(distinct(PlacementRequest.young_person_id))).where(
            PlacementRequest.status.in_(OPEN_REQUEST_STATUSES)
        ),
    )
    return [
        Tile(
            "Zur Zertifizierung",
            submitted,
            "eingereichte Gruppenangebote",
            "offers.certification",
            attention=submitted > 0,
        ),
        Tile("Veröffentlichte Gruppen", published, "im Katalog des Landkreises", "catalogue.index"),
        Tile(
            "Gruppen unter Mindestgröße",
            at_risk,
            "veröffentlicht, aber zu wenig Teilnehmende",
            "reports.index",
            attention=at_risk > 0,
        ),
        Tile("Wartende junge Menschen", waiting, "mit offener Belegungsanfrage", "reports.index"),
    ]


def admin_tiles(session: Session) -> list[Tile]:
    users = _count(session, select(func.count()).select_from(User).where(User.is_active.is_(True)))
    providers = _count(session, select(func.count()).select_from(Provider).where(Provider.active.is_(True)))
    locked = _count(session, select(func.count()).select_from(User).where(User.locked_until > utcnow()))
    return [
        Tile("Aktive Benutzerkonten", users, "alle Rollen", "admin.users"),
        Tile("Träger", providers, "mit aktiver Vereinbarung", "admin.providers"),
        Tile("Gesperrte Konten", locked, "nach zu vielen Fehlversuchen", "admin.users", attention=locked > 0),
    ]


def tiles_for(session: Session, user: Any) -> list[Tile]:
    """The dashboard figures for `user`'s role; nothing for an unknown role."""
    role = getattr(user, "role", None)
    if role == Role.coordinator and user.provider_id is not None:
        return coordinator_tiles(session, user.provider_id)
    if role == Role.caseworker and user.team_id is not None:
        return caseworker_tiles(session, user.team_id)
    if role == Role.planner:
        return planner_tiles(session)
    if role == Role.admin:
        return admin_tiles(session)
    return []
