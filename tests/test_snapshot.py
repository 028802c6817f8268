"""The bridge: database rows -> pseudonymous matching problem (marketplace.snapshot)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from marketplace.matching.solution import solution_to_json
from marketplace.matching.solve import solve
from marketplace.models import KeepApart, OfferWish, Setting
from marketplace.snapshot import build_snapshot, group_key, person_key
from marketplace.timeutil import utcnow
from tests.factories import (
    make_municipality,
    make_offer,
    make_placement,
    make_provider,
    make_young_person,
)
from tests.matching.conftest import verify


def _solve_and_verify(snapshot) -> dict[str, tuple[str, ...]]:
    solution = solve(snapshot.problem)
    verify(snapshot.raw, solution_to_json(solution))
    return solution.assignments


def test_bookable_offer_and_active_person_become_a_solvable_problem(session):
    town = make_municipality(session)
    offer = make_offer(session, municipality=town, vacancy_confirmed_at=utcnow())
    person = make_young_person(session, municipality=town)
    snap = build_snapshot(session)
    assert group_key(offer.id) in snap.problem.groups
    assert person_key(person.id) in snap.problem.people
    group = snap.problem.groups[group_key(offer.id)]
    assert group.seats == 8 and group.min_size == 3 and group.offset_rate == 20.0
    # alone, the person cannot open a group of minimum size 3
    assert _solve_and_verify(snap).get(person_key(person.id), ()) == ()


def test_group_opens_when_enough_people_fit(session):
    town = make_municipality(session)
    offer = make_offer(session, municipality=town, min_size=2)
    people = [make_young_person(session, municipality=town) for _ in range(2)]
    assignments = _solve_and_verify(build_snapshot(session))
    for person in people:
        assert assignments[person_key(person.id)] == (group_key(offer.id),)


def test_only_bookable_offers_and_active_cases_are_included(session):
    today = date.today()
    town = make_municipality(session)
    draft = make_offer(session, municipality=town, status="draft", certified_until=None)
    expired = make_offer(session, municipality=town, certified_until=today - timedelta(days=1))
    finished = make_offer(session, municipality=town, last_date=today - timedelta(days=1))
    live = make_offer(session, municipality=town)
    ended_case = make_young_person(session, municipality=town, status="ended")
    not_yet = make_young_person(session, municipality=town, approval_start=today + timedelta(days=3))
    over = make_young_person(session, municipality=town, approval_start=today - timedelta(days=90),
                             approval_end=today - timedelta(days=1))
    active = make_young_person(session, municipality=town)
    snap = build_snapshot(session)
    assert set(snap.problem.groups) == {group_key(live.id)}
    assert set(snap.problem.people) == {person_key(active.id)}
    assert {draft.id, expired.id, finished.id}.isdisjoint(snap.offer_id(g) for g in snap.problem.groups)
    assert {ended_case.id, not_yet.id, over.id}.isdisjoint(snap.young_person_id(p) for p in snap.problem.people)


def test_confirmed_placements_are_pinned_and_proposals_current(session):
    town = make_municipality(session)
    offer_a = make_offer(session, municipality=town, min_size=1)
    offer_b = make_offer(session, municipality=town, min_size=1, sessions=((2, 15 * 60, 17 * 60),))
    person = make_young_person(session, municipality=town)
    make_placement(session, young_person=person, offer=offer_a, status="confirmed")
    make_placement(session, young_person=person, offer=offer_b, status="proposed")
    y = build_snapshot(session).problem.people[person_key(person.id)]
    assert y.pinned == (group_key(offer_a.id),)
    assert set(y.current) == {group_key(offer_a.id), group_key(offer_b.id)}


def test_paused_offer_keeps_its_pinned_members_but_takes_no_newcomers(session):
    town = make_municipality(session)
    paused = make_offer(session, municipality=town, status="paused", min_size=1)
    member = make_young_person(session, municipality=town)
    newcomer = make_young_person(session, municipality=town)
    make_placement(session, young_person=member, offer=paused, status="accepted")
    snap = build_snapshot(session)
    group = snap.problem.groups[group_key(paused.id)]
    assert group.open_for_new is False
    assignments = _solve_and_verify(snap)
    assert assignments[person_key(member.id)] == (group_key(paused.id),)
    assert assignments.get(person_key(newcomer.id), ()) == ()


def test_closed_cohort_accepts_entries_only_before_it_starts(session):
    today = date.today()
    town = make_municipality(session)
    running = make_offer(session, municipality=town, entry_mode="closed")
    upcoming = make_offer(session, municipality=town, entry_mode="closed", first_date=today + timedelta(days=7))
    groups = build_snapshot(session).problem.groups
    assert groups[group_key(running.id)].open_for_new is False
    assert groups[group_key(upcoming.id)].open_for_new is True


def test_pinned_placement_no_longer_allowed_becomes_fixed_load(session):
    near = make_municipality(session)
    far = make_municipality(session, lat=near.lat + 1.0, lon=near.lon)  # about 111 km away
    offer = make_offer(session, municipality=near, seats=5, min_size=1, vacancy_confirmed_at=utcnow())
    moved = make_young_person(session, municipality=far)
    make_placement(session, young_person=moved, offer=offer, status="confirmed")
    snap = build_snapshot(session)
    assert [(f.young_person_id, f.offer_id, f.reason) for f in snap.fixed_load] == [(moved.id, offer.id, "distance")]
    group = snap.problem.groups[group_key(offer.id)]
    assert group.seats == 4
    y = snap.problem.people[person_key(moved.id)]
    assert y.pinned == () and y.max_hours == 3.0  # standard module max 5 h minus the 2 h group
    # Monday 15-17 is blocked in the person's week
    assert all(not (w.day == 0 and w.start < 17 * 60 and 15 * 60 < w.end) for w in y.available)
    _solve_and_verify(snap)


def test_wishes_conflicts_and_weights_are_carried_over(session):
    town = make_municipality(session)
    liked = make_offer(session, municipality=town)
    disliked = make_offer(session, municipality=town)
    a = make_young_person(session, municipality=town)
    b = make_young_person(session, municipality=town)
    session.add(OfferWish(young_person_id=a.id, offer_id=liked.id, kind="preferred"))
    session.add(OfferWish(young_person_id=a.id, offer_id=disliked.id, kind="excluded"))
    session.add(KeepApart(young_person_a_id=min(a.id, b.id), young_person_b_id=max(a.id, b.id)))
    session.add(Setting(key="solver.weights", value={"km": 25, "bogus": 3, "change": -1}))
    session.flush()
    snap = build_snapshot(session)
    y = snap.problem.people[person_key(a.id)]
    assert y.preferred == {group_key(liked.id)} and y.excluded == {group_key(disliked.id)}
    first, second = sorted([a.id, b.id])
    assert snap.problem.people[person_key(first)].avoid_with == (person_key(second),)
    assert snap.problem.weights["km"] == 25 and snap.problem.weights["change"] == 300
    assert "bogus" not in snap.problem.weights


def test_problem_is_pseudonymous(session):
    town = make_municipality(session)
    provider = make_provider(session, name="Sonnenhof Jugendhilfe gGmbH")
    make_offer(session, municipality=town, provider=provider)
    person = make_young_person(session, municipality=town, case_reference="AZ-2026-4711")
    text = json.dumps(build_snapshot(session).raw, ensure_ascii=False)
    for secret in (person.pseudonym, person.case_reference, provider.name):
        assert secret not in text


def test_young_person_without_lead_provider_or_availability(session):
    town = make_municipality(session)
    make_offer(session, municipality=town, min_size=1, sessions=((5, 10 * 60, 12 * 60),))
    person = make_young_person(session, municipality=town, availability=(), lead_provider_id=None)
    snap = build_snapshot(session)
    y = snap.problem.people[person_key(person.id)]
    assert y.available is None and y.lead_provider == "JA"
    assert _solve_and_verify(snap)[person_key(person.id)]


def test_stale_offers_plan_only_part_of_their_seats(session):
    town = make_municipality(session)
    fresh = make_offer(session, municipality=town, seats=9, min_size=6, vacancy_confirmed_at=utcnow())
    stale = make_offer(session, municipality=town, seats=9, min_size=6,
                       vacancy_confirmed_at=utcnow() - timedelta(days=45))
    never = make_offer(session, municipality=town, seats=2, min_size=1)
    members = [make_young_person(session, municipality=town) for _ in range(2)]
    for person in members:
        make_placement(session, young_person=person, offer=never, status="confirmed")
    groups = build_snapshot(session).problem.groups
    assert groups[group_key(fresh.id)].seats == 9
    assert (groups[group_key(stale.id)].seats, groups[group_key(stale.id)].min_size) == (5, 5)
    assert groups[group_key(never.id)].seats == 2  # its confirmed members keep their seats
