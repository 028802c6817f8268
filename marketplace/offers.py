"""Group offers (Gruppenangebote): create, edit, certify and run them; vacancy freshness.

Use cases are plain functions with keyword-only arguments. Each checks who acts
(`OfferAccessError`, a `PermissionError`), checks its input (`OfferError` with German
messages keyed by form field), writes, records an `OfferStatusEvent` (who, when, why)
for every state change plus an audit row, and commits, or writes nothing at all.

Lifecycle (Zertifizierung)::

    draft ──submit──► submitted ──certify(valid_until)──► certified ──publish──► published ⇄ paused
      ▲                  │                                    │                      │         │
      │                  └──reject(reason)──► rejected        └───────── end ────────┴─────────┴──► ended
      └── edit freely ──────── (edit, submit again) ◄─┘

- Drafts and rejected offers are edited freely and submitted (again) by the coordinator.
- Only Jugendamt planning certifies (with a validity date) or rejects (with a reason).
  A certification can be renewed (`renew_certification`) without leaving the catalogue.
- **Decision: editing essentials sends a certified offer back to "submitted".** Essentials
  are what the Jugendamt certified: weekly sessions, seats, categories, location
  (municipality, address, coordinates), offset rate, target ages, gender restriction and
  the multi-professional flag. Changing any of them on a certified, published or paused
  offer withdraws it from the catalogue until planning certifies it again (the status
  history says which essentials changed). Title, description, staff text, minimum size,
  dates and entry mode are not essential: the offer keeps its status.
- Submitted offers can still be edited (they stay submitted); ended offers are read-only.
- Housekeeping (daily, `housekeeping`): `warn_expiring_certifications` notifies the
  provider's coordinators and planning once per certification, 30 days before it ends;
  `expire_certifications` moves offers whose certification has ended back to "submitted"
  (out of the catalogue, into planning's queue for re-certification).

Optimistic locking: every write bumps `GroupOffer.version` with a conditional UPDATE
(`WHERE version = <the version the form showed>`); a stale version is refused with a
German message, so two people editing the same offer never overwrite each other.

Vacancy freshness (Aktualität der freien Plätze): coordinators confirm their free seats
(`confirm_vacancy`); a published offer not confirmed for `VACANCY_STALE_DAYS` is stale
("veraltet", `is_stale`). The catalogue marks stale offers, and the solver bridge ranks
them lower: it reads `stale_offer_ids(session, now)` and applies the documented weight
`STALE_OFFER_WEIGHT` to seats in stale offers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from .access import has_role
from .audit import audit
from .models import (
    AuditAction,
    Category,
    GroupOffer,
    Notification,
    OfferSession,
    OfferStatus,
    OfferStatusEvent,
    Provider,
    Role,
    User,
)
from .models.ledger import Attendance
from .notify import notify
from .offer_input import OfferError, OfferInput, SessionSlot, check_offer, clean_text, input_as_values
from .timeutil import today_berlin, utcnow

__all__ = [
    "CERTIFIED_STATUSES", "STALE_OFFER_WEIGHT", "STATUS_LABELS", "VACANCY_STALE_DAYS", "WARNING_DAYS",
    "HistoryEntry", "OfferAccessError", "OfferError", "allowed_actions", "certify_offer",
    "confirm_vacancy", "create_offer", "end_offer", "expire_certifications", "housekeeping",
    "is_stale", "offer_state_history", "pause_offer", "publish_offer", "reject_offer",
    "renew_certification", "stale_offer_ids", "submit_offer", "update_offer",
    "warn_expiring_certifications",
]

#: Days after which unconfirmed free seats count as stale (setting VACANCY_STALE_DAYS).
VACANCY_STALE_DAYS = 30
#: How strongly the solver bridge discounts a seat in a stale offer: its placement value is
#: multiplied by this factor (0.5 = a stale group is chosen only when it is clearly better).
STALE_OFFER_WEIGHT = 0.5
#: Days before a certification ends that its coordinators and planning are warned.
WARNING_DAYS = 30
#: Link to an offer page, used in notifications written by jobs (no request context there).
OFFER_LINK = "/angebote/{id}"

S = OfferStatus
STATUS_LABELS: dict[str, str] = {
    S.draft: "Entwurf", S.submitted: "Zur Prüfung eingereicht", S.certified: "Zertifiziert",
    S.published: "Veröffentlicht", S.paused: "Pausiert", S.ended: "Beendet", S.rejected: "Abgelehnt",
}
CERTIFIED_STATUSES = frozenset({S.certified.value, S.published.value, S.paused.value})
EDITABLE_STATUSES = frozenset(s.value for s in S if s is not S.ended)
#: Human names of the essentials, for the history ("Wesentliche Angaben geändert: ...").
ESSENTIAL_LABELS = {
    "sessions": "Termine", "seats": "Plätze", "categories": "Kategorien", "location": "Ort",
    "rate": "Verrechnungssatz", "ages": "Altersgruppe", "genders": "Geschlecht",
    "multi_professional": "multiprofessionelles Team",
}


class OfferAccessError(PermissionError):
    """The actor may not do this to this offer (the web layer answers 403)."""


# --------------------------------------------------------------------------- small helpers


def _status(offer: GroupOffer) -> str:
    return getattr(offer.status, "value", offer.status)


def _label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "–")


def _load(session: Session, offer_id: int) -> GroupOffer:
    offer = session.get(GroupOffer, offer_id)
    if offer is None:
        raise OfferError({"offer": "Dieses Angebot gibt es nicht (mehr)."})
    return offer


def _ensure_coordinator_of(actor: Any, offer: GroupOffer) -> None:
    if not (has_role(actor, Role.coordinator) and actor.provider_id == offer.provider_id):
        raise OfferAccessError("only a coordinator of the offering provider may do this")


def _ensure_planner(actor: Any) -> None:
    if not has_role(actor, Role.planner):
        raise OfferAccessError("only Jugendamt planning may certify or reject offers")


def _check_version(offer: GroupOffer, version: int | None) -> None:
    if version is not None and offer.version != version:
        raise OfferError({"version": stale_message()})


def stale_message() -> str:
    return ("Das Angebot wurde inzwischen von jemand anderem geändert. Bitte laden Sie die Seite neu "
            "und prüfen Sie die aktuellen Angaben.")


def _bump_version(session: Session, offer: GroupOffer, *, expected_status: str | None = None,
                  min_seats: int | None = None, **values: Any) -> None:
    """Conditional UPDATE: only if nobody changed the offer since it was read (else OfferError)."""
    statement = update(GroupOffer).where(GroupOffer.id == offer.id, GroupOffer.version == offer.version)
    if expected_status is not None:
        statement = statement.where(GroupOffer.status == expected_status)
    if min_seats is not None:  # a seat taken meanwhile must not be lost by lowering the seats
        statement = statement.where(GroupOffer.seats_taken <= min_seats)
    result = session.execute(statement.values(version=offer.version + 1, **values)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.rollback()
        session.refresh(offer)
        if min_seats is not None and offer.seats_taken > min_seats:
            raise OfferError({"seats": f"Es sind inzwischen {offer.seats_taken} Plätze belegt; "
                                       "die Platzzahl kann nicht darunter sinken."})
        raise OfferError({"version": stale_message()})
    session.expire(offer)


def _event(session: Session, offer: GroupOffer, *, from_status: str | None, to_status: str,
           actor: Any, reason: str | None = None, valid_until: date | None = None) -> None:
    session.add(OfferStatusEvent(offer_id=offer.id, from_status=from_status, to_status=to_status,
                                 actor_id=getattr(actor, "id", None), at=utcnow(), reason=reason,
                                 valid_until=valid_until))


def _notify(session: Session, users: Iterable[User], text: str, offer_id: int) -> None:
    notify(session, users=users, text=text, link=OFFER_LINK.format(id=offer_id))


def _coordinators(session: Session, provider_id: int) -> list[User]:
    return list(session.scalars(select(User).where(
        User.role == Role.coordinator.value, User.provider_id == provider_id, User.is_active)))


def _planners(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == Role.planner.value, User.is_active)))


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise OfferError({"offer": "Die Änderung widerspricht einer Regel der Datenbank und wurde "
                                   "nicht gespeichert. Bitte prüfen Sie Ihre Eingaben."}) from None


def _transition(session: Session, offer: GroupOffer, *, to: OfferStatus, allowed_from: Iterable[str],
                actor: Any, verb: str, version: int | None, reason: str | None = None,
                valid_until: date | None = None, notify: tuple[list[User], str] | None = None,
                **values: Any) -> GroupOffer:
    """Move `offer` to `to` if its status allows it; event, audit and notifications; commit."""
    current = _status(offer)
    if current not in {getattr(s, "value", s) for s in allowed_from}:
        raise OfferError({"status": f"Ein Angebot im Status „{_label(current)}“ kann nicht {verb} werden."})
    _check_version(offer, version)
    _bump_version(session, offer, expected_status=current, status=to.value, **values)
    _event(session, offer, from_status=current, to_status=to.value, actor=actor, reason=reason,
           valid_until=valid_until)
    audit(session, actor, AuditAction.update, "group_offer", offer.id)
    if notify is not None:
        _notify(session, notify[0], notify[1], offer.id)
    _commit(session)
    session.refresh(offer)
    return offer


# --------------------------------------------------------------------------- create and edit


def create_offer(session: Session, *, actor: Any, data: OfferInput) -> GroupOffer:
    """A new draft offer of the coordinator's provider (Entwurf); nothing is published."""
    if not has_role(actor, Role.coordinator) or actor.provider_id is None:
        raise OfferAccessError("only a provider's coordinator creates offers")
    errors = check_offer(session, input_as_values(data))
    if errors:
        raise OfferError(errors)
    offer = GroupOffer(provider_id=actor.provider_id, created_by=actor.id, status=S.draft.value,
                       **_offer_columns(data))
    session.add(offer)
    session.flush()
    offer.categories = _categories(session, data.category_ids)
    session.add_all(OfferSession(offer_id=offer.id, weekday=s.weekday, start_minute=s.start_minute,
                                 end_minute=s.end_minute) for s in data.sessions)
    _event(session, offer, from_status=None, to_status=S.draft.value, actor=actor, reason="Angelegt")
    audit(session, actor, AuditAction.create, "group_offer", offer.id)
    _commit(session)
    session.refresh(offer)
    return offer


