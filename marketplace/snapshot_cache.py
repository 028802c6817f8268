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

from sqlalchemy import BigInteger, case, cast, func, text, true
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

def _big(column):
    return cast(column, BigInteger)


def _in(status_column, statuses, value):
    """Σ `value` over the rows whose status is one of `statuses`."""
    return func.sum(case((status_column.in_([s.value for s in statuses]), value), else_=0))


def _state_parts() -> list:
    """One aggregate row per table the problem is built from (see `data_state`).

    Link rows have their content summed weighted by row id (Σ id · value), so a row replaced by
    one with the same id (SQLite reuses the highest id) but other values still changes the sum.
    """
    yp, go, pl, aw, os_, ow, ka = (YoungPerson, GroupOffer, Placement, AvailabilityWindow, OfferSession,
                                   OfferWish, KeepApart)
    need, oc = YoungPersonNeed, OfferCategory
    active, holding = ACTIVE_PLACEMENT_STATUSES, SEAT_HOLDING_STATUSES
    return [
        select(func.count(yp.id), func.sum(_big(yp.version)), func.max(yp.updated_at)),
        select(func.count(go.id), func.sum(_big(go.version)), func.sum(_big(go.seats_taken)),
               func.max(go.updated_at), func.max(go.vacancy_confirmed_at)),
        select(func.count(pl.id), func.sum(_big(pl.version)),
               _in(pl.status, active, 1), _in(pl.status, active, _big(pl.id)),
               _in(pl.status, active, _big(pl.id) * _big(pl.id)),
               _in(pl.status, holding, 1), _in(pl.status, holding, _big(pl.id)),
               _in(pl.status, holding, _big(pl.id) * _big(pl.id))),
        select(func.count(PlacementEvent.id), func.max(PlacementEvent.id)),
        select(func.count(aw.id), func.sum(_big(aw.id) * (_big(aw.weekday) * 1441 + aw.start_minute)),
               func.sum(_big(aw.id) * aw.end_minute), func.sum(_big(aw.id) * aw.young_person_id)),
        select(func.count(need.category_id), func.sum(_big(need.young_person_id) * 97 + need.category_id),
               func.sum(_big(need.young_person_id) * need.category_id)),
        select(func.count(oc.category_id), func.sum(_big(oc.offer_id) * 97 + oc.category_id),
               func.sum(_big(oc.offer_id) * oc.category_id)),
        select(func.count(os_.id), func.sum(_big(os_.id) * (_big(os_.weekday) * 1441 + os_.start_minute)),
               func.sum(_big(os_.id) * os_.end_minute), func.sum(_big(os_.id) * os_.offer_id)),
        select(func.count(ow.id), func.sum(_big(ow.id) * ow.young_person_id), func.sum(_big(ow.id) * ow.offer_id),
               func.sum(_big(ow.id) * case((ow.kind == WishKind.preferred.value, 1), else_=2))),
        select(func.count(ka.id), func.sum(_big(ka.id) * ka.young_person_a_id),
               func.sum(_big(ka.id) * ka.young_person_b_id)),
        select(func.count(Municipality.id), func.sum(Municipality.lat), func.sum(Municipality.lon)),
        select(func.count(Category.id), func.sum(_big(Category.id))),
    ]


_STATE_SQL: dict[str, str] = {}  # per SQL dialect: the fingerprint query, compiled once


def _state_sql(dialect) -> str:
    if dialect.name not in _STATE_SQL:
        tables = [part.subquery(f"s{n}") for n, part in enumerate(_state_parts())]
        joined = tables[0]
        for table in tables[1:]:
            joined = joined.join(table, true())  # each side is one row: the join is that one row
        query = select(*(column for table in tables for column in table.c)).select_from(joined)
        _STATE_SQL[dialect.name] = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return _STATE_SQL[dialect.name]


def data_state(session: Session) -> tuple:
    """A cheap fingerprint of everything the matching problem is built from (one query, one scan per table).

    Every edit of a case or an offer bumps its `version` and `updated_at`, seats move
    `seats_taken`, placements change status (checked as id sets) with an event, and link rows
    (needs, availability, categories, sessions, wishes, keep-apart) are replaced, so their
    counts and content checksums catch them.
    """
    return tuple(session.execute(text(_state_sql(session.get_bind().dialect))).one())


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
