"""Catalogue, map, attendance and import in a real browser (Debian's Chromium) on the demo district."""

from __future__ import annotations

import re

import pytest

from tests.e2e.journey import login as _login
from tests.e2e.journey import watch as _watch

pytestmark = pytest.mark.e2e

COORDINATOR = "koordination@traeger-1.example"
CASEWORKER = "asd@jugendamt.example"


def test_catalogue_filters_update_results_in_place_and_map(live_server, chromium, artifacts):
    context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = _watch(page)
    try:
        _login(page, live_server, CASEWORKER)
        page.locator(".main-nav").get_by_role("link", name="Katalog").click()
        page.get_by_role("heading", name="Angebotskatalog").wait_for()
        total = page.locator("#ergebnis-zahl").inner_text()
        page.screenshot(path=str(artifacts / "catalogue-list.png"), full_page=False)
        # htmx: a filter change replaces only the results and pushes the URL
        page.get_by_label("Alter des jungen Menschen").fill("9")
        page.get_by_label("nur mit freien Plätzen").check()
        page.wait_for_url(re.compile(r"alter=9"))
        page.wait_for_function("t => document.querySelector('#ergebnis-zahl').innerText !== t", arg=total)
        assert page.get_by_role("heading", name="Angebotskatalog").is_visible()  # same page, no reload
        page.get_by_label("von Gemeinde").select_option(label="Dieburg")
        page.wait_for_url(re.compile(r"bezugsort="))
        page.locator(".distance").first.wait_for()
        page.screenshot(path=str(artifacts / "catalogue-filtered.png"), full_page=True)
        # a radius without a reference town: the server's German message above the results
        page.get_by_label("von Gemeinde").select_option(value="")
        page.get_by_label("Umkreis in km").fill("15")
        page.get_by_role("button", name="Suchen").click()
        page.get_by_text("Für einen Umkreis wählen Sie bitte auch den Bezugsort.").first.wait_for()
        page.screenshot(path=str(artifacts / "catalogue-filter-error.png"), full_page=False)
        page.get_by_label("von Gemeinde").select_option(label="Dieburg")
        page.wait_for_url(re.compile(r"umkreis=15"))
        assert "q=&" not in page.url  # the pushed address carries only what was chosen
        page.get_by_role("link", name="Kartenansicht").click()
        page.get_by_role("heading", name="Karte der Angebote").wait_for()
        assert page.locator("svg.district-map .map-place").count() == 23
        assert page.locator("svg.district-map .map-offer").count() >= 1
        page.screenshot(path=str(artifacts / "catalogue-map.png"), full_page=True)
        page.goto(f"{live_server}/katalog/karte")
        page.screenshot(path=str(artifacts / "catalogue-map-all.png"), full_page=True)
        assert [p for p in problems if "400" not in p] == [], problems
    finally:
        context.close()


def test_coordinator_records_attendance_with_the_keyboard(live_server, chromium, artifacts):
    context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = _watch(page)
    try:
        _login(page, live_server, COORDINATOR)
        page.locator(".main-nav").get_by_role("link", name="Teilnahme").click()
        page.get_by_role("heading", name="Teilnahme erfassen").wait_for()
        # the group with the most members at its latest date (the demo's accepted placements)
        values = [o.get_attribute("value") for o in page.locator("#wahl-angebot option").all()]
        counts = {}
        for value in values:
            page.goto(f"{live_server}/buero/teilnahme?angebot={value}")
            counts[value] = page.locator(".attendance-row").count()
        best = max(values, key=lambda v: counts[v])
        # choosing in the picker swaps the page region with htmx and pushes the address
        # start on another group, so that choosing `best` is a real change of the picker
        page.goto(f"{live_server}/buero/teilnahme?angebot={next(v for v in values if v != best)}")
        page.locator("#wahl-angebot").select_option(best)
        page.wait_for_url(re.compile(rf"angebot={best}$"))
        rows = page.locator(".attendance-row")
        page.wait_for_function("n => document.querySelectorAll('.attendance-row').length === n", arg=counts[best])
        assert rows.count() >= 2
        page.screenshot(path=str(artifacts / "attendance-form.png"), full_page=True)
        # keyboard: focus the first radio, arrows choose within the group, Tab moves to the next person
        first = rows.nth(0).locator("input[type=radio]").first
        first.focus()
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")  # → abwesend
        page.keyboard.press("Tab")
        page.keyboard.press("Space")  # second person: focus lands on its checked (or first) radio
        assert rows.nth(0).locator("input[value=absent]").is_checked()
        page.get_by_label("Grund für Korrekturen").fill("Nachtrag per Tastatur")
        page.get_by_role("button", name="Teilnahme speichern").click()
        confirmation = page.locator(".confirmation")
        confirmation.wait_for()
        assert "gespeichert" in confirmation.inner_text()
        page.screenshot(path=str(artifacts / "attendance-saved.png"), full_page=True)
        group_title = page.locator("#wahl-angebot option:checked").inner_text()
        page.get_by_role("link", name="Monatsübersicht").click()
        page.get_by_role("heading", name="Monatsübersicht Teilnahme").wait_for()
        assert page.locator(".month-nav h2").inner_text().startswith(group_title)  # the group just recorded
        page.screenshot(path=str(artifacts / "attendance-month.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_role("link", name="Export (Excel)").click()
        assert download.value.suggested_filename.endswith(".xlsx")
        page.goto(f"{live_server}/buero/angebote/import")
        page.locator("#datei").set_input_files(files=[{
            "name": "fehler.csv", "mimeType": "text/csv",
            "buffer": "Titel;Kategorien;Alter von;Alter bis;Termine;Erster Termin;Gemeinde;Plätze\n"
                      "Test;Kochen;10;8;Mo 15-17;gestern;Atlantis;0\n".encode()}])
        page.get_by_role("button", name="Importieren").click()
        page.get_by_text("es wurde nichts gespeichert").wait_for()
        page.screenshot(path=str(artifacts / "offers-import-errors.png"), full_page=True)
        assert [p for p in problems if "422" not in p] == [], problems
    finally:
        context.close()
