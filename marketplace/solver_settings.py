"""Settings kept by the Jugendamt (Einstellungen): solver weights, run limits, offset billing rule.

The weights are FORMAT.md's objective weights; the explanations below are what planners
read on the settings page. Saving validates every field and writes nothing if any is bad.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from .audit import audit
from .ledger import BILL_EXCUSED_SETTING
from .matching.problem import DEFAULT_WEIGHTS
from .models import Setting
from .runs import DEFAULT_MAX_CHANGES, DEFAULT_TIME_LIMIT_S, MAX_CHANGES_SETTING, TIME_LIMIT_SETTING
from .snapshot import WEIGHTS_SETTING, solver_weights


@dataclass(frozen=True)
class WeightInfo:
    label: str
    help: str


WEIGHTS: dict[str, WeightInfo] = {
    "placed": WeightInfo("Versorgung", "Punkte je junger Mensch, der überhaupt eine Gruppe bekommt, "
                         "mal Priorität (1 normal, 2 lange Wartezeit, 3 Krise). "
                         "Höher: lieber viele mit wenig Stunden."),
    "hours": WeightInfo("Gruppenstunden", "Punkte je gedeckter Gruppenstunde bis zum Ziel des Moduls, mal Priorität. "
                        "Höher: das Stundenziel jedes jungen Menschen wird wichtiger."),
    "need_match": WeightInfo("Passende Bedarfe", "Punkte je Bedarf, den eine Gruppe bedient. "
                             "Höher: Gruppen, die mehrere Bedarfe treffen, werden bevorzugt."),
    "preferred": WeightInfo("Wünsche (§ 5 SGB VIII)", "Punkte je erfüllter Wunschgruppe. "
                            "Höher: Wünsche der jungen Menschen wiegen schwerer."),
    "km": WeightInfo("Fahrweg", "Abzug je Kilometer Weg zur Gruppe. Höher: wohnortnähere Gruppen, "
                     "notfalls auf Kosten von Stunden."),
    "change": WeightInfo("Stabilität", "Abzug je zurückgezogenem Vorschlag. Höher: der Abgleich lässt bestehende "
                         "Vorschläge eher in Ruhe."),
    "offset_eur": WeightInfo("Verrechnungskosten", "Abzug je Euro Verrechnungssatz pro Woche, wenn ein junger Mensch "
                             "die Gruppe eines anderen Trägers nutzt. 0: Kosten spielen keine Rolle."),
}
MAX_WEIGHT = 1_000_000


class SettingsError(ValueError):
    """Invalid settings; `field_errors` maps field names to German messages."""

    def __init__(self, field_errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in field_errors.items()))
        self.field_errors = field_errors


@dataclass
class SolverSettings:
    weights: dict[str, float]
    max_changes: int
    time_limit_s: float
    bill_excused: bool = False  # offsets: does an excused absence count as a participant-hour?


def read_settings(session: Session) -> SolverSettings:
    """The settings in force (defaults where nothing is stored)."""
    def value(key, default):
        row = session.get(Setting, key)
        return default if row is None or row.value is None else row.value

    return SolverSettings(weights=solver_weights(session),
                          max_changes=int(value(MAX_CHANGES_SETTING, DEFAULT_MAX_CHANGES)),
                          time_limit_s=float(value(TIME_LIMIT_SETTING, DEFAULT_TIME_LIMIT_S)),
                          bill_excused=value(BILL_EXCUSED_SETTING, False) is True)


def parse_number(text: object) -> float | None:
    """A German or English decimal ("12,5", "12.5", "1.000") as float, None if unreadable."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str) or not text.strip():
        return None
    cleaned = text.strip().replace(" ", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def parse_settings(form: dict[str, object]) -> SolverSettings:
    """Validate submitted settings; raises SettingsError with a German message per bad field."""
    errors: dict[str, str] = {}
    weights: dict[str, float] = {}
    for key in DEFAULT_WEIGHTS:
        number = parse_number(form.get(key))
        if number is None:
            errors[key] = "Bitte eine Zahl eingeben, z. B. 100 oder 12,5."
        elif not 0 <= number <= MAX_WEIGHT:
            errors[key] = f"Muss zwischen 0 und {MAX_WEIGHT:,} liegen.".replace(",", ".")
        else:
            weights[key] = number
    changes = parse_number(form.get("max_changes"))
    if changes is None or not changes.is_integer() or not 0 <= changes <= 100_000:
        errors["max_changes"] = "Bitte eine ganze Zahl von 0 bis 100.000 eingeben."
    limit = parse_number(form.get("time_limit_s"))
    if limit is None or not 1 <= limit <= 600:
        errors["time_limit_s"] = "Bitte eine Zeit von 1 bis 600 Sekunden eingeben."
    if errors:
        raise SettingsError(errors)
    return SolverSettings(weights=weights, max_changes=int(changes), time_limit_s=float(limit),
                          bill_excused=form.get("bill_excused") in ("1", "on", "true", True))


def save_settings(session: Session, *, settings: SolverSettings, actor) -> None:
    """Store validated settings (the caller commits) and audit the change."""
    for key, value in ((WEIGHTS_SETTING, settings.weights), (MAX_CHANGES_SETTING, settings.max_changes),
                       (TIME_LIMIT_SETTING, settings.time_limit_s), (BILL_EXCUSED_SETTING, settings.bill_excused)):
        row = session.get(Setting, key) or Setting(key=key)
        row.value = value
        row.updated_by = getattr(actor, "id", None)
        session.add(row)
    audit(session, actor, "update", "setting", "solver")
