"""Every role's main path as one story in Debian's Chromium, on a live server with the demo district.

A provider's coordinator (Kinder- und Jugendwerk Dieburger Land) creates a media group in Dieburg that meets
today's weekday and submits it → planning certifies it → the coordinator publishes it → an ASD caseworker
registers a girl from Dieburg whose lead provider is another one (Jugendhilfe Bergstraße) and who wishes
the new group, requests a placement, sees three explained options and confirms the one with the new group
(shared use, variant A) → the coordinator accepts and records today's attendance → planning starts a
solver run and waits for its result → planning books and reads this month's offset statement, where the
session appears as a line owed by Jugendhilfe Bergstraße to the host, and the cross-provider report, where
the pair appears.

A screenshot of every step goes to test-artifacts/journey-NN-*.png.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from marketplace.timeutil import month_key, today_berlin
from tests.e2e.test_placement_journey import CASEWORKER, _coordinator_of, _login, _logout

pytestmark = pytest.mark.e2e

PLANNER = "planung@jugendamt.example"
HOST = "Kinder- und Jugendwerk Dieburger Land gGmbH"
LEAD = "Jugendhilfe Bergstraße e.V."
WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
RATE = "21,00"  # € per participant-hour; a two-hour session costs 42,00 €


class Journey:
    """The browser page, the server and numbered screenshots."""

    def __init__(self, page, base: str, artifacts) -> None:
        self.page, self.base, self.artifacts, self.step = page, base, artifacts, 0
        for old in artifacts.glob("journey-*.png"):  # a shorter earlier story must not leave steps behind
            old.unlink()

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(self.artifacts / f"journey-{self.step:02d}-{name}.png"), full_page=True)

    def nav(self, name: str) -> None:
        self.page.locator(".main-nav").get_by_role("link", name=name).click()

    def as_user(self, email: str) -> None:
        if self.page.locator(".user-menu summary").count():
            _logout(self.page)
        _login(self.page, self.base, email)


def _create_offer(j: Journey, title: str, weekday: str) -> None:
    page = j.page
    j.nav("Meine Gruppen")
    page.get_by_role("link", name="+ Neues Angebot").click()
    page.get_by_label("Titel").fill(title)
    page.get_by_label("Beschreibung").fill("Eigene Clips drehen, sicher im Netz unterwegs sein, fair kommentieren.")
    page.get_by_label("Medienkompetenz").check()
    page.get_by_label("Alter von").fill("10")
    page.get_by_label("Alter bis").fill("15")
    page.get_by_label("Erster Termin").fill((today_berlin() - timedelta(days=7)).isoformat())
    page.get_by_label("Gemeinde").select_option(label="Dieburg")
    page.get_by_label("Adresse").fill("Jugendhaus, Steinstraße 5")
    page.get_by_label("Plätze", exact=True).fill("6")
    page.get_by_label("Mindestgröße").fill("1")
    page.get_by_label("Verrechnungssatz (€ pro Teilnahmestunde)").fill(RATE)
    page.locator("#termin-0-tag").select_option(label=weekday)
    page.locator("#termin-0-beginn").fill("15:00")
    page.locator("#termin-0-ende").fill("17:00")
    page.get_by_role("button", name="Entwurf speichern").click()
    page.get_by_role("heading", name=title).wait_for()
    assert page.locator(".badge", has_text="Entwurf").is_visible()
    page.get_by_role("button", name="Zur Zertifizierung einreichen").click()
    page.get_by_text("zur Zertifizierung eingereicht").first.wait_for()


def _register(j: Journey, weekday: str, title: str) -> str:
    """The caseworker's form: a 12-year-old girl in Dieburg, media and social skills, wishes the new group."""
    page = j.page
    j.nav("Junge Menschen")
    page.goto(f"{j.base}/faelle/neu")
    page.get_by_label("Geburtsjahr").fill(str(today_berlin().year - 12))
    page.get_by_label("Geschlecht").select_option(label="weiblich")
    page.get_by_label("Gemeinde").select_option(label="Dieburg")
    page.get_by_label("Höchste Fahrstrecke (km)").fill("20")
    for need in ("Medienkompetenz", "Soziale Kompetenzen"):
        page.get_by_label(need, exact=True).check()
    for day in sorted({"Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", weekday}):
        page.get_by_label(f"{day}, 1. Fenster, Beginn").fill("14:00")
        page.get_by_label(f"{day}, 1. Fenster, Ende").fill("19:00")
    basis = page.locator("#module_id option", has_text="Basis-Modul").get_attribute("value")
    page.get_by_label("Modul").select_option(basis)
    page.get_by_label("Federführender Träger").select_option(label=LEAD)
    page.get_by_label("Rechtsgrundlage (SGB VIII)").select_option(label="§ 30")
    page.get_by_label("Bewilligt ab").fill(today_berlin().isoformat())
    wish = page.locator("#preferred_offer_ids option", has_text=title).get_attribute("value")
    page.locator("#preferred_offer_ids").select_option(wish)
    page.get_by_role("button", name="Jungen Menschen anlegen").click()
    page.wait_for_url(re.compile(r"/faelle/\d+$"))
    flash = page.locator(".alert-success").inner_text()
    return re.search(r"Pseudonym (\S+) angelegt", flash).group(1)


