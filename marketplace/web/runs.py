"""Solver runs for planners (Solver-Läufe): history, on-demand runs with live progress, downloads.

Routes (all planner-only):
    GET  /laeufe/                     run history
    POST /laeufe/starten              start an on-demand run (background thread), go to its page
    GET  /laeufe/<id>                 one run: KPIs, objective terms, diff, waiting young people
    GET  /laeufe/<id>/fortschritt     progress fragment polled by htmx; 286 stops polling when done
    POST /laeufe/<id>/abbrechen       cancel a running run
    GET  /laeufe/<id>/problem.json    the pseudonymous problem (re-solvable: python -m marketplace.matching)
    GET  /laeufe/<id>/loesung.json    the solution
    GET/POST /laeufe/was-waere-wenn   what-if scenarios (nothing is written)
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlmodel import select

from ..access import require_role
from ..audit import audit
from ..db import get_engine, get_session
from ..matching.explain import explain_person
from ..matching.problem import parse_problem
from ..matching.solution import solution_from_json
from ..models import Category, GroupOffer, Municipality, Provider, Role, RunStatus, SolverRun, YoungPerson
from ..runs import progress_registry, start_on_demand
from ..solver_settings import WEIGHTS, read_settings
from ..whatif import ScenarioError, parse_scenario, run_scenario
from .rendering import render_page

bp = Blueprint("runs", __name__, url_prefix="/laeufe")

KIND_LABELS = {"nightly": "Nächtlicher Abgleich", "on_demand": "Auf Anforderung", "what_if": "Was-wäre-wenn"}
STATUS_LABELS = {"queued": "wartet", "running": "läuft", "done": "fertig", "failed": "fehlgeschlagen",
                 "cancelled": "abgebrochen"}
TERM_LABELS = {
    "placed": "Versorgte junge Menschen", "hours": "Gedeckte Gruppenstunden", "need_match": "Passende Bedarfe",
    "preferred": "Erfüllte Wünsche", "km": "Fahrwege", "offset_eur": "Verrechnungskosten",
    "change": "Geänderte Vorschläge",
}


def _run_or_404(run_id: int) -> SolverRun:
    run = get_session().get(SolverRun, run_id)
    if run is None:
        abort(404)
    return run


def _labels(run: SolverRun) -> tuple[dict[str, str], dict[str, str]]:
    """Pseudonyms of the young people and titles of the offers named in a run's diff."""
    diff = run.diff or {}
    person_keys: set[str] = set()
    group_keys: set[str] = set()
    for section in ("gained", "withdrawn"):
        for pid, groups in (diff.get(section) or {}).items():
            person_keys.add(pid)
            group_keys.update(groups)
    for pid, move in (diff.get("waiting_moves") or {}).items():
        person_keys.add(pid)
        group_keys.update(move.get("from", []) + move.get("to", []))
    person_keys.update(diff.get("over_budget") or [])
    person_keys.update((diff.get("unmatched") or {}).keys())
    for reasons in (diff.get("unmatched") or {}).values():
        for reason in reasons:
            for key in _KEY.findall(reason):
                (group_keys if key[0] == "G" else person_keys).add(key)
    session = get_session()
    people = {f"Y{p.id}": p.pseudonym for p in session.exec(
        select(YoungPerson).where(YoungPerson.id.in_([int(k[1:]) for k in person_keys] or [-1]))).all()}
    offers = {f"G{o.id}": o.title for o in session.exec(
        select(GroupOffer).where(GroupOffer.id.in_([int(k[1:]) for k in group_keys] or [-1]))).all()}
    return people, offers


_KEY = re.compile(r"\b[GYP]\d+\b")


def relabel(text: str, people: dict[str, str], offers: dict[str, str]) -> str:
    """Engine texts name groups, young people and providers by problem key; show names instead."""
    return _KEY.sub(lambda m: offers.get(m.group(0)) or people.get(m.group(0)) or m.group(0), text)


def _key_labels(texts: list[str]) -> dict[str, str]:
    """Titles, pseudonyms and provider names for every problem key in `texts`."""
    keys = {key for text in texts for key in _KEY.findall(text)}
    ids = {prefix: [int(k[1:]) for k in keys if k[0] == prefix] or [-1] for prefix in "GYP"}
    session = get_session()
    labels = {f"G{o.id}": o.title for o in session.exec(select(GroupOffer).where(GroupOffer.id.in_(ids["G"])))}
    labels |= {f"Y{y.id}": y.pseudonym for y in session.exec(select(YoungPerson).where(YoungPerson.id.in_(ids["Y"])))}
    labels |= {f"P{p.id}": p.name for p in session.exec(select(Provider).where(Provider.id.in_(ids["P"])))}
    return labels


@bp.route("/")
@require_role(Role.planner)
def index() -> str:
    runs = get_session().exec(select(SolverRun).order_by(SolverRun.created_at.desc()).limit(100)).all()
    return render_page("runs/index.html", "runs/partials/table.html", runs=runs,
                       kind_labels=KIND_LABELS, status_labels=STATUS_LABELS)


