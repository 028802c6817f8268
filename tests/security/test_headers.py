"""Headers, sessions and privacy, verified on every page of the authorization matrix walk.

tests/web/test_shell.py and tests/web/test_auth.py check the login page and the cookie of one
login; here every page each role can reach in the district is checked:

- a Content-Security-Policy without unsafe-inline/unsafe-eval, with frame-ancestors 'none', and
  HTML that needs nothing more (no inline scripts, styles or event handlers), full pages and htmx
  fragments alike;
- `Cache-Control: no-store` on everything but static files (case pages and exports included);
- session cookie flags: HttpOnly and SameSite always, Secure in the production configuration;
- privacy: no page, fragment, export or API answer a coordinator can reach contains a case
  reference, and the caseworker of a case never accepted by the coordinator's provider stays
  unknown to them.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplace import create_app
from tests.conftest import TEST_SECRET
from tests.web.conftest import post_login

from .district import DistrictApp
from .test_authorization_matrix import MATRIX, Outcome, Walk

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


@pytest.fixture(scope="module")
def walk(district_app: DistrictApp) -> Iterator[Walk]:
    yield Walk(district_app)
    _WALKS.clear()


ALL_ROLES = ("anonymous", "coordinator", "caseworker", "planner", "admin")
_WALKS: dict[bool, list[Outcome]] = {}


def _walk(walk: Walk, htmx: bool) -> list[Outcome]:
    """Every GET answer each role gets on a route the matrix allows it (every allowed variant), once."""
    if htmx not in _WALKS:
        headers = {"HX-Request": "true"} if htmx else None
        outcomes = []
        for (endpoint, method), entry in sorted(MATRIX.items()):
            if method != "GET" or endpoint == "static" or endpoint not in walk.d.app.view_functions:
                continue
            for role in ALL_ROLES:
                for variant in walk.variants(entry, endpoint, method):
                    if entry.allows(role, variant):
                        outcomes.append(walk.request(endpoint, method, entry, role, variant, headers=headers))
        _WALKS[htmx] = outcomes
    return _WALKS[htmx]


def _reachable(walk: Walk, roles: tuple[str, ...], *, htmx: bool = False) -> Iterator[Outcome]:
    return (o for o in _walk(walk, htmx) if o.role in roles)


def _is_html(outcome: Outcome) -> bool:
    return (outcome.headers.get("Content-Type") or "").startswith("text/html")


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_every_page_has_the_strict_csp_and_no_inline_code(walk: Walk, htmx: bool) -> None:
    problems = []
    pages = 0
    for outcome in _reachable(walk, ALL_ROLES, htmx=htmx):
        where = f"{outcome.role} {outcome.url}"
        csp = outcome.headers.get("Content-Security-Policy", "")
        if "unsafe-inline" in csp or "unsafe-eval" in csp or "frame-ancestors 'none'" not in csp:
            problems.append(f"{where}: CSP {csp!r}")
        if "script-src 'self'" not in csp or "object-src 'none'" not in csp:
            problems.append(f"{where}: CSP without script-src/object-src: {csp!r}")
        if outcome.headers.get("X-Frame-Options") != "DENY":
            problems.append(f"{where}: X-Frame-Options {outcome.headers.get('X-Frame-Options')!r}")
        if not _is_html(outcome):
            continue
        pages += 1
        html = outcome.body.decode("utf-8")
        for name, pattern in (("inline script", INLINE_SCRIPT), ("event handler", EVENT_HANDLER),
                              ("inline style", STYLE)):
            match = pattern.search(html)
            if match:
                problems.append(f"{where}: {name} {html[max(0, match.start() - 40):match.end() + 40]!r}")
        if "javascript:" in html.lower():
            problems.append(f"{where}: javascript: URL")
    assert pages > 50
    assert not problems, "\n".join(problems)


def test_nothing_but_static_files_may_be_cached(walk: Walk) -> None:
    """Pages, fragments, exports and API answers may carry case data: never stored in any cache."""
    problems = []
    for outcome in _reachable(walk, ("coordinator", "caseworker", "planner", "admin")):
        if outcome.headers.get("Cache-Control") != "no-store":
            problems.append(f"{outcome.role} {outcome.url}: Cache-Control {outcome.headers.get('Cache-Control')!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("url_key", ["case", "placement", "export", "api_case", "case_list"])
def test_case_pages_are_no_store(district_app: DistrictApp, url_key: str) -> None:
    ids = district_app.district.ids
    url = {
        "case": f"/faelle/{ids['yp_own']}",
        "placement": f"/belegung/belegungen/{ids['placement_own']}",
        "export": f"/datenschutz/fall/{ids['yp_own']}/auskunft.json",
        "api_case": f"/api/v1/young-people/{ids['yp_own']}",
        "case_list": "/faelle/",
    }[url_key]
    if url.startswith("/api/"):
        response = district_app.app.test_client().get(
            url, headers={"Authorization": f"Bearer {district_app.tokens['caseworker']}"})
    else:
        response = district_app.client("caseworker").get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers.get("Vary", "")
    response.close()


@pytest.mark.parametrize("production", [False, True], ids=["development", "production"])
def test_session_cookie_flags(tmp_path: Path, _migrated_template: Path, production: bool) -> None:
    import shutil

    from sqlmodel import Session

    from tests.factories import make_user

    path = tmp_path / "cookie.db"
    shutil.copyfile(_migrated_template, path)
    config = {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{path}"}
    if production:
        config["ENV_NAME"] = "production"
    app = create_app(config)
    try:
        with Session(app.extensions["db_engine"]) as session:
            email = make_user(session, "caseworker").email
            session.commit()
        client = app.test_client()
        response = post_login(client, email)
        assert response.status_code == 302
        cookies = [v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session=")]
        assert cookies, response.headers
        flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookies[-1].split(";")[1:]}
        assert "httponly" in flags
        assert flags.get("samesite", "").lower() in ("samesite=lax", "samesite=strict")
        assert ("secure" in flags) is production
        assert "expires" in flags  # bounded lifetime
    finally:
        app.extensions["db_engine"].dispose()


# --------------------------------------------------------------------------- privacy


def _texts(outcome: Outcome) -> str:
    """The answer's text; an XLSX export unzipped (its XML parts)."""
    body = outcome.body
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return body.decode("utf-8", "replace")


