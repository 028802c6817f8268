"""Administration (Verwaltung): user accounts, roles, providers and ASD teams.

Plain use cases on a SQLModel session; the web layer (marketplace/web/admin.py) only parses and
renders. Every function validates completely before it writes, writes the change and its audit
event together and commits; a bad input raises `AdminError` with German messages per field and
leaves nothing half-written.

Rules: a coordinator is bound to one active provider, a caseworker to one team, planners and
admins to neither. An administrator cannot deactivate or demote themselves, and the last active
administrator cannot be removed. Deactivating, reactivating, a role or binding change and a
password reset end every session of the account (`session_version`). A password set by an
administrator must be replaced by the user at the next login (`must_change_password`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from .accounts import MIN_PASSWORD_LENGTH, end_all_sessions, find_user_by_email
from .audit import audit
from .models import AuditAction, Provider, Role, Sozialraum, Team, User
from .passwords import hash_password
from .timeutil import utcnow

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 200


class AdminError(ValueError):
    """Bad input for an administrative change: German messages by field name ("form" for the whole form)."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__("; ".join(field_errors.values()))
        self.field_errors = field_errors


@dataclass
class UserFields:
    """The editable data of an account (Benutzerkonto)."""

    email: str
    display_name: str
    role: str
    provider_id: int | None = None
    team_id: int | None = None


@dataclass
class ProviderFields:
    """The editable data of a provider (Träger)."""

    name: str
    short_name: str
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    address: str = ""
    allows_co_use: bool = False
    active: bool = True


# --------------------------------------------------------------------------- users


def _role(value: Any) -> str:
    return getattr(value, "value", value)


def _check_password(password: str | None, errors: dict[str, str], field: str = "password") -> None:
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        errors[field] = f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen lang sein."
    elif len(password) > 1024:
        errors[field] = "Das Passwort ist zu lang."


def _clean_user(session: Session, fields: UserFields, *, user_id: int | None) -> UserFields:
    """Validated, normalised fields (binding cleared where the role has none); raises AdminError."""
    errors: dict[str, str] = {}
    email = (fields.email or "").strip().lower()
    name = (fields.display_name or "").strip()
    role = _role(fields.role)
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        errors["email"] = "Bitte geben Sie eine gültige E-Mail-Adresse ein."
    else:
        other = find_user_by_email(session, email)
        if other is not None and other.id != user_id:
            errors["email"] = "Diese E-Mail-Adresse gehört schon zu einem anderen Konto."
    if not name:
        errors["display_name"] = "Bitte geben Sie einen Namen ein."
    elif len(name) > MAX_TEXT:
        errors["display_name"] = f"Der Name darf höchstens {MAX_TEXT} Zeichen lang sein."
    provider_id = team_id = None
    if role not in {r.value for r in Role}:
        errors["role"] = "Bitte wählen Sie eine Rolle."
    elif role == Role.coordinator.value:
        provider = session.get(Provider, fields.provider_id) if fields.provider_id else None
        if provider is None:
            errors["provider_id"] = "Koordinationskräfte gehören zu einem Träger: bitte einen Träger wählen."
        elif not provider.active:
            errors["provider_id"] = "Dieser Träger ist deaktiviert."
        else:
            provider_id = provider.id
    elif role == Role.caseworker.value:
        team = session.get(Team, fields.team_id) if fields.team_id else None
        if team is None:
            errors["team_id"] = "ASD-Fachkräfte gehören zu einem Team: bitte ein Team wählen."
        else:
            team_id = team.id
    if errors:
        raise AdminError(errors)
    return UserFields(email=email, display_name=name, role=role, provider_id=provider_id, team_id=team_id)


def user_rule_errors(session: Session, fields: UserFields, *, user_id: int | None) -> dict[str, str]:
    """The rule messages for `fields` without writing anything (to show them all at once)."""
    try:
        _clean_user(session, fields, user_id=user_id)
    except AdminError as exc:
        return dict(exc.field_errors)
    return {}


