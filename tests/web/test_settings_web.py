"""Solver settings page: German explanations, validation at the field, nothing half-written."""

from __future__ import annotations

from marketplace.ledger import billable_statuses
from marketplace.matching.problem import DEFAULT_WEIGHTS
from marketplace.models import Setting
from marketplace.snapshot import build_snapshot
from tests.web.conftest import login, page_token


def _form(client, **changes) -> dict:
    values = {key: str(value) for key, value in DEFAULT_WEIGHTS.items()}
    values.update(max_changes="100", time_limit_s="20", csrf_token=page_token(client, "/einstellungen/"))
    values.update(changes)
    return values


def test_planner_changes_weights_and_the_next_problem_uses_them(client, session, users):
    login(client, users["planner"])
    page = client.get("/einstellungen/").get_data(as_text=True)
    assert "Fahrweg" in page and "Abzug je Kilometer" in page
    response = client.post("/einstellungen/", data=_form(client, km="12,5", max_changes="7", bill_excused="1"))
    assert response.status_code == 302
    session.expire_all()
    assert build_snapshot(session).problem.weights["km"] == 12.5
    assert session.get(Setting, "solver.max_changes").value == 7
    assert billable_statuses(session) == {"present", "excused"}
    assert 'value="12,5"' in client.get("/einstellungen/").get_data(as_text=True)


def test_bad_values_get_german_messages_and_nothing_is_saved(client, session, users):
    login(client, users["planner"])
    response = client.post("/einstellungen/", data=_form(client, km="-1", hours="viel", time_limit_s="0"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Muss zwischen 0 und 1.000.000 liegen." in page
    assert "Bitte eine Zahl eingeben" in page and "1 bis 600 Sekunden" in page
    assert 'value="viel"' in page  # the input is kept for correction
    session.expire_all()
    assert session.get(Setting, "solver.weights") is None


def test_settings_are_for_planners_only(app, users):
    for role in ("caseworker", "coordinator", "admin"):
        client = login(app.test_client(), users[role])
        assert client.get("/einstellungen/").status_code == 403
