"""Planners filter case lists by team; caseworkers see only their own team and get no team filter."""

from __future__ import annotations

from tests.web.conftest import login


def test_team_filter_is_offered_to_planners_only(app, users):
    planner = login(app.test_client(), users["planner"])
    for url in ("/faelle/", "/faelle/monitoring"):
        html = planner.get(url).get_data(as_text=True)
        assert 'name="team"' in html and "alle Teams" in html, url
    caseworker = login(app.test_client(), users["caseworker"])
    for url in ("/faelle/", "/faelle/monitoring"):
        assert 'name="team"' not in caseworker.get(url).get_data(as_text=True), url
