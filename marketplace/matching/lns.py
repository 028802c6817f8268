"""Large components: column generation, then large-neighbourhood search (LNS) around geographic windows.

A single exact model of a 10,000-person district does not even finish its
presolve in a minute on two cores (NOTES.md). The steps on a large component
(L-1, 60 s: 37.09 M against a bound of 37.10 M):
1. Seat prices from the Lagrangian relaxation (lagrange.py), and a construction
   at these prices (priced.py): 36.27 M, where greedy starts at 28.2 M.
2. Column generation (colgen.py) over each person's feasible sets of groups:
   the proven bound (37.10 M) and a nearly integral plan, in 28-46 s.
3. A construction from that plan (priced.py with the plan as each person's
   first choice and the LP's seat duals as prices): 37.08 M.
4. Windows with both CP-SAT workers until the time is up: repeatedly free the
   young people around a random home (the window), keep everybody else
   fixed, and re-optimise the window exactly; a window's result is accepted
   only when it improves. Every window model includes the fixed context, so
   each accepted step keeps the whole assignment feasible.

Windows use short candidate lists (the few groups worth most to each person on
their own at the seat prices, plus the current ones), so a model of the same
size covers several times more people. They run without a hint: with the
current plan as a hint CP-SAT stayed at it (2 k gained in 3 s against 70 k
without). The proven upper bound is the best of the column generation's and
the relaxation's bounds, the LP relaxation for scopes small enough
(bounds.py), and the trivial bound.
"""

from __future__ import annotations

import math
import random
import time

import numpy as np

from .model import MatchModel
from .runner import ComponentResult, SearchContext, run_model
from .scope import Scope
from .solution import Assignments, Status, evaluate

WINDOW_PAIRS = 4000  # initial eligible pairs (of the pruned lists) per window, adapted between MIN and MAX
MIN_PAIRS, MAX_PAIRS = 2000, 12000
WINDOW_SECONDS = 4.0
PRUNE = 8  # candidates per person in a window (plus current ones)
WINDOW_GAP = 0.001  # a window stops at this relative gap
HINT_WINDOWS = False  # with the current plan as a hint CP-SAT gained almost nothing in a window (2 of 70 k)
SHORT_SEEDS = 0.8  # share of windows centred on a young person below target
TRIES = 12  # window centres tried before waiting for the other window
PRICE_SCALES = (1.0, 1.2)  # seat prices scaled for the constructions (priced.py)
SIDE_BY_SIDE = 1  # windows at once; on one city a second window rarely found groups apart from the first
LP_PAIRS = 60000
LAGRANGE_SHARE = 0.12  # of a large scope's time for the seat prices
# Deterministic mode counts subgradient steps instead of seconds: about what L (10,000 people) takes per second
SEAT_STEPS_PER_S = 100.0
COLGEN_SHARE = 0.85  # of a large scope's time at most for column generation (L converges in 28-46 s of 60)
PLAN_RESERVE = 0.06  # of the time kept after it, to build the plan's assignments and improve them
COLGEN_ROUNDS = 30  # rounds of column generation in deterministic mode
SETS_LEFT = 0.4  # of a large scope's time at least left after column generation to try the set model
SETS_GENERATION = 0.4  # of that time at most for the generation to converge fully
# LP: GLOP needs about 5 s for 7,500 pairs, far too long beyond this


