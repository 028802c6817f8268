"""Export and import of group offers as CSV and XLSX (Angebote exportieren / importieren).

Export: a coordinator exports the own provider's offers, planning exports all offers;
one row per offer.

Import: a coordinator uploads a CSV or XLSX file; every row becomes a new **draft** of the
coordinator's own provider (nothing is published, nothing existing is changed). Every row
is checked; when any row has a problem, nothing at all is written and every problem is
reported with its row number (as the spreadsheet shows it: the header is row 1) and its
column, e.g. "Zeile 4, Spalte 'Plätze': muss eine ganze Zahl ≥ 1 sein".
The business rules are those of the offer editor (`offer_input.check_offer`), so an
imported draft is exactly what the editor would have accepted.

Columns (German headers, any order; case and surrounding blanks do not matter; the
columns marked "nur Export" are ignored on import, so an export can be imported again):

======================== ======== ========================================================
Spalte                   Pflicht  Inhalt
======================== ======== ========================================================
Nr.                      nur Export  Nummer des Angebots
Träger                   nur Export  Name des Trägers
Status                   nur Export  z. B. "Entwurf", "Veröffentlicht"
Titel                    ja       höchstens 200 Zeichen
Beschreibung                      Freitext
Kategorien               ja       Bezeichnungen oder Codes, getrennt durch ";" oder ","
                                  (z. B. "Soziale Kompetenzen; Sport und Bewegung")
Alter von                ja       ganze Zahl 0–27
Alter bis                ja       ganze Zahl 0–27, nicht unter "Alter von"
Geschlecht                        leer = alle; sonst Auswahl aus w, m, d (z. B. "w, d")
Termine                  ja       Wochentag und Uhrzeit, getrennt durch ";":
                                  "Mo 15:00-17:00; Do 16:00-17:30" (Viertelstunden)
Erster Termin            ja       Datum, z. B. 05.03.2025 (oder 2025-03-05)
Letzter Termin                    Datum oder leer (offenes Ende)
Gemeinde                 ja       Name der Gemeinde im Landkreis (oder ihr Gemeindeschlüssel)
Adresse                           Straße und Hausnummer
Breitengrad, Längengrad           beide oder keiner; Dezimalzahl (49,8725); leer = Ortsmitte
Plätze                   ja       ganze Zahl ≥ 1
Mindestgröße                      ganze Zahl 1 bis Plätze (leer = 1)
Einstieg                          "offen" (jederzeit, Standard) oder "geschlossen"
Personal                          z. B. "Sozialpädagogin + Sporttrainer"
Multiprofessionell                "ja" oder "nein" (leer = nein)
Verrechnungssatz (€/Std.)         Betrag in Euro je Teilnahmestunde, z. B. 18,50 (leer = 0)
Zertifiziert bis         nur Export
Belegte Plätze           nur Export
======================== ======== ========================================================

Files: CSV (UTF-8 or Windows-1252; separated by ";" or ",") or Excel (.xlsx, first sheet),
at most `MAX_ROWS` offers and `MAX_UPLOAD_BYTES` bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from .access import has_role
from .audit import audit
from .models import (
    AuditAction,
    Category,
    EntryMode,
    GroupOffer,
    Municipality,
    OfferSession,
    OfferStatus,
    OfferStatusEvent,
    Provider,
    Role,
)
from .offer_input import (
    MAX_AGE,
    OfferInput,
    SessionSlot,
    check_offer,
    parse_date,
    parse_decimal,
    parse_euro_cents,
    parse_time_minutes,
    to_offer_input,
)
from .offers import STATUS_LABELS
from .spreadsheets import SpreadsheetError, csv_bytes, read_table, xlsx_bytes
from .timeutil import today_berlin

MAX_ROWS = 500
MAX_UPLOAD_MB = 2
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
WEEKDAYS_SHORT = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
_WEEKDAY_WORDS = {
    **{name.lower(): i for i, name in enumerate(WEEKDAYS_SHORT)},
    **{name: i for i, name in enumerate(("montag", "dienstag", "mittwoch", "donnerstag", "freitag",
                                         "samstag", "sonntag"))},
}
_SESSION = re.compile(r"^([A-Za-zÄÖÜäöü]+)\.?,?\s+(\d{1,2}[:.]\d{2})\s*(?:-|–|—|bis)\s*(\d{1,2}[:.]\d{2})(?:\s*Uhr)?$")
GENDER_INPUT = {"w": "f", "f": "f", "weiblich": "f", "m": "m", "männlich": "m", "d": "d", "divers": "d"}
GENDER_OUTPUT = {"f": "w", "m": "m", "d": "d"}
YES = {"ja", "j", "yes", "x", "1", "wahr", "true"}
NO = {"nein", "n", "no", "0", "falsch", "false", ""}


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False


#: Importable columns in export order (see the module docstring).
COLUMNS: tuple[Column, ...] = (
    Column("Titel", "title", True),
    Column("Beschreibung", "description"),
    Column("Kategorien", "categories", True),
    Column("Alter von", "age_min", True),
    Column("Alter bis", "age_max", True),
    Column("Geschlecht", "genders"),
    Column("Termine", "sessions", True),
    Column("Erster Termin", "first_date", True),
    Column("Letzter Termin", "last_date"),
    Column("Gemeinde", "municipality", True),
    Column("Adresse", "address"),
    Column("Breitengrad", "lat"),
    Column("Längengrad", "lon"),
    Column("Plätze", "seats", True),
    Column("Mindestgröße", "min_size"),
    Column("Einstieg", "entry_mode"),
    Column("Personal", "staff_mix"),
    Column("Multiprofessionell", "multi_professional"),
    Column("Verrechnungssatz (€/Std.)", "offset_rate"),
)
EXPORT_HEAD = ("Nr.", "Träger", "Status")
EXPORT_TAIL = ("Zertifiziert bis", "Belegte Plätze")
HEADERS = (*EXPORT_HEAD, *(c.header for c in COLUMNS), *EXPORT_TAIL)
#: Which column a message of `check_offer` belongs to.
ERROR_COLUMN = {
    "title": "Titel", "description": "Beschreibung", "categories": "Kategorien", "age_min": "Alter von",
    "age_max": "Alter bis", "genders": "Geschlecht", "sessions": "Termine", "first_date": "Erster Termin",
    "last_date": "Letzter Termin", "municipality_id": "Gemeinde", "address": "Adresse",
    "coordinates": "Breitengrad", "seats": "Plätze", "min_size": "Mindestgröße", "entry_mode": "Einstieg",
    "staff_mix": "Personal", "multi_professional": "Multiprofessionell",
    "offset_rate": "Verrechnungssatz (€/Std.)",
}
_BY_KEY = {c.key: c for c in COLUMNS}
_COLUMN_ORDER = {c.header: i for i, c in enumerate(COLUMNS)}
_RATE_INDEX = HEADERS.index("Verrechnungssatz (€/Std.)")


class OfferImportDenied(PermissionError):
    """Only a provider's coordinator imports offers (as drafts of the own provider)."""


