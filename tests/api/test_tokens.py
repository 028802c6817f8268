"""Token lifecycle: created in the UI and shown once, stored hashed, scoped, revoked; cookies never write."""

from __future__ import annotations

import hashlib
import re

from sqlmodel import Session, select

from marketplace.models import ApiToken, AuditEvent, Role
from tests.factories import make_user
from tests.web.conftest import login, page_token

from .conftest import bearer, token_for

SECRET = re.compile(r'value="(gb_[A-Za-z0-9_-]{40,})"')


def _create_in_ui(client, name: str = "Fachverfahren", scope: str = "read_write") -> tuple[int, str]:
    token = page_token(client, "/api-zugaenge/")
    response = client.post("/api-zugaenge/", data={"name": name, "scope": scope, "csrf_token": token})
    return response.status_code, response.get_data(as_text=True)


def test_token_is_created_in_the_ui_shown_once_and_stored_hashed(app, client, session, users):
    login(client, users["caseworker"])
    menu = client.get("/").get_data(as_text=True)
    assert 'href="/api-zugaenge/"' in menu and "API-Zugänge" in menu
    status, page = _create_in_ui(client)
    assert status == 201
    secret = SECRET.search(page).group(1)
    assert "nur dieses eine Mal angezeigt" in page
    row = session.exec(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in row.token_hash and row.scope == "read_write" and row.user_id == users["caseworker"].id
    later = client.get("/api-zugaenge/").get_data(as_text=True)
    assert "Fachverfahren" in later and secret not in later and secret[:12] not in later
    assert "no-store" in client.get("/api-zugaenge/").headers["Cache-Control"]
    me = app.test_client().get("/api/v1/me", headers=bearer(secret)).get_json()
    assert me["role"] == "caseworker" and me["token"]["scope"] == "read_write"
    assert session.exec(select(AuditEvent).where(AuditEvent.object_type == "api_token")).first() is not None


def test_token_form_refuses_bad_input_in_german(client, session, users):
    login(client, users["planner"])
    status, page = _create_in_ui(client, name="  ", scope="alles")
    assert status == 422
    assert "Bitte geben Sie dem Zugang einen Namen" in page and "nur lesen" in page
    assert session.exec(select(ApiToken)).first() is None


def test_revoked_token_is_refused_with_401(app, client, session, users):
    login(client, users["coordinator"])
    _status, page = _create_in_ui(client)
    secret = SECRET.search(page).group(1)
    api = app.test_client()
    assert api.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    row = session.exec(select(ApiToken)).one()
    response = client.post(f"/api-zugaenge/{row.id}/widerrufen", data={"csrf_token": page_token(client)})
    assert response.status_code == 303
    revoked = api.get("/api/v1/me", headers=bearer(secret))
    assert revoked.status_code == 401 and revoked.mimetype == "application/problem+json"
    assert "widerrufen" in client.get("/api-zugaenge/").get_data(as_text=True)


def test_nobody_revokes_someone_elses_token(client, session, users):
    secret_owner = users["planner"]
    token_for(session, secret_owner)
    row = session.exec(select(ApiToken)).one()
    login(client, users["caseworker"])
    response = client.post(f"/api-zugaenge/{row.id}/widerrufen", data={"csrf_token": page_token(client)})
    assert response.status_code == 404
    session.refresh(row)
    assert row.revoked_at is None


def test_unknown_malformed_and_inactive_users_tokens_are_401(app, session, users):
    api = app.test_client()
    for header in ("Bearer gb_nicht-vorhanden", "Bearer ", "Basic dXNlcjpwYXNz", "gb_ohne-schema", "Bearer x" * 300):
        response = api.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
    user = make_user(session, Role.planner)
    secret = token_for(session, user)
    user.is_active = False
    session.add(user)
    session.commit()
    assert api.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_read_scope_reads_but_cannot_write(app, session, users):
    secret = token_for(session, users["coordinator"], "read")
    api = app.test_client()
    assert api.get("/api/v1/offers", headers=bearer(secret)).status_code == 200
    response = api.post("/api/v1/offers", json={}, headers=bearer(secret))
    assert response.status_code == 403
    assert response.get_json()["detail"].startswith("Dieser API-Schlüssel darf nur lesen")


def test_last_use_is_recorded(app, session, users):
    secret = token_for(session, users["planner"])
    app.test_client().get("/api/v1/me", headers=bearer(secret))
    row = session.exec(select(ApiToken)).one()
    session.refresh(row)
    assert row.last_used_at is not None


def test_cookie_session_does_not_authenticate_the_api(app, client, users):
    """A logged-in browser (even with a valid CSRF token) cannot read or write /api/v1: no ambient authority."""
    login(client, users["coordinator"])
    csrf = page_token(client)
    assert client.get("/api/v1/me").status_code == 401
    response = client.post("/api/v1/offers", json={}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 401
    assert client.get("/api/openapi.json").status_code == 200  # the document itself is fine for a session


def test_token_does_not_open_web_pages_and_api_answers_set_no_cookie(app, session, users):
    secret = token_for(session, users["planner"])
    page = app.test_client().get("/", headers=bearer(secret))
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    response = app.test_client().get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_tokens_are_limited_per_user(session, users):
    from marketplace.api_tokens import MAX_ACTIVE_TOKENS, TokenError, create_token

    for _ in range(MAX_ACTIVE_TOKENS):
        token_for(session, users["admin"])
    try:
        create_token(session, user=users["admin"], name="zu viel", scope="read")
    except TokenError as error:
        assert "aktive Zugänge" in error.field_errors["name"]
    else:  # pragma: no cover
        raise AssertionError("limit not enforced")


def test_api_session_token_user_keeps_role_rules(app, session: Session, users):
    """A token acts with its user's current role: an admin's token cannot read cases."""
    secret = token_for(session, users["admin"])
    assert app.test_client().get("/api/v1/young-people", headers=bearer(secret)).status_code == 403
