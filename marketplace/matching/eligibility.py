"""Vectorised eligibility: which (young person, group) pairs may be matched at all.

Exact against `problem.ineligibility` (hard rule 1) plus rule 6 (closed groups
take only their current members). People are processed in blocks of nearby
homes; each block is compared only with groups in a latitude band it can
reach, with numpy arrays for age, gender, needs, distance and times.
"""

from __future__ import annotations

import math

import numpy as np

from .problem import EARTH_RADIUS_KM, GENDERS, Group, Problem, YoungPerson, haversine_km

_SLOTS = 24 * 4 + 1  # session starts on the 15-minute grid, 00:00 .. 24:00
_GENDER_BITS = {g: 1 << n for n, g in enumerate(GENDERS)}
_NO_GENDER_BIT = 1 << len(GENDERS)
_ALL_GENDERS = (1 << (len(GENDERS) + 1)) - 1
_BLOCK_DEG = 0.25
_BLOCK_MAX = 2048


def _reach(available) -> np.ndarray:
    """reach[day * _SLOTS + slot] = latest end of a window on that day starting at or before slot.

    A session (day, start, end) lies inside one window iff reach[day, start] >= end.
    """
    reach = np.full(7 * _SLOTS, -1, dtype=np.int16)
    if available is None:
        reach[:] = 24 * 60
        return reach
    for w in available:
        lo, hi = w.day * _SLOTS + w.start // 15, w.day * _SLOTS + _SLOTS
        np.maximum(reach[lo:hi], w.end, out=reach[lo:hi])
    return reach


class _Groups:
    """Column arrays of all groups, sorted by latitude."""

    def __init__(self, groups: list[Group], categories: dict[str, int]):
        self.ids = [g.id for g in groups]
        self.lat = np.array([g.lat for g in groups], dtype=float)
        self.lon = np.array([g.lon for g in groups], dtype=float)
        self.order = np.argsort(self.lat, kind="stable")
        self.sorted_lat = self.lat[self.order]
        big = 10**6
        self.age_min = np.array([-big if g.age_min is None else g.age_min for g in groups], dtype=np.int64)
        self.age_max = np.array([big if g.age_max is None else g.age_max for g in groups], dtype=np.int64)
        self.gender = np.array([_ALL_GENDERS if g.genders is None else sum(_GENDER_BITS[x] for x in g.genders)
                                for g in groups], dtype=np.int64)
        self.cats = _bitsets([g.categories for g in groups], categories)
        width = max((len(g.sessions) for g in groups), default=1)
        # Padding sessions index slot 0 of day 0 and need end -1: always satisfied.
        self.sess_index = np.zeros((len(groups), width), dtype=np.int64)
        self.sess_end = np.full((len(groups), width), -1, dtype=np.int16)
        for n, g in enumerate(groups):
            for k, s in enumerate(g.sessions):
                self.sess_index[n, k] = s.day * _SLOTS + s.start // 15
                self.sess_end[n, k] = s.end


def _bitsets(sets: list[frozenset[str]], index: dict[str, int]) -> np.ndarray:
    words = max(1, (len(index) + 62) // 63)
    out = np.zeros((len(sets), words), dtype=np.int64)
    for n, s in enumerate(sets):
        for item in s:
            if item in index:
                k = index[item]
                out[n, k // 63] |= 1 << (k % 63)
    return out


def _hav_rad(lat1, lon1, lat2, lon2):
    p1, l1, p2, l2 = np.radians(lat1), np.radians(lon1), np.radians(lat2), np.radians(lon2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, h)))