@dataclass(frozen=True)
class RowError:
    """One problem of the upload: row (None = the file as a whole), column (None = the row), message."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return f"Spalte '{self.column}': {self.message}" if self.column else self.message
        if self.column is None:
            return f"Zeile {self.row}: {self.message}"
        return f"Zeile {self.row}, Spalte '{self.column}': {self.message}"


class OfferImportError(ValueError):
    """The upload was refused as a whole; `errors` lists every problem (nothing was written)."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


# --------------------------------------------------------------------------- export


def format_sessions(sessions: Sequence[OfferSession] | Sequence[SessionSlot]) -> str:
    """Weekly sessions as "Mo 15:00-17:00; Do 16:00-17:30"."""
    ordered = sorted(sessions, key=lambda s: (s.weekday, s.start_minute))
    return "; ".join(f"{WEEKDAYS_SHORT[s.weekday]} {_hhmm(s.start_minute)}-{_hhmm(s.end_minute)}"
                     for s in ordered)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def can_export(user: Any) -> bool:
    """Coordinators (own provider) and planning (all providers) export offers."""
    return has_role(user, Role.planner) or (has_role(user, Role.coordinator) and user.provider_id is not None)


def export_table(session: Session, *, user: Any) -> tuple[tuple[str, ...], list[list[Any]]]:
    """Header and one row per offer the user may export (see `can_export`), ordered by provider and title."""
    if not can_export(user):
        raise PermissionError("export of offers: coordinators and planning only")
    query = (select(GroupOffer, Provider.name, Municipality.name)
             .join(Provider, Provider.id == GroupOffer.provider_id)
             .join(Municipality, Municipality.id == GroupOffer.municipality_id)
             .options(selectinload(GroupOffer.sessions), selectinload(GroupOffer.categories))
             .order_by(Provider.name, func.lower(GroupOffer.title), GroupOffer.id))
    if not has_role(user, Role.planner):
        query = query.where(GroupOffer.provider_id == user.provider_id)
    rows = []
    for offer, provider_name, town in session.exec(query).all():
        genders = ", ".join(GENDER_OUTPUT[g] for g in offer.genders.split(",")) if offer.genders else ""
        rows.append([
            offer.id, provider_name, STATUS_LABELS.get(offer.status, offer.status),
            offer.title, offer.description,
            "; ".join(c.label for c in sorted(offer.categories, key=lambda c: c.label)),
            offer.age_min, offer.age_max, genders, format_sessions(offer.sessions),
            offer.first_date, offer.last_date, town, offer.address, offer.lat, offer.lon,
            offer.seats, offer.min_size, "offen" if offer.entry_mode == EntryMode.open.value else "geschlossen",
            offer.staff_mix, "ja" if offer.multi_professional else "nein", offer.offset_rate_cents / 100,
            offer.certified_until, offer.seats_taken,
        ])
    return HEADERS, rows


