"""Placement requests and placements (Belegungsanfragen, Belegungen) with their history."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from .base import (
    ACTIVE_PLACEMENT_STATUSES,
    PlacementSource,
    PlacementStatus,
    RequestStatus,
    Variant,
    one_of,
    utc_field,
)

_ACTIVE_SQL = "status IN ({})".format(", ".join(repr(s.value) for s in ACTIVE_PLACEMENT_STATUSES))


class PlacementRequest(SQLModel, table=True):
    """A caseworker's request for group hours for a young person (Belegungsanfrage).

    `waiting` means no group fits yet; `waiting_reasons` says why, in words a
    caseworker understands (one reason a line).
    """

    __tablename__ = "placement_request"
    __table_args__ = (one_of("status", RequestStatus, "status_valid"),)

    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="young_person.id", ondelete="CASCADE", index=True)
    requested_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    created_at: datetime = utc_field(now=True)
    status: str = Field(default=RequestStatus.open.value, index=True)
    note: str | None = None
    waiting_reasons: str | None = None
    closed_at: datetime | None = utc_field()


class Placement(SQLModel, table=True):
    """A young person's place in a group offer (Belegung).

    Lifecycle: proposed (by caseworker or solver) → confirmed (caseworker) →
    accepted (hosting provider), or declined with a reason; later ended. The solver
    never moves a confirmed or accepted placement. At most one active (proposed,
    confirmed or accepted) placement per young person and offer (partial unique index).
    `offset_rate_cents` is the offer's rate at confirmation (Verrechnungssatz-Snapshot);
    `variant` (A/B) is set for shared use across providers.
    """

    __tablename__ = "placement"
    __table_args__ = (
        one_of("status", PlacementStatus, "status_valid"),
        one_of("source", PlacementSource, "source_valid"),
        one_of("variant", Variant, "variant_valid", nullable=True),
        CheckConstraint("offset_rate_cents IS NULL OR offset_rate_cents >= 0",
                        name="offset_rate_non_negative"),
        CheckConstraint("status <> 'declined' OR decline_reason IS NOT NULL", name="declined_has_reason"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index(
            "uq_placement_active_young_person_offer",
            "young_person_id",
            "offer_id",
            unique=True,
            postgresql_where=text(_ACTIVE_SQL),
            sqlite_where=text(_ACTIVE_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="young_person.id", ondelete="RESTRICT", index=True)
    offer_id: int = Field(foreign_key="group_offer.id", ondelete="RESTRICT", index=True)
    request_id: int | None = Field(default=None, foreign_key="placement_request.id", ondelete="SET NULL",
                                   index=True)
    status: str = Field(default=PlacementStatus.proposed.value, index=True)
    source: str = Field(default=PlacementSource.caseworker.value)
    solver_run_id: int | None = Field(default=None, foreign_key="solver_run.id", ondelete="SET NULL",
                                      index=True)
    offset_rate_cents: int | None = None
    variant: str | None = None  # a Variant value for cross-provider use
    created_at: datetime = utc_field(now=True)
    confirmed_at: datetime | None = utc_field()
    accepted_at: datetime | None = utc_field()
    ended_at: datetime | None = utc_field()
    end_reason: str | None = None
    decline_reason: str | None = None
    version: int = Field(default=1)


class PlacementEvent(SQLModel, table=True):
    """One transition of a placement (Statuswechsel): from, to, who (None = solver), when, why."""

    __tablename__ = "placement_event"
    __table_args__ = (
        one_of("from_status", PlacementStatus, "from_status_valid", nullable=True),
        one_of("to_status", PlacementStatus, "to_status_valid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    placement_id: int = Field(foreign_key="placement.id", ondelete="CASCADE", index=True)
    from_status: str | None = None
    to_status: str
    actor_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    at: datetime = utc_field(now=True)
    reason: str | None = None
