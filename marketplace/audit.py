"""Audit trail (Protokollierung): who did what to which object, when. Never any content.

`audit()` only adds the row to the session; it is committed with the change it records,
so a change and its audit event stand or fall together.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from .models import AuditEvent
from .timeutil import utcnow


def audit(
    session: Session,
    user: Any,
    action: str,
    object_type: str,
    object_id: int | str | None,
    case_id: int | None = None,
) -> AuditEvent:
    """Record `action` (e.g. "login", "offer.certify") on an object; `user` may be None (failed login)."""
    user_id = getattr(user, "id", None) if user is not None else None
    event = AuditEvent(
        at=utcnow(),
        user_id=user_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        case_id=case_id,
    )
    session.add(event)
    return event
