"""A small world for placement tests: two providers, a team with its caseworker, coordinators, offers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import Session

from marketplace.models import GroupOffer, Municipality, Provider, Role, Team, User, YoungPerson
from tests.factories import make_municipality, make_offer, make_provider, make_team, make_user, make_young_person


@dataclass
class World:
    session: Session
    lead: Provider  # the young person's lead provider (federführender Träger)
    host: Provider  # another provider hosting groups
    team: Team
    caseworker: User
    other_caseworker: User  # another team
    lead_coordinator: User
    host_coordinator: User
    person: YoungPerson
    own_offer: GroupOffer  # the lead provider's group, Monday 15-17
    host_offer: GroupOffer  # the host's group, Tuesday 15-17
    town: Municipality

    def offer(self, **overrides) -> GroupOffer:
        overrides.setdefault("municipality", self.town)
        overrides.setdefault("provider", self.host)
        overrides.setdefault("min_size", 1)  # a group runs with any size (rule 7 is the solver's business)
        return make_offer(self.session, **overrides)

    def young_person(self, **overrides) -> YoungPerson:
        overrides.setdefault("municipality", self.town)
        overrides.setdefault("team", self.team)
        overrides.setdefault("lead_provider_id", self.lead.id)
        overrides.setdefault("caseworker_id", self.caseworker.id)
        return make_young_person(self.session, **overrides)


def build_world(session: Session) -> World:
    lead = make_provider(session, allows_co_use=True)
    host = make_provider(session, allows_co_use=True)
    team = make_team(session)
    town = make_municipality(session)
    caseworker = make_user(session, Role.caseworker, team_id=team.id)
    world = World(
        session=session, lead=lead, host=host, team=team, caseworker=caseworker,
        other_caseworker=make_user(session, Role.caseworker),
        lead_coordinator=make_user(session, Role.coordinator, provider_id=lead.id),
        host_coordinator=make_user(session, Role.coordinator, provider_id=host.id),
        person=None, own_offer=None, host_offer=None, town=town,  # type: ignore[arg-type]
    )  # fmt: skip
    world.person = world.young_person()
    world.own_offer = world.offer(provider=lead, title="Soziales Kompetenztraining", offset_rate_cents=1800)
    world.host_offer = world.offer(
        title="Sport und Teamgeist", sessions=((1, 15 * 60, 17 * 60),), offset_rate_cents=2250
    )
    session.commit()
    return world


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)
