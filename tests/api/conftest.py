"""API test helpers: tokens per user, Bearer headers, and a small district with own and foreign records.

`District` has two providers (A: the test coordinator's, B: someone else's) and two ASD teams
(T1: the test caseworker's, T2: someone else's). "Own" records belong to provider A / team T1,
"foreign" ones to B / T2; every role gets a read_write token.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from marketplace import create_app
from marketplace.api_tokens import create_token
from marketplace.models import (
    GroupOffer,
    Placement,
    PlacementRequest,
    Provider,
    Role,
    SolverRun,
    Team,
    User,
    YoungPerson,
)
from tests.conftest import TEST_SECRET
from tests.factories import (
    make_category,
    make_module,
    make_municipality,
    make_offer,
    make_placement,
    make_provider,
    make_team,
    make_user,
    make_young_person,
)
from tests.web.conftest import users  # noqa: F401  (one user per role, for the UI tests here)

ROLES = ("coordinator", "caseworker", "planner", "admin")


def token_for(session: Session, user: User, scope: str = "read_write") -> str:
    """A new API token secret for `user` (committed)."""
    return create_token(session, user=user, name=f"Test {scope}", scope=scope).secret


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


@dataclass
class District:
    providers: dict[str, Provider] = field(default_factory=dict)  # "own" (A), "foreign" (B)
    teams: dict[str, Team] = field(default_factory=dict)  # "own" (T1), "foreign" (T2)
    users: dict[str, User] = field(default_factory=dict)  # one per role (own provider / own team)
    tokens: dict[str, str] = field(default_factory=dict)  # role -> read_write secret
    offers: dict[str, GroupOffer] = field(default_factory=dict)  # "own"/"foreign": drafts
    published: dict[str, GroupOffer] = field(default_factory=dict)  # "own"/"foreign": in the catalogue
    people: dict[str, YoungPerson] = field(default_factory=dict)  # "own"/"foreign": active cases
    ended: dict[str, YoungPerson] = field(default_factory=dict)  # "own"/"foreign": ended cases
    requests: dict[str, PlacementRequest] = field(default_factory=dict)  # "own"/"foreign": cancelled
    placements: dict[str, Placement] = field(default_factory=dict)  # own person in own group, etc.
    run: SolverRun | None = None
    ids: dict[str, int] = field(default_factory=dict)  # catalogue ids: town, category, module

    def headers(self, role: str, **extra: str) -> dict[str, str]:
        return bearer(self.tokens[role], **extra)


def build_district(session: Session) -> District:
    """Providers A/B, teams T1/T2, one user and token per role, and own/foreign records of every kind."""
    d = District()
    town = make_municipality(session)
    category = make_category(session, "social_skills")
    module = make_module(session, "standard")
    d.ids = {"town": town.id, "category": category.id, "module": module.id}
    for side in ("own", "foreign"):
        d.providers[side] = make_provider(session, allows_co_use=True)
        d.teams[side] = make_team(session)
    d.users = {
        "coordinator": make_user(session, Role.coordinator, provider_id=d.providers["own"].id),
        "caseworker": make_user(session, Role.caseworker, team_id=d.teams["own"].id),
        "planner": make_user(session, Role.planner),
        "admin": make_user(session, Role.admin),
    }
    today = date.today()
    for side in ("own", "foreign"):
        provider, team = d.providers[side], d.teams[side]
        d.offers[side] = make_offer(session, provider=provider, municipality=town, status="draft",
                                    certified_until=None, title=f"Entwurf {side}")
        d.published[side] = make_offer(session, provider=provider, municipality=town, min_size=1,
                                       title=f"Gruppe {side}")
        d.people[side] = make_young_person(session, team=team, municipality=town, lead_provider_id=provider.id)
        d.ended[side] = make_young_person(session, team=team, municipality=town, lead_provider_id=provider.id,
                                          status="ended")
        request = PlacementRequest(young_person_id=d.people[side].id, status="cancelled")
        session.add(request)
        session.flush()
        d.requests[side] = request
        d.placements[side] = make_placement(session, young_person=d.people[side], offer=d.published[side],
                                            status="confirmed", request_id=request.id)
        d.published[side].seats_taken = 1
    d.run = SolverRun(run_key="test-run", kind="on_demand", status="done", kpis={"placed": 1})
    session.add(d.run)
    session.commit()
    d.tokens = {role: token_for(session, user) for role, user in d.users.items()}
    assert today  # the district is valid today: offers run from 30 days ago for half a year
    return d


@pytest.fixture
def district(session: Session) -> District:
    """A fresh district in the test's own app (for tests that write)."""
    return build_district(session)


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory: pytest.TempPathFactory, _migrated_template: Path) -> Any:
    """One app per test module with one district, for the many read-only or refused requests of the
    matrix and Schemathesis (a fresh app per request would make them slow)."""
    path = tmp_path_factory.mktemp("api") / "marketplace.db"
    shutil.copyfile(_migrated_template, path)
    app: Flask = create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{path}"})
    with Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        app.config["TEST_DISTRICT"] = build_district(session)
    yield app
    app.extensions["db_engine"].dispose()


def wait_for_solver_runs(timeout: float = 120.0) -> None:
    """Let solver runs started through the API (background threads "solver-run-<id>") finish."""
    for thread in threading.enumerate():
        if thread.name.startswith("solver-run-"):
            thread.join(timeout)


@pytest.fixture(autouse=True)
def _solver_runs_finish() -> Iterator[None]:
    """A run started by a test (the matrix, Schemathesis) ends within it, not while the next one uses the
    database. Tests with their own app wait themselves, before the app is torn down."""
    yield
    wait_for_solver_runs()


def days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()
