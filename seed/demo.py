"""Load the demo district Landkreis Darmstadt-Dieburg into the database (idempotent).

Every record has a natural key (code, name, e-mail, title, pseudonym); a record
that already exists is left exactly as it is, so running the loader twice, or
after people have worked with the data, changes nothing that exists.
"""

from __future__ import annotations

import zlib
from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from marketplace.matching.problem import DEFAULT_WEIGHTS
from marketplace.models import (
    Attendance,
    AvailabilityWindow,
    Category,
    GroupOffer,
    KeepApart,
    Module,
    Municipality,
    OfferCategory,
    OfferSession,
    OfferStatusEvent,
    OfferWish,
    Placement,
    PlacementEvent,
    PlacementRequest,
    Provider,
    Setting,
    SharedUse,
    Sozialraum,
    Team,
    User,
    YoungPerson,
    YoungPersonNeed,
)
from marketplace.passwords import hash_password
from marketplace.seats import take_seat
from marketplace.timeutil import BERLIN, today_berlin

from .generate import generate_offers, generate_people, load_data, new_rng
from .plan import DemoPlan, plan_demo

#: offer status → the certification steps that led there
OFFER_PATHS = {
    "draft": ["draft"],
    "submitted": ["draft", "submitted"],
    "certified": ["draft", "submitted", "certified"],
    "published": ["draft", "submitted", "certified", "published"],
    "paused": ["draft", "submitted", "certified", "published", "paused"],
    "rejected": ["draft", "submitted", "rejected"],
}
PLACEMENT_PATHS = {
    "proposed": ["proposed"],
    "confirmed": ["proposed", "confirmed"],
    "accepted": ["proposed", "confirmed", "accepted"],
    "declined": ["proposed", "confirmed", "declined"],
    "ended": ["proposed", "confirmed", "accepted", "ended"],
}


def build_plan(today: date) -> DemoPlan:
    """The full demo plan for reference date `today` (deterministic)."""
    data = load_data()
    rng = new_rng()
    offers = generate_offers(data, today, rng)
    people = generate_people(data, today, rng)
    labels = {c["code"]: c["label"] for c in data["catalogue"]["categories"]}
    return plan_demo(
        offers,
        people,
        data["organisations"]["providers"],
        data["district"]["municipalities"],
        labels,
        today,
        rng,
    )


def _at(day: date, hour: int = 10) -> datetime:
    """A Berlin wall-clock time on `day`, as aware datetime (stored as UTC)."""
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


def _columns(values: dict, model: type[SQLModel], *skip: str) -> dict:
    """The entries of `values` (a JSON record or a plan record's vars) that are columns of `model`."""
    return {k: v for k, v in values.items() if k in model.model_fields and k not in skip}


