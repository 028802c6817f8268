"""DSGVO Art. 15: the export of one case holds everything the marketplace keeps about it."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from marketplace.models import AuditEvent
from marketplace.privacy import EXPORT_OBJECT, export_case
from tests.factories import make_user


def test_the_export_is_complete(session: Session, built):
    person, planner = built["person"], make_user(session, "planner")
    document = export_case(session, young_person_id=person.id, actor=planner)
    session.commit()
    json.dumps(document)  # JSON-ready

    case = document["case"]
    assert (case["pseudonym"], case["case_reference"], case["lat"]) == (person.pseudonym, person.case_reference, 49.9)
    assert case["caseworker"]["id"] == built["caseworker"].id
    assert case["lead_provider"] == "Lead gGmbH" and case["module"] == "Standard-Modul"
    assert [n["code"] for n in document["needs"]] == ["social_skills"]
    assert len(document["availability"]) == 5
    assert document["wishes"] == [{"kind": "preferred", "offer_id": built["other_offer"].id, "offer": "Klettern"}]
    [conflict] = document["not_together_with"]
    assert conflict["pseudonym"] == built["partner"].pseudonym and "case_reference" not in conflict
    assert [r["note"] for r in document["requests"]] == ["Mag Sport"]
    placements = {p["id"]: p for p in document["placements"]}
    ended = placements[built["placement"].id]
    assert ended["offer"] == built["offer"].title and ended["host_provider"] == "Host e.V."
    assert [e["to_status"] for e in ended["events"]] == ["proposed", "ended"]
    assert ended["shared_use"]["rate_cents"] == 1850
    assert placements[built["declined"].id]["decline_reason"].startswith("Gruppe passt nicht")
    [attendance] = document["attendance"]
    assert attendance["status"] == "present" and attendance["corrections"][0]["old_status"] == "absent"
    assert [h["minutes"] for h in document["individual_hours"]] == [120]
    [entry] = document["offset_entries"]
    assert (entry["minutes"], entry["amount_cents"]) == (90, 2775)
    assert [e["reason"] for e in document["case_history"]] == ["Familie zieht nach Hamburg"]
    assert [(e["action"], e["who"]["id"]) for e in document["audit_events"]] == [
        ("view", built["caseworker"].id), ("update", built["caseworker"].id)]
    assert document["created_by"]["id"] == planner.id


def test_the_export_is_audited_as_an_export(session: Session, built):
    person, planner = built["person"], make_user(session, "planner")
    export_case(session, young_person_id=person.id, actor=planner)
    session.commit()
    event = session.exec(select(AuditEvent).where(AuditEvent.object_type == EXPORT_OBJECT)).one()
    assert (event.action, event.user_id, event.case_id) == ("export", planner.id, person.id)


def test_an_unknown_case_is_a_lookup_error(session: Session):
    with pytest.raises(LookupError):
        export_case(session, young_person_id=99999, actor=None)


def test_the_export_still_works_after_anonymisation(session: Session, built):
    from datetime import date

    from marketplace.privacy import anonymise_ended_cases

    anonymise_ended_cases(session, today=date(2030, 1, 1))
    session.commit()
    document = export_case(session, young_person_id=built["person"].id, actor=None)
    assert document["case"]["case_reference"] is None and document["wishes"] == []
    assert document["audit_events"][-1]["action"] == "delete"


def test_cli_export_writes_a_file(runner, session: Session, built, tmp_path):
    target = tmp_path / "auskunft.json"
    result = runner.invoke(args=["privacy", "export", str(built["person"].id), "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["case"]["pseudonym"] == built["person"].pseudonym
    missing = runner.invoke(args=["privacy", "export", "99999"])
    assert missing.exit_code != 0 and "keinen Fall" in missing.output
