"""Twelve months of history for the demo district (Verlauf), so that the reports show trends.

`flask --app marketplace seed history` (after `seed demo`) adds, deterministically:

- a predecessor run ("Vorgängergruppe", status ended) of every running demo group, with the
  same provider, place, sessions, categories, seats and rate, that ran in the twelve months
  before the current group started (or until a month ago);
- about 600 former young people (help ended) and, for demo young people whose help began
  earlier, their earlier placements: confirmed, accepted and ended placements in the
  predecessor groups and in running groups before the demo placements begin, obeying seats,
  age, gender, needs, travel distance, availability, co-use agreements and the hours maximum;
  a shared use (variant A or B, at the group's rate) whenever the group belongs to another
  provider than the young person's lead provider;
- attendance for every session of those placements (mostly present; fewer in the summer
  holidays, none between Christmas and New Year), and the individual hours the lead
  providers reported per month;
- the offset ledger of those months, booked with `ledger.book_month`; all months but the last
  two are closed with `ledger.close_month` (by the planning account).

Idempotent: when the predecessor groups exist, nothing is added and nothing is re-booked.
History ends 31 days before the reference date, before the demo's own placements begin, so
no seat is ever held twice.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from marketplace.cli import register_dataset
from marketplace.ledger import book_month, close_month, is_closed
from marketplace.models import (
    Attendance,
    AvailabilityWindow,
    Category,
    GroupOffer,
    IndividualHours,
    Module,
    Municipality,
    OfferCategory,
    OfferSession,
    OfferStatusEvent,
    Placement,
    PlacementEvent,
    PlacementRequest,
    Provider,
    SharedUse,
    Team,
    User,
    YoungPerson,
    YoungPersonNeed,
)
from marketplace.timeutil import BERLIN, month_key, today_berlin

from .generate import PSEUDONYM_ALPHABET, generate_people, haversine_km, load_data

HISTORY_SEED = "gruppenboerse-demo-history-1"
HISTORY_MONTHS = 12
N_FORMER = 600
PREDECESSOR_SUFFIX = " (Vorgängergruppe)"
#: Months at the end of the history that stay open in the ledger (the rest is closed).
OPEN_MONTHS = 2
PLANNER_EMAIL = "planung@jugendamt.example"
END_REASONS = ["Hilfe regulär beendet, Ziele erreicht.", "Gruppe regulär beendet.",
               "Teilnahme vorzeitig beendet (Umzug).", "Teilnahme vorzeitig beendet auf Wunsch der Familie."]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


def _first_of_month(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class _Offer:
    """A group as the history planner sees it: where, for whom, when, and its bookable window."""

    row: GroupOffer
    provider: Provider
    lat: float
    lon: float
    categories: list[str]
    sessions: list[tuple[int, int, int]]
    first: date
    last: date
    intervals: list[tuple[date, date]] = field(default_factory=list)

    @property
    def age_min(self) -> int:
        return self.row.age_min

    @property
    def age_max(self) -> int:
        return self.row.age_max

    @property
    def genders(self) -> str | None:
        return self.row.genders

    @property
    def weekly_minutes(self) -> int:
        return sum(e - s for _, s, e in self.sessions)

    def free_during(self, start: date, end: date) -> bool:
        overlapping = sum(1 for s, e in self.intervals if s <= end and e >= start)
        return overlapping < self.row.seats - 1  # keep one seat for newcomers, as the demo does


@dataclass
class _Person:
    row: YoungPerson
    needs: list[str]
    availability: list[tuple[int, int, int]]
    lat: float
    lon: float
    start: date  # first day the history may place the person
    end: date  # last day of the person's history (placements end by then)
    hours_end: date  # last day with individual hours reported (the month before the current one at most)


def _eligible(person: _Person, offer: _Offer) -> bool:
    age = offer.first.year - person.row.birth_year
    if age - 1 < offer.age_min or age > offer.age_max:
        return False
    if offer.genders is not None and person.row.gender not in offer.genders.split(","):
        return False
    if not set(person.needs) & set(offer.categories):
        return False
    if haversine_km(person.lat, person.lon, offer.lat, offer.lon) > person.row.max_travel_km:
        return False
    return all(any(d == day and s <= start and end <= e for d, s, e in person.availability)
               for day, start, end in offer.sessions)


def _overlaps(a: _Offer, b: _Offer) -> bool:
    return any(d1 == d2 and s1 < e2 and s2 < e1 for d1, s1, e1 in a.sessions for d2, s2, e2 in b.sessions)


class _History:
    def __init__(self, session: Session, today: date) -> None:
        self.session = session
        self.today = today
        self.rng = random.Random(HISTORY_SEED)
        self.created: Counter[str] = Counter()
        self.start = _first_of_month(today, HISTORY_MONTHS)
        self.cap = today - timedelta(days=31)
        self.centres = {m.id: m for m in session.exec(select(Municipality)).all()}
        self.categories = {c.id: c.code for c in session.exec(select(Category)).all()}
        self.category_ids = {code: cid for cid, code in self.categories.items()}
        self.providers = {p.id: p for p in session.exec(select(Provider)).all()}
        self.coordinators = {u.provider_id: u.id for u in session.exec(
            select(User).where(User.role == "coordinator").order_by(User.id)).all() if u.provider_id}
        self.modules = {m.id: m for m in session.exec(select(Module)).all()}

    def add(self, row) -> None:
        self.session.add(row)
        self.created[row.__tablename__] += 1

    # ----------------------------------------------------------------- groups

    def offers(self) -> list[_Offer]:
        """Predecessor runs of the running demo groups, plus the running groups' months before the demo."""
        demo = self.session.exec(
            select(GroupOffer).where(GroupOffer.status.in_(["published", "paused", "certified"]))
            .order_by(GroupOffer.title)).all()
        result = []
        for offer in demo:
            if offer.first_date <= self.cap - timedelta(days=45) and offer.status != "certified":
                result.append(self._window(offer, offer.first_date, self.cap))
            first = self.start - timedelta(days=self.rng.randint(0, 120))
            last = offer.first_date - timedelta(days=1) if offer.first_date <= self.cap else \
                self.cap - timedelta(days=self.rng.randint(0, 14))
            if (last - first).days < 75:
                continue
            result.append(self._window(self._predecessor(offer, first, last), first, last))
        return result

    def _predecessor(self, offer: GroupOffer, first: date, last: date) -> GroupOffer:
        row = GroupOffer(
            provider_id=offer.provider_id, title=offer.title + PREDECESSOR_SUFFIX, description=offer.description,
            age_min=offer.age_min, age_max=offer.age_max, genders=offer.genders, first_date=first, last_date=last,
            municipality_id=offer.municipality_id, address=offer.address, lat=offer.lat, lon=offer.lon,
            seats=offer.seats, min_size=offer.min_size, entry_mode="open", staff_mix=offer.staff_mix,
            multi_professional=offer.multi_professional, offset_rate_cents=offer.offset_rate_cents,
            status="ended", certified_until=last, created_by=offer.created_by,
            created_at=_at(first - timedelta(days=40)), updated_at=_at(last + timedelta(days=1)))
        self.add(row)
        self.session.flush()
        for category in offer.categories:
            self.add(OfferCategory(offer_id=row.id, category_id=category.id))
        for s in offer.sessions:
            self.add(OfferSession(offer_id=row.id, weekday=s.weekday, start_minute=s.start_minute,
                                  end_minute=s.end_minute))
        planner = self.planner_id()
        steps = [("draft", first - timedelta(days=40), offer.created_by),
                 ("submitted", first - timedelta(days=35), offer.created_by),
                 ("certified", first - timedelta(days=25), planner),
                 ("published", first - timedelta(days=20), offer.created_by),
                 ("ended", last + timedelta(days=1), offer.created_by)]
        before = None
        for status, day, actor in steps:
            self.add(OfferStatusEvent(offer_id=row.id, from_status=before, to_status=status, actor_id=actor,
                                      at=_at(day), valid_until=last if status == "certified" else None))
            before = status
        self.session.flush()
        self.session.refresh(row)
        return row

    def _window(self, offer: GroupOffer, first: date, last: date) -> _Offer:
        centre = self.centres[offer.municipality_id]
        lat, lon = (offer.lat, offer.lon) if offer.lat is not None else (centre.lat, centre.lon)
        return _Offer(offer, self.providers[offer.provider_id], lat, lon, [c.code for c in offer.categories],
                      [(s.weekday, s.start_minute, s.end_minute) for s in offer.sessions], first, last)

    def planner_id(self) -> int | None:
        return self.session.exec(select(User.id).where(User.email == PLANNER_EMAIL)).first()

    # ----------------------------------------------------------------- people

    def former_people(self, offers: list[_Offer]) -> list[_Person]:
        """About 600 young people whose help ran (and ended) during the history.

        Mostly young people for whom some group fitted (the ASD referred them for group work),
        and some for whom none did.
        """
        data = load_data()
        records = [r for _ in range(6) for r in generate_people(data, self.today, self.rng)]
        taken = set(self.session.exec(select(YoungPerson.pseudonym)).all())
        towns = {m.name: m for m in self.centres.values()}
        teams = {t.name: t.id for t in self.session.exec(select(Team)).all()}
        modules = {m.code: m for m in self.modules.values()}
        providers = {p.short_name: p.id for p in self.providers.values()}
        caseworkers = {u.team_id: u.id for u in self.session.exec(
            select(User).where(User.role == "caseworker").order_by(User.id)).all()}
        people = []
        for n, record in enumerate(records, start=1):
            if len(people) >= N_FORMER:
                break
            module = modules[record.module]
            # helps that began up to five months before the history and ran into it, or began during it
            start = self.start + timedelta(days=self.rng.randint(-150, 290))
            length = timedelta(weeks=module.max_weeks) if module.is_crisis else \
                timedelta(days=self.rng.choice([91, 182, 182, 273, 365]))
            end = min(start + length, self.cap)
            if (end - max(start, self.start)).days < 45:
                continue
            team_id = teams[record.team]
            row = YoungPerson(
                pseudonym="", case_reference=f"{record.case_reference[:1]}-{start.year}-H{n:04d}",
                team_id=team_id, caseworker_id=caseworkers.get(team_id), birth_year=record.birth_year,
                gender=record.gender, municipality_id=towns[record.municipality].id, lat=record.lat, lon=record.lon,
                max_travel_km=record.max_travel_km, module_id=module.id,
                group_minutes_target=record.group_minutes_target, group_minutes_max=record.group_minutes_max,
                lead_provider_id=providers[record.lead_provider], priority=record.priority,
                approval_start=start, approval_end=end, legal_basis=record.legal_basis,
                risk_report_at=start if module.is_crisis else None,
                crisis_ends_on=end if module.is_crisis else None, status="ended", ended_at=_at(end, 16),
                created_at=_at(start - timedelta(days=7)), updated_at=_at(end, 16))
            person = self._person(row, record.needs, record.availability, max(start, self.start), end)
            fits = any(_eligible(person, o) and (min(end, o.last) - max(person.start, o.first)).days >= 28
                       for o in offers)
            if not fits and self.rng.random() > 0.15:
                continue
            row.pseudonym = self._pseudonym(taken)
            self.add(row)
            self.session.flush()
            for code in record.needs:
                self.add(YoungPersonNeed(young_person_id=row.id, category_id=self.category_ids[code]))
            for day, s, e in record.availability:
                self.add(AvailabilityWindow(young_person_id=row.id, weekday=day, start_minute=s, end_minute=e))
            people.append(person)
        self.session.flush()
        return people

    def _pseudonym(self, taken: set[str]) -> str:
        while True:
            candidate = "JM-" + "".join(self.rng.choice(PSEUDONYM_ALPHABET) for _ in range(4))
            if candidate not in taken:
                taken.add(candidate)
                return candidate

    def _person(self, row: YoungPerson, needs: list[str], availability: list[tuple[int, int, int]],
                start: date, end: date) -> _Person:
        centre = self.centres[row.municipality_id]
        lat, lon = (row.lat, row.lon) if row.lat is not None else (centre.lat, centre.lon)
        hours_end = min(row.approval_end or date.max, _first_of_month(self.today, 0) - timedelta(days=1))
        return _Person(row, needs, availability or [(d, 0, 1440) for d in range(7)], lat, lon, start, end,
                       hours_end)

    def demo_people(self) -> list[_Person]:
        """Demo young people whose help began early enough to have had groups before the demo's placements."""
        rows = self.session.exec(
            select(YoungPerson).where(YoungPerson.status == "active",
                                      YoungPerson.approval_start <= self.cap - timedelta(days=45))
            .order_by(YoungPerson.pseudonym)).all()
        needs = defaultdict(list)
        for ypid, cid in self.session.exec(select(YoungPersonNeed.young_person_id, YoungPersonNeed.category_id)):
            needs[ypid].append(self.categories[cid])
        windows = defaultdict(list)
        for w in self.session.exec(select(AvailabilityWindow)):
            windows[w.young_person_id].append((w.weekday, w.start_minute, w.end_minute))
        return [self._person(r, needs[r.id], windows[r.id], max(r.approval_start, self.start),
                             min(r.approval_end or self.cap, self.cap)) for r in rows]

    # ----------------------------------------------------------------- placements

    def place(self, people: list[_Person], offers: list[_Offer]) -> list[tuple[Placement, _Offer, _Person]]:
        """First come, first served by start date: up to two groups each, nearest first."""
        placed = []
        for person in sorted(people, key=lambda p: (p.start, p.row.pseudonym)):
            if self.rng.random() < 0.1:  # some helps run without group work
                continue
            lead = person.row.lead_provider_id
            mine: list[_Offer] = []
            minutes = 0
            running = person.row.approval_start < self.start  # already in groups when the history begins
            arrival = person.start if running else person.start + timedelta(days=self.rng.randint(3, 21))
            candidates = sorted(offers, key=lambda o: (haversine_km(person.lat, person.lon, o.lat, o.lon), o.row.id))
            for offer in candidates:
                start, end = max(arrival, offer.first), min(person.end, offer.last)
                if (end - start).days < 28 or not _eligible(person, offer):
                    continue
                own = offer.provider.id == lead
                lead_row = self.providers.get(lead)
                if not own and not (offer.provider.allows_co_use and lead_row is not None and lead_row.allows_co_use):
                    continue
                if minutes + offer.weekly_minutes > person.row.group_minutes_max:
                    continue
                if any(_overlaps(offer, m) for m in mine) or not offer.free_during(start, end):
                    continue
                if self.rng.random() < 0.15:  # left early
                    end = start + timedelta(days=self.rng.randint(28, max(28, (end - start).days)))
                offer.intervals.append((start, end))
                mine.append(offer)
                minutes += offer.weekly_minutes
                placed.append((self._placement(person, offer, start, end), offer, person))
                if minutes >= person.row.group_minutes_target or len(mine) == 2:
                    break
            self._request(person, bool(mine))
        self.session.flush()
        return placed

    def _placement(self, person: _Person, offer: _Offer, start: date, end: date) -> Placement:
        shared = offer.provider.id != person.row.lead_provider_id
        variant = ("B" if self.rng.random() < 0.35 else "A") if shared else None
        when = {"proposed": start - timedelta(days=6), "confirmed": start - timedelta(days=2),
                "accepted": start - timedelta(days=1), "ended": end}
        reason = self.rng.choice(END_REASONS)
        row = Placement(
            young_person_id=person.row.id, offer_id=offer.row.id, status="ended", source="caseworker",
            offset_rate_cents=offer.row.offset_rate_cents, variant=variant, created_at=_at(when["proposed"]),
            confirmed_at=_at(when["confirmed"]), accepted_at=_at(when["accepted"]), ended_at=_at(end, 18),
            end_reason=reason)
        self.add(row)
        self.session.flush()
        before = None
        coordinator = self.coordinators.get(offer.provider.id)
        actors = {"proposed": person.row.caseworker_id, "confirmed": person.row.caseworker_id,
                  "accepted": coordinator, "ended": coordinator}
        for step in ("proposed", "confirmed", "accepted", "ended"):
            self.add(PlacementEvent(placement_id=row.id, from_status=before, to_status=step, actor_id=actors[step],
                                    at=_at(when[step], 18 if step == "ended" else 10),
                                    reason=reason if step == "ended" else None))
            before = step
        if shared:
            self.add(SharedUse(placement_id=row.id, host_provider_id=offer.provider.id,
                               lead_provider_id=person.row.lead_provider_id, variant=variant,
                               rate_cents=offer.row.offset_rate_cents, recorded_at=_at(when["confirmed"])))
        return row

    def _request(self, person: _Person, placed: bool) -> None:
        if person.row.status != "ended":
            return  # the demo's own people keep their current requests
        self.add(PlacementRequest(
            young_person_id=person.row.id, requested_by=person.row.caseworker_id, created_at=_at(person.start),
            status="fulfilled" if placed else "cancelled",
            closed_at=_at(person.start + timedelta(days=20) if placed else person.end, 12),
            note=None if placed else "Hilfe ohne Gruppenanteil beendet."))

    # ----------------------------------------------------------------- attendance and hours

    def attendance(self, placed: list[tuple[Placement, _Offer, _Person]]) -> None:
        sessions = defaultdict(dict)
        for s in self.session.exec(select(OfferSession)):
            sessions[s.offer_id][(s.weekday, s.start_minute)] = s.id
        for placement, offer, person in placed:
            start, end = placement.confirmed_at.astimezone(BERLIN).date() + timedelta(days=2), \
                placement.ended_at.astimezone(BERLIN).date()
            recorder = self.coordinators.get(offer.provider.id)
            day = start
            while day <= end:
                for weekday, s_start, _ in offer.sessions:
                    if weekday != day.weekday() or _christmas_break(day):
                        continue
                    roll = zlib.crc32(f"{person.row.pseudonym}{day}{s_start}".encode()) % 20
                    present_below = 11 if _summer(day) else 16
                    status = "present" if roll < present_below else "excused" if roll < 18 else "absent"
                    self.add(Attendance(placement_id=placement.id, session_date=day,
                                        offer_session_id=sessions[offer.row.id][weekday, s_start], status=status,
                                        recorded_by=recorder, recorded_at=_at(day, 20)))
                day += timedelta(days=1)
        self.session.flush()

    def individual_hours(self, people: list[_Person]) -> None:
        """The lead providers' monthly reports of individual hours, for every complete month of help."""
        current = month_key(self.today)
        reported = set(self.session.exec(select(IndividualHours.young_person_id, IndividualHours.month)).all())
        for person in people:
            module = self.modules[person.row.module_id]
            weekly = max(0, (module.care_minutes_min + module.care_minutes_max) // 2 - person.row.group_minutes_target)
            lead = person.row.lead_provider_id
            if not weekly or lead is None:
                continue
            day = date(person.start.year, person.start.month, 1)
            while month_key(day) < current and day <= person.hours_end:
                following = _first_of_month(day, -1)
                first, last = max(day, person.start), min(following - timedelta(days=1), person.hours_end)
                if (person.row.id, month_key(day)) in reported:
                    day = following
                    continue
                days = (last - first).days + 1
                factor = 0.7 + 0.45 * (zlib.crc32(f"{person.row.pseudonym}{day}".encode()) % 100) / 100
                minutes = int(weekly * days / 7 * factor) // 15 * 15
                self.add(IndividualHours(young_person_id=person.row.id, month=month_key(day), minutes=minutes,
                                         provider_id=lead, entered_by=self.coordinators.get(lead),
                                         entered_at=_at(following + timedelta(days=3))))
                day = following
        self.session.flush()

    # ----------------------------------------------------------------- ledger

    def ledger(self) -> list[str]:
        """Book every month of the history and the current one; close all but the last OPEN_MONTHS."""
        months = [month_key(_first_of_month(self.today, back)) for back in range(HISTORY_MONTHS, -1, -1)]
        for month in months:
            if not is_closed(self.session, month):
                book_month(self.session, month=month)
        planner = self.session.exec(select(User).where(User.email == PLANNER_EMAIL)).first()
        closed = []
        for month in months[:-(OPEN_MONTHS + 1)]:
            if not is_closed(self.session, month):
                close_month(self.session, month=month, actor=planner, today=self.today)
                closed.append(month)
        return closed


def _christmas_break(day: date) -> bool:
    return (day.month == 12 and day.day >= 23) or (day.month == 1 and day.day <= 2)


def _summer(day: date) -> bool:
    """Hessian summer holidays, roughly: attendance drops."""
    return date(day.year, 7, 1) <= day <= date(day.year, 8, 8)


def history_loaded(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(GroupOffer)
                               .where(GroupOffer.title.endswith(PREDECESSOR_SUFFIX))))


