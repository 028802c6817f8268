"""Seat prices: a Lagrangian relaxation for scopes too large for one exact model.

Relax the seats of every group with a price λ_g ≥ 0 per seat and drop the
rules that couple young people or only restrict (minimum size, conflicts,
time overlaps). What is left splits per young person: choose groups among
the eligible ones within the hours maximum (pinned ones always) maximising

    p(i) · (w.placed · [h > 0] + w.hours · min(h, target))  +  Σ_g (value(i, g) − λ_g)

This is a knapsack over quarter hours (at most 4 · max hours ≤ a few dozen),
solved exactly for all young people at once with numpy. For ANY λ ≥ 0

    Σ_i best_i(λ) + Σ_g λ_g · seats_g  ≥  the optimum of the scope

(weak duality; relaxing constraints only raises the maximum), so stopping at
any time gives a valid bound. Subgradient steps with Polyak's step length
(towards the best known solution value) lower the bound. The prices guide the
first construction (priced.py); column generation (colgen.py) reuses the
arrays and the knapsack for its pricing and gives the far tighter bound.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .objective import pair_total
from .problem import sessions_overlap
from .scope import Scope

_NEG = -1e18
PATIENCE = 5  # iterations without a better bound before the step length halves


class _Data:
    """The scope as arrays; people sorted by candidate count (descending) for prefix slicing."""

    def __init__(self, scope: Scope):
        problem, w = scope.problem, scope.problem.weights
        assert not scope.fixed, "bounds are computed for whole components"
        people = sorted(scope.people, key=lambda p: -len(scope.candidates[p]))
        groups = scope.groups
        gindex = {gid: n for n, gid in enumerate(groups)}
        self.seats = np.array([problem.groups[g].seats for g in groups], dtype=float)
        quarters = np.array([problem.groups[g].minutes // 15 for g in groups], dtype=np.int64)
        n = len(people)
        self.n = n
        self.const = 0.0
        self.cap = np.zeros(n, dtype=np.int64)  # quarter hours left after pinned groups
        self.base_q = np.zeros(n, dtype=np.int64)  # quarter hours of pinned groups
        self.pin_value = np.zeros(n)
        counts = []
        cols: list[list[int]] = []
        vals: list[list[float]] = []
        self.pin_groups: list[int] = []  # group index of every pinned pair (always taken)
        self.priority_hours = np.zeros(n)
        self.priority_placed = np.zeros(n)
        self.target = np.zeros(n)
        for i, pid in enumerate(people):
            y = problem.people[pid]
            self.const -= w["change"] * len(set(y.current))
            limit = math.floor(4 * y.max_hours + 4e-9)
            pinned = set(y.pinned)
            held = [problem.groups[g] for g in pinned]
            mine_c, mine_v = [], []
            for gid in scope.candidates[pid]:
                value = pair_total(problem, pid, gid)
                if gid in pinned:
                    self.pin_value[i] += value
                    self.base_q[i] += quarters[gindex[gid]]
                    self.pin_groups.append(gindex[gid])
                elif quarters[gindex[gid]] <= limit and not any(sessions_overlap(problem.groups[gid], h)
                                                                 for h in held):
                    # a group at the time of a pinned one can never be taken (rule 3)
                    mine_c.append(gindex[gid])
                    mine_v.append(value)
            self.cap[i] = max(0, limit - self.base_q[i])
            self.priority_hours[i] = y.priority * w["hours"]
            self.priority_placed[i] = y.priority * w["placed"]
            self.target[i] = y.target
            counts.append(len(mine_c))
            cols.append(mine_c)
            vals.append(mine_v)
        order = np.argsort(-np.array(counts, dtype=np.int64), kind="stable")  # pinned may shift counts
        self._reorder(order, counts, cols, vals)
        self.people = [people[i] for i in order]  # the young person of each row
        self.quarters = quarters
        self.qmax = int(self.cap.max()) if n else 0
        self.k = int(self.counts.max()) if n else 0
        # prefix[k]: people with more than k candidates (a prefix, counts are sorted descending)
        self.prefix = [int(np.searchsorted(-self.counts, -k, side="left")) for k in range(self.k)]
        self.col = np.zeros((n, max(1, self.k)), dtype=np.int64)
        self.val = np.full((n, max(1, self.k)), _NEG)
        for i in range(n):
            c = self.counts[i]
            self.col[i, :c] = self.cols[i]
            self.val[i, :c] = self.vals[i]
        self.qk = quarters[self.col]
        self.pin_usage = np.bincount(np.array(self.pin_groups, dtype=np.int64), minlength=len(groups)).astype(float)
        # Value of h quarter hours (plus pinned ones) for each person, by h = 0..qmax.
        hq = (self.base_q[:, None] + np.arange(self.qmax + 1)[None, :]) / 4.0
        self.hours_value = (self.priority_hours[:, None] * np.minimum(hq, self.target[:, None])
                            + self.priority_placed[:, None] * (hq > 0))
        self.hours_value[np.arange(self.qmax + 1)[None, :] > self.cap[:, None]] = _NEG

    def _reorder(self, order: np.ndarray, counts: list[int], cols: list[list[int]], vals: list[list[float]]) -> None:
        self.counts = np.array(counts, dtype=np.int64)[order]
        self.cols = [cols[i] for i in order]
        self.vals = [vals[i] for i in order]
        for name in ("cap", "base_q", "pin_value", "priority_hours", "priority_placed", "target"):
            setattr(self, name, getattr(self, name)[order])


def _people(d: _Data, reduced: np.ndarray, need_choice: bool) -> tuple[float, np.ndarray | None]:
    """Σ_i of each person's best set under `reduced` pair values (pinned groups excluded), and the choice."""
    each, choice = best_sets(d, reduced, need_choice)
    return float(each.sum() + d.pin_value.sum()), choice


