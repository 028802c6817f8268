"""Solver runs in the browser: start, live progress until done, result page, downloads, access."""

from __future__ import annotations

import time

from marketplace.models import SolverRun
from tests.factories import make_municipality, make_offer, make_young_person
from tests.matching.conftest import verify
from tests.web.conftest import login, page_token


def _small_district(session):
    town = make_municipality(session)
    offer = make_offer(session, municipality=town, min_size=2)
    people = [make_young_person(session, municipality=town) for _ in range(3)]
    session.commit()
    return offer, people


def _wait_until_done(client, run_id: int) -> None:
    for _ in range(120):
        response = client.get(f"/laeufe/{run_id}/fortschritt", headers={"HX-Request": "true"})
        if response.status_code == 286:
            assert response.headers["HX-Refresh"] == "true"
            return
        assert response.status_code == 200 and 'hx-trigger="every 1s"' in response.get_data(as_text=True)
        time.sleep(0.25)
    raise AssertionError("run did not finish")


def test_planner_starts_a_run_and_watches_it_finish(client, session, users):
    offer, people = _small_district(session)
    login(client, users["planner"])
    response = client.post("/laeufe/starten", data={"csrf_token": page_token(client, "/laeufe/")})
    assert response.status_code == 302
    run_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    _wait_until_done(client, run_id)

    page = client.get(f"/laeufe/{run_id}").get_data(as_text=True)
    assert "Versorgte junge Menschen" in page and "3 / 3" in page
    for person in people:
        assert person.pseudonym in page  # the diff names young people by pseudonym
    assert offer.title in page

    problem = client.get(f"/laeufe/{run_id}/problem.json")
    solution = client.get(f"/laeufe/{run_id}/loesung.json")
    assert problem.status_code == solution.status_code == 200
    assert "attachment" in problem.headers["Content-Disposition"]
    assert verify(problem.get_json(), solution.get_json())["placed"] == 3
    for person in people:  # the downloadable problem is pseudonymous
        assert person.pseudonym not in problem.get_data(as_text=True)

    listing = client.get("/laeufe/").get_data(as_text=True)
    assert f"#{run_id}" in listing and "Auf Anforderung" in listing


def test_cancelling_a_finished_run_is_explained(client, session, users):
    _small_district(session)
    run = SolverRun(run_key="done-1", kind="on_demand", status="done")
    session.add(run)
    session.commit()
    login(client, users["planner"])
    response = client.post(f"/laeufe/{run.id}/abbrechen", data={"csrf_token": page_token(client, "/laeufe/")},
                           follow_redirects=True)
    assert response.status_code == 200 and "kann nicht abgebrochen werden" in response.get_data(as_text=True)


def test_runs_are_for_planners_only(app, session, users):
    run = SolverRun(run_key="x-1", kind="on_demand", status="done", problem_json={"format": "x"})
    session.add(run)
    session.commit()
    for role in ("caseworker", "coordinator", "admin"):
        client = login(app.test_client(), users[role])
        for url in ("/laeufe/", f"/laeufe/{run.id}", f"/laeufe/{run.id}/problem.json",
                    f"/laeufe/{run.id}/fortschritt"):
            assert client.get(url).status_code == 403, (role, url)


def test_unknown_run_is_404(client, users):
    login(client, users["planner"])
    assert client.get("/laeufe/999").status_code == 404
    assert client.get("/laeufe/999/loesung.json").status_code == 404


def test_explanation_of_a_proposal_names_groups_by_title(client, session, users):
    offer, people = _small_district(session)
    login(client, users["planner"])
    response = client.post("/laeufe/starten", data={"csrf_token": page_token(client, "/laeufe/")})
    run_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    _wait_until_done(client, run_id)
    html = client.get(f"/laeufe/{run_id}/erklaerung/Y{people[0].id}", headers={"HX-Request": "true"})
    text = html.get_data(as_text=True)
    assert html.status_code == 200 and offer.title in text and f"G{offer.id}" not in text
    assert client.get(f"/laeufe/{run_id}/erklaerung/Y99999").status_code == 404
    assert client.get(f"/laeufe/{run_id}/erklaerung/kaputt").status_code == 404
