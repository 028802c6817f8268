"""Property: over random days of registrations, confirmations, endings and nightly runs,
confirmed placements never move, no group is overbooked, and every run's solution verifies."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlmodel import Session, select

from marketplace.models import GroupOffer, Placement, YoungPerson
from marketplace.runs import create_run, execute_run
from marketplace.seats import release_seat, take_seat
from marketplace.timeutil import utcnow
from tests.factories import make_municipality, make_offer, make_young_person
from tests.matching.conftest import verify

DAY = st.fixed_dictionaries({
    "register": st.integers(0, 3),
    "confirm": st.lists(st.integers(0, 50), max_size=3),
    "end": st.lists(st.integers(0, 50), max_size=2),
})


def _held(session: Session) -> set[tuple[int, int]]:
    return {(p.young_person_id, p.offer_id) for p in session.exec(
        select(Placement).where(Placement.status.in_(["confirmed", "accepted"]))).all()}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(DAY, min_size=2, max_size=4), seed=st.integers(0, 3))
def test_pinned_placements_never_move(db_engine, days, seed):
    with Session(db_engine, expire_on_commit=False) as session:
        # Hypothesis reuses the database between examples: retire what earlier examples left
        session.execute(update(Placement).values(status="ended", ended_at=utcnow(), end_reason="Test"))
        session.execute(update(GroupOffer).values(status="ended", seats_taken=0))
        session.execute(update(YoungPerson).values(status="ended"))
        session.commit()
        town = make_municipality(session)
        for n in range(3):
            make_offer(session, municipality=town, seats=2 + (n + seed) % 2, min_size=1 + (n + seed) % 2,
                       sessions=((n, 15 * 60, 17 * 60),))
        session.commit()
        for day in days:
            for _ in range(day["register"]):
                make_young_person(session, municipality=town, availability=tuple(
                    (d, 14 * 60, 19 * 60) for d in range(5)), approval_start=date.today() - timedelta(days=1))
            proposals = session.exec(select(Placement).where(Placement.status == "proposed")
                                     .order_by(Placement.id)).all()
            for index in day["confirm"]:
                if proposals:
                    placement = proposals[index % len(proposals)]
                    if placement.status == "proposed" and take_seat(session, placement.offer_id):
                        placement.status, placement.confirmed_at = "confirmed", utcnow()
            held = session.exec(select(Placement).where(Placement.status == "confirmed")
                                .order_by(Placement.id)).all()
            for index in day["end"]:
                if held:
                    placement = held[index % len(held)]
                    if placement.status == "confirmed":
                        release_seat(session, placement.offer_id)
                        placement.status, placement.ended_at, placement.end_reason = "ended", utcnow(), "Test"
            session.commit()

            before = _held(session)
            run_id = create_run(db_engine, kind="nightly")
            run = execute_run(db_engine, run_id, time_limit_s=5, deterministic=True)
            assert run.status == "done", run.error
            verify(run.problem_json, run.solution_json)
            session.expire_all()
            assert _held(session) == before  # the run never touches confirmed placements
            for offer in session.exec(select(GroupOffer)).all():
                assert offer.seats_taken <= offer.seats
