"""Cross-cutting records: notifications, audit trail, login attempts, API tokens."""

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, Index, event
from sqlmodel import Field, SQLModel

from .base import AuditAction, TokenScope, one_of, utc_field


class Notification(SQLModel, table=True):
    """A message for one user (Benachrichtigung), e.g. "Neuer Belegungsvorschlag"; German text."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    text: str
    link: str | None = None
    created_at: datetime = utc_field(now=True)
    read_at: datetime | None = utc_field()


class AuditEvent(SQLModel, table=True):
    """Who did what to which record, when (Protokoll). Never stores content, only references.

    `case_id` is the young person concerned, kept as a plain number (no foreign key)
    so the trail survives the record's deletion.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        one_of("action", AuditAction, "action_valid"),
        Index("ix_audit_event_object", "object_type", "object_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(now=True, index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL", index=True)
    action: str  # an AuditAction value
    object_type: str
    object_id: str | None = None
    case_id: int | None = Field(default=None, index=True)


class AuditRowImmutable(RuntimeError):
    """Raised when code tries to change or delete an audit row (the trail is append-only)."""


def _refuse_audit_change(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise AuditRowImmutable(f"audit_event {target.id} is append-only: rows cannot be changed or deleted")


# Append-only, twice: the ORM refuses here, the database refuses by trigger (migration 0004,
# also created with the table by `metadata.create_all` below), which covers bulk statements too.
event.listen(AuditEvent, "before_update", _refuse_audit_change)
event.listen(AuditEvent, "before_delete", _refuse_audit_change)

#: SQLite triggers that make audit_event append-only (same text as in migration 0004).
AUDIT_SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
    f"BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
    for verb in ("UPDATE", "DELETE")
)
#: PostgreSQL: one trigger function refusing row updates and deletes, and TRUNCATE.
AUDIT_POSTGRES_DDL = (
    "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$",
    "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
)
for _sql in AUDIT_SQLITE_TRIGGERS:
    event.listen(AuditEvent.__table__, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in AUDIT_POSTGRES_DDL:
    event.listen(AuditEvent.__table__, "after_create", DDL(_sql).execute_if(dialect="postgresql"))


class LoginAttempt(SQLModel, table=True):
    """One login attempt, for throttling by address and account (Anmeldeversuch)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(now=True)
    email: str  # as typed, lower-cased; may not belong to any account
    ip: str | None = None
    success: bool = Field(default=False)


class ApiToken(SQLModel, table=True):
    """A personal API token (API-Schlüssel); only its hash is stored."""

    __tablename__ = "api_token"
    __table_args__ = (one_of("scope", TokenScope, "scope_valid"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE", index=True)
    name: str
    token_hash: str = Field(unique=True)
    scope: str = Field(default=TokenScope.read.value)
    created_at: datetime = utc_field(now=True)
    last_used_at: datetime | None = utc_field()
    revoked_at: datetime | None = utc_field()
