"""The offset ledger between providers (Verrechnung) and the monthly settlement.

When a young person of one provider (the lead provider) uses a certified group of
another (the host), the host is paid the group's offset rate (Verrechnungssatz) per
participant-hour. The rate is the one recorded on the `SharedUse` when the placement was
confirmed; later rate changes do not alter it.

Booking (`book_month`): one `OffsetEntry` per billable attendance of a shared-use
placement: minutes of the session × rate. Billable are "present" marks, and "excused"
ones when the setting `ledger.bill_excused` is true (default false: an excused absence is
not a participant-hour). Rounding rule: each entry is rounded on its own, half up to
whole cents: amount = ⌊(minutes × rate_cents + 30) / 60⌋; a statement's total is the exact
sum of its entries, so the itemised lines always add up.

An open month is re-booked from the attendance as often as needed. The Jugendamt closes a
month (`close_month`): it is booked one last time and is immutable afterwards. Attendance
corrected later for a closed month is booked as adjustments in the month right after the
last closed one (`book_month` of that month finds them): a reversal of the original entry (negative, `adjustment_of_id`
pointing at it) and, if still billable, a new entry with a note naming the closed month.

Netting (`netting`): per month, each provider's balance (received minus paid); debtors pay
creditors, largest first, which needs at most n−1 transfers for n providers with a
non-zero balance and conserves every amount.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete
from sqlmodel import Session, select

from .audit import audit
from .models import (
    Attendance,
    AttendanceStatus,
    GroupOffer,
    MonthClose,
    OfferSession,
    OffsetEntry,
    Placement,
    Provider,
    Setting,
    SharedUse,
    YoungPerson,
)
from .timeutil import month_bounds, month_key, today_berlin

BILL_EXCUSED_SETTING = "ledger.bill_excused"


class LedgerError(ValueError):
    """A ledger action is not allowed; the message is German and shown to the user."""


def parse_month(text: str) -> str:
    """Validate "YYYY-MM" and return it; LedgerError with a German message otherwise."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        date(int(year), int(month), 1)
    except (ValueError, AttributeError):
        raise LedgerError(f"Ungültiger Monat „{text}“: bitte im Format JJJJ-MM, z. B. 2026-10.") from None
    return text


def next_month(month: str) -> str:
    year, mon = (int(part) for part in parse_month(month).split("-"))
    return f"{year + (mon == 12):04d}-{mon % 12 + 1:02d}"


def amount_cents(minutes: int, rate_cents: int) -> int:
    """Participant minutes at an hourly rate, rounded half up to whole cents (non-negative inputs)."""
    return (minutes * rate_cents + 30) // 60


def is_closed(session: Session, month: str) -> bool:
    return session.exec(select(MonthClose).where(MonthClose.month == month)).first() is not None


def billable_statuses(session: Session) -> set[str]:
    row = session.get(Setting, BILL_EXCUSED_SETTING)
    statuses = {AttendanceStatus.present.value}
    if row is not None and row.value is True:
        statuses.add(AttendanceStatus.excused.value)
    return statuses


@dataclass(frozen=True)
class _Billable:
    """What one attendance row should cost under today's data."""

    attendance_id: int
    shared_use_id: int
    session_date: date
    minutes: int
    rate_cents: int


def _billable(session: Session, first: date, last: date) -> list[_Billable]:
    statuses = billable_statuses(session)
    rows = session.exec(
        select(Attendance, SharedUse, OfferSession)
        .join(SharedUse, SharedUse.placement_id == Attendance.placement_id)
        .join(OfferSession, OfferSession.id == Attendance.offer_session_id)
        .where(Attendance.session_date >= first, Attendance.session_date <= last)
        .order_by(Attendance.session_date, Attendance.id)
    ).all()
    return [
        _Billable(a.id, use.id, a.session_date, s.end_minute - s.start_minute, use.rate_cents)
        for a, use, s in rows if a.status in statuses
    ]


@dataclass
class BookingResult:
    month: str
    entries: int
    total_cents: int
    adjustments: int = 0


