"""The live matching problem, built once per data state and shared (Momentaufnahme im Zwischenspeicher).

Building the district's problem (`snapshot.build_snapshot`) loads every active case, offer
and placement; a placement request, its proposal page and the confirmation each need it.
`cached_snapshot` keeps the built problem per process, keyed by

- the database (its URL),
- the district's day (`today`) and the Jugendamt's solver weights,
- `data_state`: one cheap aggregate query over everything the problem is built from
  (cases, their needs, availability, wishes and keep-apart pairs; offers, their sessions
  and categories; placements and their events; municipalities and categories).

The fingerprint lives in the database, so it is right across gunicorn workers and processes:
any committed change of a case, an offer, a placement or a setting gives a new key and thus a
fresh build. One thing changes without data: an offer turns stale (`offers.is_stale`) when time
passes, so an entry is only used while the same offers are stale (`Snapshot.fresh_until`).

A cached `Snapshot` is shared between threads and requests: callers read it and never change
it (copy `raw` first, as `whatif` does). The nightly run builds its own (`runs` compares hashes).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, datetime

from sqlalchemy import BigInteger, case, cast, func
from sqlmodel import Session, select

from .models import (
    ACTIVE_PLACEMENT_STATUSES,
    SEAT_HOLDING_STATUSES,
    AvailabilityWindow,
    Category,
    GroupOffer,
    KeepApart,
    Municipality,
    OfferCategory,
    OfferSession,
    OfferWish,
    Placement,
    PlacementEvent,
    WishKind,
    YoungPerson,
    YoungPersonNeed,
)
from .snapshot import Snapshot, build_snapshot, solver_weights
from .timeutil import today_berlin, utcnow

#: Built problems kept per process (one per database and data state; tests use many databases).
CACHE_SIZE = 4

_CACHE: OrderedDict[tuple, Snapshot] = OrderedDict()
_LOCK = threading.Lock()  # guards _CACHE
_BUILD_LOCK = threading.Lock()  # one build at a time: threads asking for the same state wait for it

_PRIME = 7919  # spreads row ids in the content checksums below


def _big(column):
    return cast(column, BigInteger)


def _weighted(id_column, value):
    """Σ (id mod p + 1) · value: changes when a row's value changes, even if ids are reused."""
    return func.sum((_big(id_column) % _PRIME + 1) * value)


def _window_value(table):
    return _big(table.weekday) * 1441 * 1441 + _big(table.start_minute) * 1441 + _big(table.end_minute)


def _status_set(statuses) -> list:
    """Count, Σ id and Σ id² of the placements in `statuses`: which placements hold that state."""
    values = [s.value for s in statuses]
    inside = Placement.status.in_(values)
    return [
        select(func.count(Placement.id)).where(inside),
        select(func.sum(_big(Placement.id))).where(inside),
        select(func.sum(_big(Placement.id) * _big(Placement.id))).where(inside),
    ]


def data_state(session: Session) -> tuple:
    """A cheap fingerprint of everything the matching problem is built from (one query).

    Every edit of a case or an offer bumps its `version` and `updated_at`, seats move
    `seats_taken`, placements change status (checked as id sets) with an event, and link rows
    (needs, availability, categories, sessions, wishes, keep-apart) are replaced, so their
    counts and content checksums catch them.
    """
    yp, go = YoungPerson, GroupOffer
    wish_kind = case((OfferWish.kind == WishKind.preferred.value, 1), else_=2)
    queries = [
        select(func.count(yp.id)), select(func.sum(_big(yp.version))), select(func.max(yp.updated_at)),
        select(func.count(go.id)), select(func.sum(_big(go.version))), select(func.sum(_big(go.seats_taken))),
        select(func.max(go.updated_at)), select(func.max(go.vacancy_confirmed_at)),
        select(func.count(Placement.id)), select(func.sum(_big(Placement.version))),
        *_status_set(ACTIVE_PLACEMENT_STATUSES), *_status_set(SEAT_HOLDING_STATUSES),
        select(func.count(PlacementEvent.id)), select(func.max(PlacementEvent.id)),
        select(func.count(AvailabilityWindow.id)),
        select(_weighted(AvailabilityWindow.id, _window_value(AvailabilityWindow)
                         + _big(AvailabilityWindow.young_person_id) * 7 * 1441 * 1441)),
        select(func.count(YoungPersonNeed.category_id)),
        select(func.sum(_big(YoungPersonNeed.young_person_id) * 97 + YoungPersonNeed.category_id)),
        select(func.sum(_big(YoungPersonNeed.young_person_id) * YoungPersonNeed.category_id)),
        select(func.count(OfferCategory.category_id)),
        select(func.sum(_big(OfferCategory.offer_id) * 97 + OfferCategory.category_id)),
        select(func.sum(_big(OfferCategory.offer_id) * OfferCategory.category_id)),
        select(func.count(OfferSession.id)),
        select(_weighted(OfferSession.id, _window_value(OfferSession)
                         + _big(OfferSession.offer_id) * 7 * 1441 * 1441)),
        select(func.count(OfferWish.id)),
        select(_weighted(OfferWish.id, _big(OfferWish.young_person_id) * 1_000_003
                         + _big(OfferWish.offer_id) * 3 + wish_kind)),
        select(func.count(KeepApart.id)),
        select(_weighted(KeepApart.id, _big(KeepApart.young_person_a_id) * 1_000_003
                         + _big(KeepApart.young_person_b_id))),
        select(func.count(Municipality.id)), select(func.sum(Municipality.lat)), select(func.sum(Municipality.lon)),
        select(func.count(Category.id)), select(func.sum(_big(Category.id))),
    ]
    row = session.exec(select(*(q.scalar_subquery() for q in queries))).one()
    return tuple(row)


def snapshot_key(session: Session, *, today: date) -> tuple:
    """The cache key of the live problem for `today`: database, day, weights and data state."""
    weights = tuple(sorted(solver_weights(session).items()))
    return (str(session.get_bind().url), today, weights, data_state(session))


def cached_snapshot(session: Session, *, today: date | None = None, now: datetime | None = None) -> Snapshot:
    """The live matching problem for `today` (Berlin), built only when the data changed since the last build.

    `now` (UTC, default: the clock) is the moment asked about: a snapshot in which an offer has
    turned stale by then is built anew. The key is read before the build, so a stored snapshot is
    never older than its key's data.
    """
    today = today or today_berlin()
    now = now or utcnow()
    key = snapshot_key(session, today=today)
    found = _lookup(key, now)
    if found is not None:
        return found
    with _BUILD_LOCK:
        found = _lookup(key, now)
        if found is not None:
            return found
        snapshot = build_snapshot(session, today=today, weights=dict(key[2]), now=now)
        with _LOCK:
            _CACHE[key] = snapshot
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    return snapshot


def clear_snapshot_cache() -> None:
    """Forget every built problem (benchmarks time the first build after a change with it)."""
    with _LOCK:
        _CACHE.clear()


def _lookup(key: tuple, now: datetime) -> Snapshot | None:
    with _LOCK:
        snapshot = _CACHE.get(key)
        if snapshot is None:
            return None
        if (snapshot.fresh_until is not None and now > snapshot.fresh_until) or (
                snapshot.stale_since is not None and now <= snapshot.stale_since):
            return None  # another set of offers is stale at `now`: their seats are planned differently
        _CACHE.move_to_end(key)
        return snapshot
