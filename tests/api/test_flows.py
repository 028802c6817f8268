"""The main flows of the README end to end through the API; every answer is checked against the
OpenAPI document (Schemathesis's response validation)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import schemathesis
from sqlmodel import select

from marketplace.ledger import book_month
from marketplace.models import Attendance, AuditEvent, GroupOffer, Role
from marketplace.timeutil import month_key, today_berlin
from marketplace.web.api.openapi import openapi_spec
from tests.factories import make_user

from .conftest import District, bearer, days, token_for


class Api:
    """A client that validates every answer against the operation it called (path given as template)."""

    def __init__(self, app, district: District) -> None:
        self.client = app.test_client()
        self.district = district
        with app.test_request_context():
            self.schema = schemathesis.openapi.from_dict(openapi_spec())

    def __call__(self, role_or_token: str, method: str, template: str, *, status: int, if_match: str | None = None,
                 json: Any = None, **path: Any) -> Any:
        headers = (self.district.headers(role_or_token) if role_or_token in self.district.tokens
                   else bearer(role_or_token))
        if if_match:
            headers["If-Match"] = if_match
        url = template.format(**path)
        response = self.client.open(url, method=method, headers=headers, json=json)
        assert response.status_code == status, response.get_data(as_text=True)
        self.schema[template.split("?")[0]][method].validate_response(response)
        return response


def test_register_request_confirm_accept_and_settle(app, district, session):
    api = Api(app, district)
    catalogue = api("caseworker", "GET", "/api/v1/catalogue", status=200).get_json()
    assert {m["id"] for m in catalogue["modules"]} == {district.ids["module"]}
    offers = api("caseworker", "GET", "/api/v1/offers", status=200).get_json()["items"]
    host_offer = district.published["own"]
    assert host_offer.id in {o["id"] for o in offers}

    person = {"birth_year": date.today().year - 12, "gender": "f", "municipality_id": district.ids["town"],
              "need_ids": [district.ids["category"]], "availability": [[0, 840, 1140], [2, 840, 1140]],
              "max_travel_km": 15, "module_id": district.ids["module"], "case_reference": "AZ-2025/123",
              "lead_provider_id": district.providers["foreign"].id, "approval_start": days(-3), "legal_basis": "§ 30"}
    created = api("caseworker", "POST", "/api/v1/young-people", json=person, status=201)
    young = created.get_json()
    assert young["pseudonym"].startswith("JM-") and created.headers["Location"].endswith(f"/{young['id']}")
    assert created.headers["ETag"] == f'"young_person-{young["id"]}-v1"'

    request = api("caseworker", "POST", "/api/v1/placement-requests", json={"young_person_id": young["id"]},
                  status=201).get_json()
    assert request["status"] == "open" and request["options"]
    option = next(o for o in request["options"] if o["offer_ids"] == [host_offer.id])
    assert option["headline"] and option["groups"][0]["other_provider"] is True
    again = api("caseworker", "POST", "/api/v1/placement-requests", json={"young_person_id": young["id"]}, status=200)
    assert again.get_json()["id"] == request["id"]  # an open request is reused

    placements = api("caseworker", "POST", "/api/v1/placement-requests/{request_id}/confirm", status=201,
                     json={"offer_ids": option["offer_ids"]}, request_id=request["id"]).get_json()
    assert [(p["status"], p["variant"], p["offset_rate_cents"]) for p in placements] == [
        ("confirmed", "A", host_offer.offset_rate_cents)]
    placement_id = placements[0]["id"]

    seen = api("coordinator", "GET", "/api/v1/placements/{placement_id}", status=200, placement_id=placement_id)
    assert "case_reference" not in seen.get_data(as_text=True)  # the host sees the pseudonym level only
    accepted = api("coordinator", "POST", "/api/v1/placements/{placement_id}/accept", status=200,
                   if_match=seen.headers["ETag"], placement_id=placement_id)
    assert accepted.get_json()["status"] == "accepted"
    assert [h["to_status"] for h in accepted.get_json()["history"]] == ["confirmed", "accepted"]
    mine = api("caseworker", "GET", "/api/v1/placement-requests/{request_id}", status=200,
               request_id=request["id"]).get_json()
    assert mine["status"] == "fulfilled" and mine["placements"][0]["status"] == "accepted"

    # a month of attendance later: the host's statement shows the pair, a third provider sees nothing
    offer = session.get(GroupOffer, host_offer.id)
    monday = today_berlin() - timedelta(days=today_berlin().weekday())
    if monday.month != today_berlin().month:
        monday += timedelta(days=7)
    session.add(Attendance(placement_id=placement_id, session_date=monday, offer_session_id=offer.sessions[0].id,
                           status="present"))
    session.commit()
    month = month_key(monday)
    book_month(session, month=month)
    session.commit()
    statement = api("coordinator", "GET", "/api/v1/statements/{month}", status=200, month=month).get_json()
    pair = statement["pairs"][0]
    assert (pair["host_id"], pair["lead_id"], pair["minutes"]) == (district.providers["own"].id,
                                                                  district.providers["foreign"].id, 120)
    assert pair["total_cents"] == 2 * host_offer.offset_rate_cents
    assert pair["lines"][0]["pseudonym"] == young["pseudonym"]
    assert {b["provider_id"]: b["balance_cents"] for b in statement["balances"]}[district.providers["own"].id] > 0
    outsider = make_user(session, Role.coordinator)
    session.commit()
    other = api(token_for(session, outsider), "GET", "/api/v1/statements/{month}", status=200, month=month).get_json()
    assert other["pairs"] == []
    planner = api("planner", "GET", "/api/v1/statements/{month}", status=200, month=month).get_json()
    assert len(planner["pairs"]) == 1

    audited = {(e.object_type, e.action) for e in session.exec(
        select(AuditEvent).where(AuditEvent.case_id == young["id"]))}
    assert {("young_person", "create"), ("placement_request", "create"), ("placement", "create"),
            ("placement", "view"), ("placement", "update")} <= audited


def test_coordinator_publishes_and_planning_certifies(app, district):
    api = Api(app, district)
    body = {"title": "Mädchengruppe", "municipality_id": district.ids["town"], "first_date": days(20), "seats": 6,
            "age_min": 12, "age_max": 16, "genders": "f,d", "category_ids": [district.ids["category"]],
            "sessions": [{"weekday": 3, "start_minute": 960, "end_minute": 1080}], "offset_rate_cents": 2100}
    created = api("coordinator", "POST", "/api/v1/offers", json=body, status=201)
    offer_id = created.get_json()["id"]
    assert created.get_json()["allowed_actions"] == ["edit", "submit"]
    submitted = api("coordinator", "POST", "/api/v1/offers/{offer_id}/submit", status=200,
                    if_match=created.headers["ETag"], offer_id=offer_id)
    certified = api("planner", "POST", "/api/v1/offers/{offer_id}/certify", status=200,
                    if_match=submitted.headers["ETag"], json={"valid_until": days(365)}, offer_id=offer_id)
    assert certified.get_json()["certification"]["certified_until"] == days(365)
    published = api("coordinator", "POST", "/api/v1/offers/{offer_id}/publish", status=200,
                    if_match=certified.headers["ETag"], offer_id=offer_id)
    assert published.get_json()["certification"]["status"] == "published"
    history = [s["to_status"] for s in published.get_json()["status_history"]]
    assert history == ["draft", "submitted", "certified", "published"]
    seen_by_caseworker = api("caseworker", "GET", "/api/v1/offers/{offer_id}", status=200, offer_id=offer_id)
    assert seen_by_caseworker.get_json()["status_history"] is None  # the provider's internals stay internal
    rejected = api("planner", "POST", "/api/v1/offers/{offer_id}/reject", status=409,
                   if_match=published.headers["ETag"], json={"reason": "zu spät"}, offer_id=offer_id)
    assert "abgelehnt" in rejected.get_json()["detail"]


def test_decline_and_end_with_reasons(app, district):
    api = Api(app, district)
    own = district.placements["own"]
    etag = api("coordinator", "GET", "/api/v1/placements/{placement_id}", status=200,
               placement_id=own.id).headers["ETag"]
    refused = api("coordinator", "POST", "/api/v1/placements/{placement_id}/decline", status=422, if_match=etag,
                  json={"reason": "   "}, placement_id=own.id)
    assert refused.get_json()["errors"][0]["field"] == "reason"
    missing_note = api("caseworker", "POST", "/api/v1/placements/{placement_id}/end", status=422, if_match=etag,
                       json={"reason": "other"}, placement_id=own.id)
    assert missing_note.get_json()["errors"][0]["field"] == "note"
    ended = api("caseworker", "POST", "/api/v1/placements/{placement_id}/end", status=200, if_match=etag,
                json={"reason": "moved_away"}, placement_id=own.id).get_json()
    assert ended["status"] == "ended" and ended["end_reason"] == "Umzug"
    assert api("planner", "GET", "/api/v1/offers/{offer_id}", status=200,
               offer_id=district.published["own"].id).get_json()["seats_taken"] == 0


def test_reports_are_tables_for_planning(app, district):
    api = Api(app, district)
    report = api("planner", "GET", "/api/v1/reports/{key}?von=2025-01&gliederung=sozialraum", status=200,
                 key="auslastung").get_json()
    assert report["grouping"] == "sozialraum" and report["first_month"] == "2025-01"
    table = report["tables"][0]
    assert table["columns"][0]["kind"] == "text" and table["rows"]
    assert all(len(row) == len(table["columns"]) for row in table["rows"])
    corrected = api("planner", "GET", "/api/v1/reports/{key}?traeger=999999", status=200, key="bedarf").get_json()
    assert corrected["notices"] == ["Unbekannte Auswahl für „Träger“ wurde ignoriert."]
    refused = api("planner", "GET", "/api/v1/reports/{key}?von=2025-13", status=422, key="modulstunden").get_json()
    assert refused["errors"][0]["field"] == "von" and refused["errors"][0]["pointer"] is None
