"""Providers and ASD teams: list, create, edit; German messages at the field, audited."""

from __future__ import annotations

from sqlmodel import func, select

from marketplace.models import AuditEvent, Provider, Team
from tests.factories import make_provider, make_sozialraum, make_user

from .conftest import form_post

PROVIDER = {"name": "Kinderhaus Dieburg e.V.", "short_name": "KH DI", "contact_name": "Frau Berg",
            "contact_email": "berg@kinderhaus.example", "contact_phone": "06071 1234",
            "address": "Steinstraße 1\n64807 Dieburg", "allows_co_use": "y", "active": "y"}


def test_the_list_shows_providers_with_their_coordinators(admin_client, session):
    provider = make_provider(session, name="Zeltlager gGmbH", allows_co_use=False)
    make_user(session, "coordinator", provider_id=provider.id)
    session.commit()
    page = admin_client.get("/verwaltung/traeger").get_data(as_text=True)
    assert "Zeltlager gGmbH" in page and "nein" in page


def test_create_a_provider(admin_client, session):
    response = form_post(admin_client, "/verwaltung/traeger/neu", PROVIDER)
    assert response.status_code == 302, response.get_data(as_text=True)
    provider = session.exec(select(Provider).where(Provider.short_name == "KH DI")).one()
    assert (provider.allows_co_use, provider.active, provider.contact_email) == (True, True, "berg@kinderhaus.example")
    assert session.exec(select(AuditEvent).where(AuditEvent.object_type == "provider")).one().action == "create"


def test_bad_provider_input_is_refused_at_the_field(admin_client, session):
    existing = make_provider(session, name="Schon da e.V.")
    session.commit()
    before = session.exec(select(func.count()).select_from(Provider)).one()
    cases = [({"name": ""}, "name", "einen Namen ein"),
             ({"name": "schon da e.v."}, "name", "schon ein anderer Träger"),
             ({"short_name": existing.short_name}, "short_name", "schon ein anderer Träger"),
             ({"short_name": "X" * 30}, "short_name", "Höchstens 20 Zeichen"),
             ({"contact_email": "kaputt"}, "contact_email", "gültige E-Mail-Adresse")]
    for overrides, field, message in cases:
        response = form_post(admin_client, "/verwaltung/traeger/neu", {**PROVIDER, **overrides})
        page = response.get_data(as_text=True)
        assert response.status_code == 422, overrides
        assert message in page and f'id="{field}-fehler"' in page, overrides
    assert session.exec(select(func.count()).select_from(Provider)).one() == before


def test_edit_a_provider_co_use_and_active(admin_client, session):
    provider = make_provider(session, allows_co_use=True)
    session.commit()
    assert admin_client.get(f"/verwaltung/traeger/{provider.id}").status_code == 200
    data = {**PROVIDER, "name": provider.name, "short_name": provider.short_name}
    del data["allows_co_use"], data["active"]  # unchecked boxes are not sent
    response = form_post(admin_client, f"/verwaltung/traeger/{provider.id}", data)
    assert response.status_code == 302
    session.expire_all()
    row = session.get(Provider, provider.id)
    assert (row.allows_co_use, row.active, row.contact_name) == (False, False, "Frau Berg")
    assert session.exec(select(AuditEvent).where(AuditEvent.object_type == "provider")).one().action == "update"


def test_a_deactivated_provider_is_not_offered_for_new_coordinators(admin_client, session):
    gone = make_provider(session, name="Aufgelöst e.V.", active=False)
    session.commit()
    page = admin_client.get("/verwaltung/benutzer/neu").get_data(as_text=True)
    assert "Aufgelöst e.V." not in page
    response = form_post(admin_client, "/verwaltung/benutzer/neu", {
        "display_name": "X", "email": "x@y.example", "role": "coordinator", "provider_id": str(gone.id),
        "team_id": "", "password": "lang-genug-123", "password_repeat": "lang-genug-123"})
    assert response.status_code == 422


def test_teams_list_and_create(admin_client, session):
    area = make_sozialraum(session, name="Ost")
    session.commit()
    response = form_post(admin_client, "/verwaltung/teams", {"name": "ASD Ost", "sozialraum_id": str(area.id)})
    assert response.status_code == 302
    team = session.exec(select(Team).where(Team.name == "ASD Ost")).one()
    assert team.sozialraum_id == area.id
    page = admin_client.get("/verwaltung/teams").get_data(as_text=True)
    assert "ASD Ost" in page and "Ost" in page
    again = form_post(admin_client, "/verwaltung/teams", {"name": "asd ost", "sozialraum_id": ""})
    assert again.status_code == 422 and "gibt es schon" in again.get_data(as_text=True)
    empty = form_post(admin_client, "/verwaltung/teams", {"name": "", "sozialraum_id": ""})
    assert empty.status_code == 422 and 'id="name-fehler"' in empty.get_data(as_text=True)
    assert session.exec(select(func.count()).select_from(Team).where(Team.name.ilike("asd ost"))).one() == 1
    assert session.exec(select(AuditEvent).where(AuditEvent.object_type == "team")).one().object_id == str(team.id)
