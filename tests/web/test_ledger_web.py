"""Offset statements in the browser: provider scoping, book and close, exports, bad months."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from marketplace.ledger import book_month
from marketplace.models import Attendance, MonthClose, SharedUse
from tests.factories import make_offer, make_placement, make_provider, make_user, make_young_person
from tests.web.conftest import login, page_token


def _shared_use(session, host, lead, title):
    offer = make_offer(session, provider=host, title=title, sessions=((0, 15 * 60, 16 * 60),))
    person = make_young_person(session, lead_provider_id=lead.id)
    placement = make_placement(session, young_person=person, offer=offer, status="accepted")
    session.add(SharedUse(placement_id=placement.id, host_provider_id=host.id, lead_provider_id=lead.id,
                          variant="A", rate_cents=2000))
    session.add(Attendance(placement_id=placement.id, session_date=date(2026, 10, 5),
                           offer_session_id=offer.sessions[0].id, status="present"))
    session.flush()
    return person


def _district(session):
    a, b, c, d = (make_provider(session, name=f"Träger {x}") for x in "ABCD")
    mine = _shared_use(session, a, b, "Gruppe AB")
    other = _shared_use(session, c, d, "Gruppe CD")
    book_month(session, month="2026-10")
    coordinator = make_user(session, "coordinator", provider_id=a.id)
    session.commit()
    return coordinator, mine, other


def test_coordinator_sees_only_pairs_of_their_provider(app, session, users):
    coordinator, mine, other = _district(session)
    client = login(app.test_client(), coordinator)
    page = client.get("/verrechnung/?monat=2026-10").get_data(as_text=True)
    assert mine.pseudonym in page and "20,00\u00a0€" in page
    assert other.pseudonym not in page and "Gruppe CD" not in page
    csv = client.get("/verrechnung/2026-10.csv").get_data(as_text=True)
    assert mine.pseudonym in csv and other.pseudonym not in csv
    token = page_token(client, "/verrechnung/")
    assert client.post("/verrechnung/2026-10/abschliessen", data={"csrf_token": token}).status_code == 403
    assert client.post("/verrechnung/2026-10/buchen", data={"csrf_token": token}).status_code == 403


def test_planner_closes_a_month_and_exports(app, session, users):
    _, mine, other = _district(session)
    client = login(app.test_client(), users["planner"])
    page = client.get("/verrechnung/?monat=2026-10").get_data(as_text=True)
    assert mine.pseudonym in page and other.pseudonym in page
    token = page_token(client, "/verrechnung/")
    response = client.post("/verrechnung/2026-10/abschliessen", data={"csrf_token": token}, follow_redirects=True)
    assert "ist abgeschlossen" in response.get_data(as_text=True)
    session.expire_all()
    assert session.exec(select(MonthClose).where(MonthClose.month == "2026-10")).one()
    again = client.post("/verrechnung/2026-10/buchen", data={"csrf_token": page_token(client, "/verrechnung/")},
                        follow_redirects=True)
    assert "kann nicht mehr gebucht werden" in again.get_data(as_text=True)
    pdf = client.get("/verrechnung/2026-10.pdf")
    xlsx = client.get("/verrechnung/2026-10.xlsx")
    assert pdf.data.startswith(b"%PDF") and xlsx.data.startswith(b"PK")


def test_bad_months_and_roles(app, session, users):
    client = login(app.test_client(), users["planner"])
    response = client.get("/verrechnung/?monat=2026-13")
    assert response.status_code == 400 and "Ungültiger Monat" in response.get_data(as_text=True)
    assert client.get("/verrechnung/kaputt.csv").status_code == 400
    assert client.get("/verrechnung/2026-10.exe").status_code == 404
    caseworker = login(app.test_client(), users["caseworker"])
    assert caseworker.get("/verrechnung/").status_code == 403
