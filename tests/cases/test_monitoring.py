"""Monthly monitoring: attended group hours + individual hours against the module band; lists; exports."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from marketplace import cases, monitoring
from marketplace.cases import CaseError
from marketplace.models import Attendance, IndividualHours, YoungPerson
from marketplace.spreadsheets import neutralise
from tests.factories import make_module, make_offer, make_placement

from .district import TODAY

MONTH = "2026-10"  # a whole past month: 31 days


def register(world, **overrides) -> YoungPerson:
    values = {"approval_start": date(2026, 9, 1), "approval_end": None, **overrides}
    return cases.register_young_person(
        world.session, actor=world.caseworker, fields=world.fields(**values), today=TODAY
    )


def attend(world, yp: YoungPerson, days: list[date], *, status: str = "present", minutes: int = 120) -> None:
    offer = make_offer(world.session, provider=world.provider, sessions=((0, 15 * 60, 15 * 60 + minutes),))
    placement = make_placement(world.session, young_person=yp, offer=offer, status="accepted")
    session_id = offer.sessions[0].id
    world.session.add_all(
        Attendance(placement_id=placement.id, session_date=day, offer_session_id=session_id, status=status)
        for day in days
    )
    world.session.commit()


def individual(world, yp: YoungPerson, month: str, minutes: int) -> None:
    monitoring.record_individual_hours(
        world.session, actor=world.coordinator, young_person_id=yp.id, month=month, minutes=minutes, today=TODAY
    )


def mondays(month_first: date) -> list[date]:
    days = [month_first + timedelta(days=i) for i in range(31)]
    return [d for d in days if d.month == month_first.month and d.weekday() == 0]


def test_hours_are_attended_group_minutes_plus_individual_minutes(world):
    yp = register(world)
    attend(world, yp, mondays(date(2026, 10, 1)))  # 4 Mondays in October 2026 × 2 h
    attend(world, yp, [date(2026, 10, 7)], status="absent")  # absent: not counted
    attend(world, yp, [date(2026, 11, 2)])  # another month: not counted
    individual(world, yp, MONTH, 300)
    (row,) = monitoring.monthly_hours(world.session, [yp], MONTH, today=TODAY)
    assert (row.group_minutes, row.individual_minutes, row.total_minutes) == (480, 300, 780)
    standard = world.modules["standard"]  # 6–8 h a week, 31 days
    assert (row.band_min, row.band_max) == (round(standard.care_minutes_min * 31 / 7), round(480 * 31 / 7))
    assert row.status == "under" and row.status_label == "unterversorgt"


def test_band_is_prorated_to_the_days_of_help_and_up_to_today(world):
    late = register(world, approval_start=date(2026, 10, 25))  # 7 days in October
    (row,) = monitoring.monthly_hours(world.session, [late], MONTH, today=TODAY)
    assert row.days == 7 and row.band_min == world.modules["standard"].care_minutes_min
    (current,) = monitoring.monthly_hours(world.session, [late], "2026-11", today=TODAY)
    assert current.days == TODAY.day
    (before,) = monitoring.monthly_hours(world.session, [late], "2026-09", today=TODAY)
    assert before.days == 0 and before.status == "none"


def test_team_lists_of_under_and_over_served(world):
    under = register(world)
    over = register(world, module_id=world.modules["flex"].id)  # 1–3 h a week
    within = register(world, module_id=world.modules["flex"].id)
    attend(world, over, [date(2026, 10, d) for d in range(1, 29)], minutes=180)  # far too much
    individual(world, within, MONTH, 8 * 60)  # 8 h against 4,4–13,3 h
    other_team = cases.register_young_person(
        world.session, actor=world.other_caseworker, fields=world.fields(approval_start=date(2026, 9, 1)), today=TODAY
    )
    rows = monitoring.team_monitoring(world.session, user=world.caseworker, month=MONTH, today=TODAY)
    assert {r.young_person_id for r in rows} == {under.id, over.id, within.id}
    low, high = monitoring.served_lists(rows)
    assert [r.young_person_id for r in low] == [under.id]
    assert [r.young_person_id for r in high] == [over.id]
    everyone = monitoring.team_monitoring(world.session, user=world.planner, month=MONTH, today=TODAY)
    assert other_team.id in {r.young_person_id for r in everyone}
    assert monitoring.team_monitoring(world.session, user=world.coordinator, month=MONTH, today=TODAY) == []


def test_individual_hours_only_by_the_lead_providers_coordinator(world):
    yp = register(world)
    for actor in (world.other_coordinator, world.caseworker, world.planner):
        with pytest.raises(PermissionError):
            monitoring.record_individual_hours(
                world.session, actor=actor, young_person_id=yp.id, month=MONTH, minutes=60, today=TODAY
            )
    individual(world, yp, MONTH, 60)
    individual(world, yp, MONTH, 90)  # a correction replaces the figure
    row = world.session.exec(select(IndividualHours)).one()
    assert (row.minutes, row.provider_id, row.entered_by) == (90, world.provider.id, world.coordinator.id)


@pytest.mark.parametrize(
    ("month", "minutes", "field", "text"),
    [
        ("2026-13", 60, "month", "JJJJ-MM"),
        ("2027-01", 60, "month", "künftigen"),
        (MONTH, 50, "minutes", "Viertelstunden"),
        (MONTH, -15, "minutes", "zwischen"),
        (MONTH, None, "minutes", "Einzelstunden"),
    ],
)
def test_individual_hours_are_validated(world, month, minutes, field, text):
    yp = register(world)
    with pytest.raises(CaseError) as info:
        monitoring.record_individual_hours(
            world.session, actor=world.coordinator, young_person_id=yp.id, month=month, minutes=minutes, today=TODAY
        )
    assert text in info.value.field_errors[field]


def formula_case(world) -> YoungPerson:
    evil = make_module(world.session, "evil", name='=HYPERLINK("http://x")', care_minutes_min=60)
    world.session.commit()
    return register(world, module_id=evil.id, case_reference="AZ-9", group_minutes_target=0, group_minutes_max=60)


def test_csv_export_is_german_and_neutralises_formulas(world):
    yp = formula_case(world)
    individual(world, yp, MONTH, 90)
    rows = monitoring.monthly_hours(world.session, [yp], MONTH, today=TODAY)
    text = monitoring.export_csv(rows)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert table[0][:3] == ["Pseudonym", "Aktenzeichen", "Modul"]
    assert table[1][0] == yp.pseudonym and table[1][1] == "AZ-9"
    assert table[1][2] == '\'=HYPERLINK("http://x")'
    assert table[1][5] == "1,5"


def test_xlsx_export_has_numbers_and_no_formulas(world):
    yp = formula_case(world)
    individual(world, yp, MONTH, 90)
    rows = monitoring.monthly_hours(world.session, [yp], MONTH, today=TODAY)
    sheet = load_workbook(io.BytesIO(monitoring.export_xlsx(rows, MONTH))).active
    assert sheet.title == f"Monitoring {MONTH}"
    assert sheet["A1"].value == "Pseudonym" and sheet["A2"].value == yp.pseudonym
    assert sheet["C2"].value.startswith("'=") and sheet["C2"].data_type == "s"
    assert sheet["F2"].value == 1.5


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "harmlos"])
def test_neutralise(value):
    result = neutralise(value)  # the writers behind both exports neutralise with this
    assert result == value if value == "harmlos" else result == "'" + value
