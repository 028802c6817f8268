"""Solver runs (Solverläufe): nightly rebalancing and on-demand runs, recorded and applied safely.

A run goes: `create_run` (a row with a unique `run_key`, so a night is run at most once
even when two scheduler processes start) → `execute_run`: build the snapshot (the one
bridge, `marketplace.snapshot`), solve, then apply the solution in ONE transaction.

What applying may change (and nothing else):
- new proposals (Placement status proposed, source solver) for young people the plan
  gives a group they do not have yet;
- withdrawn proposals (status ended, reason "vom Abgleich zurückgezogen") that the plan drops.
Confirmed and accepted placements are pinned in the problem and never touched here.

Disruption budget (setting `solver.max_changes`, default 100): at most that many young
people get changed proposals per run, crisis and long-waiting first. A young person who
already has an open proposal is never moved automatically: the alternative is recorded
in the run's diff as `waiting_moves` for the caseworker to confirm or ignore.

If the data changed while the solver ran (the input hash differs when applying), if the
solver found no solution, or if anything fails while writing, nothing is written and the
run is marked failed with a German reason.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .matching.solution import Status, evaluate, solution_to_json
from .matching.solve import SolveOptions, solve
from .models import (
    Placement,
    PlacementEvent,
    PlacementSource,
    PlacementStatus,
    RunKind,
    RunStatus,
    Setting,
    SolverRun,
)
from .snapshot import Snapshot, build_snapshot
from .timeutil import today_berlin, utcnow

MAX_CHANGES_SETTING = "solver.max_changes"
TIME_LIMIT_SETTING = "solver.time_limit_s"
DEFAULT_MAX_CHANGES = 100
DEFAULT_TIME_LIMIT_S = 20.0
WITHDRAW_REASON = "vom Abgleich zurückgezogen"


class RunError(RuntimeError):
    """A run could not be applied; the message is German and shown to planners."""


def nightly_key(day: date) -> str:
    """The run key of the nightly rebalancing of `day` (Berlin date)."""
    return f"nightly-{day.isoformat()}"


def setting_value(session: Session, key: str, default):
    row = session.get(Setting, key)
    return default if row is None or row.value is None else row.value


def input_hash(raw: dict) -> str:
    """A stable hash of a matching problem (canonical JSON)."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def create_run(engine: Engine, *, kind: RunKind | str, run_key: str | None = None,
               started_by: int | None = None) -> int | None:
    """Insert a queued run (committed at once); None when a run with `run_key` exists already, or
    for an on-demand run when another one is queued or running (a unique index: of two requests at
    the same moment, only one gets a run)."""
    kind = RunKind(kind)
    key = run_key or f"{kind.value}-{utcnow().strftime('%Y%m%dT%H%M%S%f')}"
    with Session(engine) as session:
        run = SolverRun(run_key=key, kind=kind.value, status=RunStatus.queued.value, started_by=started_by)
        session.add(run)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return None
        return run.id


# ----------------------------------------------------------------------------- progress


