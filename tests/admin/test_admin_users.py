"""Accounts: create with role and binding, edit, deactivate/reactivate, reset password; audited, never half-written."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from marketplace import admin
from marketplace.admin import AdminError, UserFields
from marketplace.models import AuditEvent, Role, User
from tests.factories import make_provider, make_team, make_user
from tests.web.conftest import csrf_from, login, post_login

from .conftest import form_post

NEW_PASSWORD = "start-passwort-42"


def _count(session: Session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _new_user_data(**overrides) -> dict:
    data = {"display_name": "Carla Koordination", "email": "Carla@Traeger.example", "role": "coordinator",
            "provider_id": "", "team_id": "", "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
    return {**data, **overrides}


def test_the_list_shows_role_and_binding(admin_client, session, users):
    page = admin_client.get("/verwaltung/benutzer").get_data(as_text=True)
    coordinator = users["coordinator"]
    assert "Koordination Träger" in page and "ASD-Fachkraft" in page
    assert session.get(type(coordinator), coordinator.id).email in page
    filtered = admin_client.get("/verwaltung/benutzer?rolle=planner").get_data(as_text=True)
    assert users["planner"].email in filtered and coordinator.email not in filtered


def test_create_a_coordinator_bound_to_a_provider(app, admin_client, session):
    provider = make_provider(session, name="Jugendwerk e.V.")
    session.commit()
    response = form_post(admin_client, "/verwaltung/benutzer/neu", _new_user_data(provider_id=str(provider.id)))
    assert response.status_code == 302, response.get_data(as_text=True)
    user = session.exec(select(User).where(User.email == "carla@traeger.example")).one()
    assert (user.role, user.provider_id, user.team_id, user.must_change_password) == (
        "coordinator", provider.id, None, True)
    event = session.exec(select(AuditEvent).where(AuditEvent.object_type == "user",
                                                  AuditEvent.action == "create")).one()
    assert event.object_id == str(user.id)

    # the first login leads to the password page, and nowhere else until the password is changed
    carla = app.test_client()
    assert post_login(carla, user.email, NEW_PASSWORD).status_code == 302
    response = carla.get("/")
    assert response.status_code == 303 and response.headers["Location"].endswith("/password")
    token = csrf_from(carla.get("/password").get_data(as_text=True))
    changed = carla.post("/password", data={"csrf_token": token, "current_password": NEW_PASSWORD,
                                            "new_password": "mein-eigenes-passwort",
                                            "new_password_repeat": "mein-eigenes-passwort"})
    assert changed.status_code == 302
    assert carla.get("/").status_code == 200
    session.expire_all()
    assert session.get(User, user.id).must_change_password is False


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({}, "provider_id", "bitte einen Träger wählen"),
    ({"role": "caseworker"}, "team_id", "bitte ein Team wählen"),
    ({"role": "planner", "password": "kurz", "password_repeat": "kurz"}, "password", "mindestens 10 Zeichen"),
    ({"role": "planner", "password_repeat": "anders-als-oben"}, "password_repeat", "stimmen nicht überein"),
    ({"role": "planner", "email": "keine-adresse"}, "email", "gültige E-Mail-Adresse"),
    ({"role": "planner", "display_name": ""}, "display_name", "einen Namen ein"),
    ({"role": "chef"}, "role", "Keine gültige Auswahl"),
    ({"role": "coordinator", "provider_id": "abc"}, "provider_id", "Ungültige Auswahl"),
])
def test_bad_input_is_answered_at_the_field_and_nothing_is_written(admin_client, session, overrides, field, message):
    users_before, audit_before = _count(session, User), _count(session, AuditEvent)
    response = form_post(admin_client, "/verwaltung/benutzer/neu", _new_user_data(**overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert f'id="{field}-fehler"' in page  # the message sits at its field
    assert _count(session, User) == users_before
    assert _count(session, AuditEvent) == audit_before


def test_a_taken_email_is_refused(admin_client, users):
    taken = users["planner"].email.upper()
    response = form_post(admin_client, "/verwaltung/benutzer/neu", _new_user_data(role="planner", email=taken))
    assert response.status_code == 422
    assert "gehört schon zu einem anderen Konto" in response.get_data(as_text=True)


def test_planners_get_no_binding_even_if_one_is_sent(admin_client, session):
    team = make_team(session)
    session.commit()
    response = form_post(admin_client, "/verwaltung/benutzer/neu",
                         _new_user_data(role="planner", team_id=str(team.id)))
    assert response.status_code == 302
    user = session.exec(select(User).where(User.email == "carla@traeger.example")).one()
    assert (user.role, user.team_id, user.provider_id) == ("planner", None, None)


def test_a_role_change_ends_the_users_sessions(app, admin_client, session, users):
    planner = users["planner"]
    other = app.test_client()
    login(other, planner)
    team = make_team(session)
    session.commit()
    response = form_post(admin_client, f"/verwaltung/benutzer/{planner.id}",
                         {"display_name": "Paula", "email": planner.email, "role": "caseworker",
                          "team_id": str(team.id), "provider_id": ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert other.get("/").status_code == 302  # sent to the login page
    session.expire_all()
    changed = session.get(User, planner.id)
    assert (changed.role, changed.team_id, changed.display_name) == ("caseworker", team.id, "Paula")
    assert session.exec(select(AuditEvent).where(AuditEvent.object_type == "user_role")).one().object_id == str(
        planner.id)


def test_a_name_change_alone_keeps_the_sessions(app, admin_client, session, users):
    planner = users["planner"]
    other = app.test_client()
    login(other, planner)
    response = form_post(admin_client, f"/verwaltung/benutzer/{planner.id}",
                         {"display_name": "Neuer Name", "email": planner.email, "role": "planner",
                          "team_id": "", "provider_id": ""})
    assert response.status_code == 302
    assert other.get("/").status_code == 200


def test_deactivate_and_reactivate(app, admin_client, session, users):
    caseworker = users["caseworker"]
    other = app.test_client()
    login(other, caseworker)
    response = form_post(admin_client, f"/verwaltung/benutzer/{caseworker.id}/deaktivieren", {})
    assert response.status_code == 303
    assert other.get("/").status_code == 302  # the running session ended
    assert post_login(other, caseworker.email).status_code == 422  # and login is refused
    response = form_post(admin_client, f"/verwaltung/benutzer/{caseworker.id}/aktivieren", {})
    assert response.status_code == 303
    other = app.test_client()
    login(other, caseworker)
    kinds = session.exec(select(AuditEvent.object_type).where(AuditEvent.object_id == str(caseworker.id),
                                                               AuditEvent.action == "update")).all()
    assert kinds == ["user_deactivated", "user_activated"]


def test_an_admin_cannot_deactivate_or_demote_themselves(admin_client, session, admin_user):
    response = form_post(admin_client, f"/verwaltung/benutzer/{admin_user.id}/deaktivieren", {},
                         follow_redirects=True)
    assert "nicht für Ihr eigenes Konto" in response.get_data(as_text=True)
    response = form_post(admin_client, f"/verwaltung/benutzer/{admin_user.id}",
                         {"display_name": "Ada", "email": admin_user.email, "role": "planner",
                          "team_id": "", "provider_id": ""})
    assert response.status_code == 422
    session.expire_all()
    assert session.get(User, admin_user.id).is_active and session.get(User, admin_user.id).role == "admin"


def test_the_last_active_admin_stays(session):
    only = make_user(session, Role.admin)
    other = make_user(session, Role.admin, is_active=False)
    session.commit()
    with pytest.raises(AdminError, match="letzte aktive Administrationskonto"):
        admin.set_user_active(session, actor=None, user_id=only.id, active=False)
    with pytest.raises(AdminError, match="letzte aktive Administrationskonto"):
        admin.update_user(session, actor=None, user_id=only.id,
                          fields=UserFields(email=only.email, display_name="x", role="planner"))
    admin.set_user_active(session, actor=None, user_id=other.id, active=True)
    admin.set_user_active(session, actor=None, user_id=only.id, active=False)  # now another admin remains
    assert session.get(User, only.id).is_active is False


def test_password_reset_ends_sessions_lifts_the_lock_and_forces_a_change(app, admin_client, session, users):
    coordinator = users["coordinator"]
    other = app.test_client()
    login(other, coordinator)
    row = session.get(User, coordinator.id)
    row.failed_logins = 3
    session.commit()
    short = form_post(admin_client, f"/verwaltung/benutzer/{coordinator.id}/passwort",
                      {"password": "kurz", "password_repeat": "kurz"})
    assert short.status_code == 422 and "mindestens 10 Zeichen" in short.get_data(as_text=True)
    response = form_post(admin_client, f"/verwaltung/benutzer/{coordinator.id}/passwort",
                         {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert response.status_code == 302
    assert other.get("/").status_code == 302
    session.expire_all()
    row = session.get(User, coordinator.id)
    assert (row.must_change_password, row.failed_logins) == (True, 0)
    other = app.test_client()
    assert post_login(other, coordinator.email, NEW_PASSWORD).status_code == 302
    assert session.exec(select(AuditEvent).where(AuditEvent.object_type == "user_password_reset")).one()


def test_an_admin_resets_their_own_password_elsewhere(admin_client, admin_user):
    response = form_post(admin_client, f"/verwaltung/benutzer/{admin_user.id}/passwort",
                         {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert response.status_code == 422
    assert "Passwort ändern" in response.get_data(as_text=True)
