"""The seat guard (Platzzähler): the database itself refuses to overbook a group offer.

`GroupOffer.seats_taken` counts the placements that hold a seat (confirmed or
accepted, `SEAT_HOLDING_STATUSES`). Every change goes through the conditional
UPDATEs below: "take a seat only if one is free" is one atomic statement, so two
confirmations racing for the last seat cannot both win, and the CHECK
`seats_taken <= seats` stops any code path that forgets to use them.
`recount_seats` repairs the counter from the placements (e.g. after manual fixes).
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlmodel import Session

from marketplace.models import SEAT_HOLDING_STATUSES, GroupOffer, Placement


def take_seat(session: Session, offer_id: int) -> bool:
    """Take one seat of `offer_id`; False (and nothing changed) when the group is full."""
    result = session.execute(
        update(GroupOffer)
        .where(GroupOffer.id == offer_id, GroupOffer.seats_taken < GroupOffer.seats)
        .values(seats_taken=GroupOffer.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    _expire_offer(session, offer_id)
    return result.rowcount == 1


def release_seat(session: Session, offer_id: int) -> bool:
    """Give one seat of `offer_id` back; False when none was taken."""
    result = session.execute(
        update(GroupOffer)
        .where(GroupOffer.id == offer_id, GroupOffer.seats_taken > 0)
        .values(seats_taken=GroupOffer.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )
    _expire_offer(session, offer_id)
    return result.rowcount == 1


def held_seats(session: Session, offer_id: int) -> int:
    """The number of placements of `offer_id` that hold a seat, counted from the placements."""
    statuses = [s.value for s in SEAT_HOLDING_STATUSES]
    return session.scalar(
        select(func.count()).select_from(Placement)
        .where(Placement.offer_id == offer_id, Placement.status.in_(statuses))
    ) or 0


def recount_seats(session: Session, offer_id: int) -> int:
    """Set `seats_taken` of `offer_id` from its placements and return it."""
    count = held_seats(session, offer_id)
    session.execute(
        update(GroupOffer).where(GroupOffer.id == offer_id).values(seats_taken=count)
        .execution_options(synchronize_session=False)
    )
    _expire_offer(session, offer_id)
    return count


def _expire_offer(session: Session, offer_id: int) -> None:
    # the UPDATE bypassed the identity map: make a loaded offer re-read its counter
    offer = session.identity_map.get(session.identity_key(GroupOffer, offer_id))
    if offer is not None:
        session.expire(offer, ["seats_taken"])
