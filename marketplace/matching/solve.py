"""`solve`: the matching run, from a parsed Problem to a Solution.

Steps: check that the pinned placements alone are feasible (else INFEASIBLE
naming the broken rule), prune ineligible pairs, split into independent
connected components, warm start from the best feasible of {greedy, current,
pinned only}, solve each component with CP-SAT (districts through column
generation and the model over sets, see fixing.py; large ones by
large-neighbourhood search, see lns.py), merge, recompute the exact objective
and explain who stays unplaced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .problem import Problem
from .runner import ComponentResult, SearchContext, better, solve_scope
from .scope import ProblemIndex, Scope, components
from .solution import Assignments, Solution, Status, Unmatched, evaluate, person_values, violations

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
    hint_greedy: bool = True  # compute the greedy as a warm start (fallback, never worse than it)
    hint_model: bool = False  # also give the warm start to CP-SAT as a hint (slower on M, see runner.py)
    subsolvers: tuple[str, ...] = ("max_lp",)  # full solver; CP-SAT's LNS workers still run beside it
    batch_pairs: int = 3000  # tiny components are solved together up to this many pairs
    lns_pairs: int = 40000  # components with more eligible pairs use large-neighbourhood search
    gap_target: float = 0.0  # stop a component when this relative gap is proven
    component_gap: float = 0.003  # with several components: first pass stops each at this gap
    # Components with at least this many eligible pairs first go through column generation and the
    # model over sets (fixing.py); None: never (the pair model alone).
    set_pairs: int | None = 1500
    one_worker_per_component: bool = True  # exact components: one LP worker (see solve), windows use `workers`
    log: bool = False
    extra: dict[str, object] = field(default_factory=dict)  # raw CP-SAT parameters


# Seconds per eligible pair a component needs to reach a small gap with one worker, before any
# component has finished: M districts took 2-4 CPU seconds for 7,500 pairs on an idle core. When
# time is short for all, the first components get what they need and later ones keep the warm start,
# rather than every component stopping before its first LP bound.
PACE_PRIOR = 4e-4
# Objective points by which a solution may stay below its proven bound and still count as optimal:
# the bounds carry tiny floating-point pads (as run_model, half a unit of the model's 1/100 scale).
PROOF_TOLERANCE = 0.005
# Several districts: each first gets a quick bound and start (runner.quick), at most QUICK_SECONDS of
# seat-price steps each and QUICK_SHARE of the time limit for all.
QUICK_SECONDS = 0.3
QUICK_SHARE = 0.08
# ... unless all districts are expected to take at most this share of the time limit at PACE_PRIOR.
IN_TIME_SHARE = 0.6


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
    """Components, tiny ones merged up to `limit` pairs, largest first."""
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
    return out[::-1]


class _Plan:
    """Components to solve (by index, largest first), handed to one or two threads.

    Each component gets its share of the remaining time: `threads` times its
    eligible pairs over the pairs not yet started (at most all of it). What a
    component leaves unused (it stopped at its gap target or was proven optimal)
    goes to the ones after it.
    """

    def __init__(self, order: list[int], sizes: list[int], threads: int):
        self.order, self.sizes, self.threads = order, sizes, threads
        self.next = 0
        self.unstarted = sum(sizes[n] for n in order)
        self.lock = threading.Lock()

    def take(self) -> tuple[int, float] | None:
        with self.lock:
            if self.next >= len(self.order):
                return None
            n = self.order[self.next]
            self.next += 1
            share = min(1.0, self.threads * self.sizes[n] / max(1, self.unstarted))
            self.unstarted -= self.sizes[n]
            return n, share


def solve(problem: Problem, options: SolveOptions | None = None, progress: Progress | None = None,
          cancel: threading.Event | None = None) -> Solution:
    """Find a best assignment within the time limit; never raises for a valid Problem.

    Independent components are solved separately; with two workers and several
    components, two components run side by side (one CP-SAT worker each).
    """
    from .bounds import trivial_bound
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
    values = person_values(problem, start)
    free = [pid for pid in problem.people if not candidates.get(pid)]
    ctx.fixed_value = sum(values[pid] for pid in free)
    assignments: Assignments = {pid: start[pid] for pid in free if start.get(pid)}
    index = ProblemIndex.of(problem)
    scopes = [Scope(problem, {pid: candidates[pid] for pid in batch}, index=index) for batch in batches]
    if progress is not None:  # unsolved components count with their start value and the trivial bound
        ctx.set_slots([sum(values[p] for p in b) for b in batches], [trivial_bound(sc) for sc in scopes])
    threads = 1 if opts.deterministic or opts.workers < 2 else max(1, min(opts.workers, len(batches)))
    # One CP-SAT worker with the full LP per exact component, also when it is alone: on M districts it
    # proved optimality in 70-75 % of the CPU time and of the wall time of the 2-worker max_lp portfolio
    # on a busy machine (m1 8.5 s against 12.0 s, m3 35 s against 41 s), and reached 0.3 % 1.5-4x sooner.
    per_component = 1 if opts.one_worker_per_component else max(1, opts.workers // threads)
    per_window = max(1, opts.workers // threads)  # large-neighbourhood windows keep the portfolio
    # Several real components: stop each at a small proven gap, then use what is left to close it.
    several = sum(1 for n in sizes if n > opts.batch_pairs) > 1
    first_gap = max(opts.gap_target, opts.component_gap) if several else opts.gap_target
    results: list[ComponentResult | None] = [None] * len(scopes)
    if several and not opts.deterministic and not _in_time(sizes, threads, opts):
        _quick_results(scopes, sizes, start, ctx, results, opts)
    pace = [0.0, 0, 1.0]  # seconds and eligible pairs of components that reached their gap in time; prior factor

    def run(plan: _Plan, gap: float) -> None:
        while not ctx.cancelled():
            item = plan.take()
            if item is None:
                return
            n, share = item
            mine = ctx.for_slot(n)
            old = results[n]
            hint = start if old is None else old.assignments
            left = max(1e-3, ctx.remaining())
            if not opts.deterministic:  # at least 1.5x what finished ones needed per pair (else a prior)
                rate = pace[0] / pace[1] if pace[1] else PACE_PRIOR * pace[2]
                share = min(1.0, max(share, 1.5 * rate * sizes[n] / left))
            began = time.monotonic()
            big = sizes[n] > opts.lns_pairs
            result = solve_scope(scopes[n], hint, mine, share, big=big,
                                 workers=per_window if big else per_component, gap=gap)
            took = time.monotonic() - began
            with ctx.lock:
                ctx.stats.setdefault("component_runs", []).append(  # type: ignore[union-attr]
                    [sizes[n], round(share * left, 2), round(took, 2), result.status.value,
                     round(result.bound - result.value, 1)])
            with ctx.lock:
                if took < 0.9 * share * left:  # reached its gap in time: learn the pace
                    pace[0] += took
                    pace[1] += sizes[n]
                elif not pace[1]:  # none has finished yet (a busy machine): give the next ones more
                    pace[2] *= 2
            if old is not None:
                result = better(old, result)
            results[n] = result
            mine.finish(result, sum(person_values(problem, result.assignments, scopes[n].people).values()))

    _run_threads(run, _Plan(list(range(len(scopes))), sizes, threads), first_gap)
    ctx.stats["first_pass_s"] = round(ctx.elapsed(), 2)
    if first_gap > opts.gap_target and not ctx.cancelled() and ctx.remaining() > 1.0:
        unproven = [n for n, r in enumerate(results) if r is not None and r.status is not Status.OPTIMAL
                    and sizes[n] <= opts.lns_pairs]
        unproven.sort(key=lambda n: results[n].bound - results[n].value, reverse=True)  # type: ignore[union-attr]
        _run_threads(run, _Plan(unproven, sizes, threads), opts.gap_target)
    done = [r for r in results if r is not None]
    bound = ctx.fixed_value
    for n, r in enumerate(results):
        if r is None:  # never started (cancelled): keep the warm start
            assignments.update({pid: start[pid] for pid in scopes[n].people if start.get(pid)})
            bound += trivial_bound(scopes[n])
        else:
            assignments.update(r.assignments)
            bound += r.bound
    return _finish(problem, assignments, done, start, start_name, started, len(batches), sizes, ctx.stats,
                   bound)


def _in_time(sizes: list[int], threads: int, opts: SolveOptions) -> bool:
    """Whether every district is expected to be solved well within the time limit (then the quick
    bounds and starts are not needed: on XL they took 30 of 120 s, and the set models proved all 25
    districts optimal in 55 s without them)."""
    if opts.set_pairs is None:
        return False
    exact = sum(n for n in sizes if opts.batch_pairs < n <= opts.lns_pairs)
    large = sum(n for n in sizes if n > opts.lns_pairs)
    return not large and exact * PACE_PRIOR / max(1, threads) <= IN_TIME_SHARE * opts.time_limit_s


def _quick_results(scopes: list[Scope], sizes: list[int], start: Assignments, ctx: SearchContext,
                   results: list[ComponentResult | None], opts: SolveOptions) -> None:
    """A quick bound and start for every district (runner.quick), within QUICK_SHARE of the time."""
    from .runner import quick

    real = [n for n, size in enumerate(sizes) if size > opts.batch_pairs]
    seconds = min(QUICK_SECONDS, QUICK_SHARE * opts.time_limit_s / max(1, len(real)))
    for n in real:
        if ctx.cancelled() or ctx.remaining() < 0.5 * opts.time_limit_s:
            return
        mine = ctx.for_slot(n)
        result = quick(scopes[n], start, seconds)
        results[n] = result
        mine.finish(result, result.value)
    ctx.stats["quick_s"] = round(ctx.elapsed(), 2)


def _run_threads(run: Callable[[_Plan, float], None], plan: _Plan, gap: float) -> None:
    if plan.threads <= 1:
        run(plan, gap)
        return
    pool = [threading.Thread(target=run, args=(plan, gap), daemon=True) for _ in range(plan.threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def _finish(problem: Problem, assignments: Assignments, results: list[ComponentResult],
            start: Assignments, start_name: str, started: float, n_batches: int,
            sizes: list[int], ctx_stats: dict, bound: float | None = None) -> Solution:
    broken = violations(problem, assignments)
    if broken:  # a modelling bug must never reach a caseworker: fall back to the warm start
        assignments, results = dict(start), []
    ev = evaluate(problem, assignments)
    statuses = {r.status for r in results}
    status = Status.OPTIMAL if results and statuses == {Status.OPTIMAL} or not sizes else Status.FEASIBLE
    if not sizes:
        bound = ev.objective
    if broken or bound is None:
        bound = None
        status = Status.FEASIBLE
    else:
        if ev.objective >= bound - PROOF_TOLERANCE:  # the exact value reaches the proven bound
            status = Status.OPTIMAL  # (a component may have kept its start when the rounded model tied)
        bound = max(bound, ev.objective)
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
    """Seconds to keep for `unmatched_list`: about 0.15 ms per person unplaced in the start (XL-1: 2.5 s
    for 20,000 on an idle core), doubled for a busy machine. The start leaves more unplaced than the result."""
    unplaced = sum(1 for pid in problem.people if not start.get(pid))
    checks = 3e-5 * len(problem.people)  # the final rule check and evaluation (L: 0.3 s)
    return 0.05 + 3e-4 * unplaced + checks if unplaced else checks


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
