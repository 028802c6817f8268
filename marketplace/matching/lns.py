"""Large components: large-neighbourhood search (LNS) around geographic windows.

A single exact model of a 10,000-person district does not even finish its
presolve in a minute on two cores (NOTES.md). Instead, starting from the
warm start (never worse than greedy), repeatedly free the young people
around a random home (the window), keep everybody else fixed, and
re-optimise the window exactly with CP-SAT; a window's result is accepted
only when it improves. Every window model includes the fixed context, so
each accepted step keeps the whole assignment feasible.

The proven upper bound comes from bounds.py (LP relaxation with HiGHS when it
finishes in time, else a trivial bound).
"""

from __future__ import annotations

import math
import random

import numpy as np

from .model import MatchModel
from .runner import ComponentResult, SearchContext, run_model
from .scope import Scope
from .solution import Assignments, Status, evaluate

WINDOW_PAIRS = 5000  # initial eligible pairs per window, adapted between MIN and MAX
MIN_PAIRS, MAX_PAIRS = 1500, 30000
WINDOW_SECONDS = 1.5
LP_PAIRS = 60000  # GLOP needs about 5 s for 7,500 pairs, far too long beyond this


def solve_large(scope: Scope, start: Assignments, ctx: SearchContext, share: float) -> ComponentResult:
    """Improve the warm start of a large scope by LNS within its share of the time."""
    budget = ctx.budget(share)
    deadline = ctx.elapsed() + budget
    problem = scope.problem
    people = scope.people
    current: Assignments = {pid: tuple(start.get(pid, ())) for pid in people}
    lat = np.radians([problem.people[p].lat for p in people])
    lon = np.radians([problem.people[p].lon for p in people])
    pairs = np.array([len(scope.candidates[p]) for p in people])
    rng = random.Random(ctx.opts.seed)
    bound = _bound(scope, ctx, budget)
    start_value = evaluate(problem, current, only=people).objective
    gained = 0.0
    iterations = accepted = 0
    det_left = budget
    size = float(WINDOW_PAIRS)
    while not ctx.cancelled():
        seconds = min(WINDOW_SECONDS, deadline - ctx.elapsed())
        if ctx.opts.deterministic:
            seconds = min(WINDOW_SECONDS, det_left)
            det_left -= seconds
        if seconds < 0.2:
            break
        window = _window(rng, lat, lon, pairs, people, int(size))
        fixed = {pid: gids for pid, gids in current.items() if gids}
        sub = Scope(problem, {pid: scope.candidates[pid] for pid in window}, fixed, scope.index)
        model = MatchModel(sub)
        before = model.value(current)
        result = run_model(model, ctx, seconds, current, report=False)
        iterations += 1
        # Adapt the window: grow while windows are proven optimal in time, shrink otherwise.
        optimal = result is not None and result.status is Status.OPTIMAL
        size = min(MAX_PAIRS, size * 1.25) if optimal else max(MIN_PAIRS, size / 1.25)
        if result is not None and result.value > before + 1e-6:
            for pid in window:
                current[pid] = result.assignments.get(pid, ())
            gained += result.value - before
            accepted += 1
            ctx.report(start_value + gained, bound)
    full = evaluate(problem, current, only=people).objective
    ctx.stats.update(lns_iterations=iterations, lns_accepted=accepted, lns_gain=round(gained, 2))
    return ComponentResult(Status.FEASIBLE, {p: g for p, g in current.items() if g}, full, max(full, bound))


def _window(rng: random.Random, lat: np.ndarray, lon: np.ndarray, pairs: np.ndarray,
            people: list[str], size: int) -> list[str]:
    """The people nearest to a random person's home, up to `size` eligible pairs."""
    seed = rng.randrange(len(people))
    x = (lon - lon[seed]) * math.cos(lat[seed])
    y = lat - lat[seed]
    order = np.argsort(x * x + y * y, kind="stable")
    count = int(np.searchsorted(np.cumsum(pairs[order]), size, side="right"))
    return [people[i] for i in order[:max(1, count)]]


def _bound(scope: Scope, ctx: SearchContext, budget: float) -> float:
    """The LP bound when the LP is small enough to finish quickly, else the trivial one."""
    from .bounds import lp_bound, trivial_bound

    if sum(len(g) for g in scope.candidates.values()) > LP_PAIRS:
        return trivial_bound(scope)
    return lp_bound(scope, time_limit=0.2 * budget)
