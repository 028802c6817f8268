"""A small district for the case tests (also used by tests/web/test_cases_web.py): two ASD teams,
their caseworkers, a planner, a lead provider's coordinator and the module catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlmodel import Session

from marketplace.case_rules import CaseFields
from marketplace.models import Category, Module, Municipality, Provider, Role, Team, User
from tests.factories import (
    MODULES,
    make_category,
    make_module,
    make_municipality,
    make_provider,
    make_team,
    make_user,
)

TODAY = date(2026, 11, 18)


@dataclass
class World:
    session: Session
    team: Team
    other_team: Team
    caseworker: User
    colleague: User
    other_caseworker: User
    planner: User
    coordinator: User
    other_coordinator: User
    admin: User
    provider: Provider
    town: Municipality
    modules: dict[str, Module] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)

    def fields(self, **overrides) -> CaseFields:
        """Valid case data for the standard module; override any field."""
        values = dict(
            case_reference=None,
            birth_year=TODAY.year - 13,
            gender="m",
            municipality_id=self.town.id,
            need_ids=[self.categories["social_skills"].id],
            availability=[(0, 14 * 60, 18 * 60), (2, 15 * 60, 19 * 60)],
            max_travel_km=12.0,
            module_id=self.modules["standard"].id,
            lead_provider_id=self.provider.id,
            approval_start=TODAY - timedelta(days=20),
            approval_end=TODAY + timedelta(days=300),
            legal_basis="§ 30",
            priority=1,
        )
        values.update(overrides)
        return CaseFields(**values)


@pytest.fixture
def world(session: Session) -> World:
    team, other_team = make_team(session), make_team(session)
    provider = make_provider(session)
    w = World(
        session=session,
        team=team,
        other_team=other_team,
        caseworker=make_user(session, Role.caseworker, team_id=team.id),
        colleague=make_user(session, Role.caseworker, team_id=team.id),
        other_caseworker=make_user(session, Role.caseworker, team_id=other_team.id),
        planner=make_user(session, Role.planner),
        coordinator=make_user(session, Role.coordinator, provider_id=provider.id),
        other_coordinator=make_user(session, Role.coordinator),
        admin=make_user(session, Role.admin),
        provider=provider,
        town=make_municipality(session, name="Dieburg", lat=49.8985, lon=8.8385),
    )
    w.modules = {code: make_module(session, code) for code in MODULES}
    w.categories = {code: make_category(session, code) for code in ("social_skills", "sports", "media")}
    session.commit()
    return w
