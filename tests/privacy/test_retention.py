"""Retention: ended cases are anonymised after the configured period; ledger and reports keep their rows."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, func, select

from marketplace.models import (
    Attendance,
    AttendanceCorrection,
    AuditEvent,
    CaseEvent,
    IndividualHours,
    KeepApart,
    OfferWish,
    OffsetEntry,
    Placement,
    PlacementEvent,
    PlacementRequest,
    Setting,
    YoungPerson,
)
from marketplace.privacy import ANONYMISED_OBJECT, REDACTED, anonymise_ended_cases, retention_days
from marketplace.scheduler import HOUSEKEEPING_STEPS

from .conftest import ENDED_AT

ENDED_DAY = ENDED_AT.date()


def _count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_default_retention_is_two_years_and_configurable(session: Session):
    assert retention_days(session) == 730
    session.add(Setting(key="privacy.retention_days", value=90))
    session.flush()
    assert retention_days(session) == 90


def test_a_case_inside_the_period_is_kept(session: Session, built):
    assert anonymise_ended_cases(session, today=ENDED_DAY + timedelta(days=730)) == 0
    session.expire_all()
    assert session.get(YoungPerson, built["person"].id).case_reference is not None


def test_an_ended_case_past_the_period_is_anonymised(session: Session, built):
    person = built["person"]
    kept = {model: _count(session, model) for model in (Placement, Attendance, OffsetEntry, IndividualHours,
                                                         PlacementEvent, PlacementRequest, CaseEvent)}
    audit_before = _count(session, AuditEvent)
    assert anonymise_ended_cases(session, today=ENDED_DAY + timedelta(days=731)) == 1
    session.commit()
    session.expire_all()

    yp = session.get(YoungPerson, person.id)
    assert (yp.status, yp.case_reference, yp.lat, yp.lon) == ("anonymised", None, None, None)
    assert yp.pseudonym == person.pseudonym and yp.municipality_id == person.municipality_id
    assert [c.code for c in yp.needs] == ["social_skills"]  # statistics keep the needs
    assert _count(session, KeepApart) == 0 and _count(session, OfferWish) == 0
    assert {model: _count(session, model) for model in kept} == kept  # ledger and reports keep their rows
    notes = [
        *session.exec(select(CaseEvent.reason).where(CaseEvent.young_person_id == person.id)),
        *session.exec(select(PlacementRequest.note).where(PlacementRequest.young_person_id == person.id)),
    ]
    assert notes == [None, None]
    placements = session.exec(select(Placement).where(Placement.young_person_id == person.id)).all()
    assert {p.end_reason or p.decline_reason for p in placements} == {REDACTED}
    assert set(session.exec(select(PlacementEvent.reason).where(PlacementEvent.reason.is_not(None)))) == {REDACTED}
    assert session.exec(select(AttendanceCorrection.reason)).one() == REDACTED
    assert _count(session, AuditEvent) == audit_before + 1
    event = session.exec(select(AuditEvent).where(AuditEvent.object_type == ANONYMISED_OBJECT)).one()
    assert (event.case_id, event.action, event.user_id) == (person.id, "delete", None)
    # the partner of the removed keep-apart link is untouched
    assert session.get(YoungPerson, built["partner"].id).case_reference is not None


def test_anonymising_is_idempotent(session: Session, built):
    today = ENDED_DAY + timedelta(days=800)
    assert anonymise_ended_cases(session, today=today) == 1
    session.commit()
    assert anonymise_ended_cases(session, today=today) == 0
    session.commit()
    assert _count(session, AuditEvent) == 3  # two from the case, one anonymisation


def test_the_period_setting_is_respected(session: Session, built):
    session.add(Setting(key="privacy.retention_days", value=30))
    session.commit()
    assert anonymise_ended_cases(session, today=ENDED_DAY + timedelta(days=30)) == 0
    assert anonymise_ended_cases(session, today=ENDED_DAY + timedelta(days=31)) == 1


def test_active_cases_are_never_anonymised(session: Session, built):
    assert anonymise_ended_cases(session, today=date(2099, 1, 1)) == 1  # only the ended one
    session.expire_all()
    assert session.get(YoungPerson, built["partner"].id).status == "active"


def test_it_is_a_daily_housekeeping_step():
    assert ("marketplace.privacy", "anonymise_ended_cases") in HOUSEKEEPING_STEPS


def test_cli_anonymises_with_a_date_and_answers_in_german(runner, session: Session, built):
    result = runner.invoke(args=["privacy", "anonymise", "--date", "2026-06-01"])
    assert result.exit_code == 0, result.output
    assert "1 beendete(r) Fall/Fälle anonymisiert" in result.output
    session.expire_all()
    assert session.get(YoungPerson, built["person"].id).status == "anonymised"
    bad = runner.invoke(args=["privacy", "anonymise", "--date", "morgen"])
    assert bad.exit_code != 0 and "Ungültiges Datum" in bad.output


def test_cli_shows_and_sets_the_period(runner, session: Session):
    assert "730 Tage" in runner.invoke(args=["privacy", "retention"]).output
    result = runner.invoke(args=["privacy", "retention", "--days", "365"])
    assert result.exit_code == 0 and "365 Tage" in result.output
    assert retention_days(session) == 365
    assert session.exec(select(AuditEvent).where(AuditEvent.object_id == "privacy.retention_days")).one()
    bad = runner.invoke(args=["privacy", "retention", "--days", "3"])
    assert bad.exit_code != 0 and "zwischen 30 und 36500" in bad.output
