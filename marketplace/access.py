"""Central, deny-by-default access control (Zugriffskontrolle) for web views and the JSON API.

Three layers, each denying unless something explicitly allows:

1. **Route level.** The app-wide guard (`marketplace.web.security.guard_request`) lets through
   only views marked `@public`; every other view needs a logged-in user AND an access
   declaration (`@require_role(...)` or `@require_login`). A view without a declaration
   answers 403 even for logged-in users, so a new route is never accidentally open.
2. **Record level.** Predicates `can_view_offer`, `can_edit_offer`, `can_view_young_person`,
   `can_view_pseudonym`, `can_view_placement`, `can_view_provider_records` answer for one record.
3. **Lists.** `scope_offers`, `scope_young_people`, `scope_pseudonyms`, `scope_placements` narrow a
   `select()` to the rows a user may see.

Predicates take any object with `role`, `provider_id` and `team_id` (the `User` row or the
Flask-Login wrapper around it) and return False for anonymous or unknown roles.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import false, or_
from sqlmodel import Session, select

from .models import ACTIVE_PLACEMENT_STATUSES, GroupOffer, OfferStatus, Placement, Role, YoungPerson

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute set on view functions by `public`.
PUBLIC_ATTR = "_access_public"
#: Attribute set on view functions by `require_role`/`require_login`: a frozenset of role values.
ROLES_ATTR = "_access_roles"

ALL_ROLES: frozenset[str] = frozenset(r.value for r in Role)

#: Offer states visible in the cross-provider catalogue (Katalog) to every role.
CATALOGUE_STATUSES: frozenset[str] = frozenset({OfferStatus.published.value, OfferStatus.paused.value})

#: Placement states in which a hosting provider may see a young person's pseudonym-level data.
PROVIDER_VISIBLE_PLACEMENT_STATUSES: frozenset[str] = frozenset(s.value for s in ACTIVE_PLACEMENT_STATUSES)


# --------------------------------------------------------------------------- route level


def public(view: F) -> F:
    """Mark a view as reachable without login (login page, health check)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def require_role(*roles: Role | str) -> Callable[[F], F]:
    """Allow the view only to logged-in users with one of `roles`; others get 403 (anonymous: login)."""
    allowed = frozenset(_role_value(r) for r in roles)
    if not allowed or not allowed <= ALL_ROLES:
        raise ValueError(f"unknown roles in require_role: {roles!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401)
            if _role_value(current_user.role) not in allowed:
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, ROLES_ATTR, allowed)
        return wrapped  # type: ignore[return-value]

    return decorator


def require_login(view: F) -> F:
    """Allow the view to every logged-in user, whatever the role (dashboard, own password)."""
    return require_role(*ALL_ROLES)(view)


def declared_roles(view: Callable[..., Any]) -> frozenset[str] | None:
    """The roles a view declares, or None when it declares nothing (and is therefore denied)."""
    return getattr(view, ROLES_ATTR, None)


def is_public(view: Callable[..., Any]) -> bool:
    """True when the view was marked `@public`."""
    return bool(getattr(view, PUBLIC_ATTR, False))


def _role_value(role: Role | str | None) -> str | None:
    return role.value if isinstance(role, Role) else role


def has_role(user: Any, *roles: Role | str) -> bool:
    """True when `user` is logged in (or a plain User row) and has one of `roles`."""
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    return _role_value(getattr(user, "role", None)) in {_role_value(r) for r in roles}


# --------------------------------------------------------------------------- record level


def can_view_offer(user: Any, offer: GroupOffer) -> bool:
    """Planning and admin see every offer; everyone sees the catalogue; coordinators their own drafts."""
    if has_role(user, Role.planner, Role.admin):
        return True
    if has_role(user, Role.coordinator) and offer.provider_id == user.provider_id:
        return True
    if has_role(user, Role.coordinator, Role.caseworker):
        return _status(offer) in CATALOGUE_STATUSES
    return False


def can_edit_offer(user: Any, offer: GroupOffer) -> bool:
    """Only a coordinator of the offering provider edits an offer (the status rules live in the service)."""
    return has_role(user, Role.coordinator) and user.provider_id is not None and (offer.provider_id == user.provider_id)


def can_view_young_person(user: Any, yp: YoungPerson) -> bool:
    """Full case data (Fall): the caseworker's own team, and Jugendamt planning. Nobody else."""
    if has_role(user, Role.planner):
        return True
    if has_role(user, Role.caseworker):
        return user.team_id is not None and yp.team_id == user.team_id
    return False