def _check_coordinator_sees_no_case_data(walk: Walk, htmx: bool) -> None:
    d = walk.d.district
    secrets = [*d.case_references, "Fachkraft Drei Verborgen", d.emails["caseworker3"]]
    problems = []
    seen = 0
    for outcome in _reachable(walk, ("coordinator",), htmx=htmx):
        if outcome.status != 200:
            continue
        seen += 1
        text = _texts(outcome)
        problems += [f"{outcome.url}: shows {secret!r}" for secret in secrets if secret in text]
    assert seen > 20
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_coordinator_never_sees_a_case_reference_or_an_unaccepted_caseworker(walk: Walk, htmx: bool) -> None:
    _check_coordinator_sees_no_case_data(walk, htmx)


def test_coordinator_exports_and_api_carry_no_case_reference(walk: Walk) -> None:
    """The exports and API answers are among the walk; this makes sure they were really looked at."""
    urls = [o.url for o in _reachable(walk, ("coordinator",)) if o.status == 200]
    assert any(u.startswith("/api/v1/placements") for u in urls)
    assert any("export" in u for u in urls)
    assert any(u.startswith("/belegung/belegungen/") for u in urls)
    _check_coordinator_sees_no_case_data(walk, htmx=False)


def test_the_check_would_notice_a_case_reference(walk: Walk) -> None:
    """Sanity: the same pages for the caseworker of the team do show case references."""
    d = walk.d.district
    entry = MATRIX[("cases.detail", "GET")]
    outcome = walk.request("cases.detail", "GET", entry, "caseworker", "own")
    assert outcome.status == 200
    assert any(ref in _texts(outcome) for ref in d.case_references)
