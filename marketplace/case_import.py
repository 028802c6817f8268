"""Bulk registration of young people (Fälle importieren): JSON rows or a CSV/XLSX table, all or nothing.

Every row is a `CaseFields`, checked with the rules of the case form (`case_rules.validate_case`)
plus one rule across rows (an Aktenzeichen only once). When any row has a problem, nothing is
written and every problem is reported with its row; otherwise every young person is registered
(`cases.add_young_person`: pseudonym, audit row) in ONE transaction for the caseworker's team.

Table columns (German headers, any order; case and surrounding blanks do not matter):

=========================== ======= ==========================================================
Spalte                      Pflicht Inhalt
=========================== ======= ==========================================================
Aktenzeichen                        3–30 Zeichen, mindestens eine Ziffer (keine Namen)
Geburtsjahr                 ja      z. B. 2012
Geschlecht                  ja      w, m oder d
Gemeinde                    ja      Name der Gemeinde oder ihr Gemeindeschlüssel
Breitengrad, Längengrad             beide oder keiner, z. B. 49,8725 und 8,6512
Bedarfe                     ja      Kategorien (Bezeichnung oder Code), getrennt durch ";"
Zeiten                      ja      "Mo 14:00-18:00; Mi 15:00-17:00" (Viertelstunden)
Fahrstrecke (km)            ja      höchste zumutbare Entfernung, z. B. 10
Modul                       ja      Code oder Name, z. B. "standard" oder "Standard-Modul"
Gruppenstunden Ziel                 Stunden pro Woche, z. B. 4 (leer = Vorgabe des Moduls)
Gruppenstunden Max                  Stunden pro Woche (leer = Vorgabe des Moduls)
Federführender Träger       ja      Name oder Kurzname des Trägers
Bewilligung ab              ja      Datum, z. B. 01.03.2025
Bewilligung bis                     Datum oder leer
Rechtsgrundlage             ja      z. B. "§ 30" oder "35a"
Priorität                           "normal" (Standard) oder "lange wartend"
Gefährdungsmeldung                  Datum der Meldung nach § 8a (nur Krisenintervention)
=========================== ======= ==========================================================
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .access import has_role
from .case_rules import CaseFields, normalise_case_reference, validate_case
from .cases import CaseAccessError, CaseError, add_young_person
from .models import Category, LegalBasis, Module, Municipality, Provider, Role, YoungPerson
from .offer_input import parse_date, parse_decimal, parse_time_minutes
from .offer_io import RowError
from .spreadsheets import SpreadsheetError, read_table
from .timeutil import today_berlin

MAX_ROWS = 500
MAX_UPLOAD_BYTES = 2 * 1024 * 1024

#: Column header → CaseFields name (or a table-only key).
COLUMNS: dict[str, str] = {
    "Aktenzeichen": "case_reference", "Geburtsjahr": "birth_year", "Geschlecht": "gender",
    "Gemeinde": "municipality_id", "Breitengrad": "lat", "Längengrad": "lon", "Bedarfe": "need_ids",
    "Zeiten": "availability", "Fahrstrecke (km)": "max_travel_km", "Modul": "module_id",
    "Gruppenstunden Ziel": "group_minutes_target", "Gruppenstunden Max": "group_minutes_max",
    "Federführender Träger": "lead_provider_id", "Bewilligung ab": "approval_start",
    "Bewilligung bis": "approval_end", "Rechtsgrundlage": "legal_basis", "Priorität": "priority",
    "Gefährdungsmeldung": "risk_report_at",
}
REQUIRED = ("Geburtsjahr", "Geschlecht", "Gemeinde", "Bedarfe", "Zeiten", "Fahrstrecke (km)", "Modul",
            "Federführender Träger", "Bewilligung ab", "Rechtsgrundlage")
#: Which column a message of `validate_case` belongs to.
ERROR_COLUMN = {**{name: header for header, name in COLUMNS.items()}, "coordinates": "Breitengrad"}
GENDERS = {"w": "f", "f": "f", "weiblich": "f", "m": "m", "männlich": "m", "d": "d", "divers": "d"}
PRIORITIES = {"": 1, "1": 1, "normal": 1, "2": 2, "lange wartend": 2}
WEEKDAYS = {"mo": 0, "di": 1, "mi": 2, "do": 3, "fr": 4, "sa": 5, "so": 6, "montag": 0, "dienstag": 1,
            "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5, "sonntag": 6}
_WINDOW = re.compile(r"^([A-Za-zÄÖÜäöü]+)\.?,?\s+(\d{1,2}[:.]\d{2})\s*(?:-|–|—|bis)\s*(\d{1,2}[:.]\d{2})(?:\s*Uhr)?$")


class CaseBulkError(ValueError):
    """Rows were refused; `errors` maps the row's index (0-based) to {field: German message}."""

    def __init__(self, errors: dict[int, dict[str, str]]) -> None:
        super().__init__(f"{len(errors)} row(s) refused")
        self.errors = errors


