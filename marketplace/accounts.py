"""Accounts (Benutzerkonten): authentication with lock-out, password change, session invalidation.

Plain functions on a SQLModel session; the web layer (marketplace/web/auth.py) only parses
input and renders. Every login attempt is stored (`LoginAttempt`, also the basis of the
per-address limit); logins, logouts and password changes are audited (`AuditEvent`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from .audit import audit
from .models import AuditAction, LoginAttempt, User
from .passwords import hash_password, needs_rehash, verify_password
from .timeutil import utcnow

MIN_PASSWORD_LENGTH = 10

# A fixed argon2id hash so that an unknown e-mail costs as much time as a wrong password.
_DUMMY_HASH: str | None = None


class LoginOutcome(enum.Enum):
    """Result of `authenticate`."""

    OK = "ok"
    INVALID = "invalid"  # unknown e-mail, wrong password or deactivated account (not told apart)
    LOCKED = "locked"  # this account had too many failures: try again later
    IP_BLOCKED = "ip_blocked"  # this address had too many failures: try again later


@dataclass(frozen=True)
class LoginPolicy:
    """Throttling limits (from the config: LOGIN_MAX_FAILURES, LOGIN_LOCK_MINUTES, LOGIN_IP_*)."""

    max_failures: int = 5
    lock_minutes: int = 15
    ip_max_failures: int = 30
    ip_window_minutes: int = 15


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None


def is_locked(user: User, now: datetime | None = None) -> bool:
    """True while the account's lock-out (Sperre nach Fehlversuchen) lasts."""
    now = _utc(now or utcnow())
    locked_until = _utc(user.locked_until)
    return locked_until is not None and locked_until > now


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)  # the database stores UTC


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this e-mail address (stored lower-case), compared case-insensitively."""
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def recent_ip_failures(session: Session, ip: str, since: datetime) -> int:
    """Failed logins from `ip` since `since` (LoginAttempt rows)."""
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.ip == ip, LoginAttempt.success.is_(False), LoginAttempt.at >= since)
    )
    return int(session.exec(query).one())


def _burn_time(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("dummy-password-for-timing")
    verify_password(_DUMMY_HASH, password)


def authenticate(session: Session, email: str, password: str, ip: str, policy: LoginPolicy) -> LoginResult:
    """Check e-mail and password with lock-out per account and per address; rehash outdated hashes.

    Every attempt is stored as a `LoginAttempt`; a success is audited. Commits the session,
    because failure counters must persist although the login fails.
    """
    now = utcnow()
    email = email.strip().lower()
    if recent_ip_failures(session, ip, now - timedelta(minutes=policy.ip_window_minutes)) >= (policy.ip_max_failures):
        return LoginResult(LoginOutcome.IP_BLOCKED)
    user = find_user_by_email(session, email)
    result = _check(session, user, password, now, policy)
    session.add(LoginAttempt(at=now, email=email, ip=ip, success=result.outcome is LoginOutcome.OK))
    session.commit()
    return result


def _check(session: Session, user: User | None, password: str, now: datetime, policy: LoginPolicy) -> LoginResult:
    if user is None:
        _burn_time(password)
        return LoginResult(LoginOutcome.INVALID)
    if is_locked(user, now):
        return LoginResult(LoginOutcome.LOCKED, user)
    if not verify_password(user.password_hash, password) or not user.is_active:
        user.failed_logins = (user.failed_logins or 0) + 1
        session.add(user)
        if user.failed_logins >= policy.max_failures:
            user.locked_until = now + timedelta(minutes=policy.lock_minutes)
            user.failed_logins = 0
            return LoginResult(LoginOutcome.LOCKED, user)
        return LoginResult(LoginOutcome.INVALID, user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    audit(session, user, AuditAction.login, "user", user.id)
    return LoginResult(LoginOutcome.OK, user)


def end_all_sessions(session: Session, user: User) -> None:
    """Invalidate every session of `user` on the server by bumping its session version."""
    user.session_version = (user.session_version or 0) + 1
    session.add(user)


def logout(session: Session, user: User) -> None:
    """Log out everywhere: a replayed cookie of this or any other session is rejected afterwards."""
    end_all_sessions(session, user)
    audit(session, user, AuditAction.logout, "user", user.id)
    session.commit()


def change_password(session: Session, user: User, current: str, new: str) -> bool:
    """Set a new password if `current` is right; ends all other sessions. Returns False when wrong."""
    if not verify_password(user.password_hash, current):
        return False
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    end_all_sessions(session, user)
    audit(session, user, AuditAction.update, "user_password", user.id)
    session.commit()
    return True
