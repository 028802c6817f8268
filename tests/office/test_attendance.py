"""Attendance: session dates, recording, corrections, access, monthly totals and exports."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from marketplace import attendance as att
from marketplace.models import Attendance, AttendanceCorrection, AuditEvent, Role
from tests.factories import make_user

from .conftest import MONDAY

TODAY = date(2025, 3, 31)


def record(session, group, day, marks, *, actor=None, session_index=0, reason=None):
    offer = group["offer"]
    return att.record_attendance(
        session, offer_id=offer.id, session_date=day, offer_session_id=offer.sessions[session_index].id,
        marks={group["members"][name].id: status for name, status in marks.items()},
        actor=actor or group["coordinator"], reason=reason, today=TODAY)


def test_session_dates_follow_weekdays_and_the_offer_period(session, group):
    offer = group["offer"]
    march = att.session_dates(offer, "2025-03")
    assert [d.day.day for d in march] == [3, 6, 10, 13, 17, 20, 24, 27, 31]
    assert march[0].time_label == "15:00–17:00" and march[1].minutes == 90
    assert march[0].key == f"2025-03-03_{offer.sessions[0].id}"
    # first and last date bound the dates
    assert [d.day for d in att.session_dates(offer, date(2025, 2, 1))][0] == date(2025, 2, 3)
    assert att.session_dates(offer, "2025-08") == []
    assert att.session_dates(offer, "2025-07")[-1].day == date(2025, 7, 31)
    assert att.find_session_date(offer, date(2025, 3, 4), offer.sessions[0].id) is None
    assert att.latest_session_date(offer, date(2025, 3, 12)).day == date(2025, 3, 10)
    assert [d.day for d in att.upcoming_session_dates(offer, date(2025, 3, 29), count=3)] == [
        date(2025, 3, 31), date(2025, 4, 3), date(2025, 4, 7)]
    with pytest.raises(ValueError):
        att.parse_month("2025-13")


def test_members_are_placements_active_on_the_date(session, group):
    offer = group["offer"]
    assert [m.pseudonym for m in att.members_on(session, offer.id, date(2025, 3, 10))] == ["JM-A", "JM-B", "JM-WEG"]
    assert [m.pseudonym for m in att.members_on(session, offer.id, date(2025, 3, 13))] == ["JM-A", "JM-B", "JM-NEU"]


def test_record_creates_marks_and_a_german_confirmation(session, group):
    result = record(session, group, MONDAY, {"JM-A": "present", "JM-B": "excused", "JM-WEG": "absent"})
    assert (result.created, result.corrected, result.unchanged) == (3, 0, 0)
    rows = session.exec(select(Attendance)).all()
    assert {(r.placement_id, r.status) for r in rows} == {
        (group["members"]["JM-A"].id, "present"), (group["members"]["JM-B"].id, "excused"),
        (group["members"]["JM-WEG"].id, "absent")}
    assert all(r.recorded_by == group["coordinator"].id for r in rows)
    assert att.confirmation_message(result) == (
        "Teilnahme am Mo, 03.03.2025 (15:00–17:00) gespeichert: 1 anwesend, 1 abwesend, 1 entschuldigt.")
    event = session.exec(select(AuditEvent).where(AuditEvent.object_type == "attendance")).one()
    assert (event.action, event.object_id, event.user_id) == ("create", str(group["offer"].id),
                                                              group["coordinator"].id)


def test_a_changed_mark_is_kept_as_a_correction_with_who_when_and_why(session, group):
    record(session, group, MONDAY, {"JM-A": "absent", "JM-B": "present"})
    result = record(session, group, MONDAY, {"JM-A": "excused", "JM-B": "present"}, reason="Attest nachgereicht")
    assert (result.created, result.corrected, result.unchanged) == (0, 1, 1)
    correction = session.exec(select(AttendanceCorrection)).one()
    assert (correction.old_status, correction.new_status, correction.reason) == ("absent", "excused",
                                                                                 "Attest nachgereicht")
    assert correction.corrected_by == group["coordinator"].id and correction.corrected_at is not None
    mark = session.exec(select(Attendance).where(Attendance.placement_id == group["members"]["JM-A"].id)).one()
    assert mark.status == "excused"
    history = att.correction_history(session, group["offer"].sessions[0].id, MONDAY)
    assert [(h.pseudonym, h.old_status, h.new_status, h.corrected_by) for h in history] == [
        ("JM-A", "absent", "excused", "Kim Koordination")]
    assert "1 Korrektur protokolliert" in att.confirmation_message(result)


@pytest.mark.parametrize("role", [Role.caseworker, Role.planner, Role.admin])
def test_only_the_hosting_coordinator_may_record(session, group, role):
    with pytest.raises(att.AttendanceDenied):
        record(session, group, MONDAY, {"JM-A": "present"}, actor=make_user(session, role))
    with pytest.raises(att.AttendanceDenied):
        record(session, group, MONDAY, {"JM-A": "present"}, actor=group["other"])
    assert session.exec(select(Attendance)).all() == []


def test_bad_input_writes_nothing_and_names_every_problem(session, group):
    record(session, group, MONDAY, {"JM-A": "present"})
    with pytest.raises(att.AttendanceError) as problem:
        # JM-NEU joined on 12 March; "late" is no status; the good mark for JM-B is not written either
        record(session, group, MONDAY, {"JM-B": "present", "JM-NEU": "present", "JM-A": "late"})
    assert len(problem.value.messages) == 2
    assert any("gehört am 03.03.2025 nicht zu dieser Gruppe" in m for m in problem.value.messages)
    assert any(m.startswith("JM-A: Bitte wählen Sie") for m in problem.value.messages)
    assert len(session.exec(select(Attendance)).all()) == 1
    with pytest.raises(att.AttendanceError, match="findet dieser Termin"):
        record(session, group, date(2025, 3, 4), {"JM-A": "present"})  # a Tuesday
    with pytest.raises(att.AttendanceError, match="erst am Tag des Termins"):
        att.record_attendance(session, offer_id=group["offer"].id, session_date=date(2025, 4, 7),
                              offer_session_id=group["offer"].sessions[0].id, marks={}, actor=group["coordinator"],
                              today=TODAY)
    with pytest.raises(att.AttendanceError, match="höchstens 300"):
        record(session, group, MONDAY, {"JM-A": "absent"}, reason="x" * 301)


def test_declined_placements_are_never_members(session, group):
    offer = group["offer"]
    names = {m.pseudonym for d in att.session_dates(offer, "2025-03") for m in att.members_on(session, offer.id, d.day)}
    assert "JM-ABGELEHNT" not in names


def test_monthly_totals_per_member_and_date(session, group):
    record(session, group, date(2025, 3, 3), {"JM-A": "present", "JM-B": "absent", "JM-WEG": "present"})
    record(session, group, date(2025, 3, 6), {"JM-A": "present", "JM-B": "excused", "JM-WEG": "absent"},
           session_index=1)
    record(session, group, date(2025, 3, 13), {"JM-A": "present", "JM-NEU": "present"}, session_index=1)
    month = att.monthly_attendance(session, offer_id=group["offer"].id, month="2025-03", today=TODAY)
    assert [m.pseudonym for m in month.members] == ["JM-A", "JM-B", "JM-NEU", "JM-WEG"]
    a, b, new, gone = month.members
    assert a.marks[:4] == ["present", "present", None, "present"]
    assert (a.present, a.absent, a.excused, a.open) == (3, 0, 0, 6)
    assert a.present_minutes == 120 + 90 + 90 and a.present_hours == pytest.approx(5.0)
    assert (b.present, b.absent, b.excused) == (0, 1, 1)
    assert new.marks[:3] == ["", "", ""]  # not yet a member
    assert (new.present, new.open) == (1, 5)
    assert gone.marks[3:] == [""] * 6  # left on 10 March: the 10th still counts
    assert gone.marks[2] is None and gone.open == 1
    assert (month.present, month.absent, month.excused) == (5, 2, 1)
    assert month.present_minutes == 120 * 2 + 90 + 90 * 2
    assert [month.present_on(i) for i in range(4)] == [2, 1, 0, 2]


def test_monthly_overview_does_not_count_future_dates_as_open(session, group):
    month = att.monthly_attendance(session, offer_id=group["offer"].id, month="2025-03", today=date(2025, 3, 12))
    a = month.members[0]
    assert a.open == 3  # 3, 6 and 10 March; the 13th and later are in the future
    assert [month.is_future(i) for i in range(4)] == [False, False, False, True]


def test_monthly_export_contents(client, session, group, as_coordinator):
    record(session, group, date(2025, 3, 3), {"JM-A": "present", "JM-B": "absent"})
    offer = group["offer"]
    response = client.get(f"/buero/teilnahme/monat/export?angebot={offer.id}&monat=2025-03&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="teilnahme-{offer.id}-2025-03.csv"'
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:2] == ["Teilnehmende", "Mo 03.03. 15:00–17:00"]
    assert rows[0][-5:] == ["anwesend", "abwesend", "entschuldigt", "offen", "Anwesenheitsstunden"]
    assert rows[1][:2] == ["JM-A", "anwesend"] and rows[1][-5:-1] == ["1", "0", "0", "8"]
    assert rows[1][-1] == "2"
    assert rows[2][:2] == ["JM-B", "abwesend"]
    assert rows[-1][0] == "Summe" and rows[-1][1] == "1"
    xlsx = client.get(f"/buero/teilnahme/monat/export?angebot={offer.id}&monat=2025-03&format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "Teilnehmende" and values[1][:2] == ["JM-A", "anwesend"]
    assert values[1][-1] == 2 and values[-1][0] == "Summe"
