"""The placements area on the web (/belegung): journeys, need to know on every route, bad input → German 4xx."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlmodel import select

from marketplace import placements
from marketplace.models import AuditEvent, GroupOffer, Notification, Placement, Role
from tests.factories import make_placement, make_user
from tests.placements.conftest import World, build_world

from .conftest import login, page_token


@pytest.fixture
def world(session) -> World:
    return build_world(session)


def _as(app, user):
    client = app.test_client()
    return login(client, user)


def _confirmed(world: World) -> Placement:
    result = placements.request_placement(world.session, young_person_id=world.person.id, actor=world.caseworker)
    (placement,) = placements.confirm_option(
        world.session, request_id=result.request.id, offer_ids=[world.host_offer.id], actor=world.caseworker
    )
    return placement


# --------------------------------------------------------------------------- journeys


def test_caseworker_requests_sees_explained_options_and_confirms_with_htmx(app, world: World) -> None:
    client = _as(app, world.caseworker)
    page = client.get(f"/belegung/neu/{world.person.id}")
    assert page.status_code == 200 and "Vorschläge berechnen" in page.get_data(as_text=True)
    token = page_token(client, f"/belegung/neu/{world.person.id}")
    response = client.post(f"/belegung/neu/{world.person.id}", data={"csrf_token": token, "note": "Schulstress"})
    assert response.status_code == 303
    detail = client.get(response.headers["Location"])
    html = detail.get_data(as_text=True)
    assert detail.status_code == 200
    for text in ("Option 1", "Stunden:", "Bedarfe:", "Entfernung:", "Termine:", "Wünsche:", "Kooperationsvariante"):
        assert text in html
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    option = f"{world.own_offer.id},{world.host_offer.id}"
    confirmed = client.post(
        f"/belegung/anfragen/{request_id}/bestaetigen",
        data={"option": option, "variant": "B"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    body = confirmed.get_data(as_text=True)
    assert confirmed.status_code == 200 and "Bestätigt:" in body and "<html" not in body
    assert "bestätigt, wartet auf Annahme" in body
    rows = world.session.exec(select(Placement).order_by(Placement.id)).all()
    assert [(p.status, p.variant) for p in rows] == [("confirmed", None), ("confirmed", "B")]
    assert world.person.pseudonym in client.get("/belegung/anfragen?status=erledigt").get_data(as_text=True)


def test_waiting_request_shows_reasons_in_the_team_list(app, world: World) -> None:
    person = world.young_person(needs=("media",))
    world.session.commit()
    client = _as(app, world.caseworker)
    token = page_token(client, f"/belegung/neu/{person.id}")
    response = client.post(f"/belegung/neu/{person.id}", data={"csrf_token": token}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Warteliste" in html and "Derzeit passt keine Gruppe" in html
    listing = client.get("/belegung/anfragen?status=warteliste").get_data(as_text=True)
    assert person.pseudonym in listing and "Medi" in listing
    audits = world.session.exec(
        select(AuditEvent).where(AuditEvent.object_type == "placement_request_list", AuditEvent.case_id == person.id)
    ).all()
    assert audits


def test_coordinator_sees_pseudonym_level_only_and_answers(app, world: World) -> None:
    placement = _confirmed(world)
    client = _as(app, world.host_coordinator)
    html = client.get("/belegung/offen").get_data(as_text=True)
    assert world.person.pseudonym in html and "Jahre" in html and world.person.case_reference not in html
    detail = client.get(f"/belegung/belegungen/{placement.id}").get_data(as_text=True)
    assert world.person.case_reference not in detail and world.caseworker.email not in detail
    token = page_token(client, "/belegung/offen")
    missing = client.post(f"/belegung/belegungen/{placement.id}/ablehnen", data={"csrf_token": token, "reason": " "})
    assert missing.status_code == 422 and "Ablehnungsgrund fehlt" in missing.get_data(as_text=True)
    accepted = client.post(
        f"/belegung/belegungen/{placement.id}/annehmen",
        data={"csrf_token": token, "next": f"/belegung/belegungen/{placement.id}"},
    )
    assert accepted.status_code == 303 and accepted.headers["Location"] == f"/belegung/belegungen/{placement.id}"
    detail = client.get(f"/belegung/belegungen/{placement.id}").get_data(as_text=True)
    assert "angenommen" in detail and world.caseworker.email in detail  # contact after acceptance
    assert "Statusverlauf" in detail and "durch" in detail
    again = client.post(f"/belegung/belegungen/{placement.id}/annehmen", data={"csrf_token": token})
    assert again.status_code == 409 and "Das geht nur" in again.get_data(as_text=True)


def test_caseworker_ends_a_placement_with_reason(app, world: World) -> None:
    placement = _confirmed(world)
    client = _as(app, world.caseworker)
    token = page_token(client, f"/belegung/belegungen/{placement.id}")
    no_reason = client.post(f"/belegung/belegungen/{placement.id}/beenden", data={"csrf_token": token})
    assert no_reason.status_code == 422 and "Bitte wählen Sie einen Grund" in no_reason.get_data(as_text=True)
    no_note = client.post(f"/belegung/belegungen/{placement.id}/beenden", data={"csrf_token": token, "reason": "other"})
    assert no_note.status_code == 422 and "Erläuterung fehlt" in no_note.get_data(as_text=True)
    ended = client.post(
        f"/belegung/belegungen/{placement.id}/beenden", data={"csrf_token": token, "reason": "moved_away"}
    )
    assert ended.status_code == 303
    world.session.expire_all()
    assert world.session.get(GroupOffer, world.host_offer.id).seats_taken == 0
    again = client.post(
        f"/belegung/belegungen/{placement.id}/beenden", data={"csrf_token": token, "reason": "moved_away"}
    )
    assert again.status_code == 409


def test_solver_proposal_confirmed_and_dismissed_from_the_list(app, world: World) -> None:
    first = make_placement(world.session, young_person=world.person, offer=world.host_offer, source="solver")
    second = make_placement(world.session, young_person=world.person, offer=world.own_offer, source="solver")
    world.session.commit()
    client = _as(app, world.caseworker)
    html = client.get("/belegung/anfragen").get_data(as_text=True)
    assert "Vorschläge des nächtlichen Abgleichs" in html and "Sport und Teamgeist" in html
    token = page_token(client, "/belegung/anfragen")
    assert client.post(f"/belegung/vorschlaege/{first.id}/bestaetigen", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/belegung/vorschlaege/{second.id}/verwerfen", data={"csrf_token": token}).status_code == 303
    world.session.expire_all()
    assert world.session.get(Placement, first.id).status == "confirmed"
    assert world.session.get(Placement, second.id).status == "ended"
    again = client.post(
        f"/belegung/vorschlaege/{first.id}/bestaetigen", data={"csrf_token": token}, follow_redirects=True
    )
    assert "nicht mehr offen" in again.get_data(as_text=True)


def test_notifications_page_and_unread_count_in_header(app, world: World) -> None:
    _confirmed(world)
    client = _as(app, world.host_coordinator)
    home = client.get("/").get_data(as_text=True)
    assert 'class="notification-count">1<' in home
    page = client.get("/belegung/benachrichtigungen").get_data(as_text=True)
    assert "Neue Belegung:" in page and world.person.pseudonym in page
    token = page_token(client, "/belegung/benachrichtigungen")
    response = client.post(
        "/belegung/benachrichtigungen/gelesen", data={"csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "Alle als gelesen" not in response.get_data(as_text=True)
    assert 'class="notification-count"' not in client.get("/").get_data(as_text=True)
    bad = client.post("/belegung/benachrichtigungen/gelesen", data={"csrf_token": token, "id": "x"})
    assert bad.status_code == 400 and "Ungültige Benachrichtigung" in bad.get_data(as_text=True)
    foreign = world.session.exec(select(Notification).where(Notification.user_id != world.host_coordinator.id)).first()
    if foreign is not None:
        client.post("/belegung/benachrichtigungen/gelesen", data={"csrf_token": token, "id": str(foreign.id)})
        world.session.refresh(foreign)
        assert foreign.read_at is None  # someone else's notification is never touched


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"option": "abc"}, "Bitte wählen Sie eine der angezeigten Optionen."),
        ({"option": ""}, "Bitte wählen Sie eine der angezeigten Optionen."),
        ({"option": "-3"}, "Bitte wählen Sie eine der angezeigten Optionen."),
        ({"option": "1", "variant": "Z"}, "Bitte wählen Sie Variante A oder B."),
    ],
)
def test_bad_confirm_input_is_a_german_422(app, world: World, data: dict, message: str) -> None:
    result = placements.request_placement(world.session, young_person_id=world.person.id, actor=world.caseworker)
    client = _as(app, world.caseworker)
    token = page_token(client, f"/belegung/anfragen/{result.request.id}")
    response = client.post(f"/belegung/anfragen/{result.request.id}/bestaetigen", data={"csrf_token": token, **data})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert world.session.exec(select(Placement)).all() == []


def test_full_group_is_a_409_that_names_it(app, world: World) -> None:
    full = world.offer(title="Kleine Runde", seats=1, sessions=((3, 15 * 60, 17 * 60),))
    other = world.young_person()
    world.session.commit()
    first = placements.request_placement(world.session, young_person_id=other.id, actor=world.caseworker)
    mine = placements.request_placement(world.session, young_person_id=world.person.id, actor=world.caseworker)
    placements.confirm_option(world.session, request_id=first.request.id, offer_ids=[full.id], actor=world.caseworker)
    client = _as(app, world.caseworker)
    token = page_token(client, f"/belegung/anfragen/{mine.request.id}")
    response = client.post(
        f"/belegung/anfragen/{mine.request.id}/bestaetigen", data={"csrf_token": token, "option": str(full.id)}
    )
    assert response.status_code == 409 and "„Kleine Runde“ ist inzwischen voll" in response.get_data(as_text=True)


def test_too_long_note_is_a_german_422(app, world: World) -> None:
    client = _as(app, world.caseworker)
    token = page_token(client, f"/belegung/neu/{world.person.id}")
    response = client.post(f"/belegung/neu/{world.person.id}", data={"csrf_token": token, "note": "x" * 600})
    assert response.status_code == 422 and "zu lang" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- need to know on every route


def _routes(world: World, placement: Placement, request_id: int) -> list[tuple[str, str]]:
    pid, yid = placement.id, world.person.id
    return [
        ("GET", f"/belegung/neu/{yid}"),
        ("POST", f"/belegung/neu/{yid}"),
        ("GET", "/belegung/anfragen"),
        ("GET", f"/belegung/anfragen/{request_id}"),
        ("POST", f"/belegung/anfragen/{request_id}/bestaetigen"),
        ("POST", f"/belegung/anfragen/{request_id}/zurueckziehen"),
        ("POST", f"/belegung/vorschlaege/{pid}/bestaetigen"),
        ("POST", f"/belegung/vorschlaege/{pid}/verwerfen"),
        ("GET", f"/belegung/belegungen/{pid}"),
        ("POST", f"/belegung/belegungen/{pid}/beenden"),
        ("GET", "/belegung/offen"),
        ("POST", f"/belegung/belegungen/{pid}/annehmen"),
        ("POST", f"/belegung/belegungen/{pid}/ablehnen"),
    ]


#: Who may reach which route for the world's records: role key → allowed (method, route index).
ALLOWED = {
    "other_caseworker": {2},  # the own team's (empty) list
    "lead_coordinator": {10},  # the own provider's (empty) list
    "host_coordinator": {8, 9, 10, 11, 12},
    "planner": {8},
}


@pytest.mark.parametrize("who", ["other_caseworker", "lead_coordinator", "planner", "admin", "host_coordinator"])
def test_foreign_and_wrong_roles_are_denied_and_nothing_changes(app, world: World, who: str) -> None:
    placement = _confirmed(world)
    result = placements.request_placement(world.session, young_person_id=world.person.id, actor=world.caseworker)
    if who in ("planner", "admin"):
        actor = make_user(world.session, Role(who))
        world.session.commit()
    else:
        actor = getattr(world, who)
    client = _as(app, actor)
    token = page_token(client)
    allowed = ALLOWED.get(who, set())
    for index, (method, url) in enumerate(_routes(world, placement, result.request.id)):
        response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        if index in allowed:
            assert response.status_code < 500, (who, method, url, response.status_code)
            continue
        assert response.status_code == 403, (who, method, url, response.status_code)
        assert "Kein Zugriff" in response.get_data(as_text=True)
    world.session.expire_all()
    if who != "host_coordinator":  # the host may answer; everybody else changed nothing
        assert world.session.get(Placement, placement.id).status == "confirmed"


def test_foreign_provider_placement_is_403_for_the_coordinator(app, world: World) -> None:
    placement = _confirmed(world)
    stranger = make_user(world.session, Role.coordinator)
    world.session.commit()
    client = _as(app, stranger)
    assert client.get(f"/belegung/belegungen/{placement.id}").status_code == 403
    assert world.person.pseudonym not in client.get("/belegung/offen").get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "method", "url"),
    [
        ("caseworker", "GET", "/belegung/neu/999999"),
        ("caseworker", "GET", "/belegung/anfragen/999999"),
        ("caseworker", "POST", "/belegung/anfragen/999999/bestaetigen"),
        ("caseworker", "POST", "/belegung/anfragen/999999/zurueckziehen"),
        ("caseworker", "POST", "/belegung/vorschlaege/999999/bestaetigen"),
        ("caseworker", "GET", "/belegung/belegungen/999999"),
        ("caseworker", "POST", "/belegung/belegungen/999999/beenden"),
        ("host_coordinator", "POST", "/belegung/belegungen/999999/annehmen"),
        ("host_coordinator", "POST", "/belegung/belegungen/999999/ablehnen"),
    ],
)
def test_unknown_records_are_404(app, world: World, role: str, method: str, url: str) -> None:
    client = _as(app, getattr(world, role))
    token = page_token(client)
    response = client.open(url, method=method, data={"csrf_token": token, "reason": "x", "option": "1"})
    assert response.status_code == 404 and "Seite nicht gefunden" in response.get_data(as_text=True)


def test_anonymous_is_sent_to_login(client) -> None:
    response = client.get("/belegung/anfragen")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_links_in_notifications_match_the_routes(app) -> None:
    with app.test_request_context():
        assert url_for("placements.request_detail", request_id=7) == placements.request_link(7)
        assert url_for("placements.pending") == placements.pending_link()
