"""The office pages: attendance screen, monthly overview, exports, import upload; access on every route."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlmodel import func, select

from marketplace.models import Attendance, AttendanceCorrection, GroupOffer, Municipality, Role
from tests.factories import make_category, make_user
from tests.web.conftest import login, page_token

from .conftest import MONDAY

OFFICE_GETS = [
    "/buero/teilnahme?angebot={offer}",
    "/buero/teilnahme?angebot={offer}&termin={termin}",
    "/buero/teilnahme/monat?angebot={offer}&monat=2025-03",
    "/buero/teilnahme/monat/export?angebot={offer}&monat=2025-03&format=csv",
    "/buero/teilnahme/monat/export?angebot={offer}&monat=2025-03&format=xlsx",
]


def termin(group, day: date = MONDAY, index: int = 0) -> str:
    return f"{day.isoformat()}_{group['offer'].sessions[index].id}"


def urls(group, offer: GroupOffer) -> list[str]:
    return [u.format(offer=offer.id, termin=f"{MONDAY.isoformat()}_{offer.sessions[0].id}") for u in OFFICE_GETS]


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch):
    """The group's dates are in March 2025: let "today" be 31 March 2025 for the views."""
    monkeypatch.setattr("marketplace.web.office.today_berlin", lambda: date(2025, 3, 31))
    monkeypatch.setattr("marketplace.attendance.today_berlin", lambda: date(2025, 3, 31))


def post_marks(client, group, marks: dict[str, str], *, day: date = MONDAY, htmx: bool = False, **extra):
    token = page_token(client, f"/buero/teilnahme?angebot={group['offer'].id}&termin={termin(group, day)}")
    data = {"csrf_token": token, "angebot": group["offer"].id, "termin": termin(group, day), **extra}
    data.update({f"mark-{group['members'][name].id}": status for name, status in marks.items()})
    headers = {"HX-Request": "true", "X-CSRFToken": token} if htmx else {}
    return client.post("/buero/teilnahme", data=data, headers=headers)


