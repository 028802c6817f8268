"""Offer import and export: round trip, row errors, all-or-nothing, formula injection, bad files."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import func, select

from marketplace import offer_io
from marketplace.models import GroupOffer, OfferStatusEvent, Role
from marketplace.spreadsheets import neutralise, unneutralise
from tests.factories import make_category, make_municipality, make_offer, make_provider, make_user

HEADER = ["Titel", "Kategorien", "Alter von", "Alter bis", "Termine", "Erster Termin", "Gemeinde", "Plätze"]


@pytest.fixture
def setup(session):
    town = make_municipality(session, name="Dieburg", ags="06432004", lat=49.8989, lon=8.8403)
    make_municipality(session, name="Pfungstadt", lat=49.8056, lon=8.6036)
    make_category(session, "social_skills", label="Soziale Kompetenzen")
    make_category(session, "sports", label="Sport und Bewegung")
    provider = make_provider(session, name="Jugendhilfe Mitte e.V.")
    coordinator = make_user(session, Role.coordinator, provider_id=provider.id)
    session.commit()
    return {"town": town, "provider": provider, "coordinator": coordinator}


def csv_file(rows: list[list[str]], delimiter: str = ";") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def count_offers(session) -> int:
    return session.exec(select(func.count()).select_from(GroupOffer)).one()


def do_import(session, setup, data: bytes, filename: str = "angebote.csv"):
    return offer_io.import_offers(session, actor=setup["coordinator"], filename=filename, data=data)


def test_import_creates_drafts_of_the_own_provider(session, setup):
    data = csv_file([HEADER + ["Geschlecht", "Verrechnungssatz (€/Std.)", "Einstieg", "Multiprofessionell"],
                     ["Mädchentreff", "Soziale Kompetenzen; sports", "12", "16", "Mo 15:00-17:00; Do 16:00-17:30",
                      "01.09.2025", "Dieburg", "8", "w, d", "18,50", "geschlossen", "ja"]])
    [offer] = do_import(session, setup, data)
    assert (offer.status, offer.provider_id, offer.created_by) == ("draft", setup["provider"].id,
                                                                   setup["coordinator"].id)
    assert (offer.title, offer.age_min, offer.age_max, offer.seats, offer.min_size) == ("Mädchentreff", 12, 16, 8, 1)
    assert (offer.genders, offer.offset_rate_cents, offer.entry_mode, offer.multi_professional) == (
        "f,d", 1850, "closed", True)
    assert offer.first_date == date(2025, 9, 1) and offer.municipality_id == setup["town"].id
    assert sorted(c.code for c in offer.categories) == ["social_skills", "sports"]
    assert [(s.weekday, s.start_minute, s.end_minute) for s in offer.sessions] == [(0, 900, 1020), (3, 960, 1050)]
    event = session.exec(select(OfferStatusEvent).where(OfferStatusEvent.offer_id == offer.id)).one()
    assert (event.to_status, event.reason) == ("draft", "Importiert (angebote.csv, Zeile 2)")


def test_round_trip_export_then_import_gives_the_same_offers(session, setup):
    other = make_municipality(session, name="Groß-Umstadt", lat=49.8686, lon=8.9317)
    make_offer(session, provider=setup["provider"], municipality=setup["town"], title="=HYPERLINK(\"x\")",
               description="Zeile 1\nZeile 2; mit \"Zitat\"", categories=("social_skills", "sports"),
               sessions=((0, 900, 1020), (3, 960, 1050)), genders="f,d", seats=12, min_size=4,
               offset_rate_cents=1850, entry_mode="closed", staff_mix="Pädagogin + Trainer",
               multi_professional=True, address="Marktplatz 1", lat=49.9, lon=8.85, last_date=None)
    make_offer(session, provider=setup["provider"], municipality=other, title="Lernhilfe", seats_taken=2)
    make_offer(session, title="Anderer Träger")  # not exported for this coordinator
    session.commit()
    fields = ("title", "description", "age_min", "age_max", "genders", "first_date", "last_date",
              "municipality_id", "address", "lat", "lon", "seats", "min_size", "entry_mode", "staff_mix",
              "multi_professional", "offset_rate_cents")

    def snapshot(offers):
        return sorted((tuple(getattr(o, f) for f in fields), tuple(sorted(c.code for c in o.categories)),
                       tuple((s.weekday, s.start_minute, s.end_minute) for s in o.sessions)) for o in offers)

    originals = snapshot(session.exec(select(GroupOffer).where(GroupOffer.provider_id == setup["provider"].id)))
    exports = {fmt: offer_io.export_offers(session, user=setup["coordinator"], fmt=fmt) for fmt in ("csv", "xlsx")}
    for fmt, data in exports.items():
        created = do_import(session, setup, data, f"export.{fmt}")
        assert len(created) == 2
        assert snapshot(created) == originals, fmt
        assert all(o.status == "draft" and o.seats_taken == 0 for o in created)


def test_export_rows_encode_sessions_categories_and_neutralise_formulas(session, setup):
    make_offer(session, provider=setup["provider"], municipality=setup["town"], title="=1+2",
               description="@SUM(A1)", staff_mix="-Team", categories=("sports", "social_skills"),
               sessions=((3, 960, 1050), (0, 900, 1020)))
    session.commit()
    text = offer_io.export_offers(session, user=setup["coordinator"], fmt="csv").decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text), delimiter=";"))
    values = dict(zip(header, row, strict=True))
    assert values["Termine"] == "Mo 15:00-17:00; Do 16:00-17:30"
    assert values["Kategorien"] == "Soziale Kompetenzen; Sport und Bewegung"
    assert values["Titel"] == "'=1+2" and values["Beschreibung"] == "'@SUM(A1)" and values["Personal"] == "'-Team"
    assert values["Träger"] == "Jugendhilfe Mitte e.V." and values["Status"] == "Veröffentlicht"
    assert values["Verrechnungssatz (€/Std.)"] == "20,00"
    workbook = load_workbook(io.BytesIO(offer_io.export_offers(session, user=setup["coordinator"], fmt="xlsx")))
    sheet = workbook.active
    cells = {sheet.cell(1, c).value: sheet.cell(2, c) for c in range(1, sheet.max_column + 1)}
    assert cells["Titel"].value == "'=1+2" and cells["Titel"].data_type == "s"  # text, never a formula
    assert cells["Beschreibung"].value == "'@SUM(A1)"
    assert cells["Plätze"].value == 8 and cells["Erster Termin"].is_date


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+1", "-1", "@A1", "\tx", "\rx"])
def test_neutralise_and_undo(value):
    assert neutralise(value).startswith("'")
    assert unneutralise(neutralise(value)) == value
    assert neutralise("Fußball") == "Fußball" and unneutralise("'normal") == "'normal"


def test_planners_export_every_provider_and_others_may_not(session, setup):
    make_offer(session, provider=setup["provider"], title="Eigenes")
    make_offer(session, title="Fremdes")
    session.commit()
    planner_rows = offer_io.export_table(session, user=make_user(session, Role.planner))[1]
    assert {r[3] for r in planner_rows} == {"Eigenes", "Fremdes"}
    assert {r[3] for r in offer_io.export_table(session, user=setup["coordinator"])[1]} == {"Eigenes"}
    for role in (Role.caseworker, Role.admin):
        with pytest.raises(PermissionError):
            offer_io.export_table(session, user=make_user(session, role))


def test_every_row_error_is_reported_with_row_and_column_and_nothing_is_written(session, setup):
    rows = [
        HEADER + ["Mindestgröße", "Verrechnungssatz (€/Std.)", "Breitengrad", "Längengrad"],
        ["Gut", "Sport und Bewegung", "10", "14", "Mo 15:00-17:00", "01.09.2025", "Dieburg", "8", "", "", "", ""],
        ["", "Sport und Bewegung", "10", "14", "Mo 15:00-17:00", "01.09.2025", "Dieburg", "0", "", "", "", ""],
        ["Alter", "Kochen", "16", "12", "Montags 3 Uhr", "31.02.2025", "Atlantis", "acht", "", "-5", "", ""],
        ["Gut 2", "Sport und Bewegung", "10", "14", "Di 15:10-17:00", "01.09.2025", "Dieburg", "8", "9", "", "52,5",
         "8,8"],
    ]
    with pytest.raises(offer_io.OfferImportError) as problem:
        do_import(session, setup, csv_file(rows))
    messages = [str(e) for e in problem.value.errors]
    expected = [
        "Zeile 3, Spalte 'Titel': darf nicht leer sein",
        "Zeile 3, Spalte 'Plätze': muss eine ganze Zahl ≥ 1 sein",
        "Zeile 4, Spalte 'Alter bis': Das Höchstalter darf nicht unter dem Mindestalter liegen.",
        "Zeile 4, Spalte 'Plätze': muss eine ganze Zahl ≥ 1 sein",
        "Zeile 4, Spalte 'Erster Termin': muss ein Datum wie 05.03.2025 sein",
        "Zeile 4, Spalte 'Gemeinde': 'Atlantis' ist keine Gemeinde des Landkreises",
        "Zeile 4, Spalte 'Verrechnungssatz (€/Std.)': muss ein Betrag in Euro wie 18,50 sein (nicht negativ)",
        "Zeile 5, Spalte 'Mindestgröße': Die Mindestgröße darf die Zahl der Plätze (8) nicht übersteigen.",
        "Zeile 5, Spalte 'Breitengrad': Dieser Punkt liegt außerhalb des Landkreises.",
    ]
    for message in expected:
        assert any(m.startswith(message) for m in messages), (message, messages)
    assert any(m.startswith("Zeile 4, Spalte 'Kategorien': unbekannt: 'Kochen'") for m in messages)
    assert any(m.startswith("Zeile 4, Spalte 'Termine': Termin 'Montags 3 Uhr' ist nicht lesbar") for m in messages)
    assert any(m.startswith("Zeile 5, Spalte 'Termine': Bitte wählen Sie Uhrzeiten im Viertelstundentakt")
               for m in messages)
    assert not any(m.startswith("Zeile 2") for m in messages)
    rows_in_order = [e.row for e in problem.value.errors]
    assert rows_in_order == sorted(rows_in_order)  # by row, and within a row by column as in the file spec
    row4 = [e.column for e in problem.value.errors if e.row == 4]
    assert row4 == ["Kategorien", "Alter bis", "Termine", "Erster Termin", "Gemeinde", "Plätze",
                    "Verrechnungssatz (€/Std.)"]
    assert count_offers(session) == 0  # the good rows were not written either


def test_header_problems(session, setup):
    with pytest.raises(offer_io.OfferImportError) as problem:
        do_import(session, setup, csv_file([["Titel", "Titel", "Farbe"], ["a", "b", "c"]]))
    messages = [str(e) for e in problem.value.errors]
    assert "Zeile 1, Spalte 'Titel': kommt doppelt vor" in messages
    assert "Zeile 1, Spalte 'Farbe': ist unbekannt (erlaubte Spalten siehe Importseite)" in messages
    assert "Spalte 'Plätze': fehlt in der Kopfzeile (Zeile 1)" in messages
    with pytest.raises(offer_io.OfferImportError, match="keine Angebote"):
        do_import(session, setup, csv_file([HEADER]))


@pytest.mark.parametrize("filename, data, message", [
    ("a.xls", b"\xd0\xcf\x11\xe0rest", "alte Excel-Format"),
    ("a.xlsx", b"not a zip", "keine gültige Excel-Arbeitsmappe"),
    ("a.xlsx", b"PK\x03\x04broken", "konnte nicht gelesen werden"),
    ("a.csv", b"\x00\x01\x02binary", "keine Textdatei"),
    ("a.csv", b"", "leer"),
    ("a.pdf", b"%PDF-1.4", "CSV-Datei (.csv) oder eine Excel-Arbeitsmappe"),
])
def test_unreadable_files_are_refused_in_german(session, setup, filename, data, message):
    with pytest.raises(offer_io.OfferImportError, match=re.escape(message)):
        do_import(session, setup, data, filename)


def test_cells_with_control_characters_are_named_and_nothing_is_written(session, setup):
    row = ["X", "Sport und Bewegung", "10", "14", "Mo 15:00-17:00", "01.09.2025", "Dieburg", "8"]
    before = count_offers(session)
    bad = [row, ["Zweite\x00Gruppe", *row[1:]], [*row[:6], "Die\x1bburg", "8"]]
    with pytest.raises(offer_io.OfferImportError) as info:
        do_import(session, setup, csv_file([HEADER, *bad]))
    [message] = [str(e) for e in info.value.errors]
    assert "unzulässige Steuerzeichen" in message
    assert "Zeile 3, Spalte „Titel“; Zeile 4, Spalte „Gemeinde“" in message
    assert count_offers(session) == before


def test_tabs_and_line_breaks_inside_cells_are_fine(session, setup):
    row = ["Mit\tTab", "Sport und Bewegung", "10", "14", "Mo 15:00-17:00", "01.09.2025", "Dieburg", "8"]
    data = csv_file([HEADER + ["Beschreibung"], row + ["Zeile 1\r\nZeile 2"]])
    [offer] = do_import(session, setup, data)
    assert offer.title == "Mit\tTab" and "Zeile 2" in offer.description


def test_limits(session, setup, monkeypatch):
    monkeypatch.setattr(offer_io, "MAX_ROWS", 2)
    row = ["X", "Sport und Bewegung", "10", "14", "Mo 15:00-17:00", "01.09.2025", "Dieburg", "8"]
    with pytest.raises(offer_io.OfferImportError, match="mehr als 2 Zeilen"):
        do_import(session, setup, csv_file([HEADER, row, row, row]))
    with pytest.raises(offer_io.OfferImportError, match="größer als 2 MB"):
        do_import(session, setup, b"x" * (offer_io.MAX_UPLOAD_BYTES + 1))
    assert count_offers(session) == 0


def test_xlsx_with_typed_cells_windows_csv_and_comma_separator(session, setup):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER + ["Breitengrad", "Längengrad", "Verrechnungssatz (€/Std.)"])
    sheet.append(["Typisiert", "sports", 10, 14, "Fr 14:00-15:30", date(2025, 9, 5), "06432004", 8, 49.9, 8.85, 18.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    [offer] = do_import(session, setup, buffer.getvalue(), "liste.xlsx")
    assert (offer.first_date, offer.seats, offer.lat, offer.offset_rate_cents) == (date(2025, 9, 5), 8, 49.9, 1850)
    assert offer.municipality_id == setup["town"].id  # found by its AGS
    cp1252 = csv_file([HEADER, ["Größe", "Sport und Bewegung", "10", "14", "Mi 16:00-17:00", "2025-09-03",
                                "dieburg", "6"]], delimiter=",").decode("utf-8").encode("cp1252")
    [offer] = do_import(session, setup, cp1252, "win.csv")
    assert offer.title == "Größe" and offer.sessions[0].weekday == 2


def test_only_coordinators_import(session, setup):
    data = csv_file([HEADER, ["X", "sports", "10", "14", "Mo 15:00-17:00", "01.09.2025", "Dieburg", "8"]])
    for role in (Role.planner, Role.caseworker, Role.admin):
        with pytest.raises(offer_io.OfferImportDenied):
            offer_io.import_offers(session, actor=make_user(session, role), filename="a.csv", data=data)
    assert count_offers(session) == 0
