"""The database itself refuses rows that break the domain's rules (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session

from marketplace.models import (
    ApiToken,
    Attendance,
    AuditEvent,
    GroupOffer,
    KeepApart,
    Module,
    MonthClose,
    OfferCategory,
    OfferSession,
    OfferWish,
    OffsetEntry,
    Provider,
    Role,
    SharedUse,
    SolverRun,
    User,
    YoungPerson,
)
from marketplace.seats import recount_seats, release_seat, take_seat
from marketplace.timeutil import BERLIN
from tests.factories import (
    make_municipality,
    make_offer,
    make_placement,
    make_provider,
    make_team,
    make_user,
    make_young_person,
)


def _pair(s: Session) -> tuple[YoungPerson, YoungPerson]:
    a, b = make_young_person(s), make_young_person(s)
    return (a, b) if a.id < b.id else (b, a)


def _shared_use(s: Session) -> SharedUse:
    placement = make_placement(s, status="accepted")
    offer = s.get(GroupOffer, placement.offer_id)
    lead = make_provider(s)
    row = SharedUse(placement_id=placement.id, host_provider_id=offer.provider_id, lead_provider_id=lead.id,
                    variant="A", rate_cents=2000)  # fmt: skip
    s.add(row)
    s.flush()
    return row


def _entry(s: Session, **overrides) -> None:
    values = {"shared_use_id": _shared_use(s).id, "month": "2025-03", "session_date": date(2025, 3, 3),
              "minutes": 120, "rate_cents": 2000, "amount_cents": 4000}  # fmt: skip
    s.add(OffsetEntry(**{**values, **overrides}))


def _attendance(s: Session, status: str = "present", twice: bool = False) -> None:
    placement = make_placement(s, status="accepted")
    session_id = s.scalars(select(OfferSession.id).where(OfferSession.offer_id == placement.offer_id)).first()
    for _ in range(2 if twice else 1):
        s.add(Attendance(placement_id=placement.id, session_date=date(2025, 3, 3), offer_session_id=session_id,
                         status=status))  # fmt: skip
        s.flush()


def _second_active_placement(s: Session) -> None:
    first = make_placement(s, status="confirmed")
    young_person, offer = s.get(YoungPerson, first.young_person_id), s.get(GroupOffer, first.offer_id)
    make_placement(s, young_person=young_person, offer=offer, status="proposed")


def _delete_provider_with_offers(s: Session) -> None:
    offer = make_offer(s)
    s.execute(delete(Provider).where(Provider.id == offer.provider_id))


def _add(row_factory: Callable[[Session], object]) -> Callable[[Session], None]:
    def build(s: Session) -> None:
        s.add(row_factory(s))

    return build


BAD_ROWS: dict[str, Callable[[Session], object]] = {
    # group offers
    "offer seats 0": lambda s: make_offer(s, seats=0, min_size=1),
    "offer min size above seats": lambda s: make_offer(s, seats=4, min_size=5),
    "offer min size 0": lambda s: make_offer(s, min_size=0),
    "offer age min above max": lambda s: make_offer(s, age_min=15, age_max=12),
    "offer gender set unknown": lambda s: make_offer(s, genders="x"),
    "offer gender set not canonical": lambda s: make_offer(s, genders="d,f"),
    "offer negative offset rate": lambda s: make_offer(s, offset_rate_cents=-1),
    "offer status unknown": lambda s: make_offer(s, status="online"),
    "offer entry mode unknown": lambda s: make_offer(s, entry_mode="sometimes"),
    "offer published without validity": lambda s: make_offer(s, status="published", certified_until=None),
    "offer rejected without reason": lambda s: make_offer(s, status="rejected", certified_until=None),
    "offer lat without lon": lambda s: make_offer(s, lon=None),
    "offer ends before it starts": lambda s: make_offer(s, last_date=date.today() - timedelta(days=365)),
    "offer seats taken above seats": lambda s: make_offer(s, seats=3, min_size=1, seats_taken=4),
    "offer unknown provider": lambda s: make_offer(s, provider=Provider(id=999999, name="x", short_name="x")),
    "session ends before it starts": lambda s: make_offer(s, sessions=((0, 17 * 60, 15 * 60),)),
    "session of zero length": lambda s: make_offer(s, sessions=((0, 15 * 60, 15 * 60),)),
    "session weekday 7": lambda s: make_offer(s, sessions=((7, 15 * 60, 16 * 60),)),
    "session past midnight": lambda s: make_offer(s, sessions=((0, 23 * 60, 25 * 60),)),
    "session off the quarter hour": lambda s: make_offer(s, sessions=((0, 15 * 60 + 5, 16 * 60),)),
    "session twice at the same time": lambda s: make_offer(s, sessions=((0, 900, 960), (0, 900, 1020))),
    # young people
    "young person gender unknown": lambda s: make_young_person(s, gender="x"),
    "young person priority 4": lambda s: make_young_person(s, priority=4),
    "young person priority 0": lambda s: make_young_person(s, priority=0),
    "young person legal basis unknown": lambda s: make_young_person(s, legal_basis="§ 99"),
    "young person status unknown": lambda s: make_young_person(s, status="paused"),
    "young person no travel": lambda s: make_young_person(s, max_travel_km=0),
    "young person group target above max": lambda s: make_young_person(
        s, group_minutes_target=400, group_minutes_max=300
    ),  # fmt: skip
    "young person negative group target": lambda s: make_young_person(s, group_minutes_target=-60),
    "young person approval ends before start": lambda s: make_young_person(
        s, approval_start=date(2025, 5, 1), approval_end=date(2025, 4, 1)
    ),  # fmt: skip
    "young person crisis without risk report": lambda s: make_young_person(s, crisis_ends_on=date(2025, 5, 1)),
    "young person anonymised with reference": lambda s: make_young_person(s, status="anonymised"),
    "young person implausible birth year": lambda s: make_young_person(s, birth_year=1800),
    "young person duplicate pseudonym": lambda s: [make_young_person(s, pseudonym="JM-AAAA") for _ in "ab"],
    "young person duplicate case reference": lambda s: [make_young_person(s, case_reference="X-1") for _ in "ab"],
    "availability weekday -1": lambda s: make_young_person(s, availability=((-1, 900, 960),)),
    "availability ends before it starts": lambda s: make_young_person(s, availability=((1, 960, 900),)),
    "keep apart not ordered": lambda s: (
        (p := _pair(s)) and s.add(KeepApart(young_person_a_id=p[1].id, young_person_b_id=p[0].id))
    ),  # fmt: skip
    "keep apart with oneself": lambda s: s.add(
        KeepApart(young_person_a_id=(p := make_young_person(s)).id, young_person_b_id=p.id)
    ),  # fmt: skip
    "keep apart twice": lambda s: (
        (pair := _pair(s))
        and [(s.add(KeepApart(young_person_a_id=pair[0].id, young_person_b_id=pair[1].id)), s.flush()) for _ in "ab"]
    ),
    "wish kind unknown": lambda s: s.add(
        OfferWish(young_person_id=make_young_person(s).id, offer_id=make_offer(s).id, kind="maybe")
    ),  # fmt: skip
    "wish twice for one offer": lambda s: (
        (y := make_young_person(s), o := make_offer(s))
        and [
            (s.add(OfferWish(young_person_id=y.id, offer_id=o.id, kind=k)), s.flush())
            for k in ("preferred", "excluded")
        ]
    ),
    # users
    "user role unknown": _add(
        lambda s: User(email="chef@test.example", display_name="x", password_hash="x", role="boss")
    ),  # fmt: skip
    "coordinator without provider": lambda s: make_user(s, role=Role.coordinator, provider_id=None),
    "caseworker without team": lambda s: make_user(s, role=Role.caseworker, team_id=None),
    "planner with provider": lambda s: make_user(s, role=Role.planner, provider_id=make_provider(s).id),
    "admin with team": lambda s: make_user(s, role=Role.admin, team_id=make_team(s).id),
    "email not lower case": lambda s: make_user(s, email="Planung@Jugendamt.example"),
    "email twice": lambda s: [make_user(s, email="doppelt@test.example") for _ in "ab"],
    "negative failed logins": lambda s: make_user(s, failed_logins=-1),
    "provider name twice": lambda s: [make_provider(s, name="Gleicher Träger") for _ in "ab"],
    # catalogues
    "module negative rate": _add(
        lambda s: Module(
            code="neu",
            name="Neu",
            care_minutes_min=60,
            care_minutes_max=120,
            group_minutes_target=60,
            group_minutes_max=60,
            weekly_rate_cents=-100,
        )
    ),  # fmt: skip
    "module care band inverted": _add(
        lambda s: Module(
            code="neu",
            name="Neu",
            care_minutes_min=120,
            care_minutes_max=60,
            group_minutes_target=0,
            group_minutes_max=60,
            weekly_rate_cents=100,
        )
    ),  # fmt: skip
    "municipality latitude 100": lambda s: make_municipality(s, lat=100.0),
    "municipality name twice": lambda s: [make_municipality(s, name="Messel") for _ in "ab"],
    # placements
    "placement status unknown": lambda s: make_placement(s, status="maybe"),
    "placement source unknown": lambda s: make_placement(s, source="oracle"),
    "placement variant C": lambda s: make_placement(s, variant="C"),
    "placement declined without reason": lambda s: make_placement(s, status="declined", decline_reason=None),
    "placement negative rate": lambda s: make_placement(s, offset_rate_cents=-5),
    "two active placements in one group": _second_active_placement,
    "delete provider that has offers": _delete_provider_with_offers,
    # attendance and ledger
    "attendance status unknown": lambda s: _attendance(s, status="late"),
    "attendance twice for one session": lambda s: _attendance(s, twice=True),
    "shared use within one provider": lambda s: (
        (u := _shared_use(s)) and setattr(u, "lead_provider_id", u.host_provider_id)
    ),
    "shared use variant C": lambda s: setattr(_shared_use(s), "variant", "C"),
    "shared use twice for a placement": lambda s: (
        (u := _shared_use(s))
        and s.add(
            SharedUse(
                placement_id=u.placement_id,
                host_provider_id=u.host_provider_id,
                lead_provider_id=u.lead_provider_id,
                variant="B",
                rate_cents=1,
            )
        )
    ),  # fmt: skip
    "offset entry month shape": lambda s: _entry(s, month="2025/3"),
    "offset entry negative amount": lambda s: _entry(s, minutes=-120, amount_cents=-4000),
    "offset entry negative rate": lambda s: _entry(s, rate_cents=-1),
    "month closed twice": lambda s: [(s.add(MonthClose(month="2025-03")), s.flush()) for _ in "ab"],
    # runs and system
    "solver run kind unknown": _add(lambda s: SolverRun(run_key="r1", kind="weekly")),
    "solver run status unknown": _add(lambda s: SolverRun(run_key="r1", kind="nightly", status="sleeping")),
    "solver run key twice": lambda s: [(s.add(SolverRun(run_key="r1", kind="nightly")), s.flush()) for _ in "ab"],
    "audit action unknown": _add(lambda s: AuditEvent(action="read_content", object_type="young_person")),
    "api token scope unknown": _add(
        lambda s: ApiToken(user_id=make_user(s).id, name="t", token_hash="h", scope="admin")
    ),  # fmt: skip
    "api token hash twice": lambda s: (
        (u := make_user(s)) and [(s.add(ApiToken(user_id=u.id, name=n, token_hash="same")), s.flush()) for n in "ab"]
    ),
}


def _ck(table: str, *names: str) -> str:
    return "|".join(f"ck_{table}_{name}" for name in names)


def _uq(table: str, *columns: str) -> str:
    """PostgreSQL names the constraint, SQLite names the columns."""
    return f"uq_{table}_{'_'.join(columns)}|{table}.{columns[0]}"


#: What the database must name in its refusal, so each case fails for the intended reason.
EXPECTED = {
    "offer seats 0": _ck("group_offer", "seats_positive", "min_size_within_seats"),
    "offer min size above seats": _ck("group_offer", "min_size_within_seats"),
    "offer min size 0": _ck("group_offer", "min_size_within_seats"),
    "offer age min above max": _ck("group_offer", "age_range_valid"),
    "offer gender set unknown": _ck("group_offer", "genders_valid"),
    "offer gender set not canonical": _ck("group_offer", "genders_valid"),
    "offer negative offset rate": _ck("group_offer", "offset_rate_non_negative"),
    "offer status unknown": _ck("group_offer", "status_valid"),
    "offer entry mode unknown": _ck("group_offer", "entry_mode_valid"),
    "offer published without validity": _ck("group_offer", "certified_has_validity"),
    "offer rejected without reason": _ck("group_offer", "rejected_has_reason"),
    "offer lat without lon": _ck("group_offer", "lat_lon_together"),
    "offer ends before it starts": _ck("group_offer", "dates_ordered"),
    "offer seats taken above seats": _ck("group_offer", "seats_taken_within_seats"),
    "offer unknown provider": "fk_group_offer_provider_id_provider|FOREIGN KEY",
    "session ends before it starts": _ck("offer_session", "end_after_start"),
    "session of zero length": _ck("offer_session", "end_after_start"),
    "session weekday 7": _ck("offer_session", "weekday_range"),
    "session past midnight": _ck("offer_session", "minutes_in_day"),
    "session off the quarter hour": _ck("offer_session", "quarter_hours"),
    "session twice at the same time": _uq("offer_session", "offer_id", "weekday", "start_minute"),
    "young person gender unknown": _ck("young_person", "gender_valid"),
    "young person priority 4": _ck("young_person", "priority_range"),
    "young person priority 0": _ck("young_person", "priority_range"),
    "young person legal basis unknown": _ck("young_person", "legal_basis_valid"),
    "young person status unknown": _ck("young_person", "status_valid"),
    "young person no travel": _ck("young_person", "max_travel_positive"),
    "young person group target above max": _ck("young_person", "group_band_valid"),
    "young person negative group target": _ck("young_person", "group_band_valid"),
    "young person approval ends before start": _ck("young_person", "approval_ordered"),
    "young person crisis without risk report": _ck("young_person", "crisis_has_risk_report"),
    "young person anonymised with reference": _ck("young_person", "anonymised_has_no_reference"),
    "young person implausible birth year": _ck("young_person", "birth_year_plausible"),
    "young person duplicate pseudonym": _uq("young_person", "pseudonym"),
    "young person duplicate case reference": _uq("young_person", "case_reference"),
    "availability weekday -1": _ck("availability_window", "weekday_range"),
    "availability ends before it starts": _ck("availability_window", "end_after_start"),
    "keep apart not ordered": _ck("keep_apart", "ordered_pair"),
    "keep apart with oneself": _ck("keep_apart", "ordered_pair"),
    "keep apart twice": _uq("keep_apart", "young_person_a_id", "young_person_b_id"),
    "wish kind unknown": _ck("offer_wish", "kind_valid"),
    "wish twice for one offer": _uq("offer_wish", "young_person_id", "offer_id"),
    "user role unknown": _ck("app_user", "role_valid"),
    "coordinator without provider": _ck("app_user", "provider_iff_coordinator"),
    "caseworker without team": _ck("app_user", "team_iff_caseworker"),
    "planner with provider": _ck("app_user", "provider_iff_coordinator"),
    "admin with team": _ck("app_user", "team_iff_caseworker"),
    "email not lower case": _ck("app_user", "email_lower_case"),
    "email twice": _uq("app_user", "email"),
    "negative failed logins": _ck("app_user", "failed_logins_non_negative"),
    "provider name twice": _uq("provider", "name"),
    "module negative rate": _ck("module", "weekly_rate_non_negative"),
    "module care band inverted": _ck("module", "care_band_valid"),
    "municipality latitude 100": _ck("municipality", "lat_range"),
    "municipality name twice": _uq("municipality", "name"),
    "placement status unknown": _ck("placement", "status_valid"),
    "placement source unknown": _ck("placement", "source_valid"),
    "placement variant C": _ck("placement", "variant_valid"),
    "placement declined without reason": _ck("placement", "declined_has_reason"),
    "placement negative rate": _ck("placement", "offset_rate_non_negative"),
    "two active placements in one group": "uq_placement_active_young_person_offer|placement.young_person_id",
    "delete provider that has offers": "fk_group_offer_provider_id_provider|FOREIGN KEY",
    "attendance status unknown": _ck("attendance", "status_valid"),
    "attendance twice for one session": _uq("attendance", "placement_id", "session_date", "offer_session_id"),
    "shared use within one provider": _ck("shared_use", "providers_differ"),
    "shared use variant C": _ck("shared_use", "variant_valid"),
    "shared use twice for a placement": _uq("shared_use", "placement_id"),
    "offset entry month shape": _ck("offset_entry", "month_shape"),
    "offset entry negative amount": _ck("offset_entry", "only_adjustments_negative"),
    "offset entry negative rate": _ck("offset_entry", "rate_non_negative"),
    "month closed twice": _uq("month_close", "month"),
    "solver run kind unknown": _ck("solver_run", "kind_valid"),
    "solver run status unknown": _ck("solver_run", "status_valid"),
    "solver run key twice": _uq("solver_run", "run_key"),
    "audit action unknown": _ck("audit_event", "action_valid"),
    "api token scope unknown": _ck("api_token", "scope_valid"),
    "api token hash twice": _uq("api_token", "token_hash"),
}


def test_every_bad_row_names_its_constraint():
    assert set(EXPECTED) == set(BAD_ROWS)


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_database_rejects(tx_session: Session, case: str):
    with pytest.raises(IntegrityError) as refused:
        BAD_ROWS[case](tx_session)
        tx_session.flush()
    assert re.search(EXPECTED[case], str(refused.value.orig)), str(refused.value.orig)


def test_valid_rows_of_every_placement_status_are_accepted(tx_session: Session):
    for status in ("proposed", "confirmed", "accepted", "declined", "ended"):
        make_placement(tx_session, status=status)
    tx_session.flush()


def test_a_new_placement_is_allowed_after_the_old_one_ended(tx_session: Session):
    old = make_placement(tx_session, status="ended")
    person, offer = tx_session.get(YoungPerson, old.young_person_id), tx_session.get(GroupOffer, old.offer_id)
    make_placement(tx_session, young_person=person, offer=offer, status="declined")
    make_placement(tx_session, young_person=person, offer=offer, status="confirmed")
    tx_session.flush()


def test_deleting_an_offer_cascades_to_sessions_and_categories(tx_session: Session):
    offer = make_offer(tx_session, categories=("sports", "media"), sessions=((0, 900, 960), (2, 900, 960)))
    tx_session.execute(delete(GroupOffer).where(GroupOffer.id == offer.id))
    for model in (OfferSession, OfferCategory):
        assert tx_session.scalars(select(model).where(model.offer_id == offer.id)).all() == []


def test_deleting_a_user_keeps_their_records(tx_session: Session):
    user = make_user(tx_session, role=Role.coordinator)
    offer = make_offer(tx_session, created_by=user.id)
    tx_session.execute(delete(User).where(User.id == user.id))
    tx_session.expire_all()
    assert tx_session.get(GroupOffer, offer.id).created_by is None


def test_timestamps_come_back_as_aware_utc(tx_session: Session):
    local = datetime(2025, 3, 30, 2, 30, tzinfo=UTC).astimezone(BERLIN)  # the night clocks change
    user = make_user(tx_session, locked_until=local)
    tx_session.expire_all()
    stored = tx_session.get(User, user.id).locked_until
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == datetime(2025, 3, 30, 2, 30, tzinfo=UTC)
    assert tx_session.get(User, user.id).created_at.tzinfo is not None


def test_naive_timestamps_are_refused(tx_session: Session):
    with pytest.raises(StatementError, match="naive datetime"):
        make_user(tx_session, locked_until=datetime(2025, 1, 1, 12, 0))


def test_seat_guard_refuses_overbooking(tx_session: Session):
    offer = make_offer(tx_session, seats=2, min_size=1)
    assert take_seat(tx_session, offer.id) and take_seat(tx_session, offer.id)
    assert take_seat(tx_session, offer.id) is False
    assert offer.seats_taken == 2  # the loaded object sees the new count
    with pytest.raises(IntegrityError):  # a careless UPDATE is stopped by the CHECK
        tx_session.execute(text("UPDATE group_offer SET seats_taken = seats_taken + 1 WHERE id = :id"),
                           {"id": offer.id})  # fmt: skip


def test_releasing_and_recounting_seats(tx_session: Session):
    offer = make_offer(tx_session, seats=3, min_size=1)
    assert release_seat(tx_session, offer.id) is False
    take_seat(tx_session, offer.id)
    assert release_seat(tx_session, offer.id) is True
    for status in ("confirmed", "accepted", "proposed", "declined"):
        make_placement(tx_session, offer=offer, status=status)
    assert recount_seats(tx_session, offer.id) == 2
    assert offer.seats_taken == 2
