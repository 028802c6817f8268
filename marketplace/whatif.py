"""What-if scenarios (Was-wäre-wenn) for planners: change weights, add or remove groups, compare.

Nothing is written: the live snapshot is copied, changed and solved in memory. The
comparison has three columns: the live plan as it stands, a re-plan of the unchanged
district with the current settings (what tonight's run would reach), and the scenario.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from sqlmodel import Session, select

from .matching.problem import DAYS, parse_problem
from .matching.solution import evaluate
from .matching.solve import SolveOptions, solve
from .models import Category, Municipality
from .snapshot import build_snapshot
from .solver_settings import SettingsError, parse_number, parse_settings

HYPOTHETICAL_PROVIDER = "HYP"


class ScenarioError(SettingsError):
    """Invalid scenario input; `field_errors` maps field names to German messages."""


@dataclass
class HypotheticalGroup:
    """A group that does not exist yet, placed in a municipality's centre."""

    municipality_id: int
    weekday: int
    start_minute: int
    end_minute: int
    seats: int
    min_size: int
    categories: list[str]
    age_min: int
    age_max: int


@dataclass
class Scenario:
    weights: dict[str, float]
    remove_offer_ids: list[int] = field(default_factory=list)
    add_group: HypotheticalGroup | None = None


@dataclass
class Column:
    label: str
    kpis: dict
    objective: float
    status: str = ""


@dataclass
class ScenarioResult:
    columns: list[Column]
    new_group_members: int | None = None


def _minutes(text: str) -> int | None:
    try:
        hh, mm = text.strip().split(":")
        value = int(hh) * 60 + int(mm)
    except (AttributeError, ValueError):
        return None
    return value if 0 <= value <= 24 * 60 and value % 15 == 0 else None


def _int(form: dict, key: str, low: int, high: int, errors: dict, message: str) -> int:
    number = parse_number(form.get(key))
    if number is None or not number.is_integer() or not low <= number <= high:
        errors[key] = message
        return low
    return int(number)


def parse_scenario(session: Session, form: dict, remove_ids: list[str], categories: list[str]) -> Scenario:
    """Validate the what-if form; raises ScenarioError with German messages per field."""
    errors: dict[str, str] = {}
    try:
        weights = parse_settings({**form, "max_changes": "0", "time_limit_s": "10"}).weights
    except SettingsError as exc:
        errors.update(exc.field_errors)
        weights = {}
    removed = []
    for text in remove_ids:
        if not text.isdecimal():
            errors["remove"] = "Unbekannte Gruppe ausgewählt."
        else:
            removed.append(int(text))
    group = None
    if form.get("municipality_id"):
        municipality_id = _int(form, "municipality_id", 1, 10**9, errors, "Bitte eine Gemeinde wählen.")
        if "municipality_id" not in errors and session.get(Municipality, municipality_id) is None:
            errors["municipality_id"] = "Bitte eine Gemeinde wählen."
        weekday = _int(form, "weekday", 0, 6, errors, "Bitte einen Wochentag wählen.")
        start, end = _minutes(form.get("start", "")), _minutes(form.get("end", ""))
        if start is None:
            errors["start"] = "Uhrzeit als HH:MM im Viertelstundentakt, z. B. 15:00."
        if end is None:
            errors["end"] = "Uhrzeit als HH:MM im Viertelstundentakt, z. B. 17:00."
        elif start is not None and end <= start:
            errors["end"] = "Das Ende muss nach dem Beginn liegen."
        seats = _int(form, "seats", 1, 100, errors, "Plätze: ganze Zahl von 1 bis 100.")
        min_size = _int(form, "min_size", 1, 100, errors, "Mindestgröße: ganze Zahl ab 1.")
        if "seats" not in errors and "min_size" not in errors and min_size > seats:
            errors["min_size"] = "Die Mindestgröße darf die Platzzahl nicht übersteigen."
        age_min = _int(form, "age_min", 0, 27, errors, "Alter von 0 bis 27.")
        age_max = _int(form, "age_max", 0, 27, errors, "Alter von 0 bis 27.")
        if "age_min" not in errors and "age_max" not in errors and age_min > age_max:
            errors["age_max"] = "Das Höchstalter muss mindestens das Mindestalter sein."
        known = set(session.exec(select(Category.code)).all())
        if not categories:
            errors["categories"] = "Bitte mindestens eine Kategorie wählen."
        elif not set(categories) <= known:
            errors["categories"] = "Unbekannte Kategorie ausgewählt."
        if not errors:
            group = HypotheticalGroup(municipality_id, weekday, start, end, seats, min_size, categories,
                                      age_min, age_max)
    if errors:
        raise ScenarioError(errors)
    return Scenario(weights=weights, remove_offer_ids=removed, add_group=group)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def scenario_problem(session: Session, base_raw: dict, scenario: Scenario) -> dict:
    """The live problem with the scenario's weights, removals and the hypothetical group."""
    raw = copy.deepcopy(base_raw)
    raw["weights"] = dict(scenario.weights)
    removed = {f"G{i}" for i in scenario.remove_offer_ids}
    raw["groups"] = [g for g in raw["groups"] if g["id"] not in removed]
    for person in raw["young_people"]:
        for key in ("current", "pinned", "preferred_groups", "excluded_groups"):
            person[key] = [g for g in person[key] if g not in removed]
    if scenario.add_group is not None:
        g = scenario.add_group
        town = session.get(Municipality, g.municipality_id)
        raw["groups"].append({
            "id": "H1", "provider": HYPOTHETICAL_PROVIDER, "location": {"lat": town.lat, "lon": town.lon},
            "seats": g.seats, "min_size": g.min_size, "categories": sorted(g.categories),
            "age_min": g.age_min, "age_max": g.age_max, "genders": None,
            "sessions": [{"day": DAYS[g.weekday], "start": _hhmm(g.start_minute), "end": _hhmm(g.end_minute)}],
            "offset_rate": 0, "open_for_new": True,
        })
        raw["providers"].append({"id": HYPOTHETICAL_PROVIDER})
    return raw


def run_scenario(session: Session, scenario: Scenario, *, time_limit_s: float = 10.0) -> ScenarioResult:
    """Solve the scenario and the unchanged district; compare both with the live plan."""
    snapshot = build_snapshot(session)
    live = evaluate(snapshot.problem, snapshot.current_assignments())
    options = SolveOptions(time_limit_s=time_limit_s)
    replan = solve(snapshot.problem, options)
    changed = parse_problem(scenario_problem(session, snapshot.raw, scenario))
    result = solve(changed, options)
    scenario_eval = evaluate(changed, result.assignments)
    columns = [
        Column("Aktueller Plan", live.kpis, live.objective),
        Column("Neuplanung (heutige Einstellungen)", evaluate(snapshot.problem, replan.assignments).kpis,
               replan.objective or 0.0, replan.status.value),
        Column("Szenario", scenario_eval.kpis, result.objective or 0.0, result.status.value),
    ]
    members = None
    if scenario.add_group is not None:
        members = sum(1 for groups in result.assignments.values() if "H1" in groups)
    return ScenarioResult(columns=columns, new_group_members=members)
