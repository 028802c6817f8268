"""A Lagrangian upper bound for scopes too large for one exact model.

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
(towards the best known solution value) lower the bound.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np

from .objective import pair_total
from .problem import sessions_overlap
from .scope import Scope

_NEG = -1e18
PATIENCE = 5  # iterations without a better bound before the step length halves
QUIET_GAIN = 2e-4  # relative: less than this in `quiet` iterations ends a refinement asked to stop when quiet


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

    def add_cliques(self, scope: Scope) -> None:
        """Each person's time cliques (at most one group busy at a time point) as flat pair positions.

        Relaxed with their own multipliers μ ≥ 0 (rhs 1), they tighten the bound where the
        knapsack alone would take overlapping groups.
        """
        from .constraints import time_cliques

        groups = scope.groups
        width = self.col.shape[1]
        rows: list[int] = []
        pos: list[int] = []
        n_cliques = 0
        for i in range(self.n):
            gids = [groups[c] for c in self.cols[i]]
            if len(gids) < 2:
                continue
            at = {gid: k for k, gid in enumerate(gids)}
            for clique in time_cliques(scope.problem, gids):
                for gid in clique:
                    rows.append(n_cliques)
                    pos.append(i * width + at[gid])
                n_cliques += 1
        self.n_cliques = n_cliques
        self.clique_row = np.array(rows, dtype=np.int64)
        self.clique_pos = np.array(pos, dtype=np.int64)

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
    q1 = d.qmax + 1
    table = np.full((d.n, q1), _NEG)
    table[:, 0] = 0.0
    takes = []
    rows = np.arange(q1)
    for k in range(d.k):
        m = d.prefix[k]
        if m == 0:
            break
        sub = table[:m]
        src = rows[None, :] - d.qk[:m, k][:, None]
        ok = src >= 0
        cand = np.where(ok, np.take_along_axis(sub, np.maximum(src, 0), axis=1), _NEG) + reduced[:m, k][:, None]
        take = cand > sub
        if need_choice:
            takes.append(take)
        np.maximum(sub, cand, out=sub)
    total = table + d.hours_value
    best_q = np.argmax(total, axis=1)
    value = total[np.arange(d.n), best_q]
    if not need_choice:
        return value, None
    choice = np.zeros(reduced.shape, dtype=bool)
    q = best_q.copy()
    for k in range(len(takes) - 1, -1, -1):
        m = d.prefix[k]
        chosen = takes[k][np.arange(m), q[:m]]
        choice[:m, k] = chosen
        q[:m] -= np.where(chosen, d.qk[:m, k], 0)
    return value, choice


def _clique_penalty(d: _Data, mu: np.ndarray) -> np.ndarray:
    """Per (person, candidate) slot the sum of the multipliers of the time cliques it is in."""
    return np.bincount(d.clique_pos, weights=mu[d.clique_row], minlength=d.val.size).reshape(d.val.shape)


def _evaluate_cliques(d: _Data, price: np.ndarray, mu: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """As `_evaluate` with time-clique multipliers `mu`: the bound and both subgradients."""
    people, choice = _people(d, d.val - price[d.col] - _clique_penalty(d, mu), True)
    assert choice is not None
    value = people - float(price @ d.pin_usage) + float(price @ d.seats) + float(mu.sum()) + d.const
    usage = d.pin_usage + np.bincount(d.col[choice], minlength=len(d.seats))
    busy = np.bincount(d.clique_row, weights=choice.ravel()[d.clique_pos], minlength=d.n_cliques)
    return value, d.seats - usage, 1.0 - busy


def _evaluate(d: _Data, price: np.ndarray, need_usage: bool) -> tuple[float, np.ndarray | None]:
    """Seat prices: Σ_i best_i(price) + Σ_g price_g seats_g + constant, and the seats the choices use."""
    people, choice = _people(d, d.val - price[d.col], need_usage)
    value = people - float(price @ d.pin_usage) + float(price @ d.seats) + d.const
    if choice is None:
        return value, None
    usage = d.pin_usage + np.bincount(d.col[choice], minlength=len(d.seats))
    return value, usage


class _Groups:
    """The group side of the split relaxation: each group takes 0 or min_size..seats of its free pairs."""

    def __init__(self, d: _Data, scope: Scope):
        problem = scope.problem
        groups = scope.groups
        pinned = scope.pinned_groups()
        self.valid = d.val > _NEG / 2  # real pairs in the (people x candidates) layout
        self.flat = np.flatnonzero(self.valid.ravel())
        gid = d.col.ravel()[self.flat]
        self.gid = gid
        free = np.array([problem.groups[g].seats for g in groups], dtype=np.int64) - d.pin_usage.astype(np.int64)
        lo = np.array([1 if g in pinned else problem.groups[g].min_size for g in groups], dtype=np.int64)
        self.hi = np.maximum(free, 0)
        self.lo = np.maximum(lo, 1)
        self.count = np.bincount(gid, minlength=len(groups))

    def evaluate(self, pi_flat: np.ndarray) -> tuple[float, np.ndarray]:
        """Σ_g best_g(π) and y (which free pairs the groups take), both over `flat` pairs."""
        order = np.lexsort((-pi_flat, self.gid))
        g_sorted = self.gid[order]
        v_sorted = pi_flat[order]
        starts = np.searchsorted(g_sorted, np.arange(len(self.hi)), side="left")
        rank = np.arange(len(order)) - starts[g_sorted] + 1  # 1-based rank within its group
        positive = np.bincount(g_sorted, weights=(v_sorted > 0), minlength=len(self.hi)).astype(np.int64)
        # Prefix sums of values sorted in decreasing order are concave: the best k in [lo, hi] is
        # the number of positive values clipped into the range; opening pays only when positive.
        k = np.clip(positive, self.lo, self.hi)
        k[self.lo > np.minimum(self.hi, self.count)] = 0
        take_sorted = rank <= k[g_sorted]
        gain = np.bincount(g_sorted, weights=np.where(take_sorted, v_sorted, 0.0), minlength=len(self.hi))
        k[gain <= 0] = 0
        take_sorted &= rank <= k[g_sorted]
        y = np.zeros(len(order), dtype=bool)
        y[order] = take_sorted
        return float(np.maximum(gain, 0.0).sum()), y


def lagrangian_bound(scope: Scope, time_limit: float, target: float | None = None,
                     iterations: int = 10_000, split: bool = True) -> tuple[float, dict[str, float]]:
    """An upper bound of the scope's exact objective, and stats (iterations, first bound).

    split=False prices seats per group (λ_g); split=True prices every pair (π_ig)
    and lets each group choose its members too (0 or min_size..seats), so that
    minimum sizes count. `target` is a value a feasible solution reaches
    (Polyak's step length aims at it); without one, 1 % below the bound.
    """
    started = time.monotonic()
    d = _Data(scope)
    best = math.inf
    first = None
    total = 0
    price = np.zeros(len(d.seats))
    if split:  # seat prices first (few, quick to settle), then per pair from there
        bound, price, first, total, _ = _descend(d, None, price, target, started + time_limit / 2, iterations)
        best = min(best, bound)
        side = _Groups(d, scope)
        price = price[side.gid]
        bound, _, _, n, _ = _descend(d, side, price, target, started + time_limit, iterations)
        best = min(best, bound)
    else:
        best, _, first, total, _ = _descend(d, None, price, target, started + time_limit, iterations)
        n = 0
    return best + _pad(d, best), {"lagrange_iterations": total + n, "lagrange_first": round(first or 0.0, 2),
                        "lagrange_s": round(time.monotonic() - started, 2)}


class Lagrangian:
    """The seat-price relaxation of one scope, in two phases.

    `seat_prices` descends over seat prices alone (quick steps; the prices are what priced.py
    builds a start from). `refine` continues from those prices and also relaxes each person's time
    cliques with multipliers, instead of dropping the overlap rule: steps are slower, but the bound
    ends lower (on L-1 37.15 M after 30 s against 37.43 M without cliques). `refine` may run in a
    thread beside the search (`stop` ends it early); `best` is always a proven bound.
    """

    def __init__(self, scope: Scope):
        self.scope = scope
        self.d = _Data(scope)
        self.best = math.inf
        self.prices = np.zeros(len(self.d.seats))
        self.refined: tuple[np.ndarray, np.ndarray] | None = None  # seat prices and clique multipliers of `best`
        self.stats: dict[str, float] = {"lagrange_iterations": 0}

    def bound(self) -> float:
        return self.best + _pad(self.d, self.best)

    def price_map(self) -> dict[str, float]:
        """The seat prices of the seat-price phase."""
        return self._as_map(self.prices)

    def refined_prices(self) -> dict[str, float]:
        """Seat prices of the best bound (with clique multipliers when refined)."""
        return self._as_map(self._multipliers()[0])

    def _as_map(self, price: np.ndarray) -> dict[str, float]:
        return {gid: float(price[n]) for n, gid in enumerate(self.scope.groups)}

    def _multipliers(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Seat prices and clique multipliers of the best bound (no clique multipliers before `refine`)."""
        return self.refined if self.refined is not None else (self.prices, None)

    def seat_prices(self, time_limit: float, target: float | None = None, iterations: int = 10_000) -> None:
        started = time.monotonic()
        best, _, first, total, price = _descend(self.d, None, self.prices, target, started + time_limit, iterations)
        if best < self.best:
            self.best, self.prices = best, price
        self.stats.update(lagrange_iterations=self.stats["lagrange_iterations"] + total,
                          lagrange_first=round(first or 0.0, 2), lagrange_s=round(time.monotonic() - started, 2))

    def refine(self, deadline: float, target: float | Callable[[], float] | None = None,
               stop: threading.Event | None = None,
               iterations: int = 10_000, quiet: int | None = None) -> None:
        """Refine until `deadline` (monotonic seconds), `stop`, or (with `quiet`) until the bound
        has gained less than QUIET_GAIN in the last `quiet` iterations."""
        started = time.monotonic()
        if not hasattr(self.d, "n_cliques"):
            self.d.add_cliques(self.scope)
        price, mu = self._multipliers()
        best, _, total, _ = _descend_cliques(self.d, target, deadline, iterations, price, stop,
                                             on_better=self._better, mu=mu, quiet=quiet)
        self.stats.update(lagrange_iterations=self.stats["lagrange_iterations"] + total,
                          lagrange_refine_s=round(self.stats.get("lagrange_refine_s", 0.0)
                                                  + time.monotonic() - started, 2))

    def _better(self, value: float, price: np.ndarray, mu: np.ndarray) -> None:
        if value < self.best:  # plain stores: safe to read from another thread
            self.refined = (price, mu)
            self.best = value

    def chosen(self) -> dict[str, list[str]]:
        """Each young person's best groups in the relaxation at the multipliers of the best bound.

        Close to a plan (on L-1 348 seats over, 40 groups below their minimum), so a construction
        that starts from these choices (priced.py) is a strong start.
        """
        d = self.d
        price, mu = self._multipliers()
        reduced = d.val - price[d.col]
        if mu is not None:
            reduced -= _clique_penalty(d, mu)
        _, choice = _people(d, reduced, True)
        assert choice is not None
        groups = self.scope.groups
        return {pid: [groups[c] for c in d.col[i][choice[i]]] for i, pid in enumerate(d.people) if choice[i].any()}


def seat_prices(scope: Scope, time_limit: float, target: float | None = None, iterations: int = 10_000,
                cliques: bool = True) -> tuple[float, dict[str, float], dict[str, float]]:
    """The seat-price bound, the prices that gave it, and stats; cliques=True refines the bound with
    time-clique multipliers for the second half of the time (see `Lagrangian`)."""
    started = time.monotonic()
    lag = Lagrangian(scope)
    lag.seat_prices(time_limit / 2 if cliques else time_limit, target, iterations)
    if cliques:
        lag.refine(started + time_limit, target, iterations=iterations)
    return lag.bound(), lag.price_map(), lag.stats


def _pad(d: _Data, value: float) -> float:
    """Padding for floating point: the sums are over many terms of up to ~1e4."""
    return 1e-9 * abs(value) + 1e-6 * (d.n + len(d.seats))


class _Polyak:
    """The bookkeeping both descents share: best and first bound, and Polyak's step length whose
    factor halves after PATIENCE steps without a better bound."""

    def __init__(self, target: float | Callable[[], float] | None):
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
        target = self.target() if callable(self.target) else self.target
        goal = target if target is not None and target < value else 0.99 * value
        return self.theta * (value - goal) / norm


def _descend(d: _Data, side: _Groups | None, price: np.ndarray, target: float | None, deadline: float,
             iterations: int) -> tuple[float, np.ndarray, float | None, int, np.ndarray]:
    """Projected subgradient descent with Polyak steps: best bound, last prices, first bound, iterations,
    and the prices of the best bound."""
    polyak = _Polyak(target)
    best_price = price
    n = 0
    for n in range(1, iterations + 1):  # noqa: B007
        if side is None:
            value, usage = _evaluate(d, price, need_usage=True)
            assert usage is not None
            grad = d.seats - usage  # the bound's slope along price
            grad[(price <= 0) & (grad > 0)] = 0.0  # projection: prices stay >= 0
        else:
            reduced = d.val.copy()
            reduced.ravel()[side.flat] -= price
            people, choice = _people(d, reduced, need_choice=True)
            assert choice is not None
            groups, taken = side.evaluate(price)
            value = people + groups + d.const
            grad = taken.astype(float) - choice.ravel()[side.flat]
        if polyak.record(value):
            best_price = price
        if time.monotonic() > deadline or polyak.settled():
            break
        norm = float(grad @ grad)
        if norm == 0:
            break
        step = polyak.step(value, norm)
        price = price - step * grad if side is not None else np.maximum(0.0, price - step * grad)
    return polyak.best, price, polyak.first, n, best_price


def _descend_cliques(d: _Data, target: float | Callable[[], float] | None, deadline: float, iterations: int,
                     price: np.ndarray | None = None, stop: threading.Event | None = None,
                     on_better: Callable[[float, np.ndarray, np.ndarray], None] | None = None,
                     mu: np.ndarray | None = None,
                     quiet: int | None = None) -> tuple[float, float | None, int, np.ndarray]:
    """Projected subgradient descent over seat prices and clique multipliers together (Polyak steps),
    from `price` and `mu` (zeros when None): best bound, first bound, iterations, and the seat prices of
    the best bound. `on_better(bound, prices, multipliers)` hears of every better bound."""
    price = np.zeros(len(d.seats)) if price is None else price.copy()
    mu = np.zeros(d.n_cliques) if mu is None else mu.copy()
    polyak = _Polyak(target)
    best_price = price
    n = 0
    mark_n, mark = 0, math.inf  # the last bound that gained QUIET_GAIN, and its iteration
    for n in range(1, iterations + 1):  # noqa: B007
        value, grad_price, grad_mu = _evaluate_cliques(d, price, mu)
        if value < mark - QUIET_GAIN * abs(value):
            mark_n, mark = n, value
        elif quiet is not None and n - mark_n > quiet:
            break
        grad_price[(price <= 0) & (grad_price > 0)] = 0.0  # projection: multipliers stay >= 0
        grad_mu[(mu <= 0) & (grad_mu > 0)] = 0.0
        if polyak.record(value):
            best_price = price
            if on_better is not None:
                on_better(value, price, mu)
        if time.monotonic() > deadline or polyak.settled() or (stop is not None and stop.is_set()):
            break
        norm = float(grad_price @ grad_price + grad_mu @ grad_mu)
        if norm == 0:
            break
        step = polyak.step(value, norm)
        price = np.maximum(0.0, price - step * grad_price)
        mu = np.maximum(0.0, mu - step * grad_mu)
    return polyak.best, polyak.first, n, best_price
