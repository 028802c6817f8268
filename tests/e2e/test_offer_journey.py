"""Journey in a real browser: a coordinator creates an offer with two weekly sessions (added inline with
htmx, checked live), planning certifies it, the coordinator publishes it, and it is in the catalogue and on
the map."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from tests.e2e.journey import login as _login
from tests.e2e.journey import logout as _logout

pytestmark = pytest.mark.e2e

COORDINATOR = "koordination@traeger-1.example"
PLANNER = "planung@jugendamt.example"


def test_create_certify_publish(live_server, chromium, artifacts):
    title = f"Klettern und Vertrauen {uuid.uuid4().hex[:6]}"
    context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        # --- the coordinator writes a draft with two sessions
        _login(page, live_server, COORDINATOR)
        page.locator(".main-nav").get_by_role("link", name="Meine Gruppen").click()
        page.get_by_role("link", name="+ Neues Angebot").click()
        page.get_by_label("Titel").fill(title)
        page.get_by_label("Beschreibung").fill("Klettern in der Halle, Vertrauen in der Gruppe.")
        page.get_by_label("Sport und Bewegung").check()
        page.get_by_label("Alter von").fill("10")
        page.get_by_label("Alter bis").fill("8")
        page.get_by_label("Alter bis").blur()
        # live validation: the German message appears at the field without leaving the page
        page.locator("#fehler-age_max").get_by_text("Höchstalter").wait_for()
        page.get_by_label("Alter bis").fill("14")
        page.get_by_label("Alter bis").blur()
        page.locator("#fehler-age_max .field-message").wait_for(state="detached")
        page.get_by_label("Erster Termin").fill((date.today() + timedelta(days=14)).isoformat())
        page.get_by_label("Gemeinde").select_option(label="Dieburg")
        page.get_by_label("Adresse").fill("Kletterhalle, Am Sportpark 2")
        page.get_by_label("Plätze", exact=True).fill("8")
        page.get_by_label("Mindestgröße").fill("3")
        page.get_by_label("Verrechnungssatz (€ pro Teilnahmestunde)").fill("18,50")
        page.locator("#termin-0-tag").select_option(label="Dienstag")
        page.locator("#termin-0-beginn").fill("16:00")
        page.locator("#termin-0-ende").fill("17:30")
        page.get_by_role("button", name="+ Termin hinzufügen").click()
        page.locator("#termin-1-tag").wait_for()
        assert page.locator("#termin-0-beginn").input_value() == "16:00"  # the first row survived the swap
        page.locator("#termin-1-tag").select_option(label="Donnerstag")
        page.locator("#termin-1-beginn").fill("15:00")
        page.locator("#termin-1-ende").fill("16:30")
        page.screenshot(path=str(artifacts / "offer-editor.png"), full_page=True)
        page.get_by_role("button", name="Entwurf speichern").click()
        page.get_by_role("heading", name=title).wait_for()
        assert page.locator(".badge", has_text="Entwurf").is_visible()
        assert page.get_by_text("Dienstags, 16:00–17:30 Uhr").is_visible()
        assert page.get_by_text("Donnerstags, 15:00–16:30 Uhr").is_visible()
        page.get_by_role("button", name="Zur Zertifizierung einreichen").click()
        page.get_by_text("zur Zertifizierung eingereicht").first.wait_for()
        _logout(page)

        # --- planning certifies it from the queue
        _login(page, live_server, PLANNER)
        page.locator(".main-nav").get_by_role("link", name="Zertifizierung").click()
        card = page.locator("article.queue-item", has=page.get_by_role("link", name=title))
        page.screenshot(path=str(artifacts / "offer-certification.png"), full_page=True)
        card.get_by_role("button", name="Zertifizieren").click()
        page.get_by_text("Das Angebot wurde zertifiziert.").wait_for()
        assert page.locator("article.queue-item", has=page.get_by_role("link", name=title)).count() == 0
        _logout(page)

        # --- the coordinator publishes it
        _login(page, live_server, COORDINATOR)
        page.locator(".main-nav").get_by_role("link", name="Meine Gruppen").click()
        page.get_by_role("link", name=title).click()
        page.get_by_role("button", name="Veröffentlichen").click()
        page.get_by_text("im Katalog veröffentlicht").wait_for()
        assert page.locator(".badge", has_text="Veröffentlicht").is_visible()
        history = page.locator("table").last.inner_text()
        assert "Zertifiziert" in history and "Jugendhilfeplanung" in history
        page.screenshot(path=str(artifacts / "offer-published.png"), full_page=True)

        # --- it is in the catalogue and on the map
        page.goto(f"{live_server}/katalog/?q={title}")
        assert page.get_by_role("link", name=title).first.is_visible()
        page.goto(f"{live_server}/katalog/karte?q={title}")
        marker = page.locator("svg a.map-offer title", has_text=title)
        assert marker.count() == 1
        page.screenshot(path=str(artifacts / "offer-on-map.png"), full_page=True)
        # the deliberate live-validation error above answers 422 (the browser and htmx log that)
        assert [p for p in problems if "422" not in p] == [], problems
    finally:
        context.close()