def update_offer(session: Session, *, actor: Any, offer_id: int, version: int,
                 data: OfferInput) -> GroupOffer:
    """Save the editor's values over offer `offer_id`, if `version` is still current.

    A certified, published or paused offer whose essentials change goes back to
    "submitted" (see the module docstring); the returned offer shows the new status.
    """
    offer = _load(session, offer_id)
    _ensure_coordinator_of(actor, offer)
    current = _status(offer)
    if current not in EDITABLE_STATUSES:
        raise OfferError({"status": "Ein beendetes Angebot kann nicht mehr bearbeitet werden."})
    _check_version(offer, version)
    errors = check_offer(session, input_as_values(data), seats_taken=offer.seats_taken)
    if errors:
        raise OfferError(errors)
    changed = essential_changes(offer, data)
    back_to_review = bool(changed) and current in CERTIFIED_STATUSES
    _bump_version(session, offer, min_seats=data.seats)
    for name, value in _offer_columns(data).items():
        setattr(offer, name, value)
    offer.categories = _categories(session, data.category_ids)
    _replace_sessions(session, offer, data.sessions)
    if back_to_review:
        offer.status, offer.certified_until = S.submitted.value, None
        names = ", ".join(ESSENTIAL_LABELS[c] for c in changed)
        _event(session, offer, from_status=current, to_status=S.submitted.value, actor=actor,
               reason=f"Wesentliche Angaben geändert ({names}): erneute Zertifizierung erforderlich.")
        _notify(session, _planners(session),
                f"Geändertes Angebot zur erneuten Zertifizierung: „{offer.title}“.", offer.id)
    session.add(offer)
    audit(session, actor, AuditAction.update, "group_offer", offer.id)
    _commit(session)
    session.refresh(offer)
    return offer


