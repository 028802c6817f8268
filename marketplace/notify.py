"""Notifications (Benachrichtigungen): in-app messages and e-mail through a configurable SMTP server.

`notify` adds one `Notification` row per recipient to the caller's session, so the
message stands or falls with the change it reports. E-mails are queued on the session
and sent only *after* the commit (a rolled-back change mails nobody); a mail failure is
logged and never breaks anything. No e-mail is sent when `SMTP_HOST` is empty.

Mails are pseudonymous by design: callers pass texts that name at most the young
person's pseudonym and the group's title, never case data.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, func, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from .models import Notification, User
from .timeutil import utcnow

log = logging.getLogger(__name__)

#: Key in `Session.info` under which mails wait for the commit.
OUTBOX_KEY = "marketplace_outbox"
#: Key in `Session.info` that may hold `MailSettings` (CLI, scheduler, tests without an app).
SETTINGS_KEY = "marketplace_mail_settings"

MAIL_FOOTER = (
    "Bitte melden Sie sich in der Gruppenbörse an, um die Einzelheiten zu sehen.\n\n"
    "Diese Nachricht wurde automatisch versandt. Sie enthält bewusst keine Falldaten, "
    "nur das Pseudonym und den Gruppentitel."
)


@dataclass(frozen=True)
class MailSettings:
    """Where and as whom to send: config SMTP_HOST, SMTP_PORT, MAIL_FROM (SMTP_TIMEOUT seconds)."""

    host: str
    port: int = 25
    sender: str = "gruppenboerse@localhost"
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings | None:
        """Settings from an app config, or None when SMTP_HOST is empty (e-mail switched off)."""
        host = (config.get("SMTP_HOST") or "").strip()
        if not host:
            return None
        return cls(
            host=host,
            port=int(config.get("SMTP_PORT") or 25),
            sender=config.get("MAIL_FROM") or "gruppenboerse@localhost",
            timeout=float(config.get("SMTP_TIMEOUT") or 10.0),
        )


@dataclass(frozen=True)
class Mail:
    """One e-mail to one recipient (plain German text)."""

    to: str
    subject: str
    body: str


def mail_settings(session: Session) -> MailSettings | None:
    """The settings for `session`: its own (`Session.info`) or the current app's config."""
    settings = session.info.get(SETTINGS_KEY)
    if settings is not None:
        return settings
    if has_app_context():
        return MailSettings.from_config(current_app.config)
    return None


def notify(
    session: Session,
    *,
    users: Iterable[User],
    text: str,
    link: str | None = None,
    subject: str | None = None,
    mail_text: str | None = None,
) -> list[Notification]:
    """Tell `users` about something: an in-app message each, and an e-mail after the commit.

    `text` is the in-app message; `mail_text` (default `text`) the e-mail's body before the
    standard footer. Inactive users and users without an address get no e-mail. Duplicate
    users are notified once. Returns the added (not yet committed) notifications.
    """
    settings = mail_settings(session)
    seen: set[int] = set()
    added = []
    for user in users:
        if user is None or user.id in seen:
            continue
        seen.add(user.id)
        row = Notification(user_id=user.id, text=text, link=link, created_at=utcnow())
        session.add(row)
        added.append(row)
        if settings is not None and user.is_active and user.email:
            body = f"Guten Tag {user.display_name},\n\n{mail_text or text}\n\n{MAIL_FOOTER}\n"
            mail = Mail(to=user.email, subject=subject or f"Gruppenbörse: {text}", body=body)
            queue_mail(session, mail, settings)
    return added


def queue_mail(session: Session, mail: Mail, settings: MailSettings | None = None) -> None:
    """Send `mail` when `session` commits (dropped on rollback); without settings nothing is sent."""
    settings = settings or mail_settings(session)
    if settings is not None:
        session.info.setdefault(OUTBOX_KEY, []).append((mail, settings))


def send_mail(settings: MailSettings, mail: Mail) -> bool:
    """Deliver one mail over SMTP; False (and a log entry) on any failure, never an exception."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or "localhost")
    message.set_content(mail.body, charset="utf-8")
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("E-Mail an %s nicht versandt (%s:%s): %s", mail.to, settings.host, settings.port, exc)
        return False
    return True


@event.listens_for(OrmSession, "after_commit")
def _send_outbox(session: OrmSession) -> None:
    outbox = session.info.pop(OUTBOX_KEY, None)
    for mail, settings in outbox or ():
        send_mail(settings, mail)


@event.listens_for(OrmSession, "after_rollback")
def _drop_outbox(session: OrmSession) -> None:
    session.info.pop(OUTBOX_KEY, None)


# --------------------------------------------------------------------------- reading


def unread_count(session: Session, user_id: int) -> int:
    """How many notifications of `user_id` are unread."""
    query = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(session.exec(query).one())


def notifications_for(session: Session, user_id: int, *, limit: int = 100) -> list[Notification]:
    """The newest notifications of `user_id`, unread ones first."""
    query = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


def mark_read(session: Session, *, user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or, without `notification_id`, every) notification of `user_id` read; commits.

    Returns how many changed. Someone else's notification is never touched (0).
    """
    statement = (
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    changed = session.execute(statement).rowcount
    session.commit()
    return changed
