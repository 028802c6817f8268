"""Monthly sign-off: fingerprints at sign-off, later changes flagged on the report that they touch."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from marketplace.ledger import book_month
from marketplace.models import Attendance, AuditEvent, IndividualHours, ReportReview
from marketplace.reports.filters import ReportFilters
from marketplace.reports.pages import build_page
from marketplace.reports.signoff import ReviewError, sign_off, states_with_changes

from .district import TODAY, District

PERIOD = ReportFilters(first_month="2026-01", last_month="2026-03")


def _states(district):
    return states_with_changes(district.session, filters=PERIOD, today=TODAY)


def test_sign_off_stores_fingerprints_comment_and_audit(district: District):
    review = sign_off(district.session, month="2026-01", actor=district.planner, comment="Geprüft, passt.",
                      today=TODAY)
    assert review.comment == "Geprüft, passt." and review.reviewed_by == district.planner.id
    assert set(review.section_hashes) == {"auslastung", "modulstunden", "traegeruebergreifend"}
    assert len(review.data_hash) == 64
    states = _states(district)
    assert states["2026-01"].changed == [] and states["2026-01"].reviewer == "Petra Planung"
    events = district.session.exec(select(AuditEvent).where(AuditEvent.object_type == "report_review")).all()
    assert [(e.action, e.object_id) for e in events] == [("update", "2026-01")]


def test_signing_off_again_replaces_the_review(district: District):
    sign_off(district.session, month="2026-02", actor=district.planner, comment="erst", today=TODAY)
    sign_off(district.session, month="2026-02", actor=district.planner, comment="zweit", today=TODAY)
    rows = district.session.exec(select(ReportReview)).all()
    assert [(r.month, r.comment) for r in rows] == [("2026-02", "zweit")]


@pytest.mark.parametrize("month, message", [("2026-03", "abgelaufene"), ("2026-13", "JJJJ-MM"), ("", "JJJJ-MM")])
def test_only_past_months_can_be_signed_off(district: District, month, message):
    with pytest.raises(ReviewError, match=message):
        sign_off(district.session, month=month, actor=district.planner, comment="", today=TODAY)


def test_too_long_comment_is_refused(district: District):
    with pytest.raises(ReviewError, match="2000"):
        sign_off(district.session, month="2026-01", actor=district.planner, comment="x" * 2001, today=TODAY)


def test_later_attendance_change_is_flagged_on_occupancy_and_hours(district: District):
    session = district.session
    sign_off(session, month="2026-01", actor=district.planner, comment="ok", today=TODAY)
    sign_off(session, month="2026-02", actor=district.planner, comment="ok", today=TODAY)
    absent = session.exec(select(Attendance).where(Attendance.session_date == date(2026, 1, 19),
                                                   Attendance.status == "absent")).one()
    absent.status = "present"
    session.commit()
    states = _states(district)
    assert states["2026-01"].changed == ["Auslastung", "Modulstunden"]
    assert states["2026-02"].changed == []
    page = build_page(session, key="auslastung", filters=PERIOD, option="traeger", today=TODAY)
    assert [s.month for s in page.changed] == ["2026-01"]
    # with a filter the fingerprints are still of the whole district
    filtered = build_page(session, key="auslastung", option="monat", today=TODAY,
                          filters=ReportFilters("2026-01", "2026-03", sozialraum_id=district.sued.id))
    assert [s.month for s in filtered.changed] == ["2026-01"]


def test_later_ledger_and_hours_changes_are_flagged(district: District):
    session = district.session
    sign_off(session, month="2026-02", actor=district.planner, comment="ok", today=TODAY)
    y2_feb = session.exec(select(Attendance).where(Attendance.session_date == date(2026, 2, 2),
                                                   Attendance.placement_id == district.placements["Y2"].id)).one()
    y2_feb.status = "excused"
    book_month(session, month="2026-02")
    session.commit()
    assert _states(district)["2026-02"].changed == ["Auslastung", "Modulstunden", "Trägerübergreifende Nutzung"]
    page = build_page(session, key="traegeruebergreifend", filters=PERIOD, option=None, today=TODAY)
    assert page.changed[0].changed == ["Trägerübergreifende Nutzung"]


def test_individual_hours_reported_later_are_flagged(district: District):
    session = district.session
    sign_off(session, month="2026-02", actor=district.planner, comment="ok", today=TODAY)
    session.add(IndividualHours(young_person_id=district.people["Y1"].id, month="2026-02", minutes=300,
                                provider_id=district.alpha.id))
    session.commit()
    assert _states(district)["2026-02"].changed == ["Modulstunden"]
