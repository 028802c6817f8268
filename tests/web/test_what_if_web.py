"""What-if scenarios: a hypothetical group is filled and compared, nothing is written; bad input -> 422."""

from __future__ import annotations

import re

from sqlmodel import func, select

from marketplace.matching.problem import DEFAULT_WEIGHTS
from marketplace.models import GroupOffer, Placement, SolverRun
from tests.factories import make_municipality, make_offer, make_young_person
from tests.web.conftest import login, page_token


def _form(client, **changes) -> dict:
    values = {key: str(value) for key, value in DEFAULT_WEIGHTS.items()}
    values["csrf_token"] = page_token(client, "/laeufe/was-waere-wenn")
    values.update(changes)
    return values


def _row(html: str, label: str) -> list[str]:
    row = re.search(rf"<tr><td>{label}</td>(.*?)</tr>", html, re.S).group(1)
    return re.findall(r'<td class="num">(.*?)</td>', row)


def _counts(session) -> tuple[int, int, int]:
    return tuple(session.exec(select(func.count()).select_from(t)).one() for t in (Placement, SolverRun, GroupOffer))


def test_a_hypothetical_group_serves_young_people_without_writing_anything(client, session, users):
    town = make_municipality(session)
    # the only real group meets when nobody is available (Saturday)
    make_offer(session, municipality=town, sessions=((5, 10 * 60, 12 * 60),))
    for _ in range(4):
        make_young_person(session, municipality=town)
    session.commit()
    before = _counts(session)
    login(client, users["planner"])
    data = _form(client, municipality_id=str(town.id), weekday="1", start="15:00", end="17:00", seats="6",
                 min_size="3", age_min="10", age_max="14", categories="social_skills")
    response = client.post("/laeufe/was-waere-wenn", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html  # htmx gets the result fragment only
    assert "Die neue Gruppe würde mit <strong>4</strong> jungen Menschen belegt." in html
    assert _row(html, "Versorgte junge Menschen") == ["0 / 4", "0 / 4", "4 / 4"]
    session.expire_all()
    assert _counts(session) == before


def test_bad_scenario_input_gets_german_messages(client, session, users):
    town = make_municipality(session)
    session.commit()
    login(client, users["planner"])
    data = _form(client, km="-3", municipality_id=str(town.id), weekday="9", start="15:10", end="14:00",
                 seats="2", min_size="5", age_min="14", age_max="10")
    response = client.post("/laeufe/was-waere-wenn", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for message in ("Muss zwischen 0 und", "Bitte einen Wochentag wählen.", "Viertelstundentakt",
                    "Mindestgröße darf die Platzzahl nicht übersteigen", "Höchstalter",
                    "mindestens eine Kategorie"):
        assert message in html, message


def test_removing_a_group_shows_its_effect(client, session, users):
    town = make_municipality(session)
    offer = make_offer(session, municipality=town, min_size=1)
    make_young_person(session, municipality=town)
    session.commit()
    login(client, users["planner"])
    response = client.post("/laeufe/was-waere-wenn", data=_form(client, remove=str(offer.id)))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # live plan: nobody placed; re-plan places the young person; the scenario without the group cannot
    assert _row(html, "Versorgte junge Menschen") == ["0 / 1", "1 / 1", "0 / 1"]
