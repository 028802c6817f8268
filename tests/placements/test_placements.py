"""Use cases of placement requests and placements: every transition, seats, variants, rates, failures."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from marketplace import placements
from marketplace.models import (
    AuditEvent,
    GroupOffer,
    KeepApart,
    Notification,
    OfferWish,
    Placement,
    PlacementEvent,
    PlacementRequest,
    SharedUse,
)
from marketplace.placements import EndReason, PlacementError, PlacementForbidden, PlacementNotFound
from marketplace.snapshot import build_snapshot
from tests.factories import make_placement

from .conftest import World


def count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def seats_taken(session: Session, offer: GroupOffer) -> int:
    session.expire_all()
    return session.get(GroupOffer, offer.id).seats_taken


def request(world: World, person=None):
    person = person or world.person
    return placements.request_placement(world.session, young_person_id=person.id, actor=world.caseworker)


def confirm(world: World, offers, person=None, **kwargs):
    result = request(world, person)
    ids = [o.id for o in offers]
    return placements.confirm_option(
        world.session, request_id=result.request.id, offer_ids=ids, actor=world.caseworker, **kwargs
    )


# --------------------------------------------------------------------------- request → proposal


def test_request_proposes_up_to_three_explained_options(world: World) -> None:
    result = request(world)
    assert result.request.status == "open" and not result.waiting
    assert 1 <= len(result.options) <= 3
    best = result.options[0]
    assert set(best.offer_ids) == {world.own_offer.id, world.host_offer.id}  # 4 h target: both groups
    text = " ".join(best.lines)
    assert "Stunden: 4 Std. von 4 Std. Ziel" in text
    assert "Bedarfe: deckt Soziale Kompetenzen ab" in text or "Bedarfe: deckt Social Skills ab" in text
    assert "Wünsche:" in text
    group_text = " ".join(line for g in best.groups for line in g.lines)
    assert "Entfernung:" in group_text and "Termine: Mo 15:00–17:00" in group_text
    assert "Verrechnung 22,50 €" in group_text  # the host's group is another provider's
    audit = world.session.exec(select(AuditEvent).where(AuditEvent.object_type == "placement_request")).one()
    assert audit.case_id == world.person.id and audit.action == "create"


def test_wish_is_explained(world: World) -> None:
    world.session.add(OfferWish(young_person_id=world.person.id, offer_id=world.host_offer.id, kind="preferred"))
    world.session.commit()
    result = request(world)
    lines = [line for o in result.options for line in o.lines]
    assert any("Wunschgruppe „Sport und Teamgeist“ ist dabei" in line for line in lines)


def test_nothing_fits_puts_request_on_waiting_list_with_reasons(world: World) -> None:
    person = world.young_person(needs=("media",))
    result = request(world, person)
    assert result.waiting and result.options == []
    assert result.reasons and result.request.waiting_reasons
    assert "Medi" in result.request.waiting_reasons  # names the unmet need
    again = request(world, person)
    assert again.request.id == result.request.id  # one waiting-list entry per person
    assert count(world.session, PlacementRequest) == 1


def test_reasons_never_name_engine_keys_or_other_people(world: World) -> None:
    other = world.young_person()
    full = world.offer(seats=1, sessions=((2, 15 * 60, 17 * 60),))
    confirm(world, [full], person=other)
    person = world.young_person(availability=((2, 14 * 60, 18 * 60),))
    result = request(world, person)
    assert result.waiting
    text = " ".join(result.reasons)
    assert f"G{full.id}" not in text and f"Y{other.id}" not in text and other.pseudonym not in text


def test_only_the_teams_caseworker_may_request(world: World) -> None:
    with pytest.raises(PlacementForbidden):
        placements.request_placement(world.session, young_person_id=world.person.id, actor=world.other_caseworker)
    with pytest.raises(PlacementForbidden):
        placements.request_placement(world.session, young_person_id=world.person.id, actor=world.lead_coordinator)
    with pytest.raises(PlacementNotFound):
        placements.request_placement(world.session, young_person_id=999999, actor=world.caseworker)
    assert count(world.session, PlacementRequest) == 0


def test_cancel_request(world: World) -> None:
    result = request(world)
    placements.cancel_request(world.session, request_id=result.request.id, actor=world.caseworker)
    assert world.session.get(PlacementRequest, result.request.id).status == "cancelled"
    with pytest.raises(PlacementError, match="bereits abgeschlossen"):
        placements.cancel_request(world.session, request_id=result.request.id, actor=world.caseworker)


# --------------------------------------------------------------------------- confirm


def test_confirm_takes_seats_snapshots_rate_and_notifies_host(world: World) -> None:
    created = confirm(world, [world.own_offer, world.host_offer])
    session = world.session
    assert [p.status for p in created] == ["confirmed", "confirmed"]
    assert seats_taken(session, world.own_offer) == 1 and seats_taken(session, world.host_offer) == 1
    by_offer = {p.offer_id: p for p in created}
    assert by_offer[world.own_offer.id].offset_rate_cents == 1800
    assert by_offer[world.host_offer.id].offset_rate_cents == 2250
    assert by_offer[world.own_offer.id].variant is None  # the lead provider's own group
    assert by_offer[world.host_offer.id].variant == "A"  # default variant for shared use
    shared = session.exec(select(SharedUse)).one()
    assert (shared.host_provider_id, shared.lead_provider_id) == (world.host.id, world.lead.id)
    assert shared.rate_cents == 2250 and shared.variant == "A"
    events = session.exec(select(PlacementEvent).where(PlacementEvent.placement_id == created[1].id)).all()
    assert [(e.from_status, e.to_status, e.actor_id) for e in events] == [(None, "confirmed", world.caseworker.id)]
    assert session.get(PlacementRequest, created[0].request_id).status == "fulfilled"
    notes = session.exec(select(Notification).where(Notification.user_id == world.host_coordinator.id)).all()
    assert len(notes) == 1 and world.person.pseudonym in notes[0].text and "Sport und Teamgeist" in notes[0].text
    assert session.exec(select(Notification).where(Notification.user_id == world.lead_coordinator.id)).all()


def test_rate_snapshot_survives_a_later_rate_change(world: World) -> None:
    (placement,) = confirm(world, [world.host_offer])
    world.host_offer.offset_rate_cents = 9900
    world.session.add(world.host_offer)
    world.session.commit()
    world.session.refresh(placement)
    assert placement.offset_rate_cents == 2250


def test_confirmed_placement_is_pinned_for_the_solver(world: World) -> None:
    confirm(world, [world.host_offer])
    snapshot = build_snapshot(world.session)
    person = snapshot.problem.people[snapshot.person_key(world.person.id)]
    assert person.pinned == (snapshot.group_key(world.host_offer.id),)


def test_variant_b_when_both_agreements_allow_co_use(world: World) -> None:
    (placement,) = confirm(world, [world.host_offer], variant="B")
    assert placement.variant == "B"
    assert world.session.exec(select(SharedUse)).one().variant == "B"


def test_variant_b_refused_without_co_use_and_nothing_written(world: World) -> None:
    world.host.allows_co_use = False
    world.session.add(world.host)
    world.session.commit()
    with pytest.raises(PlacementError, match="Variante B .* nicht möglich"):
        confirm(world, [world.own_offer, world.host_offer], variant="B")
    assert count(world.session, Placement) == 0 and count(world.session, SharedUse) == 0
    assert seats_taken(world.session, world.own_offer) == 0
    (placement,) = confirm(world, [world.host_offer], variant="A")  # A needs no co-use agreement
    assert placement.variant == "A"


def test_unknown_variant_refused(world: World) -> None:
    with pytest.raises(PlacementError, match="Kooperationsvariante"):
        confirm(world, [world.host_offer], variant="C")


def test_full_group_refused_with_its_title_and_nothing_half_written(world: World) -> None:
    full = world.offer(title="Volle Gruppe", seats=1, sessions=((3, 15 * 60, 17 * 60),))
    confirm(world, [full], person=world.young_person())
    before = count(world.session, Placement), count(world.session, PlacementEvent), count(world.session, AuditEvent)
    result = request(world)
    with pytest.raises(PlacementError, match="„Volle Gruppe“ ist inzwischen voll"):
        placements.confirm_option(
            world.session, request_id=result.request.id, offer_ids=[world.own_offer.id, full.id], actor=world.caseworker
        )
    assert seats_taken(world.session, world.own_offer) == 0  # the first seat was given back
    assert seats_taken(world.session, full) == 1
    after = count(world.session, Placement), count(world.session, PlacementEvent), count(world.session, AuditEvent)
    assert after[:2] == before[:2]
    assert world.session.get(PlacementRequest, result.request.id).status == "open"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"age_min": 16, "age_max": 18}, "ist für 16–18 Jahre"),
        ({"genders": "m"}, "nur für ein anderes Geschlecht"),
        ({"status": "paused"}, "nimmt derzeit niemanden neu auf"),
        ({"lat": 51.0, "lon": 10.0}, "außerhalb der zumutbaren Entfernung"),
    ],
)
def test_confirm_revalidates_against_current_data(world: World, change: dict, message: str) -> None:
    result = request(world)
    for key, value in change.items():
        setattr(world.host_offer, key, value)
    world.session.add(world.host_offer)
    world.session.commit()
    with pytest.raises(PlacementError, match=message):
        placements.confirm_option(
            world.session, request_id=result.request.id, offer_ids=[world.host_offer.id], actor=world.caseworker
        )
    assert count(world.session, Placement) == 0 and seats_taken(world.session, world.host_offer) == 0


def test_confirm_refuses_hours_above_maximum_and_overlaps(world: World) -> None:
    long = world.offer(sessions=((2, 14 * 60, 18 * 60),))  # 4 h; with 2 h already: 6 > 5 h max
    confirm(world, [world.own_offer])
    result = request(world)
    with pytest.raises(PlacementError, match="Maximum"):
        placements.confirm_option(
            world.session, request_id=result.request.id, offer_ids=[long.id], actor=world.caseworker
        )
    clash = world.offer(title="Montagsgruppe", sessions=((0, 16 * 60, 18 * 60),))
    with pytest.raises(PlacementError, match="überschneiden sich"):
        placements.confirm_option(
            world.session, request_id=result.request.id, offer_ids=[clash.id], actor=world.caseworker
        )
    with pytest.raises(PlacementError, match="bereits fest belegt"):
        placements.confirm_option(
            world.session, request_id=result.request.id, offer_ids=[world.own_offer.id], actor=world.caseworker
        )


def test_confirm_respects_keep_apart(world: World) -> None:
    other = world.young_person()
    confirm(world, [world.host_offer], person=other)
    a, b = sorted((world.person.id, other.id))
    world.session.add(KeepApart(young_person_a_id=a, young_person_b_id=b))
    world.session.commit()
    result = request(world)
    with pytest.raises(PlacementError, match="nicht zusammen"):
        placements.confirm_option(
            world.session, request_id=result.request.id, offer_ids=[world.host_offer.id], actor=world.caseworker
        )


def test_confirm_needs_an_open_request_own_team_and_groups(world: World) -> None:
    result = request(world)
    with pytest.raises(PlacementForbidden):
        placements.confirm_option(
            world.session, request_id=result.request.id, offer_ids=[world.host_offer.id], actor=world.other_caseworker
        )
    with pytest.raises(PlacementError, match="mindestens einer Gruppe"):
        placements.confirm_option(world.session, request_id=result.request.id, offer_ids=[], actor=world.caseworker)
    with pytest.raises(PlacementError, match="gibt es nicht mehr"):
        placements.confirm_option(
            world.session, request_id=result.request.id, offer_ids=[987654], actor=world.caseworker
        )
    placements.confirm_option(
        world.session, request_id=result.request.id, offer_ids=[world.host_offer.id], actor=world.caseworker
    )
    with pytest.raises(PlacementError, match="bereits abgeschlossen"):
        placements.confirm_option(
            world.session, request_id=result.request.id, offer_ids=[world.own_offer.id], actor=world.caseworker
        )


def test_solver_proposal_is_confirmed_in_place(world: World) -> None:
    proposal = make_placement(
        world.session, young_person=world.person, offer=world.host_offer, status="proposed", source="solver"
    )
    world.session.commit()
    created = confirm(world, [world.host_offer])
    assert [p.id for p in created] == [proposal.id]
    events = world.session.exec(select(PlacementEvent).where(PlacementEvent.placement_id == proposal.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [("proposed", "confirmed")]


# --------------------------------------------------------------------------- accept / decline / end


def test_accept_notifies_caseworker_and_keeps_the_seat(world: World) -> None:
    (placement,) = confirm(world, [world.host_offer])
    accepted = placements.accept_placement(world.session, placement_id=placement.id, actor=world.host_coordinator)
    assert accepted.status == "accepted" and accepted.accepted_at is not None
    assert seats_taken(world.session, world.host_offer) == 1
    events = world.session.exec(
        select(PlacementEvent).where(PlacementEvent.placement_id == placement.id).order_by(PlacementEvent.id)
    ).all()
    assert [(e.from_status, e.to_status) for e in events] == [(None, "confirmed"), ("confirmed", "accepted")]
    assert events[-1].actor_id == world.host_coordinator.id
    notes = world.session.exec(select(Notification).where(Notification.user_id == world.caseworker.id)).all()
    assert any("angenommen" in n.text for n in notes)
    with pytest.raises(PlacementError, match="bestätigt, wartet auf Annahme"):
        placements.accept_placement(world.session, placement_id=placement.id, actor=world.host_coordinator)


@pytest.mark.parametrize("who", ["lead_coordinator", "caseworker", "other_caseworker"])
def test_only_the_host_coordinator_accepts_or_declines(world: World, who: str) -> None:
    (placement,) = confirm(world, [world.host_offer])
    actor = getattr(world, who)
    with pytest.raises(PlacementForbidden):
        placements.accept_placement(world.session, placement_id=placement.id, actor=actor)
    with pytest.raises(PlacementForbidden):
        placements.decline_placement(world.session, placement_id=placement.id, actor=actor, reason="passt nicht")
    world.session.refresh(placement)
    assert placement.status == "confirmed"


def test_unknown_placement(world: World) -> None:
    with pytest.raises(PlacementNotFound):
        placements.accept_placement(world.session, placement_id=424242, actor=world.host_coordinator)


def test_decline_needs_a_reason_frees_the_seat_and_reopens_the_request(world: World) -> None:
    (placement,) = confirm(world, [world.host_offer])
    for empty in ("", "   ", None):
        with pytest.raises(PlacementError, match="Ablehnungsgrund fehlt"):
            placements.decline_placement(
                world.session, placement_id=placement.id, actor=world.host_coordinator, reason=empty
            )
    with pytest.raises(PlacementError, match="zu lang"):
        placements.decline_placement(
            world.session, placement_id=placement.id, actor=world.host_coordinator, reason="x" * 501
        )
    assert seats_taken(world.session, world.host_offer) == 1
    declined = placements.decline_placement(
        world.session,
        placement_id=placement.id,
        actor=world.host_coordinator,
        reason="Gruppe passt konzeptionell nicht",
    )
    assert declined.status == "declined" and declined.decline_reason == "Gruppe passt konzeptionell nicht"
    assert seats_taken(world.session, world.host_offer) == 0
    assert world.session.get(PlacementRequest, placement.request_id).status == "open"
    last = world.session.exec(select(PlacementEvent).order_by(PlacementEvent.id.desc())).first()
    assert (last.to_status, last.reason) == ("declined", "Gruppe passt konzeptionell nicht")
    with pytest.raises(PlacementError):
        placements.decline_placement(
            world.session, placement_id=placement.id, actor=world.host_coordinator, reason="nochmal"
        )
    assert seats_taken(world.session, world.host_offer) == 0  # never released twice


def test_accepted_placement_cannot_be_declined(world: World) -> None:
    (placement,) = confirm(world, [world.host_offer])
    placements.accept_placement(world.session, placement_id=placement.id, actor=world.host_coordinator)
    with pytest.raises(PlacementError, match="diese ist angenommen"):
        placements.decline_placement(
            world.session, placement_id=placement.id, actor=world.host_coordinator, reason="doch nicht"
        )


@pytest.mark.parametrize("reason", [r.value for r in EndReason])
def test_end_frees_the_seat_and_records_why(world: World, reason: str) -> None:
    (placement,) = confirm(world, [world.host_offer])
    placements.accept_placement(world.session, placement_id=placement.id, actor=world.host_coordinator)
    ended = placements.end_placement(
        world.session,
        placement_id=placement.id,
        actor=world.caseworker,
        reason=reason,
        note="Familie zieht nach Kassel",
    )
    assert ended.status == "ended" and ended.ended_at is not None
    assert ended.end_reason.startswith(placements.END_REASON_LABELS[reason])
    assert seats_taken(world.session, world.host_offer) == 0
    last = world.session.exec(select(PlacementEvent).order_by(PlacementEvent.id.desc())).first()
    assert (last.from_status, last.to_status, last.actor_id) == ("accepted", "ended", world.caseworker.id)
    notes = world.session.exec(
        select(Notification).where(Notification.user_id == world.host_coordinator.id).order_by(Notification.id.desc())
    ).first()
    assert "beendet" in notes.text


def test_end_rules(world: World) -> None:
    (placement,) = confirm(world, [world.host_offer])
    with pytest.raises(PlacementError, match="Beendigungsgrund"):
        placements.end_placement(world.session, placement_id=placement.id, actor=world.caseworker, reason="weg")
    with pytest.raises(PlacementError, match="Erläuterung fehlt"):
        placements.end_placement(world.session, placement_id=placement.id, actor=world.caseworker, reason="other")
    for outsider in (world.other_caseworker, world.lead_coordinator):
        with pytest.raises(PlacementForbidden):
            placements.end_placement(world.session, placement_id=placement.id, actor=outsider, reason="help_ended")
    # the host may end a confirmed placement too; then it is over
    placements.end_placement(
        world.session, placement_id=placement.id, actor=world.host_coordinator, reason="help_ended"
    )
    assert seats_taken(world.session, world.host_offer) == 0
    with pytest.raises(PlacementError, match="diese ist beendet"):
        placements.end_placement(world.session, placement_id=placement.id, actor=world.caseworker, reason="help_ended")
    assert seats_taken(world.session, world.host_offer) == 0
    notes = world.session.exec(select(Notification).where(Notification.user_id == world.caseworker.id)).all()
    assert any("beendet" in n.text for n in notes)


def test_ended_person_can_be_placed_again(world: World) -> None:
    (placement,) = confirm(world, [world.host_offer])
    placements.end_placement(world.session, placement_id=placement.id, actor=world.caseworker, reason="module_changed")
    (again,) = confirm(world, [world.host_offer])
    assert again.id != placement.id and seats_taken(world.session, world.host_offer) == 1


def test_reasons_for_someone_already_placed_name_the_fixed_groups(world: World) -> None:
    confirm(world, [world.own_offer, world.host_offer])  # 4 h of at most 5 h; every other group has 2 h
    world.offer(title="Mittwochsgruppe", sessions=((2, 15 * 60, 17 * 60),))
    world.session.commit()
    result = request(world)
    assert result.waiting and result.options == []
    assert result.reasons[0].startswith("Bereits fest belegt: „Soziales Kompetenztraining“, „Sport und Teamgeist“")
    assert any("Maximum" in reason for reason in result.reasons[1:])


def test_dismiss_and_confirm_proposal_rules(world: World) -> None:
    proposal = make_placement(world.session, young_person=world.person, offer=world.host_offer, source="solver")
    world.session.commit()
    with pytest.raises(PlacementForbidden):
        placements.confirm_proposal(world.session, placement_id=proposal.id, actor=world.other_caseworker)
    with pytest.raises(PlacementForbidden):
        placements.dismiss_proposal(world.session, placement_id=proposal.id, actor=world.host_coordinator)
    open_request = request(world).request
    confirmed = placements.confirm_proposal(world.session, placement_id=proposal.id, actor=world.caseworker)
    assert confirmed.status == "confirmed" and confirmed.request_id == open_request.id
    assert world.session.get(PlacementRequest, open_request.id).status == "fulfilled"
    with pytest.raises(PlacementError, match="nicht mehr offen"):
        placements.confirm_proposal(world.session, placement_id=proposal.id, actor=world.caseworker)
    with pytest.raises(PlacementError, match="vorgeschlagen"):
        placements.dismiss_proposal(world.session, placement_id=proposal.id, actor=world.caseworker)
