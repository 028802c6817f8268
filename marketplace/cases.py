"""Use cases of the ASD caseworker for young people (junge Menschen, Fälle).

Plain functions with keyword-only arguments. Each validates first and writes only when
everything is valid (then commits, with its audit event), so a rejected input leaves
nothing half-written. Problems are raised as `CaseError` with German messages per field.

Crisis intervention (Krisenintervention): needs the date of a § 8a risk report, gets
priority 3 and ends `max_weeks` (6) after its start. `end_expired_crises`, run daily by
the scheduler, switches an expired crisis case to status `review` ("Prüfung nötig"): the
case is no longer matched, its placements stay untouched, an open flag and a
notification ask the caseworker to choose the follow-up module (`change_module`),
extend the crisis with a reason (`extend_crisis`) or end the case (`end_case`).
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from . import seats
from .access import can_view_young_person, has_role
from .audit import audit
from .case_rules import CaseFields, hours_label, validate_case
from .models import (
    ACTIVE_PLACEMENT_STATUSES,
    SEAT_HOLDING_STATUSES,
    AuditAction,
    AvailabilityWindow,
    CaseEvent,
    CaseEventKind,
    CaseFlag,
    CaseFlagKind,
    CaseStatus,
    Category,
    GroupOffer,
    KeepApart,
    Module,
    OfferSession,
    OfferWish,
    Placement,
    PlacementEvent,
    PlacementRequest,
    PlacementStatus,
    RequestStatus,
    Role,
    User,
    WishKind,
    YoungPerson,
)
from .timeutil import today_berlin, utcnow

#: Letters and digits that cannot be mistaken for each other (no 0/O, 1/I/L, 2/Z, 5/S, 8/B).
PSEUDONYM_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
PSEUDONYM_PREFIX = "JM-"
MIN_REASON_LENGTH = 10
#: An extension of a crisis intervention may reach at most this far beyond its current end.
MAX_CRISIS_EXTENSION = timedelta(weeks=6)
OPEN_CASE_STATUSES = (CaseStatus.active.value, CaseStatus.review.value)
OBJECT_TYPE = "young_person"


class CaseError(Exception):
    """Invalid input for a case use case: `field_errors` maps field names to German messages."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in field_errors.items()))
        self.field_errors = field_errors


class CaseAccessError(PermissionError):
    """The actor may not change this case (wrong role or another team)."""


# --------------------------------------------------------------------------- helpers


def new_pseudonym() -> str:
    """A random pseudonym such as "JM-7K3Q" (not checked for uniqueness)."""
    return PSEUDONYM_PREFIX + "".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(4))


def unique_pseudonym(session: Session, *, attempts: int = 50) -> str:
    """A pseudonym no young person has yet (25^4 ≈ 390,000 possibilities; retried on collision)."""
    for _ in range(attempts):
        candidate = new_pseudonym()
        if session.exec(select(YoungPerson.id).where(YoungPerson.pseudonym == candidate)).first() is None:
            return candidate
    raise RuntimeError("no free pseudonym found")


def _require_writer(actor: Any, yp: YoungPerson | None = None) -> None:
    """Changes are made by caseworkers of the case's team only (planning reads)."""
    if not has_role(actor, Role.caseworker) or actor.team_id is None:
        raise CaseAccessError("only caseworkers change cases")
    if yp is not None and not can_view_young_person(actor, yp):
        raise CaseAccessError("case of another team")


def _load(session: Session, young_person_id: int, actor: Any) -> YoungPerson:
    yp = session.get(YoungPerson, young_person_id)
    if yp is None:
        raise LookupError(young_person_id)
    _require_writer(actor, yp)
    return yp


def _require_open(yp: YoungPerson) -> None:
    if yp.status not in OPEN_CASE_STATUSES:
        raise CaseError({"status": "Der Fall ist beendet und kann nicht mehr geändert werden."})


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON_LENGTH:
        raise CaseError({"reason": f"Bitte begründen Sie {what} (mindestens {MIN_REASON_LENGTH} Zeichen)."})
    return text


