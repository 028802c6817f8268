"""The demo district: complete, realistic, deterministic, idempotent, and feasible for the solver."""

from __future__ import annotations

import copy
import importlib.util
import os
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

import seed
from marketplace.models import (
    GroupOffer,
    Module,
    Placement,
    Role,
    SharedUse,
    User,
    YoungPerson,
)
from marketplace.passwords import verify_password
from seed.demo import build_plan
from seed.generate import load_data

REFERENCE_DAY = date(2026, 3, 2)
SHARED = Path(os.environ.get("MARKETPLACE_SHARED") or Path(__file__).resolve().parents[3] / "shared")


def _row_counts(session: Session) -> dict[str, int]:
    return {name: session.scalar(select(func.count()).select_from(table)) or 0
            for name, table in SQLModel.metadata.tables.items()}  # fmt: skip


def test_seeding_twice_changes_nothing(db_session: Session):
    created = seed.load_demo(db_session, today=REFERENCE_DAY)
    db_session.commit()
    first = _row_counts(db_session)
    assert sum(created.values()) == sum(first.values())
    again = seed.load_demo(db_session, today=REFERENCE_DAY)
    db_session.commit()
    assert sum(again.values()) == 0
    assert _row_counts(db_session) == first
    assert "Keine Änderungen" in seed.summary_de(db_session, again)


def test_demo_district_content(db_session: Session):
    seed.load_demo(db_session, today=REFERENCE_DAY)
    db_session.commit()
    counts = seed.district_counts(db_session)
    assert counts["municipality"] == 23
    assert counts["sozialraum"] == 4
    assert counts["provider"] == 8
    assert counts["category"] == 12
    assert counts["module"] == 6
    assert 55 <= counts["group_offer"] <= 65
    assert counts["young_person"] == 300
    assert counts["placement"] >= 20

    offers = db_session.scalars(select(GroupOffer)).all()
    by_status = Counter(o.status for o in offers)
    assert by_status["published"] > len(offers) / 2 and by_status["draft"] and by_status["submitted"]
    assert all(o.sessions and o.categories for o in offers)
    assert {s.weekday for o in offers for s in o.sessions} >= {0, 1, 2, 3, 4, 5}

    roles = Counter(db_session.scalars(select(User.role)).all())
    assert all(roles[role] >= 1 for role in Role)
    assert len({u.provider_id for u in db_session.scalars(select(User).where(User.role == "coordinator"))}) >= 2
    assert len({u.team_id for u in db_session.scalars(select(User).where(User.role == "caseworker"))}) >= 2
    demo = db_session.scalars(select(User).where(User.email == "planung@jugendamt.example")).one()
    assert demo.password_hash.startswith("$argon2id$")
    assert verify_password(demo.password_hash, "demo-passwort")

    people = db_session.scalars(select(YoungPerson)).all()
    assert all(re.fullmatch(r"JM-[A-Z0-9]{4}", p.pseudonym) for p in people)
    modules = Counter(db_session.scalar(select(Module.code).where(Module.id == p.module_id)) for p in people)
    assert set(modules) == {"flex", "basis", "standard", "zusatz", "sonder", "krise"}
    assert modules["basis"] > modules["sonder"] > 0 and modules["krise"] > 0
    assert all(p.needs and p.availability and p.lead_provider_id for p in people)

    for offer in offers:  # the seat counter agrees with the placements that hold a seat
        held = db_session.scalar(select(func.count()).select_from(Placement).where(
            Placement.offer_id == offer.id, Placement.status.in_(["confirmed", "accepted"])))  # fmt: skip
        assert offer.seats_taken == held <= offer.seats
    assert db_session.scalar(select(func.count()).select_from(SharedUse)) > 0


def test_demo_data_files_hold_no_personal_names():
    """Young people are pseudonymous: the generated records have no name-like fields at all."""
    plan = build_plan(REFERENCE_DAY)
    fields = set(vars(plan.people[0]))
    assert not fields & {"name", "first_name", "last_name", "display_name"}


