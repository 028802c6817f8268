"""The planner's reports in a real browser: every page renders without CSP errors, filters refresh via htmx."""

from __future__ import annotations

import re

import pytest

from seed.generate import load_data

pytestmark = pytest.mark.e2e

PAGES = [("auslastung", "Auslastung"), ("bedarf", "Ungedeckter Bedarf"), ("modulstunden", "Modulstunden"),
         ("traegeruebergreifend", "Trägerübergreifende Nutzung"), ("abnahme", "Monatsabnahme")]


def test_planner_reads_reports_and_filters_with_htmx(live_server, chromium, artifacts):
    password = load_data()["organisations"]["demo_password"]
    context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("E-Mail-Adresse").fill("planung@jugendamt.example")
        page.get_by_label("Passwort").fill(password)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(f"{live_server}/")
        page.get_by_role("link", name="Berichte").first.click()
        page.wait_for_url(f"{live_server}/berichte/")
        page.screenshot(path=str(artifacts / "berichte-uebersicht.png"), full_page=True)
        for slug, heading in PAGES:
            page.goto(f"{live_server}/berichte/{slug}")
            assert page.get_by_role("heading", name=heading, exact=True).is_visible()
            page.screenshot(path=str(artifacts / f"berichte-{slug}.png"), full_page=True)
        assert page.locator("svg[role=img]").count() == 0  # the sign-off page has no charts

        # a filter change swaps the report body only and pushes the URL
        page.goto(f"{live_server}/berichte/auslastung")
        assert page.locator("#bericht svg[role=img]").count() >= 2
        with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as answer:
            page.get_by_label("Gliederung").select_option("sozialraum")
        assert answer.value.status == 200
        page.wait_for_url(re.compile(r"nach=sozialraum"))
        page.get_by_role("heading", name="Auslastung nach Sozialraum").wait_for()
        assert page.locator("h1").count() == 1
        page.screenshot(path=str(artifacts / "berichte-auslastung-sozialraum.png"), full_page=True)
        assert problems == [], problems
    finally:
        context.close()
