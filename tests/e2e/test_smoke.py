"""Smoke test in a real browser: every role logs in to the demo district and sees its dashboard."""

from __future__ import annotations

import re

import pytest

from seed.generate import load_data

pytestmark = pytest.mark.e2e

ROLES = [
    ("coordinator", "koordination@traeger-1.example", "Koordination Träger", ["Eigene Gruppen", "Freie Plätze"]),
    ("caseworker", "asd@jugendamt.example", "ASD-Fachkraft", ["Junge Menschen im Team", "Offene Anfragen"]),
    ("planner", "planung@jugendamt.example", "Jugendhilfeplanung", ["Zur Zertifizierung", "Wartende junge Menschen"]),
    ("admin", "admin@jugendamt.example", "Administration", ["Aktive Benutzerkonten", "Träger"]),
]


@pytest.mark.parametrize(("role", "email", "role_label", "tiles"), ROLES, ids=[r[0] for r in ROLES])
def test_role_logs_in_and_sees_dashboard(live_server, chromium, artifacts, role, email, role_label, tiles):
    password = load_data()["organisations"]["demo_password"]
    context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        page.goto(f"{live_server}/")
        assert re.search(r"/login\?next=/$", page.url)
        page.screenshot(path=str(artifacts / "login.png"), full_page=True)
        page.get_by_label("E-Mail-Adresse").fill(email)
        page.get_by_label("Passwort").fill(password)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(f"{live_server}/")
        assert page.get_by_role("heading", name="Übersicht").is_visible()
        assert role_label in page.locator(".user-role").inner_text()
        values = page.locator(".tile-value").all_inner_texts()
        labels = page.locator(".tile-label").all_inner_texts()
        for tile in tiles:
            assert tile in labels
        assert any(v != "0" for v in values), f"{role}: the demo district should show some figures"

        # htmx: the refresh button swaps only the tiles (CSP allows it: no console errors)
        with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as answer:
            page.get_by_role("button", name="Aktualisieren").click()
        assert answer.value.status == 200
        page.locator(".tile").first.wait_for()
        page.screenshot(path=str(artifacts / f"dashboard-{role}.png"), full_page=True)

        # logout through the user menu (POST with the CSRF token)
        page.locator(".user-menu summary").click()
        page.get_by_role("button", name="Abmelden").click()
        page.wait_for_url(re.compile(r"/login$"))
        assert page.get_by_text("Sie wurden abgemeldet.").is_visible()
        assert problems == [], problems
    finally:
        context.close()
