"""The cross-provider catalogue of group offers (Angebotskatalog): search, filter, sort, paginate.

`search_offers` answers one page of offers a user may see, with everything a list or a
map needs loaded in a fixed number of queries (offer + municipality + Sozialraum +
provider in one joined query; sessions and categories by `selectinload`), never one
query per row.

Visibility (on top of `access.scope_offers`, the central rule):
- everybody sees the catalogue (`CATALOGUE_STATUSES`: published and paused);
- a coordinator additionally sees the own provider's offers that are not public yet
  (draft, submitted, certified, rejected), marked as such (`CatalogueEntry.is_own`);
- planners and admins may choose any other status with the `status` filter.

Sorting ("relevance", the default): first by tier — 0 published, certification valid and
free seats confirmed within `stale_days` (default
`offers.VACANCY_STALE_DAYS`; aktuell); 1 published but stale;
2 paused or certification expired; 3 not public (own drafts, planner filters) — then by
distance from the reference municipality when one is given, else by title. "title" and
"distance" sort by that key alone (distance needs a reference municipality).

Distances are great-circle (haversine) km between the reference municipality's centre and
the offer's point (its own coordinates, else its municipality's centre). Databases differ
in trigonometry, so a distance search narrows the rows by a bounding box in SQL, then
computes exact distances, filters, sorts and cuts the page in Python over light
(id, key) rows; the page's full rows are loaded afterwards. Without distance, sorting and
paging happen in SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from .access import CATALOGUE_STATUSES, has_role, scope_offers
from .matching.problem import haversine_km
from .models import (
    Category,
    GroupOffer,
    Municipality,
    OfferCategory,
    OfferSession,
    OfferStatus,
    Provider,
    Role,
    Sozialraum,
)
from .offers import STATUS_LABELS, VACANCY_STALE_DAYS
from .timeutil import today_berlin, utcnow

#: Own offers a coordinator sees in the catalogue although they are not public (marked as such).
OWN_UNPUBLISHED_STATUSES: frozenset[str] = frozenset(
    {OfferStatus.draft.value, OfferStatus.submitted.value, OfferStatus.certified.value,
     OfferStatus.rejected.value}
)
#: Status filter value meaning "every status" (planners and admins only).
ALL_STATUSES = "all"
SORTS = ("relevance", "title", "distance")
MAX_PER_PAGE = 100
KM_PER_DEGREE = 111.2



@dataclass(frozen=True)
class CatalogueFilters:
    """What the user asked for; None (or False) means "no restriction".

    Times are minutes since midnight: an offer matches when one of its sessions lies within
    [time_from, time_to] (on `weekday`, when given). `radius_km` needs `near_municipality_id`.
    `status` (planners/admins only) is an `OfferStatus` value or `ALL_STATUSES`.
    """

    text: str | None = None
    category_id: int | None = None
    sozialraum_id: int | None = None
    municipality_id: int | None = None
    weekday: int | None = None
    time_from: int | None = None
    time_to: int | None = None
    age: int | None = None
    free_only: bool = False
    near_municipality_id: int | None = None
    radius_km: float | None = None
    status: str | None = None
    sort: str = "relevance"


@dataclass
class CatalogueEntry:
    """One offer as the catalogue shows it."""

    offer: GroupOffer
    municipality: Municipality
    sozialraum: Sozialraum
    provider: Provider
    distance_km: float | None
    is_own: bool
    today: date
    now: datetime
    stale_days: int = VACANCY_STALE_DAYS

    @property
    def free_seats(self) -> int:
        return max(0, self.offer.seats - self.offer.seats_taken)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.offer.status, self.offer.status)

    @property
    def is_public(self) -> bool:
        return self.offer.status in CATALOGUE_STATUSES

    @property
    def certified_valid(self) -> bool:
        until = self.offer.certified_until
        return until is not None and until >= self.today

    @property
    def vacancy_fresh(self) -> bool:
        """Free seats confirmed by the coordinator within `stale_days` (Platzangaben aktuell)."""
        confirmed = self.offer.vacancy_confirmed_at
        return confirmed is not None and confirmed >= self.now - timedelta(days=self.stale_days)

    @property
    def lat(self) -> float:
        return self.offer.lat if self.offer.lat is not None else self.municipality.lat

    @property
    def lon(self) -> float:
        return self.offer.lon if self.offer.lon is not None else self.municipality.lon


@dataclass
class Page:
    """One page of results; `page` is 1-based and already clamped to the existing pages."""

    items: list[CatalogueEntry]
    page: int
    per_page: int
    total: int
    reference: Municipality | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


# --------------------------------------------------------------------------- filters


def _visible_statuses(user: Any, filters: CatalogueFilters) -> Any:
    """The status condition for `user`: catalogue, plus own unpublished offers or a planner's choice."""
    catalogue = GroupOffer.status.in_(CATALOGUE_STATUSES)
    if has_role(user, Role.planner, Role.admin) and filters.status:
        if filters.status == ALL_STATUSES:
            return None
        return GroupOffer.status == filters.status
    if has_role(user, Role.coordinator) and user.provider_id is not None:
        own = and_(GroupOffer.provider_id == user.provider_id,
                   GroupOffer.status.in_(OWN_UNPUBLISHED_STATUSES))
        return or_(catalogue, own)
    return catalogue