def _commit(session: Session, conflict: dict[str, str]) -> None:
    """Commit; a uniqueness race (two admins at once) becomes a field message, nothing is written."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AdminError(conflict) from None


def create_user(session: Session, *, actor: Any, fields: UserFields, password: str) -> User:
    """Create an account with an initial password that the user must change at the first login."""
    errors: dict[str, str] = {}
    try:
        clean = _clean_user(session, fields, user_id=None)
    except AdminError as exc:
        errors = dict(exc.field_errors)
    _check_password(password, errors)
    if errors:
        raise AdminError(errors)
    user = User(email=clean.email, display_name=clean.display_name, role=clean.role,
                provider_id=clean.provider_id, team_id=clean.team_id,
                password_hash=hash_password(password), must_change_password=True)
    session.add(user)
    session.flush()
    audit(session, actor, AuditAction.create.value, "user", user.id)
    _commit(session, {"email": "Diese E-Mail-Adresse gehört schon zu einem anderen Konto."})
    return user


def _load_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(user_id)
    return user


def _other_active_admins(session: Session, user_id: int) -> int:
    query = select(func.count()).select_from(User).where(
        User.role == Role.admin.value, User.is_active.is_(True), User.id != user_id
    )
    return int(session.exec(query).one())


def _guard_admin_removal(session: Session, actor: Any, user: User, what: str) -> None:
    """An admin cannot remove themselves, and the last active admin stays."""
    if user.id == getattr(actor, "id", None):
        raise AdminError({"form": f"Sie können {what} nicht für Ihr eigenes Konto vornehmen."})
    if user.role == Role.admin.value and user.is_active and _other_active_admins(session, user.id) == 0:
        raise AdminError({"form": "Das ist das letzte aktive Administrationskonto: Es muss erhalten bleiben."})


def update_user(session: Session, *, actor: Any, user_id: int, fields: UserFields) -> User:
    """Change name, e-mail, role and binding. A new role, binding or e-mail ends the account's sessions."""
    user = _load_user(session, user_id)
    clean = _clean_user(session, fields, user_id=user.id)
    if clean.role != user.role:
        if user.role == Role.admin.value:
            _guard_admin_removal(session, actor, user, "diese Rollenänderung")
        elif user.id == getattr(actor, "id", None):
            raise AdminError({"role": "Ihre eigene Rolle können Sie nicht ändern."})
    access_changed = (clean.role, clean.provider_id, clean.team_id, clean.email) != (
        user.role, user.provider_id, user.team_id, user.email)
    user.email, user.display_name, user.role = clean.email, clean.display_name, clean.role
    user.provider_id, user.team_id = clean.provider_id, clean.team_id
    if access_changed:
        end_all_sessions(session, user)
    session.add(user)
    audit(session, actor, AuditAction.update.value, "user_role" if access_changed else "user", user.id)
    _commit(session, {"email": "Diese E-Mail-Adresse gehört schon zu einem anderen Konto."})
    return user


def set_user_active(session: Session, *, actor: Any, user_id: int, active: bool) -> User:
    """Deactivate (sessions end at once, login refused) or reactivate an account."""
    user = _load_user(session, user_id)
    if user.is_active == active:
        return user
    if not active:
        _guard_admin_removal(session, actor, user, "die Deaktivierung")
    user.is_active = active
    if active:
        user.failed_logins, user.locked_until = 0, None
    end_all_sessions(session, user)
    session.add(user)
    audit(session, actor, AuditAction.update.value, "user_activated" if active else "user_deactivated", user.id)
    _commit(session, {"form": "Die Änderung konnte nicht gespeichert werden."})
    return user


def reset_password(session: Session, *, actor: Any, user_id: int, password: str) -> User:
    """Set a new password chosen by the admin: sessions end, a lock-out is lifted, the user must change it."""
    user = _load_user(session, user_id)
    if user.id == getattr(actor, "id", None):
        raise AdminError({"form": "Ihr eigenes Passwort ändern Sie über „Passwort ändern“ im Benutzermenü."})
    errors: dict[str, str] = {}
    _check_password(password, errors)
    if errors:
        raise AdminError(errors)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = True
    user.failed_logins, user.locked_until = 0, None
    end_all_sessions(session, user)
    session.add(user)
    audit(session, actor, AuditAction.update.value, "user_password_reset", user.id)
    _commit(session, {"form": "Die Änderung konnte nicht gespeichert werden."})
    return user


def list_users(session: Session, *, role: str | None = None, query: str = "",
               include_inactive: bool = True) -> list[tuple[User, Provider | None, Team | None]]:
    """Accounts with their provider and team, by role and name; optionally filtered."""
    statement = (
        select(User, Provider, Team)
        .outerjoin(Provider, Provider.id == User.provider_id)
        .outerjoin(Team, Team.id == User.team_id)
    )
    if role in {r.value for r in Role}:
        statement = statement.where(User.role == role)
    if query:
        like = f"%{query.lower()}%"
        statement = statement.where(func.lower(User.display_name).like(like) | User.email.like(like))
    if not include_inactive:
        statement = statement.where(User.is_active.is_(True))
    return list(session.exec(statement.order_by(User.is_active.desc(), User.role, User.display_name)).all())


# --------------------------------------------------------------------------- providers and teams


