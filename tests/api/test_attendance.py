"""Attendance through the API: the hosting provider's coordinator reads a month or a day and records marks.

Each operation: success (with corrections kept and views audited per member), refusal of another provider's
group, bad input (4xx with German messages at their fields, nothing written) and the roles that may not.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from marketplace.models import Attendance, AttendanceCorrection, AuditEvent, Placement, YoungPerson
from marketplace.timeutil import today_berlin, utcnow
from tests.factories import make_placement, make_young_person

from .conftest import District
from .test_flows import Api

MONTH = "/api/v1/offers/{offer_id}/attendance"
DAY = "/api/v1/offers/{offer_id}/attendance/{day}"


def _member(session: Session, district: District) -> Placement:
    """An accepted placement in the own group since before the last Monday (so a member on that date)."""
    person = make_young_person(session, team=district.teams["own"])
    since = utcnow() - timedelta(days=20)
    placement = make_placement(session, young_person=person, offer=district.published["own"], status="accepted",
                               confirmed_at=since, accepted_at=since)
    session.commit()
    return placement


def _last_monday() -> str:
    """The group meets on Mondays; the most recent one (today when it is Monday)."""
    today = today_berlin()
    return (today - timedelta(days=today.weekday())).isoformat()


def _rows(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(Attendance)),
            session.scalar(select(func.count()).select_from(AttendanceCorrection)))


def test_coordinator_records_and_corrects_a_session_date(app, district: District, session):
    api = Api(app, district)
    offer = district.published["own"]
    member = _member(session, district)
    monday = _last_monday()
    day = api("coordinator", "GET", DAY, status=200, offer_id=offer.id, day=monday).get_json()
    [when] = day["sessions"]
    session_id = offer.sessions[0].id
    assert (when["offer_session_id"], when["start_minute"], when["end_minute"]) == (session_id, 900, 1020)
    assert [(m["placement_id"], m["status"]) for m in when["members"]] == [(member.id, None)]

    saved = api("coordinator", "POST", DAY, status=200, offer_id=offer.id, day=monday,
                json={"offer_session_id": session_id, "marks": [{"placement_id": member.id, "status": "present"}]})
    body = saved.get_json()
    assert (body["created"], body["corrected"], body["unchanged"]) == (1, 0, 0)
    assert body["message"].endswith("gespeichert: 1 anwesend.")
    assert body["session"]["members"][0]["status"] == "present"

    corrected = api("coordinator", "POST", DAY, status=200, offer_id=offer.id, day=monday,
                    json={"offer_session_id": session_id, "reason": "Kam erst nach der Pause, dann krank",
                          "marks": [{"placement_id": member.id, "status": "excused"}]}).get_json()
    assert (corrected["created"], corrected["corrected"]) == (0, 1)
    [history] = corrected["session"]["corrections"]
    assert (history["old_status"], history["new_status"], history["reason"]) == (
        "present", "excused", "Kam erst nach der Pause, dann krank")
    assert history["pseudonym"] == session.get(YoungPerson, member.young_person_id).pseudonym
    assert _rows(session) == (1, 1)

    audited = set(session.exec(select(AuditEvent.object_type, AuditEvent.action).where(
        AuditEvent.case_id == member.young_person_id)).all())
    assert ("attendance_list", "view") in audited  # every view of the member list, per member
    changes = session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "attendance",
                                                           AuditEvent.object_id == str(offer.id))).all()
    assert sorted(changes) == ["create", "update"]


def test_month_overview_lists_members_by_session_date(app, district: District, session):
    api = Api(app, district)
    offer = district.published["own"]
    member = _member(session, district)
    monday = _last_monday()
    api("coordinator", "POST", DAY, status=200, offer_id=offer.id, day=monday,
        json={"offer_session_id": offer.sessions[0].id, "marks": [{"placement_id": member.id, "status": "present"}]})
    month = monday[:7]
    overview = api("coordinator", "GET", MONTH + "?month=" + month, status=200, offer_id=offer.id).get_json()
    assert overview["month"] == month and overview["offer_title"] == offer.title
    dates = [d["session_date"] for d in overview["dates"]]
    assert monday in dates
    [row] = overview["members"]
    assert row["placement_id"] == member.id and row["marks"][dates.index(monday)] == "present"
    assert (row["present"], row["present_minutes"]) == (1, 120) and overview["present"] == 1
    assert set(row["marks"]) <= {"present", "open", "upcoming", "not_member"}
    default = api("coordinator", "GET", MONTH, status=200, offer_id=offer.id).get_json()
    assert default["month"] == today_berlin().strftime("%Y-%m")
    refused = api("coordinator", "GET", MONTH + "?month=1999-01", status=422, offer_id=offer.id).get_json()
    assert refused["errors"][0]["field"] == "month" and refused["errors"][0]["pointer"] is None
    assert api("coordinator", "GET", MONTH + "?month=2025-3", status=422, offer_id=offer.id).get_json()["errors"]


def test_bad_marks_are_refused_at_their_field_and_nothing_is_written(app, district: District, session):
    api = Api(app, district)
    offer = district.published["own"]
    member = _member(session, district)
    monday = _last_monday()
    session_id = offer.sessions[0].id
    confirmed_only = district.placements["own"].id  # confirmed, not accepted: not a member of the group

    def refused(json: dict, day: str = monday, status: int = 422) -> dict:
        return api("coordinator", "POST", DAY, status=status, offer_id=offer.id, day=day, json=json).get_json()

    stranger = refused({"offer_session_id": session_id, "marks": [
        {"placement_id": member.id, "status": "present"}, {"placement_id": confirmed_only, "status": "present"}]})
    assert [(e["field"], e["pointer"]) for e in stranger["errors"]] == [("marks[1]", "/marks/1")]
    assert "gehört am" in stranger["errors"][0]["message"]
    future = (today_berlin() + timedelta(days=7 - today_berlin().weekday())).isoformat()
    ahead = refused({"offer_session_id": session_id, "marks": []}, day=future)
    assert ahead["errors"][0] == {"field": "session_date", "pointer": None, "row": None,
                                  "message": "Die Teilnahme kann erst am Tag des Termins erfasst werden."}
    tuesday = (today_berlin() - timedelta(days=today_berlin().weekday() + 6)).isoformat()
    no_session = refused({"offer_session_id": session_id, "marks": []}, day=tuesday)
    assert no_session["errors"][0]["field"] == "session_date"
    assert "findet dieser Termin der Gruppe nicht statt" in no_session["errors"][0]["message"]
    twice = refused({"offer_session_id": session_id, "marks": [{"placement_id": member.id, "status": "present"},
                                                               {"placement_id": member.id, "status": "absent"}]})
    assert twice["errors"][0]["pointer"] == "/marks/1"
    maybe = refused({"offer_session_id": session_id, "marks": [{"placement_id": member.id, "status": "maybe"}]})
    assert maybe["errors"][0]["pointer"] == "/marks/0/status" and "Erlaubte Werte" in maybe["errors"][0]["message"]
    refused({"offer_session_id": session_id, "marks": [{"placement_id": member.id, "status": "present"}]},
            day="2025-02-30", status=404)
    assert _rows(session) == (0, 0)

    # a correction with a reason beyond 300 characters is refused as a whole
    refused({"offer_session_id": session_id, "marks": [{"placement_id": member.id, "status": "present"}]},
            status=200)
    long_reason = refused({"offer_session_id": session_id, "reason": "x" * 301,
                           "marks": [{"placement_id": member.id, "status": "absent"}]})
    assert long_reason["errors"][0]["field"] == "reason" and "300 Zeichen" in long_reason["errors"][0]["message"]
    assert _rows(session) == (1, 0)
    assert session.exec(select(Attendance.status)).one() == "present"


def test_other_providers_groups_and_other_roles_are_refused(app, district: District, session):
    api = Api(app, district)
    foreign = district.published["foreign"]
    monday = _last_monday()
    body = {"offer_session_id": foreign.sessions[0].id,
            "marks": [{"placement_id": district.placements["foreign"].id, "status": "present"}]}
    denied = api("coordinator", "GET", MONTH, status=403, offer_id=foreign.id).get_json()
    assert "anbietenden Trägers" in denied["detail"]
    api("coordinator", "GET", DAY, status=403, offer_id=foreign.id, day=monday)
    api("coordinator", "POST", DAY, status=403, offer_id=foreign.id, day=monday, json=body)
    api("coordinator", "GET", MONTH, status=404, offer_id=999999)
    own = district.published["own"]
    for role in ("caseworker", "planner", "admin"):
        api(role, "GET", MONTH, status=403, offer_id=own.id)
        api(role, "GET", DAY, status=403, offer_id=own.id, day=monday)
        api(role, "POST", DAY, status=403, offer_id=own.id, day=monday,
            json={"offer_session_id": own.sessions[0].id, "marks": []})
    assert _rows(session) == (0, 0)