def _text_condition(text: str) -> Any:
    """Every word must occur in title, description, address, staff, provider or municipality."""
    columns = (GroupOffer.title, GroupOffer.description, GroupOffer.address, GroupOffer.staff_mix,
               Provider.name, Provider.short_name, Municipality.name)
    words = [w for w in text.split() if w][:8]
    return and_(*(or_(*(c.icontains(w, autoescape=True) for c in columns)) for w in words))


def _session_condition(filters: CatalogueFilters) -> Any | None:
    conditions = [OfferSession.offer_id == GroupOffer.id]
    if filters.weekday is not None:
        conditions.append(OfferSession.weekday == filters.weekday)
    if filters.time_from is not None:
        conditions.append(OfferSession.start_minute >= filters.time_from)
    if filters.time_to is not None:
        conditions.append(OfferSession.end_minute <= filters.time_to)
    if len(conditions) == 1:
        return None
    return exists().where(*conditions)


def _conditions(user: Any, filters: CatalogueFilters, reference: Municipality | None) -> list[Any]:
    conditions: list[Any] = []
    statuses = _visible_statuses(user, filters)
    if statuses is not None:
        conditions.append(statuses)
    if filters.text and filters.text.strip():
        conditions.append(_text_condition(filters.text))
    if filters.category_id is not None:
        conditions.append(exists().where(OfferCategory.offer_id == GroupOffer.id,
                                         OfferCategory.category_id == filters.category_id))
    if filters.sozialraum_id is not None:
        conditions.append(Municipality.sozialraum_id == filters.sozialraum_id)
    if filters.municipality_id is not None:
        conditions.append(GroupOffer.municipality_id == filters.municipality_id)
    sessions = _session_condition(filters)
    if sessions is not None:
        conditions.append(sessions)
    if filters.age is not None:
        conditions.append(and_(GroupOffer.age_min <= filters.age, GroupOffer.age_max >= filters.age))
    if filters.free_only:
        conditions.append(GroupOffer.seats_taken < GroupOffer.seats)
    if reference is not None and filters.radius_km is not None:
        # A generous box around the circle; the exact haversine test follows in Python.
        dlat = filters.radius_km / KM_PER_DEGREE * 1.01 + 0.001
        dlon = dlat / max(0.1, math.cos(math.radians(reference.lat)))
        conditions.append(_lat_expr().between(reference.lat - dlat, reference.lat + dlat))
        conditions.append(_lon_expr().between(reference.lon - dlon, reference.lon + dlon))
    return conditions


def _lat_expr() -> Any:
    return func.coalesce(GroupOffer.lat, Municipality.lat)


def _lon_expr() -> Any:
    return func.coalesce(GroupOffer.lon, Municipality.lon)


def _tier_expr(today: date, now: datetime, stale_days: int) -> Any:
    """Rank tier (0 best), see the module docstring."""
    published = GroupOffer.status == OfferStatus.published.value
    valid = GroupOffer.certified_until >= today
    fresh = GroupOffer.vacancy_confirmed_at >= now - timedelta(days=stale_days)
    return case(
        (and_(published, valid, fresh), 0),
        (and_(published, valid), 1),
        (GroupOffer.status.in_(CATALOGUE_STATUSES), 2),
        else_=3,
    )


# --------------------------------------------------------------------------- search


def search_offers(
    session: Session,
    *,
    user: Any,
    filters: CatalogueFilters,
    page: int = 1,
    per_page: int = 20,
    today: date | None = None,
    stale_days: int = VACANCY_STALE_DAYS,
) -> Page:
    """One page of the offers `user` may see that match `filters`, sorted (see module docstring).

    `page` beyond the last page answers the last page; `per_page` is clamped to 1..100.
    """
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    return _search(session, user=user, filters=filters, page=max(1, int(page)), per_page=per_page,
                   today=today or today_berlin(), stale_days=stale_days)


def map_offers(session: Session, *, user: Any, filters: CatalogueFilters, limit: int = 500,
               today: date | None = None, stale_days: int = VACANCY_STALE_DAYS) -> Page:
    """Every matching offer (up to `limit`) in catalogue order, as one page: what the map shows."""
    return _search(session, user=user, filters=filters, page=1, per_page=max(1, limit),
                   today=today or today_berlin(), stale_days=stale_days)


