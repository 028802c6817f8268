"""Every route of the administration area is for administrators only; the case export for its readers only."""

from __future__ import annotations

import pytest

from marketplace.models import Role
from tests.factories import make_team, make_young_person
from tests.web.conftest import login, page_token


def _example_url(rule, value: int = 1) -> str:
    """The rule's URL with `value` for every argument (all of this area's arguments are record ids)."""
    return rule.build({name: value for name in rule.arguments}, append_unknown=False)[1]


def _admin_rules(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    assert len(rules) >= 11
    return rules


@pytest.mark.parametrize("role", [Role.coordinator, Role.caseworker, Role.planner])
def test_every_admin_route_is_denied_to_other_roles(app, client, users, role):
    login(client, users[role.value])
    token = page_token(client)
    for rule in _admin_rules(app):
        url = _example_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, headers={"X-CSRFToken": token})
            assert response.status_code == 403, (role, method, url, response.status_code)


def test_every_admin_route_declares_admin_only(app):
    from marketplace.access import declared_roles

    for rule in _admin_rules(app):
        assert declared_roles(app.view_functions[rule.endpoint]) == {"admin"}, rule.endpoint


def test_every_admin_change_needs_a_recent_login(app):
    from marketplace.web.reauth import RECENT_LOGIN_ATTR

    for rule in _admin_rules(app):
        if "POST" in rule.methods:
            assert getattr(app.view_functions[rule.endpoint], RECENT_LOGIN_ATTR, None) == 15, rule.endpoint


def test_admin_pages_open_for_admins(app, client, users):
    login(client, users["admin"])
    for rule in _admin_rules(app):
        if "GET" not in rule.methods:
            continue
        if "provider_id" in rule.arguments:
            continue  # no provider with a known id here; covered in test_admin_providers
        url = _example_url(rule, users["admin"].id)
        response = client.get(url)
        assert response.status_code in (200, 302), (url, response.status_code)


def test_unknown_records_are_404(client, users):
    login(client, users["admin"])
    assert client.get("/verwaltung/benutzer/999999").status_code == 404
    assert client.get("/verwaltung/traeger/999999").status_code == 404


# --------------------------------------------------------------------------- case export


def test_case_export_for_planners_and_the_case_team_only(app, client, session, users):
    own = make_young_person(session, team_id=users["caseworker"].team_id)
    foreign = make_young_person(session, team=make_team(session))
    session.commit()
    url = "/datenschutz/fall/{}/auskunft.json"
    expected = {"planner": (200, 200), "caseworker": (200, 403), "coordinator": (403, 403), "admin": (403, 403)}
    for role, (own_status, foreign_status) in expected.items():
        c = app.test_client()
        login(c, users[role])
        assert c.get(url.format(own.id)).status_code == own_status, role
        assert c.get(url.format(foreign.id)).status_code == foreign_status, role
    c = app.test_client()
    login(c, users["planner"])
    response = c.get(url.format(own.id))
    assert response.mimetype == "application/json"
    assert f'filename="auskunft-{own.pseudonym}.json"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["case"]["pseudonym"] == own.pseudonym
    assert c.get(url.format(999999)).status_code == 404
