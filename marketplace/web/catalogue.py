"""The catalogue for every role (Angebotskatalog): list with filters, and the district map.

Thin views: `parse_filters` reads the query string (German parameter names, every value
checked; a bad value is reported at its field and answered with 400, never a 500),
`marketplace.catalogue` searches, templates render. One URL per view serves the full page
or, for htmx, only the results (`render_page`); the filter form pushes its URL into the
history, so every search can be bookmarked and shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, make_response, request, url_for
from flask_login import current_user
from sqlmodel import select
from werkzeug.wrappers import Response

from ..access import has_role, require_login
from ..attendance import upcoming_session_dates
from ..catalogue import ALL_STATUSES, SORTS, STATUS_LABELS, CatalogueFilters, filter_choices, map_offers, search_offers
from ..db import get_session
from ..mapsvg import MapMarker, MapPlace, district_map
from ..models import Municipality, Role, Sozialraum
from ..offers import VACANCY_STALE_DAYS
from ..timeutil import today_berlin
from .filters import WEEKDAYS
from .nav import endpoint_exists
from .rendering import render_page
from .security import is_htmx

bp = Blueprint("catalogue", __name__, url_prefix="/katalog")

PER_PAGE = 20
MAX_TEXT = 100
MAX_AGE = 27
MAX_RADIUS_KM = 200
#: Query parameters of the filter form (German, they show in the address bar).
PARAMS = ("q", "kategorie", "sozialraum", "gemeinde", "wochentag", "von", "bis", "alter", "frei",
          "bezugsort", "umkreis", "status", "sortierung")
SORT_LABELS = {"relevance": "Relevanz", "title": "Titel", "distance": "Entfernung"}


def _int(raw: str, low: int, high: int) -> int:
    value = int(raw.strip())
    if not low <= value <= high:
        raise ValueError(raw)
    return value


def _time(raw: str) -> int:
    hours, _, minutes = raw.strip().partition(":")
    value = int(hours) * 60 + int(minutes or "0")
    if not (0 <= int(hours) <= 24 and 0 <= int(minutes or "0") < 60 and value <= 24 * 60):
        raise ValueError(raw)
    return value


def parse_filters(args: Mapping[str, str], user: Any) -> tuple[CatalogueFilters, dict[str, str]]:
    """Filters from the query string, and German messages for the values that could not be used.

    A value that cannot be used is left out of the search (the rest still applies).
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    def read(name: str, target: str, parse: Any, message: str) -> None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return
        try:
            values[target] = parse(raw)
        except (ValueError, TypeError, OverflowError):
            errors[name] = message

    text = (args.get("q") or "").strip()
    if len(text) > MAX_TEXT:
        errors["q"] = f"Der Suchtext darf höchstens {MAX_TEXT} Zeichen lang sein."
    elif text:
        values["text"] = text
    choose = "Bitte wählen Sie einen Eintrag aus der Liste."
    read("kategorie", "category_id", lambda r: _int(r, 1, 2**31 - 1), choose)
    read("sozialraum", "sozialraum_id", lambda r: _int(r, 1, 2**31 - 1), choose)
    read("gemeinde", "municipality_id", lambda r: _int(r, 1, 2**31 - 1), choose)
    read("bezugsort", "near_municipality_id", lambda r: _int(r, 1, 2**31 - 1), choose)
    read("wochentag", "weekday", lambda r: _int(r, 0, 6), "Bitte wählen Sie einen Wochentag.")
    read("von", "time_from", _time, "Bitte geben Sie eine Uhrzeit wie 15:00 ein.")
    read("bis", "time_to", _time, "Bitte geben Sie eine Uhrzeit wie 18:00 ein.")
    read("alter", "age", lambda r: _int(r, 0, MAX_AGE),
         f"Bitte geben Sie ein Alter zwischen 0 und {MAX_AGE} Jahren als ganze Zahl ein.")
    read("umkreis", "radius_km", lambda r: float(_int(r, 1, MAX_RADIUS_KM)),
         f"Bitte geben Sie den Umkreis als ganze Zahl zwischen 1 und {MAX_RADIUS_KM} km ein.")
    if values.get("time_from") is not None and values.get("time_to") is not None \
            and values["time_to"] <= values["time_from"]:
        errors["bis"] = "Das Ende des Zeitfensters muss nach dem Beginn liegen."
        del values["time_to"]
    if "radius_km" in values and "near_municipality_id" not in values:
        errors["umkreis"] = "Für einen Umkreis wählen Sie bitte auch den Bezugsort."
        del values["radius_km"]
    values["free_only"] = (args.get("frei") or "") in ("1", "ja", "on", "true")
    sort = (args.get("sortierung") or "relevance").strip()
    if sort not in SORTS:
        errors["sortierung"] = "Bitte wählen Sie eine Sortierung aus der Liste."
        sort = "relevance"
    values["sort"] = sort
    status = (args.get("status") or "").strip()
    if status and has_role(user, Role.planner, Role.admin):
        if status in STATUS_LABELS or status == ALL_STATUSES:
            values["status"] = status
        else:
            errors["status"] = "Bitte wählen Sie einen Status aus der Liste."
    return CatalogueFilters(**values), errors


