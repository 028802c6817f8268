"""The authorization matrix: every route of the app (UI and API, every method) × every role ×
own and foreign records, with the expected outcome written down explicitly.

- `MATRIX` has one entry per (endpoint, method). A route of `app.url_map` without an entry
  fails `test_every_route_has_an_access_decision` ("new route without an access decision").
- Each entry names, per role, the record variants the role may reach: "own" (records of
  provider P1 / team T1, the logged-in coordinator's and caseworker's side), "foreign"
  (provider P2 / team T2), and per parameter further variants ("public": a foreign published
  offer; "host": a young person of team T2 placed in a group of P1). Roles not named are denied.
- allow = any answer below 500 except 401/403/404 and a redirect to the login (a 4xx validation
  answer to the minimal body is fine); deny = 401/403/404 or a redirect to the login, and the
  database is unchanged (every row of every table).
- Every request starts from the same pristine district (the database is put back after a write).
  POST forms carry a valid CSRF token of the session; the API (/api/v1) is called with bearer
  tokens (read_write) of the same users.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from .district import ROLES, DistrictApp

ALL = "*"

#: Record variants per URL (or query/form) parameter: variant → key in `District.ids`.
RECORD_PARAMS: dict[str, dict[str, str]] = {
    "offer_id": {"own": "offer_own", "foreign": "offer_foreign_draft", "public": "offer_foreign"},
    "placement_id": {"own": "placement_own", "foreign": "placement_foreign", "host": "placement_host"},
    "young_person_id": {"own": "yp_own", "foreign": "yp_foreign"},
    "request_id": {"own": "request_own", "foreign": "request_foreign"},
    "flag_id": {"own": "flag_own", "foreign": "flag_foreign"},
    "token_id": {"own": "<token of the user>", "foreign": "<token of coordinator2>"},
}
#: Proposals of the nightly run (status "proposed") for the proposal routes.
PROPOSALS = {"placement_id": {"own": "proposal_own", "foreign": "proposal_foreign"}}


@dataclass(frozen=True)
class Entry:
    """The access decision for one route: role → allowed variants ("*" all, "" none)."""

    allowed: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)  # "@param" takes the variant's record id
    form: dict[str, str] = field(default_factory=dict)
    json: Any = None
    params: dict[str, dict[str, str]] = field(default_factory=dict)  # variant tables overriding RECORD_PARAMS
    login_redirect_ok: bool = False  # an allowed answer may redirect to the login (logout)

    def allows(self, role: str, variant: str) -> bool:
        value = self.allowed.get(role, "")
        return value == ALL or variant in value.split()


def E(**allowed: str) -> Entry:  # noqa: N802  (reads like a table row)
    return Entry(allowed=allowed)


def with_(entry: Entry, **changes: Any) -> Entry:
    return Entry(**{**entry.__dict__, **changes})


LOGGED_IN = E(coordinator=ALL, caseworker=ALL, planner=ALL, admin=ALL)
PUBLIC = E(anonymous=ALL, coordinator=ALL, caseworker=ALL, planner=ALL, admin=ALL)
PLANNER = E(planner=ALL)
ADMIN = E(admin=ALL)
COORDINATOR = E(coordinator=ALL)
CASEWORKER = E(caseworker=ALL)
OWN_OFFER = E(coordinator="own")  # the offering provider's coordinator only
SEE_OFFER = E(coordinator="own public", caseworker="own public", planner=ALL, admin=ALL)
HOST = E(coordinator="own host")  # the hosting provider's coordinator (placement in a group of P1)
OWN_CASE = E(caseworker="own")  # the case's own team
READ_CASE = E(caseworker="own", planner=ALL)
SEE_PLACEMENT = E(caseworker="own", coordinator="own host", planner=ALL)
END_PLACEMENT = E(caseworker="own", coordinator="own host")
PROPOSAL = Entry(allowed={"caseworker": "own"}, params=PROPOSALS)
COORD_PLANNER = E(coordinator=ALL, planner=ALL)
CASE_PLANNER = E(caseworker=ALL, planner=ALL)

#: A valid offer for the API (the record checks come after the body's type check).
OFFER_BODY = {
    "title": "Neue Gruppe", "municipality_id": "@town", "first_date": "2030-01-07", "seats": 8, "age_min": 10,
    "age_max": 16, "category_ids": ["@category_social_skills"],
    "sessions": [{"weekday": 0, "start_minute": 900, "end_minute": 1020}],
}  # fmt: skip

MATRIX: dict[tuple[str, str], Entry] = {
    # --- shell, login, health
    ("static", "GET"): PUBLIC,
    ("main.healthz", "GET"): PUBLIC,
    ("main.dashboard", "GET"): LOGGED_IN,
    ("auth.login", "GET"): PUBLIC,
    ("auth.login", "POST"): PUBLIC,
    ("auth.logout", "POST"): with_(LOGGED_IN, login_redirect_ok=True),
    ("auth.password", "GET"): LOGGED_IN,
    ("auth.password", "POST"): LOGGED_IN,
    ("tokens.index", "GET"): LOGGED_IN,
    ("tokens.create", "POST"): LOGGED_IN,
    ("tokens.revoke", "POST"): E(coordinator="own", caseworker="own", planner="own", admin="own"),
    # --- catalogue
    ("catalogue.index", "GET"): LOGGED_IN,
    ("catalogue.map", "GET"): LOGGED_IN,
    # --- offers
    ("offers.detail", "GET"): SEE_OFFER,
    ("offers.edit", "GET"): OWN_OFFER,
    ("offers.edit", "POST"): OWN_OFFER,
    ("offers.submit", "POST"): OWN_OFFER,
    ("offers.publish", "POST"): OWN_OFFER,
    ("offers.pause", "POST"): OWN_OFFER,
    ("offers.end", "POST"): OWN_OFFER,
    ("offers.confirm_vacancy", "POST"): OWN_OFFER,
    ("offers.certify", "POST"): PLANNER,
    ("offers.renew", "POST"): PLANNER,
    ("offers.reject", "POST"): PLANNER,
    ("offers.certification", "GET"): PLANNER,
    ("offers.mine", "GET"): COORDINATOR,
    ("offers.new", "GET"): COORDINATOR,
    ("offers.new", "POST"): COORDINATOR,
    ("offers.validate", "POST"): Entry(allowed={"coordinator": "own"}, query={"feld": "title", "angebot": "@offer_id"}),
    ("offers.sessions", "POST"): Entry(allowed={"coordinator": "own"}, query={"angebot": "@offer_id"}),
    ("offers.accept_placement", "POST"): HOST,
    ("offers.decline_placement", "POST"): with_(HOST, form={"reason": "Die Gruppe ist zu weit weg."}),
    # --- provider office
    ("office.attendance", "GET"): Entry(allowed={"coordinator": "own"}, query={"angebot": "@offer_id"}),
    ("office.attendance", "POST"): Entry(allowed={"coordinator": "own"}, form={"angebot": "@offer_id"}),
    ("office.attendance_month", "GET"): Entry(allowed={"coordinator": "own"}, query={"angebot": "@offer_id"}),
    ("office.attendance_export", "GET"): Entry(allowed={"coordinator": "own"},
                                               query={"angebot": "@offer_id", "format": "csv"}),
    ("office.offers_export", "GET"): Entry(allowed={"coordinator": ALL, "planner": ALL}, query={"format": "csv"}),
    ("office.offers_template", "GET"): Entry(allowed={"coordinator": ALL}, query={"format": "csv"}),
    ("office.offers_import", "GET"): COORDINATOR,
    ("office.offers_import", "POST"): COORDINATOR,
    # --- cases (young people)
    ("cases.young_people", "GET"): CASE_PLANNER,
    ("cases.new", "GET"): CASEWORKER,
    ("cases.new", "POST"): CASEWORKER,
    ("cases.check", "POST"): Entry(allowed={"caseworker": "own"}, query={"fall": "@young_person_id"}),
    ("cases.detail", "GET"): READ_CASE,
    ("cases.edit", "GET"): OWN_CASE,
    ("cases.edit", "POST"): OWN_CASE,
    ("cases.change_module", "GET"): OWN_CASE,
    ("cases.change_module", "POST"): OWN_CASE,
    ("cases.extend_crisis", "GET"): OWN_CASE,
    ("cases.extend_crisis", "POST"): OWN_CASE,
    ("cases.end", "GET"): OWN_CASE,
    ("cases.end", "POST"): OWN_CASE,
    ("cases.resolve_flag", "POST"): OWN_CASE,
    ("cases.monitoring", "GET"): CASE_PLANNER,
    ("cases.monitoring_export", "GET"): CASE_PLANNER,
    ("cases.individual_hours", "GET"): COORDINATOR,
    # the lead provider's coordinator reports for its own young people only
    ("cases.individual_hours", "POST"): Entry(allowed={"coordinator": "own"},
                                              form={"young_person_id": "@young_person_id", "hours": "2"}),
    # --- placements
    ("placements.new_request", "GET"): OWN_CASE,
    ("placements.new_request", "POST"): OWN_CASE,
    ("placements.requests", "GET"): CASEWORKER,
    ("placements.request_detail", "GET"): OWN_CASE,
    ("placements.confirm", "POST"): with_(OWN_CASE, form={"option": "@offer_own"}),
    ("placements.cancel", "POST"): OWN_CASE,
    ("placements.confirm_proposal", "POST"): PROPOSAL,
    ("placements.dismiss_proposal", "POST"): PROPOSAL,
    ("placements.placement", "GET"): SEE_PLACEMENT,
    ("placements.accept", "POST"): HOST,
    ("placements.decline", "POST"): with_(HOST, form={"reason": "Die Gruppe ist voll."}),
    ("placements.end", "POST"): with_(END_PLACEMENT, form={"reason": "help_ended"}),
    ("placements.pending", "GET"): COORDINATOR,
    ("placements.notifications", "GET"): LOGGED_IN,
    ("placements.mark_read", "POST"): LOGGED_IN,
    # --- solver runs and settings (planning)
    ("runs.index", "GET"): PLANNER,
    ("runs.start", "POST"): PLANNER,
    ("runs.detail", "GET"): PLANNER,
    ("runs.progress", "GET"): PLANNER,
    ("runs.cancel", "POST"): PLANNER,
    ("runs.explanation", "GET"): PLANNER,
    ("runs.problem_json", "GET"): PLANNER,
    ("runs.solution_json", "GET"): PLANNER,
    ("runs.what_if", "GET"): PLANNER,
    ("runs.what_if", "POST"): PLANNER,
    ("settings.index", "GET"): PLANNER,
    ("settings.index", "POST"): PLANNER,
    # --- reports (planning)
    ("reports.index", "GET"): PLANNER,
    ("reports.occupancy", "GET"): PLANNER,
    ("reports.demand", "GET"): PLANNER,
    ("reports.module_hours", "GET"): PLANNER,
    ("reports.cross_provider", "GET"): PLANNER,
    ("reports.export", "GET"): PLANNER,
    ("reports.signoff", "GET"): PLANNER,
    ("reports.signoff", "POST"): PLANNER,
    # --- offsets
    ("ledger.index", "GET"): COORD_PLANNER,
    ("ledger.export", "GET"): COORD_PLANNER,
    ("ledger.book", "POST"): PLANNER,
    ("ledger.close", "POST"): PLANNER,
    # --- privacy, re-login
    ("privacy.case_export", "GET"): READ_CASE,
    ("reauth.confirm", "GET"): LOGGED_IN,
    ("reauth.confirm", "POST"): LOGGED_IN,
    # --- administration (accounts, providers, teams)
    ("admin.index", "GET"): ADMIN,
    ("admin.users", "GET"): ADMIN,
    ("admin.user_new", "GET"): ADMIN,
    ("admin.user_new", "POST"): ADMIN,
    ("admin.user_edit", "GET"): ADMIN,
    ("admin.user_edit", "POST"): ADMIN,
    ("admin.user_password", "GET"): ADMIN,
    ("admin.user_password", "POST"): ADMIN,
    ("admin.user_activate", "POST"): ADMIN,
    ("admin.user_deactivate", "POST"): ADMIN,
    ("admin.providers", "GET"): ADMIN,
    ("admin.provider_new", "GET"): ADMIN,
    ("admin.provider_new", "POST"): ADMIN,
    ("admin.provider_edit", "GET"): ADMIN,
    ("admin.provider_edit", "POST"): ADMIN,
    ("admin.teams", "GET"): ADMIN,
    ("admin.teams", "POST"): ADMIN,
    # --- API documentation (browser session)
    ("api.docs", "GET"): LOGGED_IN,
    ("api.openapi_json", "GET"): LOGGED_IN,
    # --- API v1 (bearer tokens)
    ("api.me", "GET"): LOGGED_IN,
    ("api.catalogue", "GET"): LOGGED_IN,
    ("api.list_offers", "GET"): LOGGED_IN,
    ("api.get_offer", "GET"): SEE_OFFER,
    ("api.create_offer", "POST"): COORDINATOR,
    ("api.update_offer", "PUT"): with_(OWN_OFFER, json=OFFER_BODY),
    ("api.submit_offer", "POST"): OWN_OFFER,
    ("api.publish_offer", "POST"): OWN_OFFER,
    ("api.pause_offer", "POST"): OWN_OFFER,
    ("api.end_offer", "POST"): OWN_OFFER,
    ("api.confirm_vacancy", "POST"): OWN_OFFER,
    ("api.certify_offer", "POST"): PLANNER,
    ("api.renew_certification", "POST"): PLANNER,
    ("api.reject_offer", "POST"): PLANNER,
    ("api.import_offers", "POST"): COORDINATOR,
    ("api.list_young_people", "GET"): CASE_PLANNER,
    ("api.register_young_person", "POST"): CASEWORKER,
    ("api.get_young_person", "GET"): READ_CASE,
    ("api.update_young_person", "PUT"): OWN_CASE,
    ("api.change_module", "POST"): with_(OWN_CASE, json={"module_id": 1, "reason": "Hilfeplan fortgeschrieben"}),
    ("api.extend_crisis", "POST"): with_(OWN_CASE, json={"until": "2030-01-01", "reason": "Lage noch nicht stabil"}),
    ("api.end_case", "POST"): with_(OWN_CASE, json={"reason": "Hilfeziele erreicht"}),
    ("api.import_young_people", "POST"): CASEWORKER,
    ("api.list_requests", "GET"): CASEWORKER,
    ("api.create_request", "POST"): with_(OWN_CASE, json={"young_person_id": "@young_person_id"},
                                          params={"young_person_id": RECORD_PARAMS["young_person_id"]}),
    ("api.get_request", "GET"): OWN_CASE,
    ("api.confirm_request", "POST"): with_(OWN_CASE, json={"offer_ids": ["@offer_own"]}),
    ("api.get_attendance_month", "GET"): OWN_OFFER,
    ("api.get_attendance_day", "GET"): OWN_OFFER,
    ("api.record_attendance", "POST"): with_(OWN_OFFER, json={"offer_session_id": 1, "marks": []}),
    ("api.list_placements", "GET"): E(caseworker=ALL, coordinator=ALL, planner=ALL),
    ("api.get_placement", "GET"): SEE_PLACEMENT,
    ("api.accept_placement", "POST"): HOST,
    ("api.decline_placement", "POST"): with_(HOST, json={"reason": "Die Gruppe ist voll."}),
    ("api.end_placement", "POST"): with_(END_PLACEMENT, json={"reason": "help_ended"}),
    ("api.confirm_proposal", "POST"): PROPOSAL,
    ("api.dismiss_proposal", "POST"): PROPOSAL,
    ("api.list_runs", "GET"): PLANNER,
    ("api.get_run", "GET"): PLANNER,
    ("api.start_run", "POST"): PLANNER,
    ("api.get_statement", "GET"): COORD_PLANNER,
    ("api.close_statement_month", "POST"): PLANNER,
    ("api.get_report", "GET"): PLANNER,
}


# --------------------------------------------------------------------------- the walk


@dataclass
class Outcome:
    role: str
    variant: str
    url: str
    status: int
    location: str
    wrote: list[str]
    headers: Any = None
    body: bytes = b""


class Walk:
    """Requests against the district, one fresh client per request, database put back after writes."""

    def __init__(self, district_app: DistrictApp) -> None:
        self.d = district_app
        self.adapter = district_app.app.url_map.bind("localhost")

    def rule_params(self, endpoint: str, method: str) -> set[str]:
        for rule in self.d.app.url_map.iter_rules(endpoint):
            if method in rule.methods:
                return set(rule.arguments)
        raise KeyError((endpoint, method))

    def variant_tables(self, entry: Entry, endpoint: str, method: str) -> dict[str, dict[str, str]]:
        names = self.rule_params(endpoint, method)
        names |= {v[1:] for v in (*entry.query.values(), *entry.form.values()) if v.startswith("@") and
                  v[1:] in RECORD_PARAMS}
        names |= set(entry.params)
        return {name: entry.params.get(name) or RECORD_PARAMS[name] for name in names if
                name in RECORD_PARAMS or name in entry.params}

    def variants(self, entry: Entry, endpoint: str, method: str) -> list[str]:
        tables = self.variant_tables(entry, endpoint, method)
        found: list[str] = []
        for table in tables.values():
            found += [v for v in table if v not in found]
        return found or ["-"]

    def record_id(self, name: str, table: dict[str, str], variant: str, role: str) -> int:
        if name == "token_id":
            owner = role if variant == "own" and role != "anonymous" else "coordinator2"
            return self.d.token_ids[owner]
        key = table.get(variant) or table["own"]
        return self.d.district.ids[key]

    def value(self, raw: str, values: dict[str, Any]) -> Any:
        if isinstance(raw, str) and raw.startswith("@"):
            name = raw[1:]
            return values[name] if name in values else self.d.district.ids[name]
        return raw

    def url_values(self, entry: Entry, endpoint: str, method: str, variant: str, role: str) -> dict[str, Any]:
        district = self.d.district
        values: dict[str, Any] = {}
        for name, table in self.variant_tables(entry, endpoint, method).items():
            values[name] = self.record_id(name, table, variant, role)
        fixed = {"run_id": district.ids["run"], "month": district.month, "day": f"{district.month}-01",
                 "kind": "csv", "fmt": "csv", "filename": "css/app.css", "user_id": district.user_ids["coordinator2"],
                 "provider_id": district.ids["provider_foreign"]}
        for name in self.rule_params(endpoint, method):
            if name in values:
                continue
            if name == "key":
                values[name] = district.run_key if endpoint == "runs.explanation" else "auslastung"
            else:
                values[name] = fixed[name]
        return values

    def request(self, endpoint: str, method: str, entry: Entry, role: str, variant: str,
                headers: dict[str, str] | None = None) -> Outcome:
        values = self.url_values(entry, endpoint, method, variant, role)
        path_values = {k: v for k, v in values.items() if k in self.rule_params(endpoint, method)}
        url = self.adapter.build(endpoint, path_values, method=method)
        query = {k: self.value(v, values) for k, v in entry.query.items()}
        if query:
            url += "?" + urlencode(query)
        api = url.startswith("/api/v1/")
        user = role if role != "anonymous" else None
        client = self.d.app.test_client() if api else self.d.client(role)
        headers = dict(headers or {})
        if api and user:
            headers["Authorization"] = f"Bearer {self.d.tokens[user]}"
        kwargs: dict[str, Any] = {"headers": headers}
        if method in ("POST", "PUT"):
            if api:
                body = entry.json if entry.json is not None else {}
                kwargs["json"] = _fill(body, lambda v: self.value(v, values))
            else:
                form = {k: self.value(v, values) for k, v in entry.form.items()}
                if user:
                    form["csrf_token"] = self.d.csrf[user]
                kwargs["data"] = form
        response = client.open(url, method=method, **kwargs)
        body = response.get_data()
        response.close()  # file downloads are streamed
        _wait_for_solver_threads()
        wrote = self.d.changed_tables() if self.d.dirty() else []
        if wrote:
            self.d.restore()
        return Outcome(role, variant, url, response.status_code, response.headers.get("Location", ""), wrote,
                       response.headers, body)


def _fill(body: Any, value: Any) -> Any:
    if isinstance(body, dict):
        return {k: _fill(v, value) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill(v, value) for v in body]
    return value(body)


def _wait_for_solver_threads(timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name.startswith("solver-run-"):
            thread.join(max(0.0, deadline - time.monotonic()))


def is_denied(outcome: Outcome) -> bool:
    if outcome.status in (401, 403, 404):
        return True
    return outcome.status in (301, 302, 303, 307) and outcome.location.startswith("/login")


def judge(entry: Entry, outcome: Outcome) -> str | None:
    """A failure message, or None when the outcome is the expected one."""
    where = f"{outcome.role:<11} {outcome.variant:<7} {outcome.url}"
    if outcome.status >= 500:
        return f"{where}: server error {outcome.status}"
    if entry.allows(outcome.role, outcome.variant):
        if entry.login_redirect_ok and outcome.status == 302 and outcome.location.startswith("/login"):
            return None
        if is_denied(outcome):
            return f"{where}: expected allow, got {outcome.status} {outcome.location}".rstrip()
        return None
    if not is_denied(outcome):
        return f"{where}: expected deny, got {outcome.status} {outcome.location}".rstrip()
    if outcome.wrote:
        return f"{where}: denied ({outcome.status}) but wrote to {', '.join(outcome.wrote)}"
    return None


@pytest.fixture(scope="module")
def walk(district_app: DistrictApp) -> Walk:
    return Walk(district_app)


def _routes(app: Any) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_an_access_decision(district_app: DistrictApp) -> None:
    missing = sorted(_routes(district_app.app) - MATRIX.keys())
    assert not missing, "new route without an access decision (add it to MATRIX): " + ", ".join(
        f"{method} {endpoint}" for endpoint, method in missing)


def test_no_decision_for_a_route_that_is_gone(district_app: DistrictApp) -> None:
    stale = sorted(MATRIX.keys() - _routes(district_app.app))
    assert not stale, "MATRIX entries for routes that no longer exist: " + ", ".join(map(str, stale))


def test_matrix_agrees_with_declared_roles(district_app: DistrictApp) -> None:
    """A role allowed anything by the matrix must be declared on the view (and vice versa)."""
    from marketplace.access import declared_roles, is_public

    app = district_app.app
    wrong = []
    for (endpoint, method), entry in MATRIX.items():
        if endpoint == "static" or endpoint not in app.view_functions:
            continue
        view = app.view_functions[endpoint]
        declared = set(ROLES) - {"anonymous"} if is_public(view) else set(declared_roles(view) or ())
        allowed = {role for role in ROLES if entry.allowed.get(role)} - {"anonymous"}
        if allowed != declared:
            wrong.append(f"{method} {endpoint}: matrix {sorted(allowed)} vs declared {sorted(declared)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("endpoint", "method"), sorted(MATRIX), ids=[f"{m} {e}" for e, m in sorted(MATRIX)])
def test_route_access(walk: Walk, endpoint: str, method: str) -> None:
    if endpoint not in walk.d.app.view_functions:
        pytest.fail(f"{endpoint} is in MATRIX but not registered")
    entry = MATRIX[(endpoint, method)]
    failures = []
    checked = 0
    for role in ROLES:
        for variant in walk.variants(entry, endpoint, method):
            outcome = walk.request(endpoint, method, entry, role, variant)
            checked += 1
            message = judge(entry, outcome)
            if message:
                failures.append(message)
    assert checked >= len(ROLES)
    assert not failures, f"{method} {endpoint}:\n" + "\n".join(failures)
