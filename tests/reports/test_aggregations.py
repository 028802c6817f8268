"""Each report's aggregation on the hand-counted district (tests/reports/district.py)."""

from __future__ import annotations

from marketplace.reports import cross_provider, module_hours, occupancy, unmet_demand
from marketplace.reports.demand import main_reason, reason_code
from marketplace.reports.facts import weekday_count
from marketplace.reports.filters import ReportFilters

from .district import TODAY, District

PERIOD = ReportFilters(first_month="2026-01", last_month="2026-03")


def _by_month(report):
    return {m: t for m, t in report.by_month().items()}


def test_weekday_count_counts_both_ends():
    from datetime import date

    assert weekday_count(0, date(2026, 1, 1), date(2026, 1, 31)) == 4  # Mondays of January 2026
    assert weekday_count(0, date(2026, 1, 5), date(2026, 1, 5)) == 1
    assert weekday_count(0, date(2026, 1, 6), date(2026, 1, 11)) == 0


def test_occupancy_by_month_matches_the_hand_count(district: District):
    months = _by_month(occupancy(district.session, filters=PERIOD, today=TODAY))
    jan, feb, mar = months["2026-01"], months["2026-02"], months["2026-03"]
    assert (jan.seat_months, jan.booked, jan.sessions, jan.capacity_minutes, jan.attended_minutes) == (4, 2, 4, 1920,
                                                                                                        600)
    assert (feb.seat_months, feb.booked, feb.sessions, feb.capacity_minutes, feb.attended_minutes) == (9, 3, 8, 3720,
                                                                                                        420)
    assert (mar.seat_months, mar.booked, mar.sessions, mar.capacity_minutes, mar.attended_minutes) == (9, 2, 4, 1860,
                                                                                                        90)
    assert jan.booked_share == 0.5
    assert jan.attended_share == 600 / 1920


def test_occupancy_by_group_provider_area_and_category(district: District):
    report = occupancy(district.session, filters=PERIOD, today=TODAY)
    groups = {label: t for _, label, t in report.grouped("gruppe")}
    assert groups["Sport Nord"].booked == 5 and groups["Sport Nord"].capacity_minutes == 4800
    assert groups["Medien Süd"].booked == 2 and groups["Medien Süd"].attended_minutes == 270
    providers = {label: t.seat_months for _, label, t in report.grouped("traeger")}
    assert providers == {"Alpha e.V.": 12, "Beta gGmbH": 10}
    areas = {label: t.attended_minutes for _, label, t in report.grouped("sozialraum")}
    assert areas == {"Nord": 840, "Süd": 270}
    categories = {t.offers.__len__() for _, _, t in report.grouped("kategorie")}
    assert categories == {1}
    table = report.table("traeger")
    assert table.total[table.column("belegt")] == 7
    assert table.total[table.column("besucht")] == 1110


def test_occupancy_filters_narrow_to_provider_area_and_category(district: District):
    session = district.session
    by_provider = occupancy(session, filters=ReportFilters("2026-01", "2026-03", provider_id=district.beta.id),
                            today=TODAY)
    assert {o.title for o in by_provider.offers.values()} == {"Medien Süd"}
    by_area = occupancy(session, filters=ReportFilters("2026-01", "2026-03", sozialraum_id=district.nord.id),
                        today=TODAY)
    assert by_area.total().attended_minutes == 840
    sports = district.g1.categories[0].id
    by_category = occupancy(session, filters=ReportFilters("2026-01", "2026-03", category_id=sports), today=TODAY)
    assert by_category.total().booked == 5


def test_reason_codes_classify_the_engine_texts():
    assert reason_code("Kein Angebot für Medien im Gebiet") == "no_offer"
    assert reason_code("Kein Angebot für Medien innerhalb von 10 km (nächstes in 22,2 km)") == "distance"
    assert reason_code("Alle passenden Gruppen sind voll (G1)") == "full"
    assert reason_code("2 Gruppen voll (G1, G2)") == "full"
    assert reason_code("Zeiten passen nicht zur Verfügbarkeit (1 Gruppe)") == "times"
    assert reason_code("Mindestgröße der Gruppe nicht erreichbar (1 Gruppe; z. B. G2: 2 von 3)") == "min_size"
    assert reason_code("Altersgrenze passt nicht: mit 9 Jahren zu jung") == "target_group"
    assert reason_code("Passende Gruppe mit freiem Platz vorhanden (G1), aber nicht zugeteilt") == "free_seat"
    assert reason_code("Konflikt mit Y3 (1 Gruppe: G1)") == "other"
    lines = ["Kein Angebot für Medien innerhalb von 10 km (nächstes in 22 km)", "Kein Angebot für Sport im Gebiet"]
    assert main_reason(lines, "sports") == "no_offer"
    assert main_reason(lines, "media") == "distance"


def test_unmet_demand_uses_the_engines_live_reasons(district: District):
    report = unmet_demand(district.session, filters=PERIOD, today=TODAY)
    waiting = {p.young_person_id: p for p in report.waiting}
    people = district.people
    assert set(waiting) == {people["Y6"].id, people["Y7"].id, people["Y8"].id}
    assert all(p.live for p in report.waiting)
    codes = {key: report.person_reason(waiting[people[key].id]) for key in ("Y6", "Y7", "Y8")}
    assert codes == {"Y6": "distance", "Y7": "no_offer", "Y8": "times"}
    cells = report.cell_table()
    rows = {(r[0], r[1]): r for r in cells.rows}
    assert set(rows) == {("Nord", "Media"), ("Nord", "Girls Group"), ("Nord", "Sports")}
    assert rows["Nord", "Sports"][cells.column("Zeiten")] == 1
    assert rows["Nord", "Sports"][cells.column("freie Plätze")] == 3
    assert cells.total[cells.column("wartend")] == 3


