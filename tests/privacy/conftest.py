"""A fully built case for the privacy tests: wishes, conflicts, requests, placements with history,
attendance with a correction, individual hours, offsets, case history and audit events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from marketplace.audit import audit
from marketplace.ledger import book_month
from marketplace.models import (
    Attendance,
    AttendanceCorrection,
    CaseEvent,
    IndividualHours,
    KeepApart,
    OfferWish,
    PlacementEvent,
    PlacementRequest,
    SharedUse,
)
from tests.factories import make_offer, make_placement, make_provider, make_user, make_young_person

ENDED_AT = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)


def build_case(session: Session) -> dict:
    host, lead = make_provider(session, name="Host e.V."), make_provider(session, name="Lead gGmbH")
    offer = make_offer(session, provider=host, sessions=((0, 15 * 60, 16 * 60 + 30),), offset_rate_cents=1850)
    other_offer = make_offer(session, provider=host, title="Klettern")
    caseworker = make_user(session, "caseworker")
    person = make_young_person(session, lead_provider_id=lead.id, team_id=caseworker.team_id,
                               caseworker_id=caseworker.id, lat=49.9, lon=8.7,
                               crisis_extension_reason=None)
    partner = make_young_person(session, team_id=caseworker.team_id)
    a, b = sorted((person.id, partner.id))
    session.add(KeepApart(young_person_a_id=a, young_person_b_id=b, reason="Streit in der Schule",
                          created_by=caseworker.id))
    session.add(OfferWish(young_person_id=person.id, offer_id=other_offer.id, kind="preferred"))
    request = PlacementRequest(young_person_id=person.id, requested_by=caseworker.id, note="Mag Sport",
                               status="fulfilled")
    session.add(request)
    session.flush()
    placement = make_placement(session, young_person=person, offer=offer, status="ended", request_id=request.id,
                               end_reason="Umzug zur Oma")
    declined = make_placement(session, young_person=person, offer=other_offer, status="declined",
                              decline_reason="Gruppe passt nicht zu ihrer Angst")
    session.add_all([
        PlacementEvent(placement_id=placement.id, from_status=None, to_status="proposed", actor_id=caseworker.id),
        PlacementEvent(placement_id=placement.id, from_status="accepted", to_status="ended",
                       actor_id=caseworker.id, reason="Umzug zur Oma"),
    ])
    use = SharedUse(placement_id=placement.id, host_provider_id=host.id, lead_provider_id=lead.id,
                    variant="A", rate_cents=1850)
    session.add(use)
    session.flush()
    attendance = Attendance(placement_id=placement.id, session_date=date(2023, 10, 2),
                            offer_session_id=offer.sessions[0].id, status="present")
    session.add(attendance)
    session.flush()
    session.add(AttendanceCorrection(attendance_id=attendance.id, old_status="absent", new_status="present",
                                     reason="war krank gemeldet, doch da"))
    session.add(IndividualHours(young_person_id=person.id, month="2023-10", minutes=120, provider_id=lead.id))
    session.add(CaseEvent(young_person_id=person.id, kind="ended", actor_id=caseworker.id,
                          reason="Familie zieht nach Hamburg"))
    book_month(session, month="2023-10")
    audit(session, caseworker, "view", "young_person", person.id, case_id=person.id)
    audit(session, caseworker, "update", "young_person", person.id, case_id=person.id)
    person.status = "ended"
    person.ended_at = ENDED_AT
    session.add(person)
    session.commit()
    return {"person": person, "partner": partner, "caseworker": caseworker, "placement": placement,
            "declined": declined, "offer": offer, "other_offer": other_offer, "host": host, "lead": lead,
            "use": use, "attendance": attendance, "request": request}


@pytest.fixture
def built(session: Session) -> dict:
    return build_case(session)