def _offer_columns(data: OfferInput) -> dict[str, Any]:
    return {
        "title": data.title, "description": data.description, "age_min": data.age_min,
        "age_max": data.age_max, "genders": data.genders, "first_date": data.first_date,
        "last_date": data.last_date, "municipality_id": data.municipality_id, "address": data.address,
        "lat": data.lat, "lon": data.lon, "seats": data.seats, "min_size": data.min_size,
        "entry_mode": data.entry_mode, "staff_mix": data.staff_mix,
        "multi_professional": data.multi_professional, "offset_rate_cents": data.offset_rate_cents,
    }


def _categories(session: Session, ids: tuple[int, ...]) -> list[Category]:
    return list(session.scalars(select(Category).where(Category.id.in_(ids)).order_by(Category.id)))


def essential_changes(offer: GroupOffer, data: OfferInput) -> list[str]:
    """Which essentials (keys of `ESSENTIAL_LABELS`) `data` changes on `offer`."""
    changed = []
    if {(s.weekday, s.start_minute, s.end_minute) for s in offer.sessions} != {s.key for s in data.sessions}:
        changed.append("sessions")
    if offer.seats != data.seats:
        changed.append("seats")
    if {c.id for c in offer.categories} != set(data.category_ids):
        changed.append("categories")
    if (offer.municipality_id, offer.address, offer.lat, offer.lon) != (
            data.municipality_id, data.address, data.lat, data.lon):
        changed.append("location")
    if offer.offset_rate_cents != data.offset_rate_cents:
        changed.append("rate")
    if (offer.age_min, offer.age_max) != (data.age_min, data.age_max):
        changed.append("ages")
    if (offer.genders or None) != data.genders:
        changed.append("genders")
    if bool(offer.multi_professional) != data.multi_professional:
        changed.append("multi_professional")
    return changed


