"""Case actions through the API: module change, crisis extension, end of the help (ASD of the case's team).

Each operation: success (with the use case's effects and audit), refusal of another team's case, bad input
(4xx with the German message at its field, nothing written) and the roles that may not act. Every answer is
checked against the OpenAPI document (`Api`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from marketplace.models import AuditEvent, CaseEvent, GroupOffer, Placement, YoungPerson
from tests.factories import make_module, make_young_person

from .conftest import District
from .test_flows import Api

CHANGE = "/api/v1/young-people/{young_person_id}/change-module"
EXTEND = "/api/v1/young-people/{young_person_id}/extend-crisis"
END = "/api/v1/young-people/{young_person_id}/end"
ONE = "/api/v1/young-people/{young_person_id}"


def _etag(api: Api, person_id: int) -> str:
    return api("caseworker", "GET", ONE, status=200, young_person_id=person_id).headers["ETag"]


def _fresh(session: Session, person_id: int) -> YoungPerson:
    session.expire_all()
    return session.get(YoungPerson, person_id)


def _events(session: Session, person_id: int) -> int:
    return session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.young_person_id == person_id))


def _updates(session: Session, person_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.case_id == person_id, AuditEvent.action == "update"))


def _unchanged(session: Session, person_id: int, *, version: int = 1, events: int = 0) -> None:
    """Nothing was written to the case: same version, no new history step, no change in the audit trail."""
    yp = _fresh(session, person_id)
    assert yp.version == version
    assert _events(session, person_id) == events
    assert _updates(session, person_id) == 0


# --------------------------------------------------------------------------- module change


def test_module_change_flags_placements_above_the_new_maximum(app, district: District, session):
    api = Api(app, district)
    person = district.people["own"]
    small = make_module(session, "mini", group_minutes_target=30, group_minutes_max=60)
    session.commit()
    answer = api("caseworker", "POST", CHANGE, status=200, if_match=_etag(api, person.id), young_person_id=person.id,
                 json={"module_id": small.id, "reason": "Hilfeplan: weniger Gruppenzeit"})
    body = answer.get_json()
    assert answer.headers["ETag"] == f'"young_person-{person.id}-v2"'
    case = body["young_person"]
    assert (case["module_id"], case["group_minutes_target"], case["group_minutes_max"]) == (small.id, 30, 60)
    # the confirmed placement (Mondays 15–17, 120 minutes a week) is 60 minutes above the new maximum
    assert [(f["kind"], f["placement_id"], f["excess_minutes"]) for f in body["flags"]] == [
        ("over_max", district.placements["own"].id, 60)]
    assert _fresh(session, person.id).module_id == small.id
    event = session.exec(select(CaseEvent).where(CaseEvent.young_person_id == person.id)).one()
    assert (event.kind, event.reason, event.to_module_id) == ("module_changed", "Hilfeplan: weniger Gruppenzeit",
                                                             small.id)
    assert _updates(session, person.id) == 1
    placement = session.get(Placement, district.placements["own"].id)
    assert placement.status == "confirmed"  # flagged, not ended


def test_module_change_without_excess_has_no_flags(app, district: District, session):
    api = Api(app, district)
    person = district.people["own"]
    roomy = make_module(session, "sonder")
    session.commit()
    body = api("caseworker", "POST", CHANGE, status=200, if_match=_etag(api, person.id), young_person_id=person.id,
               json={"module_id": roomy.id, "reason": "Hilfeplan: mehr Gruppenzeit"}).get_json()
    assert body["flags"] == [] and body["young_person"]["version"] == 2


def test_module_change_bad_input_writes_nothing(app, district: District, session):
    api = Api(app, district)
    person = district.people["own"]
    crisis = make_module(session, "krise")
    session.commit()
    etag = _etag(api, person.id)
    short = api("caseworker", "POST", CHANGE, status=422, if_match=etag, young_person_id=person.id,
                json={"module_id": crisis.id, "reason": "kurz"}).get_json()
    fields = {e["field"]: e["message"] for e in short["errors"]}
    assert "mindestens 10 Zeichen" in fields["reason"]
    assert "Gefährdungsmeldung" in fields["risk_report_at"]  # a crisis needs the § 8a date
    same = api("caseworker", "POST", CHANGE, status=422, if_match=etag, young_person_id=person.id,
               json={"module_id": district.ids["module"], "reason": "Hilfeplan fortgeschrieben"}).get_json()
    assert same["errors"][0] == {"field": "module_id", "pointer": "/module_id", "row": None,
                                 "message": "Der Fall hat bereits dieses Modul."}
    typed = api("caseworker", "POST", CHANGE, status=422, if_match=etag, young_person_id=person.id,
                json={"module_id": "drei", "reason": "Hilfeplan fortgeschrieben", "name": "Max"}).get_json()
    assert {e["field"] for e in typed["errors"]} == {"module_id", "name"}
    api("caseworker", "POST", CHANGE, status=428, young_person_id=person.id,
        json={"module_id": crisis.id, "reason": "Hilfeplan fortgeschrieben"})
    api("caseworker", "POST", CHANGE, status=412, if_match=f'"young_person-{person.id}-v7"', young_person_id=person.id,
        json={"module_id": crisis.id, "reason": "Hilfeplan fortgeschrieben"})
    _unchanged(session, person.id)


def test_module_change_of_another_team_or_by_other_roles_is_refused(app, district: District, session):
    api = Api(app, district)
    foreign = district.people["foreign"]
    body = {"module_id": make_module(session, "flex").id, "reason": "Hilfeplan fortgeschrieben"}
    session.commit()
    etag = f'"young_person-{foreign.id}-v1"'
    api("caseworker", "POST", CHANGE, status=403, if_match=etag, young_person_id=foreign.id, json=body)
    for role in ("planner", "coordinator", "admin"):
        api(role, "POST", CHANGE, status=403, if_match=etag, young_person_id=foreign.id, json=body)
        api(role, "POST", CHANGE, status=403, if_match=f'"young_person-{district.people["own"].id}-v1"',
            young_person_id=district.people["own"].id, json=body)
    api("caseworker", "POST", CHANGE, status=404, if_match=etag, young_person_id=999999, json=body)
    _unchanged(session, foreign.id)
    _unchanged(session, district.people["own"].id)


# --------------------------------------------------------------------------- crisis extension


def _crisis_case(session: Session, district: District) -> YoungPerson:
    person = make_young_person(session, team=district.teams["own"], module="krise")
    session.commit()
    return person


def test_crisis_extension_moves_the_end_with_a_reason(app, district: District, session):
    api = Api(app, district)
    person = _crisis_case(session, district)
    until = person.crisis_ends_on + timedelta(days=14)
    answer = api("caseworker", "POST", EXTEND, status=200, if_match=_etag(api, person.id), young_person_id=person.id,
                 json={"until": until.isoformat(), "reason": "Gefährdung besteht weiter"})
    assert answer.get_json()["crisis_ends_on"] == until.isoformat()
    assert answer.headers["ETag"] == f'"young_person-{person.id}-v2"'
    yp = _fresh(session, person.id)
    assert (yp.crisis_ends_on, yp.crisis_extension_reason) == (until, "Gefährdung besteht weiter")
    assert session.exec(select(CaseEvent.kind).where(CaseEvent.young_person_id == person.id)).all() == [
        "crisis_extended"]
    assert _updates(session, person.id) == 1


def test_crisis_extension_bad_input_writes_nothing(app, district: District, session):
    api = Api(app, district)
    person = _crisis_case(session, district)
    etag = _etag(api, person.id)
    too_far = (person.crisis_ends_on + timedelta(weeks=8)).isoformat()
    refused = api("caseworker", "POST", EXTEND, status=422, if_match=etag, young_person_id=person.id,
                  json={"until": too_far, "reason": "Gefährdung besteht weiter"}).get_json()
    assert refused["errors"][0]["field"] == "until" and "sechs Wochen" in refused["errors"][0]["message"]
    no_date = api("caseworker", "POST", EXTEND, status=422, if_match=etag, young_person_id=person.id,
                  json={"until": "31.12.2030", "reason": "Gefährdung besteht weiter"}).get_json()
    assert no_date["errors"][0]["message"] == "Bitte ein Datum im Format JJJJ-MM-TT angeben."
    # a case that is no crisis intervention cannot be extended
    standard = district.people["own"]
    not_crisis = api("caseworker", "POST", EXTEND, status=422, if_match=_etag(api, standard.id),
                     young_person_id=standard.id,
                     json={"until": too_far, "reason": "Gefährdung besteht weiter"}).get_json()
    assert not_crisis["errors"][0]["message"] == "Nur eine laufende Krisenintervention kann verlängert werden."
    _unchanged(session, person.id)
    _unchanged(session, standard.id)


def test_crisis_extension_of_another_team_or_by_other_roles_is_refused(app, district: District, session):
    api = Api(app, district)
    person = make_young_person(session, team=district.teams["foreign"], module="krise")
    session.commit()
    body = {"until": (person.crisis_ends_on + timedelta(days=7)).isoformat(), "reason": "Gefährdung besteht weiter"}
    for role in ("caseworker", "planner", "coordinator", "admin"):
        api(role, "POST", EXTEND, status=403, if_match=f'"young_person-{person.id}-v1"', young_person_id=person.id,
            json=body)
    _unchanged(session, person.id)


# --------------------------------------------------------------------------- end of the help


def test_ending_the_help_ends_placements_and_frees_the_seat(app, district: District, session):
    api = Api(app, district)
    person = district.people["own"]
    answer = api("caseworker", "POST", END, status=200, if_match=_etag(api, person.id), young_person_id=person.id,
                 json={"reason": "Hilfeziele erreicht"})
    assert answer.get_json()["status"] == "ended"
    placement = api("caseworker", "GET", "/api/v1/placements/{placement_id}", status=200,
                    placement_id=district.placements["own"].id).get_json()
    assert placement["status"] == "ended" and placement["end_reason"] == "Hilfe beendet: Hilfeziele erreicht"
    session.expire_all()
    assert session.get(GroupOffer, district.published["own"].id).seats_taken == 0
    assert session.exec(select(CaseEvent.kind).where(CaseEvent.young_person_id == person.id)).all() == ["ended"]
    # an ended case cannot be ended (or changed) again
    again = api("caseworker", "POST", END, status=409, if_match=answer.headers["ETag"], young_person_id=person.id,
                json={"reason": "Hilfeziele erreicht"}).get_json()
    assert again["detail"] == "Der Fall ist beendet und kann nicht mehr geändert werden."


def test_ending_the_help_bad_input_writes_nothing(app, district: District, session):
    api = Api(app, district)
    person = district.people["own"]
    etag = _etag(api, person.id)
    short = api("caseworker", "POST", END, status=422, if_match=etag, young_person_id=person.id,
                json={"reason": "fertig"}).get_json()
    assert short["errors"][0]["field"] == "reason"
    assert short["errors"][0]["message"] == "Bitte begründen Sie das Ende der Hilfe (mindestens 10 Zeichen)."
    api("caseworker", "POST", END, status=422, if_match=etag, young_person_id=person.id, json={})
    api("caseworker", "POST", END, status=415, if_match=etag, young_person_id=person.id)
    _unchanged(session, person.id)
    assert session.get(Placement, district.placements["own"].id).status == "confirmed"


def test_ending_the_help_of_another_team_or_by_other_roles_is_refused(app, district: District, session):
    api = Api(app, district)
    body = {"reason": "Hilfeziele erreicht"}
    for side, roles in (("foreign", ("caseworker", "planner", "coordinator", "admin")),
                        ("own", ("planner", "coordinator", "admin"))):
        person = district.people[side]
        for role in roles:
            api(role, "POST", END, status=403, if_match=f'"young_person-{person.id}-v1"', young_person_id=person.id,
                json=body)
        _unchanged(session, person.id)