def test_every_role_in_one_story(live_server, chromium, artifacts):
    today = today_berlin()
    weekday = WEEKDAYS[today.weekday()]
    title = f"Medienwerkstatt Dieburg {uuid.uuid4().hex[:4]}"
    host_coordinator = _coordinator_of(HOST)
    context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    j = Journey(page, live_server, artifacts)
    try:
        # --- 1. the host's coordinator writes the offer and submits it for certification
        j.as_user(host_coordinator)
        _create_offer(j, title, weekday)
        assert page.locator(".badge", has_text="Zur Prüfung eingereicht").is_visible()
        j.shot("offer-submitted")

        # --- 2. planning certifies it from the queue
        j.as_user(PLANNER)
        j.nav("Zertifizierung")
        card = page.locator("article.queue-item", has=page.get_by_role("link", name=title))
        assert "Kinder- und Jugendwerk" in card.inner_text()
        j.shot("certification-queue")
        card.get_by_role("button", name="Zertifizieren").click()
        page.get_by_text("Das Angebot wurde zertifiziert.").wait_for()

        # --- 3. the coordinator publishes it: six free seats of six
        j.as_user(host_coordinator)
        j.nav("Meine Gruppen")
        page.get_by_role("link", name=title).click()
        offer_url = page.url
        page.get_by_role("button", name="Veröffentlichen").click()
        page.get_by_text("im Katalog veröffentlicht").wait_for()
        assert page.locator(".badge", has_text="Veröffentlicht").is_visible()
        assert page.locator(".seat-figures .big").inner_text().strip() == "6"
        j.shot("offer-published")

        # --- 4. the caseworker registers a young person of another lead provider and asks for group hours
        j.as_user(CASEWORKER)
        pseudonym = _register(j, weekday, title)
        j.shot("case-registered")
        page.get_by_role("link", name="Belegung anfragen").click()
        page.get_by_role("button", name="Vorschläge berechnen").click()
        page.wait_for_url(re.compile(r"/belegung/anfragen/\d+$"))
        options = page.locator(".option-card")
        assert options.count() == 3
        for n in range(3):
            text = options.nth(n).inner_text()
            for part in ("Stunden:", "Bedarfe:", "Wünsche:", "Termine:", "Entfernung:", "Freie Plätze:"):
                assert part in text, (n, part, text)
        chosen = options.filter(has=page.locator(".option-group-title", has_text=title)).first
        group = chosen.locator(".option-group", has_text=title)
        assert "Wunschgruppe" in group.inner_text() and "anderer Träger" in group.inner_text()
        assert "Freie Plätze: 6 von 6" in group.inner_text()
        j.shot("three-options")

        # --- 5. ... and confirms the option with the new group (shared use, variant A)
        assert chosen.locator("input[name=variant][value=A]").is_checked()
        chosen.get_by_role("button", name=re.compile(r"^Option \d bestätigen")).click()
        page.locator(".alert-success").get_by_text("Bestätigt:").wait_for()
        placed = page.locator("#belegungen-titel + ul li", has_text=title)
        assert "bestätigt, wartet auf Annahme" in placed.inner_text() and "Variante A" in placed.inner_text()
        j.shot("option-confirmed")

        # --- 6. the host's coordinator accepts ...
        j.as_user(host_coordinator)
        page.goto(f"{live_server}/belegung/offen")
        item = page.locator(".pending-item", has_text=pseudonym).filter(has_text=title)
        assert "trägerübergreifend, Variante A" in item.inner_text()
        j.shot("pending-for-host")
        item.get_by_role("button", name=re.compile("^Annehmen")).click()
        page.locator(".alert-success").get_by_text("angenommen").wait_for()
        page.goto(offer_url)
        assert page.locator(".seat-figures .big").inner_text().strip() == "5"

        # --- 7. ... and records today's session: the young person was there
        j.nav("Teilnahme")
        page.wait_for_url(re.compile(r"/buero/teilnahme"))
        page.wait_for_load_state("load")  # htmx is bound to the picker
        group_value = page.locator("#wahl-angebot option", has_text=title).get_attribute("value")
        if page.locator("#wahl-angebot").input_value() != group_value:  # the first group is preselected
            page.locator("#wahl-angebot").select_option(group_value)
            page.wait_for_url(re.compile(rf"angebot={group_value}$"))
        page.locator("#termin-titel", has_text=title).wait_for()
        assert f"{today:%d.%m.%Y}" in page.locator("#termin-titel").inner_text()
        row = page.locator(".attendance-row", has_text=pseudonym)
        row.get_by_label("anwesend").check()
        page.get_by_role("button", name="Teilnahme speichern").click()
        page.locator(".confirmation").wait_for()
        assert "gespeichert" in page.locator(".confirmation").inner_text()
        j.shot("attendance-recorded")

        # --- 8. planning starts a solver run and waits for its result
        j.as_user(PLANNER)
        j.nav("Solver-Läufe")
        page.get_by_role("button", name="Abgleich jetzt starten").click()
        page.wait_for_url(re.compile(r"/laeufe/\d+$"))
        j.shot("run-started")
        tiles = page.locator("ul.tiles")
        tiles.wait_for(timeout=120_000)  # the progress region polls and reloads the page when the run is done
        lead = page.locator(".page-head .lead").inner_text()
        assert lead.startswith("Status: fertig"), lead
        placed_kpi = tiles.locator(".tile", has_text="Versorgte junge Menschen").locator(".tile-value").inner_text()
        served, total = (int(x) for x in re.findall(r"\d+", placed_kpi))
        assert 1 <= served <= total
        assert "übernommen" in tiles.locator(".tile", has_text="Änderungen").inner_text()
        j.shot("run-done")

        page.goto(offer_url)  # the accepted placement is pinned: the run left it where it was
        assert page.locator(".seat-figures .big").inner_text().strip() == "5"

        # --- 9. planning books this month's offset statement from the attendance and reads it ...
        j.nav("Verrechnung")
        page.get_by_role("button", name="Aus Anwesenheit neu buchen").click()
        page.locator(".alert-success").get_by_text(f"Buchungen für {month_key(today)}").wait_for()
        pair = page.locator("#abrechnung details", has=page.locator("summary", has_text=f"{LEAD} an {HOST}"))
        if pair.get_attribute("open") is None:  # more than three pairs start folded
            pair.locator("summary").click()
        line = pair.locator("tr", has_text=pseudonym)
        line.wait_for()
        cells = [c.strip() for c in line.locator("td").all_inner_texts()]
        assert cells[1:4] == [title, "A", f"{today:%d.%m.%Y}"], cells
        assert cells[4] == "120" and cells[5].startswith(RATE) and cells[6].startswith("42,00"), cells
        pair_total = re.search(r": ([\d.]+,\d\d)\s€", pair.locator("summary").inner_text()).group(1)
        line.scroll_into_view_if_needed()
        j.shot("offset-statement")

        # --- 10. ... and the reports: the overview and the cross-provider use, where the pair appears
        j.nav("Berichte")
        j.shot("reports")
        page.get_by_role("link", name="Trägerübergreifende Nutzung").click()
        page.get_by_role("heading", name="Trägerübergreifende Nutzung", exact=True).wait_for()
        rows = page.locator("table", has_text="Gastgebender Träger").locator("tbody tr")
        pairs = [[c.strip() for c in rows.nth(n).locator("td, th").all_inner_texts()] for n in range(rows.count())]
        (ours,) = [cells for cells in pairs if cells[0].startswith(HOST) and cells[1].startswith(LEAD)]
        assert ours[-1].replace("\xa0", " ") == f"{pair_total} €", (ours, pair_total)  # the same as the statement
        j.shot("report-cross-provider")
        assert problems == [], problems
    except Exception:
        page.screenshot(path=str(artifacts / "journey-failed.png"), full_page=True)
        raise
    finally:
        context.close()
