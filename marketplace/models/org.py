"""Organisations, people and catalogues: providers, teams, users, regions, categories, modules."""

from datetime import datetime

from sqlalchemy import CheckConstraint, false
from sqlmodel import Field, SQLModel

from .base import Role, lat_lon_checks, one_of, utc_field


class Provider(SQLModel, table=True):
    """A provider (Träger / Leistungserbringer) with a service agreement with the Jugendamt.

    `allows_co_use`: its agreement allows others to co-use its certified groups and
    its own young people to use others' groups (both directions, seed 002).
    """

    __tablename__ = "provider"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    short_name: str = Field(unique=True)
    allows_co_use: bool = Field(default=False)
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    address: str = ""
    active: bool = Field(default=True)
    created_at: datetime = utc_field(now=True)


class Sozialraum(SQLModel, table=True):
    """A planning area of the district (Sozialraum); supply and demand are compared per area."""

    __tablename__ = "sozialraum"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    code: str = Field(unique=True)


class Municipality(SQLModel, table=True):
    """A town of the district (Gemeinde / Stadt) with its centre point and its Sozialraum."""

    __tablename__ = "municipality"
    __table_args__ = lat_lon_checks(nullable=False)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    ags: str = Field(unique=True)  # Amtlicher Gemeindeschlüssel, 8 digits
    lat: float
    lon: float
    sozialraum_id: int = Field(foreign_key="sozialraum.id", ondelete="RESTRICT", index=True)


class Team(SQLModel, table=True):
    """An ASD team (Team des Allgemeinen Sozialen Dienstes), usually responsible for one Sozialraum."""

    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    sozialraum_id: int | None = Field(default=None, foreign_key="sozialraum.id", ondelete="SET NULL")


class User(SQLModel, table=True):
    """A person who logs in (Benutzerkonto).

    A coordinator belongs to exactly one provider, a caseworker to exactly one ASD
    team; planners and admins to neither (CHECKs). `session_version` is copied into
    the login session and bumped on logout or password change, which invalidates
    every older session cookie on the server side.
    """

    __tablename__ = "app_user"
    __table_args__ = (
        one_of("role", Role, "role_valid"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint(
            "(role = 'coordinator' AND provider_id IS NOT NULL)"
            " OR (role <> 'coordinator' AND provider_id IS NULL)",
            name="provider_iff_coordinator",
        ),
        CheckConstraint(
            "(role = 'caseworker' AND team_id IS NOT NULL) OR (role <> 'caseworker' AND team_id IS NULL)",
            name="team_iff_caseworker",
        ),
        CheckConstraint("session_version >= 0", name="session_version_non_negative"),
        CheckConstraint("failed_logins >= 0", name="failed_logins_non_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True)
    display_name: str
    password_hash: str
    role: str  # a Role value
    provider_id: int | None = Field(default=None, foreign_key="provider.id", ondelete="RESTRICT", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="RESTRICT", index=True)
    session_version: int = Field(default=0)
    is_active: bool = Field(default=True)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = utc_field()
    last_login_at: datetime | None = utc_field()
    password_changed_at: datetime | None = utc_field()
    # set when an administrator chose the password: the user must replace it at the next login
    must_change_password: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = utc_field(now=True)


class Category(SQLModel, table=True):
    """A need category (Bedarfskategorie), e.g. social_skills = "Soziale Kompetenzen".

    Group offers serve categories; young people need them.
    """

    __tablename__ = "category"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    label: str  # German label shown in the UI
    active: bool = Field(default=True)


class Module(SQLModel, table=True):
    """A module of the STA catalogue (Modul) with its weekly care-hours band and weekly rate.

    All durations are integer minutes: `care_minutes_min/max` is the band of weekly
    care hours (Betreuungsstunden), `group_minutes_target/max` the default group share
    a young person in this module gets. `weekly_rate_cents` is the Wochensatz.
    Crisis intervention (Krisenintervention) requires a § 8a risk report and runs
    at most `max_weeks` unless the ASD extends it.
    """

    __tablename__ = "module"
    __table_args__ = (
        CheckConstraint("care_minutes_min >= 0 AND care_minutes_max >= care_minutes_min",
                        name="care_band_valid"),
        CheckConstraint("group_minutes_target >= 0 AND group_minutes_max >= group_minutes_target",
                        name="group_band_valid"),
        CheckConstraint("weekly_rate_cents >= 0", name="weekly_rate_non_negative"),
        CheckConstraint("max_weeks IS NULL OR max_weeks >= 1", name="max_weeks_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)  # flex, basis, standard, zusatz, sonder, krise
    name: str  # German name, e.g. "Standard-Modul"
    care_minutes_min: int
    care_minutes_max: int
    group_minutes_target: int
    group_minutes_max: int
    weekly_rate_cents: int
    is_crisis: bool = Field(default=False)
    max_weeks: int | None = None
    requires_risk_report: bool = Field(default=False)
    sort_order: int = Field(default=0)
    active: bool = Field(default=True)
