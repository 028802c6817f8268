"""The offers blueprint: editor with live validation and inline sessions, offer page, certification queue,
My groups with pending placements and vacancy confirmation; record-level access on every route."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from marketplace.models import GroupOffer, OfferStatusEvent, Placement, Role
from marketplace.seats import recount_seats
from tests.factories import (
    make_category,
    make_municipality,
    make_offer,
    make_placement,
    make_provider,
    make_user,
    make_young_person,
)
from tests.web.conftest import login, page_token

HX = {"HX-Request": "true"}


@pytest.fixture
def world(session):
    town = make_municipality(session, lat=49.87, lon=8.80)
    cats = [make_category(session, "social_skills"), make_category(session, "sports")]
    lead = make_provider(session, name="Federführend e.V.", contact_name="Frau Lead", contact_phone="06151 1")
    coordinator = make_user(session, Role.coordinator)
    stranger = make_user(session, Role.coordinator)
    planner = make_user(session, Role.planner)
    caseworker = make_user(session, Role.caseworker)
    own_draft = make_offer(session, provider=session.get(type(lead), coordinator.provider_id), municipality=town,
                           status="draft", certified_until=None, title="Eigener Entwurf")
    own_published = make_offer(session, provider=session.get(type(lead), coordinator.provider_id),
                               municipality=town, title="Eigene Gruppe")
    foreign_draft = make_offer(session, provider=session.get(type(lead), stranger.provider_id), municipality=town,
                               status="draft", certified_until=None, title="Fremder Entwurf")
    foreign_published = make_offer(session, provider=session.get(type(lead), stranger.provider_id),
                                   municipality=town, title="Fremde Gruppe")
    member = make_young_person(session, pseudonym="JM-EIGEN1", case_reference="AZ-GEHEIM-1",
                               lead_provider_id=lead.id)
    pending_person = make_young_person(session, pseudonym="JM-WARTET", case_reference="AZ-GEHEIM-2")
    foreign_member = make_young_person(session, pseudonym="JM-FREMD1", case_reference="AZ-GEHEIM-3")
    accepted = make_placement(session, young_person=member, offer=own_published, status="accepted")
    pending = make_placement(session, young_person=pending_person, offer=own_published, status="confirmed")
    foreign_pending = make_placement(session, young_person=foreign_member, offer=foreign_published,
                                     status="confirmed")
    for offer in (own_published, foreign_published):
        recount_seats(session, offer.id)
    session.commit()
    return dict(town=town, cats=cats, coordinator=coordinator, stranger=stranger, planner=planner,
                caseworker=caseworker, own_draft=own_draft, own_published=own_published,
                foreign_draft=foreign_draft, foreign_published=foreign_published, accepted=accepted,
                pending=pending, foreign_pending=foreign_pending)


def form(world, **overrides) -> dict:
    data = {
        "title": "Mädchen stärken", "description": "Wöchentliche Gruppe", "age_min": "12", "age_max": "15",
        "first_date": "2026-04-01", "last_date": "2026-12-18", "municipality_id": str(world["town"].id),
        "address": "Jugendhaus, Hauptstraße 3", "lat": "", "lon": "", "seats": "8", "min_size": "3",
        "entry_mode": "closed", "staff_mix": "Sozialpädagogin", "offset_rate": "18,50",
        "categories": [str(world["cats"][0].id), str(world["cats"][1].id)], "genders": ["f"],
        "session_weekday": ["1", "3"], "session_start": ["16:00", "15:30"], "session_end": ["17:30", "17:00"],
        "session_id": ["", ""],
    }
    data.update(overrides)
    return data


def as_user(client, user):
    login(client, user)
    return page_token(client)


# --------------------------------------------------------------------------- editor


def test_coordinator_creates_offer_with_two_sessions(client, session, world):
    token = as_user(client, world["coordinator"])
    page = client.get("/angebote/neu")
    assert page.status_code == 200 and "Neues Gruppenangebot" in page.get_data(as_text=True)
    response = client.post("/angebote/neu", data={**form(world), "csrf_token": token})
    assert response.status_code == 302
    offer = session.scalars(select(GroupOffer).where(GroupOffer.title == "Mädchen stärken")).one()
    assert response.headers["Location"].endswith(f"/angebote/{offer.id}")
    assert offer.status == "draft" and offer.provider_id == world["coordinator"].provider_id
    assert [(s.weekday, s.start_minute, s.end_minute) for s in offer.sessions] == [(1, 960, 1050), (3, 930, 1020)]
    assert offer.offset_rate_cents == 1850 and offer.genders == "f" and offer.entry_mode == "closed"
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Entwurf" in detail and "Dienstags, 16:00–17:30 Uhr" in detail and "18,50" in detail


def test_invalid_form_returns_422_with_messages_at_fields_and_writes_nothing(client, session, world):
    token = as_user(client, world["coordinator"])
    before = session.scalars(select(GroupOffer)).all()
    response = client.post("/angebote/neu", data={**form(world, age_min="16", age_max="12", offset_rate="-2",
                                                          session_end=["15:00", "17:00"], categories=[]),
                                                  "csrf_token": token})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("Höchstalter darf nicht unter dem Mindestalter", "nicht negativ",
                    "Ende muss nach dem Beginn", "mindestens eine Kategorie"):
        assert message in body
    assert 'value="Mädchen stärken"' in body  # the input is kept
    assert len(session.scalars(select(GroupOffer)).all()) == len(before)


def test_live_validation_returns_german_message_with_422(client, world):
    token = as_user(client, world["coordinator"])
    response = client.post("/angebote/pruefen?feld=age_max", data={**form(world, age_max="9"), "csrf_token": token},
                           headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="fehler-age_max"' in body and "Höchstalter" in body
    assert 'id="fehler-age_min"' in body and 'hx-swap-oob="true"' in body  # the related field is refreshed too
    assert "<html" not in body


def test_live_validation_of_a_valid_field_is_an_empty_slot(client, world):
    token = as_user(client, world["coordinator"])
    response = client.post("/angebote/pruefen?feld=title", data={**form(world), "csrf_token": token}, headers=HX)
    assert response.status_code == 200 and "field-message" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("field", "overrides", "message"), [
    ("lat", {"lat": "52,52", "lon": "13,40"}, "außerhalb des Landkreises"),
    ("offset_rate", {"offset_rate": "zwölf"}, "z. B. 18,50"),
    ("session_start", {"session_start": ["16:10", "15:30"]}, "Viertelstundentakt"),
    ("min_size", {"min_size": "20"}, "nicht übersteigen"),
    ("last_date", {"last_date": "2026-01-01"}, "nicht vor dem ersten"),
])
def test_live_validation_messages(client, world, field, overrides, message):
    token = as_user(client, world["coordinator"])
    response = client.post(f"/angebote/pruefen?feld={field}", data={**form(world, **overrides), "csrf_token": token},
                           headers=HX)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_session_rows_are_added_and_removed_inline(client, world):
    token = as_user(client, world["coordinator"])
    added = client.post("/angebote/termine", data={**form(world), "aktion": "termin_hinzufuegen", "csrf_token": token},
                        headers=HX).get_data(as_text=True)
    assert added.count('name="session_weekday"') == 3 and "autofocus" in added and "<html" not in added
    removed = client.post("/angebote/termine", data={**form(world), "aktion": "termin_entfernen:0",
                                                     "csrf_token": token}, headers=HX).get_data(as_text=True)
    assert removed.count('name="session_weekday"') == 1 and 'value="15:30"' in removed


def test_without_javascript_the_row_buttons_rerender_the_form(client, session, world):
    token = as_user(client, world["coordinator"])
    response = client.post("/angebote/neu", data={**form(world), "aktion": "termin_hinzufuegen", "csrf_token": token})
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('name="session_weekday"') == 3
    assert session.scalars(select(GroupOffer).where(GroupOffer.title == "Mädchen stärken")).first() is None


def test_edit_own_offer_and_stale_version(client, session, world):
    token = as_user(client, world["coordinator"])
    offer = world["own_draft"]
    page = client.get(f"/angebote/{offer.id}/bearbeiten").get_data(as_text=True)
    assert f'value="{offer.title}"' in page and 'name="version" value="1"' in page
    data = {**form(world, title="Umbenannt", session_id=[str(offer.sessions[0].id), ""]), "version": "1",
            "csrf_token": token}
    assert client.post(f"/angebote/{offer.id}/bearbeiten", data=data).status_code == 302
    stale = client.post(f"/angebote/{offer.id}/bearbeiten", data={**data, "title": "Nochmal"})
    assert stale.status_code == 409 and "inzwischen von jemand anderem geändert" in stale.get_data(as_text=True)
    session.refresh(offer)
    assert offer.title == "Umbenannt" and offer.version == 2


def test_editing_essentials_of_published_offer_warns_and_resubmits(client, session, world):
    token = as_user(client, world["coordinator"])
    offer = world["own_published"]
    data = {**form(world), "version": str(offer.version), "csrf_token": token}
    response = client.post(f"/angebote/{offer.id}/bearbeiten", data=data, follow_redirects=True)
    assert "prüft die Jugendhilfeplanung das Angebot erneut" in response.get_data(as_text=True)
    session.refresh(offer)
    assert offer.status == "submitted"


# --------------------------------------------------------------------------- lifecycle over the web


def test_submit_certify_publish_over_the_web(client, session, world):
    offer = world["own_draft"]
    token = as_user(client, world["coordinator"])
    submitted = client.post(f"/angebote/{offer.id}/einreichen", data={"csrf_token": token, "version": "1"})
    assert submitted.status_code == 302
    client.post("/logout", data={"csrf_token": token})

    token = as_user(client, world["planner"])
    queue = client.get("/angebote/zertifizierung").get_data(as_text=True)
    assert offer.title in queue
    bad = client.post(f"/angebote/{offer.id}/zertifizieren",
                      data={"csrf_token": token, "valid_until": "gestern", "zurueck": "zertifizierung"})
    assert bad.status_code == 422 and "bis wann die Zertifizierung gilt" in bad.get_data(as_text=True)
    until = (date.today() + timedelta(days=200)).isoformat()
    ok = client.post(f"/angebote/{offer.id}/zertifizieren",
                     data={"csrf_token": token, "valid_until": until, "zurueck": "zertifizierung"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/angebote/zertifizierung")
    client.post("/logout", data={"csrf_token": token})

    token = as_user(client, world["coordinator"])
    assert client.post(f"/angebote/{offer.id}/veroeffentlichen", data={"csrf_token": token}).status_code == 302
    session.refresh(offer)
    assert offer.status == "published"
    page = client.get(f"/angebote/{offer.id}").get_data(as_text=True)
    assert "Veröffentlicht" in page and "Statusverlauf" in page and world["planner"].display_name in page


def test_planner_rejects_with_reason_only(client, session, world):
    offer = world["own_draft"]
    offer.status = "submitted"
    session.add(offer)
    session.commit()
    token = as_user(client, world["planner"])
    missing = client.post(f"/angebote/{offer.id}/ablehnen", data={"csrf_token": token, "reason": ""})
    assert missing.status_code == 422 and "begründen" in missing.get_data(as_text=True)
    ok = client.post(f"/angebote/{offer.id}/ablehnen", data={"csrf_token": token, "reason": "Raum fehlt noch"})
    assert ok.status_code == 302
    session.refresh(offer)
    assert offer.status == "rejected" and offer.rejection_reason == "Raum fehlt noch"
    event = session.scalars(select(OfferStatusEvent).where(OfferStatusEvent.offer_id == offer.id)).all()[-1]
    assert event.actor_id == world["planner"].id and event.reason == "Raum fehlt noch"


def test_illegal_transition_is_409_with_german_message(client, world):
    token = as_user(client, world["coordinator"])
    response = client.post(f"/angebote/{world['own_draft'].id}/veroeffentlichen", data={"csrf_token": token})
    assert response.status_code == 409 and "kann nicht veröffentlicht werden" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- my groups


def test_my_groups_shows_occupancy_pending_and_members_pseudonymously(client, world):
    as_user(client, world["coordinator"])
    body = client.get("/angebote/meine").get_data(as_text=True)
    assert "Eigene Gruppe" in body and "Eigener Entwurf" in body
    assert "JM-WARTET" in body and "JM-EIGEN1" in body and "Federführend e.V." in body and "Frau Lead" in body
    assert "AZ-GEHEIM" not in body  # never the case reference
    assert "Fremde Gruppe" not in body and "JM-FREMD1" not in body and "Fremder Entwurf" not in body


def test_confirm_vacancy_with_htmx_returns_the_cell(client, session, world):
    token = as_user(client, world["coordinator"])
    offer = world["own_published"]
    response = client.post(f"/angebote/{offer.id}/plaetze-bestaetigen", data={"csrf_token": token}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="frische-{offer.id}"' in body and "bestätigt" in body
    session.refresh(offer)
    assert offer.vacancy_confirmed_at is not None


def test_stale_offer_is_marked(client, world):
    as_user(client, world["coordinator"])
    assert "veraltet" in client.get("/angebote/meine").get_data(as_text=True)  # never confirmed


def test_accept_pending_placement(client, session, world):
    token = as_user(client, world["coordinator"])
    response = client.post(f"/angebote/belegungen/{world['pending'].id}/annehmen", data={"csrf_token": token})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Placement, world["pending"].id).status == "accepted"


def test_decline_needs_a_reason(client, session, world):
    token = as_user(client, world["coordinator"])
    url = f"/angebote/belegungen/{world['pending'].id}/ablehnen"
    missing = client.post(url, data={"csrf_token": token, "reason": "  "})
    assert missing.status_code == 422 and "Ablehnungsgrund fehlt" in missing.get_data(as_text=True)
    session.expire_all()
    assert session.get(Placement, world["pending"].id).status == "confirmed"
    assert client.post(url, data={"csrf_token": token, "reason": "Gruppe passt nicht"}).status_code == 302
    session.expire_all()
    assert session.get(Placement, world["pending"].id).status == "declined"


# --------------------------------------------------------------------------- access on every route


def foreign_requests(world) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) touching another provider's records, for every route of the blueprint."""
    fd, fp = world["foreign_draft"].id, world["foreign_published"].id
    fpl = world["foreign_pending"].id
    return [
        ("offers.detail", "GET", f"/angebote/{fd}"),
        ("offers.edit", "GET", f"/angebote/{fp}/bearbeiten"),
        ("offers.edit", "POST", f"/angebote/{fd}/bearbeiten"),
        ("offers.submit", "POST", f"/angebote/{fd}/einreichen"),
        ("offers.publish", "POST", f"/angebote/{fp}/veroeffentlichen"),
        ("offers.pause", "POST", f"/angebote/{fp}/pausieren"),
        ("offers.end", "POST", f"/angebote/{fp}/beenden"),
        ("offers.confirm_vacancy", "POST", f"/angebote/{fp}/plaetze-bestaetigen"),
        ("offers.certify", "POST", f"/angebote/{fd}/zertifizieren"),
        ("offers.renew", "POST", f"/angebote/{fp}/verlaengern"),
        ("offers.reject", "POST", f"/angebote/{fd}/ablehnen"),
        ("offers.validate", "POST", f"/angebote/pruefen?feld=seats&angebot={fd}"),
        ("offers.sessions", "POST", f"/angebote/termine?angebot={fd}"),
        ("offers.accept_placement", "POST", f"/angebote/belegungen/{fpl}/annehmen"),
        ("offers.decline_placement", "POST", f"/angebote/belegungen/{fpl}/ablehnen"),
        ("offers.certification", "GET", "/angebote/zertifizierung"),
    ]


