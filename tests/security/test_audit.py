"""Every view and change of case data writes an audit event naming the case, and no content.

Each case below is one request in the district (from its pristine state): afterwards there must
be a new `AuditEvent` with the acting user, a fresh timestamp, the expected action and the
young person's id in `case_id`. Across all of them, no audit row stores a pseudonym, a case
reference or any other text of the case: the trail keeps references only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, text

from marketplace.timeutil import utcnow

from .district import DistrictApp


@dataclass(frozen=True)
class Case:
    role: str
    method: str
    url: str  # "{yp_own}" etc. are filled from District.ids
    cases: tuple[str, ...]  # keys of the young people that must be named
    actions: tuple[str, ...] = ("view",)
    form: tuple[tuple[str, str], ...] = ()
    json: Any = None


CASES: dict[str, Case] = {
    # case pages and lists (caseworker of the team, planning)
    "case page": Case("caseworker", "GET", "/faelle/{yp_own}", ("yp_own",)),
    "case page (planning)": Case("planner", "GET", "/faelle/{yp_foreign}", ("yp_foreign",)),
    "case editor": Case("caseworker", "GET", "/faelle/{yp_own}/bearbeiten", ("yp_own",)),
    "case list": Case("caseworker", "GET", "/faelle/", ("yp_own", "yp_own_member")),
    "case list (planning)": Case("planner", "GET", "/faelle/", ("yp_own", "yp_foreign", "yp_host")),
    "monitoring": Case("caseworker", "GET", "/faelle/monitoring", ("yp_own", "yp_own_member")),
    "monitoring export": Case("caseworker", "GET", "/faelle/monitoring/export.csv", ("yp_own", "yp_own_member"),
                              ("export",)),
    "individual hours (lead provider)": Case("coordinator", "GET", "/faelle/einzelstunden", ("yp_own",)),
    "Art. 15 export": Case("planner", "GET", "/datenschutz/fall/{yp_foreign}/auskunft.json", ("yp_foreign",),
                           ("export",)),
    # placements
    "request form": Case("caseworker", "GET", "/belegung/neu/{yp_own_member}", ("yp_own_member",)),
    "request page": Case("caseworker", "GET", "/belegung/anfragen/{request_own}", ("yp_own",)),
    "request list": Case("caseworker", "GET", "/belegung/anfragen", ("yp_own",)),
    "placement page": Case("caseworker", "GET", "/belegung/belegungen/{placement_own}", ("yp_own",)),
    "placement page (host)": Case("coordinator", "GET", "/belegung/belegungen/{placement_host}", ("yp_host",)),
    "pending placements (host)": Case("coordinator", "GET", "/belegung/offen", ("yp_own",)),
    "my groups (members, pending)": Case("coordinator", "GET", "/angebote/meine", ("yp_own", "yp_host")),
    "attendance (members)": Case("coordinator", "GET", "/buero/teilnahme?angebot={offer_own}",
                                 ("yp_host", "yp_own_member")),
    "attendance month export": Case("coordinator", "GET",
                                    "/buero/teilnahme/monat/export?angebot={offer_own}&format=csv&monat={month}",
                                    ("yp_host", "yp_own_member"), ("export",)),
    "solver explanation": Case("planner", "GET", "/laeufe/{run}/erklaerung/Y{yp_own}", ("yp_own",)),
    # API
    "API case": Case("caseworker", "GET", "/api/v1/young-people/{yp_own}", ("yp_own",)),
    "API case list": Case("planner", "GET", "/api/v1/young-people", ("yp_own", "yp_foreign")),
    "API placement": Case("coordinator", "GET", "/api/v1/placements/{placement_host}", ("yp_host",)),
    "API placement list": Case("caseworker", "GET", "/api/v1/placements", ("yp_own",)),
    "API request": Case("caseworker", "GET", "/api/v1/placement-requests/{request_own}", ("yp_own",)),
    # changes
    "placement accepted": Case("coordinator", "POST", "/belegung/belegungen/{placement_own}/annehmen", ("yp_own",),
                               ("update",)),
    "placement declined": Case("coordinator", "POST", "/belegung/belegungen/{placement_own}/ablehnen", ("yp_own",),
                               ("update",), form=(("reason", "Die Gruppe ist voll."),)),
    "placement ended": Case("caseworker", "POST", "/belegung/belegungen/{placement_own}/beenden", ("yp_own",),
                            ("update",), form=(("reason", "help_ended"),)),
    "proposal confirmed": Case("caseworker", "POST", "/belegung/vorschlaege/{proposal_own}/bestaetigen", ("yp_own",),
                               ("update", "create")),
    "request withdrawn": Case("caseworker", "POST", "/belegung/anfragen/{request_own}/zurueckziehen", ("yp_own",),
                              ("update",)),
    "placement requested": Case("caseworker", "POST", "/belegung/neu/{yp_own_member}", ("yp_own_member",),
                                ("create", "update", "view")),
    "flag resolved": Case("caseworker", "POST", "/faelle/{yp_own}/hinweise/{flag_own}/erledigt", ("yp_own",),
                          ("update",)),
    "individual hours recorded": Case("coordinator", "POST", "/faelle/einzelstunden", ("yp_own",),
                                      ("create", "update"),
                                      form=(("young_person_id", "{yp_own}"), ("month", "{month}"), ("hours", "3"))),
    "API placement ended": Case("coordinator", "POST", "/api/v1/placements/{placement_host}/end", ("yp_host",),
                                ("update",), json={"reason": "help_ended"}),
}


def _fill(d: DistrictApp, template: str) -> str:
    return template.format(**d.district.ids, month=d.district.month)


def _max_audit_id(d: DistrictApp) -> int:
    with d.engine.connect() as connection:
        return connection.execute(text("SELECT coalesce(max(id), 0) FROM audit_event")).scalar()


def _new_events(d: DistrictApp, after: int) -> list[dict[str, Any]]:
    with d.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM audit_event WHERE id > :after ORDER BY id"), {"after": after})
        return [dict(r._mapping) for r in rows]


def _request(d: DistrictApp, case: Case) -> Any:
    url = _fill(d, case.url)
    if url.startswith("/api/v1/"):
        headers = {"Authorization": f"Bearer {d.tokens[case.role]}"}
        if case.method == "POST" and "/placements/" in url:
            headers["If-Match"] = _etag(d, url)
        return d.app.test_client().open(url, method=case.method, headers=headers, json=case.json)
    client = d.client(case.role)
    if case.method == "GET":
        return client.get(url)
    form = {k: _fill(d, v) for k, v in case.form}
    return client.post(url, data={**form, "csrf_token": d.csrf[case.role]})


def _etag(d: DistrictApp, url: str) -> str:
    placement_url = url.rsplit("/", 1)[0]
    response = d.app.test_client().get(placement_url, headers={"Authorization": f"Bearer {d.tokens['planner']}"})
    return response.headers["ETag"]


#: Views of case data that are not audited per case yet (found by this module; to be fixed in the feature code).
NOT_YET_AUDITED = {
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(reason=NOT_YET_AUDITED[name], strict=True))
    if name in NOT_YET_AUDITED else name for name in CASES
])
def test_case_data_is_audited(district_app: DistrictApp, name: str) -> None:
    d = district_app
    case = CASES[name]
    d.restore()
    before, started = _max_audit_id(d), utcnow()
    response = _request(d, case)
    status = response.status_code
    response.close()
    events = _new_events(d, before)
    d.restore()
    assert status < 400, f"{name}: {status}"
    user_id = d.district.user_ids[case.role]
    for key in case.cases:
        case_id = d.district.ids[key]
        mine = [e for e in events if e["case_id"] == case_id and e["user_id"] == user_id]
        assert mine, f"{name}: no audit event for case {key} ({case_id}) by {case.role}: {events}"
        assert any(e["action"] in case.actions for e in mine), f"{name}: actions {[e['action'] for e in mine]}"
        for event in mine:
            at = event["at"]
            assert at is not None
            when = at if not isinstance(at, str) else None
            if when is not None:
                assert abs(when.replace(tzinfo=None) - started.replace(tzinfo=None)) < timedelta(minutes=1)


def test_audit_rows_hold_references_only(district_app: DistrictApp) -> None:
    """After every case above (not undone in between), no audit row contains any text of a case."""
    d = district_app
    d.restore()
    for case in CASES.values():
        _request(d, case).close()
    with d.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("audit_event")}
        rows = [dict(r._mapping) for r in connection.execute(text("SELECT * FROM audit_event"))]
    d.restore()
    assert columns == {"id", "at", "user_id", "action", "object_type", "object_id", "case_id"}
    secrets = [*d.district.case_references, *d.district.pseudonyms.values(), "Die Gruppe ist voll."]
    leaks = [(row, s) for row in rows for s in secrets
             if s in str(row["object_type"]) or s in str(row["object_id"])]
    assert len(rows) > len(CASES)
    assert not leaks, leaks
    for row in rows:
        assert row["object_id"] is None or len(str(row["object_id"])) <= 40, row