def solve_large(scope: Scope, start: Assignments, ctx: SearchContext, share: float,
                workers: int | None = None) -> ComponentResult:
    """Improve the warm start of a large scope by LNS within its share of the time."""
    budget = ctx.budget(share)
    deadline = ctx.elapsed() + budget
    problem = scope.problem
    people = scope.people
    current: Assignments = {pid: tuple(start.get(pid, ())) for pid in people}
    lat = np.radians([problem.people[p].lat for p in people])
    lon = np.radians([problem.people[p].lon for p in people])
    start_value = evaluate(problem, current, only=people).objective
    bound, lagrangian = _bound(scope, ctx, budget, start_value)
    threads = 1 if ctx.opts.deterministic or (workers or ctx.opts.workers) < 2 else SIDE_BY_SIDE
    value = start_value  # of the start the windows improve
    prices = None
    if lagrangian is not None:
        # A start built at the seat prices (priced.py) is far better than greedy. Column generation
        # (colgen.py) then solves the LP over each person's feasible sets: its bound is far tighter
        # than the seat prices', and its plan, turned into assignments by the same construction, is
        # better than the windows reach in the whole time (L-1: 37.09 M, against 36.87 M before).
        from .colgen import ColumnGeneration

        ctx.stats.update(greedy_start=round(value, 2))
        prices = lagrangian.price_map()
        current, value = _construct(scope, prices, current, ctx, "priced_start")
        generation = ColumnGeneration(scope, lagrangian.d)
        generation.add_assignment(current)
        generation.add_assignment(lagrangian.chosen())
        if ctx.opts.deterministic:  # a fixed number of rounds: the same run every time
            generation.run(math.inf, stop=ctx.cancel, rounds=COLGEN_ROUNDS)
        else:  # alone: windows beside it slowed it more than they gained (L-1: 43 s against 37 s)
            until = min(ctx.elapsed() + COLGEN_SHARE * budget, deadline - PLAN_RESERVE * budget)
            generation.run(ctx.started + until, stop=ctx.cancel)
        bound = min(bound, generation.bound())
        ctx.stats.update(generation.stats)
        duals = generation.seat_prices()
        current, value = _construct(scope, duals, current, ctx, "plan_start", first=generation.plan())
        if generation.rounds:  # else the seat prices prune the windows' lists
            prices = duals
        proven = _sets(scope, generation, ctx, deadline, budget, current, value, workers)
        if proven is not None:
            bound = min(bound, proven.bound)
            if proven.value > value:
                current = {pid: tuple(proven.assignments.get(pid, ())) for pid in people}
                value = proven.value
            if proven.status is Status.OPTIMAL:
                return ComponentResult(Status.OPTIMAL, {p: g for p, g in current.items() if g}, value,
                                       max(value, bound))
    windows = _Search(scope, current, _pruned(scope, current, PRUNE, prices), lat, lon, ctx, deadline, budget,
                      workers)
    windows.run(threads, lambda: ctx.report(value + windows.gained, bound))
    current = windows.current
    full = evaluate(problem, current, only=people).objective
    ctx.stats.update(lns_iterations=windows.iterations, lns_accepted=windows.accepted,
                     lns_gain=round(windows.gained, 2), lns_threads=threads,
                     lns_build_s=round(windows.build_s, 2), lns_solve_s=round(windows.solve_s, 2))
    return ComponentResult(Status.FEASIBLE, {p: g for p, g in current.items() if g}, full, max(full, bound))


