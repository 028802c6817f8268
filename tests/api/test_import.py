"""Bulk import of offers and young people, as JSON and as CSV: all or nothing, every problem with its row."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import select

from marketplace.models import GroupOffer, Municipality, OfferStatusEvent, YoungPerson
from marketplace.spreadsheets import csv_bytes

from .conftest import District, days
from .test_contract import assert_problem, offer_input


def person_input(d: District, **overrides: Any) -> dict[str, Any]:
    body = {"birth_year": date.today().year - 13, "gender": "m", "municipality_id": d.ids["town"],
            "need_ids": [d.ids["category"]], "availability": [[1, 900, 1080], [3, 900, 1080]], "max_travel_km": 10,
            "module_id": d.ids["module"], "lead_provider_id": d.providers["own"].id, "approval_start": days(-5),
            "legal_basis": "§ 35a"}
    return {**body, **overrides}


def count(session, model) -> int:
    return len(session.exec(select(model)).all())


# --------------------------------------------------------------------------- offers


def test_offer_json_import_is_all_or_nothing_with_row_errors(app, district, session):
    client, headers = app.test_client(), district.headers("coordinator")
    before = count(session, GroupOffer)
    rows = [offer_input(district), offer_input(district, title=""), offer_input(district, seats=3, min_size=5)]
    body = assert_problem(client.post("/api/v1/offers/import", json=rows, headers=headers), 422)
    problems = {(e["row"], e["field"]): e for e in body["errors"]}
    assert set(problems) == {(2, "title"), (3, "min_size")}
    assert problems[(2, "title")]["pointer"] == "/1/title"
    assert problems[(3, "min_size")]["message"] == "Die Mindestgröße darf die Zahl der Plätze (3) nicht übersteigen."
    assert count(session, GroupOffer) == before
    schema_error = client.post("/api/v1/offers/import", json=[offer_input(district), {"title": 5}], headers=headers)
    assert {e["row"] for e in assert_problem(schema_error, 422)["errors"]} == {2}
    created = client.post("/api/v1/offers/import", json=rows[:1] * 2, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    ids = created.get_json()["ids"]
    assert created.get_json()["created"] == 2 and count(session, GroupOffer) == before + 2
    offers = session.exec(select(GroupOffer).where(GroupOffer.id.in_(ids))).all()
    assert {(o.status, o.provider_id) for o in offers} == {("draft", district.providers["own"].id)}
    reasons = {e.reason for e in session.exec(select(OfferStatusEvent).where(OfferStatusEvent.offer_id.in_(ids)))}
    assert reasons == {"Importiert (API, Zeile 1)", "Importiert (API, Zeile 2)"}


def test_offer_csv_import_uses_the_spreadsheet_columns(app, district, session):
    client, headers = app.test_client(), district.headers("coordinator")
    town = session.get(Municipality, district.ids["town"]).name
    header = ["Titel", "Kategorien", "Alter von", "Alter bis", "Termine", "Erster Termin", "Gemeinde", "Plätze",
              "Verrechnungssatz (€/Std.)"]
    good = ["Lerngruppe", "social_skills", 10, 14, "Mo 15:00-16:30", "01.09.2030", town, 6, "18,50"]
    bad = ["Kletter-AG", "gibt es nicht", 10, 9, "Montag früh", "01.09.2030", town, 6, ""]
    before = count(session, GroupOffer)
    refused = client.post("/api/v1/offers/import", data=csv_bytes(header, [good, bad]), content_type="text/csv",
                          headers=headers)
    body = assert_problem(refused, 422)
    assert {e["row"] for e in body["errors"]} == {3}
    assert {e["field"] for e in body["errors"]} >= {"Kategorien", "Termine"}
    assert count(session, GroupOffer) == before
    created = client.post("/api/v1/offers/import", data=csv_bytes(header, [good]), content_type="text/csv",
                          headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    offer = session.get(GroupOffer, created.get_json()["ids"][0])
    assert (offer.title, offer.offset_rate_cents, offer.status) == ("Lerngruppe", 1850, "draft")


# --------------------------------------------------------------------------- young people


def test_young_people_json_import_is_all_or_nothing(app, district, session):
    client, headers = app.test_client(), district.headers("caseworker")
    before = count(session, YoungPerson)
    rows = [person_input(district, case_reference="AZ-2025/17"), person_input(district, gender="x"),
            person_input(district, case_reference="az-2025/17"), person_input(district, vorname="Lena")]
    body = assert_problem(client.post("/api/v1/young-people/import", json=rows, headers=headers), 422)
    fields = {(e["row"], e["field"]) for e in body["errors"]}
    assert fields == {(4, "vorname")}  # unknown fields are refused before any rule is checked
    body = assert_problem(client.post("/api/v1/young-people/import", json=rows[:3], headers=headers), 422)
    problems = {(e["row"], e["field"]): e["message"] for e in body["errors"]}
    assert set(problems) == {(2, "gender"), (3, "case_reference")}
    assert "mehrfach" in problems[(3, "case_reference")]
    assert count(session, YoungPerson) == before
    created = client.post("/api/v1/young-people/import", json=[rows[0], person_input(district)], headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    people = session.exec(select(YoungPerson).where(YoungPerson.id.in_(created.get_json()["ids"]))).all()
    assert {p.team_id for p in people} == {district.teams["own"].id}
    assert all(p.pseudonym.startswith("JM-") for p in people)
    assert {p.case_reference for p in people} == {"AZ-2025/17", None}


def test_young_people_csv_import(app, district, session):
    client, headers = app.test_client(), district.headers("caseworker")
    town = session.get(Municipality, district.ids["town"]).name
    provider = district.providers["own"].short_name
    header = ["Aktenzeichen", "Geburtsjahr", "Geschlecht", "Gemeinde", "Bedarfe", "Zeiten", "Fahrstrecke (km)",
              "Modul", "Federführender Träger", "Bewilligung ab", "Rechtsgrundlage", "Gruppenstunden Ziel"]
    year = date.today().year - 14
    good = ["AZ-77/1", year, "w", town, "social_skills", "Mo 14:00-18:00; Mi 15:00-17:00", "12,5", "standard",
            provider, "01.01.2025", "35a", "4"]
    bad = ["AZ-77/2", "zwölf", "w", "Atlantis", "social_skills", "Mo 14:00-18:00", "10", "standard", provider,
           "01.01.2025", "§ 99", ""]
    refused = client.post("/api/v1/young-people/import", data=csv_bytes(header, [good, bad]),
                          content_type="text/csv", headers=headers)
    body = assert_problem(refused, 422)
    assert {(e["row"], e["field"]) for e in body["errors"]} == {(3, "Geburtsjahr"), (3, "Gemeinde"),
                                                                 (3, "Rechtsgrundlage")}
    assert count(session, YoungPerson) == 4
    created = client.post("/api/v1/young-people/import", data=csv_bytes(header, [good]), content_type="text/csv",
                          headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    person = session.get(YoungPerson, created.get_json()["ids"][0])
    assert (person.case_reference, person.gender, person.legal_basis, person.group_minutes_target) == (
        "AZ-77/1", "f", "§ 35a", 240)
    assert person.max_travel_km == 12.5


def test_case_table_refuses_columns_for_names(app, district):
    table = csv_bytes(["Vorname", "Geburtsjahr"], [["Lena", 2012]])
    response = app.test_client().post("/api/v1/young-people/import", data=table, content_type="text/csv",
                                      headers=district.headers("caseworker"))
    body = assert_problem(response, 422)
    assert any(e["field"] == "Vorname" and "unbekannt" in e["message"] for e in body["errors"])
