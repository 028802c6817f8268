"""Use cases of young people's cases: registration rules, pseudonyms, bands, crisis, module change, keep-apart."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import func, select

from marketplace import cases
from marketplace.case_rules import CaseFields, group_band
from marketplace.cases import CaseAccessError, CaseError
from marketplace.models import (
    AuditEvent,
    CaseFlag,
    CaseStatus,
    GroupOffer,
    KeepApart,
    Notification,
    OfferWish,
    Placement,
    PlacementEvent,
    PlacementRequest,
    YoungPerson,
)
from marketplace.seats import take_seat
from tests.factories import make_offer, make_placement

from .district import TODAY


def register(world, **overrides) -> YoungPerson:
    return cases.register_young_person(
        world.session, actor=world.caseworker, fields=world.fields(**overrides), today=TODAY
    )


def errors_of(world, **overrides) -> dict[str, str]:
    with pytest.raises(CaseError) as info:
        register(world, **overrides)
    return info.value.field_errors


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


# --------------------------------------------------------------------------- registration


def test_register_creates_a_pseudonymous_case_with_module_defaults(world):
    yp = register(world, case_reference="asd-2026/0042")
    assert re.fullmatch(r"JM-[ACDEFGHJKMNPQRTUVWXY34679]{4}", yp.pseudonym)
    assert yp.case_reference == "ASD-2026/0042"
    assert yp.team_id == world.team.id and yp.caseworker_id == world.caseworker.id
    standard = world.modules["standard"]
    assert (yp.group_minutes_target, yp.group_minutes_max) == (standard.group_minutes_target, 300)
    assert [c.code for c in yp.needs] == ["social_skills"]
    assert [(w.weekday, w.start_minute, w.end_minute) for w in yp.availability] == [(0, 840, 1080), (2, 900, 1140)]
    assert yp.crisis_ends_on is None and yp.priority == 1
    assert not hasattr(YoungPerson, "name") and "name" not in YoungPerson.model_fields
    event = world.session.exec(select(AuditEvent).where(AuditEvent.case_id == yp.id)).one()
    assert (event.action, event.user_id, event.object_type) == ("create", world.caseworker.id, "young_person")


def test_several_errors_are_reported_at_once_and_nothing_is_written(world):
    errors = errors_of(
        world,
        birth_year=TODAY.year - 40,
        gender="x",
        need_ids=[],
        availability=[],
        max_travel_km=0,
        legal_basis="§ 99",
        lead_provider_id=None,
        approval_start=None,
    )
    assert set(errors) >= {
        "birth_year", "gender", "need_ids", "availability", "max_travel_km", "legal_basis",
        "lead_provider_id", "approval_start",
    }  # fmt: skip
    assert "Geburtsjahr" in errors["birth_year"]
    assert "Bedarf" in errors["need_ids"]
    assert count(world.session, YoungPerson) == 0
    assert count(world.session, AuditEvent) == 0


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ([(0, 14 * 60, 16 * 60), (0, 15 * 60, 17 * 60)], "überschneiden"),
        ([(1, 14 * 60 + 10, 16 * 60)], "Viertelstunden"),
        ([(1, 16 * 60, 14 * 60)], "nach seinem Beginn"),
        ([(7, 14 * 60, 16 * 60)], "Wochentag"),
    ],
)
def test_availability_windows_are_checked(world, windows, message):
    assert message in errors_of(world, availability=windows)["availability"]


def test_adjacent_windows_on_one_day_are_fine(world):
    yp = register(world, availability=[(0, 14 * 60, 16 * 60), (0, 16 * 60, 18 * 60)])
    assert len(yp.availability) == 2


def test_exact_coordinates_must_lie_near_the_home_municipality(world):
    assert "km vom Ortsmittelpunkt" in errors_of(world, lat=50.11, lon=8.68)["coordinates"]  # Frankfurt
    assert "gemeinsam" in errors_of(world, lat=49.9, lon=None)["coordinates"]
    yp = register(world, lat=49.9021, lon=8.8440)
    assert (yp.lat, yp.lon) == (49.9021, 8.8440)


@pytest.mark.parametrize("reference", ["Max Mustermann", "ABC", "x", "A" * 31])
def test_case_reference_must_look_like_a_file_number(world, reference):
    assert "Aktenzeichen" in errors_of(world, case_reference=reference)["case_reference"]


def test_case_reference_is_unique_ignoring_case(world):
    register(world, case_reference="AZ-17")
    assert "bereits" in errors_of(world, case_reference="az-17")["case_reference"]


def test_pseudonym_collision_draws_again(world, monkeypatch):
    first = register(world)
    drawn = iter([first.pseudonym, first.pseudonym, "JM-AAAA"])
    monkeypatch.setattr(cases, "new_pseudonym", lambda: next(drawn))
    second = register(world)
    assert second.pseudonym == "JM-AAAA"


def test_group_share_defaults_and_stays_within_the_module_band(world):
    standard = world.modules["standard"]
    assert group_band(standard) == (0, standard.care_minutes_max)
    yp = register(world, group_minutes_target=360, group_minutes_max=480)  # more group work: up to 8 h
    assert (yp.group_minutes_target, yp.group_minutes_max) == (360, 480)
    errors = errors_of(world, group_minutes_target=60, group_minutes_max=495)
    assert "Band des Moduls" in errors["group_minutes_max"]
    assert (
        "unter dem Zielwert" in errors_of(world, group_minutes_target=240, group_minutes_max=120)["group_minutes_max"]
    )
    assert "Viertelstunden" in errors_of(world, group_minutes_target=100)["group_minutes_target"]


def test_crisis_group_share_is_limited_to_the_crisis_module(world):
    crisis = world.modules["krise"]
    errors = errors_of(world, module_id=crisis.id, risk_report_at=TODAY, group_minutes_max=240)
    assert "Band des Moduls" in errors["group_minutes_max"]


def test_priority_three_is_reserved_for_crisis(world):
    assert "Krise" in errors_of(world, priority=3)["priority"]
    assert register(world, priority=2).priority == 2


def test_wish_cannot_be_preferred_and_excluded(world):
    offer = make_offer(world.session)
    errors = errors_of(world, preferred_offer_ids=[offer.id], excluded_offer_ids=[offer.id])
    assert "zugleich" in errors["excluded_offer_ids"]
    other = make_offer(world.session)
    yp = register(world, preferred_offer_ids=[offer.id], excluded_offer_ids=[other.id])
    wishes = world.session.exec(select(OfferWish).where(OfferWish.young_person_id == yp.id))
    kinds = {w.offer_id: w.kind for w in wishes}
    assert kinds == {offer.id: "preferred", other.id: "excluded"}


def test_only_caseworkers_register(world):
    for actor in (world.planner, world.coordinator, world.admin):
        with pytest.raises(CaseAccessError):
            cases.register_young_person(world.session, actor=actor, fields=world.fields(), today=TODAY)


# --------------------------------------------------------------------------- keep apart


def test_keep_apart_is_stored_once_as_an_ordered_pair(world):
    first = register(world)
    second = register(world, keep_apart_ids=[first.id])
    pair = world.session.exec(select(KeepApart)).one()
    assert (pair.young_person_a_id, pair.young_person_b_id) == (first.id, second.id)
    # editing the first one keeps (not duplicates) the pair
    fields = cases.case_fields_of(world.session, first)
    assert fields.keep_apart_ids == [second.id]
    cases.update_young_person(
        world.session, actor=world.caseworker, young_person_id=first.id, version=first.version, fields=fields,
        today=TODAY,
    )  # fmt: skip
    assert count(world.session, KeepApart) == 1


def test_keep_apart_only_within_the_own_team(world):
    stranger = cases.register_young_person(
        world.session, actor=world.other_caseworker, fields=world.fields(), today=TODAY
    )
    assert "eigenen Teams" in errors_of(world, keep_apart_ids=[stranger.id])["keep_apart_ids"]


# --------------------------------------------------------------------------- edit


def test_update_refuses_a_stale_version(world):
    yp = register(world)
    fields = cases.case_fields_of(world.session, yp)
    fields.max_travel_km = 20
    stale = yp.version
    cases.update_young_person(
        world.session, actor=world.colleague, young_person_id=yp.id, version=stale, fields=fields, today=TODAY
    )
    with pytest.raises(CaseError) as info:
        cases.update_young_person(
            world.session, actor=world.caseworker, young_person_id=yp.id, version=stale, fields=fields, today=TODAY
        )
    assert "inzwischen" in info.value.field_errors["version"]
    assert world.session.get(YoungPerson, yp.id).version == stale + 1


def test_other_teams_and_planners_cannot_change_a_case(world):
    yp = register(world)
    fields = cases.case_fields_of(world.session, yp)
    for actor in (world.other_caseworker, world.planner, world.coordinator):
        with pytest.raises(CaseAccessError):
            cases.update_young_person(
                world.session, actor=actor, young_person_id=yp.id, version=yp.version, fields=fields, today=TODAY
            )


# --------------------------------------------------------------------------- crisis


def test_crisis_needs_a_risk_report_and_gets_priority_and_an_end(world):
    crisis = world.modules["krise"]
    assert "§ 8a" in errors_of(world, module_id=crisis.id)["risk_report_at"]
    future = errors_of(world, module_id=crisis.id, risk_report_at=TODAY + timedelta(days=1))
    assert "Zukunft" in future["risk_report_at"]
    yp = register(world, module_id=crisis.id, risk_report_at=TODAY - timedelta(days=2), priority=1)
    assert yp.priority == 3
    assert yp.crisis_ends_on == yp.approval_start + timedelta(weeks=6)
    assert (yp.group_minutes_target, yp.group_minutes_max) == (0, 120)


def crisis_case(world, start_days_ago: int = 50) -> YoungPerson:
    start = TODAY - timedelta(days=start_days_ago)
    return register(world, module_id=world.modules["krise"].id, risk_report_at=start, approval_start=start)


def test_extend_crisis_needs_a_reason_and_a_later_date(world):
    yp = crisis_case(world, start_days_ago=10)
    old_end = yp.crisis_ends_on
    with pytest.raises(CaseError) as info:
        cases.extend_crisis(
            world.session, actor=world.caseworker, young_person_id=yp.id, until=old_end - timedelta(days=1),
            reason="", today=TODAY,
        )  # fmt: skip
    assert set(info.value.field_errors) == {"until", "reason"}
    with pytest.raises(CaseError) as info:
        cases.extend_crisis(
            world.session, actor=world.caseworker, young_person_id=yp.id, until=old_end + timedelta(weeks=7),
            reason="Gefährdung besteht weiter laut Hilfeplangespräch", today=TODAY,
        )  # fmt: skip
    assert "sechs Wochen" in info.value.field_errors["until"]
    cases.extend_crisis(
        world.session, actor=world.caseworker, young_person_id=yp.id, until=old_end + timedelta(weeks=2),
        reason="Gefährdung besteht weiter laut Hilfeplangespräch", today=TODAY,
    )  # fmt: skip
    yp = world.session.get(YoungPerson, yp.id)
    assert yp.crisis_ends_on == old_end + timedelta(weeks=2)
    assert yp.crisis_extension_reason.startswith("Gefährdung")


def test_extend_is_only_for_crisis_cases(world):
    yp = register(world)
    with pytest.raises(CaseError):
        cases.extend_crisis(
            world.session, actor=world.caseworker, young_person_id=yp.id, until=TODAY + timedelta(days=7),
            reason="ein ausreichend langer Grund", today=TODAY,
        )  # fmt: skip


def test_expired_crises_go_to_review_with_flag_and_notification(world):
    expired = crisis_case(world, start_days_ago=50)  # 6 weeks = 42 days: ended 8 days ago
    running = crisis_case(world, start_days_ago=10)
    normal = register(world)
    world.session.expire_all()
    assert cases.end_expired_crises(world.session, TODAY) == 1
    world.session.expire_all()
    assert world.session.get(YoungPerson, expired.id).status == CaseStatus.review.value
    assert world.session.get(YoungPerson, running.id).status == CaseStatus.active.value
    assert world.session.get(YoungPerson, normal.id).status == CaseStatus.active.value
    flags = cases.open_flags(world.session, expired.id)
    assert [f.kind for f in flags] == ["crisis_expired"]
    note = world.session.exec(select(Notification).where(Notification.user_id == world.caseworker.id)).one()
    assert expired.pseudonym in note.text and "ausgelaufen" in note.text
    # idempotent: a second run finds nothing new
    assert cases.end_expired_crises(world.session, TODAY) == 0
    # the caseworker decides on a follow-up module: the case is active again and the flag resolved
    cases.change_module(
        world.session, actor=world.caseworker, young_person_id=expired.id, module_id=world.modules["basis"].id,
        reason="Krise überwunden, weiter im Basis-Modul", today=TODAY,
    )  # fmt: skip
    yp = world.session.get(YoungPerson, expired.id)
    assert (yp.status, yp.priority, yp.crisis_ends_on) == ("active", 1, None)
    assert cases.open_flags(world.session, expired.id) == []


def test_cli_command_expires_crises(world, runner):
    crisis_case(world, start_days_ago=60)
    result = runner.invoke(args=["cases", "expire-crises", "--date", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "1 abgelaufene" in result.output
    bad = runner.invoke(args=["cases", "expire-crises", "--date", "gestern"])
    assert bad.exit_code != 0 and "Ungültiges Datum" in bad.output


# --------------------------------------------------------------------------- module change


def placed_case(world, *, weekly_sessions: int) -> tuple[YoungPerson, list[Placement]]:
    yp = register(world, module_id=world.modules["zusatz"].id)  # group max 7 h
    placements = []
    for day in range(weekly_sessions):
        offer = make_offer(world.session, provider=world.provider, sessions=((day, 15 * 60, 17 * 60),))
        take_seat(world.session, offer.id)
        placements.append(make_placement(world.session, young_person=yp, offer=offer, status="accepted"))
    world.session.commit()
    return yp, placements


def test_module_change_flags_placements_above_the_new_maximum_without_ending_them(world):
    yp, placements = placed_case(world, weekly_sessions=2)  # 4 h of groups a week
    flags = cases.change_module(
        world.session, actor=world.caseworker, young_person_id=yp.id, module_id=world.modules["basis"].id,
        reason="Weniger Intensität laut Hilfeplan", today=TODAY,
    )  # fmt: skip
    yp = world.session.get(YoungPerson, yp.id)
    basis = world.modules["basis"]
    assert (yp.module_id, yp.group_minutes_target, yp.group_minutes_max) == (basis.id, 120, 180)
    assert sorted(f.placement_id for f in flags) == sorted(p.id for p in placements)
    assert {f.excess_minutes for f in flags} == {60}
    world.session.expire_all()
    assert {world.session.get(Placement, p.id).status for p in placements} == {"accepted"}
    note = world.session.exec(select(Notification).where(Notification.user_id == world.caseworker.id)).one()
    assert "über dem neuen Maximum" in note.text
    assert len(cases.open_flags(world.session, yp.id)) == 2
    history = cases.case_history(world.session, yp.id)
    assert history[0].kind == "module_changed" and history[0].reason.startswith("Weniger")


def test_module_change_within_the_maximum_flags_nothing(world):
    yp, _ = placed_case(world, weekly_sessions=1)
    flags = cases.change_module(
        world.session, actor=world.caseworker, young_person_id=yp.id, module_id=world.modules["basis"].id,
        reason="Weniger Intensität laut Hilfeplan", today=TODAY,
    )  # fmt: skip
    assert flags == []
    assert count(world.session, Notification) == 0


def test_module_change_needs_a_reason_and_crisis_a_risk_report(world):
    yp = register(world)
    with pytest.raises(CaseError) as info:
        cases.change_module(
            world.session, actor=world.caseworker, young_person_id=yp.id, module_id=world.modules["krise"].id,
            reason="kurz", today=TODAY,
        )  # fmt: skip
    assert set(info.value.field_errors) == {"reason", "risk_report_at"}
    cases.change_module(
        world.session, actor=world.caseworker, young_person_id=yp.id, module_id=world.modules["krise"].id,
        reason="Gefährdungsmeldung eingegangen", risk_report_at=TODAY, today=TODAY,
    )  # fmt: skip
    yp = world.session.get(YoungPerson, yp.id)
    assert (yp.priority, yp.crisis_ends_on) == (3, TODAY + timedelta(weeks=6))


def test_resolving_a_flag_keeps_it_in_history(world):
    yp, _ = placed_case(world, weekly_sessions=2)
    flags = cases.change_module(
        world.session, actor=world.caseworker, young_person_id=yp.id, module_id=world.modules["basis"].id,
        reason="Weniger Intensität laut Hilfeplan", today=TODAY,
    )  # fmt: skip
    cases.resolve_flag(world.session, actor=world.caseworker, young_person_id=yp.id, flag_id=flags[0].id)
    assert len(cases.open_flags(world.session, yp.id)) == 1
    assert world.session.get(CaseFlag, flags[0].id).resolved_by == world.caseworker.id


# --------------------------------------------------------------------------- end


def test_end_case_ends_placements_frees_seats_and_cancels_requests(world):
    yp, placements = placed_case(world, weekly_sessions=1)
    world.session.add(PlacementRequest(young_person_id=yp.id, status="waiting"))
    world.session.commit()
    with pytest.raises(CaseError):
        cases.end_case(world.session, actor=world.caseworker, young_person_id=yp.id, reason="")
    cases.end_case(world.session, actor=world.caseworker, young_person_id=yp.id, reason="Ziele des Hilfeplans erreicht")
    world.session.expire_all()
    yp = world.session.get(YoungPerson, yp.id)
    assert yp.status == "ended" and yp.ended_at is not None
    placement = world.session.get(Placement, placements[0].id)
    assert placement.status == "ended" and "Ziele" in placement.end_reason
    assert world.session.get(GroupOffer, placement.offer_id).seats_taken == 0
    assert world.session.exec(select(PlacementEvent).where(PlacementEvent.placement_id == placement.id)).one()
    assert world.session.exec(select(PlacementRequest)).one().status == "cancelled"
    host_note = world.session.exec(select(Notification).where(Notification.user_id == world.coordinator.id)).one()
    assert yp.pseudonym in host_note.text and "beendet" in host_note.text
    with pytest.raises(CaseError):
        cases.end_case(world.session, actor=world.caseworker, young_person_id=yp.id, reason="noch einmal beenden")


def test_case_fields_round_trip(world):
    yp = register(world, case_reference="AZ-1")
    fields = cases.case_fields_of(world.session, yp)
    assert isinstance(fields, CaseFields)
    assert fields.case_reference == "AZ-1" and fields.need_ids == [world.categories["social_skills"].id]
