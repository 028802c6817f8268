"""`solve`: the matching run, from a parsed Problem to a Solution.

Steps: check that the pinned placements alone are feasible (else INFEASIBLE
naming the broken rule), prune ineligible pairs, split into independent
connected components, warm start from the best feasible of {greedy, current,
pinned only}, solve each component with CP-SAT (large ones by
large-neighbourhood search, see lns.py), merge, recompute the exact objective
and explain who stays unplaced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .problem import Problem
from .runner import ComponentResult, SearchContext, solve_scope
from .scope import Scope, components
from .solution import Assignments, Solution, Status, Unmatched, evaluate, violations

Progress = Callable[[float, float, float], None]


@dataclass
class SolveOptions:
    """How to run the solver.

    deterministic=True uses one worker and a fixed seed: the same problem and
    options give the same solution on every machine run (wall time aside).
    """

    time_limit_s: float = 10.0
    workers: int = 2
    deterministic: bool = False
    seed: int = 0
    hint_greedy: bool = True
    subsolvers: tuple[str, ...] = ("max_lp",)  # full solver; CP-SAT's LNS workers still run beside it
    batch_pairs: int = 3000  # tiny components are solved together up to this many pairs
    lns_pairs: int = 40000  # components with more eligible pairs use large-neighbourhood search
    gap_target: float = 0.0  # stop a component when this relative gap is proven
    log: bool = False
    extra: dict[str, object] = field(default_factory=dict)  # raw CP-SAT parameters


def pinned_violations(problem: Problem) -> list[str]:
    """Broken rules of the pinned placements on their own ([] when they can be kept)."""
    pinned = {pid: y.pinned for pid, y in problem.people.items() if y.pinned}
    return violations(problem, pinned)


def warm_start(problem: Problem, use_greedy: bool) -> tuple[Assignments, str]:
    """The best feasible start among greedy, the current plan and the pinned placements."""
    options: list[tuple[str, Assignments]] = []
    if use_greedy:
        try:
            from .greedy import greedy  # E2's module; optional
        except ImportError:
            greedy = None
        if greedy is not None:
            options.append(("greedy", dict(greedy(problem))))
    options.append(("current", {pid: y.current for pid, y in problem.people.items() if y.current}))
    options.append(("pinned", {pid: y.pinned for pid, y in problem.people.items() if y.pinned}))
    best: tuple[float, str, Assignments] | None = None
    for name, assignment in options:
        if violations(problem, assignment):
            continue
        value = evaluate(problem, assignment).objective
        if best is None or value > best[0]:
            best = (value, name, assignment)
    assert best is not None, "pinned placements were checked to be feasible"
    return best[2], best[1]


def _batches(problem: Problem, candidates: dict[str, list[str]], limit: int) -> list[list[str]]:
    """Components, tiny ones merged up to `limit` pairs, smallest first."""
    comps = sorted(components(candidates), key=lambda c: sum(len(candidates[p]) for p in c))
    out: list[list[str]] = []
    current: list[str] = []
    size = 0
    for comp in comps:
        pairs = sum(len(candidates[p]) for p in comp)
        if current and size + pairs > limit:
            out.append(current)
            current, size = [], 0
        current = current + comp
        size += pairs
    if current:
        out.append(current)
    return out


def solve(problem: Problem, options: SolveOptions | None = None, progress: Progress | None = None,
          cancel: threading.Event | None = None) -> Solution:
    """Find a best assignment within the time limit; never raises for a valid Problem."""
    from .problem import eligible_groups

    opts = options or SolveOptions()
    started = time.monotonic()
    broken = pinned_violations(problem)
    if broken:
        return Solution(status=Status.INFEASIBLE, errors=broken, wall_s=time.monotonic() - started)
    candidates = eligible_groups(problem)
    start, start_name = warm_start(problem, opts.hint_greedy)
    batches = _batches(problem, candidates, opts.batch_pairs)
    sizes = [sum(len(candidates[p]) for p in b) for b in batches]
    ctx = SearchContext(opts, started, progress, cancel, total_pairs=sum(sizes))
    ctx.reserve = explain_cost(problem, start)
    assignments: Assignments = {pid: gids for pid, gids in start.items() if not candidates.get(pid)}
    scopes = [Scope(problem, {pid: candidates[pid] for pid in batch}) for batch in batches]
    if progress is not None:  # totals for progress: unsolved batches count with start value, trivial bound
        from .bounds import trivial_bound

        fixed = evaluate(problem, start, only=[p for p in problem.people if not candidates.get(p)]).objective
        ctx.done_value = ctx.done_bound = fixed
        ctx.later_value = sum(evaluate(problem, start, only=s.people).objective for s in scopes)
        ctx.later_bound = sum(trivial_bound(s) for s in scopes)
    results: list[ComponentResult] = []
    for n, scope in enumerate(scopes):
        share = sizes[n] / max(1, sum(sizes[n:]))
        if progress is not None:
            ctx.later_value -= evaluate(problem, start, only=scope.people).objective
            ctx.later_bound -= trivial_bound(scope)
        result = solve_scope(scope, start, ctx, share, big=sizes[n] > opts.lns_pairs)
        results.append(result)
        ctx.finish(result)
        assignments.update(result.assignments)
    return _finish(problem, assignments, results, start, start_name, started, len(batches), sizes, ctx.stats)


def _finish(problem: Problem, assignments: Assignments, results: list[ComponentResult],
            start: Assignments, start_name: str, started: float, n_batches: int,
            sizes: list[int], ctx_stats: dict) -> Solution:
    broken = violations(problem, assignments)
    if broken:  # a modelling bug must never reach a caseworker: fall back to the warm start
        assignments, results = dict(start), []
    ev = evaluate(problem, assignments)
    statuses = {r.status for r in results}
    status = Status.OPTIMAL if results and statuses == {Status.OPTIMAL} or not sizes else Status.FEASIBLE
    gap_sum = sum(max(0.0, r.bound - r.value) for r in results)
    bound = ev.objective if status is Status.OPTIMAL else ev.objective + gap_sum
    if broken:
        bound = None
        status = Status.FEASIBLE
    clean = {pid: gids for pid, gids in assignments.items() if gids}
    return Solution(
        status=status, assignments=clean, objective=ev.objective, bound=bound,
        unmatched=unmatched_list(problem, clean), wall_s=time.monotonic() - started,
        terms=ev.terms, stats={
            **ev.kpis, "components": n_batches, "eligible_pairs": sum(sizes), "warm_start": start_name,
            "model_bugs": broken[:5],
            "component_statuses": sorted(s.value for s in statuses), **ctx_stats,
        },
    )


def explain_cost(problem: Problem, start: Assignments) -> float:
    """Seconds to keep for `unmatched_list`: about 0.6 ms per unplaced person (L, loaded box), doubled."""
    unplaced = sum(1 for pid in problem.people if not start.get(pid))
    return 0.05 + 1.5e-3 * unplaced if unplaced else 0.0


def unmatched_list(problem: Problem, assignments: Assignments) -> list[Unmatched]:
    """Every young person without a group, with German reasons for the caseworker.

    Uses E2's explain module (`unmatched_all` shares one index over all groups);
    without it, a short generic reason is the hook.
    """
    try:
        from .explain import unmatched_all
    except ImportError:
        unmatched_all = None
    reasons = unmatched_all(problem, assignments) if unmatched_all is not None else {}
    generic = ["Keine passende Gruppe mit freiem Platz gefunden."]
    return [Unmatched(pid, list(reasons.get(pid) or generic))
            for pid in problem.people if not assignments.get(pid)]
