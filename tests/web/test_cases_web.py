"""The cases area (/faelle) over HTTP: need-to-know on every route, audit of views and changes, 422s."""

# ruff: noqa: F811  (the `world` fixture is imported from tests/cases/district.py)

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import func, select

from marketplace import cases
from marketplace.models import AuditEvent, CaseFlag, IndividualHours, YoungPerson
from tests.cases.district import TODAY, world  # noqa: F401  (fixture)
from tests.factories import make_offer, make_placement

from .conftest import login, page_token

HX = {"HX-Request": "true"}


def register(world, actor=None, **overrides) -> YoungPerson:
    return cases.register_young_person(
        world.session, actor=actor or world.caseworker, fields=world.fields(**overrides), today=TODAY
    )


@pytest.fixture
def case(world) -> YoungPerson:
    """A case of `world.team` with one placement flagged after a module change (so every route has a target)."""
    yp = register(world, module_id=world.modules["zusatz"].id, case_reference="AZ-100")
    offer = make_offer(world.session, provider=world.provider, sessions=((0, 15 * 60, 19 * 60),))
    make_placement(world.session, young_person=yp, offer=offer, status="accepted")
    world.session.commit()
    cases.change_module(
        world.session, actor=world.caseworker, young_person_id=yp.id, module_id=world.modules["flex"].id,
        reason="weniger Gruppenarbeit laut Hilfeplan", today=TODAY,
    )  # fmt: skip
    return world.session.get(YoungPerson, yp.id)