def test_every_route_of_the_blueprint_is_covered(app, world):
    covered = {endpoint for endpoint, _, _ in foreign_requests(world)} | {"offers.mine", "offers.new"}
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("offers.")}
    assert routes == covered


def test_coordinator_never_reaches_another_providers_records(client, session, world):
    token = as_user(client, world["coordinator"])
    for endpoint, method, url in foreign_requests(world):
        data = {**form(world), "csrf_token": token, "reason": "weil", "version": "1",
                "valid_until": (date.today() + timedelta(days=90)).isoformat()}
        response = client.get(url) if method == "GET" else client.post(url, data=data, headers=HX)
        assert response.status_code in (403, 404), (endpoint, url, response.status_code)
    session.expire_all()
    assert session.get(GroupOffer, world["foreign_draft"].id).status == "draft"
    assert session.get(GroupOffer, world["foreign_published"].id).status == "published"
    assert session.get(Placement, world["foreign_pending"].id).status == "confirmed"


def test_foreign_published_offer_is_visible_but_without_internals(client, world):
    as_user(client, world["coordinator"])
    body = client.get(f"/angebote/{world['foreign_published'].id}").get_data(as_text=True)
    assert "Fremde Gruppe" in body and "Statusverlauf" not in body and "Bearbeiten" not in body


