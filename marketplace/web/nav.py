"""Role-dependent main navigation (Hauptnavigation).

Each role's items are listed by endpoint name. An item is shown only when its endpoint is
registered, so areas built in later issues appear by themselves, and no link ever leads to
a missing page. Endpoint names are the contract with those later blueprints.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from ..models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str


DASHBOARD = NavItem("Übersicht", "main.dashboard")

NAVIGATION: dict[str, list[NavItem]] = {
    Role.coordinator.value: [
        NavItem("Meine Gruppen", "offers.mine"),
        NavItem("Angebote", "catalogue.index"),
        NavItem("Teilnahme", "office.attendance"),
        NavItem("Einzelstunden", "cases.individual_hours"),
        NavItem("Verrechnung", "ledger.index"),
    ],
    Role.caseworker.value: [
        NavItem("Junge Menschen", "cases.young_people"),
        NavItem("Anfragen", "placements.requests"),
        NavItem("Katalog", "catalogue.index"),
        NavItem("Monitoring", "cases.monitoring"),
    ],
    Role.planner.value: [
        NavItem("Zertifizierung", "offers.certification"),
        NavItem("Katalog", "catalogue.index"),
        NavItem("Berichte", "reports.index"),
        NavItem("Verrechnung", "ledger.index"),
        NavItem("Solver-Läufe", "runs.index"),
        NavItem("Einstellungen", "settings.index"),
    ],
    Role.admin.value: [
        NavItem("Benutzer", "admin.users"),
        NavItem("Träger", "admin.providers"),
        NavItem("ASD-Teams", "admin.teams"),
    ],
}

ROLE_LABELS: dict[str, str] = {
    Role.coordinator.value: "Koordination Träger",
    Role.caseworker.value: "ASD-Fachkraft",
    Role.planner.value: "Jugendhilfeplanung",
    Role.admin.value: "Administration",
}


def items_for(role: str | None) -> list[dict[str, object]]:
    """The visible items for `role`: label, url and whether it is the current page."""
    if role is None:
        return []
    role = getattr(role, "value", role)
    registered = current_app.view_functions
    result = []
    for item in [DASHBOARD, *NAVIGATION.get(role, [])]:
        if item.endpoint not in registered:
            continue
        area = item.endpoint.split(".", 1)[0]
        current = request.endpoint == item.endpoint or (
            item is not DASHBOARD
            and request.endpoint is not None
            and request.endpoint.startswith(area + ".")
            and item.endpoint.endswith(".index")
        )
        result.append({"label": item.label, "url": url_for(item.endpoint), "current": current})
    return result


def endpoint_exists(endpoint: str) -> bool:
    """True when a view is registered under `endpoint` (templates link only to existing pages)."""
    return endpoint in current_app.view_functions


def init_app(app: Flask) -> None:
    app.jinja_env.globals["endpoint_exists"] = endpoint_exists

    @app.context_processor
    def _navigation() -> dict[str, object]:
        role = getattr(current_user, "role", None) if current_user else None
        role_value = getattr(role, "value", role)
        return {
            "nav_items": items_for(role) if current_user.is_authenticated else [],
            "role_label": ROLE_LABELS.get(role_value or "", ""),
        }