class _Loader:
    """Writes a DemoPlan, adding only what is missing (looked up by natural key)."""

    def __init__(self, session: Session, today: date) -> None:
        self.session = session
        self.today = today
        self.created: Counter[str] = Counter()
        self._known: dict[tuple, dict[tuple, SQLModel]] = {}

    def get_or_add(self, model: type[SQLModel], key: dict, **values) -> tuple[SQLModel, bool]:
        """The row of `model` with natural `key`, or a new pending one (flush before using its id)."""
        names = tuple(sorted(key))
        if (model, names) not in self._known:  # one query per table instead of one per row
            rows = self.session.scalars(select(model)).all()
            self._known[model, names] = {tuple(getattr(r, n) for n in names): r for r in rows}
        known = self._known[model, names]
        natural = tuple(key[n] for n in names)
        if natural in known:
            return known[natural], False
        row = known[natural] = model(**key, **values)
        self.session.add(row)
        self.created[model.__tablename__] += 1
        return row, True

    def catalogues(self, data: dict) -> None:
        district, catalogue, orgs = data["district"], data["catalogue"], data["organisations"]
        self.areas = {
            a["code"]: self.get_or_add(Sozialraum, {"code": a["code"]}, name=a["name"])[0]
            for a in district["sozialraeume"]
        }
        self.categories = {
            c["code"]: self.get_or_add(Category, {"code": c["code"]}, label=c["label"])[0]
            for c in catalogue["categories"]
        }
        self.modules = {
            m["code"]: self.get_or_add(Module, {"code": m["code"]}, sort_order=i, **_columns(m, Module, "code"))[0]
            for i, m in enumerate(catalogue["modules"])
        }
        self.providers = {
            p["short_name"]: self.get_or_add(
                Provider, {"short_name": p["short_name"]}, **_columns(p, Provider, "short_name")
            )[0]
            for p in orgs["providers"]
        }
        self.get_or_add(Setting, {"key": "solver.weights"}, value=dict(DEFAULT_WEIGHTS))
        self.session.flush()
        self.towns = {
            t["name"]: self.get_or_add(
                Municipality, {"name": t["name"]}, ags=t["ags"], lat=t["lat"], lon=t["lon"],
                sozialraum_id=self.areas[t["sozialraum"]].id,
            )[0]
            for t in district["municipalities"]
        }  # fmt: skip
        self.teams = {
            t["name"]: self.get_or_add(Team, {"name": t["name"]}, sozialraum_id=self.areas[t["sozialraum"]].id)[0]
            for t in orgs["teams"]
        }
        self.session.flush()

    def users(self, orgs: dict) -> None:
        existing = set(self.session.scalars(select(User.email)))
        missing = any(u["email"] not in existing for u in orgs["users"])
        password_hash = hash_password(orgs["demo_password"]) if missing else ""  # slow on purpose: once
        users = {}
        for u in orgs["users"]:
            users[u["email"]] = self.get_or_add(
                User, {"email": u["email"]}, display_name=u["display_name"], role=u["role"],
                password_hash=password_hash, password_changed_at=_at(self.today),
                provider_id=self.providers[u["provider"]].id if "provider" in u else None,
                team_id=self.teams[u["team"]].id if "team" in u else None,
            )[0]  # fmt: skip
        self.session.flush()
        self.coordinator_of = {u.provider_id: u for u in users.values() if u.provider_id}
        self.caseworker_of = {u.team_id: u for u in users.values() if u.team_id}
        self.planner = users["planung@jugendamt.example"]

    def offers(self, plan: DemoPlan) -> None:
        self.offer_rows: dict[str, GroupOffer] = {}
        new = []
        for o in plan.offers:
            provider = self.providers[o.provider]
            row, created = self.get_or_add(
                GroupOffer, {"title": o.title, "provider_id": provider.id},
                **_columns(vars(o), GroupOffer, "title"), municipality_id=self.towns[o.municipality].id,
                created_by=self.coordinator_of[provider.id].id,
                vacancy_confirmed_at=_at(self.today - timedelta(days=3)) if o.status == "published" else None,
            )  # fmt: skip
            self.offer_rows[o.title] = row
            if created:
                new.append((o, row))
        self.session.flush()
        for o, row in new:
            self.session.add_all(
                OfferCategory(offer_id=row.id, category_id=self.categories[c].id) for c in o.categories
            )
            self.created["offer_category"] += len(o.categories)
            self.session.add_all(
                OfferSession(offer_id=row.id, weekday=d, start_minute=s, end_minute=e) for d, s, e in o.sessions
            )
            self.created["offer_session"] += len(o.sessions)
            steps = OFFER_PATHS[o.status]
            for i, (before, after) in enumerate(zip([None, *steps], steps, strict=False)):
                actor = self.planner if after in ("certified", "rejected") else self.coordinator_of[row.provider_id]
                self.session.add(OfferStatusEvent(
                    offer_id=row.id, from_status=before, to_status=after, actor_id=actor.id,
                    at=_at(o.first_date - timedelta(days=30 - 5 * i)),
                    reason=o.rejection_reason if after == "rejected" else None,
                    valid_until=o.certified_until if after == "certified" else None,
                ))  # fmt: skip
                self.created["offer_status_event"] += 1
        self.session.flush()

    def people(self, plan: DemoPlan) -> None:
        self.person_rows: dict[str, YoungPerson] = {}
        new = []
        for p in plan.people:
            team = self.teams[p.team]
            caseworker = self.caseworker_of.get(team.id)
            row, created = self.get_or_add(
                YoungPerson, {"pseudonym": p.pseudonym}, **_columns(vars(p), YoungPerson, "pseudonym"),
                team_id=team.id, caseworker_id=caseworker.id if caseworker else None,
                municipality_id=self.towns[p.municipality].id, module_id=self.modules[p.module].id,
                lead_provider_id=self.providers[p.lead_provider].id,
            )  # fmt: skip
            self.person_rows[p.pseudonym] = row
            if created:
                new.append((p, row))
        self.session.flush()
        for p, row in new:
            self.session.add_all(
                YoungPersonNeed(young_person_id=row.id, category_id=self.categories[c].id) for c in p.needs
            )
            self.created["young_person_need"] += len(p.needs)
            self.session.add_all(
                AvailabilityWindow(young_person_id=row.id, weekday=d, start_minute=s, end_minute=e)
                for d, s, e in p.availability
            )
            self.created["availability_window"] += len(p.availability)
        self.session.flush()

    def requests(self, plan: DemoPlan) -> None:
        self.request_rows: dict[str, PlacementRequest] = {}
        for r in plan.requests:
            person = self.person_rows[r.pseudonym]
            closed = r.status in ("fulfilled", "cancelled")
            self.request_rows[r.pseudonym] = self.get_or_add(
                PlacementRequest, {"young_person_id": person.id}, status=r.status,
                requested_by=person.caseworker_id, waiting_reasons=r.waiting_reasons,
                created_at=_at(max(person.approval_start, self.today - timedelta(days=40))),
                closed_at=_at(self.today - timedelta(days=20)) if closed else None,
            )[0]  # fmt: skip
        self.session.flush()

    def placements(self, plan: DemoPlan) -> None:
        new = []
        for p in plan.placements:
            person, offer = self.person_rows[p.pseudonym], self.offer_rows[p.offer]
            steps = PLACEMENT_PATHS[p.status]
            start = max(offer.first_date, self.today - timedelta(days=28))
            when = {step: _at(start - timedelta(days=3 - i)) for i, step in enumerate(steps[:3])}
            when["ended"] = _at(self.today - timedelta(days=2))
            row, created = self.get_or_add(
                Placement, {"young_person_id": person.id, "offer_id": offer.id, "status": p.status},
                request_id=self.request_rows[p.pseudonym].id, source=p.source, variant=p.variant,
                offset_rate_cents=offer.offset_rate_cents if "confirmed" in steps else None,
                created_at=when["proposed"], confirmed_at=when.get("confirmed"), accepted_at=when.get("accepted"),
                ended_at=when["ended"] if p.status == "ended" else None,
                end_reason=p.end_reason, decline_reason=p.decline_reason,
            )  # fmt: skip
            if created:
                new.append((p, row, person, offer, steps, when, start))
        self.session.flush()
        for p, row, person, offer, steps, when, start in new:
            if p.status in ("confirmed", "accepted") and not take_seat(self.session, offer.id):
                raise RuntimeError(f"demo data overbooks {offer.title}")  # a bug in seed/plan.py
            self._placement_events(row, p.source, steps, when, person, offer)
            if p.variant is not None:
                self.session.add(SharedUse(
                    placement_id=row.id, host_provider_id=offer.provider_id,
                    lead_provider_id=person.lead_provider_id, variant=p.variant,
                    rate_cents=offer.offset_rate_cents, recorded_at=when["confirmed"],
                ))  # fmt: skip
                self.created["shared_use"] += 1
            if p.status == "accepted":
                self._attendance(row, p.pseudonym, offer, start)
        self.session.flush()

    def _placement_events(self, row: Placement, source: str, steps: list[str], when: dict,
                          person: YoungPerson, offer: GroupOffer) -> None:  # fmt: skip
        coordinator = self.coordinator_of[offer.provider_id].id
        actors = {"proposed": None if source == "solver" else person.caseworker_id,
                  "confirmed": person.caseworker_id, "accepted": coordinator,
                  "declined": coordinator, "ended": coordinator}  # fmt: skip
        reasons = {"declined": row.decline_reason, "ended": row.end_reason}
        for before, after in zip([None, *steps], steps, strict=False):
            self.session.add(PlacementEvent(
                placement_id=row.id, from_status=before, to_status=after, actor_id=actors[after],
                at=when.get(after, when["ended"]), reason=reasons.get(after),
            ))  # fmt: skip
            self.created["placement_event"] += 1

    def _attendance(self, row: Placement, pseudonym: str, offer: GroupOffer, start: date) -> None:
        """Up to three weeks of attendance for an accepted placement (mostly present)."""
        day = max(start, self.today - timedelta(days=21))
        while day < self.today:
            for session in offer.sessions:
                if session.weekday != day.weekday():
                    continue
                roll = zlib.crc32(f"{pseudonym}{day}{session.start_minute}".encode()) % 20
                self.session.add(Attendance(
                    placement_id=row.id, session_date=day, offer_session_id=session.id,
                    status="present" if roll < 17 else "absent" if roll < 19 else "excused",
                    recorded_by=self.coordinator_of[offer.provider_id].id, recorded_at=_at(day, 20),
                ))  # fmt: skip
                self.created["attendance"] += 1
            day += timedelta(days=1)

    def wishes_and_conflicts(self, plan: DemoPlan) -> None:
        for pseudonym, title, kind in plan.wishes:
            key = {"young_person_id": self.person_rows[pseudonym].id, "offer_id": self.offer_rows[title].id}
            self.get_or_add(OfferWish, key, kind=kind)
        for first, second, reason in plan.keep_apart:
            a, b = sorted((self.person_rows[first].id, self.person_rows[second].id))
            self.get_or_add(KeepApart, {"young_person_a_id": a, "young_person_b_id": b}, reason=reason,
                            created_by=self.person_rows[first].caseworker_id)  # fmt: skip
        self.session.flush()


