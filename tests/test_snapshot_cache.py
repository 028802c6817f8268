"""The live matching problem is built once per data state (marketplace.snapshot_cache), on both databases.

Every change the problem is built from gives a fresh problem at the next request; unchanged data
reuses the built one. The changes here are made the way services make them, and also behind their
back (no version bump), to show that the fingerprint itself notices.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session

from marketplace import offers, placements
from marketplace.matching.problem import Window
from marketplace.models import AvailabilityWindow, KeepApart, OfferWish, Placement, Setting
from marketplace.proposals import propose_options
from marketplace.snapshot import WEIGHTS_SETTING, Snapshot, group_key, person_key
from marketplace.snapshot_cache import cached_snapshot, data_state
from marketplace.timeutil import utcnow
from tests.factories import make_category, make_placement
from tests.placements.conftest import build_world


def _live(session: Session, **kwargs) -> Snapshot:
    """The live problem as the next request sees it (its own session, so nothing is read from `session`'s rows)."""
    with Session(session.get_bind()) as request_session:
        return cached_snapshot(request_session, **kwargs)


def _offers_proposed(session: Session, young_person_id: int) -> set[int]:
    with Session(session.get_bind()) as request_session:
        proposal = propose_options(request_session, young_person_id=young_person_id)
    return {offer_id for option in proposal.options for offer_id in option.offer_ids}


def test_unchanged_data_reuses_the_built_problem(db_session: Session) -> None:
    world = build_world(db_session)
    first = _live(db_session)
    assert _live(db_session) is first
    placements.request_placement(db_session, young_person_id=world.person.id, actor=world.caseworker)
    assert _live(db_session) is first  # a request and its audit row change nothing the problem uses


def test_a_confirmed_last_seat_is_not_proposed_again(db_session: Session) -> None:
    world = build_world(db_session)
    last_seat = world.offer(title="Ein Platz frei", seats=1, sessions=((2, 15 * 60, 17 * 60),))
    other = world.young_person()
    db_session.commit()
    assert last_seat.id in _offers_proposed(db_session, other.id)
    before = _live(db_session)

    request = placements.request_placement(db_session, young_person_id=world.person.id, actor=world.caseworker)
    placements.confirm_option(db_session, request_id=request.request.id, offer_ids=[last_seat.id],
                              actor=world.caseworker)

    after = _live(db_session)
    assert after is not before
    assert after.problem.people[person_key(world.person.id)].pinned == (group_key(last_seat.id),)
    assert last_seat.id not in _offers_proposed(db_session, other.id)


def test_a_paused_offer_leaves_the_next_problem(db_session: Session) -> None:
    world = build_world(db_session)
    assert group_key(world.host_offer.id) in _live(db_session).problem.groups
    offers.pause_offer(db_session, actor=world.host_coordinator, offer_id=world.host_offer.id, reason="Ferien")
    db_session.commit()
    assert group_key(world.host_offer.id) not in _live(db_session).problem.groups
    assert world.host_offer.id not in _offers_proposed(db_session, world.person.id)


def test_an_offer_edited_behind_the_services_back_is_seen(db_session: Session) -> None:
    world = build_world(db_session)
    world.host_offer.vacancy_confirmed_at = utcnow()
    db_session.add(world.host_offer)
    db_session.commit()
    assert _live(db_session).problem.groups[group_key(world.host_offer.id)].seats == 8
    world.host_offer.seats = 5  # no version bump: updated_at alone must tell
    db_session.add(world.host_offer)
    db_session.commit()
    assert _live(db_session).problem.groups[group_key(world.host_offer.id)].seats == 5


def test_replaced_availability_is_seen_even_with_reused_row_ids(db_session: Session) -> None:
    world = build_world(db_session)
    key = person_key(world.person.id)
    assert Window(0, 14 * 60, 19 * 60) in _live(db_session).problem.people[key].available
    # replace the windows (as the case form does) but without touching the case row itself
    db_session.execute(delete(AvailabilityWindow).where(AvailabilityWindow.young_person_id == world.person.id))
    db_session.add_all(AvailabilityWindow(young_person_id=world.person.id, weekday=d, start_minute=16 * 60,
                                          end_minute=18 * 60) for d in range(5))
    db_session.commit()
    assert _live(db_session).problem.people[key].available == tuple(
        Window(d, 16 * 60, 18 * 60) for d in range(5))


def test_needs_wishes_and_keep_apart_are_seen(db_session: Session) -> None:
    world = build_world(db_session)
    other = world.young_person()
    girls = make_category(db_session, "girls_group")
    db_session.commit()
    key = person_key(world.person.id)
    _live(db_session)

    world.person.needs = [*world.person.needs, girls]  # only the link row is new
    db_session.commit()
    assert "girls_group" in _live(db_session).problem.people[key].needs

    db_session.add(OfferWish(young_person_id=world.person.id, offer_id=world.host_offer.id, kind="preferred"))
    db_session.commit()
    assert _live(db_session).problem.people[key].preferred == {group_key(world.host_offer.id)}

    db_session.add(KeepApart(young_person_a_id=world.person.id, young_person_b_id=other.id,
                             created_by=world.caseworker.id))
    db_session.commit()
    assert _live(db_session).problem.people[key].avoid_with == (person_key(other.id),)


def test_a_placement_changing_status_is_seen(db_session: Session) -> None:
    world = build_world(db_session)
    proposal = make_placement(db_session, young_person=world.person, offer=world.host_offer, status="proposed")
    db_session.commit()
    key, group = person_key(world.person.id), group_key(world.host_offer.id)
    assert _live(db_session).problem.people[key].pinned == ()
    proposal = db_session.get(Placement, proposal.id)
    proposal.status, proposal.confirmed_at = "confirmed", utcnow()  # no version bump, no event
    db_session.add(proposal)
    db_session.commit()
    assert _live(db_session).problem.people[key].pinned == (group,)


def test_new_solver_weights_give_a_new_problem(db_session: Session) -> None:
    build_world(db_session)
    before = _live(db_session)
    db_session.add(Setting(key=WEIGHTS_SETTING, value={"km": 7.5}))
    db_session.commit()
    after = _live(db_session)
    assert after is not before and after.problem.weights["km"] == 7.5


def test_an_offer_turning_stale_gives_a_new_problem(db_session: Session) -> None:
    world = build_world(db_session)
    now = utcnow()
    world.host_offer.vacancy_confirmed_at = now - timedelta(days=29)
    db_session.add(world.host_offer)
    db_session.commit()
    key = group_key(world.host_offer.id)
    fresh = _live(db_session, now=now)
    assert fresh.problem.groups[key].seats == 8
    later = _live(db_session, now=now + timedelta(days=2))  # no data changed, but time passed
    assert later is not fresh and later.problem.groups[key].seats == 4  # stale: half the seats are planned
    assert _live(db_session, now=now).problem.groups[key].seats == 8


def test_data_state_moves_with_every_kind_of_change(db_session: Session) -> None:
    world = build_world(db_session)
    states = [data_state(db_session)]
    make_placement(db_session, young_person=world.person, offer=world.own_offer)
    db_session.commit()
    states.append(data_state(db_session))
    world.own_offer.title = "Neuer Titel"
    db_session.add(world.own_offer)
    db_session.commit()
    states.append(data_state(db_session))
    world.person.max_travel_km = 3.0
    db_session.add(world.person)
    db_session.commit()
    states.append(data_state(db_session))
    assert len(set(states)) == len(states)
    assert data_state(db_session) == states[-1]
