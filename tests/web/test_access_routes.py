"""Route-level access: deny by default, role dashboards, role-only views."""

from __future__ import annotations

import uuid

import pytest
from flask import Blueprint
from werkzeug.routing.converters import NumberConverter

from marketplace.access import declared_roles, is_public, public, require_login, require_role
from marketplace.models import Role

from .conftest import login

#: The only views reachable without login. Adding one here is a security decision.
PUBLIC_ENDPOINTS = {"static", "auth.login", "main.healthz"}


def _example_value(converter) -> object:
    kind = type(converter).__name__
    if kind == "AnyConverter":
        return sorted(converter.items)[0]
    if isinstance(converter, NumberConverter):  # int (bounded to the database's ids) and float
        return 1
    if kind == "UUIDConverter":
        return uuid.UUID(int=1)
    return "x"


def _example_url(rule) -> str:
    values = {name: _example_value(conv) for name, conv in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


def test_public_endpoints_are_exactly_the_allowlist(app):
    public_now = {
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.endpoint == "static" or is_public(app.view_functions[rule.endpoint])
    }  # fmt: skip
    assert public_now == PUBLIC_ENDPOINTS


def test_every_other_view_declares_its_roles(app):
    undeclared = [
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC_ENDPOINTS and declared_roles(app.view_functions[rule.endpoint]) is None
    ]  # fmt: skip
    assert undeclared == []


def test_anonymous_users_are_denied_every_non_public_route(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _example_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code in (302, 401), (method, url, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), (method, url)
            checked += 1
    assert checked >= 3


def test_anonymous_htmx_request_gets_401_with_full_page_redirect(client):
    response = client.get("/", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_anonymous_get_redirect_keeps_target_and_german_flash(client):
    response = client.get("/password")
    assert response.headers["Location"] == "/login?next=/password"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bitte melden Sie sich an" in page


def test_healthz_is_public_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_broken_database(app, client):
    app.extensions["db_engine"].dispose()
    from marketplace.db import make_engine

    app.extensions["db_engine"] = make_engine("sqlite:////nonexistent-dir/none.db")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "error"


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_role_reaches_its_dashboard(client, users, role):
    login(client, users[role])
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Übersicht" in html and users[role].display_name in html
    assert 'class="tiles"' in html


# --- role-only views, on a blueprint registered for these tests only --------------------------


def _probe_blueprint() -> Blueprint:
    bp = Blueprint("probe", __name__, url_prefix="/probe")

    @bp.route("/planung")
    @require_role(Role.planner)
    def planner_only() -> str:
        return "planung"

    @bp.route("/admin")
    @require_role(Role.admin)
    def admin_only() -> str:
        return "admin"

    @bp.route("/alle")
    @require_login
    def everyone() -> str:
        return "alle"

    @bp.route("/vergessen")
    def forgotten() -> str:  # no declaration: must be denied to everybody
        return "offen"

    @bp.route("/oeffentlich")
    @public
    def open_page() -> str:
        return "öffentlich"

    return bp


@pytest.fixture
def probe_app(app):
    app.register_blueprint(_probe_blueprint())
    return app


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/probe/planung", {"planner"}),
        ("/probe/admin", {"admin"}),
        ("/probe/alle", {"planner", "admin", "coordinator", "caseworker"}),
        ("/probe/vergessen", set()),
    ],
)
def test_role_only_views(probe_app, users, path, allowed):
    for role, user in users.items():
        client = probe_app.test_client()
        login(client, user)
        response = client.get(path)
        expected = 200 if role in allowed else 403
        assert response.status_code == expected, (role, path)
        if expected == 403:
            html = response.get_data(as_text=True)
            assert "Kein Zugriff" in html and '<html lang="de">' in html


def test_forgotten_declaration_denied_and_public_open_for_anonymous(probe_app):
    client = probe_app.test_client()
    assert client.get("/probe/vergessen").status_code == 302
    assert client.get("/probe/oeffentlich").status_code == 200


def test_require_role_rejects_unknown_roles():
    with pytest.raises(ValueError):
        require_role("superuser")