def _replace_sessions(session: Session, offer: GroupOffer, slots: tuple[SessionSlot, ...]) -> None:
    """Keep rows that stay, change rows edited in place, delete the rest, add new ones.

    A session with recorded attendance cannot be deleted (its history would be lost):
    its row may change its time, but not disappear.
    """
    existing = {s.id: s for s in offer.sessions}
    kept_ids = {s.id for s in slots if s.id in existing}
    removed = [row for row_id, row in existing.items() if row_id not in kept_ids]
    if removed:
        used = set(session.scalars(select(Attendance.offer_session_id)
                                   .where(Attendance.offer_session_id.in_([r.id for r in removed]))))
        if used:
            session.rollback()
            raise OfferError({"sessions": "Für einen entfernten Termin gibt es schon Anwesenheitseinträge. "
                                          "Ändern Sie stattdessen seine Uhrzeit oder beenden Sie das Angebot."})
        for row in removed:
            offer.sessions.remove(row)
            session.delete(row)
        session.flush()
    for slot in slots:
        row = existing.get(slot.id) if slot.id in kept_ids else None
        if row is None:
            offer.sessions.append(OfferSession(offer_id=offer.id, weekday=slot.weekday,
                                               start_minute=slot.start_minute, end_minute=slot.end_minute))
        else:
            row.weekday, row.start_minute, row.end_minute = slot.key
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise OfferError({"sessions": "Die Termine konnten so nicht gespeichert werden (zwei Termine "
                                      "tauschen ihre Zeiten). Bitte ändern Sie sie nacheinander."}) from None


# --------------------------------------------------------------------------- certification


def submit_offer(session: Session, *, actor: Any, offer_id: int, version: int | None = None) -> GroupOffer:
    """Submit a draft (or a rejected offer, corrected) to Jugendamt planning for certification."""
    offer = _load(session, offer_id)
    _ensure_coordinator_of(actor, offer)
    if not offer.sessions or not offer.categories:
        raise OfferError({"status": "Vor dem Einreichen braucht das Angebot mindestens einen Termin "
                                    "und eine Kategorie."})
    return _transition(session, offer, to=S.submitted, allowed_from=(S.draft, S.rejected), actor=actor,
                       verb="eingereicht", version=version, reason="Zur Zertifizierung eingereicht",
                       rejection_reason=None,
                       notify=(_planners(session), f"Neues Angebot zur Zertifizierung: „{offer.title}“."))


