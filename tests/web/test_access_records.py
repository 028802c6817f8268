"""Record-level access predicates and list scopes (marketplace.access)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from marketplace import access
from marketplace.models import GroupOffer, YoungPerson
from tests.factories import make_offer, make_placement, make_provider, make_team, make_user, make_young_person


@pytest.fixture
def world(session):
    """Two providers, two teams, their people, offers and young people."""
    p1, p2 = make_provider(session), make_provider(session)
    t1, t2 = make_team(session), make_team(session)
    w = {
        "coord1": make_user(session, "coordinator", provider_id=p1.id),
        "coord2": make_user(session, "coordinator", provider_id=p2.id),
        "case1": make_user(session, "caseworker", team_id=t1.id),
        "case2": make_user(session, "caseworker", team_id=t2.id),
        "planner": make_user(session, "planner"),
        "admin": make_user(session, "admin"),
        "draft1": make_offer(session, provider=p1, status="draft", certified_until=None),
        "published1": make_offer(session, provider=p1),
        "published2": make_offer(session, provider=p2),
        "yp1": make_young_person(session, team=t1),
        "yp2": make_young_person(session, team=t2),
        "yp_lead2": make_young_person(session, team=t1, lead_provider_id=p2.id),
    }
    session.commit()
    return w


@pytest.mark.parametrize(
    ("user", "offer", "view", "edit"),
    [
        ("coord1", "draft1", True, True),
        ("coord1", "published2", True, False),
        ("coord2", "draft1", False, False),
        ("case1", "published1", True, False),
        ("case1", "draft1", False, False),
        ("planner", "draft1", True, False),
        ("admin", "draft1", True, False),
    ],
)
def test_offer_predicates(world, user, offer, view, edit):
    assert access.can_view_offer(world[user], world[offer]) is view
    assert access.can_edit_offer(world[user], world[offer]) is edit


@pytest.mark.parametrize(
    ("user", "person", "allowed"),
    [
        ("case1", "yp1", True),
        ("case1", "yp2", False),
        ("case2", "yp2", True),
        ("planner", "yp1", True),
        ("coord1", "yp1", False),
        ("admin", "yp1", False),
    ],
)
def test_young_person_full_access(world, user, person, allowed):
    assert access.can_view_young_person(world[user], world[person]) is allowed


def test_coordinator_sees_pseudonym_only_when_placed_in_own_group(session, world):
    coord1, yp2 = world["coord1"], world["yp2"]
    assert not access.can_view_pseudonym(session, coord1, yp2)
    make_placement(session, young_person=yp2, offer=world["published1"], status="proposed")
    session.commit()
    assert access.can_view_pseudonym(session, coord1, yp2)
    assert not access.can_view_young_person(coord1, yp2)  # still no full case data


def test_declined_placement_does_not_open_the_pseudonym(session, world):
    make_placement(session, young_person=world["yp2"], offer=world["published1"], status="declined")
    session.commit()
    assert not access.can_view_pseudonym(session, world["coord1"], world["yp2"])


def test_lead_provider_sees_pseudonym(session, world):
    assert access.can_view_pseudonym(session, world["coord2"], world["yp_lead2"])
    assert not access.can_view_pseudonym(session, world["coord1"], world["yp_lead2"])


def test_provider_records(world):
    provider_id = world["coord1"].provider_id
    assert access.can_view_provider_records(world["coord1"], provider_id)
    assert not access.can_view_provider_records(world["coord2"], provider_id)
    assert not access.can_view_provider_records(world["case1"], provider_id)
    assert access.can_view_provider_records(world["planner"], provider_id)
    assert not access.can_view_provider_records(world["coord1"], None)


def test_anonymous_and_none_are_denied(world):
    from marketplace.web.security import AnonymousUser

    for nobody in (None, AnonymousUser()):
        assert not access.can_view_offer(nobody, world["published1"])
        assert not access.can_view_young_person(nobody, world["yp1"])
        assert not access.can_view_provider_records(nobody, world["coord1"].provider_id)


def _offer_ids(session, user) -> set[int]:
    return set(session.exec(access.scope_offers(select(GroupOffer.id), user)).all())


def _person_ids(session, user, scope=access.scope_young_people) -> set[int]:
    return set(session.exec(scope(select(YoungPerson.id), user)).all())


def test_scopes_agree_with_predicates(session, world):
    make_placement(session, young_person=world["yp2"], offer=world["published1"], status="confirmed")
    session.commit()
    offers = [world[k] for k in ("draft1", "published1", "published2")]
    people = [world[k] for k in ("yp1", "yp2", "yp_lead2")]
    for key in ("coord1", "coord2", "case1", "case2", "planner", "admin"):
        user = world[key]
        assert _offer_ids(session, user) == {o.id for o in offers if access.can_view_offer(user, o)}, key
        assert _person_ids(session, user) == {p.id for p in people if access.can_view_young_person(user, p)}
        expected = {p.id for p in people if access.can_view_pseudonym(session, user, p)}
        assert _person_ids(session, user, access.scope_pseudonyms) == expected, key


def test_scopes_deny_anonymous(session, world):
    from marketplace.web.security import AnonymousUser

    assert _offer_ids(session, AnonymousUser()) == set()
    assert _person_ids(session, AnonymousUser()) == set()
    assert _person_ids(session, AnonymousUser(), access.scope_pseudonyms) == set()