class _Registry:
    """Progress and cancel flags of runs executing in this process (for the live progress bar)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress: dict[int, dict] = {}
        self._cancel: dict[int, threading.Event] = {}

    def start(self, run_id: int) -> threading.Event:
        with self._lock:
            self._progress[run_id] = {"elapsed": 0.0, "objective": None, "bound": None, "phase": "Vorbereitung"}
            return self._cancel.setdefault(run_id, threading.Event())

    def update(self, run_id: int, **values) -> None:
        with self._lock:
            self._progress.setdefault(run_id, {}).update(values)

    def get(self, run_id: int) -> dict | None:
        with self._lock:
            value = self._progress.get(run_id)
            return dict(value) if value is not None else None

    def cancel(self, run_id: int) -> bool:
        with self._lock:
            event = self._cancel.get(run_id)
        if event is None:
            return False
        event.set()
        return True

    def finish(self, run_id: int) -> None:
        with self._lock:
            self._cancel.pop(run_id, None)
            self._progress.pop(run_id, None)


progress_registry = _Registry()


# ----------------------------------------------------------------------------- planning the changes


@dataclass
class Changes:
    """What applying a solution would do, per young person (problem keys "Y…"/"G…")."""

    gained: dict[str, list[str]] = field(default_factory=dict)  # new proposals
    withdrawn: dict[str, list[str]] = field(default_factory=dict)  # proposals dropped
    waiting_moves: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    over_budget: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"gained": self.gained, "withdrawn": self.withdrawn, "waiting_moves": self.waiting_moves,
                "over_budget": self.over_budget}

    @property
    def count(self) -> int:
        return len(set(self.gained) | set(self.withdrawn))


def plan_changes(snapshot: Snapshot, assignments: dict[str, tuple[str, ...]], max_changes: int) -> Changes:
    """Compare the solution with the live plan and decide what to write (see module doc)."""
    changes = Changes()
    people = sorted(snapshot.problem.people.values(), key=lambda y: (-y.priority, snapshot.young_person_id(y.id)))
    for y in people:
        proposed = [g for g in y.current if g not in y.pinned]
        planned = [g for g in assignments.get(y.id, ()) if g not in y.pinned]
        add = [g for g in planned if g not in y.current]
        drop = [g for g in proposed if g not in planned]
        if not add and not drop:
            continue
        if proposed:  # already has an open proposal: never moved automatically
            changes.waiting_moves[y.id] = {"from": proposed, "to": planned}
            continue
        if changes.count >= max_changes:
            changes.over_budget.append(y.id)
            continue
        if add:
            changes.gained[y.id] = add
        if drop:
            changes.withdrawn[y.id] = drop
    return changes


def apply_changes(session: Session, snapshot: Snapshot, changes: Changes, run_id: int) -> None:
    """Write `changes` into `session` (the caller commits once, or rolls everything back)."""
    now = utcnow()
    for pid, groups in changes.withdrawn.items():
        person_id = snapshot.young_person_id(pid)
        for gid in groups:
            placement = session.exec(
                select(Placement).where(Placement.young_person_id == person_id,
                                        Placement.offer_id == snapshot.offer_id(gid),
                                        Placement.status == PlacementStatus.proposed.value)
            ).first()
            if placement is None:
                raise RunError("Ein Vorschlag wurde während des Laufs verändert.")
            _transition(session, placement, PlacementStatus.ended, WITHDRAW_REASON, now)
            placement.ended_at = now
            placement.end_reason = WITHDRAW_REASON
    for pid, groups in changes.gained.items():
        for gid in groups:
            placement = Placement(young_person_id=snapshot.young_person_id(pid), offer_id=snapshot.offer_id(gid),
                                  status=PlacementStatus.proposed.value, source=PlacementSource.solver.value,
                                  solver_run_id=run_id, created_at=now)
            session.add(placement)
            session.flush()
            session.add(PlacementEvent(placement_id=placement.id, from_status=None,
                                       to_status=PlacementStatus.proposed.value, actor_id=None, at=now,
                                       reason="Vorschlag des Abgleichs"))


def _transition(session: Session, placement: Placement, to: PlacementStatus, reason: str, now) -> None:
    session.add(PlacementEvent(placement_id=placement.id, from_status=placement.status, to_status=to.value,
                               actor_id=None, at=now, reason=reason))
    placement.status = to.value
    placement.version += 1
    session.add(placement)


# ----------------------------------------------------------------------------- executing


def execute_run(engine: Engine, run_id: int, *, apply: bool = True, time_limit_s: float | None = None,
                today: date | None = None, deterministic: bool = False) -> SolverRun:
    """Solve the district's live plan for run `run_id`, record everything and (if `apply`) write it."""
    cancel = progress_registry.start(run_id)
    started = time.monotonic()
    try:
        with Session(engine, expire_on_commit=False) as session:
            run = session.get(SolverRun, run_id)
            snapshot = build_snapshot(session, today=today)
            limit = time_limit_s or float(setting_value(session, TIME_LIMIT_SETTING, DEFAULT_TIME_LIMIT_S))
            max_changes = int(setting_value(session, MAX_CHANGES_SETTING, DEFAULT_MAX_CHANGES))
            run.status, run.started_at = RunStatus.running.value, utcnow()
            run.input_hash, run.weights = input_hash(snapshot.raw), dict(snapshot.problem.weights)
            run.problem_json = snapshot.raw
            session.add(run)
            session.commit()

        progress_registry.update(run_id, phase="Optimierung")

        def on_progress(elapsed: float, objective: float, bound: float) -> None:
            progress_registry.update(run_id, elapsed=elapsed, objective=objective, bound=bound)

        options = SolveOptions(time_limit_s=limit, deterministic=deterministic)
        solution = solve(snapshot.problem, options, progress=on_progress, cancel=cancel)
        progress_registry.update(run_id, phase="Übernahme")
        return _record(engine, run_id, snapshot, solution, apply=apply, max_changes=max_changes,
                       cancelled=cancel.is_set(), started=started)
    except Exception as exc:  # the run row must say what happened; the data stays as it was
        return _fail(engine, run_id, f"Unerwarteter Fehler: {type(exc).__name__}: {exc}", started)
    finally:
        progress_registry.finish(run_id)


