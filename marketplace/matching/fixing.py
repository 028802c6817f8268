"""Proven optima for districts: column generation, reduced-cost fixing and a model over sets.

The pair model of model.py is exact, but the LP CP-SAT runs on it is loose on a district, so
most of a solve goes into the proof. The master LP of colgen.py is far tighter: on M-1 it is
25 points above an optimum of 5,235,217. Its duals also price every set of groups of every
young person: the *loss* of a set is how far taking it lowers the Lagrangian bound U at those
duals, and the losses of a solution (its sets, plus one per group for running or not) add up
to at most U minus its value. So a solution within δ of U takes only sets whose loss is at
most δ, and the steps are:

1. column generation until the LP meets its bound: the bound U and the duals;
2. each person's sets with a loss of at most δ (first U − LP plus FIRST_DELTA), and the groups
   whose running, or not running, alone would cost more than δ (closed, or must run);
3. CP-SAT on the model over these sets: one boolean per set, exactly one per person, the
   seats, minimum sizes and conflicts (avoid_with, which the LP leaves out). Its LP is the
   master LP, so the proof is quick;
4. an optimum R ≥ U − δ of that model is the optimum of the whole problem: any solution at
   least as good would be within δ of U and hence in the set model. Otherwise R is still a
   solution, so the optimum is within U − R of U: once more with δ = U − R, which then proves
   it. A set model without a solution proves that the optimum is below U − δ; δ widens.

Values are exact (FORMAT.md); CP-SAT maximises the set values rounded to 1/100 point, and
the bound adds what that rounding can hide (`SetModel.slack`), as model.py does. Measured
(2 cores, idle): M districts 1-3 s to the proof, M --rebalance about 1 s, the 25 districts of
XL-1 55 s. When no set model is solved in time (a huge δ, more than MAX_SETS sets) the result
keeps the column generation's bound and the caller runs the pair model.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .colgen import ColumnGeneration
from .lagrange import _Data, _pad
from .runner import ComponentResult, SearchContext, cancellable
from .scope import Scope
from .solution import Assignments, Status

FIRST_DELTA = 2e-5  # relative to the bound: the first δ (M: ~100 points, its optima lie 15-25 below U)
MAX_SETS = 200_000  # sets in the set model at most; beyond, the pair model is solved instead
CG_SHARE = 0.5  # of the time at most for column generation
# The generation runs until the LP is within GAP of its bound: the rounds after the LP stops moving
# still lower the bound, and each point of bound saved keeps sets out of the set model (an XL
# district stopped after 3 rounds without LP progress, 1,600 points above: 58,000 sets and 18 s;
# converged: 5,000 sets and 0.3 s).
GAP = 1e-6
STALL = 10**6
DETERMINISTIC_ROUNDS = 200
DELTA_ROUNDS = 4  # set models at most (δ widens after each that has no solution within δ)


@dataclass
class Losses:
    """The duals of the best bound of a column generation, as losses against that bound `bound`."""

    bound: float
    each: np.ndarray  # per person row: the best reduced value of a set
    reduced: np.ndarray  # per person row and slot: the pair's reduced value
    open_coef: np.ndarray  # per group: the bound's coefficient of "runs" (pinned groups: unused)
    pad: float

    @classmethod
    def of(cls, generation: ColumnGeneration) -> Losses | None:
        last = generation.last
        if last is None:
            return None
        reduced, each, open_coef, bound = last
        return cls(bound, each, reduced, open_coef, _pad(generation.d, bound))


class SetModel:
    """CP-SAT over each person's sets with a loss of at most `delta` (`build`), objective in units
    of 1/`scale` point."""

    def __init__(self, scope: Scope, generation: ColumnGeneration, losses: Losses, delta: float,
                 scale: float):
        self.scope, self.losses, self.delta, self.scale = scope, losses, delta, scale
        self.d: _Data = generation.d
        self.slack = 0.0  # how far the exact value of a solution can exceed its rounded one
        self.generation = generation
        self.model = cp_model.CpModel()
        self.sets: list[tuple[int, tuple[int, ...]]] = []  # (person row, slots)
        self.vars: list[cp_model.IntVar] = []

    def build(self) -> str:
        """Enumerate the sets and add the rules: "ok", "many" (more than MAX_SETS) or "narrow" (a
        person without a set or a group that must run without members: no solution within δ)."""
        d, losses, gen = self.d, self.losses, self.generation
        limit = self.delta + losses.pad
        # Running a group loses max(0, -c) against the bound, not running it max(0, c).
        closed = self.closed = ~gen.pinned & (losses.open_coef < -limit)
        must_run = self.must_run = ~gen.pinned & (losses.open_coef > limit)
        partners_blocked = self._blocked_by_pinned()
        per_person: list[list[int]] = []
        for i in range(d.n):
            banned = {k for k in range(int(d.counts[i]))
                      if closed[int(d.col[i, k])] or (i, k) in partners_blocked}
            sets = self._sets(i, limit, banned)
            if sets is None or len(self.sets) + len(sets) > MAX_SETS:
                return "many"
            per_person.append([])
            for slots in sets:
                per_person[i].append(len(self.sets))
                self.sets.append((i, slots))
        m = self.model
        self.vars = [m.new_bool_var("") for _ in self.sets]
        objective = []
        excess = np.zeros(d.n)
        for n, (i, slots) in enumerate(self.sets):
            exact = gen.value(i, slots)
            c = round(self.scale * exact)
            objective.append((c, self.vars[n]))
            excess[i] = max(excess[i], exact - c / self.scale)
        self.slack = float(excess.sum()) * (1 + 1e-9) + 1e-6
        for mine in per_person:
            if not mine:
                return "narrow"  # no set of this person is within δ
            m.add_exactly_one(self.vars[n] for n in mine)
        self.in_group: dict[int, list[int]] = {}
        for n, (i, slots) in enumerate(self.sets):
            for k in slots:
                self.in_group.setdefault(int(d.col[i, k]), []).append(n)
        self.open: dict[int, cp_model.IntVar] = {}
        for g, members in self.in_group.items():
            chosen = [self.vars[n] for n in members]
            free = int(round(gen.free[g]))
            if gen.pinned[g]:
                m.add(sum(chosen) <= free)
                continue
            run = self.open[g] = m.new_bool_var("")
            m.add(sum(chosen) <= free * run)
            need = int(gen.mins[g])
            if need > 1:
                m.add(sum(chosen) >= need * run)
            for var in chosen:
                m.add_implication(var, run)
            if must_run[g]:
                m.add(run == 1)
        for g in np.flatnonzero(must_run):
            if int(g) not in self.in_group:
                return "narrow"  # a group that must run has nobody within δ
        self._conflicts()
        m.maximize(cp_model.LinearExpr.weighted_sum([v for _, v in objective], [c for c, _ in objective]))
        return "ok"

    def _sets(self, i: int, limit: float, banned: set[int]) -> list[tuple[int, ...]] | None:
        """Person row i's feasible sets (no overlaps, within the hours maximum) with a loss of at most
        `limit`, by depth-first search with a bound; None when more than MAX_SETS."""
        d, gen, losses = self.d, self.generation, self.losses
        count = int(d.counts[i])
        red = losses.reduced[i]
        hv = d.hours_value[i]
        floor = losses.each[i] - limit  # a set must reach this reduced value
        slots = [k for k in range(count) if k not in banned]
        slots.sort(key=lambda k: -red[k])
        qk = [int(d.qk[i, k]) for k in slots]
        vals = [float(red[k]) for k in slots]
        positive = np.maximum(0.0, np.array(vals + [0.0]))
        rest = np.concatenate([np.cumsum(positive[::-1])[::-1], [0.0]])  # Σ of positive values from j on
        best_hours = np.maximum.accumulate(hv[::-1])[::-1]  # the best hours value at q or more
        cap = int(d.cap[i])
        out: list[tuple[int, ...]] = []
        chosen: list[int] = []
        cols = [int(d.col[i, k]) for k in slots]

        def walk(j: int, q: int, value: float) -> bool:
            if value + hv[q] >= floor:
                out.append(tuple(sorted(slots[n] for n in chosen)))
                if len(out) > MAX_SETS:
                    return False
            for n in range(j, len(slots)):
                q2 = q + qk[n]
                if q2 > cap or value + vals[n] + rest[n + 1] + best_hours[q2] < floor:
                    continue
                if any(gen.clash(cols[n], cols[c]) for c in chosen):
                    continue
                chosen.append(n)
                ok = walk(n + 1, q2, value + vals[n])
                chosen.pop()
                if not ok:
                    return False
            return True

        if not walk(0, 0, 0.0):
            return None
        return out

    def _blocked_by_pinned(self) -> set[tuple[int, int]]:
        """(person row, slot) pairs whose group holds a pinned person this person must avoid."""
        d, scope, problem = self.d, self.scope, self.scope.problem
        pinned_in: dict[str, list[str]] = {}
        for pid in scope.people:
            for gid in problem.people[pid].pinned:
                pinned_in.setdefault(gid, []).append(pid)
        out: set[tuple[int, int]] = set()
        if not pinned_in:
            return out
        groups = scope.groups
        for i, pid in enumerate(d.people):
            avoid = scope.partners(pid)
            if not avoid:
                continue
            for k in range(int(d.counts[i])):
                if avoid.intersection(pinned_in.get(groups[int(d.col[i, k])], ())):
                    out.add((i, k))
        return out

    def _conflicts(self) -> None:
        """Rule 5: young people who must be kept apart share no group (a person who avoids
        themselves takes no group at all)."""
        d, scope = self.d, self.scope
        row = {pid: i for i, pid in enumerate(d.people)}
        by_person_group: dict[tuple[int, int], list[int]] = {}
        for n, (i, slots) in enumerate(self.sets):
            for k in slots:
                by_person_group.setdefault((i, int(d.col[i, k])), []).append(n)
        groups_of: dict[int, set[int]] = {}
        for (i, g) in by_person_group:
            groups_of.setdefault(i, set()).add(g)
        for pid, i in row.items():
            for other in scope.partners(pid):
                if other == pid:
                    for g in groups_of.get(i, ()):
                        for n in by_person_group[(i, g)]:
                            self.model.add(self.vars[n] == 0)
                    continue
                j = row.get(other)
                if j is None or not i < j:
                    continue
                for g in groups_of.get(i, set()) & groups_of.get(j, set()):
                    both = by_person_group[(i, g)] + by_person_group[(j, g)]
                    self.model.add_at_most_one(self.vars[n] for n in both)

    def assignments(self, solver: cp_model.CpSolver) -> Assignments:
        d, groups, problem = self.d, self.scope.groups, self.scope.problem
        chosen: dict[int, tuple[int, ...]] = {}
        for n, (i, slots) in enumerate(self.sets):
            if solver.boolean_value(self.vars[n]):
                chosen[i] = slots
        out: Assignments = {}
        for i, pid in enumerate(d.people):
            gids = {groups[int(d.col[i, k])] for k in chosen.get(i, ())} | set(problem.people[pid].pinned)
            if gids:
                out[pid] = tuple(g for g in self.scope.candidates[pid] if g in gids)
        return out


def solve_by_sets(scope: Scope, ctx: SearchContext, seconds: float, start: Assignments,
                  workers: int | None = None) -> ComponentResult | None:
    """The proven optimum of a whole scope by the steps above, within `seconds` (values exact, the
    bound padded for the set model's rounded coefficients); None when the column generation did not
    finish a round (then the caller solves the pair model)."""
    from .solution import person_values

    problem = scope.problem
    began = time.monotonic()
    deadline = began + seconds
    generation = ColumnGeneration(scope)
    generation.add_assignment(start)
    generation.add_assignment({pid: problem.people[pid].current for pid in scope.people})
    mine = {pid: start[pid] for pid in scope.people if start.get(pid)}
    start_value = sum(person_values(problem, mine, scope.people).values())

    def report(bound: float) -> None:
        ctx.report(start_value, bound)

    if ctx.opts.deterministic:
        generation.run(math.inf, stop=ctx.cancel, rounds=DETERMINISTIC_ROUNDS, gap=GAP, stall=STALL,
                       progress=report)
    else:
        generation.run(began + CG_SHARE * seconds, stop=ctx.cancel, gap=GAP, stall=STALL, progress=report)
    ctx.stats.update(generation.stats)
    return solve_sets(scope, generation, ctx, deadline, mine, start_value, workers, budget=seconds)


def solve_sets(scope: Scope, generation: ColumnGeneration, ctx: SearchContext, deadline: float,
               start: Assignments, start_value: float, workers: int | None = None,
               budget: float | None = None) -> ComponentResult | None:
    """Steps 2-4 after a column generation, until `deadline` (monotonic seconds); None when the
    generation has no round. `budget`: the deterministic time of each set model in deterministic
    runs (default: the time left)."""
    from .objective import choose_scale
    from .solution import person_values

    problem = scope.problem
    losses = Losses.of(generation)
    if losses is None:
        return None
    upper = losses.bound
    ceiling = upper + losses.pad  # a proven bound
    best = ComponentResult(Status.FEASIBLE, start, start_value, ceiling)
    scale = choose_scale(problem, scope.people)
    # The optimum lies below the LP, so at least U - LP is lost anyway; FIRST_DELTA more.
    delta = max(0.0, upper - generation.lp) + FIRST_DELTA * abs(upper)
    for attempt in range(DELTA_ROUNDS):
        if ctx.cancelled() or not ctx.opts.deterministic and deadline - time.monotonic() < 0.05:
            break
        sets = SetModel(scope, generation, losses, delta, scale)
        built = sets.build()
        if built == "many":
            break
        code = None
        if built == "ok":
            solver = cp_model.CpSolver()
            # Deterministic runs give every set model the whole budget in deterministic time.
            left = max(0.05, deadline - time.monotonic())
            if ctx.opts.deterministic and budget is not None:
                left = budget
            solver.parameters.copy_from(ctx.parameters(left, workers))
            code = cancellable(solver, sets.model, ctx)
            ctx.stats.setdefault("set_rounds", []).append(  # type: ignore[union-attr]
                [round(delta, 1), len(sets.sets), solver.status_name(code), round(solver.wall_time, 2)])
        if built == "narrow" or code == cp_model.INFEASIBLE:
            # Every solution within δ of U would be in the set model, and it has none.
            ceiling = min(ceiling, upper - delta)
            # Widen, at most to the gap of the best solution known, and to that in the last round:
            # a set model that holds the best solution known proves the optimum when solved.
            known = upper - best.value + losses.pad
            delta = known if attempt + 2 >= DELTA_ROUNDS else min(4 * delta + 1.0, known)
            continue
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        assignments = sets.assignments(solver)
        value = sum(person_values(problem, assignments, scope.people).values())
        # Solutions outside the set model are worth less than U - δ; inside it, at most the set
        # model's bound plus what its rounded coefficients can hide.
        inside = solver.best_objective_bound / scale + generation.const + sets.slack
        proven = code == cp_model.OPTIMAL and solver.best_objective_bound <= solver.objective_value + 0.5
        ceiling = min(ceiling, max(inside, upper - delta))
        if proven and value >= upper - delta:  # the optimum is inside: this is it (up to rounding)
            return ComponentResult(Status.OPTIMAL, assignments, value, max(value, ceiling))
        if value > best.value:
            best = ComponentResult(Status.FEASIBLE, assignments, value, ceiling)
        ctx.report(best.value, ceiling)
        # A solution worth `value` is known: the optimum loses at most U - value against U.
        delta = max(delta * 1.5, upper - value + losses.pad)
    return ComponentResult(Status.FEASIBLE, best.assignments, best.value, max(best.value, ceiling))