class CaseImportError(ValueError):
    """A table was refused as a whole; `errors` lists every problem with row and column."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


# --------------------------------------------------------------------------- rows of CaseFields


def check_cases(session: Session, *, actor: Any, rows: Sequence[CaseFields],
                today: date | None = None) -> dict[int, dict[str, str]]:
    """Every problem of every row (index → {field: message}); empty when all rows may be registered."""
    today = today or today_berlin()
    errors: dict[int, dict[str, str]] = {}
    seen: dict[str, int] = {}
    for index, fields in enumerate(rows):
        row_errors = validate_case(session, replace(fields), team_id=actor.team_id, today=today)
        reference = normalise_case_reference(fields.case_reference)
        if reference is not None and "case_reference" not in row_errors:
            if reference in seen:
                row_errors["case_reference"] = "Dieses Aktenzeichen kommt in dieser Lieferung mehrfach vor."
            seen.setdefault(reference, index)
        if row_errors:
            errors[index] = row_errors
    return errors


def import_cases(session: Session, *, actor: Any, rows: Sequence[CaseFields],
                 today: date | None = None) -> list[YoungPerson]:
    """Register every row for the actor's team, or none (`CaseBulkError` with every problem)."""
    if not has_role(actor, Role.caseworker) or actor.team_id is None:
        raise CaseAccessError("only caseworkers register young people")
    if not rows:
        raise CaseBulkError({0: {"rows": "Die Lieferung enthält keine jungen Menschen."}})
    today = today or today_berlin()
    errors = check_cases(session, actor=actor, rows=rows, today=today)
    if errors:
        raise CaseBulkError(errors)
    created = []
    try:
        for index, fields in enumerate(rows):
            try:
                created.append(add_young_person(session, actor=actor, fields=fields, today=today))
            except CaseError as exc:  # changed meanwhile (e.g. a reference taken by someone else)
                session.rollback()
                raise CaseBulkError({index: exc.field_errors}) from None
        session.commit()
    except IntegrityError:
        session.rollback()
        raise CaseBulkError({0: {"rows": "Die Fälle widersprechen einer Regel der Datenbank; "
                                         "es wurde nichts gespeichert."}}) from None
    return created


# --------------------------------------------------------------------------- tables


class _Lookup:
    """Catalogues by every name a person might write, loaded once per table."""

    def __init__(self, session: Session) -> None:
        self.towns = {k: t.id for t in session.exec(select(Municipality)).all() for k in (t.name.casefold(), t.ags)}
        self.categories = {k: c.id for c in session.exec(select(Category).where(Category.active)).all()
                           for k in (c.label.casefold(), c.code.casefold())}
        self.modules = {k: m.id for m in session.exec(select(Module).where(Module.active)).all()
                        for k in (m.name.casefold(), m.code.casefold())}
        self.providers = {k: p.id for p in session.exec(select(Provider).where(Provider.active)).all()
                          for k in (p.name.casefold(), p.short_name.casefold())}


def _windows(raw: str) -> list[tuple[int, int, int]]:
    windows = []
    for part in (p.strip() for p in re.split(r"[;\n]", raw)):
        if not part:
            continue
        match = _WINDOW.match(part)
        weekday = WEEKDAYS.get(match.group(1).casefold()) if match else None
        if match is None or weekday is None:
            raise ValueError(part)
        windows.append((weekday, parse_time_minutes(match.group(2)), parse_time_minutes(match.group(3))))
    return windows


def _legal_basis(raw: str) -> str:
    text = raw.replace("§", "").strip().lower()
    for basis in LegalBasis:
        if basis.value.replace("§", "").strip().lower() == text:
            return basis.value
    raise ValueError(raw)


def _hours(raw: str) -> int:
    return round(parse_decimal(raw) * 60)


