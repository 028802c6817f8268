"""Shared building blocks of the table models: constraint names, UTC timestamps, status sets.

Every constraint has an explicit, convention-made name, so that Alembic,
PostgreSQL and SQLite agree on it (and a migration can drop it by name).
Status-like columns are plain strings guarded by a CHECK constraint (no
database ENUM types: they are painful to migrate); the `StrEnum` classes here
are the single source of their allowed values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from marketplace.timeutil import to_utc, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned as an aware UTC datetime.

    Naive datetimes are refused on the way in: their time zone is unknown.
    SQLite hands back naive values (we stored UTC, so UTC is attached);
    PostgreSQL hands back aware values in the session zone (converted to UTC).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = to_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_field(*, nullable: bool = True, now: bool = False, **kwargs: Any) -> Any:
    """A `UTCDateTime` column; `now=True` fills it with the current time on insert."""
    if now:
        return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, **kwargs)
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, **kwargs)


def one_of(column: str, values: type[StrEnum] | tuple[str, ...], name: str,
           *, nullable: bool = False) -> CheckConstraint:
    """A named CHECK that `column` holds one of `values` (optionally NULL)."""
    allowed = [v.value for v in values] if isinstance(values, type) else list(values)
    sql = f"{column} IN ({', '.join(repr(v) for v in allowed)})"
    if nullable:
        sql = f"{column} IS NULL OR {sql}"
    return CheckConstraint(sql, name=name)


def weekly_window_checks(prefix: str = "") -> tuple[CheckConstraint, ...]:
    """CHECKs for a weekly time window: weekday 0 (Mon) to 6 (Sun), same-day minutes on a 15-minute grid."""
    return (
        CheckConstraint("weekday BETWEEN 0 AND 6", name=f"{prefix}weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440", name=f"{prefix}minutes_in_day"),
        CheckConstraint("end_minute > start_minute", name=f"{prefix}end_after_start"),
        CheckConstraint("start_minute % 15 = 0 AND end_minute % 15 = 0", name=f"{prefix}quarter_hours"),
    )


def lat_lon_checks(*, nullable: bool) -> tuple[CheckConstraint, ...]:
    """CHECKs for a WGS84 point (lat/lon columns); when nullable, both or neither are set."""
    checks = (
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )
    if nullable:
        checks += (CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="lat_lon_together"),)
    return checks


class Role(StrEnum):
    """What a user may do (Rolle)."""

    coordinator = "coordinator"  # Koordination beim Träger
    caseworker = "caseworker"  # fallführende Fachkraft im ASD
    planner = "planner"  # Jugendhilfeplanung / Wirtschaftliche Jugendhilfe
    admin = "admin"  # Administration


class Gender(StrEnum):
    """Gender as German law knows it: weiblich, männlich, divers."""

    f = "f"
    m = "m"
    d = "d"


class OfferStatus(StrEnum):
    """Lifecycle of a group offer (Gruppenangebot), see DOMAIN.md "Certification"."""

    draft = "draft"
    submitted = "submitted"
    certified = "certified"
    published = "published"
    paused = "paused"
    ended = "ended"
    rejected = "rejected"


class EntryMode(StrEnum):
    """Whether newcomers may join a running group: offen (any time) or geschlossen (cohort)."""

    open = "open"
    closed = "closed"


class LegalBasis(StrEnum):
    """The SGB VIII paragraph a help is approved under (Rechtsgrundlage)."""

    p27 = "§ 27"
    p29 = "§ 29"
    p30 = "§ 30"
    p31 = "§ 31"
    p32 = "§ 32"
    p35 = "§ 35"
    p35a = "§ 35a"
    p41 = "§ 41"


class CaseStatus(StrEnum):
    """State of a young person's record: active, needing review, ended, or anonymised after retention."""

    active = "active"
    review = "review"  # needs the caseworker's decision (e.g. crisis intervention ran out): not matched
    ended = "ended"
    anonymised = "anonymised"


class WishKind(StrEnum):
    """A wish under § 5 SGB VIII (Wunsch- und Wahlrecht): a preferred or an excluded group."""

    preferred = "preferred"
    excluded = "excluded"


class RequestStatus(StrEnum):
    """State of a placement request (Belegungsanfrage)."""

    open = "open"
    waiting = "waiting"
    fulfilled = "fulfilled"
    cancelled = "cancelled"


class PlacementStatus(StrEnum):
    """State of a placement (Belegung): proposed → confirmed → accepted, or declined; later ended."""

    proposed = "proposed"
    confirmed = "confirmed"
    accepted = "accepted"
    declined = "declined"
    ended = "ended"


#: Placements that are "active": they block a second placement of the same person in the same group.
ACTIVE_PLACEMENT_STATUSES = (PlacementStatus.proposed, PlacementStatus.confirmed, PlacementStatus.accepted)
#: Placements that hold a seat (counted in GroupOffer.seats_taken).
SEAT_HOLDING_STATUSES = (PlacementStatus.confirmed, PlacementStatus.accepted)


class PlacementSource(StrEnum):
    """Who proposed a placement: the caseworker directly or the solver."""

    caseworker = "caseworker"
    solver = "solver"


class Variant(StrEnum):
    """Cooperative variant of a shared use (seed 002): A supplementary, B integrated."""

    A = "A"
    B = "B"


class RunKind(StrEnum):
    """Why a solver run happened: nightly rebalancing, on demand, or a what-if simulation."""

    nightly = "nightly"
    on_demand = "on_demand"
    what_if = "what_if"


class RunStatus(StrEnum):
    """State of a solver run (Solverlauf)."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


class AttendanceStatus(StrEnum):
    """Attendance at one session (Anwesenheit): present, absent, or excused."""

    present = "present"
    absent = "absent"
    excused = "excused"


class AuditAction(StrEnum):
    """What an audit event records having happened (never the content itself)."""

    view = "view"
    create = "create"
    update = "update"
    delete = "delete"
    export = "export"
    login = "login"
    logout = "logout"


class TokenScope(StrEnum):
    """What an API token may do."""

    read = "read"
    read_write = "read_write"
