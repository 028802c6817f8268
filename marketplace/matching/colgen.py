"""Column generation: a tight bound and a nearly integral plan for large components.

The master LP has one column per set of groups one young person can take
together (no overlaps, within the hours maximum), and an "open" variable per
group that carries its minimum size:

    max  Σ_c value(c) · z_c
         Σ_{c of person i} z_c = 1               (the empty set is a column too)
         Σ_{c ∋ g} z_c ≤ free_g · o_g            (free_g alone for groups with a pinned member)
         Σ_{c ∋ g} z_c ≥ min_g · o_g
         Σ_{c of i, c ∋ g} z_c ≤ o_g             (links, added where the LP breaks them)
         0 ≤ o_g ≤ 1,  z ≥ 0

GLOP solves it over a growing pool of columns. The pricing step finds each
person's best set at the duals exactly: the knapsack of lagrange.py (overlaps
relaxed), then branch and bound for the people whose choice overlaps in time.
For ANY duals of the right sign

    Σ_i best_i(y) + Σ_{pinned g} free_g·y_g + Σ_g max(0, free_g·y_g + min_g·ν_g + Σ_i π_ig) + constant

bounds the optimum (Lagrangian duality; where the branching runs out of
subproblems, the knapsack value of the open ones stands in for best_i), so
every round yields a proven bound, whether GLOP finished or not.

On L-1 the LP is 37.096 M and its bound 37.10-37.11 M, against 37.17 M for the
clique-refined Lagrangian bound and 37.99 M for the LP relaxation of the
pair formulation. Only a few dozen of 9,655 young people are fractional in its
solution, so the plan it proposes (`plan`), turned into assignments by
priced.py, is worth 37.08-37.09 M, where the windows alone reached 36.87 M in
60 s. Conflicts (avoid_with) are left to that construction.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np
from ortools.linear_solver import pywraplp

from .lagrange import _NEG, _Data, _pad, best_sets, knapsack
from .scope import Scope

GAP = 5e-4  # relative distance of bound and LP value at which the generation stops
LINK_GAP = 1e-3  # ... and at which links x <= open are added where the LP breaks them
STALL = 4  # rounds without LP progress (degenerate duals) that end it too, once within LINK_GAP
NEW_MIN = 1e-6  # a new column must gain at least this (relative to the person's dual) to enter
NODES = 20000  # subproblems per pricing round for the people whose knapsack choice overlaps in time


def clash_matrix(groups: list) -> np.ndarray:
    """Which of `groups` overlap in time (rule 3), as a symmetric boolean matrix; vectorised over
    all sessions."""
    owner, day, start, end = [], [], [], []
    for n, g in enumerate(groups):
        for s in g.sessions:
            owner.append(n)
            day.append(s.day)
            start.append(s.start)
            end.append(s.end)
    out = np.zeros((len(groups), len(groups)), dtype=bool)
    if not owner:
        return out
    o, dd, a, b = (np.array(v, dtype=np.int64) for v in (owner, day, start, end))
    hit = (dd[:, None] == dd[None, :]) & (a[:, None] < b[None, :]) & (a[None, :] < b[:, None])
    rows, cols = np.nonzero(hit)
    out[o[rows], o[cols]] = True
    return out


class ColumnGeneration:
    """The master LP of one whole component (nothing fixed) and its column pool."""

    def __init__(self, scope: Scope, data: _Data | None = None):
        self.scope = scope
        d = self.d = data if data is not None else _Data(scope)
        problem, groups = scope.problem, scope.groups
        self.group = [problem.groups[g] for g in groups]
        pinned = scope.pinned_groups()
        self.pinned = np.array([g in pinned for g in groups], dtype=bool)
        self.free = d.seats - d.pin_usage
        self.mins = np.array([g.min_size for g in self.group], dtype=float)
        self.const = d.const + float(d.pin_value.sum())
        self.best = math.inf  # the best proven bound so far (without padding)
        self.lp = -math.inf  # the last LP value
        self.rounds = 0
        self.converged = False
        self._cap_dual = np.zeros(len(groups))
        # The duals of the best bound so far, for reduced-cost fixing (fixing.py): per person row and
        # slot the reduced pair values, per person row the best set's reduced value, per group the
        # coefficient of "runs", and the bound itself.
        self.last: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None
        self._share = np.zeros(0)  # the last LP solution: per column, and per group (-1: pinned)
        self._opened = np.zeros(0)
        self.stats: dict[str, float] = {}
        self.log: list[tuple[float, float, float, float]] = []  # per round: seconds, LP seconds, LP, bound
        s = self.solver = pywraplp.Solver.CreateSolver("GLOP")  # with presolve: 30 s on L-1, 50 s without
        inf = s.infinity()
        self.person_rows = [s.Constraint(1.0, 1.0) for _ in range(d.n)]
        self.cap_rows = []
        self.min_rows: list[pywraplp.Constraint | None] = []
        self.open_vars: list[pywraplp.Variable | None] = []
        for n in range(len(groups)):
            if self.pinned[n]:
                self.cap_rows.append(s.Constraint(-inf, float(max(0.0, self.free[n]))))
                self.min_rows.append(None)
                self.open_vars.append(None)
                continue
            opened = s.NumVar(0.0, 1.0, "")
            cap = s.Constraint(-inf, 0.0)
            cap.SetCoefficient(opened, -float(self.free[n]))
            low = s.Constraint(0.0, inf)
            low.SetCoefficient(opened, -float(self.mins[n]))
            self.cap_rows.append(cap)
            self.min_rows.append(low)
            self.open_vars.append(opened)
        self.objective = s.Objective()
        self.objective.SetMaximization()
        self.columns: list[tuple[int, tuple[int, ...]]] = []  # (person row, candidate slots)
        self.vars: list[pywraplp.Variable] = []
        self._seen: set[tuple[int, tuple[int, ...]]] = set()
        self.group_clash = clash_matrix(self.group)  # groups overlapping in time (scope indices)
        self._of_person: list[list[int]] = [[] for _ in range(d.n)]  # column numbers per person row
        self.pair_rows: dict[tuple[int, int], pywraplp.Constraint] = {}  # (person row, slot) -> z <= o
        for i in range(d.n):
            self._add(i, ())

    # -- columns ---------------------------------------------------------------------------

    def value(self, i: int, slots: tuple[int, ...]) -> float:
        """The objective of person row i taking the groups in `slots` (pinned pair values excluded)."""
        d = self.d
        quarters = int(sum(d.qk[i, k] for k in slots))
        return float(sum(d.val[i, k] for k in slots) + d.hours_value[i, quarters])

    def _add(self, i: int, slots: tuple[int, ...]) -> bool:
        key = (i, tuple(sorted(slots)))
        if key in self._seen:
            return False
        self._seen.add(key)
        var = self.solver.NumVar(0.0, self.solver.infinity(), "")
        self.objective.SetCoefficient(var, self.value(i, key[1]))
        self.person_rows[i].SetCoefficient(var, 1.0)
        for k in key[1]:
            n = int(self.d.col[i, k])
            self.cap_rows[n].SetCoefficient(var, 1.0)
            low = self.min_rows[n]
            if low is not None:
                low.SetCoefficient(var, 1.0)
            row = self.pair_rows.get((i, k))
            if row is not None:
                row.SetCoefficient(var, 1.0)
        self._of_person[i].append(len(self.columns))
        self.columns.append(key)
        self.vars.append(var)
        return True

    def _link(self) -> int:
        """Rows "person i in group g at most o_g" where the LP solution breaks them (a group opened
        only in part, with a person in it more than that part).

        Without them the LP spreads young people thinly over partly opened groups (on L-1
        --rebalance 73 groups below their minimum in its plan); they are added only where that
        happens, since all of them at once make GLOP many times slower on a whole city.
        """
        d = self.d
        opened = self._opened
        usage: dict[tuple[int, int], float] = {}
        for (i, slots), z in zip(self.columns, self._share, strict=False):
            if z > 1e-9:
                for k in slots:
                    usage[(i, k)] = usage.get((i, k), 0.0) + float(z)
        added = 0
        for (i, k), used in usage.items():
            n = int(d.col[i, k])
            if opened[n] < 0 or used <= opened[n] + 1e-6 or (i, k) in self.pair_rows:
                continue  # pinned group, link kept, or already a row
            row = self.solver.Constraint(-self.solver.infinity(), 0.0)
            opened_var = self.open_vars[n]
            assert opened_var is not None
            row.SetCoefficient(opened_var, -1.0)
            for c in self._of_person[i]:
                if k in self.columns[c][1]:
                    row.SetCoefficient(self.vars[c], 1.0)
            self.pair_rows[(i, k)] = row
            added += 1
        return added

    def add_assignment(self, assignment: dict[str, list[str]] | dict[str, tuple[str, ...]]) -> int:
        """Columns for the free groups of each person's set in `assignment` (overlaps repaired)."""
        d = self.d
        row = {pid: i for i, pid in enumerate(d.people)}
        index = {gid: n for n, gid in enumerate(self.scope.groups)}
        added = 0
        for pid, gids in assignment.items():
            i = row.get(pid)
            if i is None:
                continue
            slot_of = {int(d.col[i, k]): k for k in range(int(d.counts[i]))}
            slots = [slot_of[index[g]] for g in gids if g in index and index[g] in slot_of]
            if slots:
                added += self._add(i, self._repair(i, slots, d.val[i]))
        return added

    def _repair(self, i: int, slots: list[int], reduced: np.ndarray) -> tuple[int, ...]:
        """The slots without overlaps and within the hours maximum: the best ones first (value with
        their hours alone)."""
        d = self.d
        worth = {k: reduced[k] + d.priority_hours[i] * min(d.qk[i, k] / 4.0, d.target[i]) for k in slots}
        kept: list[int] = []
        quarters = 0
        for k in sorted(slots, key=lambda k: (-worth[k], k)):
            if quarters + d.qk[i, k] <= d.cap[i] and not any(self.clash(int(d.col[i, k]), int(d.col[i, j]))
                                                              for j in kept):
                kept.append(k)
                quarters += int(d.qk[i, k])
        return tuple(sorted(kept))

    # -- the loop ----------------------------------------------------------------------------

    def run(self, deadline: float, stop: threading.Event | None = None, rounds: int = 1000,
            gap: float = GAP, stall: int = STALL, progress: Callable[[float], None] | None = None) -> None:
        """Solve and price until the LP is within `gap` (relative) of its bound, `deadline` (monotonic
        seconds), `stop`, or `rounds` rounds; `best` is a proven bound after every round.

        `stop` also interrupts a GLOP solve under way (which releases the GIL; on a city one solve
        can take several seconds): the round is then dropped. `progress` receives the proven
        bound (padded) after every round.
        """
        from .runner import interrupted_by

        with interrupted_by(stop, self.solver.InterruptSolve):
            self._run(deadline, stop, rounds, gap, stall, progress)

    def _run(self, deadline: float, stop: threading.Event | None, rounds: int, gap: float, stall: int,
             progress: Callable[[float], None] | None) -> None:
        started = time.monotonic()
        d = self.d
        lp_s = 0.0
        stalled, last_lp = 0, -math.inf
        for _ in range(rounds):
            left = deadline - time.monotonic()
            if left < 0.2 or (stop is not None and stop.is_set()):
                break
            if math.isfinite(left):  # deterministic runs count rounds instead
                self.solver.SetTimeLimit(int(1000 * left))
            began = time.monotonic()
            status = self.solver.Solve()
            lp_s += time.monotonic() - began
            if stop is not None and stop.is_set():
                break  # interrupted: this round's LP solution is incomplete
            self.rounds += 1
            if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
                break
            self.lp = self.objective.Value() + self.const
            # Read the solution now: adding columns or rows below makes GLOP forget it.
            self._share = np.array([v.solution_value() for v in self.vars])
            self._opened = np.array([-1.0 if o is None else o.solution_value() for o in self.open_vars])
            # Duals of the right sign (a maximisation: >= 0 on "at most" rows, <= 0 on "at least").
            cap = np.maximum(0.0, np.array([r.dual_value() for r in self.cap_rows]))
            low = np.minimum(0.0, np.array([0.0 if r is None else r.dual_value() for r in self.min_rows]))
            self._cap_dual = cap
            price = cap + low
            reduced = d.val - price[d.col]
            pair_dual = np.zeros(len(self.free))  # Σ_i of the link duals per group
            for (i, k), row in self.pair_rows.items():
                y = max(0.0, row.dual_value())
                reduced[i, k] -= y
                pair_dual[int(d.col[i, k])] += y
            each, choice = best_sets(d, reduced, True)
            assert choice is not None
            each, sets = self._exact(reduced, each, choice)
            open_coef = self.free * cap + self.mins * low + pair_dual  # of "runs" in the bound
            bound = (float(each.sum()) + float((self.free * cap)[self.pinned].sum())
                     + float(np.maximum(0.0, open_coef)[~self.pinned].sum()) + self.const)
            if bound < self.best:
                self.last = (reduced, each, open_coef, bound)
            self.best = min(self.best, bound)
            if progress is not None:
                progress(self.bound())
            self.log.append((round(time.monotonic() - started, 2), round(time.monotonic() - began, 2),
                             round(self.lp, 1), round(bound, 1)))
            if self.best - self.lp <= max(gap, LINK_GAP) * abs(self.best) and self._link():
                continue  # near the bound: cut off groups opened in part first
            if self.best - self.lp <= gap * abs(self.best):
                self.converged = True
                break
            stalled = stalled + 1 if self.lp <= last_lp + 1e-7 * abs(self.lp) else 0
            last_lp = self.lp
            if stalled >= stall and self.best - self.lp <= max(gap, LINK_GAP) * abs(self.best):
                break
            dual = np.array([r.dual_value() for r in self.person_rows])
            added = 0
            for i in np.flatnonzero(each > dual + NEW_MIN * np.maximum(1.0, np.abs(dual))):
                slots = sets.get(int(i))
                if slots is None:
                    slots = self._repair(i, list(np.flatnonzero(choice[i])), reduced[i])
                if self.value(i, slots) - (d.val[i, list(slots)] - reduced[i, list(slots)]).sum() > dual[i] + 1e-6:
                    added += self._add(int(i), slots)
            if not added and not self._link():
                break
        self.stats.update(colgen_rounds=self.rounds, colgen_columns=len(self.columns),
                          colgen_lp=round(self.lp, 2), colgen_bound=round(self.best, 2),
                          colgen_s=round(self.stats.get("colgen_s", 0.0) + time.monotonic() - started, 2),
                          colgen_lp_s=round(self.stats.get("colgen_lp_s", 0.0) + lp_s, 2))

    def _first_clash(self, rows: np.ndarray, taken: np.ndarray) -> list[tuple[int, int] | None]:
        """Per (person row, slots taken) the first two taken slots whose groups overlap in time
        (in slot order), or None; vectorised over all rows (over the few slots taken, so memory
        stays small on a whole city)."""
        if not len(rows):
            return []
        width = int(taken.sum(axis=1).max())
        if width < 2:
            return [None] * len(rows)
        slots = np.argsort(~taken, axis=1, kind="stable")[:, :width]  # the taken slots first, in order
        real = np.take_along_axis(taken, slots, axis=1)
        groups = self.d.col[rows[:, None], slots]
        both = self.group_clash[groups[:, :, None], groups[:, None, :]] & real[:, :, None] & real[:, None, :]
        both &= np.triu(np.ones((width, width), dtype=bool), 1)[None]
        flat = both.reshape(len(rows), -1)
        hit = flat.any(axis=1)
        first = flat.argmax(axis=1)
        return [(int(slots[n, f // width]), int(slots[n, f % width])) if h else None
                for n, (h, f) in enumerate(zip(hit, first, strict=True))]

    def clash(self, a: int, b: int) -> bool:
        """Whether groups a and b (scope indices) overlap in time."""
        return bool(self.group_clash[a, b])

    def _exact(self, reduced: np.ndarray, each: np.ndarray, choice: np.ndarray
               ) -> tuple[np.ndarray, dict[int, tuple[int, ...]]]:
        """Each person's best value without overlaps (an upper bound where NODES ran out), and the
        best set found for the people whose knapsack choice overlapped.

        Branch and bound on the knapsack: a choice with two overlapping groups a, b splits into
        "without a" and "without b" (every feasible set lacks one of them); a subproblem whose
        knapsack value cannot beat the best set found for its person is dropped.
        """
        d = self.d
        each = each.copy()
        found: dict[int, tuple[int, ...]] = {}
        best = {}
        nodes: list[tuple[int, frozenset[int], tuple[int, int]]] = []
        for i, pair in enumerate(self._first_clash(np.arange(d.n), choice)):
            if pair is not None:
                nodes.append((i, frozenset(), pair))
                best[i] = -math.inf
        spent = 0
        while nodes and spent < NODES:
            children = [(i, banned | {k}) for i, banned, pair in nodes for k in pair]
            spent += len(children)
            bound, taken = self._without(reduced, children)
            nodes = []
            pairs = self._first_clash(np.array([i for i, _ in children], dtype=np.int64), taken)
            for n, (i, banned) in enumerate(children):
                if bound[n] <= best[i] + 1e-9:
                    continue
                pair = pairs[n]
                if pair is None:
                    best[i] = float(bound[n])
                    found[i] = tuple(int(k) for k in np.flatnonzero(taken[n]))
                else:
                    nodes.append((i, banned, pair))
        open_bound: dict[int, float] = {}
        if nodes:  # out of subproblems: their knapsack values still bound the person
            bound, _ = self._without(reduced, [(i, banned) for i, banned, _ in nodes])
            for n, (i, _, _) in enumerate(nodes):
                open_bound[i] = max(open_bound.get(i, -math.inf), float(bound[n]))
        for i, value in best.items():
            each[i] = max(value, open_bound.get(i, -math.inf))
        self.stats["colgen_nodes"] = self.stats.get("colgen_nodes", 0) + spent
        return each, found

    def _without(self, reduced: np.ndarray, nodes: list[tuple[int, frozenset[int]]]) -> tuple[np.ndarray, np.ndarray]:
        """The knapsack of each (person row, banned slots) subproblem: its value and the slots taken."""
        d = self.d
        rows = np.array([i for i, _ in nodes], dtype=np.int64)
        values = reduced[rows].copy()
        for n, (_, banned) in enumerate(nodes):
            values[n, list(banned)] = _NEG
        bound, taken = knapsack(d.qk[rows], values, d.hours_value[rows])
        assert taken is not None
        return bound, taken

    # -- results -------------------------------------------------------------------------------

    def plan(self) -> dict[str, list[str]]:
        """Each person's set with the largest share in the last LP solution (non-empty ones only)."""
        d, groups = self.d, self.scope.groups
        best: dict[int, tuple[float, tuple[int, ...]]] = {}
        for (i, slots), z in zip(self.columns, self._share, strict=False):  # columns added since: share 0
            if z > best.get(i, (0.0, ()))[0]:
                best[i] = (float(z), slots)
        return {d.people[i]: [groups[int(d.col[i, k])] for k in slots]
                for i, (_, slots) in best.items() if slots}

    def bound(self) -> float:
        """The best proven bound, padded for floating point like the relaxation's."""
        return self.best + _pad(self.d, self.best)

    def seat_prices(self) -> dict[str, float]:
        """The seat duals of the last LP (what a seat is worth), for the construction from the plan."""
        return {gid: float(self._cap_dual[n]) for n, gid in enumerate(self.scope.groups)}

