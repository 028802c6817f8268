"""Statement exports: CSV, XLSX and PDF carry the same lines; formula injection is neutralised."""

from __future__ import annotations

import base64
import io
import zlib
from datetime import date

from openpyxl import load_workbook

from marketplace.ledger import book_month, statement
from marketplace.ledger_export import euro_text, statement_csv, statement_pdf, statement_xlsx
from marketplace.models import Attendance, SharedUse
from tests.factories import make_offer, make_placement, make_provider, make_young_person


def _month(session):
    host, lead = make_provider(session, name="Host & Söhne e.V."), make_provider(session, name="Lead gGmbH")
    offer = make_offer(session, provider=host, title="=HYPERLINK(\"http://x\") <Klettern>",
                       sessions=((0, 15 * 60, 16 * 60 + 30),))
    person = make_young_person(session, lead_provider_id=lead.id)
    placement = make_placement(session, young_person=person, offer=offer, status="accepted")
    session.add(SharedUse(placement_id=placement.id, host_provider_id=host.id, lead_provider_id=lead.id,
                          variant="B", rate_cents=1850))
    for day in (date(2026, 10, 5), date(2026, 10, 12)):
        session.add(Attendance(placement_id=placement.id, session_date=day,
                               offer_session_id=offer.sessions[0].id, status="present"))
    session.flush()
    book_month(session, month="2026-10")
    return statement(session, month="2026-10"), person


def test_euro_text():
    assert euro_text(123450) == "1.234,50 €" and euro_text(-5) == "-0,05 €" and euro_text(0) == "0,00 €"


def test_csv_lines_and_neutralised_title(session):
    month, person = _month(session)
    text = statement_csv(month).decode("utf-8-sig")
    assert text.count(person.pseudonym) == 2
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text
    assert "27,75" in text and "55,5" in text  # each line and the transfer


def test_xlsx_has_typed_amounts(session):
    month, person = _month(session)
    sheet = load_workbook(io.BytesIO(statement_xlsx(month))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[3] for r in rows] == [person.pseudonym] * 2
    assert [r[8] for r in rows] == [27.75, 27.75]
    assert all(str(r[4]).startswith("'=") for r in rows)


def test_pdf_is_rendered_offline(session):
    month, person = _month(session)
    pdf = statement_pdf(month)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    text = b"".join(_streams(pdf))
    assert person.pseudonym.encode() in text and b"55,50" in text


def _streams(pdf: bytes):
    """Page contents of a ReportLab PDF (Flate-compressed streams), for text assertions."""
    start = 0
    while (start := pdf.find(b"stream\n", start)) != -1:
        end = pdf.find(b"endstream", start)
        raw = pdf[start + 7:end].strip()
        try:  # ReportLab writes /ASCII85Decode /FlateDecode streams
            yield zlib.decompress(base64.a85decode(raw.removesuffix(b"~>"), adobe=False))
        except (ValueError, zlib.error):
            yield raw
        start = end
