"""Exports of a report (Berichtsexport): CSV, XLSX and PDF of the same tables.

- CSV for German Excel (`spreadsheets.csv_bytes`: UTF-8 BOM, semicolons, texts neutralised
  against formula injection); several tables follow each other, each under its title row.
- XLSX: one sheet per table (typed numbers with German formats, neutralised texts, bold
  frozen header), plus a sheet "Bericht" naming report, period, filters and export time.
- PDF: A4 landscape, offline (ReportLab's built-in fonts): title, filters, then every table
  with its total row and note.
Hours, percent and euros are exported as plain numbers; the header names the unit.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..spreadsheets import csv_bytes, neutralise
from .tables import XLSX_FORMATS, Kind, ReportTable, display, export_value


def _rows(table: ReportTable) -> list[list]:
    rows = [[export_value(v, c.kind) for v, c in zip(row, table.columns, strict=False)] for row in table.rows]
    if table.total is not None:
        rows.append([export_value(v, c.kind) if i else v for i, (v, c) in
                     enumerate(zip(table.total, table.columns, strict=False))])
    return rows


def report_csv(title: str, context: Sequence[str], tables: Sequence[ReportTable]) -> bytes:
    """All tables in one CSV: a title line and the context lines, then each table under its title."""
    width = max((len(t.columns) for t in tables), default=1)
    pad = [""] * (width - 1)
    rows: list[list] = [[line, *pad] for line in context]
    first = True
    header: list[str] = [title, *pad]
    for table in tables:
        if not first or context:
            rows.append(["", *pad])
        rows.append([table.title, *pad])
        rows.append([c.export_label for c in table.columns] + [""] * (width - len(table.columns)))
        rows += [row + [""] * (width - len(row)) for row in _rows(table)]
        first = False
    return csv_bytes(header, rows)


def _sheet_title(title: str, taken: set[str]) -> str:
    name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28] or "Tabelle"
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name[:25]} {n}", n + 1
    taken.add(candidate)
    return candidate


def report_xlsx(title: str, context: Sequence[str], tables: Sequence[ReportTable]) -> bytes:
    workbook = Workbook()
    info = workbook.active
    info.title = "Bericht"
    info.append([neutralise(title)])
    info["A1"].font = Font(bold=True, size=13)
    for line in context:
        info.append([neutralise(line)])
    info.column_dimensions["A"].width = 90
    taken = {"Bericht"}
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, taken))
        sheet.append([neutralise(c.export_label) for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E3EFF3")
        for row in _rows(table):
            sheet.append([neutralise(v) if isinstance(v, str) else v for v in row])
        if table.total is not None:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        for index, column in enumerate(table.columns, start=1):
            fmt = XLSX_FORMATS.get(column.kind)
            letter = get_column_letter(index)
            width = max([len(column.export_label)] + [len(str(r[index - 1])) for r in table.rows[:200]])
            sheet.column_dimensions[letter].width = min(60, max(10, width + 2))
            if fmt:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = fmt
        sheet.freeze_panes = "A2"
        if table.note:
            sheet.append([])
            sheet.append([neutralise(table.note)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_pdf(title: str, context: Sequence[str], tables: Sequence[ReportTable]) -> bytes:
    """An A4 landscape PDF with every table (long tables continue on the next page with their header)."""
    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    right = small.clone("right", alignment=2)
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title=title, author="Gruppenbörse")
    story = [Paragraph(escape(title), styles["Title"])]
    story += [Paragraph(escape(line), styles["Normal"]) for line in context]
    story.append(Spacer(1, 4 * mm))
    for table in tables:
        story.append(Paragraph(escape(table.title), styles["Heading2"]))
        data = [[Paragraph(escape(c.label), small) for c in table.columns]]
        for row in table.rows + ([table.total] if table.total is not None else []):
            data.append([Paragraph(escape(display(v, c.kind) if c.kind is not Kind.text else str(v or "")),
                                   right if c.numeric else small)
                         for v, c in zip(row, table.columns, strict=False)])
        if not table.rows:
            story.append(Paragraph("Keine Einträge.", styles["Normal"]))
            continue
        usable = landscape(A4)[0] - 24 * mm
        text_columns = sum(1 for c in table.columns if not c.numeric)
        numeric_width = min(24 * mm, usable / max(1, len(table.columns)))
        text_width = (usable - numeric_width * (len(table.columns) - text_columns)) / max(1, text_columns)
        widths = [numeric_width if c.numeric else text_width for c in table.columns]
        pdf_table = Table(data, repeatRows=1, colWidths=widths)
        style = [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E3EFF3")),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#B8C4C9")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        if table.total is not None:
            style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#F1F4F5")))
        pdf_table.setStyle(TableStyle(style))
        story.append(pdf_table)
        if table.note:
            story.append(Paragraph(escape(table.note), small))
        story.append(Spacer(1, 4 * mm))
    doc.build(story)
    return buffer.getvalue()