def _check_valid_until(valid_until: date | None, today: date) -> None:
    if valid_until is None:
        raise OfferError({"valid_until": "Bitte geben Sie an, bis wann die Zertifizierung gilt."})
    if valid_until <= today:
        raise OfferError({"valid_until": "Die Zertifizierung muss über den heutigen Tag hinaus gelten."})
    if valid_until > today + timedelta(days=5 * 366):
        raise OfferError({"valid_until": "Eine Zertifizierung gilt höchstens fünf Jahre."})


def certify_offer(session: Session, *, actor: Any, offer_id: int, valid_until: date | None,
                  today: date | None = None, version: int | None = None) -> GroupOffer:
    """Jugendamt planning certifies a submitted offer until `valid_until` (Zertifizierung)."""
    _ensure_planner(actor)
    offer = _load(session, offer_id)
    _check_valid_until(valid_until, today or today_berlin())
    text = (f"Ihr Angebot „{offer.title}“ wurde zertifiziert (gültig bis {valid_until:%d.%m.%Y}). "
            "Sie können es jetzt veröffentlichen.")
    return _transition(session, offer, to=S.certified, allowed_from=(S.submitted,), actor=actor,
                       verb="zertifiziert", version=version, reason="Zertifiziert",
                       valid_until=valid_until, certified_until=valid_until, rejection_reason=None,
                       notify=(_coordinators(session, offer.provider_id), text))


def renew_certification(session: Session, *, actor: Any, offer_id: int, valid_until: date | None,
                        today: date | None = None, version: int | None = None) -> GroupOffer:
    """Planning extends a running certification; the offer keeps its status (and its catalogue place)."""
    _ensure_planner(actor)
    offer = _load(session, offer_id)
    current = _status(offer)
    if current not in CERTIFIED_STATUSES:
        raise OfferError({"status": f"Ein Angebot im Status „{_label(current)}“ hat keine Zertifizierung, "
                                    "die verlängert werden kann."})
    _check_valid_until(valid_until, today or today_berlin())
    text = f"Die Zertifizierung von „{offer.title}“ wurde bis {valid_until:%d.%m.%Y} verlängert."
    return _transition(session, offer, to=S(current), allowed_from=CERTIFIED_STATUSES, actor=actor,
                       verb="verlängert", version=version, reason="Zertifizierung verlängert",
                       valid_until=valid_until, certified_until=valid_until,
                       notify=(_coordinators(session, offer.provider_id), text))


def reject_offer(session: Session, *, actor: Any, offer_id: int, reason: str | None,
                 version: int | None = None) -> GroupOffer:
    """Planning rejects a submitted offer; the reason is shown to the provider, who may correct and resubmit."""
    _ensure_planner(actor)
    offer = _load(session, offer_id)
    reason = clean_text(reason).strip()
    if len(reason) < 5:
        raise OfferError({"reason": "Bitte begründen Sie die Ablehnung (mindestens 5 Zeichen)."})
    if len(reason) > 2000:
        raise OfferError({"reason": "Die Begründung darf höchstens 2000 Zeichen lang sein."})
    return _transition(session, offer, to=S.rejected, allowed_from=(S.submitted,), actor=actor,
                       verb="abgelehnt", version=version, reason=reason, rejection_reason=reason,
                       notify=(_coordinators(session, offer.provider_id),
                               f"Ihr Angebot „{offer.title}“ wurde nicht zertifiziert: {reason}"))


def publish_offer(session: Session, *, actor: Any, offer_id: int, today: date | None = None,
                  now: datetime | None = None, version: int | None = None) -> GroupOffer:
    """Put a certified (or paused) offer into the catalogue; publishing also confirms the free seats."""
    offer = _load(session, offer_id)
    _ensure_coordinator_of(actor, offer)
    today = today or today_berlin()
    if _status(offer) in (S.certified, S.paused) and (offer.certified_until is None
                                                       or offer.certified_until < today):
        raise OfferError({"status": "Die Zertifizierung ist abgelaufen. Das Angebot kann erst nach "
                                    "einer erneuten Zertifizierung veröffentlicht werden."})
    return _transition(session, offer, to=S.published, allowed_from=(S.certified, S.paused), actor=actor,
                       verb="veröffentlicht", version=version, reason="Veröffentlicht",
                       vacancy_confirmed_at=now or utcnow())