def best_sets(d: _Data, reduced: np.ndarray, need_choice: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Each person's best value under `reduced` pair values (hours terms included, pinned pair values
    not), with overlaps relaxed, and which candidate slots that best set takes."""
    return knapsack(d.qk, reduced, d.hours_value, need_choice, d.prefix)


def knapsack(qk: np.ndarray, values: np.ndarray, hours_value: np.ndarray, need_choice: bool = True,
             prefix: list[int] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per row the best value of slots (quarter hours `qk`, `values`) plus `hours_value` of the quarter
    hours taken (_NEG beyond the capacity), overlaps relaxed, and which slots it takes.

    `prefix[k]`: only the first prefix[k] rows have a slot k (rows sorted by slot count, descending).
    """
    n, width = values.shape
    q1 = hours_value.shape[1]
    table = np.full((n, q1), _NEG)
    table[:, 0] = 0.0
    takes = []
    cols = np.arange(q1)
    for k in range(width):
        m = n if prefix is None else (prefix[k] if k < len(prefix) else 0)
        if m == 0:
            break
        sub = table[:m]
        src = cols[None, :] - qk[:m, k][:, None]
        cand = np.where(src >= 0, np.take_along_axis(sub, np.maximum(src, 0), axis=1), _NEG) + values[:m, k][:, None]
        if need_choice:
            takes.append(cand > sub)
        np.maximum(sub, cand, out=sub)
    total = table + hours_value
    q = np.argmax(total, axis=1)
    value = total[np.arange(n), q]
    if not need_choice:
        return value, None
    chosen = np.zeros(values.shape, dtype=bool)
    for k in range(len(takes) - 1, -1, -1):
        m = takes[k].shape[0]
        hit = takes[k][np.arange(m), q[:m]]
        chosen[:m, k] = hit
        q[:m] -= np.where(hit, qk[:m, k], 0)
    return value, chosen