def eligible_pairs(problem: Problem) -> dict[str, list[str]]:
    """Per young person the eligible group ids (rules 1 and 6), in group input order."""
    groups = list(problem.groups.values())
    people = list(problem.people.values())
    result: dict[str, list[str]] = {y.id: [] for y in people}
    if not groups or not people:
        return result
    categories = {c: n for n, c in enumerate(sorted({c for g in groups for c in g.categories}))}
    cols = _Groups(groups, categories)
    blocks: dict[tuple[int, int], list[YoungPerson]] = {}
    for y in people:
        key = (math.floor(y.lat / _BLOCK_DEG), math.floor(y.lon / _BLOCK_DEG))
        blocks.setdefault(key, []).append(y)
    for block in blocks.values():
        for start in range(0, len(block), _BLOCK_MAX):
            _block(block[start:start + _BLOCK_MAX], cols, groups, categories, result)
    return result


def _candidates(block: list[YoungPerson], cols: _Groups) -> np.ndarray:
    """Indices of groups within reach of someone in the block (a superset), in input order."""
    reach_rad = max(y.max_travel_km for y in block) / EARTH_RADIUS_KM + 1e-9
    lats = [y.lat for y in block]
    lo, hi = min(lats) - math.degrees(reach_rad), max(lats) + math.degrees(reach_rad)
    a = int(np.searchsorted(cols.sorted_lat, lo, side="left"))
    b = int(np.searchsorted(cols.sorted_lat, hi, side="right"))
    idx = np.sort(cols.order[a:b])
    # hav(d) >= cos(p1) cos(p2) hav(dlon): bound the longitude difference.
    polar = min(90.0, max(abs(lo), abs(hi)))
    cmin = math.cos(math.radians(polar)) ** 2
    hav_reach = math.sin(reach_rad / 2) ** 2
    if cmin <= 1e-12 or hav_reach / cmin >= 1:
        return idx
    dlon = math.degrees(2 * math.asin(math.sqrt(hav_reach / cmin))) + 1e-9
    lons = np.array([y.lon for y in block])
    centre = (lons.min() + lons.max()) / 2
    half = (lons.max() - lons.min()) / 2
    diff = np.abs((cols.lon[idx] - centre + 180.0) % 360.0 - 180.0)
    return idx[diff <= half + dlon]


def _block(block: list[YoungPerson], cols: _Groups, groups: list[Group],
           categories: dict[str, int], result: dict[str, list[str]]) -> None:
    idx = _candidates(block, cols)
    if len(idx) == 0:
        return
    age = np.array([-1 if y.age is None else y.age for y in block], dtype=np.int64)[:, None]
    known_age = np.array([y.age is not None for y in block])[:, None]
    ok = ~known_age | ((age >= cols.age_min[idx]) & (age <= cols.age_max[idx]))
    pgender = np.array([_NO_GENDER_BIT if y.gender is None else _GENDER_BITS[y.gender] for y in block])
    ok &= (pgender[:, None] & cols.gender[idx]) != 0
    needs = _bitsets([y.needs for y in block], categories)
    share = np.zeros(ok.shape, dtype=bool)
    for w in range(needs.shape[1]):
        share |= (needs[:, w][:, None] & cols.cats[idx, w]) != 0
    ok &= share
    plat = np.array([y.lat for y in block])[:, None]
    plon = np.array([y.lon for y in block])[:, None]
    limit = np.array([y.max_travel_km for y in block])[:, None]
    dist = _hav_rad(plat, plon, cols.lat[idx], cols.lon[idx])
    ok &= dist <= limit + 1e-6
    reach = np.stack([_reach(y.available) for y in block])
    for k in range(cols.sess_index.shape[1]):
        ok &= reach[:, cols.sess_index[idx, k]] >= cols.sess_end[idx, k]
    rows, colsel = np.nonzero(ok)
    near = np.abs(dist[rows, colsel] - limit[rows, 0]) <= 1e-6
    for r, c, edge in zip(rows.tolist(), colsel.tolist(), near.tolist(), strict=True):
        y, g = block[r], groups[idx[c]]
        if edge and haversine_km(y.lat, y.lon, g.lat, g.lon) > y.max_travel_km:
            continue  # numpy and math may differ in the last bit: the exact formula decides
        if g.id in y.excluded or (not g.open_for_new and g.id not in y.current):
            continue
        result[y.id].append(g.id)