def pause_offer(session: Session, *, actor: Any, offer_id: int, reason: str | None = None,
                version: int | None = None) -> GroupOffer:
    """Take a published offer out of new bookings for a while (existing placements stay)."""
    offer = _load(session, offer_id)
    _ensure_coordinator_of(actor, offer)
    return _transition(session, offer, to=S.paused, allowed_from=(S.published,), actor=actor,
                       verb="pausiert", version=version, reason=clean_text(reason).strip()[:2000] or "Pausiert")


def end_offer(session: Session, *, actor: Any, offer_id: int, reason: str | None = None,
              version: int | None = None) -> GroupOffer:
    """End a certified, published or paused offer for good (Angebot beenden)."""
    offer = _load(session, offer_id)
    _ensure_coordinator_of(actor, offer)
    return _transition(session, offer, to=S.ended, allowed_from=CERTIFIED_STATUSES, actor=actor,
                       verb="beendet", version=version, reason=clean_text(reason).strip()[:2000] or "Beendet")


def allowed_actions(offer: GroupOffer, user: Any, *, today: date | None = None) -> set[str]:
    """The state changes `user` may start on `offer` now (for showing buttons; the use cases decide)."""
    status, actions = _status(offer), set()
    if has_role(user, Role.coordinator) and user.provider_id == offer.provider_id:
        if status in EDITABLE_STATUSES:
            actions.add("edit")
        if status in (S.draft, S.rejected):
            actions.add("submit")
        if status in (S.certified, S.paused) and offer.certified_until and (
                offer.certified_until >= (today or today_berlin())):
            actions.add("publish")
        if status == S.published:
            actions.update({"pause", "confirm_vacancy"})
        if status in CERTIFIED_STATUSES:
            actions.add("end")
    if has_role(user, Role.planner):
        if status == S.submitted:
            actions.update({"certify", "reject"})
        if status in CERTIFIED_STATUSES:
            actions.add("renew")
    return actions


# --------------------------------------------------------------------------- vacancy freshness


def confirm_vacancy(session: Session, *, actor: Any, offer_id: int, now: datetime | None = None) -> GroupOffer:
    """The coordinator confirms that the shown free seats are right (Plätze bestätigen)."""
    offer = _load(session, offer_id)
    _ensure_coordinator_of(actor, offer)
    if _status(offer) not in (S.published, S.paused):
        raise OfferError({"status": "Freie Plätze bestätigen Sie für veröffentlichte Angebote."})
    # no version bump: confirming seats must not invalidate an editor open elsewhere
    offer.vacancy_confirmed_at = now or utcnow()
    session.add(offer)
    audit(session, actor, AuditAction.update, "group_offer_vacancy", offer.id)
    _commit(session)
    session.refresh(offer)
    return offer


def is_stale(offer: GroupOffer, now: datetime, *, stale_days: int = VACANCY_STALE_DAYS) -> bool:
    """True when a published offer's free seats were not confirmed for more than `stale_days` (veraltet)."""
    if _status(offer) != S.published:
        return False
    confirmed = offer.vacancy_confirmed_at
    return confirmed is None or now - confirmed > timedelta(days=stale_days)


def stale_offer_ids(session: Session, now: datetime, *, stale_days: int = VACANCY_STALE_DAYS) -> set[int]:
    """Ids of published offers whose free seats are stale (for the catalogue and the solver bridge).

    The solver bridge multiplies the value of a seat in these offers by `STALE_OFFER_WEIGHT`,
    so stale groups are ranked lower but still used when nothing better fits.
    """
    cutoff = now - timedelta(days=stale_days)
    query = select(GroupOffer.id).where(
        GroupOffer.status == S.published.value,
        or_(GroupOffer.vacancy_confirmed_at.is_(None), GroupOffer.vacancy_confirmed_at < cutoff),
    )
    return set(session.scalars(query))


# --------------------------------------------------------------------------- daily housekeeping