class _Search:
    """The window loop; with threads=2 two windows run side by side, one CP-SAT worker each
    (SIDE_BY_SIDE: one window with both workers did as well on one city, where two windows rarely
    found groups apart).

    Side-by-side windows never share a group (their candidate and current groups are disjoint),
    so each one's fixed context (seats, minimum sizes, conflicts) stays true while the other
    one's result is applied: both results together keep every rule.
    """

    def __init__(self, scope: Scope, current: Assignments, pool: dict[str, list[str]], lat: np.ndarray,
                 lon: np.ndarray, ctx: SearchContext, deadline: float, budget: float, workers: int | None):
        import threading

        self.scope, self.current, self.pool, self.lat, self.lon = scope, current, pool, lat, lon
        self.ctx, self.deadline, self.det_left, self.workers = ctx, deadline, budget, workers
        self.people = scope.people
        self.pairs = np.array([len(pool[p]) for p in self.people])
        self.rng = random.Random(ctx.opts.seed)
        self.size = float(WINDOW_PAIRS)
        self.gained = 0.0
        self.iterations = self.accepted = 0
        self.build_s = self.solve_s = 0.0
        self.lock = threading.Lock()
        self.busy: dict[int, set[str]] = {}  # groups of the windows being solved, per thread

    def run(self, threads: int, report) -> None:
        import threading

        if threads <= 1:
            self._loop(0, report, self.workers)
            return
        pool = [threading.Thread(target=self._loop, args=(n, report, 1), daemon=True) for n in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    def _take(self, me: int) -> tuple[list[str], float] | str | None:
        """The next window and its seconds; "wait" when every centre tried is too near the other
        window; None when time is up."""
        ctx, problem = self.ctx, self.scope.problem
        with self.lock:
            seconds = min(WINDOW_SECONDS, self.deadline - ctx.elapsed())
            if ctx.opts.deterministic:
                seconds = min(WINDOW_SECONDS, self.det_left)
            if seconds < 0.2 or ctx.cancelled():
                return None
            taken = set().union(*(g for n, g in self.busy.items() if n != me))
            short = _short(problem, self.people, self.current)
            for _ in range(TRIES):
                window = _window(self.rng, self.lat, self.lon, self.pairs, self.people, int(self.size), short)
                groups = {g for pid in window for g in _with_current(self.pool[pid], self.current[pid])}
                if taken and not groups.isdisjoint(taken):
                    continue  # too near the other window: try another centre
                if ctx.opts.deterministic:
                    self.det_left -= seconds
                self.busy[me] = groups
                return window, seconds
        return "wait"

    def _loop(self, me: int, report, workers: int | None) -> None:

        problem = self.scope.problem
        while True:
            taken = self._take(me)
            if taken is None:
                return
            if taken == "wait":
                time.sleep(0.05)
                continue
            window, seconds = taken
            with self.lock:
                fixed = {pid: gids for pid, gids in self.current.items() if gids}
                free = {pid: _with_current(self.pool[pid], self.current[pid]) for pid in window}
            began = time.monotonic()
            model = MatchModel(Scope(problem, free, fixed, self.scope.index))
            built = time.monotonic()
            if not self.ctx.opts.deterministic:  # building the model took part of the window's time
                seconds = min(seconds, self.deadline - self.ctx.elapsed())
            if seconds < 0.1:
                with self.lock:
                    self.busy.pop(me, None)
                return
            before = model.value(fixed)
            hint = fixed if HINT_WINDOWS else None
            result = run_model(model, self.ctx, seconds, hint, report=False, workers=workers, gap=WINDOW_GAP)
            with self.lock:
                self.busy.pop(me, None)
                self.iterations += 1
                self.build_s += built - began
                self.solve_s += time.monotonic() - built
                # Adapt the window: grow while windows reach their gap in time, shrink otherwise.
                done = result is not None and result.bound - result.value <= 2 * WINDOW_GAP * abs(result.bound) + 1
                self.size = min(MAX_PAIRS, self.size * 1.25) if done else max(MIN_PAIRS, self.size / 1.25)
                improved = result is not None and result.value > before + 1e-6
                if improved:
                    for pid in window:
                        self.current[pid] = result.assignments.get(pid, ())
                    self.gained += result.value - before
                    self.accepted += 1
            if improved:
                report()


def _sets(scope: Scope, generation, ctx: SearchContext, deadline: float, budget: float,
          current: Assignments, value: float, workers: int | None) -> ComponentResult | None:
    """When the column generation converged with time to spare (a city's --rebalance: 8-14 s of
    60), the model over sets (fixing.py) after it: L-1 --rebalance proven optimal in 19 s, where
    the windows ended 0.004 % below the optimum. The generation first runs on to the tighter gap
    the fixing needs. None when it is not tried."""
    from . import fixing

    if ctx.opts.deterministic or not generation.converged or ctx.cancelled():
        return None
    if deadline - ctx.elapsed() < SETS_LEFT * budget:
        return None
    until = ctx.started + deadline - PLAN_RESERVE * budget
    began = time.monotonic()
    generation.run(began + SETS_GENERATION * (until - began), stop=ctx.cancel, gap=fixing.GAP,
                   stall=fixing.STALL)
    ctx.stats.update(generation.stats)
    mine = {pid: gids for pid, gids in current.items() if gids}
    result = fixing.solve_sets(scope, generation, ctx, until, mine, value, workers)
    ctx.stats["sets_s"] = round(time.monotonic() - began, 2)
    return result


def _pruned(scope: Scope, start: Assignments, keep: int,
            prices: dict[str, float] | None = None) -> dict[str, list[str]]:
    """Per person the `keep` candidates worth most on their own, plus the current ones.

    A dense district offers 20-40 groups per young person; windows over these
    short lists cover ~5x more people for the same model size (and the same
    seconds), which gained far more per second than complete candidate lists.
    """
    from .objective import pair_total

    problem, w = scope.problem, scope.problem.weights
    out: dict[str, list[str]] = {}
    for pid, gids in scope.candidates.items():
        y = problem.people[pid]
        if len(gids) <= keep:
            out[pid] = list(gids)
            continue
        alone = {g: pair_total(problem, pid, g) - (prices.get(g, 0.0) if prices else 0.0)
                 + y.priority * w["hours"] * min(problem.groups[g].hours, y.target) for g in gids}
        best = set(sorted(gids, key=lambda g: -alone[g])[:keep]) | set(start.get(pid, ())) | set(y.current)
        out[pid] = [g for g in gids if g in best]
    return out


def _with_current(pool: list[str], current: tuple[str, ...]) -> list[str]:
    """The pruned list plus the groups held now (so keeping the current placement stays possible)."""
    missing = [g for g in current if g not in pool]
    return pool + missing if missing else pool


def _short(problem, people: list[str], current: Assignments) -> list[int]:
    """Positions of the people below their group-hours target (where a window can gain most)."""
    out = []
    for n, pid in enumerate(people):
        y = problem.people[pid]
        if sum(problem.groups[g].hours for g in current.get(pid, ())) < y.target or not current.get(pid):
            out.append(n)
    return out


def _window(rng: random.Random, lat: np.ndarray, lon: np.ndarray, pairs: np.ndarray,
            people: list[str], size: int, short: list[int] | None = None) -> list[str]:
    """The people nearest to a random person's home (mostly one below target), up to `size` eligible pairs."""
    seed = rng.choice(short) if short and rng.random() < SHORT_SEEDS else rng.randrange(len(people))
    x = (lon - lon[seed]) * math.cos(lat[seed])
    y = lat - lat[seed]
    order = np.argsort(x * x + y * y, kind="stable")
    count = int(np.searchsorted(np.cumsum(pairs[order]), size, side="right"))
    return [people[i] for i in order[:max(1, count)]]


def _construct(scope: Scope, prices: dict[str, float], current: Assignments, ctx: SearchContext, stat: str,
               scales: tuple[float, ...] = (1.0,), first: dict[str, list[str]] | None = None
               ) -> tuple[Assignments, float]:
    """The better of `current` and the constructions at `prices` (priced.best_start; scaled ones
    while time allows), with the best value built recorded as stats[`stat`]."""
    from .priced import best_start

    def more() -> bool:
        if ctx.opts.deterministic:
            return True
        return not ctx.cancelled() and ctx.remaining() >= 0.5 * ctx.opts.time_limit_s

    best, best_value, built = best_start(scope, prices, current, scales, more, first)
    ctx.stats[stat] = round(max(built), 2) if built else None
    return {pid: tuple(best.get(pid, ())) for pid in scope.people}, best_value


def _steps(per_second: float, seconds: float) -> int:
    """Subgradient steps for `seconds` in deterministic mode."""
    return max(1, int(per_second * seconds))


def _bound(scope: Scope, ctx: SearchContext, budget: float, start_value: float):
    """A proven bound and, for large scopes, the Lagrangian relaxation whose seat prices guide the start.

    The LP bound when the LP is small enough to finish quickly; seat prices (lagrange.py) always
    when there is time; never worse than the trivial bound.
    """
    from .bounds import lp_bound, trivial_bound
    from .lagrange import Lagrangian

    trivial = trivial_bound(scope)
    seconds = LAGRANGE_SHARE * budget
    lagrangian = None
    bound = trivial
    if seconds >= 0.5 and not ctx.cancelled():
        lagrangian = Lagrangian(scope)
        if ctx.opts.deterministic:  # a fixed number of steps: the same prices every time
            lagrangian.seat_prices(math.inf, target=start_value, iterations=_steps(SEAT_STEPS_PER_S, seconds))
        else:
            lagrangian.seat_prices(seconds, target=start_value)
        ctx.stats.update(lagrangian.stats)
        bound = min(trivial, lagrangian.bound())
    if sum(len(g) for g in scope.candidates.values()) <= LP_PAIRS:
        bound = min(bound, lp_bound(scope, time_limit=0.2 * budget))
    return bound, lagrangian
