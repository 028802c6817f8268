"""Validation of a young person's case data (Falldaten), with German messages per field.

`validate_case` checks everything at once and returns every problem, so a form can
show all messages at their fields in one round trip. It writes nothing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from .models import (
    CaseStatus,
    Category,
    Gender,
    GroupOffer,
    LegalBasis,
    Module,
    Municipality,
    Provider,
    YoungPerson,
)

#: Young people up to 27 (§ 41 SGB VIII: young adults) and not born in the future.
MAX_AGE = 27
#: Exact home coordinates must lie this close to the chosen municipality's centre.
MAX_KM_FROM_MUNICIPALITY = 10.0
MAX_TRAVEL_KM = 100.0
GRID_MINUTES = 15
PRIORITY_LABELS = {1: "normal", 2: "lange wartend", 3: "Krise"}
#: A file number (Aktenzeichen): letters, digits, "/", ".", "-", at least one digit, no spaces (no names).
CASE_REFERENCE_PATTERN = re.compile(r"^(?=.*\d)[A-Z0-9][A-Z0-9./-]{2,29}$")


@dataclass
class CaseFields:
    """The editable data of a case. None means "not given" (the validator says what is missing).

    Minutes for the weekly group share; `availability` holds (weekday 0=Mon..6, start, end)
    in minutes since midnight. `group_minutes_target/max` None means the module's default.
    """

    case_reference: str | None = None
    birth_year: int | None = None
    gender: str | None = None
    municipality_id: int | None = None
    lat: float | None = None
    lon: float | None = None
    need_ids: list[int] = field(default_factory=list)
    availability: list[tuple[int, int, int]] = field(default_factory=list)
    max_travel_km: float | None = None
    module_id: int | None = None
    group_minutes_target: int | None = None
    group_minutes_max: int | None = None
    lead_provider_id: int | None = None
    approval_start: date | None = None
    approval_end: date | None = None
    legal_basis: str | None = None
    priority: int | None = 1
    risk_report_at: date | None = None
    preferred_offer_ids: list[int] = field(default_factory=list)
    excluded_offer_ids: list[int] = field(default_factory=list)
    keep_apart_ids: list[int] = field(default_factory=list)


def group_band(module: Module) -> tuple[int, int]:
    """The range (minutes) in which a young person's group share may be set for `module`.

    The group share is steered "within the band" (more or less group work): from 0 up to
    the module's weekly care maximum. Crisis intervention is mainly 1:1 work, so there
    the module's own group maximum is the limit.
    """
    upper = module.group_minutes_max if module.is_crisis else module.care_minutes_max
    return 0, upper


def hours_label(minutes: int) -> str:
    """Minutes as German hours, e.g. 150 → "2,5 Std."."""
    hours = minutes / 60
    text = f"{hours:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{text} Std."


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def normalise_case_reference(value: str | None) -> str | None:
    value = (value or "").strip().upper()
    return value or None


#: The largest id a database row can have (32-bit integer columns).
MAX_ID = 2**31 - 1
_ID_FIELDS = ("municipality_id", "module_id", "lead_provider_id")
_ID_LIST_FIELDS = ("need_ids", "preferred_offer_ids", "excluded_offer_ids", "keep_apart_ids")


def _id_range_errors(fields: CaseFields) -> dict[str, str]:
    """Ids outside 1..MAX_ID: no such record can exist."""
    errors: dict[str, str] = {}
    for name in _ID_FIELDS:
        value = getattr(fields, name)
        if value is not None and not 0 < value <= MAX_ID:
            errors[name] = "Diese Auswahl gibt es nicht."
    for name in _ID_LIST_FIELDS:
        if any(not 0 < value <= MAX_ID for value in getattr(fields, name) or ()):
            errors[name] = "Die Auswahl enthält einen unbekannten Eintrag."
    return errors


def validate_case(
    session: Session,
    fields: CaseFields,
    *,
    team_id: int,
    today: date,
    young_person_id: int | None = None,
) -> dict[str, str]:
    """Every problem of `fields` as {field name: German message}; empty when all is well."""
    errors = _id_range_errors(fields)
    if errors:  # ids no table can hold are never looked up (PostgreSQL refuses them with an error)
        return errors
    _check_reference(session, fields, errors, young_person_id)
    _check_person(fields, errors, today)
    _check_home(session, fields, errors)
    _check_needs(session, fields, errors)
    errors.update(availability_errors(fields.availability))
    if fields.max_travel_km is None:
        errors["max_travel_km"] = "Bitte geben Sie die höchste zumutbare Fahrstrecke an."
    elif not 0 < fields.max_travel_km <= MAX_TRAVEL_KM:
        errors["max_travel_km"] = f"Die Fahrstrecke muss größer als 0 und höchstens {MAX_TRAVEL_KM:.0f} km sein."
    module = _check_module(session, fields, errors)
    if module is not None:
        _check_group_share(fields, module, errors)
        _check_crisis(fields, module, errors, today)
    _check_approval(fields, errors)
    _check_provider(session, fields, errors)
    _check_wishes(session, fields, errors)
    _check_keep_apart(session, fields, errors, team_id, young_person_id)
    return errors


def _check_reference(session: Session, fields: CaseFields, errors: dict[str, str], young_person_id: int | None) -> None:
    reference = normalise_case_reference(fields.case_reference)
    fields.case_reference = reference
    if reference is None:
        return
    if not CASE_REFERENCE_PATTERN.match(reference):
        errors["case_reference"] = (
            "Das Aktenzeichen besteht aus 3 bis 30 Buchstaben, Ziffern, „/“, „.“ oder „-“ "
            "ohne Leerzeichen und enthält mindestens eine Ziffer (bitte keine Namen)."
        )
        return
    query = select(YoungPerson.id).where(func.upper(YoungPerson.case_reference) == reference)
    if young_person_id is not None:
        query = query.where(YoungPerson.id != young_person_id)
    if session.exec(query).first() is not None:
        errors["case_reference"] = "Dieses Aktenzeichen ist bereits einem anderen Fall zugeordnet."


def _check_person(fields: CaseFields, errors: dict[str, str], today: date) -> None:
    if fields.birth_year is None:
        errors["birth_year"] = "Bitte geben Sie das Geburtsjahr an."
    elif not today.year - MAX_AGE <= fields.birth_year <= today.year:
        errors["birth_year"] = (
            f"Das Geburtsjahr muss zwischen {today.year - MAX_AGE} und {today.year} liegen "
            f"(junge Menschen bis {MAX_AGE} Jahre)."
        )
    if fields.gender not in {g.value for g in Gender}:
        errors["gender"] = "Bitte wählen Sie das Geschlecht: weiblich, männlich oder divers."


def _check_home(session: Session, fields: CaseFields, errors: dict[str, str]) -> None:
    town = session.get(Municipality, fields.municipality_id) if fields.municipality_id else None
    if town is None:
        errors["municipality_id"] = "Bitte wählen Sie den Wohnort aus der Liste der Gemeinden."
    if (fields.lat is None) != (fields.lon is None):
        errors["coordinates"] = "Bitte geben Sie Breiten- und Längengrad gemeinsam an oder lassen Sie beide leer."
        return
    if fields.lat is None or town is None:
        return
    if not (-90 <= fields.lat <= 90 and -180 <= fields.lon <= 180):
        errors["coordinates"] = "Die Koordinaten sind ungültig (Breite −90 bis 90, Länge −180 bis 180)."
    elif distance_km(fields.lat, fields.lon, town.lat, town.lon) > MAX_KM_FROM_MUNICIPALITY:
        errors["coordinates"] = (
            f"Die Koordinaten liegen mehr als {MAX_KM_FROM_MUNICIPALITY:.0f} km vom Ortsmittelpunkt von "
            f"{town.name} entfernt. Bitte prüfen Sie den Wohnort oder lassen Sie die Koordinaten leer."
        )


def _check_needs(session: Session, fields: CaseFields, errors: dict[str, str]) -> None:
    ids = set(fields.need_ids)
    if not ids:
        errors["need_ids"] = "Bitte wählen Sie mindestens einen Bedarf."
        return
    found = session.exec(select(Category.id).where(Category.id.in_(ids), Category.active)).all()
    if len(found) != len(ids):
        errors["need_ids"] = "Mindestens ein gewählter Bedarf ist unbekannt oder nicht mehr aktiv."


def availability_errors(windows: list[tuple[int, int, int]]) -> dict[str, str]:
    """Weekly windows: at least one, weekday 0–6, 15-minute grid, end after start, no overlaps."""
    if not windows:
        return {"availability": "Bitte geben Sie mindestens ein wöchentliches Zeitfenster an."}
    for weekday, start, end in windows:
        if not 0 <= weekday <= 6:
            return {"availability": "Unbekannter Wochentag."}
        if start % GRID_MINUTES or end % GRID_MINUTES:
            return {"availability": "Zeiten bitte im Viertelstundenraster angeben (z. B. 14:00, 14:15, 14:30)."}
        if not 0 <= start < end <= 24 * 60:
            return {"availability": "Das Ende eines Zeitfensters muss nach seinem Beginn liegen."}
    ordered = sorted(windows)
    for (day_a, _, end_a), (day_b, start_b, _) in zip(ordered, ordered[1:], strict=False):
        if day_a == day_b and start_b < end_a:
            return {"availability": "Zeitfenster am selben Tag dürfen sich nicht überschneiden."}
    return {}


def _check_module(session: Session, fields: CaseFields, errors: dict[str, str]) -> Module | None:
    module = session.get(Module, fields.module_id) if fields.module_id else None
    if module is None or not module.active:
        errors["module_id"] = "Bitte wählen Sie ein Modul aus dem Katalog."
        return None
    return module


def _check_group_share(fields: CaseFields, module: Module, errors: dict[str, str]) -> None:
    """Fill the defaults from the module, then keep target and maximum inside the band."""
    if fields.group_minutes_target is None:
        fields.group_minutes_target = module.group_minutes_target
    if fields.group_minutes_max is None:
        fields.group_minutes_max = module.group_minutes_max
    low, high = group_band(module)
    band = f"{hours_label(low)} bis {hours_label(high)}"
    for name, label in (("group_minutes_target", "Der Zielwert"), ("group_minutes_max", "Das Maximum")):
        value = getattr(fields, name)
        if value % GRID_MINUTES:
            errors[name] = f"{label} der Gruppenstunden bitte in Viertelstunden angeben."
        elif not low <= value <= high:
            errors[name] = f"{label} der Gruppenstunden muss im Band des Moduls {module.name} liegen ({band})."
    if "group_minutes_max" not in errors and "group_minutes_target" not in errors:
        if fields.group_minutes_max < fields.group_minutes_target:
            errors["group_minutes_max"] = "Das Maximum darf nicht unter dem Zielwert der Gruppenstunden liegen."


def _check_crisis(fields: CaseFields, module: Module, errors: dict[str, str], today: date) -> None:
    if module.is_crisis:
        fields.priority = 3  # crisis intervention always has crisis priority
    else:
        fields.risk_report_at = None  # only a crisis module records the § 8a report here
        if fields.priority not in (1, 2):
            errors["priority"] = (
                "Bitte wählen Sie die Priorität „normal“ oder „lange wartend“ "
                "(„Krise“ gilt nur für das Modul Krisenintervention)."
            )
    if module.requires_risk_report:
        if fields.risk_report_at is None:
            errors["risk_report_at"] = (
                "Für eine Krisenintervention muss das Datum der Gefährdungsmeldung nach § 8a SGB VIII angegeben werden."
            )
        elif fields.risk_report_at > today:
            errors["risk_report_at"] = "Das Datum der Gefährdungsmeldung darf nicht in der Zukunft liegen."


def _check_approval(fields: CaseFields, errors: dict[str, str]) -> None:
    if fields.approval_start is None:
        errors["approval_start"] = "Bitte geben Sie den Beginn der Bewilligung an."
    elif fields.approval_end is not None and fields.approval_end < fields.approval_start:
        errors["approval_end"] = "Das Ende der Bewilligung darf nicht vor ihrem Beginn liegen."
    if fields.legal_basis not in {b.value for b in LegalBasis}:
        errors["legal_basis"] = "Bitte wählen Sie die Rechtsgrundlage der Hilfe (SGB VIII)."


def _check_provider(session: Session, fields: CaseFields, errors: dict[str, str]) -> None:
    provider = session.get(Provider, fields.lead_provider_id) if fields.lead_provider_id else None
    if provider is None or not provider.active:
        errors["lead_provider_id"] = "Bitte wählen Sie den federführenden Träger."


def _check_wishes(session: Session, fields: CaseFields, errors: dict[str, str]) -> None:
    preferred, excluded = set(fields.preferred_offer_ids), set(fields.excluded_offer_ids)
    if preferred & excluded:
        errors["excluded_offer_ids"] = "Ein Angebot kann nicht zugleich gewünscht und ausgeschlossen sein."
        return
    wanted = preferred | excluded
    if wanted and len(session.exec(select(GroupOffer.id).where(GroupOffer.id.in_(wanted))).all()) != len(wanted):
        errors["preferred_offer_ids"] = "Mindestens ein gewähltes Angebot gibt es nicht."


def _check_keep_apart(
    session: Session, fields: CaseFields, errors: dict[str, str], team_id: int, young_person_id: int | None
) -> None:
    others = set(fields.keep_apart_ids)
    if not others:
        return
    if young_person_id is not None and young_person_id in others:
        errors["keep_apart_ids"] = "Ein junger Mensch kann nicht von sich selbst getrennt werden."
        return
    found = session.exec(
        select(YoungPerson.id).where(
            YoungPerson.id.in_(others),
            YoungPerson.team_id == team_id,
            YoungPerson.status.in_((CaseStatus.active.value, CaseStatus.review.value)),
        )
    ).all()
    if len(found) != len(others):
        errors["keep_apart_ids"] = "„Nicht zusammen mit“ ist nur mit laufenden Fällen des eigenen Teams möglich."
