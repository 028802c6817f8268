"""Test data builders: `make_<thing>(session, **overrides)` adds a valid row, flushes and returns it.

Every builder fills the required fields with plausible values and creates what
the row needs (a provider for an offer, a team for a caseworker ...) unless it is
passed in. Names are unique per call, so builders can be called repeatedly.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from marketplace.models import (
    AvailabilityWindow,
    Category,
    GroupOffer,
    Module,
    Municipality,
    OfferSession,
    Placement,
    Provider,
    Role,
    Sozialraum,
    Team,
    User,
    YoungPerson,
)
from marketplace.passwords import hash_password
from marketplace.timeutil import utcnow

DEFAULT_PASSWORD = "test-passwort-123"
_counter = itertools.count(1)

#: Module catalogue defaults for make_module(code) (minutes; cents).
MODULES = {
    "flex": ("Flex-Modul", 60, 180, 60, 120, 14500),
    "basis": ("Basis-Modul", 180, 300, 120, 180, 26500),
    "standard": ("Standard-Modul", 360, 480, 240, 300, 45500),
    "zusatz": ("Zusatz-Modul", 540, 660, 360, 420, 64500),
    "sonder": ("Sonder-Modul", 660, 900, 360, 480, 86000),
    "krise": ("Krisenintervention", 600, 600, 0, 120, 72000),
}


@cache
def default_password_hash() -> str:
    """One argon2id hash of DEFAULT_PASSWORD, computed once per test run (hashing is slow on purpose)."""
    return hash_password(DEFAULT_PASSWORD)


def _n() -> int:
    return next(_counter)


def _add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def make_sozialraum(session: Session, **overrides: Any) -> Sozialraum:
    n = _n()
    return _add(session, Sozialraum(**{"name": f"Sozialraum {n}", "code": f"SR{n}", **overrides}))


def make_municipality(session: Session, **overrides: Any) -> Municipality:
    n = _n()
    if "sozialraum_id" not in overrides:
        overrides["sozialraum_id"] = make_sozialraum(session).id
    values = {"name": f"Gemeinde {n}", "ags": f"{6432000 + n:08d}", "lat": 49.87, "lon": 8.80}
    return _add(session, Municipality(**{**values, **overrides}))


def make_category(session: Session, code: str = "social_skills", **overrides: Any) -> Category:
    """The category `code`, created on first use."""
    existing = session.scalars(select(Category).where(Category.code == code)).first()
    if existing is not None:
        return existing
    return _add(session, Category(**{"code": code, "label": code.replace("_", " ").title(), **overrides}))


def make_module(session: Session, code: str = "standard", **overrides: Any) -> Module:
    """The module `code` (flex, basis, standard, zusatz, sonder, krise), created on first use."""
    existing = session.scalars(select(Module).where(Module.code == code)).first()
    if existing is not None:
        return existing
    name, care_min, care_max, target, maximum, rate = MODULES.get(code, (code, 60, 120, 60, 120, 10000))
    crisis = code == "krise"
    values = {
        "code": code, "name": name, "care_minutes_min": care_min, "care_minutes_max": care_max,
        "group_minutes_target": target, "group_minutes_max": maximum, "weekly_rate_cents": rate,
        "is_crisis": crisis, "max_weeks": 6 if crisis else None, "requires_risk_report": crisis,
    }  # fmt: skip
    return _add(session, Module(**{**values, **overrides}))


def make_provider(session: Session, **overrides: Any) -> Provider:
    n = _n()
    values = {"name": f"Träger {n} e.V.", "short_name": f"T{n}", "allows_co_use": True,
              "contact_email": f"kontakt@traeger-{n}.example"}  # fmt: skip
    return _add(session, Provider(**{**values, **overrides}))


def make_team(session: Session, **overrides: Any) -> Team:
    return _add(session, Team(**{"name": f"ASD-Team {_n()}", **overrides}))


def make_user(session: Session, role: Role | str = Role.planner, **overrides: Any) -> User:
    """A user of `role`; a coordinator gets a new provider and a caseworker a new team unless given."""
    role = Role(role)
    if role is Role.coordinator and "provider_id" not in overrides:
        overrides["provider_id"] = make_provider(session).id
    if role is Role.caseworker and "team_id" not in overrides:
        overrides["team_id"] = make_team(session).id
    values = {"email": f"{role.value}{_n()}@test.example", "display_name": f"Test {role.value}",
              "password_hash": default_password_hash(), "role": role.value}  # fmt: skip
    return _add(session, User(**{**values, **overrides}))


def make_offer(
    session: Session,
    *,
    provider: Provider | None = None,
    municipality: Municipality | None = None,
    categories: tuple[str, ...] = ("social_skills",),
    sessions: tuple[tuple[int, int, int], ...] = ((0, 15 * 60, 17 * 60),),
    **overrides: Any,
) -> GroupOffer:
    """A published, certified group offer (Mondays 15:00–17:00, social skills) unless overridden."""
    provider = provider or make_provider(session)
    municipality = municipality or make_municipality(session)
    today = date.today()
    values = {
        "provider_id": provider.id, "title": f"Gruppe {_n()}", "age_min": 10, "age_max": 16,
        "first_date": today - timedelta(days=30), "last_date": today + timedelta(days=180),
        "municipality_id": municipality.id, "lat": municipality.lat, "lon": municipality.lon,
        "seats": 8, "min_size": 3, "offset_rate_cents": 2000, "status": "published",
        "certified_until": today + timedelta(days=365),
    }  # fmt: skip
    offer = _add(session, GroupOffer(**{**values, **overrides}))
    offer.categories = [make_category(session, code) for code in categories]
    session.add_all(OfferSession(offer_id=offer.id, weekday=d, start_minute=s, end_minute=e) for d, s, e in sessions)
    session.flush()
    session.refresh(offer)
    return offer


def make_young_person(
    session: Session,
    *,
    team: Team | None = None,
    municipality: Municipality | None = None,
    module: str = "standard",
    needs: tuple[str, ...] = ("social_skills",),
    availability: tuple[tuple[int, int, int], ...] = tuple((d, 14 * 60, 19 * 60) for d in range(5)),
    **overrides: Any,
) -> YoungPerson:
    """An active young person (12 years, module standard, free weekday afternoons) unless overridden."""
    n = _n()
    module_row = make_module(session, module)
    team = team or make_team(session)
    municipality = municipality or make_municipality(session)
    values = {
        "pseudonym": f"JM-T{n:03d}", "case_reference": f"TEST-{n:04d}", "team_id": team.id,
        "birth_year": date.today().year - 12, "gender": "f", "municipality_id": municipality.id,
        "max_travel_km": 15.0, "module_id": module_row.id,
        "group_minutes_target": module_row.group_minutes_target,
        "group_minutes_max": module_row.group_minutes_max,
        "approval_start": date.today() - timedelta(days=10), "legal_basis": "§ 30",
    }  # fmt: skip
    if module_row.is_crisis:
        values.update(priority=3, risk_report_at=date.today(), crisis_ends_on=date.today() + timedelta(weeks=6))
    person = _add(session, YoungPerson(**{**values, **overrides}))
    person.needs = [make_category(session, code) for code in needs]
    session.add_all(
        AvailabilityWindow(young_person_id=person.id, weekday=d, start_minute=s, end_minute=e)
        for d, s, e in availability
    )
    session.flush()
    session.refresh(person)
    return person


def make_placement(
    session: Session,
    *,
    young_person: YoungPerson | None = None,
    offer: GroupOffer | None = None,
    status: str = "proposed",
    **overrides: Any,
) -> Placement:
    """A placement of a new young person in a new offer; timestamps follow `status`.

    This writes the row only: it does not move the seat counter (see marketplace.seats).
    """
    young_person = young_person or make_young_person(session)
    offer = offer or make_offer(session)
    now = utcnow()
    values: dict[str, Any] = {"young_person_id": young_person.id, "offer_id": offer.id, "status": status}
    if status in ("confirmed", "accepted", "ended"):
        values.update(confirmed_at=now, offset_rate_cents=offer.offset_rate_cents)
    if status in ("accepted", "ended"):
        values["accepted_at"] = now
    if status == "ended":
        values.update(ended_at=now, end_reason="Hilfe beendet")
    if status == "declined":
        values["decline_reason"] = "passt nicht"
    return _add(session, Placement(**{**values, **overrides}))