def load_demo(session: Session, *, today: date | None = None) -> Counter[str]:
    """Load the demo district into `session` (not committed); returns the rows created per table.

    `today` is the reference date for offer dates, approvals and attendance
    (default: today in Europe/Berlin). Existing records are never changed.
    """
    today = today or today_berlin()
    data = load_data()
    plan = build_plan(today)
    loader = _Loader(session, today)
    loader.catalogues(data)
    loader.users(data["organisations"])
    loader.offers(plan)
    loader.people(plan)
    loader.requests(plan)
    loader.placements(plan)
    loader.wishes_and_conflicts(plan)
    session.flush()
    return loader.created


def district_counts(session: Session) -> dict[str, int]:
    """How many rows the main tables hold (for the summary and tests)."""
    tables = {
        "municipality": Municipality,
        "sozialraum": Sozialraum,
        "provider": Provider,
        "group_offer": GroupOffer,
        "young_person": YoungPerson,
        "placement": Placement,
        "app_user": User,
        "category": Category,
        "module": Module,
    }
    return {name: session.scalar(select(func.count()).select_from(model)) or 0 for name, model in tables.items()}


def summary_de(session: Session, created: Counter[str]) -> str:
    """A short German summary of the demo district and the demo logins."""
    c = district_counts(session)
    data = load_data()["organisations"]
    new_rows = sum(created.values())
    lines = [
        "Demo-Landkreis Darmstadt-Dieburg: "
        f"{c['municipality']} Gemeinden in {c['sozialraum']} Sozialräumen, {c['provider']} Träger, "
        f"{c['group_offer']} Gruppenangebote, {c['young_person']} junge Menschen, "
        f"{c['placement']} Belegungen, {c['app_user']} Benutzerkonten.",
        f"Neu angelegt: {new_rows} Datensätze." if new_rows else "Keine Änderungen: die Demodaten sind vollständig.",
        f"Demo-Zugänge (Passwort „{data['demo_password']}“):",
    ]
    roles = {
        "coordinator": "Koordination Träger",
        "caseworker": "ASD-Fachkraft",
        "planner": "Jugendhilfeplanung",
        "admin": "Administration",
    }
    shown = [
        "koordination@traeger-1.example",
        "koordination@traeger-2.example",
        "asd@jugendamt.example",
        "asd-west@jugendamt.example",
        "planung@jugendamt.example",
        "admin@jugendamt.example",
    ]
    by_email = {u["email"]: u for u in data["users"]}
    lines += [f"  {roles[by_email[e]['role']]:<22} {e}" for e in shown]
    return "\n".join(lines)
