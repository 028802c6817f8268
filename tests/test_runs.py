"""Solver runs: record, apply in one transaction, disruption budget, once per night (both databases)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlmodel import Session, func, select

import marketplace.runs as runs
from marketplace.models import Placement, Setting, SolverRun
from marketplace.runs import create_run, execute_run, nightly_key, run_nightly
from marketplace.snapshot import group_key, person_key
from tests.factories import make_municipality, make_offer, make_placement, make_young_person
from tests.matching.conftest import verify


def _placements(session: Session) -> list[tuple[int, int, str]]:
    session.expire_all()
    rows = session.exec(select(Placement).order_by(Placement.id)).all()
    return [(p.young_person_id, p.offer_id, p.status) for p in rows]


def _district(session: Session, people: int = 3, **offer_overrides):
    town = make_municipality(session)
    offer = make_offer(session, municipality=town, min_size=2, **offer_overrides)
    persons = [make_young_person(session, municipality=town) for _ in range(people)]
    session.commit()
    return town, offer, persons


def test_nightly_run_proposes_verified_placements_and_keeps_pins(db_engine, db_session):
    town, offer, persons = _district(db_session)
    pinned_offer = make_offer(db_session, municipality=town, min_size=1, sessions=((2, 15 * 60, 17 * 60),))
    make_placement(db_session, young_person=persons[0], offer=pinned_offer, status="confirmed")
    db_session.commit()

    run = run_nightly(db_engine, time_limit_s=5)
    assert run.status == "done", run.error
    assert run.run_key == nightly_key(run.created_at.date()) or run.run_key.startswith("nightly-")
    report = verify(run.problem_json, run.solution_json)
    assert report["placed"] == 3
    placements = _placements(db_session)
    assert (persons[0].id, pinned_offer.id, "confirmed") in placements
    for person in persons:
        assert (person.id, offer.id, "proposed") in placements
    assert set(run.diff["gained"]) == {person_key(p.id) for p in persons}
    assert run.kpis["placed"] == 3 and run.kpis["changes"] == 3


def test_second_run_on_unchanged_data_changes_nothing(db_engine, db_session):
    _district(db_session)
    first = execute_run(db_engine, create_run(db_engine, kind="on_demand"), time_limit_s=5)
    assert first.kpis["changes"] == 3
    before = _placements(db_session)
    second = execute_run(db_engine, create_run(db_engine, kind="on_demand"), time_limit_s=5)
    assert second.status == "done" and second.kpis["changes"] == 0
    assert second.diff["gained"] == {} and second.diff["withdrawn"] == {}
    assert _placements(db_session) == before


def test_a_night_is_run_once_even_with_two_schedulers(db_engine, db_session):
    _district(db_session)
    results = []
    barrier = threading.Barrier(2)

    def start():
        barrier.wait()
        results.append(run_nightly(db_engine, time_limit_s=5))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r is None for r in results) == [False, True]
    assert db_session.exec(select(func.count()).select_from(SolverRun)).one() == 1
    assert len(_placements(db_session)) == 3


def test_failure_while_applying_leaves_the_data_as_it_was(db_engine, db_session, monkeypatch):
    _, _, persons = _district(db_session)
    make_placement(db_session, young_person=persons[0], offer=make_offer(db_session, min_size=1), status="proposed")
    db_session.commit()
    before = _placements(db_session)
    real_apply = runs.apply_changes

    def apply_then_crash(*args, **kwargs):
        real_apply(*args, **kwargs)  # rows are written into the transaction ...
        raise OSError("disk full")  # ... and then the apply fails

    monkeypatch.setattr(runs, "apply_changes", apply_then_crash)
    run = execute_run(db_engine, create_run(db_engine, kind="on_demand"), time_limit_s=5)
    assert run.status == "failed" and "Fehler beim Übernehmen" in run.error
    assert _placements(db_session) == before


def test_data_changed_during_the_solve_is_not_overwritten(db_engine, db_session, monkeypatch):
    town, _, _ = _district(db_session)
    real_solve = runs.solve

    def solve_while_someone_registers(*args, **kwargs):
        with Session(db_engine) as other:
            make_young_person(other, municipality=town)
            other.commit()
        return real_solve(*args, **kwargs)

    monkeypatch.setattr(runs, "solve", solve_while_someone_registers)
    run = execute_run(db_engine, create_run(db_engine, kind="on_demand"), time_limit_s=5)
    assert run.status == "failed" and "geändert" in run.error
    assert _placements(db_session) == []


def test_disruption_budget_limits_changes_per_run(db_engine, db_session):
    town = make_municipality(db_session)
    make_offer(db_session, municipality=town, min_size=1)
    people = [make_young_person(db_session, municipality=town) for _ in range(3)]
    db_session.add(Setting(key=runs.MAX_CHANGES_SETTING, value=2))
    db_session.commit()
    run = execute_run(db_engine, create_run(db_engine, kind="on_demand"), time_limit_s=5)
    assert run.kpis["changes"] == 2 and len(run.diff["over_budget"]) == 1
    assert len(_placements(db_session)) == 2
    assert {person_key(p.id) for p in people} == set(run.diff["gained"]) | set(run.diff["over_budget"])


def test_a_young_person_with_a_proposal_is_not_moved_automatically(db_engine, db_session):
    near = make_municipality(db_session)
    far = make_municipality(db_session, lat=near.lat + 0.1, lon=near.lon)  # about 11 km
    # the near group covers the whole target (4 h), the far one only 1 h: the plan would move
    close_offer = make_offer(db_session, municipality=near, min_size=1,
                             sessions=((0, 15 * 60, 17 * 60), (2, 15 * 60, 17 * 60)))
    far_offer = make_offer(db_session, municipality=far, min_size=1, sessions=((0, 15 * 60, 16 * 60),))
    person = make_young_person(db_session, municipality=near)
    make_placement(db_session, young_person=person, offer=far_offer, status="proposed")
    db_session.commit()
    run = execute_run(db_engine, create_run(db_engine, kind="on_demand"), time_limit_s=5)
    assert run.status == "done"
    assert run.diff["waiting_moves"] == {
        person_key(person.id): {"from": [group_key(far_offer.id)], "to": [group_key(close_offer.id)]}
    }
    assert _placements(db_session) == [(person.id, far_offer.id, "proposed")]


def test_cancelled_run_writes_nothing(db_engine, db_session, monkeypatch):
    _district(db_session)
    real_solve = runs.solve

    def solve_and_cancel(problem, options, progress=None, cancel=None):
        cancel.set()
        return real_solve(problem, options, progress=progress, cancel=cancel)

    monkeypatch.setattr(runs, "solve", solve_and_cancel)
    run = execute_run(db_engine, create_run(db_engine, kind="on_demand"), time_limit_s=5)
    assert run.status == "cancelled"
    assert _placements(db_session) == []


@pytest.mark.parametrize("kind", ["on_demand", "what_if"])
def test_runs_without_apply_only_record(db_engine, db_session, kind):
    _district(db_session)
    run = execute_run(db_engine, create_run(db_engine, kind=kind), apply=False, time_limit_s=5)
    assert run.status == "done" and run.kpis["applied"] is False and run.kpis["placed"] == 3
    assert _placements(db_session) == []


def test_only_one_on_demand_run_waits_or_runs_at_a_time(db_engine, db_session):
    """The unique index, not only the view's check: a second on-demand run cannot be created while
    one is queued or running; nightly runs are not affected; once it is done, the next one starts."""
    _district(db_session)
    first = create_run(db_engine, kind="on_demand")
    assert first is not None
    assert create_run(db_engine, kind="on_demand") is None
    assert runs.start_background_run(db_engine, kind="on_demand", started_by=None) is None
    assert create_run(db_engine, kind="nightly", run_key=nightly_key(date(2026, 1, 5))) is not None
    assert execute_run(db_engine, first, time_limit_s=5).status == "done"
    assert create_run(db_engine, kind="on_demand") is not None


def test_of_two_on_demand_requests_at_the_same_moment_only_one_gets_a_run(db_engine):
    barrier = threading.Barrier(2)
    created: list[int | None] = []

    def request() -> None:
        barrier.wait()
        created.append(create_run(db_engine, kind="on_demand"))

    threads = [threading.Thread(target=request) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(created) == 2 and created.count(None) == 1
    with Session(db_engine) as session:
        active = session.exec(select(func.count()).select_from(SolverRun).where(
            SolverRun.kind == "on_demand", SolverRun.status.in_(["queued", "running"]))).one()
    assert active == 1
