"""Running CP-SAT on one scope: parameters, time budget, progress, cancellation.

`solve_scope` returns a `ComponentResult` in objective points: `value` of the
returned assignment (in the pair model: rounded coefficients; through the set
model: exact) and a proven upper `bound` of the exact objective (rounding
accounted for, see objective.py). Districts go through the set model first
(fixing.py); components too large for one exact model go to lns.py.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    """Shared state of one `solve` call: options, clock, progress totals, cancellation.

    Components may be solved side by side (one thread each); every component
    reports into its own slot (`for_slot`), and progress sums the slots:
    finished components with their result, running ones with their latest
    solution and bound, waiting ones with their warm-start value and a cheap bound.
    """

    def __init__(self, opts: SolveOptions, started: float,
                 progress: Callable[[float, float, float], None] | None,
                 cancel: threading.Event | None, total_pairs: int):
        self.opts, self.started, self.progress, self.cancel = opts, started, progress, cancel
        self.total_pairs = max(1, total_pairs)
        self.fixed_value = 0.0  # people no model decides
        self.slot_value: list[float] = []
        self.slot_bound: list[float] = []
        self.slot = -1
        self.stats: dict[str, object] = {}
        self.reserve = 0.0
        self.lock = threading.Lock()

    def set_slots(self, values: list[float], bounds: list[float]) -> None:
        """Initial progress per component: warm-start values and (cheap) upper bounds."""
        self.slot_value, self.slot_bound = list(values), list(bounds)

    def for_slot(self, slot: int) -> SearchContext:
        """A view of this context that reports progress for component `slot`."""
        view = copy.copy(self)
        view.slot = slot
        return view

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        """Seconds left for search, keeping `reserve` for explaining the result."""
        return self.opts.time_limit_s - self.elapsed() - self.reserve

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def report(self, value: float, bound: float) -> None:
        """Progress of this slot's component (value and bound in objective points), plus all others."""
        if self.progress is None or not 0 <= self.slot < len(self.slot_value):
            return
        with self.lock:
            self.slot_value[self.slot] = value
            self.slot_bound[self.slot] = min(self.slot_bound[self.slot], max(value, bound))
            total_value = self.fixed_value + sum(self.slot_value)
            total_bound = self.fixed_value + sum(self.slot_bound)
            self.progress(self.elapsed(), total_value, max(total_value, total_bound))

    def finish(self, result: ComponentResult, exact_value: float) -> None:
        """Record a finished component (its exact objective and proven bound) for progress."""
        if 0 <= self.slot < len(self.slot_value):
            with self.lock:
                self.slot_value[self.slot] = exact_value
                self.slot_bound[self.slot] = max(exact_value, result.bound)

    def budget(self, share: float) -> float:
        """Seconds for the next scope: its share of what is left (deterministic: of the limit)."""
        if self.opts.deterministic:
            return max(0.0, self.opts.time_limit_s * share)
        return max(0.0, self.remaining() * share)

    def parameters(self, seconds: float, workers: int | None = None,
                   gap: float | None = None) -> cp_model.SatParameters:
        opts = self.opts
        gap = opts.gap_target if gap is None else gap
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
            elif params.num_workers == 1:
                # One worker per component when components run side by side: with the full LP
                # it reached 0.5 % on M in about 60 % of the CPU time of the 2-worker max_lp portfolio.
                params.linearization_level = 2
        if gap > 0:
            params.relative_gap_limit = gap
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
        model = self.model
        self.ctx.report(model.to_real(self.objective_value), model.to_bound(self.best_objective_bound))


@contextmanager
def interrupted_by(stop: threading.Event | None, interrupt: Callable[[], object]) -> Iterator[None]:
    """Within the block, `interrupt()` is called as soon as `stop` is set (from a watcher thread:
    for solvers that release the GIL while they run)."""
    done = threading.Event()
    if stop is not None:
        def watch() -> None:
            while not done.is_set():
                if stop.wait(0.05):
                    interrupt()
                    return
        threading.Thread(target=watch, daemon=True).start()
    try:
        yield
    finally:
        done.set()


def cancellable(solver: cp_model.CpSolver, model: cp_model.CpModel, ctx: SearchContext,
                callback: cp_model.CpSolverSolutionCallback | None = None) -> int:
    """`solver.solve(model)`, stopped as soon as the context is cancelled (not only at a solution)."""
    with interrupted_by(ctx.cancel, solver.stop_search):
        return solver.solve(model, callback)


