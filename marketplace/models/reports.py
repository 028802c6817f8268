"""Sign-off of the Jugendamt's monthly reports (Abnahme der Monatsberichte)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint
from sqlmodel import Field, SQLModel

from .base import utc_field

_MONTH_SHAPE = "length(month) = 7 AND substr(month, 5, 1) = '-'"


class ReportReview(SQLModel, table=True):
    """A planner marked a month's reports as reviewed (Bericht abgenommen), with a comment.

    `data_hash` fingerprints the month's figures at sign-off (occupancy, module hours,
    cross-provider use); `section_hashes` holds one fingerprint per report, so a later
    change of the month's data is flagged on the report it touches. Signing off again
    replaces reviewer, comment and fingerprints (one row per month).
    """

    __tablename__ = "report_review"
    __table_args__ = (CheckConstraint(_MONTH_SHAPE, name="month_shape"),)

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(unique=True)  # "YYYY-MM"
    reviewed_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    reviewed_at: datetime = utc_field(now=True)
    comment: str = ""
    data_hash: str
    section_hashes: dict[str, Any] | None = Field(default=None, sa_type=JSON)