def _bump_version(session: Session, yp: YoungPerson, version: int | None) -> None:
    """Optimistic locking: the change applies only to the version the form was loaded with."""
    expected = yp.version if version is None else version
    result = session.execute(
        update(YoungPerson)
        .where(YoungPerson.id == yp.id, YoungPerson.version == expected)
        .values(version=expected + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise CaseError(
            {"version": "Der Fall wurde inzwischen von jemand anderem geändert. Bitte laden Sie die Seite neu."}
        )
    yp.version = expected + 1


def _caseworkers(session: Session, yp: YoungPerson) -> list[User]:
    """Who is told about the case: its caseworker, or (without one) every caseworker of the team."""
    if yp.caseworker_id is not None:
        user = session.get(User, yp.caseworker_id)
        if user is not None and user.is_active:
            return [user]
    return list(
        session.exec(
            select(User).where(User.team_id == yp.team_id, User.role == Role.caseworker.value, User.is_active)
        ).all()
    )


def _notify(session: Session, yp: YoungPerson, text: str) -> None:
    from . import notify  # late: the notification module belongs to the placements area

    notify.notify(session, users=_caseworkers(session, yp), text=text, link=f"/faelle/{yp.id}")


def _write_links(session: Session, yp: YoungPerson, fields: CaseFields, *, actor_id: int | None) -> None:
    """Replace needs, availability windows, wishes and keep-apart pairs with those of `fields`."""
    yp.needs = list(session.exec(select(Category).where(Category.id.in_(set(fields.need_ids)))).all())
    session.execute(delete(AvailabilityWindow).where(AvailabilityWindow.young_person_id == yp.id))
    session.add_all(
        AvailabilityWindow(young_person_id=yp.id, weekday=d, start_minute=s, end_minute=e)
        for d, s, e in sorted(set(fields.availability))
    )
    session.execute(delete(OfferWish).where(OfferWish.young_person_id == yp.id))
    wishes = ((WishKind.preferred, fields.preferred_offer_ids), (WishKind.excluded, fields.excluded_offer_ids))
    for kind, offer_ids in wishes:
        session.add_all(OfferWish(young_person_id=yp.id, offer_id=o, kind=kind.value) for o in set(offer_ids))
    session.execute(
        delete(KeepApart).where(or_(KeepApart.young_person_a_id == yp.id, KeepApart.young_person_b_id == yp.id))
    )
    for other in sorted(set(fields.keep_apart_ids)):
        a, b = sorted((yp.id, other))  # stored once per pair, smaller id first
        session.add(KeepApart(young_person_a_id=a, young_person_b_id=b, created_by=actor_id))


_SCALARS = (
    "case_reference", "birth_year", "gender", "municipality_id", "lat", "lon", "max_travel_km",
    "group_minutes_target", "group_minutes_max", "lead_provider_id", "approval_start", "approval_end",
    "legal_basis", "priority", "risk_report_at",
)  # fmt: skip


def case_fields_of(session: Session, yp: YoungPerson) -> CaseFields:
    """The current data of `yp` as `CaseFields` (to prefill an edit form)."""
    wishes = session.exec(select(OfferWish).where(OfferWish.young_person_id == yp.id)).all()
    pairs = session.exec(
        select(KeepApart).where(or_(KeepApart.young_person_a_id == yp.id, KeepApart.young_person_b_id == yp.id))
    ).all()
    return CaseFields(
        **{name: getattr(yp, name) for name in _SCALARS},
        module_id=yp.module_id,
        need_ids=[c.id for c in yp.needs],
        availability=[(w.weekday, w.start_minute, w.end_minute) for w in yp.availability],
        preferred_offer_ids=[w.offer_id for w in wishes if w.kind == WishKind.preferred.value],
        excluded_offer_ids=[w.offer_id for w in wishes if w.kind == WishKind.excluded.value],
        keep_apart_ids=[p.young_person_b_id if p.young_person_a_id == yp.id else p.young_person_a_id for p in pairs],
    )


# --------------------------------------------------------------------------- register and edit


def register_young_person(
    session: Session, *, actor: Any, fields: CaseFields, today: date | None = None
) -> YoungPerson:
    """Register an approved young person for the actor's team, under a new pseudonym (no names).

    Group-hours target and maximum default from the module. A crisis module gets priority 3
    and `crisis_ends_on` = approval start + the module's `max_weeks`.
    """
    yp = add_young_person(session, actor=actor, fields=fields, today=today)
    session.commit()
    session.refresh(yp)
    return yp


def add_young_person(session: Session, *, actor: Any, fields: CaseFields, today: date | None = None) -> YoungPerson:
    """`register_young_person` without the commit: validated, added and flushed, for a caller that
    writes several cases in one transaction (bulk import: all or nothing)."""
    _require_writer(actor)
    today = today or today_berlin()
    fields = replace(fields)
    errors = validate_case(session, fields, team_id=actor.team_id, today=today)
    if errors:
        raise CaseError(errors)
    module = session.get(Module, fields.module_id)
    yp = YoungPerson(
        pseudonym=unique_pseudonym(session),
        team_id=actor.team_id,
        caseworker_id=actor.id,
        module_id=module.id,
        **{name: getattr(fields, name) for name in _SCALARS},
    )
    if module.is_crisis:
        yp.crisis_ends_on = fields.approval_start + timedelta(weeks=module.max_weeks or 6)
    session.add(yp)
    session.flush()
    _write_links(session, yp, fields, actor_id=actor.id)
    audit(session, actor, AuditAction.create.value, OBJECT_TYPE, yp.id, case_id=yp.id)
    session.flush()
    return yp


def update_young_person(
    session: Session,
    *,
    actor: Any,
    young_person_id: int,
    version: int | None,
    fields: CaseFields,
    today: date | None = None,
) -> YoungPerson:
    """Change a case's data (not its module: see `change_module`); refused when `version` is stale."""
    yp = _load(session, young_person_id, actor)
    _require_open(yp)
    today = today or today_berlin()
    fields = replace(fields, module_id=yp.module_id)
    errors = validate_case(session, fields, team_id=yp.team_id, today=today, young_person_id=yp.id)
    if errors:
        raise CaseError(errors)
    _bump_version(session, yp, version)
    for name in _SCALARS:
        setattr(yp, name, getattr(fields, name))
    _write_links(session, yp, fields, actor_id=actor.id)
    audit(session, actor, AuditAction.update.value, OBJECT_TYPE, yp.id, case_id=yp.id)
    session.commit()
    session.refresh(yp)
    return yp


# --------------------------------------------------------------------------- module and crisis


def weekly_group_minutes(session: Session, young_person_id: int) -> dict[int, int]:
    """Weekly group minutes of each active (proposed, confirmed, accepted) placement, by placement id."""
    rows = session.exec(
        select(Placement.id, OfferSession.start_minute, OfferSession.end_minute)
        .join(OfferSession, OfferSession.offer_id == Placement.offer_id)
        .where(
            Placement.young_person_id == young_person_id,
            Placement.status.in_([s.value for s in ACTIVE_PLACEMENT_STATUSES]),
        )
    ).all()
    minutes: dict[int, int] = {}
    for placement_id, start, end in rows:
        minutes[placement_id] = minutes.get(placement_id, 0) + end - start
    return minutes


def change_module(
    session: Session,
    *,
    actor: Any,
    young_person_id: int,
    module_id: int,
    reason: str,
    risk_report_at: date | None = None,
    version: int | None = None,
    today: date | None = None,
) -> list[CaseFlag]:
    """Change the module (intensity steering in the Hilfeplan) and re-plan the young person.

    Target and maximum of the group share become the new module's defaults. When the
    active placements together exceed the new maximum, each of them is flagged for the
    caseworker (and the caseworker notified); no placement is ended here. Returns the flags.
    """
    yp = _load(session, young_person_id, actor)
    _require_open(yp)
    today = today or today_berlin()
    errors: dict[str, str] = {}
    module = session.get(Module, module_id) if module_id else None
    if module is None or not module.active:
        errors["module_id"] = "Bitte wählen Sie ein Modul aus dem Katalog."
    elif module.id == yp.module_id:
        errors["module_id"] = "Der Fall hat bereits dieses Modul."
    if module is not None and module.requires_risk_report:
        if risk_report_at is None:
            errors["risk_report_at"] = (
                "Für eine Krisenintervention muss das Datum der Gefährdungsmeldung nach § 8a SGB VIII angegeben werden."
            )
        elif risk_report_at > today:
            errors["risk_report_at"] = "Das Datum der Gefährdungsmeldung darf nicht in der Zukunft liegen."
    try:
        reason = _reason(reason, "den Modulwechsel")
    except CaseError as exc:
        errors.update(exc.field_errors)
    if errors:
        raise CaseError(errors)
    _bump_version(session, yp, version)
    old_module_id = yp.module_id
    yp.module_id = module.id
    yp.group_minutes_target = module.group_minutes_target
    yp.group_minutes_max = module.group_minutes_max
    if module.is_crisis:
        yp.priority = 3
        yp.risk_report_at = risk_report_at
        yp.crisis_ends_on = today + timedelta(weeks=module.max_weeks or 6)
        yp.crisis_extension_reason = None
    else:
        if yp.priority == 3:
            yp.priority = 1
        yp.risk_report_at = None
        yp.crisis_ends_on = None
        yp.crisis_extension_reason = None
    yp.status = CaseStatus.active.value  # a case under review is decided by the new module
    _resolve_flags(session, yp, actor, kinds=(CaseFlagKind.crisis_expired, CaseFlagKind.over_max))
    session.add(
        CaseEvent(
            young_person_id=yp.id, kind=CaseEventKind.module_changed.value, actor_id=actor.id,
            reason=reason, from_module_id=old_module_id, to_module_id=module.id,
        )
    )  # fmt: skip
    flags = _flag_over_max(session, yp)
    if flags:
        excess = flags[0].excess_minutes or 0
        _notify(
            session,
            yp,
            f"{yp.pseudonym}: Nach dem Wechsel in das Modul {module.name} liegen die Gruppenstunden "
            f"{hours_label(excess)} über dem neuen Maximum. Bitte Belegungen prüfen.",
        )
    audit(session, actor, AuditAction.update.value, OBJECT_TYPE, yp.id, case_id=yp.id)
    session.commit()
    return flags


def _flag_over_max(session: Session, yp: YoungPerson) -> list[CaseFlag]:
    minutes = weekly_group_minutes(session, yp.id)
    excess = sum(minutes.values()) - yp.group_minutes_max
    if excess <= 0:
        return []
    flags = [
        CaseFlag(young_person_id=yp.id, kind=CaseFlagKind.over_max.value, placement_id=pid, excess_minutes=excess)
        for pid in sorted(minutes)
    ]
    session.add_all(flags)
    session.flush()
    return flags


def _resolve_flags(session: Session, yp: YoungPerson, actor: Any, *, kinds: tuple[CaseFlagKind, ...]) -> None:
    session.execute(
        update(CaseFlag)
        .where(
            CaseFlag.young_person_id == yp.id,
            CaseFlag.resolved_at.is_(None),
            CaseFlag.kind.in_([k.value for k in kinds]),
        )
        .values(resolved_at=utcnow(), resolved_by=getattr(actor, "id", None))
        .execution_options(synchronize_session=False)
    )


def open_flags(session: Session, young_person_id: int) -> list[CaseFlag]:
    """The unresolved warnings of a case, oldest first."""
    return list(
        session.exec(
            select(CaseFlag)
            .where(CaseFlag.young_person_id == young_person_id, CaseFlag.resolved_at.is_(None))
            .order_by(CaseFlag.created_at, CaseFlag.id)
        ).all()
    )


def resolve_flag(session: Session, *, actor: Any, young_person_id: int, flag_id: int) -> CaseFlag:
    """The caseworker marks a warning as dealt with (e.g. the excess is accepted or resolved)."""
    yp = _load(session, young_person_id, actor)
    flag = session.get(CaseFlag, flag_id)
    if flag is None or flag.young_person_id != yp.id:
        raise LookupError(flag_id)
    if flag.resolved_at is None:
        flag.resolved_at = utcnow()
        flag.resolved_by = actor.id
        audit(session, actor, AuditAction.update.value, OBJECT_TYPE, yp.id, case_id=yp.id)
        session.commit()
    return flag


def extend_crisis(
    session: Session, *, actor: Any, young_person_id: int, until: date | None, reason: str, today: date | None = None
) -> YoungPerson:
    """Extend a crisis intervention beyond its end (only with the ASD's reasoned agreement)."""
    yp = _load(session, young_person_id, actor)
    _require_open(yp)
    today = today or today_berlin()
    module = session.get(Module, yp.module_id)
    if not module.is_crisis or yp.crisis_ends_on is None:
        raise CaseError({"until": "Nur eine laufende Krisenintervention kann verlängert werden."})
    errors: dict[str, str] = {}
    if until is None:
        errors["until"] = "Bitte geben Sie an, bis wann die Krisenintervention verlängert wird."
    elif until <= max(yp.crisis_ends_on, today):
        errors["until"] = "Das neue Ende muss nach dem bisherigen Ende und nach heute liegen."
    elif until > max(yp.crisis_ends_on, today) + MAX_CRISIS_EXTENSION:
        errors["until"] = "Eine Verlängerung ist um höchstens sechs Wochen auf einmal möglich."
    elif yp.approval_end is not None and until > yp.approval_end:
        errors["until"] = "Die Krisenintervention kann nicht über das Ende der Bewilligung hinaus laufen."
    try:
        reason = _reason(reason, "die Verlängerung")
    except CaseError as exc:
        errors.update(exc.field_errors)
    if errors:
        raise CaseError(errors)
    _bump_version(session, yp, None)
    yp.crisis_ends_on = until
    yp.crisis_extension_reason = reason
    yp.status = CaseStatus.active.value
    _resolve_flags(session, yp, actor, kinds=(CaseFlagKind.crisis_expired,))
    session.add(CaseEvent(young_person_id=yp.id, kind=CaseEventKind.crisis_extended.value, actor_id=actor.id,
                          reason=reason))  # fmt: skip
    audit(session, actor, AuditAction.update.value, OBJECT_TYPE, yp.id, case_id=yp.id)
    session.commit()
    return yp


def end_expired_crises(session: Session, today: date | None = None) -> int:
    """Daily housekeeping: every active crisis intervention whose end date has passed goes to
    status `review` (not matched any more; placements untouched), with an open flag and a
    notification to the caseworker. Returns how many cases were switched; commits."""
    today = today or today_berlin()
    expired = session.exec(
        select(YoungPerson)
        .join(Module, Module.id == YoungPerson.module_id)
        .where(
            Module.is_crisis,
            YoungPerson.status == CaseStatus.active.value,
            YoungPerson.crisis_ends_on.is_not(None),
            YoungPerson.crisis_ends_on < today,
        )
        .order_by(YoungPerson.id)
    ).all()
    for yp in expired:
        yp.status = CaseStatus.review.value
        yp.version += 1
        session.add(CaseFlag(young_person_id=yp.id, kind=CaseFlagKind.crisis_expired.value))
        session.add(CaseEvent(young_person_id=yp.id, kind=CaseEventKind.crisis_expired.value))
        audit(session, None, AuditAction.update.value, OBJECT_TYPE, yp.id, case_id=yp.id)
        _notify(
            session,
            yp,
            f"{yp.pseudonym}: Die Krisenintervention ist am {yp.crisis_ends_on:%d.%m.%Y} ausgelaufen. "
            "Bitte Folgemodul wählen, verlängern oder den Fall beenden.",
        )
    session.commit()
    return len(expired)


# --------------------------------------------------------------------------- end


def end_case(
    session: Session, *, actor: Any, young_person_id: int, reason: str, version: int | None = None
) -> YoungPerson:
    """End the help: the case becomes `ended`, its active placements end (seats freed) with the
    reason, open requests are cancelled and open flags resolved."""
    yp = _load(session, young_person_id, actor)
    _require_open(yp)
    reason = _reason(reason, "das Ende der Hilfe")
    _bump_version(session, yp, version)
    now = utcnow()
    placements = session.exec(
        select(Placement).where(
            Placement.young_person_id == yp.id,
            Placement.status.in_([s.value for s in ACTIVE_PLACEMENT_STATUSES]),
        )
    ).all()
    for placement in placements:
        if placement.status in {s.value for s in SEAT_HOLDING_STATUSES}:
            seats.release_seat(session, placement.offer_id)
        session.add(PlacementEvent(placement_id=placement.id, from_status=placement.status,
                                   to_status=PlacementStatus.ended.value, actor_id=actor.id,
                                   reason=f"Hilfe beendet: {reason}"))  # fmt: skip
        placement.status = PlacementStatus.ended.value
        placement.ended_at = now
        placement.end_reason = f"Hilfe beendet: {reason}"
        placement.version += 1
        _notify_host(session, yp, placement)
    session.execute(
        update(PlacementRequest)
        .where(
            PlacementRequest.young_person_id == yp.id,
            PlacementRequest.status.in_((RequestStatus.open.value, RequestStatus.waiting.value)),
        )
        .values(status=RequestStatus.cancelled.value, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    _resolve_flags(session, yp, actor, kinds=tuple(CaseFlagKind))
    yp.status = CaseStatus.ended.value
    yp.ended_at = now
    session.add(CaseEvent(young_person_id=yp.id, kind=CaseEventKind.ended.value, actor_id=actor.id, reason=reason))
    audit(session, actor, AuditAction.update.value, OBJECT_TYPE, yp.id, case_id=yp.id)
    session.commit()
    return yp


def audit_cases(
    session: Session,
    user: Any,
    young_person_ids: list[int],
    *,
    action: str = AuditAction.view.value,
    object_type: str = OBJECT_TYPE,
) -> None:
    """One audit event per case shown (or exported) to `user`, committed. Lists are audited
    per listed case, so "who saw case X" is answered by one query on `case_id`."""
    for yp_id in young_person_ids:
        audit(session, user, action, object_type, yp_id, case_id=yp_id)
    session.commit()


def audit_placement_members(session: Session, user: Any, placement_ids: list[int], *, object_type: str,
                            action: str = AuditAction.view.value) -> None:
    """`audit_cases` for the young people behind placements (member lists of the hosting provider)."""
    if not placement_ids:
        return
    ids = session.exec(select(Placement.young_person_id).where(Placement.id.in_(placement_ids))).all()
    audit_cases(session, user, sorted(set(ids)), action=action, object_type=object_type)


def _notify_host(session: Session, yp: YoungPerson, placement: Placement) -> None:
    """The hosting provider's coordinators learn that a seat in their group is free again (no case data)."""
    from . import notify
    from .placements import coordinators_of

    offer = session.get(GroupOffer, placement.offer_id)
    notify.notify(
        session,
        users=coordinators_of(session, offer.provider_id),
        text=f"Die Belegung von {yp.pseudonym} in „{offer.title}“ wurde beendet (Hilfe beendet).",
        subject=f"Gruppenbörse: Belegung beendet ({yp.pseudonym})",
    )


def case_history(session: Session, young_person_id: int) -> list[CaseEvent]:
    """The reasoned steps of a case, newest first."""
    return list(
        session.exec(
            select(CaseEvent).where(CaseEvent.young_person_id == young_person_id).order_by(CaseEvent.at.desc())
        ).all()
    )


def placements_of(session: Session, young_person_id: int) -> list[tuple[Placement, GroupOffer]]:
    """Every placement of the young person with its group, newest first (for the case page)."""
    return list(
        session.exec(
            select(Placement, GroupOffer)
            .join(GroupOffer, GroupOffer.id == Placement.offer_id)
            .where(Placement.young_person_id == young_person_id)
            .order_by(Placement.created_at.desc(), Placement.id.desc())
        ).all()
    )
