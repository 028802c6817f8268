"""The scheduler process: its jobs, their Berlin times, and running a job once from the CLI."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from marketplace.models import SolverRun
from marketplace.scheduler import build_scheduler
from tests.factories import make_municipality, make_offer, make_young_person


@pytest.fixture
def app_overrides() -> dict:
    return {"NIGHTLY_TIME": "03:15"}


def test_jobs_run_at_configured_berlin_times_and_coalesce(app):
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"nightly", "housekeeping"}
    nightly = {f.name: str(f) for f in jobs["nightly"].trigger.fields}
    assert (nightly["hour"], nightly["minute"]) == ("3", "15")
    assert str(jobs["nightly"].trigger.timezone) == "Europe/Berlin"
    assert jobs["nightly"].coalesce is True and jobs["nightly"].max_instances == 1


def test_bad_time_is_refused_in_german(app):
    app.config["NIGHTLY_TIME"] = "zwei Uhr"
    with pytest.raises(Exception, match="Ungültige Uhrzeit"):
        build_scheduler(app)


def test_run_once_records_one_nightly_run_per_day(app, runner, session):
    town = make_municipality(session)
    make_offer(session, municipality=town, min_size=1)
    make_young_person(session, municipality=town)
    session.commit()
    first = runner.invoke(args=["scheduler", "run-once", "nightly"])
    assert first.exit_code == 0 and "1 junge Menschen versorgt" in first.output
    second = runner.invoke(args=["scheduler", "run-once", "nightly"])
    assert second.exit_code == 0 and "lief bereits" in second.output
    assert session.exec(select(func.count()).select_from(SolverRun)).one() == 1


def test_housekeeping_and_unknown_job(runner):
    result = runner.invoke(args=["scheduler", "run-once", "housekeeping"])
    assert result.exit_code == 0 and "Tagesaufgaben" in result.output
    result = runner.invoke(args=["scheduler", "run-once", "gibtsnicht"])
    assert result.exit_code != 0 and "Unbekannter Job" in result.output
    assert "Traceback" not in result.output
