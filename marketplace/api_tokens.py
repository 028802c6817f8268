"""Personal API tokens (API-Zugänge): create, list, revoke, and authenticate a request by one.

A token is `gb_` + a random 32-byte URL-safe secret. Only its SHA-256 hash is stored
(`ApiToken.token_hash`); the secret is shown exactly once, right after creation. A token acts
as its user (same role, provider, team and record rules as in the web UI) with a scope:
`read` (GET only) or `read_write`. Revoked tokens and tokens of deactivated users are refused.
Creation and revocation are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from .audit import audit
from .models import ApiToken, AuditAction, TokenScope, User
from .timeutil import utcnow

TOKEN_PREFIX = "gb_"
MAX_NAME = 80
#: Active tokens per user: enough for a few systems, few enough to keep an overview.
MAX_ACTIVE_TOKENS = 20
#: `last_used_at` is written at most this often per token (no write on every request).
LAST_USED_RESOLUTION = timedelta(minutes=1)

SCOPE_LABELS = {TokenScope.read.value: "nur lesen", TokenScope.read_write.value: "lesen und schreiben"}


class TokenError(ValueError):
    """Invalid input for a token: German messages by field."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in field_errors.items()))
        self.field_errors = field_errors


@dataclass(frozen=True)
class NewToken:
    """A freshly created token: the row and the secret (never stored, shown once)."""

    token: ApiToken
    secret: str


def hash_secret(secret: str) -> str:
    """The stored form of a token secret (SHA-256, hex)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session: Session, *, user: Any, name: str | None, scope: str | None) -> NewToken:
    """A new token for `user` (any logged-in role); commits. The secret is returned only here."""
    name = (name or "").replace("\x00", "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Bitte geben Sie dem Zugang einen Namen (z. B. das Fachverfahren, das ihn nutzt)."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Der Name darf höchstens {MAX_NAME} Zeichen lang sein."
    if scope not in SCOPE_LABELS:
        errors["scope"] = "Bitte wählen Sie „nur lesen“ oder „lesen und schreiben“."
    if len(active_tokens(session, user_id=user.id)) >= MAX_ACTIVE_TOKENS:
        errors["name"] = (f"Sie haben bereits {MAX_ACTIVE_TOKENS} aktive Zugänge. "
                          "Bitte widerrufen Sie zuerst einen, den Sie nicht mehr brauchen.")
    if errors:
        raise TokenError(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(secret), scope=scope, created_at=utcnow())
    session.add(token)
    session.flush()
    audit(session, user, AuditAction.create, "api_token", token.id)
    session.commit()
    return NewToken(token=token, secret=secret)


def active_tokens(session: Session, *, user_id: int) -> list[ApiToken]:
    """The user's tokens that are not revoked, newest first."""
    return list(session.exec(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all())


def tokens_of(session: Session, *, user_id: int) -> list[ApiToken]:
    """All the user's tokens (revoked ones too, for the record), newest first."""
    return list(session.exec(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all())


def revoke_token(session: Session, *, user: Any, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (at once, for good); commits. LookupError for others' tokens."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise LookupError(token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        audit(session, user, AuditAction.delete, "api_token", token.id)
        session.commit()
    return token


def authenticate(session: Session, secret: str | None, *, now: datetime | None = None) -> tuple[ApiToken, User] | None:
    """The token and its user for a presented secret, or None (unknown, revoked, user inactive).

    The lookup is by hash (the secret itself is never compared as text); the final
    comparison is constant-time. Records `last_used_at` (at most once a minute).
    """
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    digest = hash_secret(secret)
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest) or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.add(token)
        session.commit()
    return token, user