def routes(app, yp: YoungPerson, flag_id: int) -> list[tuple[str, str]]:
    """(method, url) for every route of the blueprint, built from the URL map (so new routes are covered)."""
    result = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("cases."):
                continue
            values = {}
            if "young_person_id" in rule.arguments:
                values["young_person_id"] = yp.id
            if "flag_id" in rule.arguments:
                values["flag_id"] = flag_id
            if "fmt" in rule.arguments:
                values["fmt"] = "csv"
            url = url_for(rule.endpoint, **values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                result.append((method, url))
    return result


def audit_count(world, **where) -> int:
    query = select(func.count()).select_from(AuditEvent)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    world.session.expire_all()
    return world.session.exec(query).one()


# --------------------------------------------------------------------------- need to know


def test_every_route_is_closed_to_another_teams_caseworker(app, client, world, case):
    flag = cases.open_flags(world.session, case.id)[0]
    login(client, world.other_caseworker)
    token = page_token(client)
    checked = 0
    for method, url in routes(app, case, flag.id):
        response = client.open(url, method=method, data={"csrf_token": token, "reason": "x" * 20})
        body = response.get_data(as_text=True)
        if f"/{case.id}" in url:
            assert response.status_code in (403, 404), (method, url, response.status_code)
        else:
            assert response.status_code in (200, 403, 404, 422), (method, url, response.status_code)
        assert case.pseudonym not in body and "AZ-100" not in body, (method, url)
        checked += 1
    assert checked >= 15
    world.session.expire_all()
    assert world.session.get(YoungPerson, case.id).status == "active"  # nothing was changed
    assert cases.open_flags(world.session, case.id)


def test_coordinators_and_admins_are_denied_everything_but_individual_hours(app, client, world, case):
    flag = cases.open_flags(world.session, case.id)[0]
    for user in (world.coordinator, world.admin):
        client.delete_cookie("session")
        login(client, user)
        token = page_token(client)
        for method, url in routes(app, case, flag.id):
            response = client.open(url, method=method, data={"csrf_token": token})
            if url.startswith("/faelle/einzelstunden") and user is world.coordinator:
                continue
            assert response.status_code == 403, (user.role, method, url, response.status_code)


def test_planner_reads_but_does_not_change(client, world, case):
    login(client, world.planner)
    assert client.get(f"/faelle/{case.id}").status_code == 200
    assert case.pseudonym in client.get("/faelle/").get_data(as_text=True)
    token = page_token(client)
    for url in (f"/faelle/{case.id}/bearbeiten", f"/faelle/{case.id}/beenden", "/faelle/neu"):
        assert client.post(url, data={"csrf_token": token}).status_code == 403


def test_list_shows_only_the_own_team(client, world, case):
    stranger = register(world, actor=world.other_caseworker)
    login(client, world.caseworker)
    body = client.get("/faelle/?status=all").get_data(as_text=True)
    assert case.pseudonym in body and stranger.pseudonym not in body
    found = client.get(f"/faelle/?q={stranger.pseudonym}", headers=HX).get_data(as_text=True)
    assert "0 Fälle" in found and f"/faelle/{stranger.id}" not in found
    assert client.get(f"/faelle/{stranger.id}").status_code == 403


def test_individual_hours_only_for_the_lead_providers_cases(client, world, case):
    login(client, world.coordinator)
    page = client.get("/faelle/einzelstunden").get_data(as_text=True)
    assert case.pseudonym in page and "AZ-100" not in page  # pseudonym only
    token = page_token(client, "/faelle/einzelstunden")
    month = TODAY.strftime("%Y-%m")
    response = client.post(
        "/faelle/einzelstunden", data={"csrf_token": token, "young_person_id": case.id, "month": month, "hours": "2,5"},
        headers=HX,
    )  # fmt: skip
    assert response.status_code == 200 and "gespeichert" in response.get_data(as_text=True)
    assert world.session.exec(select(IndividualHours)).one().minutes == 150
    bad = client.post(
        "/faelle/einzelstunden", headers=HX,
        data={"csrf_token": token, "young_person_id": case.id, "month": month, "hours": "viel"},
    )  # fmt: skip
    assert bad.status_code == 422 and "als Zahl" in bad.get_data(as_text=True)
    client.delete_cookie("session")
    login(client, world.other_coordinator)
    assert case.pseudonym not in client.get("/faelle/einzelstunden").get_data(as_text=True)
    token = page_token(client, "/faelle/einzelstunden")
    response = client.post(
        "/faelle/einzelstunden", data={"csrf_token": token, "young_person_id": case.id, "month": month, "hours": "1"}
    )
    assert response.status_code == 404


# --------------------------------------------------------------------------- audit


def test_views_of_a_case_are_audited_without_content(client, world, case):
    login(client, world.caseworker)
    before = audit_count(world, case_id=case.id, action="view")
    client.get(f"/faelle/{case.id}")
    assert audit_count(world, case_id=case.id, action="view", object_type="young_person") >= 1
    client.get("/faelle/")
    assert audit_count(world, case_id=case.id, object_type="young_person_list") == 1
    client.get("/faelle/monitoring")
    assert audit_count(world, case_id=case.id, object_type="monitoring") == 1
    client.get("/faelle/monitoring/export.xlsx")
    assert audit_count(world, case_id=case.id, action="export") == 1
    assert audit_count(world, case_id=case.id, action="view") == before + 3
    event = world.session.exec(select(AuditEvent).where(AuditEvent.case_id == case.id)).first()
    assert set(event.model_dump()) == {"id", "at", "user_id", "action", "object_type", "object_id", "case_id"}


def test_changes_are_audited(client, world, case):
    login(client, world.caseworker)
    token = page_token(client, f"/faelle/{case.id}/beenden")
    before = audit_count(world, case_id=case.id, action="update", user_id=world.caseworker.id)
    response = client.post(
        f"/faelle/{case.id}/beenden", data={"csrf_token": token, "version": case.version, "reason": "Ziele erreicht."}
    )
    assert response.status_code == 302
    assert audit_count(world, case_id=case.id, action="update", user_id=world.caseworker.id) == before + 1


# --------------------------------------------------------------------------- forms


def form(world, **overrides) -> dict:
    values = {
        "birth_year": str(TODAY.year - 12), "gender": "f", "municipality_id": str(world.town.id),
        "need_ids": [str(world.categories["sports"].id)], "avail-1-0-start": "15:00", "avail-1-0-end": "18:00",
        "max_travel_km": "8,5", "module_id": str(world.modules["basis"].id), "lead_provider_id": str(world.provider.id),
        "approval_start": "2026-11-01", "legal_basis": "§ 35a", "priority": "1", "group_hours_target": "",
        "group_hours_max": "",
    }  # fmt: skip
    values.update(overrides)
    return values


def test_register_through_the_form(client, world):
    login(client, world.caseworker)
    token = page_token(client, "/faelle/neu")
    response = client.post("/faelle/neu", data={**form(world), "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    yp = world.session.exec(select(YoungPerson)).one()
    assert response.headers["Location"].endswith(f"/faelle/{yp.id}")
    assert (yp.max_travel_km, yp.group_minutes_target, yp.group_minutes_max) == (8.5, 120, 180)
    assert [(w.weekday, w.start_minute, w.end_minute) for w in yp.availability] == [(1, 900, 1080)]
    page = client.get(f"/faelle/{yp.id}").get_data(as_text=True)
    assert yp.pseudonym in page and "Sport" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"birth_year": "zwölf"}, "birth_year", "Geburtsjahr als Zahl"),
        ({"birth_year": "1950"}, "birth_year", "Geburtsjahr muss zwischen"),
        ({"need_ids": []}, "need_ids", "mindestens einen Bedarf"),
        ({"avail-1-0-end": "14:00"}, "availability", "nach seinem Beginn"),
        ({"avail-1-0-end": "abends"}, "availability", "Uhrzeit"),
        ({"group_hours_max": "20"}, "group_hours_max", "Band des Moduls"),
        ({"group_hours_target": "viel"}, "group_hours_target", "als Zahl"),
        ({"approval_start": "32.13.2026"}, "approval_start", "gültiges Datum"),
        ({"lat": "49,9"}, "coordinates", "gemeinsam"),
        ({"lat": "nan", "lon": "8,8"}, "coordinates", "Breitengrad"),
        ({"municipality_id": "999999"}, "municipality_id", "Wohnort"),
        ({"name": "Max Mustermann"}, "form", "unbekannte Felder"),
        ({"priority": "3"}, "priority", "Krisenintervention"),
    ],
)
def test_bad_input_is_answered_with_422_and_a_german_message_at_the_field(client, world, overrides, field, message):
    login(client, world.caseworker)
    token = page_token(client, "/faelle/neu")
    response = client.post("/faelle/neu", data={**form(world, **overrides), "csrf_token": token})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    if field != "form":
        assert f'id="fehler-{field}"' in body
    assert world.session.exec(select(func.count()).select_from(YoungPerson)).one() == 0


