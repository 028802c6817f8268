"""Re-login before sensitive changes: after 15 minutes a change asks for the password first."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from marketplace.models import MonthClose, Setting, User
from tests.factories import make_user
from tests.web.conftest import csrf_from, login, page_token

from .conftest import age_confirmation, form_post

NEW_USER = {"display_name": "Pia Planung", "email": "pia@ja.example", "role": "planner", "provider_id": "",
            "team_id": "", "password": "start-passwort-1", "password_repeat": "start-passwort-1"}


def _pia(session):
    return session.exec(select(User).where(User.email == "pia@ja.example")).first()


def test_a_fresh_login_may_change_at_once(admin_client, session):
    assert form_post(admin_client, "/verwaltung/benutzer/neu", NEW_USER).status_code == 302
    assert _pia(session) is not None


def test_an_old_login_is_asked_for_the_password_and_nothing_changes(admin_client, session, admin_user):
    token = page_token(admin_client, "/verwaltung/benutzer/neu")
    age_confirmation(admin_client, 16)
    response = admin_client.post("/verwaltung/benutzer/neu", data={"csrf_token": token, **NEW_USER},
                                 headers={"Referer": "http://localhost/verwaltung/benutzer/neu"})
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/bestaetigen"
    assert parse_qs(location.query)["next"] == ["/verwaltung/benutzer/neu"]
    assert _pia(session) is None

    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bitte bestätigen Sie Ihr Passwort" in page
    wrong = admin_client.post(response.headers["Location"], data={"csrf_token": csrf_from(page), "password": "falsch"})
    assert wrong.status_code == 422 and "Das Passwort ist falsch." in wrong.get_data(as_text=True)
    right = admin_client.post(response.headers["Location"],
                              data={"csrf_token": csrf_from(page), "password": "test-passwort-123"})
    assert right.status_code == 302 and right.headers["Location"] == "/verwaltung/benutzer/neu"
    assert form_post(admin_client, "/verwaltung/benutzer/neu", NEW_USER).status_code == 302
    assert _pia(session) is not None


def test_fourteen_minutes_are_still_recent(admin_client, session):
    age_confirmation(admin_client, 14)
    assert form_post(admin_client, "/verwaltung/benutzer/neu", NEW_USER).status_code == 302


def test_reading_pages_never_asks(admin_client):
    age_confirmation(admin_client, 600)
    assert admin_client.get("/verwaltung/benutzer").status_code == 200
    assert admin_client.get("/verwaltung/benutzer/neu").status_code == 200


def test_htmx_requests_get_a_full_page_redirect(admin_client):
    token = page_token(admin_client)
    age_confirmation(admin_client, 30)
    response = admin_client.post("/verwaltung/teams", data={"csrf_token": token, "name": "X"},
                                 headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/verwaltung/teams"})
    assert response.status_code == 403
    assert response.headers["HX-Redirect"] == "/bestaetigen?next=/verwaltung/teams"


def test_a_foreign_referrer_is_not_a_return_target(admin_client):
    token = page_token(admin_client)
    age_confirmation(admin_client, 30)
    response = admin_client.post("/verwaltung/teams", data={"csrf_token": token, "name": "X"},
                                 headers={"Referer": "https://evil.example/phish"})
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == ["/"]


def test_a_session_without_a_confirmation_time_counts_as_old(admin_client):
    token = page_token(admin_client)
    with admin_client.session_transaction() as sess:
        sess.pop("auth_confirmed_at")
    response = admin_client.post("/verwaltung/teams", data={"csrf_token": token, "name": "X"})
    assert response.status_code == 303


def test_planner_changes_closing_a_month_and_solver_settings_ask_too(client, session):
    planner = make_user(session, "planner")
    session.commit()
    login(client, planner)
    token = page_token(client)
    age_confirmation(client, 20)
    response = client.post("/verrechnung/2025-01/abschliessen", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].startswith("/bestaetigen")
    assert session.exec(select(MonthClose)).first() is None
    response = client.post("/einstellungen/", data={"csrf_token": token, "max_changes": "5"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/bestaetigen")
    assert session.exec(select(Setting)).first() is None
    assert client.get("/einstellungen/").status_code == 200


def test_a_password_change_counts_as_a_confirmation(client, session):
    planner = make_user(session, "planner")
    session.commit()
    login(client, planner)
    age_confirmation(client, 60)
    token = csrf_from(client.get("/password").get_data(as_text=True))
    response = client.post("/password", data={"csrf_token": token, "current_password": "test-passwort-123",
                                              "new_password": "ein-neues-passwort", "new_password_repeat":
                                              "ein-neues-passwort"})
    assert response.status_code == 302
    with client.session_transaction() as sess:
        assert sess["auth_confirmed_at"] > 0
    response = client.post("/verrechnung/2025-01/abschliessen", data={"csrf_token": page_token(client)})
    assert not response.headers.get("Location", "").startswith("/bestaetigen")


def test_creating_an_api_token_asks_too(client, session):
    planner = make_user(session, "planner")
    session.commit()
    login(client, planner)
    token = page_token(client)
    age_confirmation(client, 20)
    response = client.post("/api-zugaenge/", data={"csrf_token": token, "name": "Export", "scope": "read"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/bestaetigen")
    from marketplace.models import ApiToken

    assert session.exec(select(ApiToken)).first() is None
