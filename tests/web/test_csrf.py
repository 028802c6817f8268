"""CSRF: every state-changing request needs the token, from the form field or the htmx header."""

from __future__ import annotations

from .conftest import csrf_from, login, page_token


def test_login_post_without_token_is_400_with_german_page(client, users):
    response = client.post("/login", data={"email": users["admin"].email, "password": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Sicherheitstoken" in html and '<html lang="de">' in html


def test_logout_without_token_is_400_and_keeps_session(client, users):
    login(client, users["admin"])
    response = client.post("/logout")
    assert response.status_code == 400
    assert "Sicherheitstoken" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200


def test_logout_with_wrong_token_is_400(client, users):
    login(client, users["admin"])
    assert client.post("/logout", data={"csrf_token": "gefälscht"}).status_code == 400


def test_logout_with_form_token_works(client, users):
    login(client, users["admin"])
    response = client.post("/logout", data={"csrf_token": page_token(client)})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_htmx_post_with_header_token_works(client, users):
    login(client, users["admin"])
    token = page_token(client)
    response = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 302


def test_htmx_post_without_token_gets_error_fragment(client, users):
    login(client, users["admin"])
    response = client.post("/logout", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<html" not in html and "Sicherheitstoken" in html
    assert response.headers["HX-Retarget"] == "#htmx-alerts"


def test_layout_gives_htmx_the_token_header(client, users):
    login(client, users["admin"])
    html = client.get("/").get_data(as_text=True)
    token = csrf_from(html)
    assert f'hx-headers=\'{{"X-CSRFToken": "{token}"}}\'' in html
