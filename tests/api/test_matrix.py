"""Authorization matrix of the API: every endpoint × every role × own and foreign record.

The expectations are those of the web UI (marketplace.access). "Allowed" means the request got
past authentication and authorization (any answer but 401/403/404: the calls are built so that an
allowed one is refused later, by If-Match or validation, and nothing is written); "denied" is 403.
A new API endpoint without an entry in MATRIX fails `test_every_api_endpoint_has_a_matrix_entry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import Session

from .conftest import ROLES, District, bearer, days, token_for

BOTH = frozenset({"own", "foreign"})
OWN = frozenset({"own"})
NONE: frozenset[str] = frozenset()
STALE = '"{kind}-{id}-v999"'


@dataclass(frozen=True)
class Entry:
    """How to call one endpoint, and which roles may (per side: own / foreign record)."""

    path: str  # with {offer}, {published}, {person}, {ended}, {request}, {placement}, {run}
    allowed: dict[str, frozenset[str]]  # role -> sides allowed; roles missing: denied everywhere
    body: Callable[[District, str], Any] | None = None
    stale: str | None = None  # the record kind whose stale ETag goes into If-Match
    sides: tuple[str, ...] = ("own", "foreign")
    params: dict[str, str] = field(default_factory=dict)


def everyone(sides: frozenset[str] = OWN) -> dict[str, frozenset[str]]:
    return dict.fromkeys(ROLES, sides)


def offer_body(d: District, side: str) -> dict[str, Any]:
    return {"title": "Neue Gruppe", "municipality_id": d.ids["town"], "first_date": days(10), "seats": 8,
            "age_min": 10, "age_max": 14, "category_ids": [d.ids["category"]],
            "sessions": [{"weekday": 0, "start_minute": 900, "end_minute": 1020}]}


def no_sides(entry_path: str, allowed: dict[str, frozenset[str]], **kwargs: Any) -> Entry:
    return Entry(entry_path, allowed, sides=("own",), **kwargs)


MATRIX: dict[tuple[str, str], Entry] = {
    # offers
    ("api.list_offers", "GET"): no_sides("/api/v1/offers", everyone()),
    ("api.get_offer", "GET"): Entry("/api/v1/offers/{offer}", {"coordinator": OWN, "planner": BOTH, "admin": BOTH}),
    ("api.create_offer", "POST"): no_sides("/api/v1/offers", {"coordinator": OWN}, body=lambda d, s: {}),
    ("api.update_offer", "PUT"): Entry("/api/v1/offers/{offer}", {"coordinator": OWN}, body=offer_body,
                                       stale="offer"),
    ("api.submit_offer", "POST"): Entry("/api/v1/offers/{offer}/submit", {"coordinator": OWN}, stale="offer"),
    ("api.publish_offer", "POST"): Entry("/api/v1/offers/{offer}/publish", {"coordinator": OWN}, stale="offer"),
    ("api.pause_offer", "POST"): Entry("/api/v1/offers/{offer}/pause", {"coordinator": OWN},
                                       body=lambda d, s: {"reason": "Ferien"}, stale="offer"),
    ("api.end_offer", "POST"): Entry("/api/v1/offers/{offer}/end", {"coordinator": OWN},
                                     body=lambda d, s: {"reason": None}, stale="offer"),
    ("api.certify_offer", "POST"): Entry("/api/v1/offers/{offer}/certify", {"planner": BOTH},
                                         body=lambda d, s: {"valid_until": days(200)}, stale="offer"),
    ("api.renew_certification", "POST"): Entry("/api/v1/offers/{offer}/renew", {"planner": BOTH},
                                               body=lambda d, s: {"valid_until": days(200)}, stale="offer"),
    ("api.reject_offer", "POST"): Entry("/api/v1/offers/{offer}/reject", {"planner": BOTH},
                                        body=lambda d, s: {"reason": "Konzept fehlt"}, stale="offer"),
    ("api.confirm_vacancy", "POST"): Entry("/api/v1/offers/{offer}/confirm-vacancy", {"coordinator": OWN}),
    ("api.import_offers", "POST"): no_sides("/api/v1/offers/import", {"coordinator": OWN}, body=lambda d, s: []),
    # young people
    ("api.list_young_people", "GET"): no_sides("/api/v1/young-people", {"caseworker": OWN, "planner": OWN}),
    ("api.get_young_person", "GET"): Entry("/api/v1/young-people/{person}", {"caseworker": OWN, "planner": BOTH}),
    ("api.register_young_person", "POST"): no_sides("/api/v1/young-people", {"caseworker": OWN},
                                                    body=lambda d, s: {}),
    ("api.update_young_person", "PUT"): Entry("/api/v1/young-people/{person}", {"caseworker": OWN},
                                              body=lambda d, s: {}, stale="young_person"),
    ("api.import_young_people", "POST"): no_sides("/api/v1/young-people/import", {"caseworker": OWN},
                                                  body=lambda d, s: []),
    ("api.change_module", "POST"): Entry("/api/v1/young-people/{person}/change-module", {"caseworker": OWN},
                                         body=lambda d, s: {"module_id": d.ids["module"],
                                                            "reason": "Hilfeplan fortgeschrieben"},
                                         stale="young_person"),
    ("api.extend_crisis", "POST"): Entry("/api/v1/young-people/{person}/extend-crisis", {"caseworker": OWN},
                                         body=lambda d, s: {"until": days(20), "reason": "Lage noch nicht stabil"},
                                         stale="young_person"),
    ("api.end_case", "POST"): Entry("/api/v1/young-people/{person}/end", {"caseworker": OWN},
                                    body=lambda d, s: {"reason": "Hilfeziele erreicht"}, stale="young_person"),
    # attendance: the hosting provider's coordinator (the allowed write names a session the group does not have)
    ("api.get_attendance_month", "GET"): Entry("/api/v1/offers/{published}/attendance", {"coordinator": OWN}),
    ("api.get_attendance_day", "GET"): Entry("/api/v1/offers/{published}/attendance/2025-01-06",
                                             {"coordinator": OWN}),
    ("api.record_attendance", "POST"): Entry("/api/v1/offers/{published}/attendance/2025-01-06", {"coordinator": OWN},
                                             body=lambda d, s: {"offer_session_id": 2147483647, "marks": []}),
    # placement requests (the request's record side is the young person's team)
    ("api.list_requests", "GET"): no_sides("/api/v1/placement-requests", {"caseworker": OWN}),
    ("api.create_request", "POST"): Entry("/api/v1/placement-requests", {"caseworker": OWN},
                                          body=lambda d, s: {"young_person_id": d.ended[s].id}),
    ("api.get_request", "GET"): Entry("/api/v1/placement-requests/{request}", {"caseworker": OWN}),
    ("api.confirm_request", "POST"): Entry("/api/v1/placement-requests/{request}/confirm", {"caseworker": OWN},
                                           body=lambda d, s: {"offer_ids": [d.published[s].id]}),
    # placements (own: own team's young person in the own provider's group)
    ("api.list_placements", "GET"): no_sides("/api/v1/placements",
                                             {"caseworker": OWN, "coordinator": OWN, "planner": OWN}),
    ("api.get_placement", "GET"): Entry("/api/v1/placements/{placement}",
                                        {"caseworker": OWN, "coordinator": OWN, "planner": BOTH}),
    ("api.accept_placement", "POST"): Entry("/api/v1/placements/{placement}/accept", {"coordinator": OWN},
                                            stale="placement"),
    ("api.decline_placement", "POST"): Entry("/api/v1/placements/{placement}/decline", {"coordinator": OWN},
                                             body=lambda d, s: {"reason": "Gruppe voll"}, stale="placement"),
    ("api.end_placement", "POST"): Entry("/api/v1/placements/{placement}/end", {"coordinator": OWN, "caseworker": OWN},
                                         body=lambda d, s: {"reason": "moved_away"}, stale="placement"),
    ("api.confirm_proposal", "POST"): Entry("/api/v1/placements/{placement}/confirm", {"caseworker": OWN},
                                            body=lambda d, s: {}, stale="placement"),
    ("api.dismiss_proposal", "POST"): Entry("/api/v1/placements/{placement}/dismiss", {"caseworker": OWN},
                                            stale="placement"),
    # solver runs, statements, catalogue, identity
    ("api.list_runs", "GET"): no_sides("/api/v1/solver-runs", {"planner": OWN}),
    ("api.get_run", "GET"): no_sides("/api/v1/solver-runs/{run}", {"planner": OWN}),
    # the one allowed write that is carried out: the run starts (it only adds proposals; conftest waits for it)
    ("api.start_run", "POST"): no_sides("/api/v1/solver-runs", {"planner": OWN}),
    ("api.get_statement", "GET"): no_sides("/api/v1/statements/2025-01", {"coordinator": OWN, "planner": OWN}),
    ("api.close_statement_month", "POST"): no_sides("/api/v1/statements/2999-01/close", {"planner": OWN}),
    ("api.get_report", "GET"): no_sides("/api/v1/reports/auslastung", {"planner": OWN}),
    ("api.catalogue", "GET"): no_sides("/api/v1/catalogue", everyone()),
    ("api.me", "GET"): no_sides("/api/v1/me", everyone()),
}


def _url(entry: Entry, d: District, side: str) -> str:
    values = {"offer": d.offers[side].id, "published": d.published[side].id, "person": d.people[side].id,
              "ended": d.ended[side].id, "request": d.requests[side].id, "placement": d.placements[side].id,
              "run": d.run.id}
    return entry.path.format(**values)


def _record_id(entry: Entry, d: District, side: str) -> int:
    return {"offer": d.offers, "young_person": d.people, "placement": d.placements}[entry.stale][side].id


def api_rules(app) -> set[tuple[str, str]]:
    """Every (endpoint, method) of /api/v1 in the app's URL map."""
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_api_endpoint_has_a_matrix_entry(shared_app):
    rules = api_rules(shared_app)
    assert rules - set(MATRIX) == set(), "new API endpoint without an authorization matrix entry"
    assert set(MATRIX) - rules == set(), "matrix entry for an endpoint that no longer exists"