def _clean_provider(session: Session, fields: ProviderFields, *, provider_id: int | None) -> ProviderFields:
    errors: dict[str, str] = {}
    clean = ProviderFields(
        name=(fields.name or "").strip(), short_name=(fields.short_name or "").strip(),
        contact_name=(fields.contact_name or "").strip(), contact_email=(fields.contact_email or "").strip().lower(),
        contact_phone=(fields.contact_phone or "").strip(), address=(fields.address or "").strip(),
        allows_co_use=bool(fields.allows_co_use), active=bool(fields.active),
    )
    for key, label, limit in (("name", "Namen", MAX_TEXT), ("short_name", "Kurznamen", 20)):
        value = getattr(clean, key)
        if not value:
            errors[key] = f"Bitte geben Sie einen {label} ein."
        elif len(value) > limit:
            errors[key] = f"Höchstens {limit} Zeichen."
        else:
            column = getattr(Provider, key)
            other = session.exec(select(Provider).where(func.lower(column) == value.lower())).first()
            if other is not None and other.id != provider_id:
                errors[key] = f"Diesen {label} trägt schon ein anderer Träger."
    if clean.contact_email and not EMAIL_PATTERN.match(clean.contact_email):
        errors["contact_email"] = "Bitte geben Sie eine gültige E-Mail-Adresse ein (oder lassen Sie das Feld leer)."
    for key in ("contact_name", "contact_phone", "address", "contact_email"):
        if len(getattr(clean, key)) > MAX_TEXT:
            errors[key] = f"Höchstens {MAX_TEXT} Zeichen."
    if errors:
        raise AdminError(errors)
    return clean


_PROVIDER_CONFLICT = {"name": "Diesen Namen trägt schon ein anderer Träger."}


def create_provider(session: Session, *, actor: Any, fields: ProviderFields) -> Provider:
    """Register a provider (Träger) with its contact and whether its agreement allows co-use."""
    clean = _clean_provider(session, fields, provider_id=None)
    provider = Provider(**vars(clean))
    session.add(provider)
    session.flush()
    audit(session, actor, AuditAction.create.value, "provider", provider.id)
    _commit(session, _PROVIDER_CONFLICT)
    return provider


def update_provider(session: Session, *, actor: Any, provider_id: int, fields: ProviderFields) -> Provider:
    """Change a provider's data, its co-use flag or whether it is active."""
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise LookupError(provider_id)
    clean = _clean_provider(session, fields, provider_id=provider.id)
    for key, value in vars(clean).items():
        setattr(provider, key, value)
    session.add(provider)
    audit(session, actor, AuditAction.update.value, "provider", provider.id)
    _commit(session, _PROVIDER_CONFLICT)
    return provider


def list_providers(session: Session) -> list[tuple[Provider, int]]:
    """Providers with their number of active coordinator accounts."""
    counts = dict(session.exec(
        select(User.provider_id, func.count()).where(User.is_active.is_(True), User.provider_id.is_not(None))
        .group_by(User.provider_id)
    ).all())
    providers = session.exec(select(Provider).order_by(Provider.active.desc(), Provider.name)).all()
    return [(p, counts.get(p.id, 0)) for p in providers]


def create_team(session: Session, *, actor: Any, name: str, sozialraum_id: int | None) -> Team:
    """Add an ASD team, optionally responsible for one Sozialraum."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Bitte geben Sie einen Namen ein."
    elif len(name) > MAX_TEXT:
        errors["name"] = f"Höchstens {MAX_TEXT} Zeichen."
    elif session.exec(select(Team).where(func.lower(Team.name) == name.lower())).first() is not None:
        errors["name"] = "Ein Team mit diesem Namen gibt es schon."
    if sozialraum_id is not None and session.get(Sozialraum, sozialraum_id) is None:
        errors["sozialraum_id"] = "Bitte wählen Sie einen Sozialraum aus der Liste."
    if errors:
        raise AdminError(errors)
    team = Team(name=name, sozialraum_id=sozialraum_id)
    session.add(team)
    session.flush()
    audit(session, actor, AuditAction.create.value, "team", team.id)
    _commit(session, {"name": "Ein Team mit diesem Namen gibt es schon."})
    return team


def list_teams(session: Session) -> list[tuple[Team, Sozialraum | None, int]]:
    """Teams with their Sozialraum and number of active caseworker accounts."""
    counts = dict(session.exec(
        select(User.team_id, func.count()).where(User.is_active.is_(True), User.team_id.is_not(None))
        .group_by(User.team_id)
    ).all())
    rows = session.exec(
        select(Team, Sozialraum).outerjoin(Sozialraum, Sozialraum.id == Team.sozialraum_id).order_by(Team.name)
    ).all()
    return [(team, area, counts.get(team.id, 0)) for team, area in rows]
