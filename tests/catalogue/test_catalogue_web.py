"""The catalogue pages: every role, htmx fragments, bad query parameters, the map."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from marketplace.models import Role
from tests.factories import make_municipality, make_offer, make_provider, make_user
from tests.web.conftest import login


def log_in(client, session, role: Role, **overrides):
    user = make_user(session, role, **overrides)
    session.commit()
    return login(client, user)


@pytest.fixture
def district(session):
    dieburg = make_municipality(session, name="Dieburg", lat=49.8989, lon=8.8403)
    pfungstadt = make_municipality(session, name="Pfungstadt", lat=49.8056, lon=8.6036)
    own, other = make_provider(session, name="Eigener Träger e.V."), make_provider(session, name="Anderer Träger")
    make_offer(session, provider=other, municipality=dieburg, title="Fußball & Freunde", seats=10, min_size=3,
               seats_taken=4, description="<b>fett</b>")
    make_offer(session, provider=other, municipality=pfungstadt, title="Lernwerkstatt", age_min=8, age_max=11)
    make_offer(session, provider=own, municipality=pfungstadt, title="Eigener Entwurf", status="draft",
               certified_until=None)
    make_offer(session, provider=other, municipality=pfungstadt, title="Fremder Entwurf", status="draft",
               certified_until=None)
    session.commit()
    return {"dieburg": dieburg, "pfungstadt": pfungstadt, "own": own, "other": other}


@pytest.mark.parametrize("role", list(Role))
def test_every_role_sees_the_list_and_the_map(client, session, district, role):
    extra = {"provider_id": district["own"].id} if role is Role.coordinator else {}
    log_in(client, session, role, **extra)
    page = client.get("/katalog/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Fußball &amp; Freunde" in html and "Lernwerkstatt" in html
    assert "Fremder Entwurf" not in html
    assert ("Eigener Entwurf" in html) is (role is Role.coordinator)
    assert "<b>fett</b>" not in html  # escaped
    assert 'href="/katalog/"' in html  # the navigation points to the catalogue
    karte = client.get("/katalog/karte")
    assert karte.status_code == 200
    assert "<svg" in karte.get_data(as_text=True)


def test_htmx_request_gets_only_the_results(client, session, district):
    log_in(client, session, Role.caseworker)
    response = client.get("/katalog/?alter=9", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'class="filters' not in html
    assert "Lernwerkstatt" in html and "Fußball" not in html
    assert "HX-Request" in response.headers["Vary"]
    full = client.get("/katalog/?alter=9").get_data(as_text=True)
    assert "<html" in full and 'hx-push-url="true"' in full
    assert 'value="9"' in full  # the form keeps what was asked


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("alter=-3", "alter", "Alter zwischen 0 und 27"),
        ("alter=abc", "alter", "Alter zwischen 0 und 27"),
        ("wochentag=9", "wochentag", "Wochentag"),
        ("von=25:99", "von", "Uhrzeit"),
        ("von=16:00&bis=15:00", "bis", "nach dem Beginn"),
        ("kategorie=x", "kategorie", "Liste"),
        ("gemeinde=99999999999999999999", "gemeinde", "Liste"),
        ("umkreis=5", "umkreis", "Bezugsort"),
        ("bezugsort=1&umkreis=0", "umkreis", "zwischen 1 und 200"),
        ("sortierung=evil", "sortierung", "Sortierung"),
        ("q=" + "x" * 101, "q", "höchstens 100 Zeichen"),
    ],
)
def test_bad_query_parameters_give_a_german_message_at_the_field_and_400(client, session, district, query,
                                                                         field, message):
    log_in(client, session, Role.caseworker)
    for url in (f"/katalog/?{query}", f"/katalog/karte?{query}"):
        response = client.get(url)
        assert response.status_code == 400, url
        html = response.get_data(as_text=True)
        assert message in html
        assert f'id="filter-{field}-fehler"' in html
        assert 'aria-invalid="true"' in html
    fragment = client.get(f"/katalog/?{query}", headers={"HX-Request": "true"})
    assert fragment.status_code == 400 and message in fragment.get_data(as_text=True)


@pytest.mark.parametrize("query", ["seite=abc", "seite=-5", "seite=999999999999999999999", "frei=vielleicht",
                                   "status=draft", "q=%27%22<>", "bezugsort=424242", "gemeinde=424242"])
def test_odd_but_harmless_parameters_never_fail(client, session, district, query):
    log_in(client, session, Role.caseworker)
    for url in (f"/katalog/?{query}", f"/katalog/karte?{query}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Fremder Entwurf" not in response.get_data(as_text=True)


def test_pagination_links_keep_the_filters(client, session, district):
    for n in range(25):
        make_offer(session, municipality=district["dieburg"], title=f"Serie {n:02d}")
    session.commit()
    log_in(client, session, Role.caseworker)
    html = client.get("/katalog/?q=Serie&sortierung=title").get_data(as_text=True)
    assert "25 Angebote, 1–20 angezeigt" in html
    assert "Seite 1 von 2" in html
    assert "/katalog/?q=Serie&amp;sortierung=title&amp;seite=2" in html
    second = client.get("/katalog/?q=Serie&sortierung=title&seite=2").get_data(as_text=True)
    assert "Serie 24" in second and "Serie 00" not in second


def test_planner_can_filter_by_status_and_distance_is_shown(client, session, district):
    log_in(client, session, Role.planner)
    html = client.get("/katalog/?status=draft").get_data(as_text=True)
    assert "Eigener Entwurf" in html and "Fremder Entwurf" in html and "Lernwerkstatt" not in html
    near = client.get(f"/katalog/?bezugsort={district['dieburg'].id}&umkreis=10").get_data(as_text=True)
    assert "Fußball &amp; Freunde" in near and "Lernwerkstatt" not in near
    assert "0,0\u00a0km" in near or "0,0&nbsp;km" in near


def test_map_markers_link_to_the_offer_and_carry_titles(app, client, session, district):
    log_in(client, session, Role.caseworker)
    html = client.get("/katalog/karte?alter=12").get_data(as_text=True)
    start = html.index('class="district-map"')
    start = html.rindex("<svg", 0, start)
    svg = html[start: html.index("</svg>", start) + 6]
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    links = root.findall(f".//{ns}a")
    assert len(links) == 1
    assert links[0].find(f"{ns}title").text == "Fußball & Freunde (Dieburg): 6 von 10 Plätzen frei"
    href = links[0].get("href")
    if "offers.detail" in app.view_functions:  # the offer page of the offers area
        assert href.startswith("/angebote/")
        assert f'href="{href}"' in html  # the text alternative links there too
    else:  # without it: the entry in the text alternative below the map
        assert href.startswith("#angebot-") and f'id="{href[1:]}"' in html
    names = {t.text for t in root.iter(f"{ns}text")}
    assert {"Dieburg", "Pfungstadt"} <= names
