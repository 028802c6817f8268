"""Login, logout, cookie replay, password change, rehash on login, throttling."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session, select

from marketplace.models import AuditEvent, LoginAttempt, User
from marketplace.passwords import needs_rehash
from tests.factories import DEFAULT_PASSWORD, make_user

from .conftest import csrf_from, login, page_token, post_login


def _reload(session: Session, user: User) -> User:
    session.expire_all()
    return session.get(User, user.id)


def test_login_page_is_german_and_public(client):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="de">' in html
    assert "E-Mail-Adresse" in html and "Passwort" in html and "Anmelden" in html


def test_login_success_redirects_to_dashboard_and_audits(client, session, users):
    user = users["planner"]
    response = post_login(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    events = session.exec(select(AuditEvent).where(AuditEvent.user_id == user.id)).all()
    assert [e.action for e in events] == ["login"]
    assert _reload(session, user).last_login_at is not None


def test_login_email_is_case_insensitive(client, users):
    response = post_login(client, users["admin"].email.upper())
    assert response.status_code == 302


def test_login_follows_only_local_next(client, users):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"email": users["admin"].email, "password": DEFAULT_PASSWORD, "csrf_token": token}
    response = client.post("/login?next=https://evil.example/", data=data)
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": page_token(client)})
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=/password", data={**data, "csrf_token": token})
    assert response.headers["Location"] == "/password"


def test_wrong_password_gives_german_message_at_field_and_422(client, session, users):
    response = post_login(client, users["planner"].email, "ganz-falsches-passwort")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="password-fehler"' in html
    assert "E-Mail-Adresse oder Passwort ist falsch." in html
    assert 'aria-invalid="true"' in html
    assert _reload(session, users["planner"]).failed_logins == 1
    attempts = session.exec(select(LoginAttempt)).all()
    assert [(a.email, a.success) for a in attempts] == [(users["planner"].email, False)]


def test_unknown_email_looks_like_wrong_password(client):
    response = post_login(client, "niemand@nirgends.example", "irgendein-passwort")
    assert response.status_code == 422
    assert "E-Mail-Adresse oder Passwort ist falsch." in response.get_data(as_text=True)


def test_missing_fields_get_german_messages(client):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "kein-at-zeichen", "password": "", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte geben Sie eine gültige E-Mail-Adresse ein." in html
    assert "Bitte geben Sie Ihr Passwort ein." in html


def test_inactive_user_cannot_log_in(client, session):
    user = make_user(session, "admin", is_active=False)
    session.commit()
    assert post_login(client, user.email).status_code == 422


def test_logged_in_user_visiting_login_goes_to_dashboard(client, users):
    login(client, users["admin"])
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/"


# --- logout and replay ---------------------------------------------------------------------


def test_logout_requires_post(client, users):
    login(client, users["admin"])
    assert client.get("/logout").status_code == 405


def test_logout_then_replayed_cookie_is_rejected(app, client, session, users):
    user = users["caseworker"]
    login(client, user)
    stolen = client.get_cookie("session").value  # what an attacker copied while logged in
    response = client.post("/logout", data={"csrf_token": page_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert _reload(session, user).session_version == 1

    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert replay.get("/", headers={"HX-Request": "true"}).status_code == 401
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.user_id == user.id))]
    assert actions == ["login", "logout"]


def test_logout_ends_other_sessions_too(app, users):
    first, second = app.test_client(), app.test_client()
    login(first, users["planner"])
    login(second, users["planner"])
    first.post("/logout", data={"csrf_token": page_token(first)})
    assert second.get("/").status_code == 302


def test_session_cookie_flags(client, users):
    post_login(client, users["admin"].email)
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert cookie.expires is not None  # session.permanent: bounded lifetime


def test_session_is_regenerated_on_login(client, users):
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "vom Angreifer"
    login(client, users["admin"])
    with client.session_transaction() as sess:
        assert "planted" not in sess


# --- password change ------------------------------------------------------------------------


def _change(client, current: str, new: str, repeat: str | None = None):
    token = csrf_from(client.get("/password").get_data(as_text=True))
    data = {"current_password": current, "new_password": new,
            "new_password_repeat": new if repeat is None else repeat, "csrf_token": token}  # fmt: skip
    return client.post("/password", data=data)


def test_password_change_invalidates_other_sessions(app, session, users):
    user = users["coordinator"]
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user)
    login(elsewhere, user)
    response = _change(here, DEFAULT_PASSWORD, "ein-ganz-neues-passwort")
    assert response.status_code == 302
    assert here.get("/").status_code == 200  # this browser stays logged in
    assert elsewhere.get("/").status_code == 302  # the other session is gone
    fresh = app.test_client()
    assert post_login(fresh, user.email, DEFAULT_PASSWORD).status_code == 422
    assert post_login(fresh, user.email, "ein-ganz-neues-passwort").status_code == 302
    stored = _reload(session, user)
    assert stored.password_changed_at is not None
    assert stored.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("current", "new", "repeat", "message"),
    [
        ("falsch-falsch-falsch", "ein-ganz-neues-passwort", None, "Das aktuelle Passwort ist falsch."),
        (DEFAULT_PASSWORD, "kurz", None, "mindestens 10 Zeichen"),
        (DEFAULT_PASSWORD, "ein-ganz-neues-passwort", "etwas-anderes-1", "stimmen nicht überein"),
        (DEFAULT_PASSWORD, DEFAULT_PASSWORD, None, "muss sich vom aktuellen unterscheiden"),
    ],
)
def test_password_change_rejects_bad_input_in_german(client, session, users, current, new, repeat, message):
    login(client, users["planner"])
    response = _change(client, current, new, repeat)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _reload(session, users["planner"]).password_changed_at is None


def test_outdated_hash_is_rehashed_on_login(client, session):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(DEFAULT_PASSWORD)
    user = make_user(session, "planner", password_hash=weak)
    session.commit()
    assert needs_rehash(weak)
    login(client, user)
    stored = _reload(session, user).password_hash
    assert stored != weak and not needs_rehash(stored)


def test_current_hash_is_kept_on_login(client, session, users):
    before = users["admin"].password_hash
    login(client, users["admin"])
    assert _reload(session, users["admin"]).password_hash == before


# --- throttling -----------------------------------------------------------------------------


@pytest.fixture
def app_overrides() -> dict:
    return {"LOGIN_MAX_FAILURES": 3, "LOGIN_LOCK_MINUTES": 15, "LOGIN_IP_MAX_FAILURES": 6}


def test_account_locks_after_max_failures_with_429(client, session, users):
    user = users["planner"]
    for _ in range(2):
        assert post_login(client, user.email, "falsch-falsch-1").status_code == 422
    response = post_login(client, user.email, "falsch-falsch-1")
    assert response.status_code == 429
    assert "vorübergehend gesperrt" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "900"
    # even the right password is refused while the lock lasts
    response = post_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert _reload(session, user).locked_until is not None


def test_lock_expires(client, session, users):
    from datetime import timedelta

    from marketplace.timeutil import utcnow

    user = users["planner"]
    for _ in range(3):
        post_login(client, user.email, "falsch-falsch-1")
    stored = _reload(session, user)
    stored.locked_until = utcnow() - timedelta(seconds=1)
    session.add(stored)
    session.commit()
    assert post_login(client, user.email, DEFAULT_PASSWORD).status_code == 302


def test_per_ip_limit_blocks_spraying_many_accounts(client, session):
    for n in range(6):
        assert post_login(client, f"unbekannt{n}@test.example", "falsch-falsch-1").status_code == 422
    user = make_user(session, "admin")
    session.commit()
    response = post_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert "von Ihrem Netzwerk" in response.get_data(as_text=True)
    other_ip = post_login(client, user.email, DEFAULT_PASSWORD, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other_ip.status_code == 302
