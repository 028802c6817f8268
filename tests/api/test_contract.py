"""The HTTP contract: RFC 9457 problem details, ETag/If-Match (412/428) and pagination."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import District, days

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert PROBLEM_KEYS <= set(body)
    assert body["status"] == status
    assert body["type"].startswith("http://localhost/api/docs#problem-")
    assert body["instance"] == response.request.path
    return body


def offer_input(d: District, **overrides: Any) -> dict[str, Any]:
    body = {"title": "Bewerbungstraining", "municipality_id": d.ids["town"], "first_date": days(14), "seats": 8,
            "age_min": 14, "age_max": 18, "category_ids": [d.ids["category"]],
            "sessions": [{"weekday": 2, "start_minute": 960, "end_minute": 1080}], "offset_rate_cents": 1850}
    return {**body, **overrides}


# --------------------------------------------------------------------------- problem details


def test_validation_problem_lists_every_field_in_german(app, district):
    sessions = [{"weekday": 9, "start_minute": 1, "end_minute": 0}]
    response = app.test_client().post("/api/v1/offers", headers=district.headers("coordinator"), json=offer_input(
        district, title="", seats=0, name="Max Mustermann", sessions=sessions))
    body = assert_problem(response, 422)
    assert body["title"] == "Eingaben ungültig"
    by_field = {e["field"]: e for e in body["errors"]}
    assert by_field["name"]["message"].startswith("Unbekanntes Feld")
    assert by_field["name"]["pointer"] == "/name"


def test_business_rules_are_those_of_the_editor(app, district):
    response = app.test_client().post("/api/v1/offers", headers=district.headers("coordinator"),
                                      json=offer_input(district, title=" ", seats=0, age_min=15, age_max=12,
                                                       genders="x", offset_rate_cents=-5, category_ids=[]))
    errors = {e["field"]: e["message"] for e in assert_problem(response, 422)["errors"]}
    assert errors["title"] == "Bitte geben Sie einen Titel ein."
    assert errors["seats"] == "Eine Gruppe braucht mindestens einen Platz."
    assert errors["age_max"] == "Das Höchstalter darf nicht unter dem Mindestalter liegen."
    assert errors["offset_rate_cents"] == "Der Verrechnungssatz darf nicht negativ sein."
    assert errors["category_ids"] == "Bitte wählen Sie mindestens eine Kategorie."
    assert "genders" in errors


def test_session_problems_point_at_the_session(app, district):
    response = app.test_client().post("/api/v1/offers", headers=district.headers("coordinator"), json=offer_input(
        district, sessions=[{"weekday": 0, "start_minute": 900, "end_minute": 1000}]))
    error = assert_problem(response, 422)["errors"][0]
    assert error["field"] == "sessions[0]" and error["pointer"] == "/sessions/0"
    assert "Viertelstundentakt" in error["message"]


@pytest.mark.parametrize(("data", "content_type", "status"), [
    (b"{kein json", "application/json", 400),
    (b'{"title": 1', "application/json", 400),
    (b"title=x", "application/x-www-form-urlencoded", 415),
    (b"[1, 2]", "application/json", 422),
    (b'{"seats": 1e999}', "application/json", 422),
    (b'{"seats": NaN}', "application/json", 422),
    (b'{"title": "a\\u0000b"}', "application/json", 422),
    (b'{"title": "\\ud800"}', "application/json", 422),
    (b'{"municipality_id": 99999999999999999999}', "application/json", 422),
])
def test_bad_bodies_are_4xx_problems_and_write_nothing(app, district, data, content_type, status):
    client = app.test_client()
    before = client.get("/api/v1/offers", headers=district.headers("planner")).get_json()["total"]
    response = client.post("/api/v1/offers", data=data, content_type=content_type,
                           headers=district.headers("coordinator"))
    assert_problem(response, status)
    assert client.get("/api/v1/offers", headers=district.headers("planner")).get_json()["total"] == before


def test_not_found_method_not_allowed_and_too_large(app, district):
    client = app.test_client()
    body = assert_problem(client.get("/api/v1/offers/999999", headers=district.headers("planner")), 404)
    assert body["title"] == "Nicht gefunden"
    assert_problem(client.get("/api/v1/gibt-es-nicht", headers=district.headers("planner")), 404)
    assert_problem(client.get("/api/v1/statements/2025-13", headers=district.headers("planner")), 404)
    response = client.delete("/api/v1/offers", headers=district.headers("planner"))
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    app.config["MAX_CONTENT_LENGTH"] = 100
    assert_problem(client.post("/api/v1/offers", data=b"[" + b" " * 500 + b"]", content_type="application/json",
                               headers=district.headers("coordinator")), 413)


def test_query_parameters_are_validated(app, district):
    client = app.test_client()
    for query in ("per_page=0", "per_page=101", "page=x", "status=unbekannt", "gibt=es-nicht"):
        body = assert_problem(client.get(f"/api/v1/offers?{query}", headers=district.headers("planner")), 422)
        assert body["errors"], query


# --------------------------------------------------------------------------- ETag and If-Match


def test_etag_and_if_match_protect_updates(app, district):
    client = app.test_client()
    url = f"/api/v1/offers/{district.offers['own'].id}"
    coordinator = district.headers("coordinator")
    read = client.get(url, headers=coordinator)
    etag = read.headers["ETag"]
    assert etag == f'"offer-{district.offers["own"].id}-v1"'
    body = offer_input(district, title="Neuer Titel")
    assert_problem(client.put(url, json=body, headers=coordinator), 428)
    assert_problem(client.put(url, json=body, headers={**coordinator, "If-Match": "*"}), 428)
    other = f'"offer-{district.offers["foreign"].id}-v1"'
    assert_problem(client.put(url, json=body, headers={**coordinator, "If-Match": other}), 412)
    first = client.put(url, json=body, headers={**coordinator, "If-Match": etag})
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.headers["ETag"] == f'"offer-{district.offers["own"].id}-v2"'
    assert first.get_json()["title"] == "Neuer Titel"
    # a second system still holding the old ETag cannot overwrite the change
    stale = client.put(url, json=offer_input(district, title="Alter Stand"), headers={**coordinator, "If-Match": etag})
    assert_problem(stale, 412)
    assert client.get(url, headers=coordinator).get_json()["title"] == "Neuer Titel"


def test_transitions_need_the_current_etag(app, district):
    client = app.test_client()
    url = f"/api/v1/offers/{district.offers['own'].id}"
    coordinator = district.headers("coordinator")
    etag = client.get(url, headers=coordinator).headers["ETag"]
    submitted = client.post(f"{url}/submit", headers={**coordinator, "If-Match": etag})
    assert submitted.status_code == 200
    assert submitted.get_json()["certification"]["status"] == "submitted"
    assert_problem(client.post(f"{url}/submit", headers={**coordinator, "If-Match": etag}), 412)
    again = client.post(f"{url}/submit", headers={**coordinator, "If-Match": submitted.headers["ETag"]})
    assert "eingereicht" in assert_problem(again, 409)["detail"]


def test_young_person_updates_need_if_match(app, district):
    client = app.test_client()
    caseworker = district.headers("caseworker")
    url = f"/api/v1/young-people/{district.people['own'].id}"
    read = client.get(url, headers=caseworker)
    data = {k: v for k, v in read.get_json().items() if k in CASE_FIELDS}
    assert_problem(client.put(url, json=data, headers=caseworker), 428)
    data["max_travel_km"] = 12.5
    changed = client.put(url, json=data, headers={**caseworker, "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["max_travel_km"] == 12.5 and changed.get_json()["version"] == 2
    assert_problem(client.put(url, json=data, headers={**caseworker, "If-Match": read.headers["ETag"]}), 412)


CASE_FIELDS = {"case_reference", "birth_year", "gender", "municipality_id", "lat", "lon", "need_ids", "availability",
               "max_travel_km", "module_id", "group_minutes_target", "group_minutes_max", "lead_provider_id",
               "approval_start", "approval_end", "legal_basis", "priority", "risk_report_at", "preferred_offer_ids",
               "excluded_offer_ids", "keep_apart_ids"}


# --------------------------------------------------------------------------- pagination


def test_pagination_with_link_header(app, district, session):
    from tests.factories import make_offer

    for _ in range(5):
        make_offer(session, provider=district.providers["foreign"])
    session.commit()
    client = app.test_client()
    planner = district.headers("planner")
    first = client.get("/api/v1/offers?per_page=3", headers=planner)
    body = first.get_json()
    total = body["total"]
    assert total == 9 and len(body["items"]) == 3 and body["page"] == 1 and body["prev"] is None
    assert body["next"] == "http://localhost/api/v1/offers?per_page=3&page=2"
    assert '<http://localhost/api/v1/offers?per_page=3&page=2>; rel="next"' in first.headers["Link"]
    assert 'rel="last"' in first.headers["Link"]
    seen = [o["id"] for o in body["items"]]
    url = body["next"]
    while url:
        page = client.get(url, headers=planner).get_json()
        seen += [o["id"] for o in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == total
    beyond = client.get("/api/v1/offers?per_page=3&page=50", headers=planner).get_json()
    assert beyond["items"] == [] and beyond["next"] is None


def test_lists_are_scoped_like_the_ui(app, district):
    client = app.test_client()

    def ids(role: str, url: str) -> set[int]:
        return {item["id"] for item in client.get(url, headers=district.headers(role)).get_json()["items"]}

    catalogue = {district.published["own"].id, district.published["foreign"].id}
    assert ids("caseworker", "/api/v1/offers") == catalogue
    assert ids("coordinator", "/api/v1/offers") == catalogue | {district.offers["own"].id}
    assert ids("planner", "/api/v1/offers") == catalogue | {district.offers["own"].id, district.offers["foreign"].id}
    own_people = {district.people["own"].id, district.ended["own"].id}
    assert ids("caseworker", "/api/v1/young-people") == own_people
    assert ids("caseworker", "/api/v1/young-people?status=open") == {district.people["own"].id}
    assert ids("coordinator", "/api/v1/placements") == {district.placements["own"].id}
    assert ids("caseworker", "/api/v1/placements") == {district.placements["own"].id}
    assert ids("planner", "/api/v1/placements") == {p.id for p in district.placements.values()}
    assert ids("caseworker", "/api/v1/placement-requests") == {district.requests["own"].id}
    placement = client.get("/api/v1/placements", headers=district.headers("coordinator")).get_json()["items"][0]
    assert set(placement["young_person"]) == {"id", "pseudonym", "age", "needs", "region"}
