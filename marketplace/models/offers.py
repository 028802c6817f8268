"""Group offers (Gruppenangebote): the offer, its categories, weekly sessions and certification history."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from marketplace.timeutil import utcnow

from .base import EntryMode, OfferStatus, lat_lon_checks, one_of, utc_field, weekly_window_checks
from .org import Category

#: Allowed values of GroupOffer.genders: every non-empty subset of f, m, d in canonical order.
GENDER_SETS = ("f", "m", "d", "f,m", "f,d", "m,d", "f,m,d")
#: Offers whose certification must carry a validity date.
CERTIFIED_STATUSES = (OfferStatus.certified, OfferStatus.published, OfferStatus.paused)


class OfferCategory(SQLModel, table=True):
    """Link: a group offer serves a need category."""

    __tablename__ = "offer_category"

    offer_id: int = Field(foreign_key="group_offer.id", ondelete="CASCADE", primary_key=True)
    category_id: int = Field(foreign_key="category.id", ondelete="RESTRICT", primary_key=True, index=True)


class GroupOffer(SQLModel, table=True):
    """A group offer (Gruppenangebot) of a provider.

    Lifecycle (`status`): draft → submitted → certified (valid until `certified_until`)
    → published / paused → ended; or rejected with a reason. `genders` is None for
    all, else a canonical subset such as "f,d". `lat`/`lon` None means the centre of
    the municipality. `offset_rate_cents` (Verrechnungssatz) is per participant-hour.

    Seat guard: `seats_taken` counts placements that hold a seat (confirmed or
    accepted). It may only change through a conditional UPDATE
    (`marketplace.seats.take_seat` / `release_seat`); the CHECK
    `seats_taken <= seats` makes the database itself refuse an overbooking, even
    when two confirmations race. `version` is for optimistic locking of edits:
    forms carry it, and an update with a stale version is refused by the service.
    """

    __tablename__ = "group_offer"
    __table_args__ = (
        CheckConstraint("seats >= 1", name="seats_positive"),
        CheckConstraint("min_size >= 1 AND min_size <= seats", name="min_size_within_seats"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= seats", name="seats_taken_within_seats"),
        CheckConstraint("age_min >= 0 AND age_max <= 27 AND age_min <= age_max", name="age_range_valid"),
        one_of("genders", GENDER_SETS, "genders_valid", nullable=True),
        CheckConstraint("last_date IS NULL OR last_date >= first_date", name="dates_ordered"),
        CheckConstraint("offset_rate_cents >= 0", name="offset_rate_non_negative"),
        one_of("entry_mode", EntryMode, "entry_mode_valid"),
        one_of("status", OfferStatus, "status_valid"),
        CheckConstraint(
            f"status NOT IN ({', '.join(repr(s.value) for s in CERTIFIED_STATUSES)})"
            " OR certified_until IS NOT NULL",
            name="certified_has_validity",
        ),
        CheckConstraint("status <> 'rejected' OR rejection_reason IS NOT NULL", name="rejected_has_reason"),
        CheckConstraint("version >= 1", name="version_positive"),
        *lat_lon_checks(nullable=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="provider.id", ondelete="RESTRICT", index=True)
    title: str
    description: str = ""
    age_min: int
    age_max: int
    genders: str | None = None
    first_date: date
    last_date: date | None = None
    municipality_id: int = Field(foreign_key="municipality.id", ondelete="RESTRICT", index=True)
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    seats: int
    min_size: int = Field(default=1)
    seats_taken: int = Field(default=0)
    entry_mode: str = Field(default=EntryMode.open.value)
    staff_mix: str = ""  # e.g. "Sozialpädagogin + Sporttrainer"
    multi_professional: bool = Field(default=False)
    offset_rate_cents: int = Field(default=0)
    status: str = Field(default=OfferStatus.draft.value, index=True)
    certified_until: date | None = None
    rejection_reason: str | None = None
    vacancy_confirmed_at: datetime | None = utc_field()  # coordinator last confirmed free seats
    created_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    created_at: datetime = utc_field(now=True)
    updated_at: datetime = utc_field(now=True, sa_column_kwargs={"onupdate": utcnow})
    version: int = Field(default=1)

    sessions: list["OfferSession"] = Relationship(
        back_populates="offer", cascade_delete=True, passive_deletes=True,
        sa_relationship_kwargs={"order_by": "(OfferSession.weekday, OfferSession.start_minute)"},
    )
    categories: list[Category] = Relationship(link_model=OfferCategory)

    @property
    def weekly_minutes(self) -> int:
        """Group minutes per week: the sum of the session lengths."""
        return sum(s.end_minute - s.start_minute for s in self.sessions)


class OfferSession(SQLModel, table=True):
    """A weekly session of a group offer (Gruppentermin): weekday 0=Mon..6=Sun, minutes since midnight."""

    __tablename__ = "offer_session"
    __table_args__ = (
        *weekly_window_checks(),
        UniqueConstraint("offer_id", "weekday", "start_minute"),
    )

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="group_offer.id", ondelete="CASCADE", index=True)
    weekday: int
    start_minute: int
    end_minute: int

    offer: GroupOffer | None = Relationship(back_populates="sessions")


class OfferStatusEvent(SQLModel, table=True):
    """One step in an offer's certification history (Statusverlauf): who moved it, when and why."""

    __tablename__ = "offer_status_event"
    __table_args__ = (
        one_of("from_status", OfferStatus, "from_status_valid", nullable=True),
        one_of("to_status", OfferStatus, "to_status_valid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="group_offer.id", ondelete="CASCADE", index=True)
    from_status: str | None = None
    to_status: str
    actor_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    at: datetime = utc_field(now=True)
    reason: str | None = None
    valid_until: date | None = None  # certification validity set by this step
