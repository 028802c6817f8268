"""The reports area over HTTP: planners only, filters that never fail, htmx fragments, exports, sign-off."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from marketplace.models import Attendance, AuditEvent, Role
from tests.factories import make_user
from tests.web.conftest import login, page_token

from .district import TODAY, District

PAGES = ["/berichte/", "/berichte/auslastung", "/berichte/bedarf", "/berichte/modulstunden",
         "/berichte/traegeruebergreifend", "/berichte/abnahme"]
EXPORTS = [f"/berichte/{key}/export.{fmt}" for key in ("auslastung", "bedarf", "modulstunden",
                                                        "traegeruebergreifend") for fmt in ("csv", "xlsx", "pdf")]


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr("marketplace.web.reports.today_berlin", lambda: TODAY)


@pytest.fixture
def planner_client(client, district: District):
    return login(client, district.planner)


def _routes(app) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("reports."):
            continue
        values = {name: sorted(conv.items)[0] for name, conv in rule._converters.items()}
        url = rule.build(values, append_unknown=False)[1]
        out += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def test_every_route_is_for_planners_only(app, client, session, district: District):
    routes = _routes(app)
    assert len(routes) >= 8
    for role in (Role.coordinator, Role.caseworker, Role.admin):
        user = make_user(session, role)
        session.commit()
        other = app.test_client()
        login(other, user)
        token = page_token(other)
        for method, url in routes:
            response = other.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 403, (role, method, url, response.status_code)
    planner = login(client, district.planner)
    for method, url in routes:
        if method == "GET":
            assert planner.get(url).status_code == 200, url


def test_planner_sees_the_report_link_in_the_navigation(planner_client):
    page = planner_client.get("/berichte/").get_data(as_text=True)
    assert 'href="/berichte/"' in page and "Berichte" in page
    for url in PAGES[1:5]:
        assert f'href="{url}"' in page


@pytest.mark.parametrize("query", [
    "von=2026-13", "bis=abc", "from=2026-13&to=2026-00", "von=2030-01", "von=1900-01&bis=2026-03",
    "von=2026-03&bis=2026-01", "sozialraum=999999", "traeger=-1", "kategorie=1e9", "nach=%3Cscript%3E",
    "sozialraum=" + "9" * 400, "von=" + "x" * 5000, "traeger=1&traeger=abc", "sozialraum=%C2%B2",
    "kategorie=%D9%A3", "von=%D9%A2%D9%A0%D9%A2%D9%A6-01",
])
def test_bad_filters_never_fail(planner_client, query):
    for url in PAGES[1:5]:
        response = planner_client.get(f"{url}?{query}")
        assert response.status_code == 200, (url, query)
    for url in EXPORTS[::3]:
        assert planner_client.get(f"{url}?{query}").status_code in (200, 422), (url, query)


@pytest.mark.parametrize("query", ["von=%00", "bis=2026-01%00", "nach=%1B", "kategorie%00=1"])
def test_control_characters_in_filters_are_refused_in_german(planner_client, query):
    for url in PAGES[1:5] + EXPORTS[::3]:
        response = planner_client.get(f"{url}?{query}")
        assert response.status_code == 400, (url, query)
        assert "unzulässige Steuerzeichen" in response.get_data(as_text=True)


def test_bad_month_is_reported_in_german_and_ignored(planner_client):
    page = planner_client.get("/berichte/auslastung?von=2026-13").get_data(as_text=True)
    assert "„2026-13“ ist kein gültiger Monat für „von“" in page
    assert 'value="2025-04"' in page  # the default period: the twelve months up to today's
    export = planner_client.get("/berichte/auslastung/export.csv?von=2026-13")
    assert export.status_code == 422 and "kein gültiger Monat" in export.get_data(as_text=True)


def test_htmx_gets_the_report_body_only(planner_client):
    response = planner_client.get("/berichte/auslastung?nach=monat&von=2026-01&bis=2026-03",
                                  headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and "<svg" in html
    assert "HX-Request" in response.headers.get("Vary", "")
    full = planner_client.get("/berichte/auslastung?nach=monat&von=2026-01&bis=2026-03").get_data(as_text=True)
    assert 'hx-push-url="true"' in full and 'id="bericht"' in full


def test_pages_show_charts_with_their_tables(planner_client):
    html = planner_client.get("/berichte/auslastung?von=2026-01&bis=2026-03&nach=gruppe").get_data(as_text=True)
    assert html.count('role="img"') >= 2 and "<desc" in html and "Sport Nord" in html
    assert "style=" not in html.split("<main", 1)[1]  # CSP: no inline styles in the report
    demand = planner_client.get("/berichte/bedarf").get_data(as_text=True)
    assert "map-demand-town" in demand and "Angebot und Bedarf je Gemeinde" in demand
    assert "Medien Süd" in demand  # below minimum size


def test_exports_in_three_formats(planner_client, session):
    query = "von=2026-01&bis=2026-03&nach=monat"
    csv = planner_client.get(f"/berichte/auslastung/export.csv?{query}")
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert 'filename="bericht-auslastung-2026-01-bis-2026-03.csv"' in csv.headers["Content-Disposition"]
    text = csv.get_data().decode("utf-8-sig")
    assert "Auslastung nach Monat" in text and "Teilnahmequote (%)" in text and "Zeitraum: Jan. 2026" in text
    xlsx = planner_client.get(f"/berichte/traegeruebergreifend/export.xlsx?{query}")
    book = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True)
    assert book.sheetnames[0] == "Bericht" and "Verrechnung je Trägerpaar" in book.sheetnames
    rows = list(book["Verrechnung je Trägerpaar"].iter_rows(values_only=True))
    total = next(r for r in rows if r[0] == "Gesamt")
    assert rows[0][-1] == "Verrechnung (EUR)" and float(total[-1]) == 187.5 and rows[-1][0].startswith("Aus dem")
    book.close()
    pdf = planner_client.get(f"/berichte/modulstunden/export.pdf?{query}")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.get_data().startswith(b"%PDF")
    events = session.exec(select(AuditEvent).where(AuditEvent.object_type == "report")).all()
    assert sorted(e.object_id for e in events) == ["auslastung", "modulstunden", "traegeruebergreifend"]


def test_exports_neutralise_formulas(planner_client, session, district: District):
    district.g1.title = "=HYPERLINK(\"http://x\")"
    session.add(district.g1)
    session.commit()
    text = planner_client.get("/berichte/auslastung/export.csv?nach=gruppe&von=2026-01&bis=2026-03") \
        .get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text


def test_sign_off_in_the_browser_and_change_flag(planner_client, session, district: District):
    token = page_token(planner_client, "/berichte/abnahme")
    response = planner_client.post("/berichte/abnahme", data={"csrf_token": token, "monat": "2026-01",
                                                              "kommentar": "Zahlen geprüft"})
    assert response.status_code == 302
    page = planner_client.get("/berichte/abnahme").get_data(as_text=True)
    assert "Zahlen geprüft" in page and "unverändert" in page
    row = session.exec(select(Attendance).where(Attendance.session_date == date(2026, 1, 19),
                                                Attendance.status == "absent")).one()
    row.status = "present"
    session.commit()
    report = planner_client.get("/berichte/auslastung?von=2026-01&bis=2026-03").get_data(as_text=True)
    assert "Geändert seit der Abnahme" in report and "Jan. 2026 (Auslastung)" in report
    assert "geändert: Auslastung, Modulstunden" in planner_client.get("/berichte/abnahme").get_data(as_text=True)


def test_sign_off_errors_are_german_422(planner_client):
    token = page_token(planner_client, "/berichte/abnahme")
    current = planner_client.post("/berichte/abnahme", data={"csrf_token": token, "monat": "2026-03"})
    assert current.status_code == 422 and "Nur abgelaufene Monate" in current.get_data(as_text=True)
    bad = planner_client.post("/berichte/abnahme", data={"csrf_token": token, "monat": "2026-01",
                                                         "kommentar": "x" * 2001})
    assert bad.status_code == 422 and "höchstens 2000 Zeichen" in bad.get_data(as_text=True)
    assert planner_client.post("/berichte/abnahme", data={"monat": "2026-01"}).status_code == 400  # no CSRF token


def test_filters_accept_ascii_digits_only():
    from marketplace.reports.filters import parse_filters

    filters, notices = parse_filters({"von": "٢٠٢٦-01", "sozialraum": "²"}, today=TODAY)
    assert filters.first_month == "2025-04" and filters.sozialraum_id is None and len(notices) == 2