def can_view_pseudonym(session: Session, user: Any, yp: YoungPerson) -> bool:
    """Pseudonym-level data (pseudonym, age, needs, region) for a provider's coordinator.

    Allowed when the young person has a proposed/confirmed/accepted placement in one of the
    coordinator's groups, or the coordinator's provider is the lead provider (federführender
    Träger). Whoever may see the full case may of course see the pseudonym.
    """
    if can_view_young_person(user, yp):
        return True
    if not has_role(user, Role.coordinator) or user.provider_id is None:
        return False
    if yp.lead_provider_id == user.provider_id:
        return True
    query = (
        select(Placement.id)
        .join(GroupOffer, GroupOffer.id == Placement.offer_id)
        .where(Placement.young_person_id == yp.id)
        .where(GroupOffer.provider_id == user.provider_id)
        .where(Placement.status.in_(PROVIDER_VISIBLE_PLACEMENT_STATUSES))
        .limit(1)
    )
    return session.exec(query).first() is not None


def can_view_placement(user: Any, offer: GroupOffer, yp: YoungPerson) -> bool:
    """A placement (Belegung): whoever sees the full case, and the hosting provider's coordinators
    (who see the young person at pseudonym level only)."""
    if can_view_young_person(user, yp):
        return True
    return has_role(user, Role.coordinator) and user.provider_id is not None and offer.provider_id == user.provider_id


def can_view_provider_records(user: Any, provider_id: int | None) -> bool:
    """A provider's internal records (ledger, attendance, drafts): its own coordinators, planning, admin."""
    if has_role(user, Role.planner, Role.admin):
        return True
    return has_role(user, Role.coordinator) and provider_id is not None and user.provider_id == provider_id


def _status(offer: GroupOffer) -> str:
    status = offer.status
    return status.value if hasattr(status, "value") else str(status)


# --------------------------------------------------------------------------- lists


def scope_offers(query: Any, user: Any) -> Any:
    """Narrow a `select(GroupOffer ...)` to the offers `user` may see (see `can_view_offer`)."""
    catalogue = GroupOffer.status.in_(CATALOGUE_STATUSES)
    if has_role(user, Role.planner, Role.admin):
        return query
    if has_role(user, Role.coordinator) and user.provider_id is not None:
        return query.where(or_(GroupOffer.provider_id == user.provider_id, catalogue))
    if has_role(user, Role.coordinator, Role.caseworker):
        return query.where(catalogue)
    return query.where(false())


def scope_young_people(query: Any, user: Any) -> Any:
    """Narrow a `select(YoungPerson ...)` to full case access (see `can_view_young_person`)."""
    if has_role(user, Role.planner):
        return query
    if has_role(user, Role.caseworker) and user.team_id is not None:
        return query.where(YoungPerson.team_id == user.team_id)
    return query.where(false())


def scope_pseudonyms(query: Any, user: Any) -> Any:
    """Narrow a `select(YoungPerson ...)` to pseudonym-level access (see `can_view_pseudonym`)."""
    if not has_role(user, Role.coordinator):
        return scope_young_people(query, user)
    if user.provider_id is None:
        return query.where(false())
    placed_here = (
        select(Placement.young_person_id)
        .join(GroupOffer, GroupOffer.id == Placement.offer_id)
        .where(GroupOffer.provider_id == user.provider_id)
        .where(Placement.status.in_(PROVIDER_VISIBLE_PLACEMENT_STATUSES))
    )
    return query.where(or_(YoungPerson.lead_provider_id == user.provider_id, YoungPerson.id.in_(placed_here)))


def scope_placements(query: Any, user: Any) -> Any:
    """Narrow a `select(Placement ...)` joined with `GroupOffer` and `YoungPerson` to the placements
    `user` may see (see `can_view_placement`)."""
    if has_role(user, Role.planner):
        return query
    if has_role(user, Role.caseworker) and user.team_id is not None:
        return query.where(YoungPerson.team_id == user.team_id)
    if has_role(user, Role.coordinator) and user.provider_id is not None:
        return query.where(GroupOffer.provider_id == user.provider_id)
    return query.where(false())


#: Largest id the database holds (32-bit INTEGER on PostgreSQL); larger ids are simply not found.
MAX_ID = 2**31 - 1


def get_or_404(session: Session, model: type, object_id: int) -> Any:
    """Fetch a row by primary key or abort with 404 (also for ids no database column can hold)."""
    if not isinstance(object_id, int) or not 0 < object_id <= MAX_ID:
        abort(404)
    row = session.get(model, object_id)
    if row is None:
        abort(404)
    return row


def ensure(allowed: bool) -> None:
    """Abort with 403 (German error page) unless `allowed`."""
    if not allowed:
        abort(403)