def _read_row(cells: dict[str, str], lookup: _Lookup) -> tuple[CaseFields, dict[str, str]]:
    """The row as `CaseFields` and the column messages for what could not be read."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for header in REQUIRED:
        if not cells.get(header, "").strip():
            errors[header] = "darf nicht leer sein"

    def read(header: str, parse: Any, message: str) -> None:
        raw = cells.get(header, "").strip()
        if not raw or header in errors:
            return
        try:
            values[COLUMNS[header]] = parse(raw)
        except (ValueError, KeyError):
            errors[header] = message

    read("Aktenzeichen", str, "ist nicht lesbar")
    read("Geburtsjahr", int, "muss eine Jahreszahl sein, z. B. 2012")
    read("Geschlecht", lambda r: GENDERS[r.casefold()], "bitte w, m oder d angeben")
    read("Gemeinde", lambda r: lookup.towns[r.casefold()], "ist keine Gemeinde des Landkreises")
    read("Breitengrad", parse_decimal, "muss eine Dezimalzahl sein, z. B. 49,8725")
    read("Längengrad", parse_decimal, "muss eine Dezimalzahl sein, z. B. 8,6512")
    read("Bedarfe", lambda r: [lookup.categories[p.strip().casefold()] for p in re.split(r"[;,]", r) if p.strip()],
         "enthält eine unbekannte Kategorie")
    read("Zeiten", _windows, "ist nicht lesbar; bitte so angeben: 'Mo 14:00-18:00; Mi 15:00-17:00'")
    read("Fahrstrecke (km)", parse_decimal, "muss eine Zahl sein, z. B. 10")
    read("Modul", lambda r: lookup.modules[r.casefold()], "ist kein Modul des Katalogs")
    read("Gruppenstunden Ziel", _hours, "muss eine Stundenzahl sein, z. B. 2,5")
    read("Gruppenstunden Max", _hours, "muss eine Stundenzahl sein, z. B. 4")
    read("Federführender Träger", lambda r: lookup.providers[r.casefold()], "ist kein bekannter Träger")
    read("Bewilligung ab", parse_date, "muss ein Datum sein, z. B. 01.03.2025")
    read("Bewilligung bis", parse_date, "muss ein Datum sein, z. B. 28.02.2026")
    read("Rechtsgrundlage", _legal_basis, "bitte z. B. § 30 oder § 35a angeben")
    read("Priorität", lambda r: PRIORITIES[r.casefold()], "bitte „normal“ oder „lange wartend“ angeben")
    read("Gefährdungsmeldung", parse_date, "muss ein Datum sein, z. B. 01.03.2025")
    values.setdefault("priority", 1)
    return CaseFields(**values), errors


def read_case_table(session: Session, *, filename: str, data: bytes) -> tuple[list[tuple[int, CaseFields]],
                                                                               list[RowError]]:
    """The rows of a CSV/XLSX table (with their spreadsheet row numbers) and every reading problem."""
    if len(data) > MAX_UPLOAD_BYTES:
        return [], [RowError(None, None, "Die Datei ist größer als 2 MB.")]
    try:
        table = read_table(filename, data, max_rows=MAX_ROWS)
    except SpreadsheetError as exc:
        return [], [RowError(None, None, str(exc))]
    known = {h.casefold(): h for h in COLUMNS}
    mapping: dict[int, str] = {}
    errors: list[RowError] = []
    for index, raw in enumerate(table[0]):
        name = " ".join(raw.split()).casefold()
        if name in known:
            if known[name] in mapping.values():
                errors.append(RowError(1, raw.strip(), "kommt doppelt vor"))
            mapping[index] = known[name]
        elif name:
            errors.append(RowError(1, raw.strip(), "ist unbekannt (keine Namen erfassen)"))
    errors += [RowError(None, h, "fehlt in der Kopfzeile (Zeile 1)") for h in REQUIRED if h not in mapping.values()]
    if errors:
        return [], errors
    lookup = _Lookup(session)
    rows: list[tuple[int, CaseFields]] = []
    for number, row in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {header: row[i] if i < len(row) else "" for i, header in mapping.items()}
        fields, row_errors = _read_row(cells, lookup)
        errors += [RowError(number, column, message) for column, message in row_errors.items()]
        rows.append((number, fields))
    if not rows and not errors:
        errors.append(RowError(None, None, "Die Datei enthält keine jungen Menschen (nur die Kopfzeile)."))
    return rows, errors


def import_case_table(session: Session, *, actor: Any, filename: str, data: bytes) -> list[YoungPerson]:
    """Register every row of a CSV/XLSX table, or none (`CaseImportError` with row and column)."""
    rows, errors = read_case_table(session, filename=filename, data=data)
    unreadable = {e.row for e in errors}
    if any(e.row is None or e.row == 1 for e in errors):
        raise CaseImportError(errors)
    readable = [(number, fields) for number, fields in rows if number not in unreadable]
    rule_errors = check_cases(session, actor=actor, rows=[f for _, f in readable])
    for index, problems in rule_errors.items():
        number = readable[index][0]
        for key, message in problems.items():
            column = ERROR_COLUMN.get(key)
            if not any(e.row == number and e.column == column for e in errors):
                errors.append(RowError(number, column, message))
    if errors:
        raise CaseImportError(sorted(errors, key=lambda e: (e.row or 0, e.column or "")))
    try:
        return import_cases(session, actor=actor, rows=[f for _, f in rows])
    except CaseBulkError as exc:  # refused at writing time (changed meanwhile)
        raise CaseImportError([RowError(rows[i][0], ERROR_COLUMN.get(k), m) for i, problems in exc.errors.items()
                               for k, m in problems.items()]) from None
