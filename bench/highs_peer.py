"""HiGHS as a peer: the matching problem as one mixed-integer program, for comparison only.

Same formulation as the engine's model, stated independently: a binary per
eligible (young person, group) pair, "placed" and "group open" binaries with
the redundant links x <= placed and x <= open, covered hours c <= h, c <= target,
one at-most-one row per busy time point of a person (maximal cliques only),
seats, minimum size, hours maximum, "not together with", pinned pairs fixed
to 1, closed groups pruned with the ineligible pairs, and the objective of
FORMAT.md with exact distances. Not part of the pure engine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from marketplace.matching.problem import Problem, YoungPerson, eligible_groups, haversine_km


@dataclass
class _Rows:
    """Rows in compressed form, collected before one addRows call."""

    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)

    def add(self, cols: list[int], coefs: list[float], lo: float, hi: float) -> None:
        self.starts.append(len(self.index))
        self.index += cols
        self.value += coefs
        self.lower.append(lo)
        self.upper.append(hi)


@dataclass
class PeerModel:
    """The built model: HiGHS instance plus the pair columns to read the assignment back."""

    highs: highspy.Highs
    pairs: list[tuple[str, str]]
    n_cols: int
    n_rows: int
    build_s: float


def _cliques(problem: Problem, gids: list[str]) -> list[list[str]]:
    """Maximal sets of the person's groups that are busy at one common time point."""
    sets = set()
    for gid in gids:
        for s in problem.groups[gid].sessions:
            busy = frozenset(other for other in gids for t in problem.groups[other].sessions
                             if t.day == s.day and t.start <= s.start < t.end)
            if len(busy) > 1:
                sets.add(busy)
    maximal = [c for c in sets if not any(c < d for d in sets)]
    return [sorted(c) for c in sorted(maximal, key=sorted)]


def _pair_value(problem: Problem, y: YoungPerson, gid: str) -> float:
    w, g = problem.weights, problem.groups[gid]
    value = w["need_match"] * len(y.needs & g.categories) + w["preferred"] * (gid in y.preferred)
    value -= w["km"] * haversine_km(y.lat, y.lon, g.lat, g.lon)
    if g.provider != y.lead_provider:
        value -= w["offset_eur"] * g.offset_rate * g.hours
    return value + w["change"] * (gid in y.current)  # keeping a current group avoids its change penalty


