"""Offset ledger: booking from attendance, rounding, rate snapshots, closing, corrections, netting."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from marketplace.ledger import (
    BILL_EXCUSED_SETTING,
    LedgerError,
    amount_cents,
    book_month,
    close_month,
    netting,
    statement,
)
from marketplace.models import Attendance, OffsetEntry, Setting, SharedUse
from tests.factories import make_offer, make_placement, make_provider, make_user, make_young_person

MONDAYS_OCT = [date(2026, 10, d) for d in (5, 12, 19, 26)]


@pytest.fixture
def shared(session):
    """Provider B's young person in provider A's Monday group (90 minutes), rate 18,50 €."""
    host, lead = make_provider(session, name="Host e.V."), make_provider(session, name="Lead gGmbH")
    offer = make_offer(session, provider=host, sessions=((0, 15 * 60, 16 * 60 + 30),), offset_rate_cents=1850)
    person = make_young_person(session, lead_provider_id=lead.id)
    placement = make_placement(session, young_person=person, offer=offer, status="accepted")
    use = SharedUse(placement_id=placement.id, host_provider_id=host.id, lead_provider_id=lead.id,
                    variant="A", rate_cents=1850)
    session.add(use)
    session.flush()
    return {"host": host, "lead": lead, "offer": offer, "person": person, "placement": placement, "use": use,
            "planner": make_user(session, "planner")}


def _attend(session, shared, day, status="present"):
    row = Attendance(placement_id=shared["placement"].id, session_date=day,
                     offer_session_id=shared["offer"].sessions[0].id, status=status)
    session.add(row)
    session.flush()
    return row


def test_rounding_is_half_up_per_entry():
    assert amount_cents(90, 1850) == 2775
    assert amount_cents(50, 1999) == 1666  # 1665,83 -> 1666
    assert amount_cents(45, 1002) == 752  # 751,5 -> 752 (half up)
    assert amount_cents(0, 5000) == 0


def test_present_marks_are_booked_at_the_snapshot_rate(session, shared):
    for day, status in zip(MONDAYS_OCT, ["present", "present", "absent", "excused"], strict=True):
        _attend(session, shared, day, status)
    shared["offer"].offset_rate_cents = 9900  # a later rate change does not alter the shared use
    result = book_month(session, month="2026-10")
    assert (result.entries, result.total_cents) == (2, 2 * 2775)
    month = statement(session, month="2026-10")
    [pair] = month.pairs
    assert (pair.host_name, pair.lead_name, pair.total_cents, pair.minutes) == ("Host e.V.", "Lead gGmbH", 5550, 180)
    assert {line.pseudonym for line in pair.lines} == {shared["person"].pseudonym}
    assert month.balances == {shared["host"].id: 5550, shared["lead"].id: -5550}
    [transfer] = month.transfers
    assert (transfer.payer_id, transfer.payee_id, transfer.amount_cents) == (shared["lead"].id, shared["host"].id, 5550)


def test_excused_absences_count_only_when_configured(session, shared):
    _attend(session, shared, MONDAYS_OCT[0], "excused")
    assert book_month(session, month="2026-10").entries == 0
    session.add(Setting(key=BILL_EXCUSED_SETTING, value=True))
    session.flush()
    assert book_month(session, month="2026-10").entries == 1


def test_rebooking_an_open_month_is_idempotent(session, shared):
    _attend(session, shared, MONDAYS_OCT[0])
    first = book_month(session, month="2026-10")
    second = book_month(session, month="2026-10")
    assert first.total_cents == second.total_cents == 2775 and second.entries == 1


def test_closing_rules(session, shared):
    _attend(session, shared, MONDAYS_OCT[0])
    with pytest.raises(LedgerError, match="noch nicht vorbei"):
        close_month(session, month="2026-10", actor=shared["planner"], today=date(2026, 10, 20))
    with pytest.raises(LedgerError, match="Ungültiger Monat"):
        close_month(session, month="10/2026", actor=shared["planner"], today=date(2026, 11, 22))
    close_month(session, month="2026-10", actor=shared["planner"], today=date(2026, 11, 22))
    with pytest.raises(LedgerError, match="bereits abgeschlossen"):
        close_month(session, month="2026-10", actor=shared["planner"], today=date(2026, 11, 22))
    with pytest.raises(LedgerError, match="abgeschlossen"):
        book_month(session, month="2026-10")
    assert statement(session, month="2026-10").closed is True


def test_months_close_in_order(session, shared):
    _attend(session, shared, date(2026, 9, 28))
    _attend(session, shared, MONDAYS_OCT[0])
    with pytest.raises(LedgerError, match="zuerst den Monat 2026-09"):
        close_month(session, month="2026-10", actor=shared["planner"], today=date(2026, 11, 22))


def test_corrections_of_a_closed_month_are_booked_next_month(session, shared):
    rows = [_attend(session, shared, day) for day in MONDAYS_OCT[:2]]
    close_month(session, month="2026-10", actor=shared["planner"], today=date(2026, 11, 22))
    closed_total = statement(session, month="2026-10").pairs[0].total_cents
    rows[0].status = "absent"  # a late correction of October
    session.add(rows[0])
    _attend(session, shared, date(2026, 11, 2))
    result = book_month(session, month="2026-11")
    assert result.adjustments == 1
    november = statement(session, month="2026-11").pairs[0]
    reversal = [line for line in november.lines if line.amount_cents < 0]
    assert [(r.amount_cents, r.note) for r in reversal] == [(-2775, "Korrektur zu 2026-10")]
    original = session.exec(select(OffsetEntry).where(OffsetEntry.attendance_id == rows[0].id,
                                                      OffsetEntry.month == "2026-10")).one()
    assert session.get(OffsetEntry, reversal[0].entry_id).adjustment_of_id == original.id
    assert november.total_cents == 2775 - 2775  # new November session minus the October reversal
    assert statement(session, month="2026-10").pairs[0].total_cents == closed_total  # closed stays
    assert book_month(session, month="2026-11").adjustments == 1  # re-booking does not double it


def test_statement_for_a_provider_shows_only_its_pairs(session, shared):
    other_host, other_lead = make_provider(session), make_provider(session)
    offer = make_offer(session, provider=other_host, sessions=((0, 15 * 60, 16 * 60),))
    person = make_young_person(session, lead_provider_id=other_lead.id)
    placement = make_placement(session, young_person=person, offer=offer, status="accepted")
    session.add(SharedUse(placement_id=placement.id, host_provider_id=other_host.id,
                          lead_provider_id=other_lead.id, variant="A", rate_cents=1000))
    session.flush()
    _attend(session, shared, MONDAYS_OCT[0])
    session.add(Attendance(placement_id=placement.id, session_date=MONDAYS_OCT[0],
                           offer_session_id=offer.sessions[0].id, status="present"))
    book_month(session, month="2026-10")
    assert len(statement(session, month="2026-10").pairs) == 2
    mine = statement(session, month="2026-10", provider_id=shared["host"].id)
    assert [(p.host_id, p.lead_id) for p in mine.pairs] == [(shared["host"].id, shared["lead"].id)]


@given(st.lists(st.integers(-50_000, 50_000), min_size=1, max_size=8))
def test_netting_conserves_amounts_with_few_transfers(amounts):
    balances = {n: a for n, a in enumerate(amounts)}
    balances[len(amounts)] = -sum(amounts)  # every ledger balances to zero
    transfers = netting(balances, {})
    settled = dict.fromkeys(balances, 0)
    for t in transfers:
        assert t.amount_cents > 0
        settled[t.payer_id] -= t.amount_cents
        settled[t.payee_id] += t.amount_cents
    assert settled == balances
    assert len(transfers) <= max(0, sum(1 for a in balances.values() if a) - 1)
