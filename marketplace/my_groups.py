"""Read models for a provider's own groups (Meine Gruppen) and for the offer page.

Members are shown to the hosting provider only at pseudonym level: pseudonym, age,
needs and the lead provider's contact. The case reference (Aktenzeichen) is never
selected here, so it cannot leak into a page by accident.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from .models import (
    Category,
    GroupOffer,
    OfferStatus,
    Placement,
    PlacementStatus,
    Provider,
    YoungPerson,
    YoungPersonNeed,
)
from .offers import VACANCY_STALE_DAYS, is_stale


@dataclass(frozen=True)
class SessionDate:
    """One concrete session: a calendar day with local (Europe/Berlin) wall-clock minutes."""

    day: date
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class Member:
    """A young person in (or confirmed for) a group, as the hosting provider may see them."""

    placement_id: int
    pseudonym: str
    age: int
    needs: tuple[str, ...]
    lead_provider: str
    lead_contact: str
    status: str
    confirmed_at: datetime | None


@dataclass
class GroupOverview:
    """One group of "Meine Gruppen": occupancy, freshness, members and pending placements."""

    offer: GroupOffer
    stale: bool
    next_session: SessionDate | None
    members: list[Member] = field(default_factory=list)
    pending: list[Member] = field(default_factory=list)

    @property
    def free_seats(self) -> int:
        return max(self.offer.seats - self.offer.seats_taken, 0)

    @property
    def min_size_reached(self) -> bool:
        return self.offer.seats_taken >= self.offer.min_size


def next_session_dates(offer: GroupOffer, *, today: date, count: int = 6) -> list[SessionDate]:
    """The next `count` session dates from `today` on, within the offer's first and last date."""
    if not offer.sessions:
        return []
    start = max(today, offer.first_date)
    result: list[SessionDate] = []
    for offset in range(0, 7 * (count + 1)):
        day = start + timedelta(days=offset)
        if offer.last_date is not None and day > offer.last_date:
            break
        for s in offer.sessions:
            if s.weekday == day.weekday():
                result.append(SessionDate(day, s.start_minute, s.end_minute))
        if len(result) >= count:
            break
    return result[:count]


def _contact(provider: Provider | None) -> str:
    if provider is None:
        return "–"
    parts = [provider.contact_name, provider.contact_phone, provider.contact_email]
    return ", ".join(p for p in parts if p) or "–"


def _members(session: Session, offer_ids: list[int], today: date) -> dict[int, list[Member]]:
    if not offer_ids:
        return {}
    statuses = (PlacementStatus.confirmed.value, PlacementStatus.accepted.value)
    rows = session.execute(
        select(Placement.id, Placement.offer_id, Placement.status, Placement.confirmed_at,
               YoungPerson.id, YoungPerson.pseudonym, YoungPerson.birth_year, Provider)
        .join(YoungPerson, YoungPerson.id == Placement.young_person_id)
        .outerjoin(Provider, Provider.id == YoungPerson.lead_provider_id)
        .where(Placement.offer_id.in_(offer_ids), Placement.status.in_(statuses))
        .order_by(YoungPerson.pseudonym)
    ).all()
    needs: dict[int, list[str]] = defaultdict(list)
    person_ids = [r[4] for r in rows]
    if person_ids:
        for person_id, label in session.execute(
                select(YoungPersonNeed.young_person_id, Category.label)
                .join(Category, Category.id == YoungPersonNeed.category_id)
                .where(YoungPersonNeed.young_person_id.in_(person_ids)).order_by(Category.label)):
            needs[person_id].append(label)
    result: dict[int, list[Member]] = defaultdict(list)
    for pid, offer_id, status, confirmed_at, person_id, pseudonym, birth_year, provider in rows:
        result[offer_id].append(Member(
            placement_id=pid, pseudonym=pseudonym, age=today.year - birth_year, needs=tuple(needs[person_id]),
            lead_provider=provider.name if provider else "–", lead_contact=_contact(provider),
            status=status, confirmed_at=confirmed_at))
    return result


def my_groups(session: Session, *, provider_id: int, today: date, now: datetime,
              include_ended: bool = False, stale_days: int = VACANCY_STALE_DAYS) -> list[GroupOverview]:
    """The provider's offers (newest first, ended ones only on request) with occupancy and members."""
    query = select(GroupOffer).where(GroupOffer.provider_id == provider_id)
    if not include_ended:
        query = query.where(GroupOffer.status != OfferStatus.ended.value)
    offers = list(session.scalars(query.order_by(GroupOffer.title, GroupOffer.id)))
    members = _members(session, [o.id for o in offers], today)
    overviews = []
    for offer in offers:
        upcoming = next_session_dates(offer, today=today, count=1)
        group = GroupOverview(offer=offer, stale=is_stale(offer, now, stale_days=stale_days),
                              next_session=upcoming[0] if upcoming else None)
        for member in members.get(offer.id, []):
            (group.pending if member.status == PlacementStatus.confirmed.value else group.members).append(member)
        overviews.append(group)
    return overviews
