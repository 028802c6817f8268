"""Control characters (NUL and the like) in what people send: refused with a German message, nothing written.

PostgreSQL refuses NUL characters in text (the driver raises: a 500 if it got that far), so every
test here runs on SQLite and on PostgreSQL. Forms that show messages at their fields (offer
editor, case forms, Flask-WTF forms, the offer import's cells) answer 422 with the message at the
field; every other form, query string, field name and file name is refused with 400 before the
view runs (`marketplace.web.text_guard`).
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from marketplace.control_characters import CONTROL_MESSAGE
from marketplace.timeutil import today_berlin
from marketplace.web.text_guard import MESSAGE as REQUEST_MESSAGE

from .district import DistrictApp

NUL = "\x00"


@pytest.fixture(scope="module")
def district_app(district_app_both: DistrictApp) -> DistrictApp:
    """Every test of this module runs on SQLite and on PostgreSQL."""
    return district_app_both


@pytest.fixture
def d(district_app: DistrictApp) -> Any:
    """The district; after each test the database must be as before (or is put back and the test fails)."""
    yield district_app
    changed = district_app.changed_tables()
    if district_app.dirty():
        district_app.restore()
    written = [t for t in changed if t != "audit_event"] + [f"audit {a}" for a in _audit(district_app)]
    assert not written, f"a refused request wrote to {written}"


def _audit(d: DistrictApp) -> list[tuple]:
    return d.audit_changes()


def _post(d: DistrictApp, role: str, url: str, form: dict[str, Any], **kwargs: Any) -> Any:
    return d.client(role).post(url, data={**form, "csrf_token": d.csrf[role]}, **kwargs)


def _message_at(html: str, element_id: str) -> str:
    """The text of the message element with `element_id` (up to its closing tag)."""
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</(div|ul)>', html, re.S)
    assert match, f"no element {element_id!r} in the page"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def _future(days: int) -> str:
    return (today_berlin() + timedelta(days=days)).isoformat()


def _offer_form(d: DistrictApp, **changes: str) -> dict[str, Any]:
    ids = d.district.ids
    form = {
        "title": "Neue Gruppe", "description": "Wir üben Konflikte zu lösen.", "age_min": "10", "age_max": "14",
        "first_date": _future(30), "municipality_id": str(ids["town"]), "seats": "8", "min_size": "2",
        "entry_mode": "open", "offset_rate": "20,00", "categories": str(ids["category_social_skills"]),
        "session_weekday": "0", "session_start": "15:00", "session_end": "17:00",
    }  # fmt: skip
    return {**form, **changes}


def _case_form(d: DistrictApp, **changes: str) -> dict[str, Any]:
    ids = d.district.ids
    with d.engine.connect() as connection:
        module_id = connection.execute(text("SELECT id FROM module WHERE code = 'standard'")).scalar_one()
    form = {
        "birth_year": str(today_berlin().year - 13), "gender": "m", "municipality_id": str(ids["town"]),
        "need_ids": str(ids["category_social_skills"]), "max_travel_km": "10", "module_id": str(module_id),
        "lead_provider_id": str(ids["provider_own"]), "approval_start": _future(-5), "approval_end": _future(300),
        "legal_basis": "§ 30", "priority": "1", "avail-0-0-start": "14:00", "avail-0-0-end": "18:00",
    }  # fmt: skip
    return {**form, **changes}


# --------------------------------------------------------------------------- messages at the field


@pytest.mark.parametrize(("field", "value", "slot"), [
    ("title", f"Gruppe{NUL}", "fehler-title"),
    ("description", f"Wir üben{NUL}", "fehler-description"),
    ("address", "Marktplatz\x0b1", "fehler-address"),
    ("staff_mix", "Pädagogik\x1b[31m", "fehler-staff_mix"),
    ("lat", f"49,87{NUL}", "fehler-coordinates"),
])  # fmt: skip
def test_offer_editor_reports_control_characters_at_the_field(d: DistrictApp, field: str, value: str,
                                                              slot: str) -> None:
    form = _offer_form(d, **{field: value})
    if field == "lat":
        form["lon"] = "8,80"
    response = _post(d, "coordinator", "/angebote/neu", form)
    assert response.status_code == 422
    assert _message_at(response.get_data(as_text=True), slot) == CONTROL_MESSAGE


def test_offer_editor_edit_and_live_check_refuse_control_characters(d: DistrictApp) -> None:
    offer_id = d.district.ids["offer_own_draft"]
    form = _offer_form(d, title=f"Entwurf{NUL}", version="1")
    response = _post(d, "coordinator", f"/angebote/{offer_id}/bearbeiten", form)
    assert response.status_code == 422
    assert _message_at(response.get_data(as_text=True), "fehler-title") == CONTROL_MESSAGE

    response = _post(d, "coordinator", f"/angebote/pruefen?feld=title&angebot={offer_id}", form)
    assert response.status_code == 422
    assert CONTROL_MESSAGE in response.get_data(as_text=True)


def test_offer_editor_reports_a_session_row(d: DistrictApp) -> None:
    response = _post(d, "coordinator", "/angebote/neu", _offer_form(d, session_start=f"15:00{NUL}"))
    assert response.status_code == 422
    assert CONTROL_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "slot"), [
    ("legal_basis", f"§ 30{NUL}", "fehler-legal_basis"),
    ("case_reference", f"AZ-1{NUL}", "fehler-case_reference"),
    ("birth_year", f"2012{NUL}", "fehler-birth_year"),
    ("avail-0-0-start", f"14:00{NUL}", "fehler-availability"),
    ("need_ids", NUL, "fehler-need_ids"),
])  # fmt: skip
def test_case_registration_reports_control_characters_at_the_field(d: DistrictApp, field: str, value: str,
                                                                   slot: str) -> None:
    response = _post(d, "caseworker", "/faelle/neu", _case_form(d, **{field: value}))
    assert response.status_code == 422
    assert _message_at(response.get_data(as_text=True), slot) == CONTROL_MESSAGE


def test_case_edit_and_end_report_control_characters_at_the_field(d: DistrictApp) -> None:
    yp = d.district.ids["yp_own"]
    response = _post(d, "caseworker", f"/faelle/{yp}/bearbeiten", _case_form(d, legal_basis=f"§ 30{NUL}", version="1"))
    assert response.status_code == 422
    assert _message_at(response.get_data(as_text=True), "fehler-legal_basis") == CONTROL_MESSAGE

    response = _post(d, "caseworker", f"/faelle/{yp}/beenden", {"reason": f"Hilfe beendet{NUL}", "version": "1"})
    assert response.status_code == 422
    assert _message_at(response.get_data(as_text=True), "fehler-reason") == CONTROL_MESSAGE


@pytest.mark.parametrize(("field", "value"), [("display_name", f"Neue Person{NUL}"),
                                              ("email", f"neu{NUL}@jugendamt.example"),
                                              ("display_name", "Neue\x07Person")])
def test_admin_user_form_reports_control_characters_at_the_field(d: DistrictApp, field: str, value: str) -> None:
    form = {"display_name": "Neue Person", "email": "neu@jugendamt.example", "role": "planner",
            "password": "ein-langes-startpasswort", "password_repeat": "ein-langes-startpasswort", field: value}
    response = _post(d, "admin", "/verwaltung/benutzer/neu", form)
    assert response.status_code == 422
    assert _message_at(response.get_data(as_text=True), f"{field}-fehler") == CONTROL_MESSAGE

    user_id = d.district.user_ids["planner"]
    response = _post(d, "admin", f"/verwaltung/benutzer/{user_id}", {**form, "display_name": f"Planung{NUL}"})
    assert response.status_code == 422
    assert _message_at(response.get_data(as_text=True), "display_name-fehler") == CONTROL_MESSAGE


def test_admin_provider_form_and_login_report_control_characters_at_the_field(d: DistrictApp) -> None:
    response = _post(d, "admin", "/verwaltung/traeger/neu", {"name": f"Träger{NUL}", "short_name": "T"})
    assert response.status_code == 422
    assert _message_at(response.get_data(as_text=True), "name-fehler") == CONTROL_MESSAGE

    client = d.client("anonymous")
    from tests.web.conftest import csrf_from

    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": f"a{NUL}@b.example", "password": "x", "csrf_token": token})
    assert response.status_code == 422
    assert _message_at(response.get_data(as_text=True), "email-fehler") == CONTROL_MESSAGE


# --------------------------------------------------------------------------- uploads


@pytest.mark.parametrize("bad", [NUL, "\x0b", "\x1b"])
def test_offer_import_names_the_cell_with_a_control_character(d: DistrictApp, bad: str) -> None:
    from marketplace.offer_io import template_table
    from marketplace.spreadsheets import csv_bytes

    header, rows = template_table()
    rows = [list(rows[0]), list(rows[0])]
    rows[1][0] = f"Zweite{bad}Gruppe"
    data = csv_bytes(header, rows)
    response = _post(d, "coordinator", "/buero/angebote/import", {"datei": (io.BytesIO(data), "angebote.csv")},
                     content_type="multipart/form-data")
    assert 400 <= response.status_code < 500
    page = response.get_data(as_text=True)
    assert "unzulässige Steuerzeichen" in page and "Zeile 3, Spalte „Titel“" in page


def test_upload_with_a_control_character_in_the_file_name_is_refused(d: DistrictApp) -> None:
    response = _post(d, "coordinator", "/buero/angebote/import",
                     {"datei": (io.BytesIO(b"Titel\nA\n"), f"angebote{NUL}.csv")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert REQUEST_MESSAGE in response.get_data(as_text=True)


# --------------------------------------------------------------------------- everything else: 400 before the view


@pytest.mark.parametrize(("role", "url", "form"), [
    ("caseworker", "/belegung/neu/{yp_own_member}", {"note": f"Bitte bald{NUL}"}),
    ("coordinator", "/belegung/belegungen/{placement_own}/ablehnen", {"reason": f"Zu weit{NUL}"}),
    ("planner", "/berichte/abnahme", {"monat": "{month}", "kommentar": f"geprüft{NUL}"}),
    ("planner", "/api-zugaenge/", {"name": f"Token{NUL}", "scope": "read"}),
    ("caseworker", "/faelle/neu", {f"name{NUL}": "x"}),  # a field name: refused even where values are the form's
])  # fmt: skip
def test_other_forms_are_refused_before_the_view(d: DistrictApp, role: str, url: str, form: dict[str, str]) -> None:
    values = {**d.district.ids, "month": d.district.month}
    form = {k.format(**values): v.format(**values) for k, v in form.items()}
    response = _post(d, role, url.format(**values), form)
    assert response.status_code == 400
    assert REQUEST_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize(("role", "url"), [
    ("caseworker", "/katalog/?q=Sport%00"),
    ("caseworker", "/katalog/karte?q=%00"),
    ("caseworker", "/faelle/?q=%00"),
    ("planner", "/berichte/auslastung?von=2025-01%00"),
    ("admin", "/verwaltung/benutzer?q=%1B"),
    ("coordinator", "/buero/teilnahme?angebot=1%00"),
    ("caseworker", "/katalog/?kategorie%00=1"),
])  # fmt: skip
def test_query_strings_with_control_characters_are_refused(d: DistrictApp, role: str, url: str) -> None:
    response = d.client(role).get(url)
    assert response.status_code == 400
    assert REQUEST_MESSAGE in response.get_data(as_text=True)


def test_htmx_requests_get_the_message_as_an_alert(d: DistrictApp) -> None:
    response = d.client("caseworker").get("/katalog/?q=%00", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#htmx-alerts"
    assert REQUEST_MESSAGE in response.get_data(as_text=True)


# --------------------------------------------------------------------------- what stays allowed


def test_tabs_and_line_breaks_in_texts_are_kept(district_app: DistrictApp) -> None:
    d = district_app
    description = "Erste Zeile\r\nZweite Zeile\tmit Tab"
    try:
        response = _post(d, "coordinator", "/angebote/neu", _offer_form(d, title="Gruppe mit Umbruch",
                                                                           description=description))
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        with d.engine.connect() as connection:
            stored = connection.execute(text("SELECT description FROM group_offer WHERE title = :t"),
                                        {"t": "Gruppe mit Umbruch"}).scalar_one()
        assert stored == description.replace("\r\n", "\n") or stored == description
    finally:
        d.restore()
