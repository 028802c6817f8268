"""Case work records: case history, open warnings for the caseworker, individual care hours."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from .base import one_of, utc_field

_MONTH_SHAPE = "length(month) = 7 AND substr(month, 5, 1) = '-'"


class CaseEventKind(StrEnum):
    """Steps in a case's history that carry a reason (Fallverlauf)."""

    module_changed = "module_changed"
    crisis_extended = "crisis_extended"
    crisis_expired = "crisis_expired"
    ended = "ended"


class CaseFlagKind(StrEnum):
    """Why a case needs the caseworker's attention (Hinweis)."""

    over_max = "over_max"  # placements exceed the group-hours maximum after a module change
    crisis_expired = "crisis_expired"  # the crisis intervention ran out: decide on the follow-up


class CaseEvent(SQLModel, table=True):
    """One step in a young person's case history: module change, crisis extension or expiry, end.

    `reason` is the caseworker's justification (kept with the case, never in the audit log);
    `actor_id` None means the system (daily housekeeping).
    """

    __tablename__ = "case_event"
    __table_args__ = (one_of("kind", CaseEventKind, "kind_valid"),)

    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="young_person.id", ondelete="CASCADE", index=True)
    kind: str  # a CaseEventKind value
    at: datetime = utc_field(now=True)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    reason: str | None = None
    from_module_id: int | None = Field(default=None, foreign_key="module.id", ondelete="RESTRICT")
    to_module_id: int | None = Field(default=None, foreign_key="module.id", ondelete="RESTRICT")


class CaseFlag(SQLModel, table=True):
    """A warning on the case page until the caseworker resolves it (Hinweis zur Klärung).

    `over_max`: after a module change the placements' weekly group minutes exceed the
    new maximum by `excess_minutes`; one flag per affected placement. Nothing is
    dropped automatically: the caseworker ends a placement or accepts the excess.
    """

    __tablename__ = "case_flag"
    __table_args__ = (
        one_of("kind", CaseFlagKind, "kind_valid"),
        CheckConstraint("excess_minutes IS NULL OR excess_minutes > 0", name="excess_positive"),
        Index("ix_case_flag_open", "young_person_id", "resolved_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="young_person.id", ondelete="CASCADE")
    kind: str  # a CaseFlagKind value
    placement_id: int | None = Field(default=None, foreign_key="placement.id", ondelete="SET NULL")
    excess_minutes: int | None = None
    created_at: datetime = utc_field(now=True)
    resolved_at: datetime | None = utc_field()
    resolved_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")


class IndividualHours(SQLModel, table=True):
    """Individual care minutes of one young person in one month (Einzelstunden), reported by the
    lead provider's coordinator for the monthly monitoring. One figure per person and month."""

    __tablename__ = "individual_hours"
    __table_args__ = (
        CheckConstraint(_MONTH_SHAPE, name="month_shape"),
        CheckConstraint("minutes >= 0", name="minutes_non_negative"),
        UniqueConstraint("young_person_id", "month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="young_person.id", ondelete="CASCADE", index=True)
    month: str = Field(index=True)  # "YYYY-MM"
    minutes: int
    provider_id: int = Field(foreign_key="provider.id", ondelete="RESTRICT")
    entered_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    entered_at: datetime = utc_field(now=True)
