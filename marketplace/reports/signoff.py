"""Sign-off of a month's reports (Abnahme) and flags for data changed afterwards.

A planner marks a month as reviewed with a comment (`sign_off`). The month's figures are
fingerprinted per report section at that moment: occupancy (per offer: seats, sessions,
capacity, bookings, attendance), module hours (per young person: band, group and
individual minutes) and cross-provider use (per provider pair: minutes, amounts, uses;
placements outside the lead provider). A report page recomputes the fingerprints of the
reviewed months it shows from the figures it has anyway (`*_month_hashes`) and flags each
month whose fingerprint differs (`changed_sections`). A month's figures do not depend on
the period a report covers, so the fingerprints agree whatever the period.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from ..audit import audit
from ..models import AuditAction, OffsetEntry, ReportReview, SharedUse, User
from ..timeutil import month_key, utcnow
from .crossuse import CrossUseReport, cross_provider
from .filters import MONTH_PATTERN, ReportFilters
from .hours import ModuleHoursReport, module_hours
from .occupancy import OccupancyReport, occupancy

SECTIONS = {
    "auslastung": "Auslastung",
    "modulstunden": "Modulstunden",
    "traegeruebergreifend": "Trägerübergreifende Nutzung",
}
MAX_COMMENT = 2000


class ReviewError(ValueError):
    """The sign-off is not possible; the message is German."""


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def occupancy_month_hashes(report: OccupancyReport) -> dict[str, str]:
    per_month: dict[str, list] = defaultdict(list)
    for r in report.rows:
        per_month[r.month].append([r.offer_id, r.seats, r.sessions, r.capacity_minutes, r.booked, r.attended,
                                   r.attended_minutes])
    return {m: _digest(sorted(rows)) for m, rows in per_month.items()} | \
        {m: _digest([]) for m in report.filters.months if m not in per_month}


def hours_month_hashes(report: ModuleHoursReport) -> dict[str, str]:
    per_month: dict[str, list] = defaultdict(list)
    for r in report.rows:
        h = r.hours
        per_month[r.month].append([h.young_person_id, r.module_id, r.team_id, h.days, h.band_min, h.band_max,
                                   h.group_minutes, h.individual_minutes])
    return {m: _digest(sorted(per_month.get(m, []))) for m in report.filters.months}


def cross_month_hashes(session: Session, report: CrossUseReport) -> dict[str, str]:
    """Per month: the ledger's lines per provider pair and the placements outside the lead provider."""
    rows = session.exec(
        select(OffsetEntry.month, SharedUse.host_provider_id, SharedUse.lead_provider_id,
               func.count(OffsetEntry.id), func.sum(OffsetEntry.minutes), func.sum(OffsetEntry.amount_cents))
        .join(SharedUse, SharedUse.id == OffsetEntry.shared_use_id)
        .where(OffsetEntry.month >= report.filters.first_month, OffsetEntry.month <= report.filters.last_month)
        .group_by(OffsetEntry.month, SharedUse.host_provider_id, SharedUse.lead_provider_id)
    ).all()
    per_month: dict[str, list] = defaultdict(list)
    for month, host, lead, count, minutes, cents in rows:
        per_month[month].append([host, lead, int(count), int(minutes or 0), int(cents or 0)])
    outside = {month: [total, out] for month, total, out in report.outside_by_month()}
    return {m: _digest([sorted(per_month.get(m, [])), outside.get(m)]) for m in report.filters.months}


def month_fingerprints(session: Session, *, month: str, today: date) -> dict[str, str]:
    """The fingerprint of each report section for `month` (whole district, no filters)."""
    filters = ReportFilters(first_month=month, last_month=month)
    return {
        "auslastung": occupancy_month_hashes(occupancy(session, filters=filters, today=today))[month],
        "modulstunden": hours_month_hashes(module_hours(session, filters=filters, today=today))[month],
        "traegeruebergreifend": cross_month_hashes(session, cross_provider(session, filters=filters,
                                                                           today=today))[month],
    }


def sign_off(session: Session, *, month: str, actor: Any, comment: str, today: date) -> ReportReview:
    """Mark `month` as reviewed by `actor` with `comment` (replacing an earlier sign-off). Commits."""
    if not isinstance(month, str) or not MONTH_PATTERN.match(month):
        raise ReviewError("Bitte einen Monat im Format JJJJ-MM wählen.")
    if month >= month_key(today):
        raise ReviewError("Nur abgelaufene Monate können abgenommen werden.")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ReviewError(f"Der Kommentar darf höchstens {MAX_COMMENT} Zeichen lang sein.")
    hashes = month_fingerprints(session, month=month, today=today)
    review = session.exec(select(ReportReview).where(ReportReview.month == month)).first()
    if review is None:
        review = ReportReview(month=month, data_hash="")
    review.reviewed_by = getattr(actor, "id", None)
    review.reviewed_at = utcnow()
    review.comment = comment
    review.section_hashes = hashes
    review.data_hash = _digest(hashes)
    session.add(review)
    session.flush()
    audit(session, actor, AuditAction.update.value, "report_review", month)
    session.commit()
    return review


@dataclass(frozen=True)
class ReviewState:
    """A month's sign-off as a report shows it."""

    month: str
    review: ReportReview
    reviewer: str
    changed: list[str]  # German section names whose figures changed since the sign-off


def reviews(session: Session, *, first_month: str, last_month: str) -> dict[str, tuple[ReportReview, str]]:
    """Sign-offs in the period with the reviewer's display name (one query)."""
    rows = session.exec(
        select(ReportReview, User.display_name).outerjoin(User, User.id == ReportReview.reviewed_by)
        .where(ReportReview.month >= first_month, ReportReview.month <= last_month)
        .order_by(ReportReview.month)
    ).all()
    return {review.month: (review, name or "unbekannt") for review, name in rows}


def review_states(session: Session, *, filters: ReportFilters,
                  current: dict[str, dict[str, str]]) -> dict[str, ReviewState]:
    """The sign-offs of the period; `current` maps section → month → today's fingerprint (only the
    sections a page computed; others are not compared)."""
    out = {}
    for month, (review, name) in reviews(session, first_month=filters.first_month,
                                         last_month=filters.last_month).items():
        stored = review.section_hashes or {}
        changed = [SECTIONS[section] for section, hashes in current.items()
                   if month in hashes and stored.get(section) not in (None, hashes[month])]
        out[month] = ReviewState(month, review, name, changed)
    return out


def unfiltered(filters: ReportFilters) -> bool:
    return filters.sozialraum_id is None and filters.provider_id is None and filters.category_id is None


def states_with_changes(session: Session, *, filters: ReportFilters, today: date) -> dict[str, ReviewState]:
    """The sign-offs of the period, each compared with today's figures of every report section."""
    signed = reviews(session, first_month=filters.first_month, last_month=filters.last_month)
    if not signed:
        return {}
    months = sorted(signed)
    span = ReportFilters(first_month=months[0], last_month=months[-1])
    current = {
        "auslastung": occupancy_month_hashes(occupancy(session, filters=span, today=today)),
        "modulstunden": hours_month_hashes(module_hours(session, filters=span, today=today)),
        "traegeruebergreifend": cross_month_hashes(session, cross_provider(session, filters=span, today=today)),
    }
    return review_states(session, filters=filters, current=current)