def test_generation_is_deterministic():
    first, second = build_plan(REFERENCE_DAY), build_plan(REFERENCE_DAY)
    assert first == second


def _load_verify():
    path = SHARED / "matching" / "verify.py"
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared verifier missing: {path}")
        pytest.skip("../shared/matching/verify.py not available")
    spec = importlib.util.spec_from_file_location("shared_verify_seed", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@pytest.mark.parametrize("today", [REFERENCE_DAY, date(2026, 12, 31)])
def test_seeded_placements_are_feasible_for_the_solver(today: date):
    """Pinning the seeded confirmed/accepted placements breaks no hard rule of FORMAT.md."""
    verify = _load_verify()
    plan = build_plan(today)
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    towns = {t["name"]: t for t in load_data()["district"]["municipalities"]}
    active = [p for p in plan.placements if p.status in ("proposed", "confirmed", "accepted")]
    pinned = {(p.pseudonym, p.offer) for p in active if p.status != "proposed"}
    keep_apart = {}
    for a, b, _ in plan.keep_apart:
        keep_apart.setdefault(a, []).append(b)
    problem = {
        "format": "marketplace-matching/1",
        "providers": [{"id": p["short_name"]} for p in load_data()["organisations"]["providers"]],
        "groups": [{
            "id": o.title, "provider": o.provider, "location": {"lat": o.lat, "lon": o.lon},
            "seats": o.seats, "min_size": o.min_size, "categories": o.categories,
            "age_min": o.age_min, "age_max": o.age_max,
            "genders": o.genders.split(",") if o.genders else None,
            "sessions": [{"day": days[d], "start": _hhmm(s), "end": _hhmm(e)} for d, s, e in o.sessions],
            "offset_rate": o.offset_rate_cents / 100, "open_for_new": o.entry_mode == "open",
        } for o in plan.offers if o.status == "published"],
        "young_people": [{
            "id": y.pseudonym, "lead_provider": y.lead_provider, "age": today.year - y.birth_year,
            "gender": y.gender, "max_travel_km": y.max_travel_km,
            "home": {"lat": y.lat if y.lat is not None else towns[y.municipality]["lat"],
                     "lon": y.lon if y.lon is not None else towns[y.municipality]["lon"]},
            "group_hours": {"target": y.group_minutes_target / 60, "max": y.group_minutes_max / 60},
            "needs": y.needs, "priority": 1,
            "available": [{"day": days[d], "start": _hhmm(s), "end": _hhmm(e)} for d, s, e in y.availability],
            "current": [p.offer for p in active if p.pseudonym == y.pseudonym],
            "pinned": [o for (who, o) in pinned if who == y.pseudonym],
            "avoid_with": keep_apart.get(y.pseudonym, []),
        } for y in plan.people],
    }  # fmt: skip
    solution = {
        "format": "marketplace-matching-solution/1", "status": "FEASIBLE",
        "assignments": [{"young_person": p.pseudonym, "group": p.offer} for p in active],
    }  # fmt: skip
    report = verify.check(verify.Problem(copy.deepcopy(problem)), solution)
    assert report["errors"] == [] and report["violations"] == [], report
    assert report["feasible"]
    # and the same with age counted one year lower (birthday not yet reached)
    for person in problem["young_people"]:
        person["age"] -= 1
    report = verify.check(verify.Problem(copy.deepcopy(problem)), solution)
    assert report["violations"] == [], report


def test_cli_seed_demo_prints_a_german_summary(runner):
    result = runner.invoke(args=["seed", "demo", "--date", REFERENCE_DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "23 Gemeinden in 4 Sozialräumen, 8 Träger" in result.output
    assert "koordination@traeger-1.example" in result.output and "demo-passwort" in result.output
    result = runner.invoke(args=["seed", "demo", "--date", REFERENCE_DAY.isoformat()])
    assert result.exit_code == 0 and "Keine Änderungen" in result.output
    result = runner.invoke(args=["seed", "demo", "--if-empty"])
    assert result.exit_code == 0 and "bereits Daten" in result.output
