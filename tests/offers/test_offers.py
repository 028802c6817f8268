"""Offer use cases: editor input, every lifecycle transition, optimistic locking, housekeeping, history."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from marketplace import offers
from marketplace.models import AuditEvent, GroupOffer, Notification, OfferStatusEvent, Role
from marketplace.offer_input import (
    FormState,
    OfferInput,
    SessionRow,
    SessionSlot,
    check_offer,
    form_state,
    input_as_values,
    parse_euro_cents,
    read_offer_form,
)
from marketplace.offers import OfferAccessError, OfferError
from marketplace.timeutil import utcnow
from tests.factories import make_category, make_municipality, make_offer, make_placement, make_user

TODAY = date(2026, 3, 2)


@pytest.fixture
def world(session: Session) -> dict:
    """A municipality, two categories, a coordinator (with a colleague), a foreign coordinator, a planner."""
    town = make_municipality(session, lat=49.87, lon=8.80)
    make_municipality(session, lat=49.95, lon=8.95)
    cats = [make_category(session, "social_skills"), make_category(session, "sports")]
    coordinator = make_user(session, Role.coordinator)
    colleague = make_user(session, Role.coordinator, provider_id=coordinator.provider_id)
    stranger = make_user(session, Role.coordinator)
    planner = make_user(session, Role.planner)
    session.commit()
    return {"town": town, "cats": cats, "coordinator": coordinator, "colleague": colleague,
            "stranger": stranger, "planner": planner}


def offer_input(world: dict, **overrides) -> OfferInput:
    values = dict(
        title="Soziales Kompetenztraining", municipality_id=world["town"].id, first_date=TODAY,
        seats=8, min_size=3, age_min=10, age_max=14, category_ids=(world["cats"][0].id,),
        sessions=(SessionSlot(0, 16 * 60, 17 * 60 + 30), SessionSlot(3, 15 * 60, 16 * 60)),
        offset_rate_cents=1850,
    )
    values.update(overrides)
    return OfferInput(**values)


def draft(session: Session, world: dict, **overrides) -> GroupOffer:
    return offers.create_offer(session, actor=world["coordinator"], data=offer_input(world, **overrides))


def to_status(session: Session, world: dict, status: str) -> GroupOffer:
    """A fresh offer moved through the legal path to `status`."""
    offer = draft(session, world)
    c, p = world["coordinator"], world["planner"]
    path = {
        "draft": [],
        "submitted": ["submit"],
        "rejected": ["submit", "reject"],
        "certified": ["submit", "certify"],
        "published": ["submit", "certify", "publish"],
        "paused": ["submit", "certify", "publish", "pause"],
        "ended": ["submit", "certify", "publish", "end"],
    }[status]
    for step in path:
        run(session, step, offer, c, p)
    assert offer.status == status
    return offer


def run(session: Session, step: str, offer: GroupOffer, coordinator, planner) -> GroupOffer:
    until = TODAY + timedelta(days=365)
    calls = {
        "submit": lambda: offers.submit_offer(session, actor=coordinator, offer_id=offer.id),
        "certify": lambda: offers.certify_offer(session, actor=planner, offer_id=offer.id, valid_until=until,
                                                today=TODAY),
        "reject": lambda: offers.reject_offer(session, actor=planner, offer_id=offer.id,
                                              reason="Konzept fehlt noch"),
        "publish": lambda: offers.publish_offer(session, actor=coordinator, offer_id=offer.id, today=TODAY),
        "pause": lambda: offers.pause_offer(session, actor=coordinator, offer_id=offer.id, reason="Ferien"),
        "end": lambda: offers.end_offer(session, actor=coordinator, offer_id=offer.id),
    }
    return calls[step]()


# --------------------------------------------------------------------------- create


def test_create_offer_is_a_draft_with_sessions_categories_history_and_audit(session, world):
    offer = draft(session, world)
    assert offer.status == "draft" and offer.provider_id == world["coordinator"].provider_id
    assert [(s.weekday, s.start_minute) for s in offer.sessions] == [(0, 960), (3, 900)]
    assert [c.code for c in offer.categories] == ["social_skills"]
    assert offer.offset_rate_cents == 1850 and offer.lat is None  # municipality centre
    history = offers.offer_state_history(session, offer_id=offer.id)
    assert [(h.from_status, h.to_status) for h in history] == [(None, "draft")]
    assert session.scalars(select(AuditEvent).where(AuditEvent.object_id == str(offer.id))).first()


def test_only_coordinators_create(session, world):
    with pytest.raises(OfferAccessError):
        offers.create_offer(session, actor=world["planner"], data=offer_input(world))


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"title": "  "}, "title", "Titel"),
        ({"age_min": 15, "age_max": 12}, "age_max", "Höchstalter"),
        ({"age_max": 30}, "age_max", "zwischen 0 und 27"),
        ({"age_min": -1}, "age_min", "zwischen 0 und 27"),
        ({"seats": 0}, "seats", "mindestens einen Platz"),
        ({"min_size": 9}, "min_size", "nicht übersteigen"),
        ({"min_size": 0}, "min_size", "mindestens 1"),
        ({"offset_rate_cents": -1}, "offset_rate", "nicht negativ"),
        ({"category_ids": ()}, "categories", "mindestens eine Kategorie"),
        ({"category_ids": (99999,)}, "categories", "aus der Liste"),
        ({"sessions": ()}, "sessions", "mindestens einen"),
        ({"sessions": (SessionSlot(0, 16 * 60, 16 * 60),)}, "sessions-0", "nach dem Beginn"),
        ({"sessions": (SessionSlot(0, 16 * 60 + 10, 17 * 60),)}, "sessions-0", "Viertelstundentakt"),
        ({"sessions": (SessionSlot(1, 960, 1080), SessionSlot(1, 1020, 1140))}, "sessions", "überschneiden"),
        ({"last_date": TODAY - timedelta(days=1)}, "last_date", "nicht vor dem ersten"),
        ({"lat": 52.52, "lon": 13.40}, "coordinates", "außerhalb des Landkreises"),
        ({"lat": 49.9, "lon": None}, "coordinates", "gemeinsam"),
        ({"municipality_id": 99999}, "municipality_id", "Gemeinde"),
        ({"entry_mode": "sometimes"}, "entry_mode", "offen"),
        ({"title": "Gruppe\x00"}, "title", "Steuerzeichen"),
    ],
)
def test_create_refuses_invalid_input_with_german_message_and_writes_nothing(
        session, world, overrides, field, fragment):
    before = session.scalar(select(GroupOffer.id).order_by(GroupOffer.id.desc()).limit(1))
    with pytest.raises(OfferError) as info:
        draft(session, world, **overrides)
    assert fragment in info.value.field_errors[field]
    assert session.scalar(select(GroupOffer.id).order_by(GroupOffer.id.desc()).limit(1)) == before


def test_coordinates_inside_the_district_are_kept(session, world):
    offer = draft(session, world, lat=49.9, lon=8.85, address="Schulstraße 1")
    assert (offer.lat, offer.lon, offer.address) == (49.9, 8.85, "Schulstraße 1")


# --------------------------------------------------------------------------- form parsing


def form(world: dict, **overrides) -> dict:
    data = {
        "title": "Lerngruppe", "age_min": "8", "age_max": "12", "first_date": "2026-04-01",
        "last_date": "", "municipality_id": str(world["town"].id), "seats": "6", "min_size": "2",
        "entry_mode": "open", "offset_rate": "18,50", "categories": [str(world["cats"][1].id)],
        "session_weekday": ["1", "3"], "session_start": ["16:00", "15:30"], "session_end": ["17:30", "17:00"],
        "session_id": ["", ""], "genders": ["f", "d"],
    }
    data.update(overrides)
    return data


def test_read_offer_form_parses_german_values(session, world):
    data, errors = read_offer_form(session, form_state(form(world)))
    assert errors == {}
    assert data.offset_rate_cents == 1850 and data.genders == "f,d" and data.first_date == date(2026, 4, 1)
    assert [s.key for s in data.sessions] == [(1, 960, 1050), (3, 930, 1020)]


@pytest.mark.parametrize(("raw", "cents"), [("18,50", 1850), ("18", 1800), ("18.5", 1850), ("1.234,5", 123450),
                                             ("0", 0), ("18,50 €", 1850)])
def test_parse_euro_cents(raw, cents):
    assert parse_euro_cents(raw) == cents


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"offset_rate": "achtzehn"}, "offset_rate", "z. B. 18,50"),
        ({"offset_rate": "-3,00"}, "offset_rate", "nicht negativ"),
        ({"offset_rate": "18,505"}, "offset_rate", "z. B. 18,50"),
        ({"age_min": "zehn"}, "age_min", "Alter"),
        ({"seats": "viele"}, "seats", "ganze Zahl"),
        ({"first_date": "31.02.2026"}, "first_date", "gültiges Datum"),
        ({"first_date": ""}, "first_date", "ersten Termins"),
        ({"municipality_id": ""}, "municipality_id", "Gemeinde"),
        ({"lat": "49,9", "lon": ""}, "coordinates", "gemeinsam"),
        ({"lat": "abc", "lon": "8,8"}, "coordinates", "Dezimalzahlen"),
        ({"session_start": ["25:00", "15:30"]}, "sessions-0", "Uhrzeit"),
        ({"session_weekday": ["9", "3"]}, "sessions-0", "Wochentag"),
        ({"session_end": ["17:30", "15:00"]}, "sessions-1", "nach dem Beginn"),
        ({"categories": []}, "categories", "mindestens eine"),
        ({"municipality_id": "9" * 25}, "municipality_id", "aus der Liste"),
        ({"categories": ["9" * 25]}, "categories", "aus der Liste"),
    ],
)
def test_read_offer_form_messages(session, world, overrides, field, fragment):
    data, errors = read_offer_form(session, form_state(form(world, **overrides)))
    assert data is None
    assert fragment in errors[field], errors


def test_blank_session_rows_are_ignored_and_row_errors_keep_the_form_row(session, world):
    state = form_state(form(world, session_weekday=["", "2"], session_start=["", "16:00"],
                            session_end=["", "16:00"], session_id=["", ""]))
    _, errors = read_offer_form(session, state)
    assert "sessions-1" in errors and "sessions-0" not in errors
    assert state.sessions[1].error == errors["sessions-1"]


def test_check_offer_refuses_fewer_seats_than_taken(session, world):
    values = input_as_values(offer_input(world, seats=4, min_size=2))
    assert "bereits 5 Plätze" in check_offer(session, values, seats_taken=5)["seats"]


def test_form_state_caps_the_number_of_rows():
    state = form_state({"session_weekday": ["1"] * 100, "session_start": ["16:00"] * 100,
                        "session_end": ["17:00"] * 100})
    assert len(state.sessions) == 15
    assert isinstance(state, FormState) and isinstance(state.sessions[0], SessionRow)


# --------------------------------------------------------------------------- update and locking


def test_update_offer_saves_and_bumps_version(session, world):
    offer = draft(session, world)
    first_session = offer.sessions[0]
    data = offer_input(world, title="Neu", sessions=(SessionSlot(0, 16 * 60, 18 * 60, first_session.id),
                                                     SessionSlot(4, 10 * 60, 11 * 60)))
    updated = offers.update_offer(session, actor=world["colleague"], offer_id=offer.id, version=1, data=data)
    assert updated.title == "Neu" and updated.version == 2
    assert [(s.weekday, s.end_minute) for s in updated.sessions] == [(0, 18 * 60), (4, 11 * 60)]
    assert updated.sessions[0].id == first_session.id  # edited in place


def test_update_with_stale_version_is_refused_in_german(session, world):
    offer = draft(session, world)
    offers.update_offer(session, actor=world["coordinator"], offer_id=offer.id, version=1,
                        data=offer_input(world, title="Erste Änderung"))
    with pytest.raises(OfferError) as info:
        offers.update_offer(session, actor=world["colleague"], offer_id=offer.id, version=1,
                            data=offer_input(world, title="Zweite Änderung"))
    assert "inzwischen von jemand anderem geändert" in info.value.field_errors["version"]
    session.refresh(offer)
    assert offer.title == "Erste Änderung" and offer.version == 2


def test_foreign_coordinator_cannot_edit_or_move(session, world):
    offer = draft(session, world)
    with pytest.raises(OfferAccessError):
        offers.update_offer(session, actor=world["stranger"], offer_id=offer.id, version=1, data=offer_input(world))
    with pytest.raises(OfferAccessError):
        offers.submit_offer(session, actor=world["stranger"], offer_id=offer.id)
    with pytest.raises(OfferAccessError):
        offers.certify_offer(session, actor=world["coordinator"], offer_id=offer.id,
                             valid_until=TODAY + timedelta(days=30), today=TODAY)


def test_seats_cannot_drop_below_taken(session, world):
    offer = to_status(session, world, "published")
    for _ in range(5):
        make_placement(session, offer=offer, status="accepted")
    from marketplace.seats import recount_seats

    recount_seats(session, offer.id)
    session.commit()
    with pytest.raises(OfferError) as info:
        offers.update_offer(session, actor=world["coordinator"], offer_id=offer.id, version=offer.version,
                            data=offer_input(world, seats=4, min_size=2))
    assert "bereits 5 Plätze belegt" in info.value.field_errors["seats"]


@pytest.mark.parametrize("status", ["certified", "published", "paused"])
def test_editing_essentials_of_a_certified_offer_sends_it_back_to_review(session, world, status):
    offer = to_status(session, world, status)
    updated = offers.update_offer(session, actor=world["coordinator"], offer_id=offer.id, version=offer.version,
                                  data=offer_input(world, seats=10, offset_rate_cents=2000))
    assert updated.status == "submitted" and updated.certified_until is None
    last = offers.offer_state_history(session, offer_id=offer.id)[-1]
    assert last.to_status == "submitted" and "Plätze" in last.reason and "Verrechnungssatz" in last.reason


def test_editing_non_essentials_keeps_the_status(session, world):
    offer = to_status(session, world, "published")
    updated = offers.update_offer(session, actor=world["coordinator"], offer_id=offer.id, version=offer.version,
                                  data=offer_input(world, title="Neuer Titel", description="Mehr Text",
                                                   min_size=4))
    assert updated.status == "published" and updated.certified_until is not None


def test_ended_offer_is_read_only(session, world):
    offer = to_status(session, world, "ended")
    with pytest.raises(OfferError) as info:
        offers.update_offer(session, actor=world["coordinator"], offer_id=offer.id, version=offer.version,
                            data=offer_input(world))
    assert "beendetes Angebot" in info.value.field_errors["status"]


# --------------------------------------------------------------------------- transitions

LEGAL = {
    "submit": {"draft", "rejected"},
    "certify": {"submitted"},
    "reject": {"submitted"},
    "publish": {"certified", "paused"},
    "pause": {"published"},
    "end": {"certified", "published", "paused"},
}
TARGET = {"submit": "submitted", "certify": "certified", "reject": "rejected", "publish": "published",
          "pause": "paused", "end": "ended"}
STATUSES = ["draft", "submitted", "certified", "published", "paused", "ended", "rejected"]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("step", sorted(LEGAL))
def test_every_transition_is_legal_only_from_its_states(session, world, step, status):
    offer = to_status(session, world, status)
    events_before = len(offers.offer_state_history(session, offer_id=offer.id))
    if status in LEGAL[step]:
        moved = run(session, step, offer, world["coordinator"], world["planner"])
        assert moved.status == TARGET[step]
        history = offers.offer_state_history(session, offer_id=offer.id)
        assert len(history) == events_before + 1
        assert (history[-1].from_status, history[-1].to_status) == (status, TARGET[step])
    else:
        with pytest.raises(OfferError) as info:
            run(session, step, offer, world["coordinator"], world["planner"])
        assert "kann nicht" in info.value.field_errors["status"]
        session.refresh(offer)
        assert offer.status == status
        assert len(offers.offer_state_history(session, offer_id=offer.id)) == events_before


def test_rejection_needs_a_reason_and_resubmission_clears_it(session, world):
    offer = to_status(session, world, "submitted")
    with pytest.raises(OfferError) as info:
        offers.reject_offer(session, actor=world["planner"], offer_id=offer.id, reason="  ")
    assert "begründen" in info.value.field_errors["reason"]
    offers.reject_offer(session, actor=world["planner"], offer_id=offer.id, reason="Raum ungeeignet")
    assert offer.rejection_reason == "Raum ungeeignet"
    offers.update_offer(session, actor=world["coordinator"], offer_id=offer.id, version=offer.version,
                        data=offer_input(world, address="Anderer Raum 2"))
    resubmitted = offers.submit_offer(session, actor=world["coordinator"], offer_id=offer.id)
    assert resubmitted.status == "submitted" and resubmitted.rejection_reason is None
    reasons = [h.reason for h in offers.offer_state_history(session, offer_id=offer.id)]
    assert "Raum ungeeignet" in reasons


@pytest.mark.parametrize(("valid_until", "fragment"), [
    (None, "bis wann"), (TODAY, "über den heutigen Tag"), (TODAY + timedelta(days=6 * 365), "fünf Jahre")])
def test_certification_validity_date_is_checked(session, world, valid_until, fragment):
    offer = to_status(session, world, "submitted")
    with pytest.raises(OfferError) as info:
        offers.certify_offer(session, actor=world["planner"], offer_id=offer.id, valid_until=valid_until,
                             today=TODAY)
    assert fragment in info.value.field_errors["valid_until"]


def test_certify_records_validity_and_notifies_coordinators(session, world):
    offer = to_status(session, world, "certified")
    assert offer.certified_until == TODAY + timedelta(days=365)
    last = offers.offer_state_history(session, offer_id=offer.id)[-1]
    assert last.valid_until == offer.certified_until and last.actor_name == world["planner"].display_name
    texts = session.scalars(select(Notification.text).where(Notification.user_id == world["colleague"].id)).all()
    assert any("zertifiziert" in t for t in texts)


def test_transition_with_stale_version_is_refused(session, world):
    offer = to_status(session, world, "submitted")
    old = offer.version
    offers.update_offer(session, actor=world["coordinator"], offer_id=offer.id, version=old,
                        data=offer_input(world, description="geändert"))
    with pytest.raises(OfferError) as info:
        offers.certify_offer(session, actor=world["planner"], offer_id=offer.id, version=old,
                             valid_until=TODAY + timedelta(days=90), today=TODAY)
    assert "version" in info.value.field_errors


def test_publish_refuses_an_expired_certification(session, world):
    offer = to_status(session, world, "certified")
    with pytest.raises(OfferError) as info:
        offers.publish_offer(session, actor=world["coordinator"], offer_id=offer.id,
                             today=TODAY + timedelta(days=400))
    assert "abgelaufen" in info.value.field_errors["status"]


def test_renew_keeps_status_and_extends(session, world):
    offer = to_status(session, world, "published")
    renewed = offers.renew_certification(session, actor=world["planner"], offer_id=offer.id,
                                         valid_until=TODAY + timedelta(days=700), today=TODAY)
    assert renewed.status == "published" and renewed.certified_until == TODAY + timedelta(days=700)
    with pytest.raises(OfferError):
        offers.renew_certification(session, actor=world["planner"], offer_id=to_status(session, world, "draft").id,
                                   valid_until=TODAY + timedelta(days=700), today=TODAY)


def test_allowed_actions_match_roles(session, world):
    offer = to_status(session, world, "published")
    assert offers.allowed_actions(offer, world["coordinator"], today=TODAY) == {
        "edit", "pause", "confirm_vacancy", "end"}
    assert offers.allowed_actions(offer, world["stranger"], today=TODAY) == set()
    assert offers.allowed_actions(offer, world["planner"], today=TODAY) == {"renew"}


def test_every_state_change_writes_an_audit_row(session, world):
    offer = to_status(session, world, "paused")
    rows = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "group_offer",
                                                    AuditEvent.object_id == str(offer.id))).all()
    events = session.scalars(select(OfferStatusEvent).where(OfferStatusEvent.offer_id == offer.id)).all()
    assert len(rows) == len(events) == 5  # create + 4 transitions


# --------------------------------------------------------------------------- housekeeping


def test_expire_certifications_withdraws_expired_offers(session, world):
    ended_yesterday = to_status(session, world, "published")
    still_valid = to_status(session, world, "published")
    session.execute(GroupOffer.__table__.update().where(GroupOffer.id == ended_yesterday.id)
                    .values(certified_until=TODAY - timedelta(days=1)))
    session.commit()
    assert offers.expire_certifications(session, today=TODAY) == 1
    session.refresh(ended_yesterday)
    session.refresh(still_valid)
    assert ended_yesterday.status == "submitted" and ended_yesterday.certified_until is None
    assert still_valid.status == "published"
    last = offers.offer_state_history(session, offer_id=ended_yesterday.id)[-1]
    assert last.actor_name == "System" and "abgelaufen" in last.reason
    assert offers.expire_certifications(session, today=TODAY) == 0


def test_warn_expiring_certifications_once_per_certification(session, world):
    soon = to_status(session, world, "published")
    later = to_status(session, world, "certified")
    session.execute(GroupOffer.__table__.update().where(GroupOffer.id == soon.id)
                    .values(certified_until=TODAY + timedelta(days=30)))
    session.execute(GroupOffer.__table__.update().where(GroupOffer.id == later.id)
                    .values(certified_until=TODAY + timedelta(days=31)))
    session.commit()
    assert offers.warn_expiring_certifications(session, today=TODAY) == 1
    assert offers.warn_expiring_certifications(session, today=TODAY) == 0
    warned = session.scalars(select(Notification).where(Notification.link == f"/angebote/{soon.id}",
                                                        Notification.text.contains("läuft am"))).all()
    assert {n.user_id for n in warned} == {world["coordinator"].id, world["colleague"].id, world["planner"].id}
    assert offers.warn_expiring_certifications(session, today=TODAY + timedelta(days=1)) == 1  # now `later`


def test_housekeeping_runs_both_jobs(session, world):
    offer = to_status(session, world, "published")
    session.execute(GroupOffer.__table__.update().where(GroupOffer.id == offer.id)
                    .values(certified_until=TODAY - timedelta(days=3)))
    session.commit()
    assert offers.housekeeping(session, today=TODAY) == {"expired": 1, "warned": 0}


def test_housekeeping_cli(runner, session, world):
    result = runner.invoke(args=["offers", "housekeeping", "--date", "2026-03-02"])
    assert result.exit_code == 0, result.output
    assert "abgelaufen: 0" in result.output
    bad = runner.invoke(args=["offers", "housekeeping", "--date", "gestern"])
    assert bad.exit_code != 0 and "Ungültiges Datum" in bad.output


# --------------------------------------------------------------------------- vacancy freshness


def test_confirm_vacancy_and_staleness(session, world):
    offer = to_status(session, world, "published")
    now = utcnow()
    assert not offers.is_stale(offer, now)  # publishing confirms the seats
    assert offers.is_stale(offer, now + timedelta(days=31))
    assert offer.id in offers.stale_offer_ids(session, now + timedelta(days=31))
    assert offer.id not in offers.stale_offer_ids(session, now)
    offers.confirm_vacancy(session, actor=world["colleague"], offer_id=offer.id, now=now + timedelta(days=31))
    assert not offers.is_stale(offer, now + timedelta(days=40))
    with pytest.raises(OfferAccessError):
        offers.confirm_vacancy(session, actor=world["stranger"], offer_id=offer.id)


def test_only_published_offers_are_stale_and_confirmable(session, world):
    offer = to_status(session, world, "certified")
    assert not offers.is_stale(offer, utcnow() + timedelta(days=100))
    with pytest.raises(OfferError):
        offers.confirm_vacancy(session, actor=world["coordinator"], offer_id=offer.id)


def test_factory_offer_without_confirmation_is_stale(session, world):
    offer = make_offer(session)
    session.commit()
    assert offers.is_stale(offer, utcnow())
    assert not offers.is_stale(replace_status(offer, "paused"), utcnow())


def replace_status(offer: GroupOffer, status: str) -> GroupOffer:
    offer.status = status
    return offer


def test_offer_input_is_immutable(world):
    data = offer_input(world)
    assert replace(data, seats=9).seats == 9


# --------------------------------------------------------------------------- both databases


def test_lifecycle_locking_and_expiry_on_sqlite_and_postgresql(db_session):
    """The conditional UPDATEs (version, status) behave the same on SQLite and PostgreSQL."""
    session = db_session
    world = {"town": make_municipality(session, lat=49.87, lon=8.80),
             "cats": [make_category(session, "social_skills")],
             "coordinator": make_user(session, Role.coordinator), "planner": make_user(session, Role.planner)}
    session.commit()
    offer = draft(session, world)
    offers.update_offer(session, actor=world["coordinator"], offer_id=offer.id, version=1,
                        data=offer_input(world, title="Neu", sessions=(SessionSlot(2, 600, 660),)))
    with pytest.raises(OfferError):
        offers.update_offer(session, actor=world["coordinator"], offer_id=offer.id, version=1,
                            data=offer_input(world))
    for step in ("submit", "certify", "publish"):
        run(session, step, offer, world["coordinator"], world["planner"])
    assert offer.status == "published" and offer.version == 5
    assert offers.expire_certifications(session, today=TODAY + timedelta(days=366)) == 1
    session.refresh(offer)
    assert offer.status == "submitted"
    steps = [(h.from_status, h.to_status) for h in offers.offer_state_history(session, offer_id=offer.id)]
    assert steps == [(None, "draft"), ("draft", "submitted"), ("submitted", "certified"),
                     ("certified", "published"), ("published", "submitted")]
