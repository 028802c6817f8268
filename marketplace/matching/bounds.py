"""Proven upper bounds for scopes too large for one exact model.

`lp_bound` solves the linear relaxation of model.py's formulation (same
variables, same redundant links, real objective coefficients) with an OR-Tools
LP solver (GLOP: HiGHS inside OR-Tools prints a banner on stdout, and highspy cannot share a process with OR-Tools).
Any LP optimum bounds the integer optimum from above; when it does not
finish within its time limit the weak `trivial_bound` is returned instead.
"""

from __future__ import annotations

import math

from ortools.linear_solver import pywraplp

from .constraints import time_cliques
from .objective import pair_total
from .scope import Scope


class _Rows:
    def __init__(self) -> None:
        self.starts: list[int] = []
        self.index: list[int] = []
        self.value: list[float] = []
        self.upper: list[float] = []
        self.lower: list[float] = []

    def add(self, cols: list[int], vals: list[float], lower: float, upper: float) -> None:
        self.starts.append(len(self.index))
        self.index += cols
        self.value += vals
        self.lower.append(lower)
        self.upper.append(upper)


def lp_bound(scope: Scope, time_limit: float, backend: str = "GLOP") -> float:
    """Upper bound on the scope's objective (in objective points) from the LP relaxation."""
    problem, w = scope.problem, scope.problem.weights
    assert not scope.fixed, "bounds are computed for whole components"
    cost: list[float] = []
    upper: list[float] = []
    lower: list[float] = []

    def var(c: float, ub: float = 1.0, lb: float = 0.0) -> int:
        cost.append(c)
        upper.append(ub)
        lower.append(lb)
        return len(cost) - 1

    rows = _Rows()
    inf = math.inf
    offset = 0.0
    x: dict[tuple[str, str], int] = {}
    conflicts: list[tuple[str, str, str]] = []
    members: dict[str, list[int]] = {}
    quarters = {gid: problem.groups[gid].minutes // 15 for gid in scope.groups}
    for pid in scope.people:
        y = problem.people[pid]
        offset -= w["change"] * len(set(y.current))
        gids = scope.candidates[pid]
        for gid in gids:
            lb = 1.0 if gid in y.pinned else 0.0
            x[pid, gid] = var(pair_total(problem, pid, gid), lb=lb)
            members.setdefault(gid, []).append(x[pid, gid])
        xs = [x[pid, g] for g in gids]
        qs = [float(quarters[g]) for g in gids]
        placed = var(y.priority * w["placed"])
        rows.add([placed, *xs], [1.0] + [-1.0] * len(xs), -inf, 0.0)
        for col in xs:
            rows.add([col, placed], [1.0, -1.0], -inf, 0.0)
        whole = math.floor(4 * y.target + 1e-9)
        covered = var(y.priority * w["hours"] / 4, ub=float(min(whole, sum(qs))))
        rows.add([covered, *xs], [1.0] + [-q for q in qs], -inf, 0.0)
        if 4 * y.target - whole > 1e-9:
            reached = var(y.priority * w["hours"] * (y.target - whole / 4))
            rows.add([reached, *xs], [float(whole + 1)] + [-q for q in qs], -inf, 0.0)
        limit = math.floor(4 * y.max_hours + 4e-9)
        if sum(qs) > limit:
            rows.add(xs, qs, -inf, float(limit))
        for clique in time_cliques(problem, gids):
            rows.add([x[pid, g] for g in clique], [1.0] * len(clique), -inf, 1.0)
        for other in y.avoid_with:
            if other == pid:
                for col in xs:
                    upper[col] = 0.0
            elif other in scope.candidates:
                conflicts += [(pid, other, gid) for gid in set(gids) & set(scope.candidates[other])]
    for pid, other, gid in conflicts:
        rows.add([x[pid, gid], x[other, gid]], [1.0, 1.0], -inf, 1.0)
    pinned = scope.pinned_groups()
    for gid, cols in members.items():
        g = problem.groups[gid]
        is_open = var(0.0)
        rows.add([*cols, is_open], [1.0] * len(cols) + [-float(g.seats)], -inf, 0.0)
        for col in cols:
            rows.add([col, is_open], [1.0, -1.0], -inf, 0.0)
        if gid not in pinned and g.min_size > 1:
            rows.add([*cols, is_open], [1.0] * len(cols) + [-float(g.min_size)], 0.0, inf)
    solver = pywraplp.Solver.CreateSolver(backend)
    solver.SuppressOutput()
    solver.SetTimeLimit(int(max(0.1, time_limit) * 1000))
    cols = [solver.NumVar(lo, up, "") for lo, up in zip(lower, upper, strict=True)]
    objective = solver.Objective()
    for col, c in zip(cols, cost, strict=True):
        if c:
            objective.SetCoefficient(col, c)
    objective.SetMaximization()
    ends = [*rows.starts[1:], len(rows.index)]
    for n, (a, b) in enumerate(zip(rows.starts, ends, strict=True)):
        row = solver.RowConstraint(rows.lower[n], rows.upper[n], "")
        for k in range(a, b):
            row.SetCoefficient(cols[rows.index[k]], rows.value[k])
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return trivial_bound(scope)
    # Pad by the LP solver's tolerances: the bound must not be below the true LP optimum.
    value = objective.Value()
    return min(value + 1e-7 * abs(value) + 1e-3 + offset, trivial_bound(scope))


def trivial_bound(scope: Scope) -> float:
    """A weak bound: everybody placed and covered as far as candidates allow, every positive pair taken."""
    problem, w = scope.problem, scope.problem.weights
    total = 0.0
    for pid in scope.people:
        y = problem.people[pid]
        gids = scope.candidates[pid]
        hours = sum(problem.groups[g].hours for g in gids)
        total -= w["change"] * len(set(y.current))
        if gids:
            total += y.priority * (w["placed"] + w["hours"] * min(y.target, hours))
        total += sum(max(0.0, pair_total(problem, pid, g)) for g in gids)
    return total