def _evaluate(d: _Data, price: np.ndarray, need_usage: bool) -> tuple[float, np.ndarray | None]:
    """Seat prices: Σ_i best_i(price) + Σ_g price_g seats_g + constant, and the seats the choices use."""
    people, choice = _people(d, d.val - price[d.col], need_usage)
    value = people - float(price @ d.pin_usage) + float(price @ d.seats) + d.const
    if choice is None:
        return value, None
    usage = d.pin_usage + np.bincount(d.col[choice], minlength=len(d.seats))
    return value, usage


class Lagrangian:
    """The seat-price relaxation of one scope; `best` is always a proven bound."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.d = _Data(scope)
        self.best = math.inf
        self.prices = np.zeros(len(self.d.seats))
        self.stats: dict[str, float] = {"lagrange_iterations": 0}

    def bound(self) -> float:
        return self.best + _pad(self.d, self.best)

    def price_map(self) -> dict[str, float]:
        """The seat prices of the best bound."""
        return {gid: float(self.prices[n]) for n, gid in enumerate(self.scope.groups)}

    def seat_prices(self, time_limit: float, target: float | None = None, iterations: int = 10_000) -> None:
        started = time.monotonic()
        best, first, total, price = _descend(self.d, self.prices, target, started + time_limit, iterations)
        if best < self.best:
            self.best, self.prices = best, price
        self.stats.update(lagrange_iterations=self.stats["lagrange_iterations"] + total,
                          lagrange_first=round(first or 0.0, 2), lagrange_s=round(time.monotonic() - started, 2))

    def chosen(self) -> dict[str, list[str]]:
        """Each young person's best groups in the relaxation at the prices of the best bound
        (overlaps relaxed): starting columns for colgen.py."""
        d = self.d
        _, choice = _people(d, d.val - self.prices[d.col], True)
        assert choice is not None
        groups = self.scope.groups
        return {pid: [groups[c] for c in d.col[i][choice[i]]] for i, pid in enumerate(d.people) if choice[i].any()}


def _pad(d: _Data, value: float) -> float:
    """Padding for floating point: the sums are over many terms of up to ~1e4."""
    return 1e-9 * abs(value) + 1e-6 * (d.n + len(d.seats))


class _Polyak:
    """The bookkeeping both descents share: best and first bound, and Polyak's step length whose
    factor halves after PATIENCE steps without a better bound."""

    def __init__(self, target: float | None):
        self.target = target
        self.best = math.inf
        self.first: float | None = None
        self.theta = 0.3  # on L: 37.42 M after 8 s against 37.53 M after 40 s with 1.0 and patience 20
        self.stall = 0

    def record(self, value: float) -> bool:
        """Note a bound; True when it is the best so far."""
        if self.first is None:
            self.first = value
        if value < self.best - 1e-9 * abs(value):
            self.best, self.stall = value, 0
            return True
        self.stall += 1
        if self.stall >= PATIENCE:
            self.theta, self.stall = self.theta / 2, 0
        return False

    def settled(self) -> bool:
        return self.theta < 1e-4

    def step(self, value: float, norm: float) -> float:
        """The step length towards the target (the best known solution value; else 1 % below)."""
        target = self.target
        goal = target if target is not None and target < value else 0.99 * value
        return self.theta * (value - goal) / norm


def _descend(d: _Data, price: np.ndarray, target: float | None, deadline: float,
             iterations: int) -> tuple[float, float | None, int, np.ndarray]:
    """Projected subgradient descent with Polyak steps: best bound, first bound, iterations, and the
    prices of the best bound."""
    polyak = _Polyak(target)
    best_price = price
    n = 0
    for n in range(1, iterations + 1):  # noqa: B007
        value, usage = _evaluate(d, price, need_usage=True)
        assert usage is not None
        grad = d.seats - usage  # the bound's slope along price
        grad[(price <= 0) & (grad > 0)] = 0.0  # projection: prices stay >= 0
        if polyak.record(value):
            best_price = price
        if time.monotonic() > deadline or polyak.settled():
            break
        norm = float(grad @ grad)
        if norm == 0:
            break
        price = np.maximum(0.0, price - polyak.step(value, norm) * grad)
    return polyak.best, polyak.first, n, best_price