def _record(engine: Engine, run_id: int, snapshot: Snapshot, solution, *, apply: bool, max_changes: int,
            cancelled: bool, started: float) -> SolverRun:
    if cancelled:
        return _fail(engine, run_id, "Lauf wurde abgebrochen; nichts wurde übernommen.", started,
                     status=RunStatus.cancelled)
    if solution.status not in (Status.OPTIMAL, Status.FEASIBLE):
        reason = {"INFEASIBLE": "Die bestätigten Belegungen verletzen selbst eine Regel: "
                                + "; ".join(solution.errors[:5]),
                  "INVALID": "Ungültige Eingabedaten: " + "; ".join(solution.errors[:5]),
                  }.get(solution.status.value, "Keine Lösung in der Zeitgrenze gefunden.")
        return _fail(engine, run_id, reason, started, solution=solution)
    evaluation = evaluate(snapshot.problem, solution.assignments)
    changes = plan_changes(snapshot, solution.assignments, max_changes)
    with Session(engine, expire_on_commit=False) as session:
        try:
            if apply:
                if input_hash(build_snapshot(session, today=snapshot.today).raw) != input_hash(snapshot.raw):
                    raise RunError("Die Daten haben sich während des Laufs geändert; bitte erneut starten.")
                apply_changes(session, snapshot, changes, run_id)
            run = session.get(SolverRun, run_id)
            run.status, run.finished_at = RunStatus.done.value, utcnow()
            run.solver_status, run.objective, run.bound = solution.status.value, solution.objective, solution.bound
            run.kpis = {**evaluation.kpis, "wall_s": round(time.monotonic() - started, 2),
                        "solver_wall_s": round(solution.wall_s, 2), "changes": changes.count,
                        "applied": apply, "terms": evaluation.terms}
            run.diff = {**changes.as_json(),
                        "unmatched": {u.young_person: u.reasons for u in solution.unmatched}}
            run.solution_json = solution_to_json(solution)
            session.add(run)
            session.commit()
            return run
        except Exception as exc:
            session.rollback()
            message = str(exc) if isinstance(exc, RunError) else f"Fehler beim Übernehmen: {type(exc).__name__}"
            return _fail(engine, run_id, message, started, solution=solution)


def _fail(engine: Engine, run_id: int, message: str, started: float, *, status: RunStatus = RunStatus.failed,
          solution=None) -> SolverRun:
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(SolverRun, run_id)
        run.status, run.finished_at, run.error = status.value, utcnow(), message
        run.kpis = {**(run.kpis or {}), "wall_s": round(time.monotonic() - started, 2), "applied": False}
        if solution is not None:
            run.solver_status = solution.status.value
            run.solution_json = solution_to_json(solution)
        session.add(run)
        session.commit()
        return run


def run_nightly(engine: Engine, *, today: date | None = None, time_limit_s: float | None = None) -> SolverRun | None:
    """The nightly rebalancing job: at most one run per Berlin date (None when it ran already)."""
    day = today or today_berlin()
    run_id = create_run(engine, kind=RunKind.nightly, run_key=nightly_key(day))
    if run_id is None:
        return None
    return execute_run(engine, run_id, today=day, time_limit_s=time_limit_s)


def active_run(session: Session) -> SolverRun | None:
    """The queued or running run, if any: an on-demand run starts only when none is active."""
    return session.exec(select(SolverRun).where(SolverRun.status.in_(
        [RunStatus.queued.value, RunStatus.running.value])).order_by(SolverRun.id)).first()


def start_on_demand(session: Session, engine: Engine, started_by: int | None) -> tuple[int | None, SolverRun | None]:
    """Start an on-demand run unless one waits or runs: (the new run's id, None), or (None, the
    active run; None only when it finished in between)."""
    running = active_run(session)
    run_id = None if running is not None else start_background_run(
        engine, kind=RunKind.on_demand, started_by=started_by)
    if run_id is None:  # another one waits or runs (also when it was started at the same moment)
        return None, running or active_run(session)
    return run_id, None


def start_background_run(engine: Engine, *, kind: RunKind, started_by: int | None,
                         apply: bool = True) -> int | None:
    """Create a run and execute it in a background thread of this process (on-demand runs); None
    when another on-demand run is queued or running."""
    run_id = create_run(engine, kind=kind, started_by=started_by)
    if run_id is None:
        return None
    thread = threading.Thread(target=execute_run, args=(engine, run_id), kwargs={"apply": apply},
                              name=f"solver-run-{run_id}", daemon=True)
    thread.start()
    return run_id

