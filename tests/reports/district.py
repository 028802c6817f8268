"""A tiny district with hand-counted figures for the report tests (reference day 15 March 2026).

Two Sozialräume (Nord: Nordstadt, Süd: Südheim, 22 km apart), two providers, two groups:

- G1 "Sport Nord" of Alpha in Nordstadt: sports, 4 seats, min 1, Mondays 15:00–17:00 (120 min),
  from 1 Jan 2026. Mondays held: Jan 4, Feb 4, Mar 2 (up to the 15th).
- G2 "Medien Süd" of Beta in Südheim: media, 5 seats, min 3, Wednesdays 16:00–17:30 (90 min),
  from 1 Feb 2026. Wednesdays held: Feb 4, Mar 2.

Placements (seat-holding unless said otherwise):
- Y1 (lead Alpha) in G1, accepted since 2 Jan: present Jan 5, 12, 26, absent Jan 19, present Feb 2,
  excused Feb 9.
- Y2 (lead Beta) in G1, shared use (A, 20,00 €/h), 10 Jan – 10 Feb: present Jan 12, 19, Feb 2.
- Y3 (lead Alpha) in G2, shared use (B, 15,00 €/h), since 3 Feb: present Feb 4, 11, Mar 4.
- Y4 proposed in G2, Y5 declined in G1 (neither holds a seat).
Waiting today (open or waiting request, no active placement): Y6 (media, Nordstadt, 10 km: too far
from G2), Y7 (girls' group: no offer anywhere), Y8 (sports, only free on Fridays: times).
Y9 has an open request but a proposal, so is not waiting.

Hand-counted: capacity G1 Jan 4×4×120 = 1920 min, Feb 1920, Mar 960; G2 Feb 4×5×90 = 1800, Mar 900.
Booked: G1 Jan 2, Feb 2, Mar 1; G2 Feb 1, Mar 1. Attended minutes: G1 Jan 600, Feb 240; G2 Feb 180,
Mar 90. Offsets: Jan 8000 ct (Beta → Alpha), Feb 4000 (Beta → Alpha) + 4500 (Alpha → Beta), Mar 2250.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import pytest
from sqlmodel import Session

from marketplace.ledger import book_month
from marketplace.models import (
    Attendance,
    GroupOffer,
    IndividualHours,
    Placement,
    PlacementRequest,
    Provider,
    SharedUse,
    Sozialraum,
    User,
    YoungPerson,
)
from marketplace.timeutil import BERLIN
from tests.factories import (
    make_municipality,
    make_offer,
    make_placement,
    make_provider,
    make_sozialraum,
    make_user,
    make_young_person,
)

TODAY = date(2026, 3, 15)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


@dataclass
class District:
    session: Session
    nord: Sozialraum
    sued: Sozialraum
    alpha: Provider
    beta: Provider
    g1: GroupOffer
    g2: GroupOffer
    people: dict[str, YoungPerson]
    placements: dict[str, Placement]
    planner: User


def build_district(session: Session) -> District:
    nord, sued = make_sozialraum(session, name="Nord", code="N"), make_sozialraum(session, name="Süd", code="S")
    nordstadt = make_municipality(session, name="Nordstadt", sozialraum_id=nord.id, lat=49.9, lon=8.6)
    suedheim = make_municipality(session, name="Südheim", sozialraum_id=sued.id, lat=49.7, lon=8.6)
    alpha = make_provider(session, name="Alpha e.V.", short_name="ALP")
    beta = make_provider(session, name="Beta gGmbH", short_name="BET")
    common = {"certified_until": date(2027, 1, 31), "last_date": None, "status": "published"}
    g1 = make_offer(session, provider=alpha, municipality=nordstadt, categories=("sports",), title="Sport Nord",
                    sessions=((0, 15 * 60, 17 * 60),), seats=4, min_size=1, first_date=date(2026, 1, 1),
                    offset_rate_cents=2000, seats_taken=1, age_min=8, age_max=16, **common)
    g2 = make_offer(session, provider=beta, municipality=suedheim, categories=("media",), title="Medien Süd",
                    sessions=((2, 16 * 60, 17 * 60 + 30),), seats=5, min_size=3, first_date=date(2026, 2, 1),
                    offset_rate_cents=1500, seats_taken=1, age_min=8, age_max=16, **common)
    person = {"approval_start": date(2026, 1, 1), "birth_year": 2014}

    def young(name, town, lead, needs=("sports",), **extra):
        return make_young_person(session, municipality=town, needs=needs, lead_provider_id=lead.id,
                                 pseudonym=f"JM-{name}", **(person | extra))

    people = {
        "Y1": young("Y1", nordstadt, alpha), "Y2": young("Y2", suedheim, beta),
        "Y3": young("Y3", nordstadt, alpha, needs=("media",), max_travel_km=30.0),
        "Y4": young("Y4", suedheim, beta, needs=("media",)), "Y5": young("Y5", nordstadt, beta),
        "Y6": young("Y6", nordstadt, alpha, needs=("media",), max_travel_km=10.0),
        "Y7": young("Y7", nordstadt, alpha, needs=("girls_group",)),
        "Y8": young("Y8", nordstadt, alpha, availability=((4, 14 * 60, 19 * 60),)),
        "Y9": young("Y9", suedheim, beta, needs=("media",)),
    }
    placements = {
        "Y1": make_placement(session, young_person=people["Y1"], offer=g1, status="accepted",
                             confirmed_at=at(date(2026, 1, 2)), accepted_at=at(date(2026, 1, 3))),
        "Y2": make_placement(session, young_person=people["Y2"], offer=g1, status="ended",
                             confirmed_at=at(date(2026, 1, 10)), accepted_at=at(date(2026, 1, 10)),
                             ended_at=at(date(2026, 2, 10), 18)),
        "Y3": make_placement(session, young_person=people["Y3"], offer=g2, status="accepted",
                             confirmed_at=at(date(2026, 2, 3)), accepted_at=at(date(2026, 2, 3))),
        "Y4": make_placement(session, young_person=people["Y4"], offer=g2, status="proposed"),
        "Y5": make_placement(session, young_person=people["Y5"], offer=g1, status="declined",
                             confirmed_at=at(date(2026, 1, 20))),
        "Y9": make_placement(session, young_person=people["Y9"], offer=g2, status="proposed"),
    }
    session.add(SharedUse(placement_id=placements["Y2"].id, host_provider_id=alpha.id, lead_provider_id=beta.id,
                          variant="A", rate_cents=2000))
    session.add(SharedUse(placement_id=placements["Y3"].id, host_provider_id=beta.id, lead_provider_id=alpha.id,
                          variant="B", rate_cents=1500))
    marks = {
        "Y1": [(5, 1, "present"), (12, 1, "present"), (19, 1, "absent"), (26, 1, "present"), (2, 2, "present"),
               (9, 2, "excused")],
        "Y2": [(12, 1, "present"), (19, 1, "present"), (2, 2, "present")],
        "Y3": [(4, 2, "present"), (11, 2, "present"), (4, 3, "present")],
    }
    for key, days in marks.items():
        offer = g2 if key == "Y3" else g1
        for day, month, status in days:
            session.add(Attendance(placement_id=placements[key].id, session_date=date(2026, month, day),
                                   offer_session_id=offer.sessions[0].id, status=status))
    for key in ("Y6", "Y7", "Y8"):
        session.add(PlacementRequest(young_person_id=people[key].id, status="waiting",
                                     waiting_reasons="Keine passende Gruppe gefunden."))
    session.add(PlacementRequest(young_person_id=people["Y9"].id, status="open"))
    session.add(IndividualHours(young_person_id=people["Y1"].id, month="2026-01", minutes=600, provider_id=alpha.id))
    session.flush()
    for month in ("2026-01", "2026-02", "2026-03"):
        book_month(session, month=month)
    session.commit()
    return District(session, nord, sued, alpha, beta, g1, g2, people, placements,
                    make_user(session, "planner", display_name="Petra Planung"))


@pytest.fixture
def district(session: Session) -> District:
    built = build_district(session)
    session.commit()
    return built
