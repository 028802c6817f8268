"""CP-SAT model of one scope: variables, the hard rules, the objective, hints, extraction.

Variables (only for the scope's free people and eligible pairs):
- x[i, g]      person i joins group g
- open[g]      group g may run (x <= open; min_size and seats scale with it)
- placed[i]    i has at least one group (x <= placed, placed <= sum x)
- covered[i]   quarter hours counted towards i's target (<= assigned, <= target)
- reached[i]   only when target is not a whole number of quarter hours: i reaches it fully
"""

from __future__ import annotations

import math
from typing import Any

from ortools.sat.python import cp_model

from .constraints import RULES
from .objective import build_objective, choose_scale
from .problem import Problem
from .scope import Scope


class MatchModel:
    """The CP-SAT model for `scope`; OR-Tools objects stay inside the package."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.problem: Problem = scope.problem
        self.model = cp_model.CpModel()
        self.scale = choose_scale(self.problem, scope.people)
        self.offset = 0.0
        self.slack = 0.0
        self.partners = self._partners()
        self.quarters = {gid: self.problem.groups[gid].minutes // 15 for gid in scope.groups}
        self._variables()
        self.rule_sizes = {name: add(self) for name, add in RULES.items()}
        self.terms = build_objective(self)

    def _partners(self) -> dict[str, frozenset[str]]:
        """avoid_with made symmetric, for the free people."""
        return {pid: self.scope.partners(pid) for pid in self.scope.people}

    def _variables(self) -> None:
        m, scope = self.model, self.scope
        self.x: dict[tuple[str, str], cp_model.IntVar] = {}
        self.members: dict[str, list[str]] = {}
        for pid in scope.people:
            for gid in scope.candidates[pid]:
                self.x[pid, gid] = m.new_bool_var(f"x[{pid},{gid}]")
                self.members.setdefault(gid, []).append(pid)
        self.open = {}
        for gid in self.members:
            var = m.new_bool_var(f"open[{gid}]")
            if scope.fixed_members.get(gid):
                m.add(var == 1)  # already running with fixed members
            self.open[gid] = var
        self.placed, self.covered, self.reached = {}, {}, {}
        self.cover_cap: dict[str, int] = {}
        for pid in scope.people:
            y = self.problem.people[pid]
            xs = [self.x[pid, g] for g in scope.candidates[pid]]
            assigned = sum(self.quarters[g] * self.x[pid, g] for g in scope.candidates[pid])
            placed = m.new_bool_var(f"placed[{pid}]")
            m.add(placed <= sum(xs))
            for x in xs:  # redundant link for the LP (NOTES.md)
                m.add_implication(x, placed)
            self.placed[pid] = placed
            whole = math.floor(4 * y.target + 1e-9)
            cap = min(whole, sum(self.quarters[g] for g in scope.candidates[pid]))
            self.cover_cap[pid] = max(cap, 0)
            covered = m.new_int_var(0, self.cover_cap[pid], f"covered[{pid}]")
            m.add(covered <= assigned)
            self.covered[pid] = covered
            if 4 * y.target - whole > 1e-9:
                reached = m.new_bool_var(f"reached[{pid}]")
                m.add(assigned >= (whole + 1) * reached)
                self.reached[pid] = reached

    # -- hints and results ----------------------------------------------------
    def values(self, assignments: dict[str, tuple[str, ...]]) -> dict[int, int]:
        """Values of all model variables (by index) for a feasible assignment of the free people."""
        out: dict[int, int] = {}
        chosen = {(pid, gid) for pid in self.scope.people for gid in assignments.get(pid, ())}
        for key, var in self.x.items():
            out[var.index] = int(key in chosen)
        counts: dict[str, int] = {}
        for _, gid in chosen:
            counts[gid] = counts.get(gid, 0) + 1
        for gid, var in self.open.items():
            out[var.index] = int(bool(counts.get(gid) or self.scope.fixed_members.get(gid)))
        for pid in self.scope.people:
            y = self.problem.people[pid]
            q = sum(self.quarters[g] for g in assignments.get(pid, ()) if (pid, g) in self.x)
            out[self.placed[pid].index] = int(q > 0)
            out[self.covered[pid].index] = min(q, self.cover_cap[pid])
            if pid in self.reached:
                out[self.reached[pid].index] = int(q >= math.floor(4 * y.target + 1e-9) + 1)
        return out

    def hint(self, assignments: dict[str, tuple[str, ...]]) -> None:
        """A complete hint (all auxiliary variables too) from a feasible assignment."""
        self.model.clear_hints()
        values = self.values(assignments)
        for var in self._all_vars():
            self.model.add_hint(var, values[var.index])

    def _all_vars(self) -> list[cp_model.IntVar]:
        return [*self.x.values(), *self.open.values(), *self.placed.values(),
                *self.covered.values(), *self.reached.values()]

    def value(self, assignments: dict[str, tuple[str, ...]]) -> float:
        """Model objective (rounded coefficients) of an assignment, in objective points."""
        values = self.values(assignments)
        scaled = sum(c * values[v.index] for entries in self.terms.values() for c, v in entries)
        return self.to_real(scaled)

    def trivial_bound(self) -> float:
        """A valid, weak upper bound: every positive coefficient at its variable's maximum."""
        caps = {v.index: 1 for v in self._all_vars()}
        for pid, var in self.covered.items():
            caps[var.index] = self.cover_cap[pid]
        scaled = sum(max(0, c) * caps[v.index] for entries in self.terms.values() for c, v in entries)
        return self.to_bound(scaled)

    def assignments(self, solver: cp_model.CpSolver | Any) -> dict[str, tuple[str, ...]]:
        """The chosen groups per free person, in candidate order."""
        out: dict[str, tuple[str, ...]] = {}
        for pid in self.scope.people:
            gids = tuple(g for g in self.scope.candidates[pid] if solver.boolean_value(self.x[pid, g]))
            if gids:
                out[pid] = gids
        return out

    def to_real(self, scaled: float) -> float:
        """A model objective value in objective points (rounded coefficients)."""
        return scaled / self.scale + self.offset

    def to_bound(self, scaled: float) -> float:
        """A model bound as an upper bound of the exact objective, in objective points."""
        return scaled / self.scale + self.offset + self.slack