def book_month(session: Session, *, month: str) -> BookingResult:
    """(Re-)book an open month from attendance, plus adjustments for corrected closed months."""
    month = parse_month(month)
    if is_closed(session, month):
        raise LedgerError(f"Der Monat {month} ist abgeschlossen und kann nicht mehr gebucht werden.")
    first, last = month_bounds(month)
    session.execute(delete(OffsetEntry).where(OffsetEntry.month == month))
    created = [
        OffsetEntry(shared_use_id=b.shared_use_id, month=month, session_date=b.session_date, minutes=b.minutes,
                    rate_cents=b.rate_cents, amount_cents=amount_cents(b.minutes, b.rate_cents),
                    attendance_id=b.attendance_id)
        for b in _billable(session, first, last)
    ]
    session.add_all(created)
    closed = session.exec(select(MonthClose.month).where(MonthClose.month < month)).all()
    # corrections of closed months go into the month right after the last closed one
    adjustments = _book_adjustments(session, into=month) if closed and next_month(max(closed)) == month else 0
    session.flush()
    entries = session.exec(select(OffsetEntry).where(OffsetEntry.month == month)).all()
    return BookingResult(month=month, entries=len(entries), total_cents=sum(e.amount_cents for e in entries),
                         adjustments=adjustments)


def _book_adjustments(session: Session, *, into: str) -> int:
    """Book differences between closed months' entries and their corrected attendance into `into`."""
    count = 0
    closed = sorted(session.exec(select(MonthClose.month).where(MonthClose.month < into)).all())
    for month in closed:
        first, last = month_bounds(month)
        should = {b.attendance_id: b for b in _billable(session, first, last)}
        booked = session.exec(select(OffsetEntry).where(OffsetEntry.session_date >= first,
                                                        OffsetEntry.session_date <= last,
                                                        OffsetEntry.month <= into)).all()
        # the net booked state per attendance row, over the original and all earlier adjustments
        net: dict[int, list[OffsetEntry]] = defaultdict(list)
        for entry in booked:
            if entry.attendance_id is not None:
                net[entry.attendance_id].append(entry)
        for attendance_id in set(net) | set(should):
            entries = net.get(attendance_id, [])
            live = [e for e in entries if e.minutes >= 0 and not _reversed(e, entries)]
            target = should.get(attendance_id)
            current = live[-1] if live else None
            if current is not None and target is not None and (current.minutes, current.rate_cents) == (
                    target.minutes, target.rate_cents):
                continue
            note = f"Korrektur zu {month}"
            if current is not None:
                session.add(OffsetEntry(shared_use_id=current.shared_use_id, month=into,
                                        session_date=current.session_date, minutes=-current.minutes,
                                        rate_cents=current.rate_cents, amount_cents=-current.amount_cents,
                                        attendance_id=attendance_id, adjustment_of_id=current.id, note=note))
                count += 1
            if target is not None:
                session.add(OffsetEntry(shared_use_id=target.shared_use_id, month=into,
                                        session_date=target.session_date, minutes=target.minutes,
                                        rate_cents=target.rate_cents,
                                        amount_cents=amount_cents(target.minutes, target.rate_cents),
                                        attendance_id=attendance_id, note=note))
                count += 1
            session.flush()
    return count


def _reversed(entry: OffsetEntry, entries: list[OffsetEntry]) -> bool:
    return any(e.adjustment_of_id == entry.id for e in entries)


def close_month(session: Session, *, month: str, actor, today: date | None = None) -> BookingResult:
    """Book `month` a last time and close it; only months that are over can be closed."""
    month = parse_month(month)
    if is_closed(session, month):
        raise LedgerError(f"Der Monat {month} ist bereits abgeschlossen.")
    if month >= month_key(today or today_berlin()):
        raise LedgerError(f"Der Monat {month} ist noch nicht vorbei und kann nicht abgeschlossen werden.")
    earlier_open = [m for m in _months_with_attendance(session) if m < month and not is_closed(session, m)]
    if earlier_open:
        raise LedgerError(f"Bitte zuerst den Monat {earlier_open[0]} abschließen.")
    result = book_month(session, month=month)
    session.add(MonthClose(month=month, closed_by=getattr(actor, "id", None)))
    audit(session, actor, "update", "month_close", month)
    session.flush()
    return result


def _months_with_attendance(session: Session) -> list[str]:
    days = session.exec(select(Attendance.session_date).join(
        SharedUse, SharedUse.placement_id == Attendance.placement_id).distinct()).all()
    return sorted({month_key(d) for d in days})