def test_attendance_screen_lists_members_as_radio_groups(client, group, as_coordinator):
    response = client.get(f"/buero/teilnahme?angebot={group['offer'].id}&termin={termin(group)}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Soziale Gruppe Dieburg: Montag, 03.03.2025, 15:00–17:00" in html
    for name in ("JM-A", "JM-B", "JM-WEG"):
        assert f"<legend>{name}" in html
    assert "JM-NEU" not in html and "JM-ABGELEHNT" not in html
    assert html.count('type="radio"') == 9
    assert "Fremde Gruppe" not in html  # the picker lists only own groups


def test_default_group_and_latest_date(client, group, as_coordinator):
    html = client.get("/buero/teilnahme").get_data(as_text=True)
    assert "Montag, 31.03.2025" in html  # the latest session date up to "today"


def test_save_without_htmx_redirects_with_confirmation(client, session, group, as_coordinator):
    response = post_marks(client, group, {"JM-A": "present", "JM-B": "absent"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Teilnahme am Mo, 03.03.2025 (15:00–17:00) gespeichert: 1 anwesend, 1 abwesend." in page
    assert session.exec(select(func.count()).select_from(Attendance)).one() == 2
    assert 'value="present" checked' in page  # the saved marks are shown


def test_save_with_htmx_returns_the_form_with_confirmation_and_keeps_corrections(client, session, group,
                                                                                   as_coordinator):
    post_marks(client, group, {"JM-A": "absent"}, htmx=True)
    response = post_marks(client, group, {"JM-A": "excused"}, htmx=True, grund="Attest")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="teilnahme-formular"')
    assert 'role="status"' in html and "1 Korrektur protokolliert" in html
    assert "JM-A abwesend → entschuldigt" in html and "Attest" in html
    correction = session.exec(select(AttendanceCorrection)).one()
    assert (correction.old_status, correction.new_status) == ("absent", "excused")


def test_bad_marks_give_422_with_german_messages_and_write_nothing(client, session, group, as_coordinator):
    response = post_marks(client, group, {"JM-A": "present", "JM-B": "vielleicht"}, htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nicht gespeichert" in html and "JM-B: Bitte wählen Sie anwesend, abwesend oder entschuldigt." in html
    response = post_marks(client, group, {"JM-NEU": "present"})  # joined later
    assert response.status_code == 422 and "gehört am 03.03.2025 nicht zu dieser Gruppe" in response.get_data(
        as_text=True)
    token = page_token(client, "/buero/teilnahme")
    response = client.post("/buero/teilnahme", data={"csrf_token": token, "angebot": group["offer"].id,
                                                     "termin": termin(group), "mark-abc": "present"})
    assert response.status_code == 422
    assert session.exec(select(func.count()).select_from(Attendance)).one() == 0


@pytest.mark.parametrize("query, status, message", [
    ("angebot=abc", 400, "Bitte wählen Sie eine Gruppe"),
    ("angebot=99999", 404, "Seite nicht gefunden"),
    ("angebot=-1", 404, "Seite nicht gefunden"),
    ("angebot={offer}&termin=kaputt", 400, "Bitte wählen Sie einen Termin"),
    ("angebot={offer}&termin=2025-03-04_{session}", 400, "findet kein Termin dieser Gruppe statt"),
    ("angebot={offer}&termin=2025-04-07_{session}", 400, "erst am Tag des Termins"),
    ("angebot={offer}&termin=2025-02-30_{session}", 400, "Bitte wählen Sie einen Termin"),
])
def test_bad_attendance_parameters_never_fail(client, group, as_coordinator, query, status, message):
    url = "/buero/teilnahme?" + query.format(offer=group["offer"].id, session=group["offer"].sessions[0].id)
    response = client.get(url)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("query, status", [
    ("angebot=abc&monat=2025-03&format=csv", 400), ("angebot={offer}&monat=2025-13&format=csv", 400),
    ("angebot={offer}&monat=2025-03&format=pdf", 400), ("angebot={offer}&monat=2025-03", 400),
    ("angebot=99999&monat=2025-03&format=csv", 404),
])
def test_bad_export_parameters_never_fail(client, group, as_coordinator, query, status):
    response = client.get("/buero/teilnahme/monat/export?" + query.format(offer=group["offer"].id))
    assert response.status_code == status


def test_month_page(client, session, group, as_coordinator):
    post_marks(client, group, {"JM-A": "present", "JM-B": "excused"})
    html = client.get(f"/buero/teilnahme/monat?angebot={group['offer'].id}&monat=2025-03").get_data(as_text=True)
    assert "Soziale Gruppe Dieburg · März 2025" in html
    assert '<span title="anwesend">A</span>' in html and '<span title="entschuldigt">E</span>' in html
    assert "format=xlsx" in html and "monat=2025-02" in html and "monat=2025-04" in html
    bad = client.get(f"/buero/teilnahme/monat?angebot={group['offer'].id}&monat=März")
    assert bad.status_code == 400 and "JJJJ-MM" in bad.get_data(as_text=True)


def test_foreign_groups_are_denied_on_every_route(client, session, group, as_coordinator):
    foreign = group["foreign_offer"]
    for url in urls(group, foreign):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "anderen Träger" in response.get_data(as_text=True)
    token = page_token(client, "/buero/teilnahme")
    response = client.post("/buero/teilnahme", data={"csrf_token": token, "angebot": foreign.id,
                                                     "termin": f"{MONDAY.isoformat()}_{foreign.sessions[0].id}"})
    assert response.status_code == 403
    assert session.exec(select(func.count()).select_from(Attendance)).one() == 0


@pytest.mark.parametrize("role", [Role.caseworker, Role.planner, Role.admin])
def test_other_roles_are_denied_attendance_and_import(client, session, group, role):
    user = make_user(session, role)
    session.commit()
    login(client, user)
    for url in urls(group, group["offer"]) + ["/buero/angebote/import", "/buero/angebote/vorlage?format=csv"]:
        assert client.get(url).status_code == 403, url
    token = page_token(client, "/")
    assert client.post("/buero/teilnahme", data={"csrf_token": token}).status_code == 403
    assert client.post("/buero/angebote/import", data={"csrf_token": token}).status_code == 403


def test_offer_export_for_coordinators_and_planners_only(client, session, group):
    login(client, group["coordinator"])
    response = client.get("/buero/angebote/export?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    assert "Soziale Gruppe Dieburg" in text and "Fremde Gruppe" not in text
    assert client.get("/buero/angebote/export?format=doc").status_code == 400
    client.post("/logout", data={"csrf_token": page_token(client)})
    planner = make_user(session, Role.planner)
    session.commit()
    login(client, planner)
    text = client.get("/buero/angebote/export?format=csv").get_data().decode("utf-8-sig")
    assert "Soziale Gruppe Dieburg" in text and "Fremde Gruppe" in text
    assert client.get("/buero/angebote/export?format=xlsx").data.startswith(b"PK")
    client.post("/logout", data={"csrf_token": page_token(client)})
    caseworker = make_user(session, Role.caseworker)
    session.commit()
    login(client, caseworker)
    assert client.get("/buero/angebote/export?format=csv").status_code == 403


def upload(client, data: bytes, filename: str):
    token = page_token(client, "/buero/angebote/import")
    return client.post("/buero/angebote/import", data={"csrf_token": token, "datei": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_import_page_documents_the_columns_and_imports(client, session, group, as_coordinator):
    make_category(session, "sports", label="Sport und Bewegung")
    session.commit()
    page = client.get("/buero/angebote/import").get_data(as_text=True)
    for header in ("Titel", "Kategorien", "Termine", "Plätze", "Verrechnungssatz (€/Std.)"):
        assert f"<th scope=\"row\">{header}</th>" in page
    assert "Mo 15:00-17:00; Do 16:00-17:30" in page
    csv_data = ("Titel;Kategorien;Alter von;Alter bis;Termine;Erster Termin;Gemeinde;Plätze\n"
                f"Neu importiert;Sport und Bewegung;10;14;Mo 15:00-17:00;01.09.2025;"
                f"{_municipality_name(session, group)};8\n").encode()
    response = upload(client, csv_data, "neu.csv")
    assert response.status_code == 302
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 Angebot als Entwurf importiert" in follow
    offer = session.exec(select(GroupOffer).where(GroupOffer.title == "Neu importiert")).one()
    assert (offer.status, offer.provider_id) == ("draft", group["provider"].id)


def _municipality_name(session, group) -> str:
    return session.get(Municipality, group["offer"].municipality_id).name


def test_import_errors_are_listed_with_422_and_nothing_is_written(client, session, group, as_coordinator):
    before = session.exec(select(func.count()).select_from(GroupOffer)).one()
    data = ("Titel;Kategorien;Alter von;Alter bis;Termine;Erster Termin;Gemeinde;Plätze\n"
            "A;unbekannt;10;14;Mo 15:00-17:00;01.09.2025;Nirgendwo;0\n").encode()
    response = upload(client, data, "fehler.csv")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "es wurde nichts gespeichert" in html
    assert "Zeile 2, Spalte &#39;Plätze&#39;: muss eine ganze Zahl ≥ 1 sein" in html
    assert "Zeile 2, Spalte &#39;Gemeinde&#39;" in html
    assert session.exec(select(func.count()).select_from(GroupOffer)).one() == before


@pytest.mark.parametrize("filename, data, status, message", [
    ("bild.png", b"\x89PNG", 415, "Dieser Dateityp wird nicht unterstützt"),
    ("alt.xls", b"\xd0\xcf\x11\xe0", 415, "Dieser Dateityp wird nicht unterstützt"),
    ("kaputt.xlsx", b"PK\x03\x04kaputt", 422, "Excel-Datei konnte nicht gelesen werden"),
    ("leer.csv", b"", 422, "Die Datei ist leer"),
])
def test_bad_files_get_a_german_4xx(client, group, as_coordinator, filename, data, status, message):
    response = upload(client, data, filename)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_missing_and_oversized_uploads(client, group, as_coordinator, monkeypatch):
    token = page_token(client, "/buero/angebote/import")
    response = client.post("/buero/angebote/import", data={"csrf_token": token})
    assert response.status_code == 400 and "Bitte wählen Sie eine Datei aus." in response.get_data(as_text=True)
    # a small limit: the test client spools big bodies to temporary files it never closes
    monkeypatch.setattr("marketplace.offer_io.MAX_UPLOAD_BYTES", 1000)
    big = upload(client, b"x" * 1001, "gross.csv")
    assert big.status_code == 413 and "zu groß" in big.get_data(as_text=True)


def test_import_template_downloads(client, group, as_coordinator):
    response = client.get("/buero/angebote/vorlage?format=csv")
    assert response.status_code == 200
    assert response.get_data().decode("utf-8-sig").startswith("Titel;Beschreibung;Kategorien")
    assert client.get("/buero/angebote/vorlage?format=xlsx").data.startswith(b"PK")