def _expiring(session: Session, *, before: date) -> list[GroupOffer]:
    return list(session.scalars(select(GroupOffer).where(
        GroupOffer.status.in_(CERTIFIED_STATUSES), GroupOffer.certified_until < before)
        .order_by(GroupOffer.id)))


def expire_certifications(session: Session, *, today: date) -> int:
    """Withdraw offers whose certification ended before `today`: back to "submitted"; returns the count."""
    count = 0
    for offer in _expiring(session, before=today):
        current, until = _status(offer), offer.certified_until
        reason = (f"Zertifizierung am {until:%d.%m.%Y} abgelaufen: aus dem Katalog genommen und "
                  "zur erneuten Zertifizierung vorgelegt.")
        try:
            _bump_version(session, offer, expected_status=current, status=S.submitted.value,
                          certified_until=None)
        except OfferError:
            continue  # changed meanwhile (e.g. renewed): tomorrow's run looks again
        _event(session, offer, from_status=current, to_status=S.submitted.value, actor=None, reason=reason)
        audit(session, None, AuditAction.update, "group_offer", offer.id)
        text = f"Die Zertifizierung von „{offer.title}“ ist abgelaufen; das Angebot ist nicht mehr buchbar."
        _notify(session, [*_coordinators(session, offer.provider_id), *_planners(session)], text, offer.id)
        _commit(session)
        count += 1
    return count


def warn_expiring_certifications(session: Session, *, today: date, days: int = WARNING_DAYS) -> int:
    """Warn coordinators and planning about certifications ending within `days`; once per certification.

    Returns the number of offers warned now (already warned offers are not counted again).
    """
    count = 0
    for offer in _expiring(session, before=today + timedelta(days=days + 1)):
        if offer.certified_until < today:
            continue  # expired: expire_certifications handles it
        provider = session.get(Provider, offer.provider_id)
        text = (f"Die Zertifizierung von „{offer.title}“ ({provider.name if provider else ''}) "
                f"läuft am {offer.certified_until:%d.%m.%Y} ab. Ohne Verlängerung durch die "
                "Jugendhilfeplanung wird das Angebot danach aus dem Katalog genommen.")
        link = OFFER_LINK.format(id=offer.id)
        already = session.scalar(select(Notification.id).where(Notification.link == link,
                                                               Notification.text == text).limit(1))
        if already is not None:
            continue
        _notify(session, [*_coordinators(session, offer.provider_id), *_planners(session)], text, offer.id)
        audit(session, None, AuditAction.update, "group_offer_expiry_warning", offer.id)
        count += 1
    _commit(session)
    return count


def housekeeping(session: Session, *, today: date | None = None) -> dict[str, int]:
    """The daily offer jobs in order (expire first, then warn); counts per job."""
    today = today or today_berlin()
    expired = expire_certifications(session, today=today)
    warned = warn_expiring_certifications(session, today=today)
    return {"expired": expired, "warned": warned}


# --------------------------------------------------------------------------- history


@dataclass(frozen=True)
class HistoryEntry:
    """One step of an offer's status history, ready for display (Statusverlauf)."""

    at: datetime
    from_status: str | None
    to_status: str
    actor_name: str  # "System" for jobs
    reason: str | None
    valid_until: date | None

    @property
    def from_label(self) -> str:
        return _label(self.from_status) if self.from_status else "–"

    @property
    def to_label(self) -> str:
        return _label(self.to_status)


def offer_state_history(session: Session, *, offer_id: int) -> list[HistoryEntry]:
    """Every state change of offer `offer_id`, oldest first: who, when, why."""
    rows = session.execute(
        select(OfferStatusEvent, User.display_name)
        .outerjoin(User, User.id == OfferStatusEvent.actor_id)
        .where(OfferStatusEvent.offer_id == offer_id)
        .order_by(OfferStatusEvent.at, OfferStatusEvent.id)
    ).all()
    return [HistoryEntry(at=e.at, from_status=e.from_status, to_status=e.to_status,
                         actor_name=name or ("System" if e.actor_id is None else "Unbekannt"),
                         reason=e.reason, valid_until=e.valid_until) for e, name in rows]
