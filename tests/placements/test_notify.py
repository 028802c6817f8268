"""Notifications: in-app rows and e-mail through a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import logging
import socket
import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from marketplace import notify, placements
from marketplace.models import Notification

from .conftest import build_world


class Sink:
    """Collects every message the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], object]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def wait_for(self, count: int, seconds: float = 5.0) -> list[tuple[list[str], object]]:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def sink(smtp_port: int):
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def app_overrides(smtp_port: int) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "MAIL_FROM": "gruppenboerse@jugendamt.example"}


def test_confirmation_mails_the_host_coordinator_in_german(app, session, sink) -> None:
    world = build_world(session)
    with app.app_context():
        result = placements.request_placement(session, young_person_id=world.person.id, actor=world.caseworker)
        placements.confirm_option(
            session, request_id=result.request.id, offer_ids=[world.host_offer.id], actor=world.caseworker
        )
    ((recipients, message),) = sink.wait_for(1)
    assert recipients == [world.host_coordinator.email]
    assert message["From"] == "gruppenboerse@jugendamt.example"
    assert message["Subject"] == "Gruppenbörse: neue Belegung in „Sport und Teamgeist“"
    body = message.get_content()
    assert f"Neue Belegung: {world.person.pseudonym} in „Sport und Teamgeist“" in body
    assert "bitte annehmen oder ablehnen" in body and "Guten Tag" in body
    assert world.person.case_reference not in body  # pseudonymous: no case data
    assert str(world.person.birth_year) not in body


def test_accept_and_decline_mail_the_caseworker_without_the_reason(app, session, sink) -> None:
    world = build_world(session)
    with app.app_context():
        result = placements.request_placement(session, young_person_id=world.person.id, actor=world.caseworker)
        first, second = placements.confirm_option(
            session,
            request_id=result.request.id,
            offer_ids=[world.own_offer.id, world.host_offer.id],
            actor=world.caseworker,
        )
        sink.wait_for(2)
        placements.accept_placement(session, placement_id=second.id, actor=world.host_coordinator)
        placements.decline_placement(
            session, placement_id=first.id, actor=world.lead_coordinator, reason="Vertrauliche Begründung"
        )
    messages = sink.wait_for(4)
    to_caseworker = [m for rcpt, m in messages if rcpt == [world.caseworker.email]]
    assert [m["Subject"] for m in to_caseworker] == [
        f"Gruppenbörse: Belegung angenommen ({world.person.pseudonym})",
        f"Gruppenbörse: Belegung abgelehnt ({world.person.pseudonym})",
    ]
    assert "Vertrauliche Begründung" not in to_caseworker[1].get_content()
    in_app = session.exec(select(Notification).where(Notification.user_id == world.caseworker.id)).all()
    assert any("Vertrauliche Begründung" in n.text for n in in_app)  # the reason stays in the app


def test_no_mail_without_smtp_host(app, session, sink) -> None:
    app.config["SMTP_HOST"] = ""
    world = build_world(session)
    with app.app_context():
        result = placements.request_placement(session, young_person_id=world.person.id, actor=world.caseworker)
        placements.confirm_option(
            session, request_id=result.request.id, offer_ids=[world.host_offer.id], actor=world.caseworker
        )
    assert sink.wait_for(1, seconds=0.5) == []
    assert session.exec(select(Notification).where(Notification.user_id == world.host_coordinator.id)).one()


def test_a_mail_failure_never_breaks_the_transaction(app, session, caplog) -> None:
    app.config["SMTP_PORT"] = free_port()  # nobody listens there
    world = build_world(session)
    with app.app_context(), caplog.at_level(logging.WARNING, logger="marketplace.notify"):
        result = placements.request_placement(session, young_person_id=world.person.id, actor=world.caseworker)
        (placement,) = placements.confirm_option(
            session, request_id=result.request.id, offer_ids=[world.host_offer.id], actor=world.caseworker
        )
    session.expire_all()
    assert placement.status == "confirmed"
    assert "nicht versandt" in caplog.text and world.host_coordinator.email in caplog.text


def test_rolled_back_change_mails_nobody(app, session, sink) -> None:
    world = build_world(session)
    with app.app_context():
        notify.notify(session, users=[world.caseworker], text="Test")
        session.rollback()
        session.commit()
    assert sink.wait_for(1, seconds=0.5) == []


def test_unread_count_and_mark_read(app, session) -> None:
    world = build_world(session)
    notify.notify(session, users=[world.caseworker, world.caseworker], text="Eins")
    notify.notify(session, users=[world.caseworker], text="Zwei")
    notify.notify(session, users=[world.host_coordinator], text="Fremd")
    session.commit()
    assert notify.unread_count(session, world.caseworker.id) == 2  # duplicates are notified once
    first = notify.notifications_for(session, world.caseworker.id)[0]
    foreign = notify.notifications_for(session, world.host_coordinator.id)[0]
    assert notify.mark_read(session, user_id=world.caseworker.id, notification_id=foreign.id) == 0
    assert notify.mark_read(session, user_id=world.caseworker.id, notification_id=first.id) == 1
    assert notify.unread_count(session, world.caseworker.id) == 1
    assert notify.mark_read(session, user_id=world.caseworker.id) == 1
    assert notify.unread_count(session, world.caseworker.id) == 0
    assert notify.unread_count(session, world.host_coordinator.id) == 1