def test_several_errors_at_once(client, world):
    login(client, world.caseworker)
    token = page_token(client, "/faelle/neu")
    response = client.post("/faelle/neu", data={"csrf_token": token, "birth_year": "x", "max_travel_km": "0"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for text in ("Geburtsjahr als Zahl", "Geschlecht", "Wohnort", "Bedarf", "Zeitfenster", "Fahrstrecke", "Modul"):
        assert text in body, text


def test_live_validation_returns_the_message_of_the_changed_field(client, world):
    login(client, world.caseworker)
    token = page_token(client, "/faelle/neu")
    headers = {**HX, "HX-Trigger-Name": "birth_year"}
    response = client.post(
        "/faelle/pruefen", data={**form(world, birth_year="1900"), "csrf_token": token}, headers=headers
    )
    assert response.status_code == 200
    assert 'id="fehler-birth_year"' in response.get_data(as_text=True)
    assert "Geburtsjahr muss zwischen" in response.get_data(as_text=True)
    ok = client.post("/faelle/pruefen", data={**form(world), "csrf_token": token}, headers=headers)
    assert "<li>" not in ok.get_data(as_text=True)


def test_edit_with_a_stale_version_is_refused(client, world, case):
    login(client, world.caseworker)
    token = page_token(client, f"/faelle/{case.id}/bearbeiten")
    fields = form(world, version=str(case.version - 1))
    response = client.post(f"/faelle/{case.id}/bearbeiten", data={**fields, "csrf_token": token})
    assert response.status_code == 422 and "inzwischen" in response.get_data(as_text=True)
    fresh = form(world, version=str(case.version), max_travel_km="20")
    fresh.pop("module_id")
    response = client.post(f"/faelle/{case.id}/bearbeiten", data={**fresh, "csrf_token": token})
    assert response.status_code == 302
    world.session.expire_all()
    assert world.session.get(YoungPerson, case.id).max_travel_km == 20


def test_module_change_page_shows_flags_and_requires_a_reason(client, world, case):
    login(client, world.caseworker)
    page = client.get(f"/faelle/{case.id}").get_data(as_text=True)
    assert "über dem neuen Maximum" in page and "Als erledigt markieren" in page
    token = page_token(client, f"/faelle/{case.id}/modul")
    response = client.post(
        f"/faelle/{case.id}/modul", data={"csrf_token": token, "module_id": world.modules["krise"].id, "reason": ""}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "begründen" in body and "§ 8a" in body
    flag = world.session.exec(select(CaseFlag)).first()
    response = client.post(f"/faelle/{case.id}/hinweise/{flag.id}/erledigt", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Als erledigt markieren" not in client.get(f"/faelle/{case.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "data",
    [
        {"module_id": "abc"},
        {"module_id": "999999", "reason": "ein ausreichend langer Grund"},
        {"until": "morgen", "reason": "x"},
        {"risk_report_at": "gestern", "module_id": "1"},
        {"version": "neu"},
        {"reason": "\x00" * 3},
        {"hours": "1", "young_person_id": "abc"},
    ],
)
def test_junk_on_every_post_route_never_gives_a_500(app, client, world, case, data):
    flag = cases.open_flags(world.session, case.id)[0]
    login(client, world.caseworker)
    token = page_token(client)
    for method, url in routes(app, case, flag.id):
        if method != "POST":
            continue
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code < 500, (url, data, response.status_code)


def test_monitoring_page_and_bad_month(client, world, case):
    login(client, world.caseworker)
    page = client.get(f"/faelle/monitoring?monat={TODAY:%Y-%m}")
    assert page.status_code == 200 and "Unterversorgt" in page.get_data(as_text=True)
    assert case.pseudonym in page.get_data(as_text=True)
    bad = client.get("/faelle/monitoring?monat=2026-13")
    assert bad.status_code == 422 and "JJJJ-MM" in bad.get_data(as_text=True)
    csv = client.get(f"/faelle/monitoring/export.csv?monat={date.today():%Y-%m}")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