def export_offers(session: Session, *, user: Any, fmt: str) -> bytes:
    """The export file ("csv" or "xlsx") as bytes; the export is audited."""
    header, rows = export_table(session, user=user)
    audit(session, user, AuditAction.export, "group_offer", None)
    session.commit()
    if fmt == "xlsx":
        return xlsx_bytes("Angebote", header, rows, {_RATE_INDEX: "#,##0.00"})
    if fmt == "csv":
        return csv_bytes(header, [[f"{v:.2f}".replace(".", ",") if i == _RATE_INDEX else v
                                   for i, v in enumerate(row)] for row in rows])
    raise ValueError(fmt)


# --------------------------------------------------------------------------- import: reading cells


class _Lookup:
    """Municipalities and categories by every name a person might write, loaded once per import."""

    def __init__(self, session: Session) -> None:
        self.towns: dict[str, int] = {}
        for town in session.exec(select(Municipality)).all():
            self.towns[town.name.casefold()] = town.id
            self.towns[town.ags] = town.id
        self.categories: dict[str, int] = {}
        self.category_labels: list[str] = []
        for category in session.exec(select(Category).where(Category.active).order_by(Category.label)).all():
            self.categories[category.label.casefold()] = category.id
            self.categories[category.code.casefold()] = category.id
            self.category_labels.append(category.label)


def _int(raw: str, low: int, high: int | None = None) -> int:
    text = raw.strip()
    if not re.fullmatch(r"\d{1,6}", text):
        raise ValueError(raw)
    value = int(text)
    if value < low or (high is not None and value > high):
        raise ValueError(raw)
    return value