def _stale_days() -> int:
    return int(current_app.config.get("VACANCY_STALE_DAYS", VACANCY_STALE_DAYS))


def _page_number(args: Mapping[str, str]) -> int:
    try:
        return max(1, min(int((args.get("seite") or "1").strip()), 100_000))
    except ValueError:
        return 1


def _form_values(args: Mapping[str, str]) -> dict[str, str]:
    """The submitted filter values (raw strings) to re-fill the form and build links."""
    return {name: (args.get(name) or "").strip()[:MAX_TEXT] for name in PARAMS if (args.get(name) or "").strip()}


def _context(filters: CatalogueFilters, errors: dict[str, str]) -> dict[str, Any]:
    session = get_session()
    args = _form_values(request.args)
    return {
        "filters": filters,
        "errors": errors,
        "form": args,
        "choices": filter_choices(session),
        "weekdays": list(enumerate(WEEKDAYS)),
        "sort_labels": SORT_LABELS,
        "status_labels": STATUS_LABELS if has_role(current_user, Role.planner, Role.admin) else None,
        "list_url": url_for("catalogue.index", **args),
        "map_url": url_for("catalogue.map", **args),
        "detail_endpoint": "offers.detail" if endpoint_exists("offers.detail") else None,
        "can_export": has_role(current_user, Role.planner, Role.coordinator)
        and endpoint_exists("office.offers_export"),
        "can_import": has_role(current_user, Role.coordinator) and endpoint_exists("office.offers_import"),
    }


@bp.route("/")
@require_login
def index() -> Response:
    """The list of offers with filters; htmx asks for the results only (pagination, filter changes)."""
    filters, errors = parse_filters(request.args, current_user)
    session = get_session()
    today = today_berlin()
    page = search_offers(session, user=current_user, filters=filters, page=_page_number(request.args),
                         per_page=PER_PAGE, today=today, stale_days=_stale_days())
    context = _context(filters, errors)
    page_urls = {n: url_for("catalogue.index", **context["form"], seite=n) for n in
                 {1, page.page - 1, page.page + 1, page.pages} if 1 <= n <= page.pages}
    # the inline details (with the next dates) are shown only where there is no offer page to link to
    upcoming = ({} if context["detail_endpoint"] else
                {entry.offer.id: upcoming_session_dates(entry.offer, today, count=3) for entry in page.items})
    body = render_page("catalogue/index.html", "catalogue/partials/results.html",
                       results=page, page_urls=page_urls, upcoming=upcoming, **context)
    return _answer(body, errors, context["list_url"] if request.args.get("seite") is None
                   else url_for("catalogue.index", **context["form"], seite=page.page))


@bp.route("/karte")
@require_login
def map() -> Response:  # noqa: A001  (the endpoint name is the contract: catalogue.map)
    """The district map with the same filters: municipalities by Sozialraum, offers as markers."""
    filters, errors = parse_filters(request.args, current_user)
    session = get_session()
    page = map_offers(session, user=current_user, filters=filters, stale_days=_stale_days())
    context = _context(filters, errors)
    places = [MapPlace(m.name, m.lat, m.lon, area)
              for m, area in session.exec(_municipalities_query()).all()]
    detail = context["detail_endpoint"]
    markers = [
        MapMarker(entry.lat, entry.lon, f"{entry.offer.title} ({entry.municipality.name})", entry.offer.seats,
                  entry.free_seats,
                  url_for(detail, offer_id=entry.offer.id) if detail else f"#angebot-{entry.offer.id}")
        for entry in page.items
    ]
    svg = district_map(places, markers, title="Karte der Gruppenangebote im Landkreis")
    body = render_page("catalogue/map.html", "catalogue/partials/map_results.html",
                       results=page, svg=svg, **context)
    return _answer(body, errors, context["map_url"])


def _answer(body: str, errors: dict[str, str], clean_url: str) -> Response:
    """The response; for htmx with the address to show (only the filters that were set, HX-Push-Url)."""
    response = make_response(body, 400 if errors else 200)
    if is_htmx():
        response.headers["HX-Push-Url"] = clean_url
    return response


def _municipalities_query() -> Any:
    return (select(Municipality, Sozialraum.name)
            .join(Sozialraum, Sozialraum.id == Municipality.sozialraum_id)
            .order_by(Municipality.name))
