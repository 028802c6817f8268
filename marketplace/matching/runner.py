"""Running CP-SAT on one scope: parameters, time budget, progress, cancellation.

`solve_scope` returns a `ComponentResult` with values in objective points of
the model (rounded coefficients): `value` of the returned assignment and a
proven upper `bound`. Components too large for one exact model go to lns.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from .model import MatchModel
from .scope import Scope
from .solution import Assignments, Status

if TYPE_CHECKING:
    from .solve import SolveOptions


@dataclass
class ComponentResult:
    """Outcome for one scope: assignment of its free people, model value and bound."""

    status: Status
    assignments: Assignments
    value: float
    bound: float


class SearchContext:
    """Shared state of one `solve` call: options, clock, progress totals, cancellation."""

    def __init__(self, opts: SolveOptions, started: float,
                 progress: Callable[[float, float, float], None] | None,
                 cancel: threading.Event | None, total_pairs: int):
        self.opts, self.started, self.progress, self.cancel = opts, started, progress, cancel
        self.total_pairs = max(1, total_pairs)
        self.done_value = self.later_value = 0.0
        self.done_bound = self.later_bound = 0.0
        self.done_pairs = 0
        self.stats: dict[str, object] = {}
        self.reserve = 0.0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        """Seconds left for search, keeping `reserve` for explaining the result."""
        return self.opts.time_limit_s - self.elapsed() - self.reserve

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def report(self, value: float, bound: float) -> None:
        """Progress of the component being solved, added to the finished ones."""
        if self.progress is not None:
            self.progress(self.elapsed(), self.done_value + value + self.later_value,
                          self.done_bound + max(value, bound) + self.later_bound)

    def finish(self, result: ComponentResult) -> None:
        self.done_value += result.value
        self.done_bound += result.bound

    def budget(self, share: float) -> float:
        """Seconds for the next scope: its share of what is left (deterministic: of the limit)."""
        if self.opts.deterministic:
            return max(0.0, self.opts.time_limit_s * share)
        return max(0.0, self.remaining() * share)

    def parameters(self, seconds: float, workers: int | None = None) -> cp_model.SatParameters:
        opts = self.opts
        params = cp_model.SatParameters()
        params.random_seed = opts.seed
        params.log_search_progress = opts.log
        if opts.deterministic:
            params.num_workers = 1
            params.max_deterministic_time = max(0.01, seconds)
            params.max_time_in_seconds = max(0.05, 4 * seconds)  # safety net only
            params.linearization_level = 2
        else:
            params.num_workers = workers or opts.workers
            params.max_time_in_seconds = max(0.05, seconds)
            if params.num_workers > 1 and opts.subsolvers:
                # An LP-based full solver: the default 2-worker portfolio runs no LP and its bound
                # never moves (NOTES.md); max_lp proved M-size districts where max_lp_sym stalled.
                params.subsolvers.extend(opts.subsolvers)
        if opts.gap_target > 0:
            params.relative_gap_limit = opts.gap_target
        for key, value in opts.extra.items():
            setattr(params, key, value)
        return params


class _Watcher(cp_model.CpSolverSolutionCallback):
    def __init__(self, model: MatchModel, ctx: SearchContext, report: bool):
        super().__init__()
        self.model, self.ctx, self.report = model, ctx, report

    def on_solution_callback(self) -> None:
        if self.ctx.cancelled():
            self.stop_search()
        if not self.report:
            return
        to_real = self.model.to_real
        self.ctx.report(to_real(self.objective_value), to_real(self.best_objective_bound))


def run_model(model: MatchModel, ctx: SearchContext, seconds: float,
              start: Assignments | None, workers: int | None = None,
              report: bool = True) -> ComponentResult | None:
    """Solve one model; None when no solution was found (time or cancellation)."""
    if start is not None:
        model.hint(start)
    solver = cp_model.CpSolver()
    solver.parameters.copy_from(ctx.parameters(seconds, workers))
    done = threading.Event()
    if ctx.cancel is not None:
        def watch() -> None:
            while not done.is_set():
                if ctx.cancel.wait(0.05):
                    solver.stop_search()
                    return
        threading.Thread(target=watch, daemon=True).start()
    try:
        code = solver.solve(model.model, _Watcher(model, ctx, report))
    finally:
        done.set()
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.FEASIBLE
    value = model.to_real(solver.objective_value)
    bound = value if status is Status.OPTIMAL else model.to_real(solver.best_objective_bound)
    return ComponentResult(status, model.assignments(solver), value, max(value, bound))


def solve_scope(scope: Scope, start: Assignments, ctx: SearchContext, share: float,
                big: bool = False) -> ComponentResult:
    """Best assignment for the scope's free people within its share of the time."""
    if big:
        from .lns import solve_large

        return solve_large(scope, start, ctx, share)
    seconds = ctx.budget(share)
    model = MatchModel(scope)
    result = None
    if seconds > 0 and not ctx.cancelled():
        result = run_model(model, ctx, seconds, start)
    if result is None:  # keep the warm start; its model value via a fixed solve is not needed
        return fallback(model, scope, start)
    return result


def fallback(model: MatchModel, scope: Scope, start: Assignments) -> ComponentResult:
    """The warm start for this scope, with a trivial bound (no search happened)."""
    mine = {pid: start[pid] for pid in scope.people if start.get(pid)}
    value = model.value(mine)
    return ComponentResult(Status.FEASIBLE, mine, value, max(value, model.trivial_bound()))
