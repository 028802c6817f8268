"""A small group with members for the attendance and import/export tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from marketplace.models import Role
from tests.factories import make_offer, make_placement, make_provider, make_user, make_young_person
from tests.web.conftest import login

#: A fixed Monday in the past, so dates and weekdays are predictable.
MONDAY = date(2025, 3, 3)


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


@pytest.fixture
def group(session):
    """A provider with a coordinator, a group meeting Mon 15–17 and Thu 16–17:30 in March 2025,
    two members accepted before March, one who joined on 12 March and one who left on 10 March,
    plus a declined placement and another provider's coordinator."""
    provider = make_provider(session, name="Jugendhilfe Mitte e.V.")
    coordinator = make_user(session, Role.coordinator, provider_id=provider.id, display_name="Kim Koordination")
    offer = make_offer(session, provider=provider, title="Soziale Gruppe Dieburg",
                       first_date=date(2025, 2, 3), last_date=date(2025, 7, 31),
                       sessions=((0, 15 * 60, 17 * 60), (3, 16 * 60, 17 * 60 + 30)))
    members = {}
    for name, accepted, ended in (("JM-A", date(2025, 2, 20), None), ("JM-B", date(2025, 2, 20), None),
                                  ("JM-NEU", date(2025, 3, 12), None),
                                  ("JM-WEG", date(2025, 2, 1), date(2025, 3, 10))):
        person = make_young_person(session, pseudonym=name)
        status = "ended" if ended else "accepted"
        members[name] = make_placement(session, young_person=person, offer=offer, status=status,
                                       confirmed_at=at_noon(accepted), accepted_at=at_noon(accepted),
                                       ended_at=at_noon(ended) if ended else None)
    make_placement(session, young_person=make_young_person(session, pseudonym="JM-ABGELEHNT"), offer=offer,
                   status="declined")
    other = make_user(session, Role.coordinator)
    foreign_offer = make_offer(session, provider=session.get(type(provider), other.provider_id), title="Fremde Gruppe")
    session.commit()
    return {"provider": provider, "coordinator": coordinator, "offer": offer, "members": members,
            "other": other, "foreign_offer": foreign_offer}


@pytest.fixture
def as_coordinator(client, group):
    return login(client, group["coordinator"])


def monday(weeks: int = 0) -> date:
    return MONDAY + timedelta(weeks=weeks)
