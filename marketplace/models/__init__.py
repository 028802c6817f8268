"""The domain model: SQLModel tables for every concept of DOMAIN.md.

Import from here (`from marketplace.models import GroupOffer`); the submodules
only group the tables by topic. Conventions: timestamps are aware UTC datetimes
(`UTCDateTime`), money is integer cents, durations are integer minutes, weekdays
are 0 (Monday) to 6 (Sunday), status columns are strings checked against the
`StrEnum` sets in `base`.
"""

from .base import (
    ACTIVE_PLACEMENT_STATUSES,
    NAMING_CONVENTION,
    SEAT_HOLDING_STATUSES,
    AttendanceStatus,
    AuditAction,
    CaseStatus,
    EntryMode,
    Gender,
    LegalBasis,
    OfferStatus,
    PlacementSource,
    PlacementStatus,
    RequestStatus,
    Role,
    RunKind,
    RunStatus,
    TokenScope,
    UTCDateTime,
    Variant,
    WishKind,
)
from .cases import AvailabilityWindow, KeepApart, OfferWish, YoungPerson, YoungPersonNeed
from .casework import CaseEvent, CaseEventKind, CaseFlag, CaseFlagKind, IndividualHours
from .ledger import Attendance, AttendanceCorrection, MonthClose, OffsetAgreement, OffsetEntry, SharedUse
from .offers import GENDER_SETS, GroupOffer, OfferCategory, OfferSession, OfferStatusEvent
from .org import Category, Module, Municipality, Provider, Sozialraum, Team, User
from .placements import Placement, PlacementEvent, PlacementRequest
from .reports import ReportReview
from .runs import Setting, SolverRun, SolverSetting
from .system import ApiToken, AuditEvent, LoginAttempt, Notification

__all__ = [
    "ACTIVE_PLACEMENT_STATUSES", "GENDER_SETS", "NAMING_CONVENTION", "SEAT_HOLDING_STATUSES",
    "ApiToken", "Attendance", "AttendanceCorrection", "AttendanceStatus", "AuditAction", "AuditEvent",
    "AvailabilityWindow", "CaseEvent", "CaseEventKind", "CaseFlag", "CaseFlagKind", "IndividualHours",
    "CaseStatus", "Category", "EntryMode", "Gender", "GroupOffer", "KeepApart",
    "LegalBasis", "LoginAttempt", "Module", "MonthClose", "Municipality", "Notification", "OfferCategory",
    "OfferSession", "OfferStatus", "OfferStatusEvent", "OfferWish", "OffsetAgreement", "OffsetEntry",
    "Placement", "PlacementEvent", "PlacementRequest", "PlacementSource", "PlacementStatus", "Provider",
    "ReportReview",
    "RequestStatus", "Role", "RunKind", "RunStatus", "Setting", "SharedUse", "SolverRun", "SolverSetting",
    "Sozialraum", "Team", "TokenScope", "UTCDateTime", "User", "Variant", "WishKind", "YoungPerson",
    "YoungPersonNeed",
]