CASES = [(key, role, side) for key, entry in MATRIX.items() for role in ROLES for side in entry.sides]


@pytest.mark.parametrize(("key", "role", "side"), CASES, ids=[f"{k[0][4:]}-{k[1]}-{r}-{s}" for k, r, s in CASES])
def test_authorization_matrix(shared_app, key, role, side):
    d: District = shared_app.config["TEST_DISTRICT"]
    entry = MATRIX[key]
    headers = d.headers(role)
    if entry.stale:
        headers["If-Match"] = STALE.format(kind=entry.stale, id=_record_id(entry, d, side))
    kwargs: dict[str, Any] = {"headers": headers}
    if entry.body is not None:
        kwargs["json"] = entry.body(d, side)
    response = shared_app.test_client().open(_url(entry, d, side), method=key[1], **kwargs)
    allowed = side in entry.allowed.get(role, NONE)
    body = response.get_data(as_text=True)[:300]
    if allowed:
        assert response.status_code not in (401, 403, 404), (response.status_code, body)
        assert response.status_code < 500, body
    else:
        assert response.status_code == 403, (response.status_code, body)
        assert response.mimetype == "application/problem+json"


def test_allowed_writes_in_the_matrix_wrote_nothing(shared_app):
    """The matrix's allowed writes were refused after authorization: the district is unchanged."""
    d: District = shared_app.config["TEST_DISTRICT"]
    client = shared_app.test_client()
    offer = client.get(f"/api/v1/offers/{d.offers['own'].id}", headers=d.headers("coordinator")).get_json()
    assert offer["version"] == 1 and offer["certification"]["status"] == "draft"
    placement = client.get(f"/api/v1/placements/{d.placements['own'].id}", headers=d.headers("planner")).get_json()
    assert placement["status"] == "confirmed" and placement["version"] == 1