def run_model(model: MatchModel, ctx: SearchContext, seconds: float,
              start: Assignments | None, workers: int | None = None,
              report: bool = True, gap: float | None = None) -> ComponentResult | None:
    """Solve one model; None when no solution was found (time or cancellation).

    `value` is the model objective (rounded coefficients) of the solution, `bound`
    an upper bound of the exact objective of the model's free people.
    """
    if start is not None:
        model.hint(start)
    solver = cp_model.CpSolver()
    solver.parameters.copy_from(ctx.parameters(seconds, workers, gap))
    code = cancellable(solver, model.model, ctx, _Watcher(model, ctx, report))
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    # With a relative gap limit CP-SAT says OPTIMAL when the gap is reached: only a closed gap is a proof.
    proven = code == cp_model.OPTIMAL and solver.best_objective_bound <= solver.objective_value + 0.5
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    value = model.to_real(solver.objective_value)
    best = solver.objective_value if proven else max(solver.objective_value, solver.best_objective_bound)
    return ComponentResult(status, model.assignments(solver), value, max(value, model.to_bound(best)))


def solve_scope(scope: Scope, start: Assignments, ctx: SearchContext, share: float,
                big: bool = False, workers: int | None = None, gap: float | None = None) -> ComponentResult:
    """Best assignment for the scope's free people within its share of the time."""
    if big:
        from .lns import solve_large

        return solve_large(scope, start, ctx, share, workers=workers)
    began = time.monotonic()
    seconds = ctx.budget(share)
    if seconds < MIN_SECONDS or ctx.cancelled():  # no time to build and solve a model: keep the warm start
        return warm(scope, start)
    result = None
    pairs = sum(map(len, scope.candidates.values()))
    if ctx.opts.set_pairs is not None and pairs >= ctx.opts.set_pairs and not scope.fixed:
        # Column generation, reduced-cost fixing and the model over sets (fixing.py): M districts
        # proven optimal in 1-3 s, where the pair model alone took 1.5-7 s.
        from .fixing import solve_by_sets

        result = solve_by_sets(scope, ctx, seconds, start, workers)
        if result is not None and result.status is Status.OPTIMAL:
            return result
    model = MatchModel(scope)
    seconds -= time.monotonic() - began  # building the model is part of the budget
    if seconds > MIN_SECONDS and not ctx.cancelled():
        # No hint by default: a greedy hint made CP-SAT 2-4x slower to a small gap on M districts
        # (it steers the search towards the greedy's poor region). The warm start stays the fallback.
        hint = start if ctx.opts.hint_model else None
        result = better(result, run_model(model, ctx, seconds, hint, workers=workers, gap=gap))
    backup = fallback(model, scope, start)
    if result is None:
        return backup
    if result.value < backup.value:  # never worse than the warm start; the bound stays proven
        return ComponentResult(Status.FEASIBLE, backup.assignments, backup.value, result.bound)
    return result


def better(old: ComponentResult | None, new: ComponentResult | None) -> ComponentResult | None:
    """The better solution of two runs on the same scope (either may be missing), with the tighter
    of both bounds."""
    if old is None or new is None:
        return new if old is None else old
    best = new if new.value >= old.value else old
    status = Status.OPTIMAL if Status.OPTIMAL in (new.status, old.status) else Status.FEASIBLE
    return ComponentResult(status, best.assignments, best.value, max(best.value, min(old.bound, new.bound)))


MIN_SECONDS = 0.05


def warm(scope: Scope, start: Assignments) -> ComponentResult:
    """The warm start for this scope without building a model: exact value, trivial bound."""
    from .bounds import trivial_bound
    from .solution import person_values

    mine = {pid: start[pid] for pid in scope.people if start.get(pid)}
    value = sum(person_values(scope.problem, mine, scope.people).values())
    return ComponentResult(Status.FEASIBLE, mine, value, max(value, trivial_bound(scope)))


def fallback(model: MatchModel, scope: Scope, start: Assignments) -> ComponentResult:
    """The warm start for this scope, with a trivial bound (no search happened)."""
    mine = {pid: start[pid] for pid in scope.people if start.get(pid)}
    value = model.value(mine)
    return ComponentResult(Status.FEASIBLE, mine, value, max(value, model.trivial_bound()))


def quick(scope: Scope, start: Assignments, seconds: float) -> ComponentResult:
    """A fast result for one component without CP-SAT: seat prices (lagrange.py) for a bound and a
    price-guided construction (priced.py), whichever of it and the start is better.

    Used first for every district when there are several, so that a component the exact search
    never reaches (a busy machine, a short time limit) keeps a bound a few per cent above its
    value instead of the trivial one, and a solution far better than greedy.
    """
    from .bounds import trivial_bound
    from .lagrange import Lagrangian
    from .priced import best_start
    from .solution import person_values

    mine = {pid: start[pid] for pid in scope.people if start.get(pid)}
    lagrangian = Lagrangian(scope)
    lagrangian.seat_prices(seconds, target=sum(person_values(scope.problem, mine, scope.people).values()))
    mine, value, _ = best_start(scope, lagrangian.price_map(), mine)
    return ComponentResult(Status.FEASIBLE, mine, value, max(value, min(trivial_bound(scope), lagrangian.bound())))
