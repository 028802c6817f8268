"""Young people (junge Menschen, Fälle) and what the matching needs to know about them."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from marketplace.timeutil import utcnow

from .base import (
    CaseStatus,
    Gender,
    LegalBasis,
    WishKind,
    lat_lon_checks,
    one_of,
    utc_field,
    weekly_window_checks,
)
from .org import Category


class YoungPersonNeed(SQLModel, table=True):
    """Link: a young person needs a category (Bedarf)."""

    __tablename__ = "young_person_need"

    young_person_id: int = Field(foreign_key="young_person.id", ondelete="CASCADE", primary_key=True)
    category_id: int = Field(foreign_key="category.id", ondelete="RESTRICT", primary_key=True, index=True)


class YoungPerson(SQLModel, table=True):
    """A young person with an approved help (junger Mensch / Fall), known by a pseudonym.

    No names are stored. `case_reference` (Aktenzeichen) is for the Jugendamt only;
    everybody else sees `pseudonym` (system-made, e.g. "JM-7K3Q"). Home is a
    municipality, optionally refined by an exact point (`lat`/`lon`).
    `group_minutes_target/max` is the weekly group share inside the module's band
    (minutes). `priority`: 1 normal, 2 long waiting, 3 crisis. A crisis module needs
    a § 8a risk report (`risk_report_at`) and ends on `crisis_ends_on` unless extended
    with a reason. `version` is for optimistic locking of edits.
    """

    __tablename__ = "young_person"
    __table_args__ = (
        one_of("gender", Gender, "gender_valid"),
        one_of("legal_basis", LegalBasis, "legal_basis_valid"),
        one_of("status", CaseStatus, "status_valid"),
        CheckConstraint("birth_year BETWEEN 1990 AND 2100", name="birth_year_plausible"),
        CheckConstraint("max_travel_km > 0", name="max_travel_positive"),
        CheckConstraint("group_minutes_target >= 0 AND group_minutes_max >= group_minutes_target",
                        name="group_band_valid"),
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority_range"),
        CheckConstraint("approval_end IS NULL OR approval_end >= approval_start", name="approval_ordered"),
        CheckConstraint("crisis_ends_on IS NULL OR risk_report_at IS NOT NULL",
                        name="crisis_has_risk_report"),
        CheckConstraint("status <> 'anonymised' OR case_reference IS NULL",
                        name="anonymised_has_no_reference"),
        CheckConstraint("version >= 1", name="version_positive"),
        *lat_lon_checks(nullable=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(unique=True)
    case_reference: str | None = Field(default=None, unique=True)  # Jugendamt only
    team_id: int = Field(foreign_key="team.id", ondelete="RESTRICT", index=True)
    caseworker_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL",
                                      index=True)
    birth_year: int
    gender: str  # a Gender value
    municipality_id: int = Field(foreign_key="municipality.id", ondelete="RESTRICT", index=True)
    lat: float | None = None
    lon: float | None = None
    max_travel_km: float = Field(default=15)
    module_id: int = Field(foreign_key="module.id", ondelete="RESTRICT", index=True)
    group_minutes_target: int
    group_minutes_max: int
    lead_provider_id: int | None = Field(default=None, foreign_key="provider.id", ondelete="RESTRICT",
                                         index=True)
    priority: int = Field(default=1)
    approval_start: date
    approval_end: date | None = None
    legal_basis: str  # a LegalBasis value, e.g. "§ 35a"
    risk_report_at: date | None = None  # § 8a SGB VIII Gefährdungsmeldung (crisis modules)
    crisis_ends_on: date | None = None
    crisis_extension_reason: str | None = None
    status: str = Field(default=CaseStatus.active.value, index=True)
    ended_at: datetime | None = utc_field()
    created_at: datetime = utc_field(now=True)
    updated_at: datetime = utc_field(now=True, sa_column_kwargs={"onupdate": utcnow})
    version: int = Field(default=1)

    needs: list[Category] = Relationship(link_model=YoungPersonNeed)
    availability: list["AvailabilityWindow"] = Relationship(
        back_populates="young_person", cascade_delete=True, passive_deletes=True,
        sa_relationship_kwargs={"order_by": "(AvailabilityWindow.weekday, AvailabilityWindow.start_minute)"},
    )


class AvailabilityWindow(SQLModel, table=True):
    """A weekly time window in which a young person can attend groups (Verfügbarkeit)."""

    __tablename__ = "availability_window"
    __table_args__ = (
        *weekly_window_checks(),
        UniqueConstraint("young_person_id", "weekday", "start_minute"),
    )

    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="young_person.id", ondelete="CASCADE", index=True)
    weekday: int
    start_minute: int
    end_minute: int

    young_person: YoungPerson | None = Relationship(back_populates="availability")


class OfferWish(SQLModel, table=True):
    """A wish of a young person about one group (§ 5 SGB VIII): preferred or excluded."""

    __tablename__ = "offer_wish"
    __table_args__ = (
        one_of("kind", WishKind, "kind_valid"),
        UniqueConstraint("young_person_id", "offer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="young_person.id", ondelete="CASCADE")
    offer_id: int = Field(foreign_key="group_offer.id", ondelete="CASCADE", index=True)
    kind: str  # a WishKind value


class KeepApart(SQLModel, table=True):
    """Two young people who must not share a group ("nicht zusammen mit").

    Stored once per pair with the smaller id first (CHECK a < b), so the pair is unique.
    """

    __tablename__ = "keep_apart"
    __table_args__ = (
        CheckConstraint("young_person_a_id < young_person_b_id", name="ordered_pair"),
        UniqueConstraint("young_person_a_id", "young_person_b_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    young_person_a_id: int = Field(foreign_key="young_person.id", ondelete="CASCADE")
    young_person_b_id: int = Field(foreign_key="young_person.id", ondelete="CASCADE", index=True)
    reason: str | None = None
    created_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    created_at: datetime = utc_field(now=True)
