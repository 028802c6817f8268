"""Administration in a real browser: create a coordinator, who must set an own password at the first login."""

from __future__ import annotations

import re

import pytest

from seed.generate import load_data

pytestmark = pytest.mark.e2e

INITIAL = "start-passwort-e2e"
OWN = "mein-eigenes-passwort-e2e"


def _login(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()


def test_admin_creates_a_coordinator_who_sets_an_own_password(live_server, chromium, artifacts):
    demo_password = load_data()["organisations"]["demo_password"]
    context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        _login(page, live_server, "admin@jugendamt.example", demo_password)
        page.get_by_role("link", name="Benutzer", exact=True).first.click()
        page.get_by_role("link", name="+ Neues Konto").click()
        page.get_by_label("Rolle", exact=True).select_option("coordinator")
        assert page.get_by_label("Träger", exact=True).is_visible() and not page.get_by_label("ASD-Team").is_visible()
        page.get_by_label("Name", exact=True).fill("Emil E2E")
        page.get_by_label("E-Mail-Adresse (Anmeldename)").fill("emil.e2e@traeger.example")
        page.get_by_label("Träger", exact=True).select_option(index=1)
        page.get_by_label("Startpasswort").fill("zu-kurz")
        page.get_by_label("Passwort wiederholen").fill("zu-kurz")
        page.get_by_role("button", name="Konto anlegen").click()
        assert page.get_by_text("mindestens 10 Zeichen").first.is_visible()
        page.screenshot(path=str(artifacts / "admin-user-errors.png"), full_page=True)
        page.get_by_label("Startpasswort").fill(INITIAL)
        page.get_by_label("Passwort wiederholen").fill(INITIAL)
        page.get_by_role("button", name="Konto anlegen").click()
        page.wait_for_url(re.compile(r"/verwaltung/benutzer$"))
        assert page.get_by_text("Das Konto für Emil E2E wurde angelegt.").is_visible()
        row = page.get_by_role("row", name=re.compile("Emil E2E"))
        assert "Startpasswort" in row.inner_text()
        page.screenshot(path=str(artifacts / "admin-users.png"), full_page=True)
        context.clear_cookies()

        _login(page, live_server, "emil.e2e@traeger.example", INITIAL)
        page.wait_for_url(re.compile(r"/password$"))
        assert page.get_by_text("Bitte legen Sie zuerst ein eigenes Passwort fest.").is_visible()
        page.get_by_label("Aktuelles Passwort").fill(INITIAL)
        page.get_by_label("Neues Passwort", exact=True).fill(OWN)
        page.get_by_label("Neues Passwort wiederholen").fill(OWN)
        page.get_by_role("button", name="Passwort speichern").click()
        page.wait_for_url(f"{live_server}/")
        assert page.get_by_role("heading", name="Übersicht").is_visible()
        assert problems == [], problems
    finally:
        context.close()
