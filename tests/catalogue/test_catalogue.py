"""The catalogue search: every filter, sorting, pagination, distance and visibility per role."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event

from marketplace.catalogue import ALL_STATUSES, CatalogueFilters, map_offers, search_offers
from marketplace.matching.problem import haversine_km
from marketplace.models import Role
from marketplace.timeutil import utcnow
from tests.factories import (
    make_category,
    make_municipality,
    make_offer,
    make_provider,
    make_sozialraum,
    make_user,
)


def titles(page) -> list[str]:
    return [entry.offer.title for entry in page.items]


def search(session, user, page: int = 1, per_page: int = 50, **filters):
    return search_offers(session, user=user, filters=CatalogueFilters(**filters), page=page, per_page=per_page)


@pytest.fixture
def planner(session):
    return make_user(session, Role.planner)


@pytest.fixture
def town(session):
    return make_municipality(session, name="Dieburg", lat=49.8989, lon=8.8403)


def test_each_simple_filter_narrows_the_list(session, planner, town):
    area = make_sozialraum(session, name="Sozialraum Süd")
    south = make_municipality(session, name="Pfungstadt", sozialraum_id=area.id, lat=49.8056, lon=8.6036)
    make_offer(session, title="Fußball", categories=("sports",), municipality=town, age_min=12, age_max=16)
    make_offer(session, title="Lernhilfe", categories=("learning",), municipality=south, age_min=8, age_max=11,
               sessions=((2, 14 * 60, 15 * 60 + 30),))
    make_offer(session, title="Mädchentreff", categories=("girls",), municipality=south,
               sessions=((4, 17 * 60, 19 * 60),), description="Kreativ und stark")
    session.commit()
    sports = make_category(session, "sports")

    assert titles(search(session, planner)) == ["Fußball", "Lernhilfe", "Mädchentreff"]
    assert titles(search(session, planner, category_id=sports.id)) == ["Fußball"]
    assert titles(search(session, planner, sozialraum_id=area.id)) == ["Lernhilfe", "Mädchentreff"]
    assert titles(search(session, planner, municipality_id=town.id)) == ["Fußball"]
    assert titles(search(session, planner, weekday=2)) == ["Lernhilfe"]
    assert titles(search(session, planner, age=9)) == ["Lernhilfe"]
    assert titles(search(session, planner, age=16)) == ["Fußball", "Mädchentreff"]
    assert titles(search(session, planner, text="kreativ")) == ["Mädchentreff"]
    assert titles(search(session, planner, text="pfungstadt lern")) == ["Lernhilfe"]
    assert titles(search(session, planner, text="100%_")) == []  # LIKE wildcards are escaped


def test_time_window_matches_sessions_inside_it(session, planner):
    make_offer(session, title="Früh", sessions=((0, 14 * 60, 15 * 60),))
    make_offer(session, title="Spät", sessions=((0, 18 * 60, 20 * 60),))
    make_offer(session, title="Zwei Termine", sessions=((1, 9 * 60, 10 * 60), (3, 16 * 60, 17 * 60)))
    session.commit()
    assert titles(search(session, planner, time_from=16 * 60)) == ["Spät", "Zwei Termine"]
    assert titles(search(session, planner, time_to=17 * 60)) == ["Früh", "Zwei Termine"]
    assert titles(search(session, planner, time_from=15 * 60, time_to=17 * 60)) == ["Zwei Termine"]
    # weekday and time must hold for the same session
    assert titles(search(session, planner, weekday=1, time_from=15 * 60)) == []
    assert titles(search(session, planner, weekday=3, time_from=15 * 60)) == ["Zwei Termine"]


def test_free_seat_filter(session, planner):
    make_offer(session, title="Voll", seats=6, min_size=2, seats_taken=6)
    make_offer(session, title="Ein Platz frei", seats=6, min_size=2, seats_taken=5)
    session.commit()
    page = search(session, planner, free_only=True)
    assert titles(page) == ["Ein Platz frei"]
    assert page.items[0].free_seats == 1
    assert {e.offer.title: e.free_seats for e in search(session, planner).items} == {
        "Voll": 0, "Ein Platz frei": 1}


def test_distance_filter_and_sort_use_haversine_from_the_reference_town(session, planner, town):
    near = make_municipality(session, name="Groß-Umstadt", lat=49.8686, lon=8.9317)  # ~7.4 km
    far = make_municipality(session, name="Pfungstadt", lat=49.8056, lon=8.6036)  # ~19.8 km
    make_offer(session, title="A fern", municipality=far)
    make_offer(session, title="B nah", municipality=near)
    make_offer(session, title="C hier", municipality=town)
    # an offer with its own point: the point counts, not the town centre
    make_offer(session, title="D eigener Punkt", municipality=far, lat=town.lat + 0.01, lon=town.lon)
    session.commit()

    page = search(session, planner, near_municipality_id=town.id)
    assert titles(page) == ["C hier", "D eigener Punkt", "B nah", "A fern"]
    assert page.items[0].distance_km == pytest.approx(0.0)
    assert page.items[2].distance_km == pytest.approx(haversine_km(town.lat, town.lon, near.lat, near.lon))

    within = search(session, planner, near_municipality_id=town.id, radius_km=10)
    assert titles(within) == ["C hier", "D eigener Punkt", "B nah"]
    exact = haversine_km(town.lat, town.lon, near.lat, near.lon)
    assert titles(search(session, planner, near_municipality_id=town.id, radius_km=exact - 0.01)) == [
        "C hier", "D eigener Punkt"]
    # sort by title keeps the radius filter
    assert titles(search(session, planner, near_municipality_id=town.id, radius_km=10, sort="title")) == [
        "B nah", "C hier", "D eigener Punkt"]


def test_relevance_puts_certified_and_fresh_offers_first(session, planner, town):
    now, today = utcnow(), date.today()
    make_offer(session, title="A veraltet", vacancy_confirmed_at=now - timedelta(days=45))
    make_offer(session, title="B aktuell", vacancy_confirmed_at=now - timedelta(days=2))
    make_offer(session, title="C pausiert", status="paused", vacancy_confirmed_at=now)
    make_offer(session, title="D Zertifikat abgelaufen", vacancy_confirmed_at=now,
               certified_until=today - timedelta(days=1))
    make_offer(session, title="E aktuell", vacancy_confirmed_at=now)
    session.commit()
    page = search(session, planner)
    assert titles(page) == ["B aktuell", "E aktuell", "A veraltet", "C pausiert", "D Zertifikat abgelaufen"]
    assert [e.vacancy_fresh for e in page.items] == [True, True, False, True, True]
    assert titles(search(session, planner, sort="title"))[0] == "A veraltet"


def test_relevance_with_reference_sorts_by_tier_then_distance(session, planner, town):
    far = make_municipality(session, name="Pfungstadt", lat=49.8056, lon=8.6036)
    now = utcnow()
    make_offer(session, title="Fern aktuell", municipality=far, vacancy_confirmed_at=now)
    make_offer(session, title="Nah veraltet", municipality=town, vacancy_confirmed_at=None)
    make_offer(session, title="Nah aktuell", municipality=town, vacancy_confirmed_at=now)
    session.commit()
    assert titles(search(session, planner, near_municipality_id=town.id)) == [
        "Nah aktuell", "Fern aktuell", "Nah veraltet"]
    assert titles(search(session, planner, near_municipality_id=town.id, sort="distance")) == [
        "Nah aktuell", "Nah veraltet", "Fern aktuell"]


def test_distance_sort_without_reference_falls_back_to_title_with_a_note(session, planner):
    make_offer(session, title="B")
    make_offer(session, title="A")
    session.commit()
    page = search(session, planner, sort="distance")
    assert titles(page) == ["A", "B"]
    assert "Bezugsort" in page.notes[0]


def test_pagination_counts_and_clamps(session, planner):
    for n in range(7):
        make_offer(session, title=f"Gruppe {n:02d}")
    session.commit()
    first = search(session, planner, page=1, per_page=3, sort="title")
    assert (first.total, first.pages, first.page) == (7, 3, 1)
    assert titles(first) == ["Gruppe 00", "Gruppe 01", "Gruppe 02"]
    assert (first.first_index, first.last_index, first.has_prev, first.has_next) == (1, 3, False, True)
    last = search(session, planner, page=3, per_page=3, sort="title")
    assert titles(last) == ["Gruppe 06"]
    assert search(session, planner, page=99, per_page=3, sort="title").page == 3  # clamped
    assert search(session, planner, page=1, per_page=10_000).per_page == 100
    empty = search(session, planner, text="gibt es nicht")
    assert (empty.total, empty.pages, empty.items, empty.first_index) == (0, 1, [], 0)


def test_pagination_with_distance_sort(session, planner, town):
    for n in range(5):
        place = make_municipality(session, lat=town.lat + 0.01 * n, lon=town.lon)
        make_offer(session, title=f"Entfernung {n}", municipality=place)
    session.commit()
    second = search(session, planner, page=2, per_page=2, near_municipality_id=town.id, sort="distance")
    assert second.total == 5
    assert titles(second) == ["Entfernung 2", "Entfernung 3"]


@pytest.fixture
def visibility_offers(session):
    mine, other = make_provider(session), make_provider(session)
    for provider, prefix in ((mine, "Eigen"), (other, "Fremd")):
        make_offer(session, provider=provider, title=f"{prefix} veröffentlicht")
        make_offer(session, provider=provider, title=f"{prefix} pausiert", status="paused")
        make_offer(session, provider=provider, title=f"{prefix} Entwurf", status="draft", certified_until=None)
        make_offer(session, provider=provider, title=f"{prefix} eingereicht", status="submitted",
                   certified_until=None)
        make_offer(session, provider=provider, title=f"{prefix} beendet", status="ended")
    session.commit()
    return mine, other


def test_caseworker_sees_only_the_catalogue(session, visibility_offers):
    caseworker = make_user(session, Role.caseworker)
    assert sorted(titles(search(session, caseworker))) == [
        "Eigen pausiert", "Eigen veröffentlicht", "Fremd pausiert", "Fremd veröffentlicht"]
    # the status filter is for planners only
    assert "Fremd Entwurf" not in titles(search(session, caseworker, status=ALL_STATUSES))


def test_coordinator_sees_catalogue_plus_own_unpublished_offers_marked(session, visibility_offers):
    mine, _ = visibility_offers
    coordinator = make_user(session, Role.coordinator, provider_id=mine.id)
    page = search(session, coordinator, status=ALL_STATUSES)
    assert sorted(titles(page)) == [
        "Eigen Entwurf", "Eigen eingereicht", "Eigen pausiert", "Eigen veröffentlicht",
        "Fremd pausiert", "Fremd veröffentlicht"]
    marks = {e.offer.title: (e.is_own, e.is_public, e.status_label) for e in page.items}
    assert marks["Eigen Entwurf"] == (True, False, "Entwurf")
    assert marks["Fremd veröffentlicht"] == (False, True, "Veröffentlicht")
    # own drafts rank after the public offers
    assert titles(page)[-2:] == ["Eigen eingereicht", "Eigen Entwurf"]


def test_planner_sees_catalogue_by_default_and_others_by_filter(session, planner, visibility_offers):
    assert len(search(session, planner).items) == 4
    assert sorted(titles(search(session, planner, status="draft"))) == ["Eigen Entwurf", "Fremd Entwurf"]
    assert search(session, planner, status=ALL_STATUSES).total == 10


def test_admin_and_anonymous(session, visibility_offers):
    admin = make_user(session, Role.admin)
    assert search(session, admin).total == 4

    class Anonymous:
        is_authenticated = False
        role = provider_id = team_id = None

    assert search(session, Anonymous()).total == 0


def test_results_load_without_a_query_per_row(app, session, planner):
    for n in range(12):
        make_offer(session, title=f"Gruppe {n}", categories=("sports", "learning"),
                   sessions=((0, 900, 1020), (3, 960, 1050)))
    session.commit()
    session.expunge_all()
    statements: list[str] = []
    engine = app.extensions["db_engine"]

    def count(*_args) -> None:
        statements.append("x")

    event.listen(engine, "before_cursor_execute", count)
    try:
        page = search(session, planner, per_page=12)
        for entry in page.items:  # everything the list template touches
            _ = ([s.weekday for s in entry.offer.sessions], [c.label for c in entry.offer.categories],
                 entry.municipality.name, entry.sozialraum.name, entry.provider.name)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(page.items) == 12
    assert len(statements) <= 6


def test_map_offers_returns_every_match(session, planner):
    for n in range(130):
        make_offer(session, title=f"Gruppe {n:03d}")
    session.commit()
    page = map_offers(session, user=planner, filters=CatalogueFilters())
    assert len(page.items) == page.total == 130