@pytest.mark.parametrize(("role", "url", "allowed"), [
    ("caseworker", "/angebote/meine", False),
    ("caseworker", "/angebote/neu", False),
    ("caseworker", "/angebote/zertifizierung", False),
    ("planner", "/angebote/meine", False),
    ("planner", "/angebote/neu", False),
    ("planner", "/angebote/zertifizierung", True),
    ("coordinator", "/angebote/zertifizierung", False),
])
def test_role_routes(client, world, role, url, allowed):
    as_user(client, world[role])
    assert (client.get(url).status_code == 200) is allowed


def test_caseworker_sees_published_offers_only(client, world):
    as_user(client, world["caseworker"])
    assert client.get(f"/angebote/{world['foreign_published'].id}").status_code == 200
    assert client.get(f"/angebote/{world['own_draft'].id}").status_code == 403
    assert client.get("/angebote/999999").status_code == 404


# --------------------------------------------------------------------------- bad input never 500

JUNK = ["", "x" * 10000, "-1", "0", "1e9", "9" * 25, "NaN", "31.02.2026", "<script>", "١٢", "\u0000"]


@pytest.mark.parametrize("junk", JUNK)
def test_bad_input_never_500(client, world, junk):
    token = as_user(client, world["coordinator"])
    fields = ["title", "age_min", "age_max", "first_date", "last_date", "municipality_id", "lat", "lon", "seats",
              "min_size", "offset_rate", "entry_mode", "categories", "session_weekday", "session_start", "version",
              "session_id"]
    own = world["own_draft"].id
    for field in fields:
        data = {**form(world, **{field: junk}), "csrf_token": token, "version": "1"}
        for url in ("/angebote/neu", f"/angebote/{own}/bearbeiten", f"/angebote/pruefen?feld={field}",
                    "/angebote/termine?aktion=x", f"/angebote/{own}/einreichen"):
            response = client.post(url, data=data, headers=HX if "pruefen" in url else {})
            assert response.status_code < 500, (url, field, junk)
    for url in (f"/angebote/{own}/zertifizieren", "/angebote/pruefen?angebot=abc", "/angebote/termine?angebot=-1",
                f"/angebote/belegungen/{world['pending'].id}/ablehnen"):
        assert client.post(url, data={"csrf_token": token, "valid_until": junk, "reason": junk,
                                      "aktion": f"termin_entfernen:{junk}"}).status_code < 500


def test_planner_bad_input_never_500(client, world):
    token = as_user(client, world["planner"])
    offer = world["own_draft"].id
    for junk in JUNK:
        for step in ("zertifizieren", "verlaengern", "ablehnen"):
            response = client.post(f"/angebote/{offer}/{step}", data={"csrf_token": token, "valid_until": junk,
                                                                     "reason": junk, "version": junk})
            assert 400 <= response.status_code < 500


def test_huge_or_malformed_ids_are_not_found(client, world):
    token = as_user(client, world["coordinator"])
    huge = "9" * 20
    assert client.get(f"/angebote/{huge}").status_code == 404
    assert client.get(f"/angebote/{huge}/bearbeiten").status_code == 404
    assert client.post(f"/angebote/belegungen/{huge}/annehmen", data={"csrf_token": token}).status_code == 404
    for arg in (huge, "abc", "-3", "0"):
        assert client.post(f"/angebote/pruefen?feld=title&angebot={arg}", data={"csrf_token": token}).status_code == 404
        assert client.post(f"/angebote/termine?angebot={arg}", data={"csrf_token": token}).status_code == 404
