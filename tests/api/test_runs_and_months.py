"""Planning actions through the API: starting a solver run (and polling it), closing a ledger month.

Neither has records of a team or provider, so "foreign record" means: another run is active (nothing is
started), a month that cannot be closed (nothing is written). Roles other than planning are refused.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from marketplace.ledger import next_month
from marketplace.models import Attendance, AuditEvent, MonthClose, SharedUse, SolverRun
from marketplace.timeutil import month_key, today_berlin, utcnow
from tests.factories import make_placement, make_young_person

from .conftest import District, wait_for_solver_runs
from .test_flows import Api

RUNS = "/api/v1/solver-runs"
RUN = "/api/v1/solver-runs/{run_id}"
CLOSE = "/api/v1/statements/{month}/close"


def _runs(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(SolverRun))


def _closed(session: Session) -> list[str]:
    session.expire_all()
    return list(session.exec(select(MonthClose.month).order_by(MonthClose.month)).all())


def _month_before(month: str) -> str:
    first = date(int(month[:4]), int(month[5:]), 1)
    return month_key(first - timedelta(days=1))


# --------------------------------------------------------------------------- solver runs


def test_planner_starts_a_run_and_polls_it_until_done(app, district: District, session):
    api = Api(app, district)
    started = api("planner", "POST", RUNS, status=202)
    run = started.get_json()
    assert started.headers["Location"].endswith(f"/api/v1/solver-runs/{run['id']}")
    assert run["kind"] == "on_demand" and run["status"] in ("queued", "running", "done")
    wait_for_solver_runs()
    done = api("planner", "GET", RUN, status=200, run_id=run["id"]).get_json()
    assert done["status"] == "done" and done["progress"] is None
    assert done["kpis"]["applied"] is True and done["solver_status"] in ("OPTIMAL", "FEASIBLE")
    assert session.get(SolverRun, run["id"]).started_by == district.users["planner"].id
    assert session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "solver_run",
                                                        AuditEvent.object_id == str(run["id"]))).all() == ["create"]


def test_no_second_run_while_one_is_active(app, district: District, session):
    api = Api(app, district)
    active = SolverRun(run_key="scheduler-night", kind="nightly", status="running", started_at=utcnow())
    session.add(active)
    session.commit()
    before = _runs(session)
    refused = api("planner", "POST", RUNS, status=409)
    assert refused.get_json()["detail"].startswith(f"Es läuft bereits ein Abgleich (Lauf {active.id})")
    assert refused.headers["Location"].endswith(f"/api/v1/solver-runs/{active.id}")
    polled = api("planner", "GET", RUN, status=200, run_id=active.id).get_json()
    assert polled["status"] == "running" and polled["progress"] is None  # runs in another process
    assert _runs(session) == before


def test_only_planning_starts_runs(app, district: District, session):
    api = Api(app, district)
    before = _runs(session)
    for role in ("coordinator", "caseworker", "admin"):
        api(role, "POST", RUNS, status=403)
        api(role, "GET", RUN, status=403, run_id=district.run.id)
    api("planner", "GET", RUN, status=404, run_id=999999)
    assert _runs(session) == before


# --------------------------------------------------------------------------- closing a month


def test_planner_closes_a_month_once(app, district: District, session):
    api = Api(app, district)
    last = _month_before(month_key(today_berlin()))
    closed = api("planner", "POST", CLOSE, status=200, month=last).get_json()
    assert closed == {"month": last, "closed": True, "entries": 0, "total_cents": 0, "adjustments": 0}
    assert api("planner", "GET", "/api/v1/statements/{month}", status=200, month=last).get_json()["closed"] is True
    assert _closed(session) == [last]
    assert session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "month_close",
                                                        AuditEvent.object_id == last)).all() == ["update"]
    again = api("planner", "POST", CLOSE, status=409, month=last).get_json()
    assert again["detail"] == f"Der Monat {last} ist bereits abgeschlossen."
    assert _closed(session) == [last]


def test_months_that_cannot_be_closed_are_refused_and_nothing_is_written(app, district: District, session):
    api = Api(app, district)
    current = month_key(today_berlin())
    running = api("planner", "POST", CLOSE, status=409, month=current).get_json()
    assert running["detail"] == f"Der Monat {current} ist noch nicht vorbei und kann nicht abgeschlossen werden."
    assert api("planner", "POST", CLOSE, status=409, month=next_month(current)).get_json()["detail"]
    # attendance of a shared use two months ago: that month must be closed first
    last = _month_before(current)
    earlier = _month_before(last)
    person = make_young_person(session, team=district.teams["own"], lead_provider_id=district.providers["foreign"].id)
    placement = make_placement(session, young_person=person, offer=district.published["own"], status="accepted")
    session.add(SharedUse(placement_id=placement.id, host_provider_id=district.providers["own"].id,
                          lead_provider_id=district.providers["foreign"].id, variant="A", rate_cents=2000))
    session.add(Attendance(placement_id=placement.id, session_date=date(int(earlier[:4]), int(earlier[5:]), 3),
                           offer_session_id=district.published["own"].sessions[0].id, status="present"))
    session.commit()
    order = api("planner", "POST", CLOSE, status=409, month=last).get_json()
    assert order["detail"] == f"Bitte zuerst den Monat {earlier} abschließen."
    for bad in ("2025-13", "März", "2025-1"):
        api("planner", "POST", CLOSE, status=404, month=bad)
    assert _closed(session) == []
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "month_close")) == 0


def test_only_planning_closes_months(app, district: District, session):
    api = Api(app, district)
    last = _month_before(month_key(today_berlin()))
    for role in ("coordinator", "caseworker", "admin"):
        api(role, "POST", CLOSE, status=403, month=last)
    assert _closed(session) == []