def _parse_sessions(raw: str) -> tuple[list[SessionSlot], list[str]]:
    slots, problems = [], []
    for part in (p.strip() for p in re.split(r"[;\n]", raw)):
        if not part:
            continue
        match = _SESSION.match(part)
        weekday = _WEEKDAY_WORDS.get(match.group(1).lower()) if match else None
        try:
            if match is None or weekday is None:
                raise ValueError(part)
            start, end = parse_time_minutes(match.group(2)), parse_time_minutes(match.group(3))
        except ValueError:
            problems.append(f"Termin '{part}' ist nicht lesbar; bitte so angeben: "
                            f"'Mo 15:00-17:00; Do 16:00-17:30'")
            continue
        slots.append(SessionSlot(weekday, start, end))
    return slots, problems


def _read_row(cells: dict[str, str], lookup: _Lookup) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values of one row (None where unreadable) and the column messages for what was unreadable."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def text(key: str) -> str:
        return cells.get(key, "").strip()

    for key in ("title", "description", "address", "staff_mix"):
        values[key] = text(key)
    for key in ("title", "categories", "age_min", "age_max", "sessions", "first_date", "municipality", "seats"):
        if not text(key):
            errors[_BY_KEY[key].header] = "darf nicht leer sein"

    age_message = f"muss eine ganze Zahl zwischen 0 und {MAX_AGE} sein"
    for key in ("age_min", "age_max"):
        values[key] = None
        if text(key):
            try:
                values[key] = _int(text(key), 0, MAX_AGE)
            except ValueError:
                errors[_BY_KEY[key].header] = age_message
    values["seats"] = None
    if text("seats"):
        try:
            values["seats"] = _int(text("seats"), 1)
        except ValueError:
            errors["Plätze"] = "muss eine ganze Zahl ≥ 1 sein"
    values["min_size"] = 1
    if text("min_size"):
        try:
            values["min_size"] = _int(text("min_size"), 1)
        except ValueError:
            values["min_size"] = None
            errors["Mindestgröße"] = "muss eine ganze Zahl ≥ 1 (und höchstens die Zahl der Plätze) sein"

    values["genders"] = None
    if text("genders") and text("genders").casefold() not in ("alle", "w, m, d", "w,m,d"):
        chosen = set()
        for part in re.split(r"[,;/\s]+", text("genders").casefold()):
            if part and part not in GENDER_INPUT:
                errors["Geschlecht"] = "muss leer (alle) oder eine Auswahl aus w, m, d sein, z. B. 'w, d'"
            elif part:
                chosen.add(GENDER_INPUT[part])
        ordered = [g for g in ("f", "m", "d") if g in chosen]
        values["genders"] = None if len(ordered) in (0, 3) else ",".join(ordered)

    values["first_date"] = values["last_date"] = None
    for key in ("first_date", "last_date"):
        if text(key):
            try:
                values[key] = parse_date(text(key).split(" ")[0])
            except ValueError:
                errors[_BY_KEY[key].header] = "muss ein Datum wie 05.03.2025 sein"

    values["municipality_id"] = None
    if text("municipality"):
        values["municipality_id"] = lookup.towns.get(text("municipality").casefold())
        if values["municipality_id"] is None:
            errors["Gemeinde"] = f"'{text('municipality')}' ist keine Gemeinde des Landkreises"

    values["lat"] = values["lon"] = None
    if text("lat") or text("lon"):
        try:
            values["lat"], values["lon"] = parse_decimal(text("lat")), parse_decimal(text("lon"))
        except ValueError:
            errors["Breitengrad"] = ("Breiten- und Längengrad müssen beide als Dezimalzahl angegeben "
                                     "werden (z. B. 49,8725 und 8,6512) oder beide leer bleiben")

    mode = text("entry_mode").casefold()
    values["entry_mode"] = {"": EntryMode.open.value, "offen": EntryMode.open.value,
                            "geschlossen": EntryMode.closed.value}.get(mode)
    if values["entry_mode"] is None:
        values["entry_mode"] = EntryMode.open.value  # reported below; keeps check_offer quiet
        errors["Einstieg"] = "muss 'offen' oder 'geschlossen' sein"

    flag = text("multi_professional").casefold()
    values["multi_professional"] = flag in YES
    if flag not in YES and flag not in NO:
        errors["Multiprofessionell"] = "muss 'ja' oder 'nein' sein"

    values["offset_rate_cents"] = 0
    if text("offset_rate"):
        try:
            if text("offset_rate").startswith("-"):
                raise ValueError(text("offset_rate"))
            values["offset_rate_cents"] = parse_euro_cents(text("offset_rate"))
        except ValueError:
            values["offset_rate_cents"] = None
            errors["Verrechnungssatz (€/Std.)"] = "muss ein Betrag in Euro wie 18,50 sein (nicht negativ)"

    ids, unknown = [], []
    for part in (p.strip() for p in re.split(r"[;,\n]", text("categories"))):
        if part:
            found = lookup.categories.get(part.casefold())
            (ids.append(found) if found is not None else unknown.append(part))
    values["category_ids"] = tuple(dict.fromkeys(ids))
    if unknown:
        errors["Kategorien"] = (f"unbekannt: {', '.join(repr(u) for u in unknown)} "
                                f"(möglich: {', '.join(lookup.category_labels)})")

    values["sessions"] = None
    if text("sessions"):
        slots, problems = _parse_sessions(text("sessions"))
        if problems:
            errors["Termine"] = "; ".join(problems)
        else:
            values["sessions"] = slots
    return values, errors


