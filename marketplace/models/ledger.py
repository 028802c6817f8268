"""Attendance and the offset ledger between providers (Anwesenheit, Verrechnung)."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from .base import AttendanceStatus, Variant, one_of, utc_field

_MONTH_SHAPE = "length(month) = 7 AND substr(month, 5, 1) = '-'"


class Attendance(SQLModel, table=True):
    """Whether a placed young person attended one session on one date (Anwesenheit)."""

    __tablename__ = "attendance"
    __table_args__ = (
        one_of("status", AttendanceStatus, "status_valid"),
        UniqueConstraint("placement_id", "session_date", "offer_session_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    placement_id: int = Field(foreign_key="placement.id", ondelete="RESTRICT", index=True)
    session_date: date = Field(index=True)
    offer_session_id: int = Field(foreign_key="offer_session.id", ondelete="RESTRICT", index=True)
    status: str  # an AttendanceStatus value
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    recorded_at: datetime = utc_field(now=True)


class AttendanceCorrection(SQLModel, table=True):
    """History of a changed attendance record (Korrektur): old and new status, who, when, why."""

    __tablename__ = "attendance_correction"
    __table_args__ = (
        one_of("old_status", AttendanceStatus, "old_status_valid"),
        one_of("new_status", AttendanceStatus, "new_status_valid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    attendance_id: int = Field(foreign_key="attendance.id", ondelete="CASCADE", index=True)
    old_status: str
    new_status: str
    corrected_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    corrected_at: datetime = utc_field(now=True)
    reason: str | None = None


class SharedUse(SQLModel, table=True):
    """A placement in another provider's group (trägerübergreifende Nutzung), the basis of offsets.

    The hosting provider charges the lead provider `rate_cents` per participant-hour
    (the offer's rate when the placement was confirmed). `variant` records the
    cooperative variant of seed 002: A supplementary, B integrated.
    """

    __tablename__ = "shared_use"
    __table_args__ = (
        one_of("variant", Variant, "variant_valid"),
        CheckConstraint("rate_cents >= 0", name="rate_non_negative"),
        CheckConstraint("host_provider_id <> lead_provider_id", name="providers_differ"),
    )

    id: int | None = Field(default=None, primary_key=True)
    placement_id: int = Field(foreign_key="placement.id", ondelete="RESTRICT", unique=True)
    host_provider_id: int = Field(foreign_key="provider.id", ondelete="RESTRICT", index=True)
    lead_provider_id: int = Field(foreign_key="provider.id", ondelete="RESTRICT", index=True)
    variant: str  # a Variant value
    rate_cents: int
    recorded_at: datetime = utc_field(now=True)


#: The other name used in the brief for the same record.
OffsetAgreement = SharedUse


class OffsetEntry(SQLModel, table=True):
    """One line of the offset ledger (Verrechnungsposten): attended minutes of a session at a rate.

    Closed months are never edited: a correction is a new entry pointing at the
    entry it adjusts (`adjustment_of_id`), and only such entries may be negative.
    """

    __tablename__ = "offset_entry"
    __table_args__ = (
        CheckConstraint(_MONTH_SHAPE, name="month_shape"),
        CheckConstraint("rate_cents >= 0", name="rate_non_negative"),
        CheckConstraint("adjustment_of_id IS NOT NULL OR (minutes >= 0 AND amount_cents >= 0)",
                        name="only_adjustments_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shared_use_id: int = Field(foreign_key="shared_use.id", ondelete="RESTRICT", index=True)
    month: str = Field(index=True)  # "YYYY-MM"
    session_date: date
    minutes: int
    rate_cents: int
    amount_cents: int
    attendance_id: int | None = Field(default=None, foreign_key="attendance.id", ondelete="SET NULL")
    adjustment_of_id: int | None = Field(default=None, foreign_key="offset_entry.id", ondelete="RESTRICT")
    note: str | None = None
    created_at: datetime = utc_field(now=True)


class MonthClose(SQLModel, table=True):
    """A closed month of the offset ledger (Monatsabschluss); its entries are final."""

    __tablename__ = "month_close"
    __table_args__ = (CheckConstraint(_MONTH_SHAPE, name="month_shape"),)

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(unique=True)
    closed_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    closed_at: datetime = utc_field(now=True)
