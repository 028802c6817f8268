"""Two confirmations can never overfill a group: many threads race for the last seats, on both databases."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from marketplace import placements, seats
from marketplace.models import GroupOffer, Placement, PlacementRequest, User
from marketplace.placements import PlacementError
from tests.factories import make_placement

from .conftest import build_world

RACERS = 50
FREE = 3


def _race(engine: Engine, request_ids: list[int], actor_id: int, offer_id: int) -> list[object]:
    """Each thread confirms one request at the same moment; returns placements or PlacementErrors."""
    barrier = threading.Barrier(len(request_ids), timeout=60)
    results: list[object] = [None] * len(request_ids)

    def run(index: int, request_id: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()  # no connection is held while waiting (the pool has fewer than RACERS)
            actor = session.get(User, actor_id)
            try:
                results[index] = placements.confirm_option(
                    session, request_id=request_id, offer_ids=[offer_id], actor=actor
                )
            except PlacementError as exc:
                results[index] = exc
            except Exception as exc:  # anything else is a bug the test must show
                results[index] = exc

    threads = [threading.Thread(target=run, args=(i, rid)) for i, rid in enumerate(request_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_racing_confirmations_take_exactly_the_free_seats(db_engine: Engine) -> None:
    with Session(db_engine, expire_on_commit=False) as session:
        world = build_world(session)
        offer = world.offer(title="Letzte Plätze", seats=10, sessions=((3, 15 * 60, 17 * 60),))
        for _ in range(offer.seats - FREE):  # seven seats already held
            make_placement(session, young_person=world.young_person(), offer=offer, status="accepted")
            assert seats.take_seat(session, offer.id)
        session.commit()
        jobs = []
        for _ in range(RACERS):
            person = world.young_person()
            session.commit()
            request = placements.request_placement(session, young_person_id=person.id, actor=world.caseworker)
            jobs.append(request.request.id)
        actor_id, offer_id = world.caseworker.id, offer.id

    results = _race(db_engine, jobs, actor_id, offer_id)

    won = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, PlacementError)]
    other = [r for r in results if not isinstance(r, list | PlacementError)]
    assert other == [], f"unexpected failures: {other[:3]}"
    assert len(won) == FREE and len(refused) == RACERS - FREE
    assert all("„Letzte Plätze“ ist inzwischen voll" in e.message for e in refused)
    with Session(db_engine) as session:
        offer = session.get(GroupOffer, offer_id)
        held = session.exec(
            select(func.count())
            .select_from(Placement)
            .where(Placement.offer_id == offer_id, Placement.status.in_(("confirmed", "accepted")))
        ).one()
        assert offer.seats_taken == offer.seats == held == 10
        # the losers' requests are untouched and still open: nothing half-written
        statuses = session.exec(select(PlacementRequest.status).where(PlacementRequest.id.in_(jobs))).all()
        assert sorted(statuses).count("fulfilled") == FREE and statuses.count("open") == RACERS - FREE


@pytest.mark.parametrize("actions", [("accept", "decline"), ("decline", "decline"), ("decline", "end")])
def test_racing_answers_release_a_seat_at_most_once(db_engine: Engine, actions: tuple[str, str]) -> None:
    with Session(db_engine, expire_on_commit=False) as session:
        world = build_world(session)
        request = placements.request_placement(session, young_person_id=world.person.id, actor=world.caseworker)
        (placement,) = placements.confirm_option(
            session, request_id=request.request.id, offer_ids=[world.host_offer.id], actor=world.caseworker
        )
        ids = placement.id, world.host_offer.id, world.host_coordinator.id
    placement_id, offer_id, coordinator_id = ids
    barrier = threading.Barrier(2, timeout=60)
    outcomes: list[object] = [None, None]

    def run(index: int, action: str) -> None:
        with Session(db_engine, expire_on_commit=False) as session:
            barrier.wait()
            actor = session.get(User, coordinator_id)
            try:
                if action == "accept":
                    placements.accept_placement(session, placement_id=placement_id, actor=actor)
                elif action == "decline":
                    placements.decline_placement(session, placement_id=placement_id, actor=actor, reason="voll")
                else:
                    placements.end_placement(session, placement_id=placement_id, actor=actor, reason="help_ended")
                outcomes[index] = "ok"
            except PlacementError as exc:
                outcomes[index] = exc
            except Exception as exc:
                outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("ok") == 1
    assert all(o == "ok" or isinstance(o, PlacementError) for o in outcomes), outcomes
    with Session(db_engine) as session:
        final = session.get(Placement, placement_id)
        assert session.get(GroupOffer, offer_id).seats_taken == seats.held_seats(session, offer_id)
        assert final.status in ("accepted", "declined", "ended")