def test_stored_reasons_are_used_without_the_live_problem(district: District):
    report = unmet_demand(district.session, filters=PERIOD, today=TODAY, live=False)
    assert {report.person_reason(p) for p in report.waiting} == {"other"}


def test_groups_below_minimum_size_and_underused(district: District):
    report = unmet_demand(district.session, filters=PERIOD, today=TODAY)
    assert [o.title for o in report.at_risk] == ["Medien Süd"]
    assert report.at_risk_table().rows[0][-1] == 2  # 3 needed, 1 booked
    underused = {o.title: (booked, attended) for o, booked, attended in report.underused}
    assert underused == {"Sport Nord": (0.25, (600 + 240 + 0) / (1920 + 1920 + 960))}


def test_supply_and_demand_per_municipality(district: District):
    report = unmet_demand(district.session, filters=PERIOD, today=TODAY)
    rows = {r[1]: r[3:] for r in report.town_rows()}
    assert rows["Nordstadt"] == (1, 4, 3, 3)  # one group, 4 seats, 3 free, 3 waiting
    assert rows["Südheim"] == (1, 5, 4, 0)


def test_module_hours_per_person_month(district: District):
    report = module_hours(district.session, filters=PERIOD, today=TODAY)
    y1 = {r.month: r.hours for r in report.rows if r.hours.young_person_id == district.people["Y1"].id}
    jan = y1["2026-01"]
    assert (jan.days, jan.group_minutes, jan.individual_minutes) == (31, 360, 600)
    assert (jan.band_min, jan.band_max) == (round(360 * 31 / 7), round(480 * 31 / 7))
    assert y1["2026-02"].group_minutes == 120
    assert y1["2026-03"].days == 15  # up to today
    table = report.table("monat")
    jan_row = table.rows[0]
    assert jan_row[0] == "2026-01"
    assert jan_row[table.column("Gruppe geleistet")] == 360 + 240  # Y1 and Y2 attended in January
    assert jan_row[table.column("Einzel geleistet")] == 600
    modules = report.table("modul")
    assert [r[0] for r in modules.rows] == ["Standard-Modul"]
    assert modules.total[modules.column("Fallmonate")] == sum(r[1] for r in table.rows)


def test_cross_provider_pairs_months_and_outside_share(district: District):
    report = cross_provider(district.session, filters=PERIOD, today=TODAY)
    pairs = {(report.names[p.host_id], report.names[p.lead_id]): p for p in report.pairs.values()}
    alpha, beta = "Alpha e.V. (ALP)", "Beta gGmbH (BET)"
    assert pairs[alpha, beta].amount_cents == 12000 and pairs[alpha, beta].minutes == 360
    assert pairs[beta, alpha].amount_cents == 6750 and dict(pairs[beta, alpha].variants) == {"B": 1}
    assert report.months["2026-02"] == (300, 8500, 2)
    outside = {m: (total, out) for m, total, out in report.outside_by_month()}
    assert outside == {"2026-01": (2, 1), "2026-02": (3, 2), "2026-03": (2, 1)}
    leads = {r[0]: r[1:3] for r in report.lead_table().rows}
    assert leads == {alpha: [2, 1], beta: [1, 1]}


def test_cross_provider_filter_by_provider_keeps_both_directions(district: District):
    report = cross_provider(district.session, filters=ReportFilters("2026-01", "2026-03",
                                                                    provider_id=district.beta.id), today=TODAY)
    assert len(report.pairs) == 2
    report = cross_provider(district.session, filters=ReportFilters("2026-01", "2026-03",
                                                                    sozialraum_id=district.sued.id), today=TODAY)
    assert [p.amount_cents for p in report.pairs.values()] == [6750]


def test_live_reasons_follow_data_changes(district: District):
    """The engine's reasons are cached per data state: a new group changes the state and the reasons."""
    from datetime import date

    from marketplace.models import Municipality
    from tests.factories import make_offer

    session = district.session
    before = unmet_demand(session, filters=PERIOD, today=TODAY)
    y7 = district.people["Y7"].id
    assert next(before.person_reason(p) for p in before.waiting if p.young_person_id == y7) == "no_offer"
    again = unmet_demand(session, filters=PERIOD, today=TODAY)
    assert [p.lines for p in again.waiting] == [p.lines for p in before.waiting]
    nordstadt = session.get(Municipality, district.g1.municipality_id)
    make_offer(session, provider=district.alpha, municipality=nordstadt, categories=("girls_group",),
               title="Mädchen Nord", sessions=((0, 15 * 60, 17 * 60),), seats=6, min_size=1,
               first_date=date(2026, 1, 1), last_date=None, certified_until=date(2027, 1, 31), age_min=8, age_max=16)
    session.commit()
    after = unmet_demand(session, filters=PERIOD, today=TODAY)
    assert next(after.person_reason(p) for p in after.waiting if p.young_person_id == y7) == "free_seat"