@pytest.mark.parametrize("key", sorted(MATRIX), ids=[f"{k[0][4:]}-{k[1]}" for k in sorted(MATRIX)])
def test_anonymous_requests_get_401_problems(shared_app, key):
    d: District = shared_app.config["TEST_DISTRICT"]
    entry = MATRIX[key]
    response = shared_app.test_client().open(_url(entry, d, "own"), method=key[1], json={})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


WRITES = sorted(k for k in MATRIX if k[1] != "GET")


@pytest.fixture(scope="module")
def read_tokens(shared_app) -> dict[str, str]:
    d: District = shared_app.config["TEST_DISTRICT"]
    with Session(shared_app.extensions["db_engine"]) as session:
        return {role: token_for(session, user, "read") for role, user in d.users.items()}


@pytest.mark.parametrize("key", WRITES, ids=[f"{k[0][4:]}-{k[1]}" for k in WRITES])
def test_read_only_tokens_cannot_write(shared_app, read_tokens, key):
    d: District = shared_app.config["TEST_DISTRICT"]
    entry = MATRIX[key]
    role = next(iter(entry.allowed))
    headers = bearer(read_tokens[role])
    if entry.stale:
        headers["If-Match"] = STALE.format(kind=entry.stale, id=_record_id(entry, d, "own"))
    kwargs: dict[str, Any] = {"headers": headers}
    if entry.body is not None:
        kwargs["json"] = entry.body(d, "own")
    response = shared_app.test_client().open(_url(entry, d, "own"), method=key[1], **kwargs)
    assert response.status_code == 403
    assert "nur lesen" in response.get_json()["detail"]