# --------------------------------------------------------------------------- import: the whole file


def _header_map(header: list[str]) -> tuple[dict[int, str], list[RowError]]:
    """Column index → key for the known importable headers; errors for missing or doubled ones."""
    known = {c.header.casefold(): c.key for c in COLUMNS}
    ignored = {h.casefold() for h in (*EXPORT_HEAD, *EXPORT_TAIL)}
    mapping: dict[int, str] = {}
    errors: list[RowError] = []
    for index, raw in enumerate(header):
        name = " ".join(raw.split()).casefold()
        if name in known:
            if known[name] in mapping.values():
                errors.append(RowError(1, raw.strip(), "kommt doppelt vor"))
            mapping[index] = known[name]
        elif name and name not in ignored:
            errors.append(RowError(1, raw.strip(), "ist unbekannt (erlaubte Spalten siehe Importseite)"))
    for column in COLUMNS:
        if column.required and column.key not in mapping.values():
            errors.append(RowError(None, column.header, "fehlt in der Kopfzeile (Zeile 1)"))
    return mapping, errors


def validate_rows(session: Session, rows: list[list[str]]) -> tuple[list[tuple[int, OfferInput]], list[RowError]]:
    """Check every data row of a table (first row = header): the offers to create, and every problem."""
    mapping, errors = _header_map(rows[0])
    if errors:
        return [], errors
    lookup = _Lookup(session)
    offers: list[tuple[int, OfferInput]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines are ignored
        cells = {key: row[i] if i < len(row) else "" for i, key in mapping.items()}
        values, row_errors = _read_row(cells, lookup)
        for key, message in check_offer(session, values).items():
            column = ERROR_COLUMN.get(key.split("-", 1)[0], "Termine" if key.startswith("sessions") else None)
            if column is None or column not in row_errors:
                row_errors.setdefault(column or "", message)
        for column, message in sorted(row_errors.items(), key=lambda item: _COLUMN_ORDER.get(item[0], 99)):
            errors.append(RowError(number, column or None, message))
        if not row_errors:
            offers.append((number, to_offer_input(values)))
    if not offers and not errors:
        errors.append(RowError(None, None, "Die Datei enthält keine Angebote (nur die Kopfzeile)."))
    return offers, errors


def import_offers(session: Session, *, actor: Any, filename: str, data: bytes) -> list[GroupOffer]:
    """Create one draft per row of the upload for the actor's provider, or nothing at all.

    Raises `OfferImportDenied` for anyone but a coordinator and `OfferImportError` (every
    problem, German, with row and column) when the file or any row is not acceptable.
    """
    if not has_role(actor, Role.coordinator) or actor.provider_id is None:
        raise OfferImportDenied("only a provider's coordinator imports offers")
    if len(data) > MAX_UPLOAD_BYTES:
        raise OfferImportError([RowError(None, None, f"Die Datei ist größer als {MAX_UPLOAD_MB} MB.")])
    try:
        rows = read_table(filename, data, max_rows=MAX_ROWS)
    except SpreadsheetError as exc:
        raise OfferImportError([RowError(None, None, str(exc))]) from None
    offers, errors = validate_rows(session, rows)
    if errors:
        raise OfferImportError(errors)
    return create_drafts(session, actor=actor, offers=offers, source=_short(filename))


def create_drafts(session: Session, *, actor: Any, offers: Sequence[tuple[int, OfferInput]],
                  source: str) -> list[GroupOffer]:
    """Write checked offers (row number, input) as drafts of the actor's provider in ONE transaction.

    The caller has checked every row (`check_offer`); a database refusal still writes nothing.
    """
    if not has_role(actor, Role.coordinator) or actor.provider_id is None:
        raise OfferImportDenied("only a provider's coordinator imports offers")
    created = []
    try:
        categories = {c.id: c for c in session.exec(select(Category)).all()}
        for number, data_row in offers:
            offer = GroupOffer(provider_id=actor.provider_id, created_by=actor.id, status=OfferStatus.draft.value,
                               **_columns(data_row))
            session.add(offer)
            session.flush()
            offer.categories = [categories[i] for i in data_row.category_ids]
            session.add_all(OfferSession(offer_id=offer.id, weekday=s.weekday, start_minute=s.start_minute,
                                         end_minute=s.end_minute) for s in data_row.sessions)
            session.add(OfferStatusEvent(offer_id=offer.id, from_status=None, to_status=OfferStatus.draft.value,
                                         actor_id=actor.id, reason=f"Importiert ({source}, Zeile {number})"))
            audit(session, actor, AuditAction.create, "group_offer", offer.id)
            created.append(offer)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise OfferImportError([RowError(None, None, "Die Angebote widersprechen einer Regel der Datenbank; "
                                                     "es wurde nichts gespeichert.")]) from None
    return created


def _short(filename: str) -> str:
    name = (filename or "Datei").replace("\\", "/").rsplit("/", 1)[-1]
    return name[:80]


def _columns(data: OfferInput) -> dict[str, Any]:
    return {
        "title": data.title, "description": data.description, "age_min": data.age_min, "age_max": data.age_max,
        "genders": data.genders, "first_date": data.first_date, "last_date": data.last_date,
        "municipality_id": data.municipality_id, "address": data.address, "lat": data.lat, "lon": data.lon,
        "seats": data.seats, "min_size": data.min_size, "entry_mode": data.entry_mode,
        "staff_mix": data.staff_mix, "multi_professional": data.multi_professional,
        "offset_rate_cents": data.offset_rate_cents,
    }


def template_table() -> tuple[tuple[str, ...], list[list[Any]]]:
    """An import template: the importable headers and one example row."""
    header = tuple(c.header for c in COLUMNS)
    example = ["Soziale Gruppe Beispiel", "Wöchentliche Gruppe für 10- bis 14-Jährige", "Soziale Kompetenzen",
               10, 14, "", "Mo 15:00-17:00; Do 16:00-17:30", today_berlin().strftime("%d.%m.%Y"), "", "Dieburg",
               "Marktplatz 1", "", "", 8, 4, "offen", "Sozialpädagogin + Sporttrainer", "ja", "18,50"]
    return header, [example]


__all__ = [
    "COLUMNS", "HEADERS", "MAX_ROWS", "MAX_UPLOAD_BYTES", "OfferImportDenied", "OfferImportError", "RowError",
    "can_export", "create_drafts", "export_offers", "export_table", "format_sessions", "import_offers",
    "template_table", "validate_rows",
]
