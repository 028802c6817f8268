"""Admin web tests: a logged-in administrator client and small helpers."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from marketplace.models import Role, User
from marketplace.web.reauth import CONFIRMED_AT
from tests.factories import make_user
from tests.web.conftest import csrf_from, login, page_token, post_login, users  # noqa: F401  (fixtures)


@pytest.fixture
def admin_user(session: Session) -> User:
    user = make_user(session, Role.admin, display_name="Ada Admin")
    session.commit()
    return user


@pytest.fixture
def admin_client(client: FlaskClient, admin_user: User) -> FlaskClient:
    return login(client, admin_user)


def form_post(client: FlaskClient, url: str, data: dict, **kwargs):
    """POST like a browser: the CSRF token of the logged-in session added."""
    return client.post(url, data={"csrf_token": page_token(client), **data}, **kwargs)


def age_confirmation(client: FlaskClient, minutes: float) -> None:
    """Pretend the last password entry of this browser session was `minutes` ago."""
    with client.session_transaction() as sess:
        sess[CONFIRMED_AT] = int(time.time() - minutes * 60)