# ----------------------------------------------------------------------------- statements


@dataclass
class StatementLine:
    entry_id: int
    pseudonym: str
    offer_title: str
    session_date: date
    minutes: int
    rate_cents: int
    amount_cents: int
    variant: str
    note: str | None


@dataclass
class PairStatement:
    """What the lead provider owes the host for one month, itemised."""

    host_id: int
    host_name: str
    lead_id: int
    lead_name: str
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)

    @property
    def minutes(self) -> int:
        return sum(line.minutes for line in self.lines)


@dataclass(frozen=True)
class Transfer:
    payer_id: int
    payer_name: str
    payee_id: int
    payee_name: str
    amount_cents: int


@dataclass
class MonthStatement:
    month: str
    closed: bool
    pairs: list[PairStatement]
    balances: dict[int, int]  # provider id -> received minus paid
    transfers: list[Transfer]
    provider_names: dict[int, str]


def statement(session: Session, *, month: str, provider_id: int | None = None) -> MonthStatement:
    """The month's statement per provider pair, balances and netted transfers.

    With `provider_id` only the pairs involving that provider are listed (coordinators);
    balances and transfers are always of the whole district, restricted to that provider's
    own lines in the same case.
    """
    month = parse_month(month)
    rows = session.exec(
        select(OffsetEntry, SharedUse, Placement, YoungPerson, GroupOffer)
        .join(SharedUse, SharedUse.id == OffsetEntry.shared_use_id)
        .join(Placement, Placement.id == SharedUse.placement_id)
        .join(YoungPerson, YoungPerson.id == Placement.young_person_id)
        .join(GroupOffer, GroupOffer.id == Placement.offer_id)
        .where(OffsetEntry.month == month)
        .order_by(OffsetEntry.session_date, OffsetEntry.id)
    ).all()
    names = {p.id: p.name for p in session.exec(select(Provider)).all()}
    pairs: dict[tuple[int, int], PairStatement] = {}
    for entry, use, _placement, person, offer in rows:
        if provider_id is not None and provider_id not in (use.host_provider_id, use.lead_provider_id):
            continue
        key = (use.host_provider_id, use.lead_provider_id)
        pair = pairs.setdefault(key, PairStatement(key[0], names[key[0]], key[1], names[key[1]]))
        pair.lines.append(StatementLine(entry.id, person.pseudonym, offer.title, entry.session_date, entry.minutes,
                                        entry.rate_cents, entry.amount_cents, use.variant, entry.note))
    balances: dict[int, int] = defaultdict(int)
    for pair in pairs.values():
        balances[pair.host_id] += pair.total_cents
        balances[pair.lead_id] -= pair.total_cents
    return MonthStatement(month=month, closed=is_closed(session, month),
                          pairs=sorted(pairs.values(), key=lambda p: (p.host_name, p.lead_name)),
                          balances=dict(balances), transfers=netting(balances, names), provider_names=names)


def netting(balances: dict[int, int], names: dict[int, str]) -> list[Transfer]:
    """Transfers that settle `balances` (received minus paid): largest debtor pays largest creditor."""
    creditors = sorted(((amount, pid) for pid, amount in balances.items() if amount > 0), reverse=True)
    debtors = sorted(((-amount, pid) for pid, amount in balances.items() if amount < 0), reverse=True)
    transfers = []
    ci = di = 0
    credit = [list(c) for c in creditors]
    debt = [list(d) for d in debtors]
    while ci < len(credit) and di < len(debt):
        amount = min(credit[ci][0], debt[di][0])
        payer, payee = debt[di][1], credit[ci][1]
        transfers.append(Transfer(payer, names.get(payer, str(payer)), payee, names.get(payee, str(payee)), amount))
        credit[ci][0] -= amount
        debt[di][0] -= amount
        if credit[ci][0] == 0:
            ci += 1
        if debt[di][0] == 0:
            di += 1
    return transfers


def book_open_months(session: Session, *, today: date) -> int:
    """Daily housekeeping: (re-)book last month (while open) and the current month; returns entries."""
    current = month_key(today)
    first, _ = month_bounds(current)
    previous = month_key(date.fromordinal(first.toordinal() - 1))
    return sum(book_month(session, month=m).entries for m in (previous, current) if not is_closed(session, m))