def build(problem: Problem) -> PeerModel:
    """The MIP of `problem` in a fresh, silent HiGHS instance (maximisation)."""
    started = time.perf_counter()
    w = problem.weights
    candidates = eligible_groups(problem)
    pinned_groups = {gid for y in problem.people.values() for gid in y.pinned}
    for pid, y in problem.people.items():  # pinned pairs stay even if a rule breaks: HiGHS then says infeasible
        candidates[pid] = list(dict.fromkeys(candidates[pid] + list(y.pinned)))
    pairs = [(pid, gid) for pid, gids in candidates.items() for gid in gids]
    col = {pair: n for n, pair in enumerate(pairs)}
    cost = [_pair_value(problem, problem.people[pid], gid) for pid, gid in pairs]
    lower = [1.0 if gid in problem.people[pid].pinned else 0.0 for pid, gid in pairs]
    upper = [1.0] * len(pairs)
    integer = list(range(len(pairs)))
    rows = _Rows()

    def new_col(c: float, lo: float, hi: float, is_int: bool) -> int:
        cost.append(c)
        lower.append(lo)
        upper.append(hi)
        if is_int:
            integer.append(len(cost) - 1)
        return len(cost) - 1

    for pid, gids in candidates.items():
        if not gids:
            continue
        y = problem.people[pid]
        xs = [col[(pid, gid)] for gid in gids]
        hours = [problem.groups[gid].hours for gid in gids]
        placed = new_col(y.priority * w["placed"], 0, 1, True)
        rows.add([placed] + xs, [1.0] + [-1.0] * len(xs), -highspy.kHighsInf, 0)
        for x in xs:
            rows.add([x, placed], [1.0, -1.0], -highspy.kHighsInf, 0)
        if y.target > 0:
            cover = new_col(y.priority * w["hours"], 0, y.target, False)
            rows.add([cover] + xs, [1.0] + [-h for h in hours], -highspy.kHighsInf, 0)
        if sum(hours) > y.max_hours + 1e-9:
            rows.add(xs, hours, -highspy.kHighsInf, y.max_hours)
        for clique in _cliques(problem, gids):
            rows.add([col[(pid, gid)] for gid in clique], [1.0] * len(clique), -highspy.kHighsInf, 1)
        for other in y.avoid_with:
            for gid in set(gids) & set(candidates.get(other, ())):
                cols = sorted({col[(pid, gid)], col[(other, gid)]})
                rows.add(cols, [1.0] * len(cols), -highspy.kHighsInf, 1)

    members: dict[str, list[int]] = {}
    for (_, gid), n in col.items():
        members.setdefault(gid, []).append(n)
    for gid, xs in members.items():
        g = problem.groups[gid]
        if g.min_size > 1 and gid not in pinned_groups:
            opened = new_col(0.0, 0, 1, True)
            rows.add(xs + [opened], [1.0] * len(xs) + [-float(g.seats)], -highspy.kHighsInf, 0)
            rows.add(xs + [opened], [1.0] * len(xs) + [-float(g.min_size)], 0, highspy.kHighsInf)
            for x in xs:
                rows.add([x, opened], [1.0, -1.0], -highspy.kHighsInf, 0)
        elif len(xs) > g.seats:
            rows.add(xs, [1.0] * len(xs), -highspy.kHighsInf, g.seats)

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    n = len(cost)
    h.addVars(n, np.array(lower), np.array(upper))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(cost))
    h.changeColsIntegrality(len(integer), np.array(integer, dtype=np.int32),
                            np.array([highspy.HighsVarType.kInteger] * len(integer)))
    if rows.lower:
        h.addRows(len(rows.lower), np.array(rows.lower), np.array(rows.upper), len(rows.index),
                  np.array(rows.starts, dtype=np.int32), np.array(rows.index, dtype=np.int32),
                  np.array(rows.value))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    change_constant = -w["change"] * sum(len(set(y.current)) for y in problem.people.values())
    h.changeObjectiveOffset(change_constant)
    return PeerModel(h, pairs, n, len(rows.lower), time.perf_counter() - started)


@dataclass
class PeerResult:
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN
    assignments: dict[str, tuple[str, ...]]
    bound: float | None
    reported_objective: float | None
    model: dict[str, float]


def solve_highs(problem: Problem, time_limit_s: float, threads: int = 2, seed: int = 0) -> PeerResult:
    """Build and solve with HiGHS within `time_limit_s` (HiGHS may overrun it while presolving)."""
    model = build(problem)
    h = model.highs
    h.setOptionValue("time_limit", max(0.1, time_limit_s - model.build_s))
    h.setOptionValue("threads", threads)
    h.setOptionValue("random_seed", seed)
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == highspy.kSolutionStatusFeasible
    assignments: dict[str, list[str]] = {}
    if has_solution:
        values = h.getSolution().col_value
        for n, (pid, gid) in enumerate(model.pairs):
            if values[n] > 0.5:
                assignments.setdefault(pid, []).append(gid)
    if status == highspy.HighsModelStatus.kOptimal:
        name = "OPTIMAL"
    elif status == highspy.HighsModelStatus.kInfeasible:
        name = "INFEASIBLE"
    else:
        name = "FEASIBLE" if has_solution else "UNKNOWN"
    bound = info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else None
    return PeerResult(name, {pid: tuple(g) for pid, g in assignments.items()}, bound,
                      info.objective_function_value if has_solution else None,
                      {"columns": model.n_cols, "rows": model.n_rows, "pairs": len(model.pairs),
                       "build_s": round(model.build_s, 3)})
