"""Bad input never causes a 5xx and never a partial write.

Hypothesis sends nasty values (NUL bytes, huge and negative numbers, unicode, SQL-ish text,
empty and very long strings, wrong types, garbage file bytes) into the main forms, query
strings, uploads and API endpoints of the district. Every answer must be below 500; a 4xx
answer to a form carries a German message; after a refused submission the database is
exactly as before (every row of every table). Accepted submissions are undone before the
next example, so each example starts from the same district. Every test runs on SQLite and on
PostgreSQL (when MARKETPLACE_TEST_POSTGRES_URL is set).
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter

from marketplace.timeutil import today_berlin

from .district import DistrictApp
from .test_authorization_matrix import MATRIX

#: Examples per test: modest by default (the module runs in about half a minute); SECURITY_EXAMPLES=200 digs deeper.
SETTINGS = settings(max_examples=int(os.environ.get("SECURITY_EXAMPLES", "12")), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

HUGE = "9" * 30
SPECIAL = [
    "", " ", "\x00", "ab\x00cd", "\x00" * 3, "-1", "0", "-0", "1e309", "NaN", "inf", "-inf", HUGE, "-" + HUGE,
    str(2**31), str(2**31 - 1), str(2**63), str(-(2**63) - 1), "1" * 400, "x" * 5000, "' OR 1=1 --",
    "1; DROP TABLE young_person; --", "\" onmouseover=alert(1) \"", "<script>alert(1)</script>", "%s%s%n",
    "äöü ß ✓ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ‮", "١٢٣", "２０", "²", "1²", "①",
    "2024-02-30", "0000-00-00", "99999-12-31", "25:61", "3,5", "1.5e3",
    "0x10", "1_000", " 7 ", "\t\n", "null", "true", "[]", "{}",
]
NASTY = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=30),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
#: JSON values of the wrong type or shape, for API bodies.
NASTY_JSON = st.one_of(
    NASTY,
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=-(2**40), max_value=2**40), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.just("\ud800"),
)

#: German words that appear in every German validation message of the app.
GERMAN = re.compile(r"Bitte|bitte|nicht|ngültig|darf|muss|höchstens|mindestens|[Kk]ein|Zahl|wählen|Datum|Format|"
                    r"Pflichtangabe|Erlaubte|gibt es|nbekannt|zu groß|zu lang|Steuerzeichen")


@pytest.fixture(scope="module")
def district_app(district_app_both: DistrictApp) -> DistrictApp:
    """Every test of this module runs on SQLite and on PostgreSQL (which refuses NUL characters)."""
    return district_app_both


# --------------------------------------------------------------------------- helpers


def _check(d: DistrictApp, response: Any, what: str) -> None:
    """< 500; 4xx with a German message; nothing written on a 4xx. Undo accepted writes."""
    status = response.status_code
    body = response.get_data(as_text=True)
    response.close()
    try:
        assert status < 500, f"{what}: {status}"
        if 400 <= status < 500:
            assert GERMAN.search(body), f"{what}: {status} without a German message: {body[:300]!r}"
            # a refused form may show case data again (an audited view), but changes nothing
            if d.digest(ignore={"audit_event"}) != d.pristine_digest_without_audit or d.audit_changes():
                pytest.fail(f"{what}: refused with {status} but wrote to {d.changed_tables()}")
    finally:
        if d.dirty():
            d.restore()


def _post_form(d: DistrictApp, role: str, url: str, form: dict[str, Any], **kwargs: Any) -> Any:
    data = {**form, "csrf_token": d.csrf[role]}
    return d.client(role).post(url, data=data, **kwargs)


def _api(d: DistrictApp, role: str, method: str, url: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {d.tokens[role]}", **kwargs.pop("headers", {})}
    return d.app.test_client().open(url, method=method, headers=headers, **kwargs)


def _overrides(fields: list[str], values: Any = NASTY) -> Any:
    return st.dictionaries(st.sampled_from(fields), values, min_size=1, max_size=4)


def _future(days: int) -> str:
    return (today_berlin() + timedelta(days=days)).isoformat()


# --------------------------------------------------------------------------- forms


def _offer_form(d: DistrictApp) -> dict[str, Any]:
    ids = d.district.ids
    return {
        "title": "Neue Gruppe", "description": "Wir üben Konflikte zu lösen.", "age_min": "10", "age_max": "14",
        "first_date": _future(30), "last_date": _future(200), "municipality_id": str(ids["town"]),
        "address": "Marktplatz 1", "lat": "49,87", "lon": "8,80", "seats": "8", "min_size": "2",
        "entry_mode": "open", "staff_mix": "Pädagogik", "offset_rate": "20,00",
        "categories": str(ids["category_social_skills"]), "genders": "f",
        "session_weekday": "0", "session_start": "15:00", "session_end": "17:00",
    }  # fmt: skip


OFFER_FIELDS = ["title", "description", "age_min", "age_max", "first_date", "last_date", "municipality_id",
                "address", "lat", "lon", "seats", "min_size", "entry_mode", "staff_mix", "offset_rate", "categories",
                "genders", "session_weekday", "session_start", "session_end", "session_id", "version", "aktion"]


@SETTINGS
@given(changes=_overrides(OFFER_FIELDS))
def test_offer_editor_new(district_app: DistrictApp, changes: dict[str, str]) -> None:
    form = {**_offer_form(district_app), **changes}
    _check(district_app, _post_form(district_app, "coordinator", "/angebote/neu", form), f"new offer {changes!r}")


@SETTINGS
@given(changes=_overrides(OFFER_FIELDS))
def test_offer_editor_edit(district_app: DistrictApp, changes: dict[str, str]) -> None:
    offer_id = district_app.district.ids["offer_own_draft"]
    form = {**_offer_form(district_app), "version": "1", **changes}
    response = _post_form(district_app, "coordinator", f"/angebote/{offer_id}/bearbeiten", form)
    _check(district_app, response, f"edit offer {changes!r}")


@SETTINGS
@given(field=st.sampled_from(OFFER_FIELDS), value=NASTY, offer=st.one_of(st.sampled_from(["", "own"]), NASTY))
def test_offer_live_validation(district_app: DistrictApp, field: str, value: str, offer: str) -> None:
    angebot = str(district_app.district.ids["offer_own"]) if offer == "own" else offer
    form = {**_offer_form(district_app), field: value}
    response = _post_form(district_app, "coordinator", f"/angebote/pruefen?feld={field}&angebot={angebot}", form)
    _check(district_app, response, f"live validation {field}={value!r} angebot={angebot!r}")


def _case_form(d: DistrictApp) -> dict[str, Any]:
    ids = d.district.ids
    return {
        "birth_year": str(today_berlin().year - 13), "gender": "m", "municipality_id": str(ids["town"]),
        "need_ids": str(ids["category_social_skills"]), "max_travel_km": "10", "module_id": "",
        "lead_provider_id": str(ids["provider_own"]), "approval_start": _future(-5), "approval_end": _future(300),
        "legal_basis": "§ 30", "priority": "1", "avail-0-0-start": "14:00", "avail-0-0-end": "18:00",
    }  # fmt: skip


CASE_FIELDS = ["case_reference", "birth_year", "gender", "municipality_id", "lat", "lon", "max_travel_km", "module_id",
               "group_hours_target", "group_hours_max", "lead_provider_id", "approval_start", "approval_end",
               "legal_basis", "priority", "risk_report_at", "need_ids", "preferred_offer_ids", "excluded_offer_ids",
               "keep_apart_ids", "avail-0-0-start", "avail-0-0-end", "avail-6-1-end", "version", "name"]


def _with_module(d: DistrictApp, form: dict[str, Any]) -> dict[str, Any]:
    from sqlmodel import Session, select

    from marketplace.models import Module

    with Session(d.engine) as session:
        module_id = session.exec(select(Module.id).where(Module.code == "standard")).one()
    return {**form, "module_id": str(module_id)}


@SETTINGS
@given(changes=_overrides(CASE_FIELDS))
def test_young_person_registration(district_app: DistrictApp, changes: dict[str, str]) -> None:
    form = {**_with_module(district_app, _case_form(district_app)), **changes}
    _check(district_app, _post_form(district_app, "caseworker", "/faelle/neu", form), f"register {changes!r}")


@SETTINGS
@given(changes=_overrides(CASE_FIELDS))
def test_young_person_edit(district_app: DistrictApp, changes: dict[str, str]) -> None:
    yp = district_app.district.ids["yp_own"]
    form = {**_with_module(district_app, _case_form(district_app)), "version": "1", **changes}
    _check(district_app, _post_form(district_app, "caseworker", f"/faelle/{yp}/bearbeiten", form),
           f"edit case {changes!r}")


@SETTINGS
@given(action=st.sampled_from(["modul", "krise-verlaengern", "beenden"]),
       changes=_overrides(["module_id", "reason", "version", "ends_on", "weeks", "group_hours_target", "note"]))
def test_case_actions(district_app: DistrictApp, action: str, changes: dict[str, str]) -> None:
    yp = district_app.district.ids["yp_own"]
    response = _post_form(district_app, "caseworker", f"/faelle/{yp}/{action}", {"version": "1", **changes})
    _check(district_app, response, f"case {action} {changes!r}")


@SETTINGS
@given(young_person=st.sampled_from(["own", HUGE, "-5", "abc", "", "0"]), hours=NASTY, month=NASTY)
def test_individual_hours(district_app: DistrictApp, young_person: str, hours: str, month: str) -> None:
    yp = str(district_app.district.ids["yp_own"]) if young_person == "own" else young_person
    form = {"young_person_id": yp, "hours": hours, "month": month}
    _check(district_app, _post_form(district_app, "coordinator", "/faelle/einzelstunden", form),
           f"individual hours {form!r}")


# --------------------------------------------------------------------------- placements


@SETTINGS
@given(note=NASTY)
def test_placement_request(district_app: DistrictApp, note: str) -> None:
    yp = district_app.district.ids["yp_own_member"]
    _check(district_app, _post_form(district_app, "caseworker", f"/belegung/neu/{yp}", {"note": note}),
           f"request note={note!r}")


@SETTINGS
@given(option=NASTY, variant=NASTY)
def test_placement_confirm(district_app: DistrictApp, option: str, variant: str) -> None:
    rq = district_app.district.ids["request_own"]
    form = {"option": option, "variant": variant}
    _check(district_app, _post_form(district_app, "caseworker", f"/belegung/anfragen/{rq}/bestaetigen", form),
           f"confirm {form!r}")


@SETTINGS
@given(reason=NASTY, where=st.sampled_from(["belegung", "angebote"]))
def test_placement_decline(district_app: DistrictApp, reason: str, where: str) -> None:
    pl = district_app.district.ids["placement_own"]
    url = f"/belegung/belegungen/{pl}/ablehnen" if where == "belegung" else f"/angebote/belegungen/{pl}/ablehnen"
    _check(district_app, _post_form(district_app, "coordinator", url, {"reason": reason}), f"decline {reason!r}")


@SETTINGS
@given(reason=st.one_of(st.sampled_from(["help_ended", "other"]), NASTY), note=NASTY)
def test_placement_end(district_app: DistrictApp, reason: str, note: str) -> None:
    pl = district_app.district.ids["placement_host"]
    form = {"reason": reason, "note": note}
    _check(district_app, _post_form(district_app, "coordinator", f"/belegung/belegungen/{pl}/beenden", form),
           f"end {form!r}")


@SETTINGS
@given(variant=NASTY)
def test_proposal_confirm(district_app: DistrictApp, variant: str) -> None:
    pl = district_app.district.ids["proposal_own"]
    response = _post_form(district_app, "caseworker", f"/belegung/vorschlaege/{pl}/bestaetigen", {"variant": variant})
    _check(district_app, response, f"confirm proposal variant={variant!r}")


@SETTINGS
@given(notification=NASTY)
def test_notification_mark_read(district_app: DistrictApp, notification: str) -> None:
    response = _post_form(district_app, "caseworker", "/belegung/benachrichtigungen/gelesen", {"id": notification})
    _check(district_app, response, f"mark read {notification!r}")


# --------------------------------------------------------------------------- attendance, office


@SETTINGS
@given(changes=_overrides(["angebot", "termin", "grund", "mark-{member}", "mark-{host}", "mark-abc", f"mark-{HUGE}"]))
def test_attendance(district_app: DistrictApp, changes: dict[str, str]) -> None:
    ids = district_app.district.ids
    names = {"mark-{member}": f"mark-{ids['placement_member']}", "mark-{host}": f"mark-{ids['placement_host']}"}
    form = {"angebot": str(ids["offer_own"]), f"mark-{ids['placement_member']}": "present"}
    form.update({names.get(k, k): v for k, v in changes.items()})
    _check(district_app, _post_form(district_app, "coordinator", "/buero/teilnahme", form), f"attendance {form!r}")


@SETTINGS
@given(params=_overrides(["angebot", "termin", "monat", "format", "vorbelegen"]),
       path=st.sampled_from(["/buero/teilnahme", "/buero/teilnahme/monat", "/buero/teilnahme/monat/export",
                             "/buero/angebote/export", "/buero/angebote/vorlage"]))
def test_office_queries(district_app: DistrictApp, params: dict[str, str], path: str) -> None:
    response = district_app.client("coordinator").get(path, query_string=params)
    _check(district_app, response, f"{path} {params!r}")


GARBAGE = st.one_of(
    st.binary(max_size=2000),
    st.sampled_from([b"", b"\x00" * 100, b"PK\x03\x04" + b"\x00" * 50, b"\xff\xfe\x00\x00",
                     ("titel;plaetze\nA;" + "9" * 40 + "\n").encode(),
                     b"=cmd|' /C calc'!A0;1\n", "ä;ö\n\x00;1".encode(), b"\xef\xbb\xbf" + b";" * 500]),
)


@SETTINGS
@given(data=GARBAGE, name=st.sampled_from(["angebote.csv", "angebote.xlsx", "angebote.txt", "x.exe", "a\x00.csv"]))
def test_offer_import_upload(district_app: DistrictApp, data: bytes, name: str) -> None:
    import io

    form = {"datei": (io.BytesIO(data), name)}
    response = _post_form(district_app, "coordinator", "/buero/angebote/import", form,
                          content_type="multipart/form-data")
    _check(district_app, response, f"offer import {name!r} {data[:40]!r}")


@SETTINGS
@given(data=GARBAGE, kind=st.sampled_from(["text/csv",
                                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]),
       path=st.sampled_from(["/api/v1/offers/import", "/api/v1/young-people/import"]))
def test_api_table_upload(district_app: DistrictApp, data: bytes, kind: str, path: str) -> None:
    role = "coordinator" if "offers" in path else "caseworker"
    response = _api(district_app, role, "POST", path, data=data, headers={"Content-Type": kind})
    _check(district_app, response, f"{path} {kind} {data[:40]!r}")


# --------------------------------------------------------------------------- planning


SETTINGS_FIELDS = ["placed", "hours", "need_match", "preferred", "km", "offset_eur", "change", "max_changes",
                   "time_limit_s", "bill_excused"]


@SETTINGS
@given(changes=_overrides(SETTINGS_FIELDS))
def test_settings(district_app: DistrictApp, changes: dict[str, str]) -> None:
    _check(district_app, _post_form(district_app, "planner", "/einstellungen/", changes), f"settings {changes!r}")


@SETTINGS
@given(changes=_overrides([*SETTINGS_FIELDS[:7], "remove", "municipality_id", "weekday", "start", "end", "seats",
                           "min_size", "age_min", "age_max", "categories"]))
def test_what_if(district_app: DistrictApp, changes: dict[str, str]) -> None:
    _check(district_app, _post_form(district_app, "planner", "/laeufe/was-waere-wenn", changes), f"what-if {changes!r}")


@SETTINGS
@given(month=NASTY, kind=st.sampled_from(["csv", "xlsx", "pdf", "exe"]))
def test_ledger_month(district_app: DistrictApp, month: str, kind: str) -> None:
    from urllib.parse import quote

    for role in ("planner", "coordinator"):
        client = district_app.client(role)
        _check(district_app, client.get("/verrechnung/", query_string={"monat": month}), f"ledger {month!r}")
        if month.strip("/") and "\x00" not in month:
            url = f"/verrechnung/{quote(month, safe='')}.{kind}"
            _check(district_app, client.get(url), f"ledger export {month!r}")
    for step in ("buchen", "abschliessen"):
        url = f"/verrechnung/{quote(month, safe='') or 'x'}/{step}"
        _check(district_app, _post_form(district_app, "planner", url, {}), f"ledger {step} {month!r}")


@SETTINGS
@given(month=NASTY, comment=NASTY)
def test_report_signoff(district_app: DistrictApp, month: str, comment: str) -> None:
    response = _post_form(district_app, "planner", "/berichte/abnahme", {"monat": month, "kommentar": comment})
    _check(district_app, response, f"sign-off {month!r}")


CATALOGUE_PARAMS = ["q", "kategorie", "sozialraum", "gemeinde", "bezugsort", "wochentag", "von", "bis", "alter",
                    "umkreis", "frei", "sortierung", "status", "seite"]


@SETTINGS
@given(params=_overrides(CATALOGUE_PARAMS), path=st.sampled_from(["/katalog/", "/katalog/karte"]),
       role=st.sampled_from(["caseworker", "planner"]))
def test_catalogue_query(district_app: DistrictApp, params: dict[str, str], path: str, role: str) -> None:
    _check(district_app, district_app.client(role).get(path, query_string=params), f"{path} {params!r}")


REPORT_PARAMS = ["von", "bis", "sozialraum", "traeger", "kategorie", "nach"]


@SETTINGS
@given(params=_overrides(REPORT_PARAMS),
       path=st.sampled_from(["/berichte/auslastung", "/berichte/bedarf", "/berichte/modulstunden",
                             "/berichte/traegeruebergreifend", "/berichte/auslastung/export.csv"]))
def test_report_query(district_app: DistrictApp, params: dict[str, str], path: str) -> None:
    _check(district_app, district_app.client("planner").get(path, query_string=params), f"{path} {params!r}")


@SETTINGS
@given(params=_overrides(["q", "status", "module", "team", "monat", "fall"]),
       path=st.sampled_from(["/faelle/", "/faelle/monitoring", "/faelle/monitoring/export.csv",
                             "/faelle/einzelstunden", "/belegung/anfragen"]),
       role=st.sampled_from(["caseworker", "planner", "coordinator"]))
def test_case_queries(district_app: DistrictApp, params: dict[str, str], path: str, role: str) -> None:
    _check(district_app, district_app.client(role).get(path, query_string=params), f"{role} {path} {params!r}")


@SETTINGS
@given(name=NASTY, scope=NASTY)
def test_api_token_form(district_app: DistrictApp, name: str, scope: str) -> None:
    response = _post_form(district_app, "planner", "/api-zugaenge/", {"name": name, "scope": scope})
    _check(district_app, response, f"token {name!r} {scope!r}")


# --------------------------------------------------------------------------- API


def _api_offer(d: DistrictApp) -> dict[str, Any]:
    ids = d.district.ids
    return {
        "title": "Neue Gruppe", "municipality_id": ids["town"], "first_date": _future(30), "seats": 8, "age_min": 10,
        "age_max": 16, "category_ids": [ids["category_social_skills"]],
        "sessions": [{"weekday": 0, "start_minute": 900, "end_minute": 1020}],
    }  # fmt: skip


API_OFFER_FIELDS = ["title", "municipality_id", "first_date", "seats", "age_min", "age_max", "category_ids",
                    "sessions", "description", "genders", "last_date", "address", "lat", "lon", "min_size",
                    "entry_mode", "staff_mix", "multi_professional", "offset_rate_cents", "name"]


@SETTINGS
@given(changes=_overrides(API_OFFER_FIELDS, NASTY_JSON))
def test_api_create_offer(district_app: DistrictApp, changes: dict[str, Any]) -> None:
    body = {**_api_offer(district_app), **changes}
    _check(district_app, _api(district_app, "coordinator", "POST", "/api/v1/offers", json=body),
           f"API offer {changes!r}")


@SETTINGS
@given(changes=_overrides(API_OFFER_FIELDS, NASTY_JSON))
def test_api_update_offer(district_app: DistrictApp, changes: dict[str, Any]) -> None:
    offer_id = district_app.district.ids["offer_own_draft"]
    body = {**_api_offer(district_app), **changes}
    response = _api(district_app, "coordinator", "PUT", f"/api/v1/offers/{offer_id}", json=body,
                    headers={"If-Match": f'"offer-{offer_id}-v1"'})
    _check(district_app, response, f"API offer update {changes!r}")


API_CASE_FIELDS = ["birth_year", "gender", "municipality_id", "lat", "lon", "need_ids", "availability",
                   "max_travel_km", "module_id", "group_minutes_target", "group_minutes_max", "lead_provider_id",
                   "approval_start", "approval_end", "legal_basis", "priority", "risk_report_at",
                   "preferred_offer_ids", "excluded_offer_ids", "keep_apart_ids", "case_reference", "name"]


@SETTINGS
@given(changes=_overrides(API_CASE_FIELDS, NASTY_JSON))
def test_api_register_young_person(district_app: DistrictApp, changes: dict[str, Any]) -> None:
    ids = district_app.district.ids
    form = _with_module(district_app, {})
    body = {
        "birth_year": today_berlin().year - 13, "gender": "m", "municipality_id": ids["town"],
        "need_ids": [ids["category_social_skills"]], "availability": [[0, 840, 1080]], "max_travel_km": 10.0,
        "module_id": int(form["module_id"]), "approval_start": _future(-5), "legal_basis": "§ 30", "priority": 1,
        **changes,
    }  # fmt: skip
    _check(district_app, _api(district_app, "caseworker", "POST", "/api/v1/young-people", json=body),
           f"API register {changes!r}")


@SETTINGS
@given(body=st.one_of(NASTY_JSON, st.dictionaries(st.sampled_from(["young_person_id", "note", "offer_ids",
                                                                   "variant", "reason"]), NASTY_JSON, max_size=3)),
       target=st.sampled_from(["request", "confirm", "decline", "end"]))
def test_api_placement_bodies(district_app: DistrictApp, body: Any, target: str) -> None:
    ids = district_app.district.ids
    role, url = {
        "request": ("caseworker", "/api/v1/placement-requests"),
        "confirm": ("caseworker", f"/api/v1/placement-requests/{ids['request_own']}/confirm"),
        "decline": ("coordinator", f"/api/v1/placements/{ids['placement_own']}/decline"),
        "end": ("coordinator", f"/api/v1/placements/{ids['placement_host']}/end"),
    }[target]
    headers = {"If-Match": f'"placement-{ids["placement_own"]}-v1"'} if target == "decline" else {}
    _check(district_app, _api(district_app, role, "POST", url, json=body, headers=headers), f"API {target} {body!r}")


@SETTINGS
@given(raw=st.one_of(st.binary(max_size=200), st.sampled_from([b"{", b"[" * 5000, b"\x00", b'{"a": 1e999}',
                                                              b'"\\ud800"', b"\xff\xfe"])))
def test_api_broken_json(district_app: DistrictApp, raw: bytes) -> None:
    response = _api(district_app, "coordinator", "POST", "/api/v1/offers", data=raw,
                    headers={"Content-Type": "application/json"})
    _check(district_app, response, f"API raw {raw[:40]!r}")


@SETTINGS
@given(params=_overrides(["page", "per_page", "status", "provider_id", "q", "category_id", "sozialraum_id"]),
       path=st.sampled_from(["/api/v1/offers", "/api/v1/catalogue", "/api/v1/placements", "/api/v1/young-people",
                             "/api/v1/placement-requests", "/api/v1/solver-runs"]))
def test_api_queries(district_app: DistrictApp, params: dict[str, str], path: str) -> None:
    role = {"/api/v1/placement-requests": "caseworker", "/api/v1/solver-runs": "planner"}.get(path, "planner")
    _check(district_app, _api(district_app, role, "GET", path, query_string=params), f"{path} {params!r}")


# --------------------------------------------------------------------------- ids beyond the database


def _allowed_role(endpoint: str, method: str) -> str | None:
    entry = MATRIX.get((endpoint, method))
    if entry is None:
        return None
    for role in ("planner", "caseworker", "coordinator", "admin"):
        if entry.allowed.get(role):
            return role
    return None


@pytest.mark.parametrize("number", [HUGE, str(2**63), str(2**31), "0"])
def test_ids_beyond_the_database_are_not_found(district_app: DistrictApp, number: str) -> None:
    """Every route with a numeric id answers an impossible id with 404 (or another 4xx), never a 500."""
    app = district_app.app
    failures = []
    checked = 0
    for rule in app.url_map.iter_rules():
        numeric = [name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        if not numeric:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            role = _allowed_role(rule.endpoint, method)
            if role is None:
                continue
            values = {name: 7_654_321 for name in rule.arguments}
            values.update({name: "csv" for name in rule.arguments if name in ("fmt", "kind")})
            values.update({name: "auslastung" for name in rule.arguments if name == "key"})
            url = app.url_map.bind("localhost").build(rule.endpoint, values, method=method)
            url = url.replace("7654321", number)
            try:
                if url.startswith("/api/v1/"):
                    kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "PUT") else {}
                    response = _api(district_app, role, method, url, **kwargs)
                elif method == "POST":
                    response = _post_form(district_app, role, url, {})
                else:
                    response = district_app.client(role).get(url)
            except Exception as exc:  # TESTING propagates server errors
                failures.append(f"{method} {url} as {role}: {type(exc).__name__}: {exc}"[:200])
                district_app.restore()
                continue
            response.close()
            checked += 1
            if response.status_code >= 500 or response.status_code < 400:
                failures.append(f"{method} {url} as {role}: {response.status_code}")
            if district_app.dirty():
                failures.append(f"{method} {url} as {role}: wrote {district_app.changed_tables()}")
                district_app.restore()
    assert checked > 40
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("changes", [
    {"municipality_id": 2**31}, {"module_id": 2**40}, {"lead_provider_id": 2**31}, {"need_ids": [2**31]},
    {"preferred_offer_ids": [2**33]}, {"excluded_offer_ids": [-1]}, {"keep_apart_ids": [2**31]},
])
def test_api_register_young_person_with_ids_no_table_can_hold(district_app: DistrictApp, changes: dict) -> None:
    """Ids beyond 32 bits are refused at the field before any lookup (PostgreSQL raises on them)."""
    ids = district_app.district.ids
    form = _with_module(district_app, {})
    body = {
        "birth_year": today_berlin().year - 13, "gender": "m", "municipality_id": ids["town"],
        "need_ids": [ids["category_social_skills"]], "availability": [[0, 840, 1080]], "max_travel_km": 10.0,
        "module_id": int(form["module_id"]), "approval_start": _future(-5), "legal_basis": "§ 30", "priority": 1,
        **changes,
    }  # fmt: skip
    response = _api(district_app, "caseworker", "POST", "/api/v1/young-people", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert next(iter(changes)) in response.get_data(as_text=True)
    _check(district_app, response, f"API register {changes!r}")