def _search(session: Session, *, user: Any, filters: CatalogueFilters, page: int, per_page: int,
            today: date, stale_days: int) -> Page:
    now = utcnow()
    reference = (session.get(Municipality, filters.near_municipality_id)
                 if filters.near_municipality_id is not None else None)
    conditions = _conditions(user, filters, reference)
    tier = _tier_expr(today, now, stale_days)

    def base(*columns: Any) -> Any:
        query = (select(*columns)
                 .select_from(GroupOffer)
                 .join(Municipality, Municipality.id == GroupOffer.municipality_id)
                 .join(Provider, Provider.id == GroupOffer.provider_id)
                 .where(*conditions))
        return scope_offers(query, user)

    distances: dict[int, float] = {}
    if reference is not None and (filters.radius_km is not None or filters.sort != "title"):
        # Exact distances in Python over light rows (see module docstring).
        keyed = []
        for offer_id, row_tier, title, lat, lon in session.exec(
                base(GroupOffer.id, tier, GroupOffer.title, _lat_expr(), _lon_expr())).all():
            km = haversine_km(reference.lat, reference.lon, lat, lon)
            if filters.radius_km is not None and km > filters.radius_km:
                continue
            distances[offer_id] = km
            if filters.sort == "relevance":
                keyed.append((row_tier, km, title.casefold(), offer_id))
            elif filters.sort == "distance":
                keyed.append((0, km, title.casefold(), offer_id))
            else:
                keyed.append((0, 0.0, title.casefold(), offer_id))
        keyed.sort()
        total = len(keyed)
        page = min(page, max(1, math.ceil(total / per_page)))
        ids = [key[3] for key in keyed[(page - 1) * per_page: page * per_page]]
    else:
        total = session.exec(base(func.count(GroupOffer.id))).one()
        page = min(page, max(1, math.ceil(total / per_page)))
        order = [func.lower(GroupOffer.title), GroupOffer.id]
        if filters.sort == "relevance":
            order.insert(0, tier)
        query = base(GroupOffer.id).order_by(*order).offset((page - 1) * per_page).limit(per_page)
        ids = list(session.exec(query).all())

    entries = _load_entries(session, ids, user, today, now, stale_days)
    if reference is not None:
        for entry in entries:
            entry.distance_km = distances.get(entry.offer.id)
            if entry.distance_km is None:
                entry.distance_km = haversine_km(reference.lat, reference.lon, entry.lat, entry.lon)
    notes = []
    if filters.sort == "distance" and reference is None:
        notes.append("Für die Sortierung nach Entfernung wählen Sie bitte einen Bezugsort; "
                     "sortiert wird nach Titel.")
    return Page(items=entries, page=page, per_page=per_page, total=total, reference=reference, notes=notes)


def _load_entries(session: Session, ids: list[int], user: Any, today: date, now: datetime,
                  stale_days: int) -> list[CatalogueEntry]:
    """The full rows for `ids`, in that order: one joined query plus the two selectinloads."""
    if not ids:
        return []
    query = (select(GroupOffer, Municipality, Sozialraum, Provider)
             .join(Municipality, Municipality.id == GroupOffer.municipality_id)
             .join(Sozialraum, Sozialraum.id == Municipality.sozialraum_id)
             .join(Provider, Provider.id == GroupOffer.provider_id)
             .where(GroupOffer.id.in_(ids))
             .options(selectinload(GroupOffer.sessions), selectinload(GroupOffer.categories)))
    own_provider = user.provider_id if has_role(user, Role.coordinator) else None
    by_id = {}
    for offer, municipality, sozialraum, provider in session.exec(query).all():
        by_id[offer.id] = CatalogueEntry(
            offer=offer, municipality=municipality, sozialraum=sozialraum, provider=provider,
            distance_km=None, is_own=own_provider is not None and offer.provider_id == own_provider,
            today=today, now=now, stale_days=stale_days,
        )
    return [by_id[i] for i in ids if i in by_id]


# --------------------------------------------------------------------------- choices for the filter form


@dataclass(frozen=True)
class FilterChoices:
    """Options of the filter form's select boxes, each as (id, German label)."""

    categories: list[tuple[int, str]]
    sozialraeume: list[tuple[int, str]]
    municipalities: list[tuple[int, str]]


def filter_choices(session: Session) -> FilterChoices:
    """Active categories, Sozialräume and municipalities, sorted by their German names."""
    categories = session.exec(select(Category.id, Category.label).where(Category.active)
                              .order_by(Category.label)).all()
    areas = session.exec(select(Sozialraum.id, Sozialraum.name).order_by(Sozialraum.name)).all()
    towns = session.exec(select(Municipality.id, Municipality.name).order_by(Municipality.name)).all()
    return FilterChoices(categories=[tuple(r) for r in categories], sozialraeume=[tuple(r) for r in areas],
                         municipalities=[tuple(r) for r in towns])
