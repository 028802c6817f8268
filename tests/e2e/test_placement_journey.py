"""Journey in a real browser: a caseworker registers a young person, requests a placement, sees three
explained options and confirms one (htmx); the hosting provider's coordinator accepts it; the offer page
shows one free seat fewer. Screenshots of every step go to test-artifacts/."""

from __future__ import annotations

import re
from datetime import date

import pytest

from seed.generate import load_data
from tests.e2e.journey import login as _login
from tests.e2e.journey import logout as _logout

pytestmark = pytest.mark.e2e

CASEWORKER = "asd@jugendamt.example"


def _coordinator_of(provider_name: str) -> str:
    orgs = load_data()["organisations"]
    short = next(p["short_name"] for p in orgs["providers"] if p["name"] == provider_name)
    return next(u["email"] for u in orgs["users"] if u.get("provider") == short)


def _register(page, base: str) -> str:
    """Fill the case form like a caseworker; returns the system-made pseudonym."""
    page.locator(".main-nav").get_by_role("link", name="Junge Menschen").click()
    page.goto(f"{base}/faelle/neu")
    page.get_by_label("Geburtsjahr").fill(str(date.today().year - 12))
    page.get_by_label("Geschlecht").select_option(label="weiblich")
    page.get_by_label("Gemeinde").select_option(label="Dieburg")
    page.get_by_label("Höchste Fahrstrecke (km)").fill("25")
    for need in ("Soziale Kompetenzen", "Sport und Bewegung", "Lernförderung", "Kreativ- und Kulturangebot"):
        page.get_by_label(need, exact=True).check()
    for day in ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag"):
        page.get_by_label(f"{day}, 1. Fenster, Beginn").fill("13:00")
        page.get_by_label(f"{day}, 1. Fenster, Ende").fill("20:00")
    standard = page.locator("#module_id option", has_text="Standard-Modul").get_attribute("value")
    page.get_by_label("Modul").select_option(standard)
    page.get_by_label("Federführender Träger").select_option(label="Jugendhilfe Bergstraße e.V.")
    page.get_by_label("Rechtsgrundlage (SGB VIII)").select_option(label="§ 30")
    page.get_by_label("Bewilligt ab").fill(date.today().isoformat())
    page.get_by_role("button", name="Jungen Menschen anlegen").click()
    page.wait_for_url(re.compile(r"/faelle/\d+$"))
    flash = page.locator(".alert-success").inner_text()
    return re.search(r"Pseudonym (\S+) angelegt", flash).group(1)


def test_request_confirm_accept(live_server, chromium, artifacts):
    context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        # --- the caseworker registers a young person and asks for group hours
        _login(page, live_server, CASEWORKER)
        pseudonym = _register(page, live_server)
        page.screenshot(path=artifacts / "placement-01-case.png", full_page=True)
        page.get_by_role("link", name="Belegung anfragen").click()
        page.get_by_role("button", name="Vorschläge berechnen").click()
        page.wait_for_url(re.compile(r"/belegung/anfragen/\d+$"))
        request_url = page.url

        # --- three explained options
        options = page.locator(".option-card")
        assert options.count() == 3
        for n in range(3):
            text = options.nth(n).inner_text()
            for part in ("Stunden:", "Bedarfe:", "Wünsche:", "Termine:", "Entfernung:", "Freie Plätze:"):
                assert part in text, (n, part, text)
        page.screenshot(path=artifacts / "placement-02-options.png", full_page=True)

        # --- confirm option 1; remember its first group and that group's free seats
        first = options.nth(0)
        group = first.locator(".option-group").first
        link = group.locator(".option-group-title a")
        title = link.inner_text().strip("„“")
        offer_url = live_server + link.get_attribute("href")
        provider = group.locator(".option-group-title .muted").inner_text().split("·")[1].strip()
        free_before = int(re.search(r"Freie Plätze: (\d+) von", group.inner_text()).group(1))
        first.get_by_role("button", name="Option 1 bestätigen").click()
        page.locator(".alert-success").get_by_text("Bestätigt:").wait_for()
        assert page.url == request_url  # htmx swapped the body in place
        assert "bestätigt, wartet auf Annahme" in page.locator("#anfrage").inner_text()
        page.screenshot(path=artifacts / "placement-03-confirmed.png", full_page=True)
        _logout(page)

        # --- the hosting provider's coordinator sees a notification and accepts
        _login(page, live_server, _coordinator_of(provider))
        assert page.locator(".notification-count").count() == 1
        page.locator(".notification-link").click()
        page.get_by_text(f"Neue Belegung: {pseudonym} in „{title}“").first.wait_for()
        page.screenshot(path=artifacts / "placement-04-notifications.png", full_page=True)
        page.goto(f"{live_server}/belegung/offen")
        item = page.locator(".pending-item", has_text=pseudonym).filter(has_text=title)
        assert "Jahre" in item.inner_text() and "Bedarfe:" in item.inner_text()
        page.screenshot(path=artifacts / "placement-05-pending.png", full_page=True)
        item.get_by_role("button", name=re.compile("^Annehmen")).click()
        page.locator(".alert-success").get_by_text("angenommen").wait_for()
        _logout(page)

        # --- the caseworker sees the acceptance; the offer shows one free seat fewer
        _login(page, live_server, CASEWORKER)
        page.goto(request_url)
        assert "angenommen" in page.locator("#anfrage").inner_text()
        page.goto(offer_url)
        free_after = int(page.locator(".seat-figures .big").inner_text())
        page.screenshot(path=artifacts / "placement-06-offer.png", full_page=True)
        assert free_after == free_before - 1
        assert problems == [], problems
    finally:
        context.close()
