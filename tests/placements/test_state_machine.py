"""A Hypothesis state machine over the placement lifecycle in a small district, on SQLite and PostgreSQL.

Rules (each runs in a fresh session, like one web request): a caseworker requests a placement, confirms
an option (sometimes variant B, sometimes a made-up set of groups), confirms or dismisses a solver
proposal; the hosting provider's coordinator accepts or declines (with a reason, sometimes an empty
one); either side ends a placement; the nightly run rebalances. Wrong actors and wrong states are
tried on purpose.

Invariants, read from the database after every step:
- every offer's `seats_taken` equals its seat-holding placements and never exceeds `seats`;
- at most one active placement per young person and offer; at most one open request per person;
- every placement's `PlacementEvent` chain starts at nothing, follows the legal transitions and ends
  at the placement's status; a cross-provider confirmation has exactly one `SharedUse`;
- (in the rules) a refused use case raises `PlacementError` with a German message and writes nothing;
  where the outcome is obvious (accept, decline, end, dismiss) it succeeds exactly when it should;
  confirmed and accepted placements come out of a nightly run unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from marketplace import placements
from marketplace.models import (
    AuditEvent,
    GroupOffer,
    Notification,
    Placement,
    PlacementEvent,
    PlacementRequest,
    RequestStatus,
    Role,
    SharedUse,
    User,
    YoungPerson,
)
from marketplace.placements import END_REASON_LABELS, MAX_REASON_LENGTH, PlacementError
from marketplace.runs import create_run, execute_run
from marketplace.timeutil import utcnow
from tests.factories import make_municipality, make_offer, make_provider, make_team, make_user, make_young_person
from tests.matching.conftest import verify

from .conftest import World

HOLDING = ("confirmed", "accepted")
ACTIVE = ("proposed", "confirmed", "accepted")
OPEN_REQUESTS = (RequestStatus.open.value, RequestStatus.waiting.value)
#: (from, to) of every legal status change; None = the placement was created.
LEGAL = {
    (None, "proposed"), (None, "confirmed"),
    ("proposed", "confirmed"), ("proposed", "ended"),
    ("confirmed", "accepted"), ("confirmed", "declined"), ("confirmed", "ended"),
    ("accepted", "ended"),
}  # fmt: skip

_GERMAN = re.compile(r"\b(der|die|das|den|dem|des|ist|nicht|bitte|Sie|nur|eine?|kann|keine?|wurde|gibt|es|und)\b"
                     r"|[äöüßÄÖÜ„“]")
_NOT_GERMAN = re.compile(r"\b(the|is|not|please|cannot|failed|None|Traceback)\b|Error|Exception|[{}]|sqlalchemy",
                         re.IGNORECASE)


def assert_german(error: PlacementError) -> None:
    """A refusal speaks German to the person: a sentence, no English, no leaked internals."""
    message = error.message
    assert message and message == str(error), error
    assert _GERMAN.search(message), f"not German: {message!r}"
    assert not _NOT_GERMAN.search(message), f"English or internals in: {message!r}"
    assert message.rstrip()[-1] in ".!?“", f"not a sentence: {message!r}"


def _seed_steps() -> st.SearchStrategy[int]:
    return st.integers(0, 999)


ROGUE = 7  # an actor draw of 7 (one in ten, and not a value Hypothesis favours) picks the wrong person


def _actors() -> st.SearchStrategy[int]:
    return st.integers(0, 9)


class PlacementMachine(RuleBasedStateMachine):
    """The model is the database itself; the machine remembers only ids and the options it was shown."""

    engine: Engine  # set by the test (a subclass per database)

    def __init__(self) -> None:
        super().__init__()
        self.options: dict[int, list[tuple[int, ...]]] = {}  # request id -> offer ids of each option shown
        self.offer_ids: list[int] = []
        self.person_ids: list[int] = []
        self.provider_ids: list[int] = []
        self.coordinator_of: dict[int, int] = {}  # provider id -> coordinator's user id
        self.caseworker_id = self.outsider_id = 0
        self.steps_since_run = 0

    # ------------------------------------------------------------------ the district

    @initialize(
        seats=st.lists(st.integers(1, 3), min_size=5, max_size=5),
        min_sizes=st.lists(st.integers(1, 2), min_size=5, max_size=5),
        people=st.integers(6, 9),
        needs=st.lists(st.sampled_from(["social_skills", "sports", "learning"]), min_size=9, max_size=9),
    )
    def district(self, seats: list[int], min_sizes: list[int], people: int, needs: list[str]) -> None:
        today = date.today()
        with Session(self.engine, expire_on_commit=False) as session:
            _retire_earlier_examples(session)
            town = make_municipality(session)
            lead, host, closed = (make_provider(session, allows_co_use=flag) for flag in (True, True, False))
            self.provider_ids = [lead.id, host.id, closed.id]
            team = make_team(session)
            self.caseworker_id = make_user(session, Role.caseworker, team_id=team.id).id
            self.outsider_id = make_user(session, Role.caseworker).id  # another team
            for provider in (lead, host, closed):
                self.coordinator_of[provider.id] = make_user(session, Role.coordinator, provider_id=provider.id).id
            layout = [  # provider, categories, sessions, starts in the future?
                (lead, ("social_skills",), ((0, 15 * 60, 17 * 60),), False),
                (host, ("social_skills", "sports"), ((1, 15 * 60, 17 * 60),), False),
                (host, ("sports",), ((0, 16 * 60, 18 * 60),), False),  # overlaps the first
                (closed, ("social_skills", "learning"), ((2, 15 * 60, 17 * 60),), True),
                (closed, ("learning",), ((3, 15 * 60, 16 * 60),), False),
            ]
            for n, (provider, categories, sessions, future) in enumerate(layout):
                extra = {"first_date": today + timedelta(days=7)} if future else {}
                offer = make_offer(session, provider=provider, municipality=town, categories=categories,
                                   sessions=sessions, seats=seats[n], min_size=min(min_sizes[n], seats[n]),
                                   title=f"Gruppe {n}", **extra)
                self.offer_ids.append(offer.id)
            for n in range(people):
                lead_id = self.provider_ids[n % 3] if n % 4 else None
                person = make_young_person(session, team=team, municipality=town,
                                           module="basis" if n % 3 == 2 else "standard",
                                           needs=tuple(sorted({needs[n], needs[(n + 1) % 9]})),
                                           lead_provider_id=lead_id, caseworker_id=self.caseworker_id)
                self.person_ids.append(person.id)
            session.commit()
        for index in range(0, people, 2):  # half of them are asked for already
            self.request(index, actor=0, note=None)

    # ------------------------------------------------------------------ helpers

    def _fingerprint(self) -> tuple:
        """Everything a refused use case must leave alone."""
        with Session(self.engine) as session:
            counts = tuple(session.scalar(select(func.count()).select_from(model))
                           for model in (Placement, PlacementEvent, PlacementRequest, SharedUse, Notification,
                                         AuditEvent))
            rows = tuple(session.exec(select(Placement.id, Placement.status, Placement.version)
                                      .order_by(Placement.id)).all())
            offers = tuple(session.exec(select(GroupOffer.id, GroupOffer.seats_taken).order_by(GroupOffer.id)).all())
            requests = tuple(session.exec(select(PlacementRequest.id, PlacementRequest.status)
                                          .order_by(PlacementRequest.id)).all())
        return counts, rows, offers, requests

    def _attempt(self, name: str, action: Callable[[Session], Any], expect_ok: bool | None = None) -> Any:
        """Run one use case in a fresh session; a refusal must be German and write nothing.

        `expect_ok` True/False: the outcome is known in advance and checked; None: either is fine.
        Anything else than `PlacementError` propagates (a bug).
        """
        self.steps_since_run += 1
        before = self._fingerprint()
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                result = action(session)
            except PlacementError as error:
                event(f"{name}: refused")
                session.rollback()  # what the web layer does
                assert expect_ok is not True, f"refused unexpectedly: {error.message}"
                assert_german(error)
                assert self._fingerprint() == before, f"a refusal changed data: {error.message}"
                return None
        assert expect_ok is not False, "allowed unexpectedly"
        event(f"{name}: done")
        return result

    def _user(self, session: Session, user_id: int) -> User:
        return session.get(User, user_id)

    def _placements(self) -> list[Placement]:
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.exec(select(Placement).where(Placement.offer_id.in_(self.offer_ids))
                                     .order_by(Placement.id)).all())

    def _pick_placement(self, index: int, statuses: tuple[str, ...]) -> Placement | None:
        """Mostly a placement in one of `statuses`; one pick in five (or when none fits) any placement."""
        rows = self._placements()
        fitting = [p for p in rows if p.status in statuses]
        rows = fitting if fitting and index % 5 != 3 else rows
        return rows[index % len(rows)] if rows else None

    def _host_of(self, placement: Placement) -> int:
        with Session(self.engine) as session:
            return session.get(GroupOffer, placement.offer_id).provider_id

    def _coordinator(self, host_id: int, wrong: bool) -> int:
        if not wrong:
            return self.coordinator_of[host_id]
        return next(uid for pid, uid in self.coordinator_of.items() if pid != host_id)

    def _pinned(self) -> list[tuple]:
        with Session(self.engine) as session:
            return list(session.exec(
                select(Placement.id, Placement.young_person_id, Placement.offer_id, Placement.status,
                       Placement.version, Placement.confirmed_at, Placement.accepted_at, Placement.variant,
                       Placement.offset_rate_cents)
                .where(Placement.status.in_(HOLDING)).order_by(Placement.id)).all())

    # ------------------------------------------------------------------ the caseworker

    @rule(index=_seed_steps(), actor=_actors(),
          note=st.sampled_from([None, "", "Bitte möglichst wohnortnah.", "x" * (MAX_REASON_LENGTH + 1)]))
    def request(self, index: int, actor: int, note: str | None) -> None:
        person_id = self.person_ids[index % len(self.person_ids)]
        actor_id = self.outsider_id if actor == ROGUE else self.caseworker_id
        result = self._attempt("request_placement", lambda s: placements.request_placement(
            s, young_person_id=person_id, actor=self._user(s, actor_id), note=note),
            expect_ok=False if actor_id == self.outsider_id or (note and len(note) > MAX_REASON_LENGTH) else None)
        if result is not None:
            assert result.request.status in OPEN_REQUESTS
            assert (result.request.status == "waiting") == (not result.options)
            assert len(result.options) <= 3
            self.options[result.request.id] = [option.offer_ids for option in result.options]

    @precondition(lambda self: self.options)
    @rule(index=_seed_steps(), option=st.integers(0, 3), made_up=st.lists(st.integers(0, 4), max_size=2),
          variant=st.sampled_from([None, None, "A", "B", "C"]))
    def confirm(self, index: int, option: int, made_up: list[int], variant: str | None) -> None:
        request_id = sorted(self.options)[index % len(self.options)]
        shown = self.options[request_id]
        if shown and option < 3:
            offer_ids = list(shown[option % len(shown)])
        else:  # a hand-made choice, as a tampered form would send (may repeat a group or be empty)
            offer_ids = [self.offer_ids[n] for n in made_up]
        with Session(self.engine) as session:
            closed = session.get(PlacementRequest, request_id).status not in OPEN_REQUESTS
        result = self._attempt("confirm_option", lambda s: placements.confirm_option(
            s, request_id=request_id, offer_ids=offer_ids, actor=self._user(s, self.caseworker_id),
            variant=variant), expect_ok=False if closed or variant == "C" or not offer_ids else None)
        if result is not None:
            assert [p.offer_id for p in result] == offer_ids
            assert all(p.status == "confirmed" and p.request_id == request_id for p in result)
            with Session(self.engine) as session:
                assert session.get(PlacementRequest, request_id).status == "fulfilled"

    @rule(index=_seed_steps(), actor=_actors(), variant=st.sampled_from([None, "A", "B"]))
    def confirm_proposal(self, index: int, actor: int, variant: str | None) -> None:
        placement = self._pick_placement(index, ("proposed",))
        if placement is None:
            return
        actor_id = self.outsider_id if actor == ROGUE else self.caseworker_id
        expect = False if placement.status != "proposed" or actor_id == self.outsider_id else None
        result = self._attempt("confirm_proposal", lambda s: placements.confirm_proposal(
            s, placement_id=placement.id, actor=self._user(s, actor_id), variant=variant), expect_ok=expect)
        if result is not None:
            assert result.id == placement.id and result.status == "confirmed"  # confirmed in place

    @rule(index=_seed_steps(), actor=_actors())
    def dismiss_proposal(self, index: int, actor: int) -> None:
        placement = self._pick_placement(index, ("proposed",))
        if placement is None:
            return
        actor_id = self.outsider_id if actor == ROGUE else self.caseworker_id
        ok = placement.status == "proposed" and actor_id == self.caseworker_id
        result = self._attempt("dismiss_proposal", lambda s: placements.dismiss_proposal(
            s, placement_id=placement.id, actor=self._user(s, actor_id)), expect_ok=ok)
        if result is not None:
            assert result.status == "ended"

    # ------------------------------------------------------------------ the hosting provider

    @rule(index=_seed_steps(), actor=_actors())
    def accept(self, index: int, actor: int) -> None:
        placement = self._pick_placement(index, ("confirmed",))
        if placement is None:
            return
        actor_id = self._coordinator(self._host_of(placement), actor == ROGUE)
        ok = placement.status == "confirmed" and actor != ROGUE
        result = self._attempt("accept_placement", lambda s: placements.accept_placement(
            s, placement_id=placement.id, actor=self._user(s, actor_id)), expect_ok=ok)
        if result is not None:
            assert result.status == "accepted"

    @rule(index=_seed_steps(), actor=_actors(),
          reason=st.sampled_from(["Gruppe passt nicht zum Bedarf.", "", "   ", "x" * (MAX_REASON_LENGTH + 1)]))
    def decline(self, index: int, actor: int, reason: str) -> None:
        placement = self._pick_placement(index, ("confirmed",))
        if placement is None:
            return
        actor_id = self._coordinator(self._host_of(placement), actor == ROGUE)
        ok = placement.status == "confirmed" and actor != ROGUE and 0 < len(reason.strip()) <= MAX_REASON_LENGTH
        result = self._attempt("decline_placement", lambda s: placements.decline_placement(
            s, placement_id=placement.id, actor=self._user(s, actor_id), reason=reason), expect_ok=ok)
        if result is not None:
            assert result.status == "declined" and result.decline_reason == reason.strip()

    # ------------------------------------------------------------------ either side

    @rule(index=_seed_steps(), by=st.sampled_from(["host", "caseworker", "outsider", "other_host"]),
          reason=st.sampled_from([*END_REASON_LABELS, "vanished"]),
          note=st.sampled_from([None, "", "Umzug nach Kassel"]))
    def end(self, index: int, by: str, reason: str, note: str | None) -> None:
        placement = self._pick_placement(index, HOLDING)
        if placement is None:
            return
        host_id = self._host_of(placement)
        actor_id = {"host": self.coordinator_of[host_id], "caseworker": self.caseworker_id,
                    "outsider": self.outsider_id, "other_host": self._coordinator(host_id, True)}[by]
        ok = (placement.status in HOLDING and by in ("host", "caseworker") and reason in END_REASON_LABELS
              and (reason != "other" or bool(note)))
        result = self._attempt("end_placement", lambda s: placements.end_placement(
            s, placement_id=placement.id, actor=self._user(s, actor_id), reason=reason, note=note), expect_ok=ok)
        if result is not None:
            assert result.status == "ended" and result.end_reason.startswith(END_REASON_LABELS[reason])

    # ------------------------------------------------------------------ the nightly run

    @precondition(lambda self: self.steps_since_run >= 3)
    @rule()
    def nightly_run(self) -> None:
        pinned = self._pinned()
        run = execute_run(self.engine, create_run(self.engine, kind="nightly"), time_limit_s=3, deterministic=True)
        assert run.status == "done", run.error
        verify(run.problem_json, run.solution_json)
        assert self._pinned() == pinned  # confirmed and accepted placements survive unchanged
        self.steps_since_run = 0  # the shown options may be stale now: confirming them is still tried

    # ------------------------------------------------------------------ invariants

    @invariant()
    def seats_match_the_placements(self) -> None:
        with Session(self.engine) as session:
            held = dict(session.exec(select(Placement.offer_id, func.count()).where(Placement.status.in_(HOLDING))
                                     .group_by(Placement.offer_id)).all())
            for offer in session.exec(select(GroupOffer)).all():
                assert offer.seats_taken == held.get(offer.id, 0) <= offer.seats, (offer.title, offer.seats_taken,
                                                                                  held.get(offer.id, 0), offer.seats)

    @invariant()
    def one_active_placement_and_one_open_request_per_person(self) -> None:
        with Session(self.engine) as session:
            doubles = session.exec(select(Placement.young_person_id, Placement.offer_id, func.count())
                                   .where(Placement.status.in_(ACTIVE))
                                   .group_by(Placement.young_person_id, Placement.offer_id)
                                   .having(func.count() > 1)).all()
            assert doubles == []
            open_requests = session.exec(select(PlacementRequest.young_person_id, func.count())
                                         .where(PlacementRequest.status.in_(OPEN_REQUESTS),
                                                PlacementRequest.young_person_id.in_(self.person_ids))
                                         .group_by(PlacementRequest.young_person_id)
                                         .having(func.count() > 1)).all()
            assert open_requests == [], "a person is on the waiting list twice"

    @invariant()
    def histories_follow_legal_transitions(self) -> None:
        with Session(self.engine) as session:
            events: dict[int, list[PlacementEvent]] = {}
            for row in session.exec(select(PlacementEvent).order_by(PlacementEvent.id)).all():
                events.setdefault(row.placement_id, []).append(row)
            shared = dict(session.exec(select(SharedUse.placement_id, func.count())
                                       .group_by(SharedUse.placement_id)).all())
            for placement in self._placements():
                chain = events.get(placement.id, [])
                assert chain, f"placement {placement.id} has no history"
                status = None
                for step in chain:
                    assert step.from_status == status, (placement.id, [(e.from_status, e.to_status) for e in chain])
                    assert (step.from_status, step.to_status) in LEGAL, (step.from_status, step.to_status)
                    status = step.to_status
                assert status == placement.status, (placement.id, status, placement.status)
                person = session.get(YoungPerson, placement.young_person_id)
                host = session.get(GroupOffer, placement.offer_id).provider_id
                cross = person.lead_provider_id is not None and person.lead_provider_id != host
                was_confirmed = placement.confirmed_at is not None
                assert shared.get(placement.id, 0) == (1 if cross and was_confirmed else 0), placement.id
                assert (placement.variant is not None) == (cross and was_confirmed), placement.id
                if placement.variant == "B":
                    assert host != self.provider_ids[2] and person.lead_provider_id != self.provider_ids[2]


def _retire_earlier_examples(session: Session) -> None:
    """Hypothesis reuses the database between examples: take what earlier examples left out of the plan."""
    now = utcnow()
    session.execute(update(Placement).where(Placement.status.in_(ACTIVE))
                    .values(status="ended", ended_at=now, end_reason="Testende"))
    session.execute(update(GroupOffer).values(status="ended", seats_taken=0))
    session.execute(update(YoungPerson).values(status="ended"))
    session.execute(update(PlacementRequest).where(PlacementRequest.status.in_(OPEN_REQUESTS))
                    .values(status="cancelled", closed_at=now))
    session.commit()


SETTINGS = settings(max_examples=25, stateful_step_count=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
POSTGRES_EXAMPLES = 12  # each step costs about three times as much there; SQLite explores more


def test_placement_lifecycle_state_machine(db_engine: Engine) -> None:
    machine = type("PlacementMachineOnThisDatabase", (PlacementMachine,), {"engine": db_engine})
    examples = POSTGRES_EXAMPLES if db_engine.dialect.name == "postgresql" else SETTINGS.max_examples
    run_state_machine_as_test(machine, settings=settings(SETTINGS, max_examples=examples))


def test_decline_keeps_one_waiting_list_entry_per_person(world: World) -> None:
    """Found by the machine: a declined placement reopened its fulfilled request although the person
    had asked again meanwhile, putting them on the waiting list twice."""
    session, person = world.session, world.person
    first = placements.request_placement(session, young_person_id=person.id, actor=world.caseworker)
    (placement,) = placements.confirm_option(session, request_id=first.request.id, offer_ids=[world.host_offer.id],
                                             actor=world.caseworker)
    second = placements.request_placement(session, young_person_id=person.id, actor=world.caseworker)
    assert second.request.id != first.request.id  # more group hours: a new request
    placements.decline_placement(session, placement_id=placement.id, actor=world.host_coordinator,
                                 reason="Gruppe ist konzeptionell nicht passend.")
    session.expire_all()
    assert session.get(PlacementRequest, second.request.id).status in OPEN_REQUESTS
    assert session.get(PlacementRequest, first.request.id).status == "fulfilled"
    assert len(session.exec(select(PlacementRequest).where(PlacementRequest.young_person_id == person.id,
                                                          PlacementRequest.status.in_(OPEN_REQUESTS))).all()) == 1