@bp.route("/starten", methods=["POST"])
@require_role(Role.planner)
def start() -> Response:
    run_id, running = start_on_demand(get_session(), get_engine(), current_user.id)
    if run_id is None:
        flash("Es läuft bereits ein Abgleich. Bitte warten Sie, bis er fertig ist.", "warning")
        return redirect(url_for("runs.detail", run_id=running.id) if running else url_for("runs.index"))
    audit(get_session(), current_user, "create", "solver_run", run_id)
    get_session().commit()
    flash("Der Abgleich wurde gestartet.", "success")
    return redirect(url_for("runs.detail", run_id=run_id))


@bp.route("/<int:run_id>")
@require_role(Role.planner)
def detail(run_id: int) -> str:
    run = _run_or_404(run_id)
    people, offers = _labels(run)
    return render_page("runs/detail.html", "runs/partials/summary.html", run=run, people=people, offers=offers,
                       relabel=relabel,
                       kind_labels=KIND_LABELS, status_labels=STATUS_LABELS, term_labels=TERM_LABELS,
                       progress=progress_registry.get(run.id))


@bp.route("/<int:run_id>/fortschritt")
@require_role(Role.planner)
def progress(run_id: int) -> Response:
    run = _run_or_404(run_id)
    get_session().refresh(run)
    finished = run.status not in (RunStatus.queued.value, RunStatus.running.value)
    html = render_page("runs/partials/progress.html", "runs/partials/progress.html", run=run,
                       progress=progress_registry.get(run.id), status_labels=STATUS_LABELS, finished=finished)
    response = Response(html)
    if finished:
        response.status_code = 286  # htmx: stop polling
        response.headers["HX-Refresh"] = "true"
    return response


@bp.route("/<int:run_id>/erklaerung/<key>")
@require_role(Role.planner)
def explanation(run_id: int, key: str) -> str:
    """Why the run gave this young person these groups, and the best alternatives (htmx fragment)."""
    run = _run_or_404(run_id)
    if not run.problem_json or not run.solution_json:
        abort(404)
    problem = parse_problem(run.problem_json)
    if key not in problem.people:
        abort(404)
    assignments = solution_from_json(run.solution_json).assignments
    result = explain_person(problem, assignments, key)
    texts = [result.summary, *result.lines, *result.reasons]
    labels = _key_labels(texts)
    audit(get_session(), current_user, "view", "solver_run", run.id, case_id=int(key[1:]))
    get_session().commit()
    return render_page("runs/partials/explanation.html", "runs/partials/explanation.html",
                       summary=relabel(result.summary, labels, {}),
                       lines=[relabel(line, labels, {}) for line in result.lines],
                       reasons=[relabel(line, labels, {}) for line in result.reasons])


@bp.route("/<int:run_id>/abbrechen", methods=["POST"])
@require_role(Role.planner)
def cancel(run_id: int) -> Response:
    run = _run_or_404(run_id)
    if run.status in (RunStatus.queued.value, RunStatus.running.value) and progress_registry.cancel(run.id):
        flash("Der Lauf wird abgebrochen; es wird nichts übernommen.", "warning")
    else:
        flash("Dieser Lauf läuft nicht (mehr) und kann nicht abgebrochen werden.", "info")
    return redirect(url_for("runs.detail", run_id=run.id))


def _download(run: SolverRun, payload: dict | None, name: str) -> Response:
    if payload is None:
        abort(404)
    audit(get_session(), current_user, "export", "solver_run", run.id)
    get_session().commit()
    body = json.dumps(payload, ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="lauf-{run.id}-{name}.json"'})


@bp.route("/<int:run_id>/problem.json")
@require_role(Role.planner)
def problem_json(run_id: int) -> Response:
    run = _run_or_404(run_id)
    return _download(run, run.problem_json, "problem")


@bp.route("/<int:run_id>/loesung.json")
@require_role(Role.planner)
def solution_json(run_id: int) -> Response:
    run = _run_or_404(run_id)
    return _download(run, run.solution_json, "loesung")


@bp.route("/was-waere-wenn", methods=["GET", "POST"])
@require_role(Role.planner)
def what_if() -> str | tuple[str, int]:
    """Try weights, a removed group or a hypothetical new group; nothing is written."""
    session = get_session()
    errors: dict[str, str] = {}
    result = None
    if request.method == "POST":
        try:
            scenario = parse_scenario(session, request.form.to_dict(), request.form.getlist("remove"),
                                      request.form.getlist("categories"))
        except ScenarioError as exc:
            errors = exc.field_errors
        else:
            result = run_scenario(session, scenario)
        values = request.form.to_dict()
        values["remove"] = request.form.getlist("remove")
        values["categories"] = request.form.getlist("categories")
    else:
        weights = read_settings(session).weights
        values = {key: f"{value:g}".replace(".", ",") for key, value in weights.items()}
        values.update(start="15:00", end="17:00", seats="8", min_size="3", age_min="10", age_max="14",
                      remove=[], categories=[])
    context = {
        "values": values, "errors": errors, "result": result, "weights": WEIGHTS,
        "offers": session.exec(select(GroupOffer).where(GroupOffer.status == "published")
                               .order_by(GroupOffer.title)).all(),
        "municipalities": session.exec(select(Municipality).order_by(Municipality.name)).all(),
        "categories": session.exec(select(Category).where(Category.active).order_by(Category.label)).all(),
        "weekdays": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    }
    html = render_page("runs/what_if.html", "runs/partials/what_if_result.html", **context)
    return (html, 422) if errors else html
