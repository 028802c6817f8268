"""Web test helpers: one user per role, logging a test client in, reading CSRF tokens."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session
from werkzeug.test import TestResponse

from marketplace.models import Role, User
from tests.factories import DEFAULT_PASSWORD, make_user

_TOKEN = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"|value="([^"]+)"[^>]*?name="csrf_token"')


def csrf_from(html: str) -> str:
    """The first CSRF token in a page (the form's hidden field)."""
    match = _TOKEN.search(html)
    assert match, "no csrf_token in page"
    return match.group(1) or match.group(2)


def post_login(client: FlaskClient, email: str, password: str = DEFAULT_PASSWORD, **kwargs) -> TestResponse:
    """Submit the login form like a browser: fetch the page for its token, then post."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token}, **kwargs)


def login(client: FlaskClient, user: User, password: str = DEFAULT_PASSWORD) -> FlaskClient:
    """Log `client` in as `user`; fails the test when the login does not succeed."""
    response = post_login(client, user.email, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def page_token(client: FlaskClient, url: str = "/") -> str:
    """A CSRF token of the logged-in session (from the logout form of any page)."""
    return csrf_from(client.get(url).get_data(as_text=True))


@pytest.fixture
def users(session: Session) -> dict[str, User]:
    """One committed user per role, all with the factories' DEFAULT_PASSWORD."""
    created = {role.value: make_user(session, role) for role in Role}
    session.commit()
    return created