def load_history(session: Session, *, today: date | None = None) -> Counter[str]:
    """Add the history to the demo district in `session` (not committed); rows created per table.

    Needs the demo district (`seed.load_demo`); does nothing when the history exists.
    """
    today = today or today_berlin()
    if history_loaded(session):
        return Counter()
    if not session.scalar(select(func.count()).select_from(GroupOffer)):
        raise ValueError("Es gibt noch keine Gruppenangebote. Zuerst die Demodaten laden: "
                         "flask --app marketplace seed demo")
    history = _History(session, today)
    offers = history.offers()
    people = history.former_people(offers)
    demo = history.demo_people()
    placed = history.place(people + demo, offers)
    history.attendance(placed)
    history.individual_hours(people + demo)
    closed = history.ledger()
    history.created["month_close"] += len(closed)
    session.flush()
    return history.created


def summary_de(created: Counter[str], today: date | None = None) -> str:
    if not created:
        return "Keine Änderungen: der Verlauf ist bereits geladen."
    return (f"Verlauf der letzten {HISTORY_MONTHS} Monate geladen: {created['group_offer']} Vorgängergruppen, "
            f"{created['young_person']} ehemalige junge Menschen, {created['placement']} Belegungen "
            f"({created['shared_use']} trägerübergreifend), {created['attendance']} Anwesenheiten, "
            f"{created['individual_hours']} Monatsmeldungen Einzelstunden; "
            f"{created['month_close']} Monate im Verrechnungsbuch abgeschlossen.")


@register_dataset("history", "zwölf Monate Verlauf für den Demo-Landkreis (nach „demo“)")
def seed_history(session: Session, today: date | None) -> str:
    """`flask --app marketplace seed history`: the loader behind the CLI (German summary)."""
    try:
        created = load_history(session, today=today)
    except ValueError as exc:
        from marketplace.cli import CliError

        raise CliError(str(exc)) from None
    return summary_de(created)
