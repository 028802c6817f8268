"""Writing and reading tables as CSV and XLSX, safely (Tabellen-Export und -Import).

- **Formula injection** (CSV/Excel injection): a text cell that starts with `=`, `+`, `-`,
  `@`, a tab or a carriage return would be run as a formula by spreadsheet programs. Every
  text cell written here is neutralised with a leading apostrophe; `unneutralise` undoes
  exactly that on import, so a round trip keeps the text.
- **CSV for German Excel**: UTF-8 with BOM, semicolon separator, CRLF line ends. Reading
  accepts UTF-8 (with or without BOM) and Windows-1252, separated by semicolons, commas or tabs.
- **XLSX** via openpyxl: numbers and dates stay typed (with German number formats);
  reading is read-only, values only (never formulas), and bounded by a row limit.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from .control_characters import has_control_characters

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SpreadsheetError(ValueError):
    """The file is not a table we can read; the message is German."""


def neutralise(value: str) -> str:
    """A text cell that cannot be taken for a formula: "=1+2" → "'=1+2"."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def unneutralise(value: str) -> str:
    """Undo `neutralise`: "'=1+2" → "=1+2" (other texts are returned unchanged)."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS) else value


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file for German Excel (UTF-8 BOM, ';'), every text cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
               number_formats: dict[int, str] | None = None) -> bytes:
    """An XLSX workbook with one sheet: bold header, frozen first row, typed cells, neutralised texts.

    `number_formats` maps a column index to an Excel number format (e.g. '#,##0.00').
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31] or "Tabelle"
    sheet.append([neutralise(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E3EFF3")
    widths = [len(h) for h in header]
    for row in rows:
        values = []
        for i, value in enumerate(row):
            if isinstance(value, str):
                value = neutralise(value)
            elif isinstance(value, bool):
                value = "ja" if value else "nein"
            values.append(value)
            if i < len(widths):
                widths[i] = max(widths[i], min(60, len(str(value)) if value is not None else 0))
        sheet.append(values)
    for index, fmt in (number_formats or {}).items():
        for cell in sheet.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
            cell[0].number_format = fmt
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, date) and not isinstance(cell.value, datetime):
                cell.number_format = "DD.MM.YYYY"
            elif isinstance(cell.value, datetime):
                cell.number_format = "DD.MM.YYYY HH:MM"
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(8, width + 2)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- reading


def _cell_text(value: Any) -> str:
    """A cell as the text a person would have typed (numbers without '.0', dates as TT.MM.JJJJ)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%d.%m.%Y")
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return unneutralise(str(value).strip())


def read_table(filename: str, data: bytes, *, max_rows: int) -> list[list[str]]:
    """The rows of a CSV or XLSX upload as texts (first row = header); `SpreadsheetError` when unreadable.

    At most `max_rows` data rows are read; more is an error (the whole file is refused).
    """
    name = (filename or "").lower()
    if name.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError("Das alte Excel-Format (.xls) wird nicht unterstützt. Bitte speichern Sie die "
                               "Datei als Excel-Arbeitsmappe (.xlsx) oder als CSV.")
    if data.startswith(b"PK\x03\x04"):
        rows = _read_xlsx(data, max_rows)
    elif name.endswith(".xlsx"):
        raise SpreadsheetError("Die Datei ist keine gültige Excel-Arbeitsmappe (.xlsx).")
    elif name.endswith((".csv", ".txt")) or not name:
        rows = _read_csv(data, max_rows)
    else:
        raise SpreadsheetError("Bitte laden Sie eine CSV-Datei (.csv) oder eine Excel-Arbeitsmappe (.xlsx) hoch.")
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise SpreadsheetError("Die Datei ist leer.")
    _refuse_control_characters(rows)
    return rows


#: Cells with control characters named in one message (the first ones of the file).
MAX_NAMED_CELLS = 5


def _refuse_control_characters(rows: list[list[str]]) -> None:
    """`SpreadsheetError` naming the cells (row as the spreadsheet counts, column by its header)
    that hold control characters: no importer may pass them on (PostgreSQL refuses NUL)."""
    header = rows[0]
    cells = []
    for number, row in enumerate(rows, start=1):
        for index, cell in enumerate(row):
            if has_control_characters(cell):
                name = header[index].strip() if index < len(header) and number > 1 else ""
                column = f"„{name}“" if name and not has_control_characters(name) else get_column_letter(index + 1)
                cells.append(f"Zeile {number}, Spalte {column}")
    if cells:
        more = f" und {len(cells) - MAX_NAMED_CELLS} weitere" if len(cells) > MAX_NAMED_CELLS else ""
        raise SpreadsheetError(f"Die Datei enthält unzulässige Steuerzeichen: {'; '.join(cells[:MAX_NAMED_CELLS])}"
                               f"{more}. Bitte entfernen Sie diese Zeichen und laden Sie die Datei erneut hoch.")


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def _looks_binary(data: bytes) -> bool:
    """UTF-16 text or a binary file: a UTF-16 byte-order mark, or more than a tenth control bytes.

    A text file with a few stray control characters is read, and its cells are named instead.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return len(data) - len(data.translate(None, _CONTROL_BYTES)) > len(data) / 10


def _read_csv(data: bytes, max_rows: int) -> list[list[str]]:
    if _looks_binary(data):
        raise SpreadsheetError("Die Datei ist keine Textdatei (CSV). Bitte laden Sie eine CSV- oder "
                               "Excel-Datei (.xlsx) hoch.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    filled = 0
    try:
        for row in reader:
            cells = [unneutralise(cell.strip()) for cell in row]
            filled += any(cells)
            if filled > max_rows + 1:
                raise SpreadsheetError(f"Die Datei hat mehr als {max_rows} Zeilen. Bitte teilen Sie sie auf.")
            rows.append(cells)
    except csv.Error as exc:
        raise SpreadsheetError(f"Die CSV-Datei ist fehlerhaft (Zeile {reader.line_num}).") from exc
    return rows


def _read_xlsx(data: bytes, max_rows: int) -> list[list[str]]:
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions of files it did not write; harmless here.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                rows: list[list[str]] = []
                filled = 0
                for values in sheet.iter_rows(values_only=True):
                    cells = [_cell_text(v) for v in values]
                    filled += any(cells)
                    if filled > max_rows + 1:  # the header plus max_rows rows with content
                        raise SpreadsheetError(
                            f"Die Datei hat mehr als {max_rows} Zeilen. Bitte teilen Sie sie auf.")
                    rows.append(cells)
            finally:
                workbook.close()
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError) as exc:
        raise SpreadsheetError("Die Excel-Datei konnte nicht gelesen werden. Bitte speichern Sie sie erneut "
                               "als Excel-Arbeitsmappe (.xlsx) oder als CSV.") from exc
    return rows
