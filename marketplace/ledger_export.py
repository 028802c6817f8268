"""Exports of a month's offset statement (Verrechnungsabrechnung): CSV, XLSX and PDF.

All three carry the same itemised lines (pair, pseudonym, group, date, minutes, rate,
amount) and the netted transfers. Texts are neutralised against spreadsheet formula
injection (`spreadsheets`); the PDF is rendered offline with ReportLab's built-in fonts.
"""

from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .ledger import MonthStatement
from .spreadsheets import csv_bytes, xlsx_bytes

HEADER = ["Leistungserbringer (Gastgeber)", "Federführender Träger", "Variante", "Pseudonym", "Gruppe",
          "Datum", "Minuten", "Satz je Stunde (EUR)", "Betrag (EUR)", "Hinweis"]


def euros(cents: int) -> Decimal:
    """Integer cents as an exact decimal euro amount (for spreadsheets)."""
    return Decimal(cents) / 100


def euro_text(cents: int) -> str:
    """German money text: 1.234,50 €."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{rest:02d} €"


def statement_rows(month: MonthStatement) -> list[list]:
    rows = []
    for pair in month.pairs:
        for line in pair.lines:
            rows.append([pair.host_name, pair.lead_name, line.variant, line.pseudonym, line.offer_title,
                         line.session_date, line.minutes, float(euros(line.rate_cents)),
                         float(euros(line.amount_cents)), line.note or ""])
    return rows


def transfer_rows(month: MonthStatement) -> list[list]:
    return [[t.payer_name, t.payee_name, float(euros(t.amount_cents))] for t in month.transfers]


def statement_csv(month: MonthStatement) -> bytes:
    rows = statement_rows(month)
    rows.append([])
    rows.append(["Ausgleichszahlungen (saldiert)", "", "", "", "", "", "", "", "", ""])
    rows += [[payer, payee, "", "", "", "", "", "", amount, "zahlt"] for payer, payee, amount in transfer_rows(month)]
    return csv_bytes(HEADER, rows)


def statement_xlsx(month: MonthStatement) -> bytes:
    return xlsx_bytes(f"Verrechnung {month.month}", HEADER, statement_rows(month),
                      number_formats={7: "#,##0.00 €", 8: "#,##0.00 €"})


def statement_pdf(month: MonthStatement) -> bytes:
    """The statement as an A4 landscape PDF: per provider pair the itemised lines, then the transfers."""
    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm,
                            title=f"Verrechnung {month.month}", author="Gruppenbörse")
    state = "abgeschlossen" if month.closed else "vorläufig (Monat nicht abgeschlossen)"
    story = [Paragraph(f"Verrechnung trägerübergreifender Gruppennutzung – {month.month}", styles["Title"]),
             Paragraph(f"Stand: {state}. Beträge je Teilnehmendenstunde zum bei Bestätigung gültigen Satz; "
                       "jede Zeile auf volle Cent gerundet (kaufmännisch).", styles["Normal"]),
             Spacer(1, 6 * mm)]
    style = TableStyle([
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E3EFF3")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#B8C4C9")),
        ("ALIGN", (4, 1), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ])
    for pair in month.pairs:
        story.append(Paragraph(escape(f"{pair.lead_name} an {pair.host_name}: {euro_text(pair.total_cents)}"),
                               styles["Heading3"]))
        data = [["Pseudonym", "Gruppe", "Variante", "Datum", "Minuten", "Satz/Std.", "Betrag", "Hinweis"]]
        for line in pair.lines:
            data.append([line.pseudonym, Paragraph(escape(line.offer_title), styles["BodyText"]), line.variant,
                         line.session_date.strftime("%d.%m.%Y"), str(line.minutes), euro_text(line.rate_cents),
                         euro_text(line.amount_cents), line.note or ""])
        data.append(["Summe", "", "", "", str(pair.minutes), "", euro_text(pair.total_cents), ""])
        table = Table(data, repeatRows=1, colWidths=[28 * mm, 80 * mm, 16 * mm, 22 * mm, 18 * mm, 24 * mm,
                                                     26 * mm, 40 * mm])
        table.setStyle(style)
        story += [table, Spacer(1, 4 * mm)]
    if not month.pairs:
        story.append(Paragraph("In diesem Monat gab es keine trägerübergreifende Nutzung.", styles["Normal"]))
    story.append(Paragraph("Saldierte Ausgleichszahlungen", styles["Heading2"]))
    if month.transfers:
        data = [["Zahlt", "An", "Betrag"]] + [[t.payer_name, t.payee_name, euro_text(t.amount_cents)]
                                              for t in month.transfers]
        table = Table(data, colWidths=[90 * mm, 90 * mm, 30 * mm])
        table.setStyle(style)
        story.append(table)
    else:
        story.append(Paragraph("Keine Zahlungen offen.", styles["Normal"]))
    doc.build(story)
    return buffer.getvalue()
